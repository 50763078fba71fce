/**
 * The day-2 phases (factories, registered in ../flows/registry.ts): `argocd-refresh` (cluster add,
 * change) and the steps of `cluster remove` in order — remove-apps, remove-secret, remove-render,
 * remove-kubeconfig, reset-nodes, remove-inventory. Each returns its report; `removeCluster` reads them
 * from the run result. Every step checks before it acts, so a rerun after a failure finishes the job.
 */
import {centralCluster, kubeContextName, NAMESPACES, nodeName} from '../config/model.js'
import {removeClusterFromInventory} from '../config/edit.js'
import type {Cluster} from '../config/schema.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError} from '../errors.js'

export interface RefreshPhaseOptions {
  timeoutSeconds?: number
  intervalMs?: number
}

/** Refresh the Applications that track the repository and wait until Argo CD has seen the working copy's HEAD. */
export function refreshPhase(o: RefreshPhaseOptions = {}): Phase<Target, {revision: string}> {
  return {
    name: 'argocd-refresh',
    title: 'Argo CD sees the pushed commit',
    targets: () => [{id: 'applications', title: 'Applications tracking the GitOps repository'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => 'annotate the Applications of the GitOps repository with argocd.argoproj.io/refresh and wait until they report the pushed commit',
    async run(_t, ctx, io) {
      const {git} = await import('../gitops/index.js')
      const {gitDir} = await import('../config/model.js')
      const {waitForRevision} = await import('./change.js')
      const head = await git(gitDir(ctx.platform, ctx.inv.dir), ['rev-parse', '--verify', '-q', 'HEAD'])
      if (head.exitCode !== 0) return {summary: 'no commit in the working copy yet'}
      const sha = head.stdout.trim()
      const t = o.timeoutSeconds
      await waitForRevision(ctx.inv, sha, {kubeconfig: ctx.kubeconfig, timeoutMs: (t !== undefined && t > 0 ? t : 900) * 1000, intervalMs: o.intervalMs, onNotice: io.log})
      return {summary: `Argo CD is at ${sha.slice(0, 12)}`, report: {revision: sha}}
    },
  }
}

/** What every removal step is given: the cluster as the inventory had it when the removal started. */
export interface RemovalOptions {
  cluster: Cluster
  /** push the render commit (default true) */
  push?: boolean
  /** remove rendered files even when edited by hand */
  force?: boolean
}

const APP = {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'} as const
const LABEL = 'obsctl.dev/cluster'
const target = (c: Cluster): Target => ({id: c.name, cluster: c.name})

async function centralKube(ctx: RunContext) {
  const {kubeForCluster} = await import('../kube/run.js')
  return kubeForCluster(ctx, centralCluster(ctx.platform).name)
}

/** The cluster's Applications: labelled obsctl.dev/cluster=NAME, or with its API server as destination. */
async function clusterApps(ctx: RunContext, c: Cluster) {
  const kube = await centralKube(ctx)
  const apps = await kube.list(APP.apiVersion, APP.kind, {namespace: NAMESPACES.argocd})
  return {
    kube,
    apps: apps.filter((a) => {
      const dest = (a.spec as {destination?: {server?: string; name?: string}} | undefined)?.destination ?? {}
      return a.metadata.labels?.[LABEL] === c.name || dest.server === c.apiServer || dest.name === c.name
    }),
  }
}

export function removeAppsPhase({cluster: c}: RemovalOptions): Phase<Target, {applications: string[]}> {
  return {
    name: 'remove-apps',
    title: 'Delete its Argo CD Applications',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `delete the Applications in argocd on ${centralCluster(ctx.platform).name} labelled ${LABEL}=${c.name} or with destination ${c.apiServer}`,
    async run(_t, ctx, io) {
      const {kube, apps} = await clusterApps(ctx, c)
      const deleted: string[] = []
      for (const a of apps) {
        if (await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})) {
          io.log(`deleted Application ${a.metadata.name}`)
          deleted.push(a.metadata.name)
        }
      }
      return {summary: apps.length ? `deleted ${apps.length} Application(s)` : 'no Applications left', report: {applications: deleted}}
    },
  }
}

export function removeSecretPhase({cluster: c}: RemovalOptions): Phase<Target, {secrets: string[]}> {
  return {
    name: 'remove-secret',
    title: 'Delete its Argo CD cluster Secret',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `delete Secrets labelled ${LABEL}=${c.name} in argocd (cluster Secret for ${c.apiServer}) and monitoring (obsctl-scrape-${c.name}) on ${centralCluster(ctx.platform).name}`,
    async run(_t, ctx, io) {
      const {clusterSecretName} = await import('../argocd/register.js')
      const {SECRET_NAMES} = await import('../config/model.js')
      const kube = await centralKube(ctx)
      const wanted = new Map<string, {name: string; namespace: string}>()
      wanted.set(`${NAMESPACES.argocd}/${clusterSecretName(c.apiServer)}`, {name: clusterSecretName(c.apiServer), namespace: NAMESPACES.argocd})
      wanted.set(`${NAMESPACES.monitoring}/${SECRET_NAMES.scrape(c.name)}`, {name: SECRET_NAMES.scrape(c.name), namespace: NAMESPACES.monitoring})
      for (const ns of [NAMESPACES.argocd, NAMESPACES.monitoring]) {
        for (const s of await kube.list('v1', 'Secret', {namespace: ns, labelSelector: `${LABEL}=${c.name}`})) wanted.set(`${ns}/${s.metadata.name}`, {name: s.metadata.name, namespace: ns})
      }
      const deleted: string[] = []
      for (const [key, m] of wanted) {
        if (await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: m})) {
          io.log(`deleted Secret ${key}`)
          deleted.push(key)
        }
      }
      return {summary: deleted.length ? `deleted ${deleted.length} Secret(s)` : 'no Secrets left', report: {secrets: deleted}}
    },
  }
}

export interface RemoveRenderReport {
  commit: string | null
  pushed: boolean
  removed: string[]
  changed: string[]
}

export function removeRenderPhase({cluster: c, push, force}: RemovalOptions): Phase<Target, RemoveRenderReport> {
  return {
    name: 'remove-render',
    title: 'Render the GitOps repository without it (commit + push)',
    targets: () => [{id: 'platform', title: 'GitOps repository'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `render without ${c.name} (its overlay and Applications removed), commit${push === false ? '' : ' and push'}`,
    async run(_t, ctx, io) {
      const next = (await removeClusterFromInventory(ctx.inv, c.name, {dryRun: true})).inventory
      const {changeMessage, previewRender, renderCommitPush} = await import('./change.js')
      const preview = await previewRender(next, {force: Boolean(force)})
      const r = await renderCommitPush(next, changeMessage(`remove cluster ${c.name}`, preview), {push: push !== false, force: Boolean(force), command: `cluster remove ${c.name}`, before: ctx.inv.text})
      for (const f of r.files.removed) io.log(`removed ${f}`)
      for (const f of r.files.changed) io.log(`changed ${f}`)
      return {
        summary: `${r.files.removed.length} removed, ${r.files.changed.length} changed${r.commit ? `, commit ${r.commit.sha.slice(0, 12)}` : ''}${r.push ? ', pushed' : ''}`,
        report: {commit: r.commit?.sha ?? null, pushed: Boolean(r.push), removed: r.files.removed, changed: r.files.changed},
      }
    },
  }
}

export interface RemoveKubeconfigReport {
  file: string
  removed: string[]
  scrubbedBackups?: string[]
}

export function removeKubeconfigPhase({cluster: c}: RemovalOptions): Phase<Target, RemoveKubeconfigReport> {
  return {
    name: 'remove-kubeconfig',
    title: 'Remove its kubeconfig entries',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `remove cluster ${c.name}, user ${c.name}-admin, context ${kubeContextName(c)} from the kubeconfig and from its earlier obsctl backups (no backup keeps its credentials)`,
    async run(_t, ctx, io) {
      const {removeFromKubeconfig, resolveKubeconfigPath} = await import('../kube/index.js')
      const file = resolveKubeconfigPath(ctx.kubeconfig)
      const r = await removeFromKubeconfig(file, c, {fallbackContext: kubeContextName(centralCluster(ctx.platform))})
      for (const e of r.removed) io.log(`removed ${e}`)
      const scrubbed = r.scrubbedBackups?.length ? `; its credentials also removed from ${r.scrubbedBackups.length} earlier backup(s)` : ''
      return {summary: `${r.changed ? `${file}: removed ${r.removed.join(', ')}` : `${file}: no entries left`}${scrubbed}`, report: {file, removed: r.removed, scrubbedBackups: r.scrubbedBackups}}
    },
  }
}

export function resetNodesPhase({cluster: c}: RemovalOptions): Phase<Target & {host: string}, {host: string}> {
  return {
    name: 'reset-nodes',
    title: 'kubeadm reset on its nodes',
    targets: () => c.nodes.map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host})),
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t) => `ssh ${t.host}: sudo kubeadm reset -f`,
    async run(t, ctx, io) {
      const {sshPool} = await import('../ssh/pool.js')
      const node = c.nodes.find((n) => n.host === t.host)!
      const conn = await (await sshPool(ctx)).get(node)
      const r = await conn.sudo('kubeadm reset -f', {signal: io.signal})
      for (const l of `${r.stdout}\n${r.stderr}`.split('\n').filter(Boolean)) io.log(l)
      if (r.code !== 0) throw new ObsctlError(`kubeadm reset -f on ${t.host} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`, {code: 'RESET_FAILED'})
      return {summary: 'kubeadm reset -f done', report: {host: t.host}}
    },
  }
}

export function removeInventoryPhase({cluster: c}: RemovalOptions): Phase<Target, {inventory: true}> {
  return {
    name: 'remove-inventory',
    title: 'Remove it from the inventory',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `remove ${c.name} from ${ctx.inv.file} (comments and order of the rest kept)`,
    async run(_t, ctx) {
      await removeClusterFromInventory(ctx.inv, c.name)
      return {summary: `removed from ${ctx.inv.file}`, report: {inventory: true}}
    },
  }
}
