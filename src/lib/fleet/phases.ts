/**
 * The day-2 phases (factories, registered in ../flows/registry.ts): `argocd-refresh` (cluster add,
 * change) and the steps of `cluster remove` in order — remove-apps, remove-secret, remove-render,
 * remove-kubeconfig, reset-nodes, remove-inventory. Each returns its report; `removeCluster` reads them
 * from the run result. Every step checks before it acts, so a rerun after a failure finishes the job.
 * The steps that revoke the cluster's credentials are in ./revoke.ts, re-exported here.
 */
import {centralCluster, kubeContextName, NAMESPACES, nodeLogin, nodeName} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {rootStep} from '../nodes/lock.js'
import {centralKube, target, type RemovalOptions} from './removal.js'
import {pollMs} from '../poll.js'

export type {RemovalOptions} from './removal.js'
// registered with the other removal steps (../flows/registry.ts loads this module)
export {revokeEdgeTokensPhase, revokeOpensearchUserPhase, type RevokeOpensearchReport, type RevokeTokensReport} from './revoke.js'

export interface RefreshPhaseOptions {
  timeoutSeconds?: number
  intervalMs?: number
}

/**
 * Refresh the Applications that track the repository and wait until Argo CD reports the branch head the working
 * copy pushed (./change.ts pushedRevision): until then its Synced is about an older commit. A working copy that
 * has pushed nothing gives no commit to wait for, and the summary says so instead of claiming one.
 */
export function refreshPhase(o: RefreshPhaseOptions = {}): Phase<Target, {revision: string | null}> {
  return {
    name: 'argocd-refresh',
    kubeconfig: 'read',
    changesNothing: true,
    title: 'Argo CD sees the pushed commit',
    targets: () => [{id: 'applications', title: 'Applications tracking the GitOps repository'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => 'annotate the Applications of the GitOps repository with argocd.argoproj.io/refresh and wait until they report the pushed commit',
    async run(_t, ctx, io) {
      const {pushedRevision, waitForRevision} = await import('./change.js')
      const known = await pushedRevision(ctx.inv)
      if (!known.revision) {
        io.log(`${known.why}: no commit to wait for`)
        return {summary: `not checked: ${known.why}`, report: {revision: null}}
      }
      const sha = known.revision
      for (const note of known.notes) io.log(note)
      io.log(`waiting for Argo CD to report ${sha.slice(0, 12)}`)
      const t = o.timeoutSeconds
      await waitForRevision(ctx.inv, sha, {
        kubeconfig: ctx.kubeconfig,
        timeoutMs: (t !== undefined && t > 0 ? t : 900) * 1000,
        intervalMs: o.intervalMs,
        onNotice: io.log,
        signal: io.signal,
      })
      return {summary: `Argo CD is at ${sha.slice(0, 12)}`, report: {revision: sha}}
    },
  }
}
const APP = {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'} as const
const LABEL = 'obsctl.dev/cluster'
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

/** How long `remove-apps` waits for Argo CD to delete what the Applications deployed (their resources finalizer). */
export const APP_DELETION_TIMEOUT_MS = 15 * 60_000

export function removeAppsPhase({cluster: c}: RemovalOptions): Phase<Target, {applications: string[]}> {
  return {
    name: 'remove-apps',
    kubeconfig: 'read',
    title: 'Delete its Argo CD Applications (and what they deployed)',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `drop the ApplicationSet labels (obsctl.dev/role, obsctl.dev/metrics) from its cluster Secret, then delete the Applications in argocd on ${centralCluster(ctx.platform).name} labelled ${LABEL}=${c.name} or with destination ${c.apiServer}; their resources finalizer has Argo CD delete what they deployed`,
    async run(_t, ctx, io) {
      const {LABELS, clusterSecretName} = await import('../argocd/register.js')
      const {waitUntil} = await import('../kube/index.js')
      const kube = await centralKube(ctx)
      // 1. the ApplicationSets would generate its Applications again while its Secret carries the labels
      //    they select on: drop them first (the Secret itself stays until remove-secret, so Argo CD can still
      //    reach the cluster to delete what the Applications deployed)
      const name = clusterSecretName(c.apiServer)
      const secret = await kube.get<{
        apiVersion: string
        kind: string
        type?: string
        metadata: {name: string; namespace?: string; labels?: Record<string, string>}
        data?: Record<string, string>
      }>('v1', 'Secret', name, NAMESPACES.argocd)
      if (secret && (secret.metadata.labels?.[LABELS.role] !== undefined || secret.metadata.labels?.[LABELS.metrics] !== undefined)) {
        const labels = {...secret.metadata.labels}
        delete labels[LABELS.role]
        delete labels[LABELS.metrics]
        await kube.apply({apiVersion: 'v1', kind: 'Secret', type: secret.type, metadata: {name, namespace: NAMESPACES.argocd, labels}, data: secret.data})
        io.log(`Secret ${NAMESPACES.argocd}/${name}: dropped ${LABELS.role} and ${LABELS.metrics}, the ApplicationSets no longer generate its Applications`)
      }
      // 2. delete them; each carries resources-finalizer.argocd.argoproj.io, so Argo CD deletes what it
      //    deployed before the Application goes away
      const {apps} = await clusterApps(ctx, c)
      const deleted: string[] = []
      for (const a of apps) {
        if (await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})) {
          const cascade = (a.metadata as {finalizers?: string[]}).finalizers?.some((f) => f.startsWith('resources-finalizer.argocd.argoproj.io')) ?? false
          io.log(
            `deleted Application ${a.metadata.name}${cascade ? ' (Argo CD deletes what it deployed)' : ' (no resources finalizer: what it deployed stays)'}`,
          )
          deleted.push(a.metadata.name)
        }
      }
      // 3. wait until Argo CD has finished: an Application with a finalizer is gone only after its resources
      if (apps.length > 0) {
        await waitUntil(
          `Argo CD to delete the Applications of ${c.name} and what they deployed`,
          async () => {
            const left = (await clusterApps(ctx, c)).apps
            // one generated again by an ApplicationSet that had not seen the relabelled Secret yet: delete it again
            for (const a of left)
              if (!(a.metadata as {deletionTimestamp?: string}).deletionTimestamp)
                await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})
            return left.length === 0 ? true : `still there: ${left.map((a) => a.metadata.name).join(', ')}`
          },
          {timeoutMs: APP_DELETION_TIMEOUT_MS, intervalMs: pollMs(1000), signal: ctx.signal, onProgress: io.log},
        )
      }
      return {summary: apps.length ? `deleted ${apps.length} Application(s)` : 'no Applications left', report: {applications: deleted}}
    },
  }
}

export function removeSecretPhase({cluster: c}: RemovalOptions): Phase<Target, {secrets: string[]}> {
  return {
    name: 'remove-secret',
    kubeconfig: 'read',
    title: 'Delete its Argo CD cluster Secret',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `delete Secrets labelled ${LABEL}=${c.name} in argocd (cluster Secret for ${c.apiServer}) and monitoring (obsctl-scrape-${c.name}) on ${centralCluster(ctx.platform).name}`,
    async run(_t, ctx, io) {
      const {clusterSecretName} = await import('../argocd/register.js')
      const {SECRET_NAMES} = await import('../config/model.js')
      const kube = await centralKube(ctx)
      const wanted = new Map<string, {name: string; namespace: string}>()
      wanted.set(`${NAMESPACES.argocd}/${clusterSecretName(c.apiServer)}`, {name: clusterSecretName(c.apiServer), namespace: NAMESPACES.argocd})
      wanted.set(`${NAMESPACES.monitoring}/${SECRET_NAMES.scrape(c.name)}`, {name: SECRET_NAMES.scrape(c.name), namespace: NAMESPACES.monitoring})
      for (const ns of [NAMESPACES.argocd, NAMESPACES.monitoring]) {
        for (const s of await kube.list('v1', 'Secret', {namespace: ns, labelSelector: `${LABEL}=${c.name}`}))
          wanted.set(`${ns}/${s.metadata.name}`, {name: s.metadata.name, namespace: ns})
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
      // the inventory editor (and its lint) only when the phase runs: plan describes this phase too
      const {removeClusterFromInventory} = await import('../config/edit.js')
      const next = (await removeClusterFromInventory(ctx.inv, c.name, {dryRun: true, allowOvercommit: true})).inventory
      const {changeMessage, previewRender, renderCommitPush} = await import('./change.js')
      const preview = await previewRender(next, {force: Boolean(force)})
      const r = await renderCommitPush(next, changeMessage(`remove cluster ${c.name}`, preview), {
        push: push !== false,
        force: Boolean(force),
        command: `cluster remove ${c.name}`,
        before: ctx.inv.text,
      })
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
    kubeconfig: 'write',
    title: 'Remove its kubeconfig entries',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () =>
      `remove cluster ${c.name}, user ${c.name}-admin, context ${kubeContextName(c)} from the kubeconfig and from its earlier obsctl backups (no backup keeps its credentials)`,
    async run(_t, ctx, io) {
      const {removeFromKubeconfigs} = await import('../kube/index.js')
      // every $KUBECONFIG file that holds the entries (a later file's copy would otherwise show through)
      const r = await removeFromKubeconfigs(ctx.kubeconfig, c, {fallbackContext: kubeContextName(centralCluster(ctx.platform))})
      const file = r.file
      for (const e of r.removed) io.log(`removed ${e}`)
      const scrubbed = r.scrubbedBackups?.length ? `; its credentials also removed from ${r.scrubbedBackups.length} earlier backup(s)` : ''
      return {
        summary: `${r.changed ? `${file}: removed ${r.removed.join(', ')}` : `${file}: no entries left`}${scrubbed}`,
        report: {file, removed: r.removed, scrubbedBackups: r.scrubbedBackups},
      }
    },
  }
}

export function resetNodesPhase({cluster: c}: RemovalOptions): Phase<Target & {host: string}, {host: string}> {
  return {
    name: 'reset-nodes',
    title: 'kubeadm reset on its nodes',
    targets: () => c.nodes.map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host})),
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t, ctx) =>
      `ssh ${nodeLogin(
        ctx.platform,
        c.nodes.find((n) => n.host === t.host)!,
      )}: sudo kubeadm reset -f`,
    async run(t, ctx, io) {
      const {sshPool} = await import('../ssh/pool.js')
      const node = c.nodes.find((n) => n.host === t.host)!
      const conn = await (await sshPool(ctx)).get(node)
      await rootStep(conn, 'kubeadm reset -f', 'kubeadm reset -f', {log: io.log, signal: io.signal, code: 'RESET_FAILED'})
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
    async run(_t, ctx, io) {
      // first the journal: a cluster of this name added later starts from nothing (its kubeconfig, register and
      // secrets tasks are not found done); before the edit, so a run killed between the two forgets on its rerun. The
      // removal's records of the edge's tokens stay: a rerun after such a kill learns from them what became of them
      const {REVOKE_EVIDENCE} = await import('./revoke.js')
      const forgotten = ctx.journal?.forgetTargets([c.name], REVOKE_EVIDENCE) ?? 0
      if (forgotten) io.log(`the journal forgets ${forgotten} task record(s) of ${c.name}`)
      const {removeClusterFromInventory} = await import('../config/edit.js')
      await removeClusterFromInventory(ctx.inv, c.name, {allowOvercommit: true})
      return {summary: `removed from ${ctx.inv.file}`, report: {inventory: true}}
    },
  }
}
