/**
 * `cluster remove NAME [--reset-nodes]` (issue 9 item 3): `cluster add` undone in reverse, as one
 * engine run (lock, per-task logs): its Argo CD Applications on central, its cluster Secret (and the
 * scrape Secret), the GitOps repo re-rendered without it (its files removed; commit + push), its
 * kubeconfig entries; `kubeadm reset -f` on its nodes only with --reset-nodes; the inventory last.
 * Every step checks before it acts, so a rerun after a failure finishes the job.
 */
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, findCluster, kubeContextName, NAMESPACES, nodeName} from '../config/model.js'
import {removeClusterFromInventory} from '../config/edit.js'
import type {Cluster} from '../config/schema.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {changeMessage, confirmOrRefuse, renderCommitPush} from './change.js'

export interface RemoveOptions {
  resetNodes?: boolean
  dryRun?: boolean
  yes?: boolean
  /** push the render commit (default true) */
  push?: boolean
  force?: boolean
  kubeconfig?: string
  renderer?: RendererChoice
  onEvent?: RunEventSink
  onNotice?: (line: string) => void
  confirm?: (question: string) => Promise<boolean>
  extraOptions?: Record<string, unknown>
}

export interface RemoveReport {
  applications: string[]
  secrets: string[]
  render?: {commit: string | null; pushed: boolean; removed: string[]; changed: string[]}
  kubeconfig?: {file: string; removed: string[]; scrubbedBackups?: string[]}
  reset: string[]
  inventory: boolean
}

export interface RemoveResult {
  cluster: string
  dryRun: boolean
  /** the cluster was not in the inventory: nothing to do */
  absent?: boolean
  cancelled?: boolean
  steps: string[]
  report: RemoveReport
  run?: RunResult
  ok: boolean
}

const APP = {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'} as const
const LABEL = 'obsctl.dev/cluster'

interface RemoveState {
  cluster: Cluster
  report: RemoveReport
}

const st = (ctx: RunContext) => ctx.options.removeState as RemoveState

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
      const dest = ((a.spec as {destination?: {server?: string; name?: string}} | undefined)?.destination) ?? {}
      return a.metadata.labels?.[LABEL] === c.name || dest.server === c.apiServer || dest.name === c.name
    }),
  }
}

const target = (c: Cluster): Target => ({id: c.name, cluster: c.name})

const appsPhase: Phase = {
  name: 'remove-apps',
  title: 'Delete its Argo CD Applications',
  targets: (ctx) => [target(st(ctx).cluster)],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (_t, ctx) => `delete the Applications in argocd on ${centralCluster(ctx.platform).name} labelled ${LABEL}=${st(ctx).cluster.name} or with destination ${st(ctx).cluster.apiServer}`,
  async run(_t, ctx, io) {
    const {kube, apps} = await clusterApps(ctx, st(ctx).cluster)
    for (const a of apps) {
      if (await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})) {
        io.log(`deleted Application ${a.metadata.name}`)
        st(ctx).report.applications.push(a.metadata.name)
      }
    }
    return apps.length ? `deleted ${apps.length} Application(s)` : 'no Applications left'
  },
}

const secretPhase: Phase = {
  name: 'remove-secret',
  title: 'Delete its Argo CD cluster Secret',
  targets: (ctx) => [target(st(ctx).cluster)],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (_t, ctx) => {
    const c = st(ctx).cluster
    return `delete Secrets labelled ${LABEL}=${c.name} in argocd (cluster Secret for ${c.apiServer}) and monitoring (obsctl-scrape-${c.name}) on ${centralCluster(ctx.platform).name}`
  },
  async run(_t, ctx, io) {
    const {clusterSecretName} = await import('../argocd/register.js')
    const {SECRET_NAMES} = await import('../config/model.js')
    const c = st(ctx).cluster
    const kube = await centralKube(ctx)
    const wanted = new Map<string, {name: string; namespace: string}>()
    wanted.set(`${NAMESPACES.argocd}/${clusterSecretName(c.apiServer)}`, {name: clusterSecretName(c.apiServer), namespace: NAMESPACES.argocd})
    wanted.set(`${NAMESPACES.monitoring}/${SECRET_NAMES.scrape(c.name)}`, {name: SECRET_NAMES.scrape(c.name), namespace: NAMESPACES.monitoring})
    for (const ns of [NAMESPACES.argocd, NAMESPACES.monitoring]) {
      for (const s of await kube.list('v1', 'Secret', {namespace: ns, labelSelector: `${LABEL}=${c.name}`})) wanted.set(`${ns}/${s.metadata.name}`, {name: s.metadata.name, namespace: ns})
    }
    let n = 0
    for (const [key, m] of wanted) {
      if (await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: m})) {
        io.log(`deleted Secret ${key}`)
        st(ctx).report.secrets.push(key)
        n++
      }
    }
    return n ? `deleted ${n} Secret(s)` : 'no Secrets left'
  },
}

const renderPhase: Phase = {
  name: 'remove-render',
  title: 'Render the GitOps repository without it (commit + push)',
  targets: () => [{id: 'platform', title: 'GitOps repository'}],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (_t, ctx) => `render without ${st(ctx).cluster.name} (its overlay and Applications removed), commit${ctx.options.push === false ? '' : ' and push'}`,
  async run(_t, ctx, io) {
    const c = st(ctx).cluster
    const next = (await removeClusterFromInventory(ctx.inv, c.name, {dryRun: true})).inventory
    const {previewRender} = await import('./change.js')
    const preview = await previewRender(next, {force: Boolean(ctx.options.force)})
    const r = await renderCommitPush(next, changeMessage(`remove cluster ${c.name}`, preview), {push: ctx.options.push !== false, force: Boolean(ctx.options.force)})
    for (const f of r.files.removed) io.log(`removed ${f}`)
    for (const f of r.files.changed) io.log(`changed ${f}`)
    st(ctx).report.render = {commit: r.commit?.sha ?? null, pushed: Boolean(r.push), removed: r.files.removed, changed: r.files.changed}
    return `${r.files.removed.length} removed, ${r.files.changed.length} changed${r.commit ? `, commit ${r.commit.sha.slice(0, 12)}` : ''}${r.push ? ', pushed' : ''}`
  },
}

const kubeconfigPhase: Phase = {
  name: 'remove-kubeconfig',
  title: 'Remove its kubeconfig entries',
  targets: (ctx) => [target(st(ctx).cluster)],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (_t, ctx) => `remove cluster ${st(ctx).cluster.name}, user ${st(ctx).cluster.name}-admin, context ${kubeContextName(st(ctx).cluster)} from the kubeconfig and from its earlier obsctl backups (no backup keeps its credentials)`,
  async run(_t, ctx, io) {
    const {removeFromKubeconfig, resolveKubeconfigPath} = await import('../kube/index.js')
    const file = resolveKubeconfigPath(typeof ctx.options.kubeconfig === 'string' ? ctx.options.kubeconfig : undefined)
    const r = await removeFromKubeconfig(file, st(ctx).cluster, {fallbackContext: kubeContextName(centralCluster(ctx.platform))})
    for (const e of r.removed) io.log(`removed ${e}`)
    st(ctx).report.kubeconfig = {file, removed: r.removed, scrubbedBackups: r.scrubbedBackups}
    const scrubbed = r.scrubbedBackups?.length ? `; its credentials also removed from ${r.scrubbedBackups.length} earlier backup(s)` : ''
    return `${r.changed ? `${file}: removed ${r.removed.join(', ')}` : `${file}: no entries left`}${scrubbed}`
  },
}

const resetPhase: Phase<Target & {host: string}> = {
  name: 'reset-nodes',
  title: 'kubeadm reset on its nodes',
  targets: (ctx) => st(ctx).cluster.nodes.map((n) => ({id: `${st(ctx).cluster.name}/${n.host}`, title: `${st(ctx).cluster.name}/${nodeName(n)}`, cluster: st(ctx).cluster.name, host: n.host})),
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (t) => `ssh ${t.host}: sudo kubeadm reset -f`,
  async run(t, ctx, io) {
    const {sshPool} = await import('../ssh/pool.js')
    const node = st(ctx).cluster.nodes.find((n) => n.host === t.host)!
    const conn = await (await sshPool(ctx)).get(node)
    const r = await conn.sudo('kubeadm reset -f', {signal: io.signal})
    for (const l of `${r.stdout}\n${r.stderr}`.split('\n').filter(Boolean)) io.log(l)
    if (r.code !== 0) throw new ObsctlError(`kubeadm reset -f on ${t.host} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`, {code: 'RESET_FAILED'})
    st(ctx).report.reset.push(t.host)
    return 'kubeadm reset -f done'
  },
}

const inventoryPhase: Phase = {
  name: 'remove-inventory',
  title: 'Remove it from the inventory',
  targets: (ctx) => [target(st(ctx).cluster)],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: (_t, ctx) => `remove ${st(ctx).cluster.name} from ${ctx.inv.file} (comments and order of the rest kept)`,
  async run(_t, ctx) {
    await removeClusterFromInventory(ctx.inv, st(ctx).cluster.name)
    st(ctx).report.inventory = true
    return `removed from ${ctx.inv.file}`
  },
}

export async function removeCluster(inv: LoadedInventory, name: string, o: RemoveOptions = {}): Promise<RemoveResult> {
  const report: RemoveReport = {applications: [], secrets: [], reset: [], inventory: false}
  const c = findCluster(inv.platform, name)
  if (!c) {
    // the inventory edit is the last step: a cluster that is not there is removed already
    if (!o.dryRun) o.onNotice?.(`${name} is not in ${inv.file}: nothing to remove`)
    return {cluster: name, dryRun: Boolean(o.dryRun), absent: true, steps: [], report, ok: true}
  }
  if (c.role === 'central') throw inputError(`${name} is the central cluster; it cannot be removed`, ['remove edge clusters only'], 'CENTRAL')
  // the inventory must stay valid without it (fails here, before anything is touched)
  await removeClusterFromInventory(inv, name, {dryRun: true})

  const phases: Phase<Target & {host: string}>[] = [appsPhase, secretPhase, renderPhase, kubeconfigPhase, ...(o.resetNodes ? [resetPhase] : []), inventoryPhase] as Phase<Target & {host: string}>[]
  const steps = phases.map((p) => p.title)
  const result: RemoveResult = {cluster: name, dryRun: Boolean(o.dryRun), steps, report, ok: false}
  const options = {...o.extraOptions, kubeconfig: o.kubeconfig, push: o.push !== false, force: o.force, clusters: [name], removeState: {cluster: c, report} satisfies RemoveState}
  const {runPhases} = await import('../engine/index.js')
  const command = `cluster remove ${name}`

  if (!o.dryRun) {
    const reset = o.resetNodes ? `\nkubeadm reset -f on ${c.nodes.map((n) => n.host).join(', ')}: Kubernetes on these nodes is wiped` : '\nits nodes are left untouched (--reset-nodes wipes them)'
    const question = `remove ${name} (${c.apiServer}):\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}${reset}\nGo ahead?`
    if (!(await confirmOrRefuse('cluster remove', question, o, 'or --dry-run to see what would be done'))) {
      result.cancelled = true
      return result
    }
  }
  const run = await runPhases(phases as Phase<Target>[], {inv, dryRun: o.dryRun, restart: true, options, renderer: o.dryRun ? 'silent' : o.renderer, onEvent: o.onEvent, command})
  result.run = run
  result.ok = run.ok
  return result
}
