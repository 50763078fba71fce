/**
 * The phases of `obsctl node add` and `obsctl node remove` (the drivers, with the inventory edit and the
 * engine run, are in ../flows/node-run.ts; the flows in ../flows/node-add.ts and ../flows/node-remove.ts).
 *
 * node add: after the inventory edit, `preflight` and `nodes` (the
 * install phases of bootstrap, limited to this host: a fresh join token is read from the first control
 * plane and travels in a 0600 file, never in argv or a log) and `node-labels` (Ready through the API,
 * its labels).
 *
 * node remove: `node-drain` (refused when a Longhorn volume would lose its last healthy replica, unless
 * --force; cordon; drain through the Eviction API — the drain code of `upgrade kubernetes`),
 * `node-reset` (`kubeadm reset -f` over SSH), `node-delete` (the Node object), `node-forget` (the
 * inventory entry, last: a rerun after a failure finishes the job).
 */
import {findCluster, nodeLogin, nodeName} from '../config/model.js'
import type {Cluster, ClusterNode} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, errorMessage} from '../errors.js'
import {rootStep} from '../nodes/lock.js'

const kubeOf = async (ctx: RunContext, cluster: string) => (await import('../kube/run.js')).kubeForCluster(ctx, cluster)
const drainLib = () => import('../kube/drain.js')

export const CLUSTER_LABEL = 'obsctl.dev/cluster'
const WORKER_LABEL = 'node-role.kubernetes.io/worker'

/** The labels obsctl puts on a node it added: its cluster, and the worker role (kubeadm labels control planes itself). */
export function nodeLabels(c: Cluster, n: ClusterNode): Record<string, string> {
  return {[CLUSTER_LABEL]: c.name, ...(n.roles.includes('worker') ? {[WORKER_LABEL]: ''} : {})}
}

export interface NodeLabelsOptions {
  hosts: string[]
  timeoutSeconds?: number
  pollMs?: number
}

export interface NodeLabelsReport {
  node: string
  kubeletVersion?: string
  labels: Record<string, string>
}

interface HostTarget extends Target {
  cluster: string
  host: string
  node: string
}

function hostTargets(ctx: RunContext, hosts: string[]): HostTarget[] {
  return runClusters(ctx).flatMap((c) =>
    c.nodes
      .filter((n) => hosts.includes(n.host))
      .map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host, node: nodeName(n)})),
  )
}

function resolve(ctx: RunContext, t: HostTarget): {cluster: Cluster; node: ClusterNode} {
  const cluster = findCluster(ctx.platform, t.cluster)
  const node = cluster?.nodes.find((n) => n.host === t.host)
  if (!cluster || !node) throw new ObsctlError(`node ${t.id} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return {cluster, node}
}

export function nodeLabelsPhase(o: NodeLabelsOptions): Phase<HostTarget, NodeLabelsReport> {
  return {
    name: 'node-labels',
    kubeconfig: 'read',
    title: 'The new node Ready in the API, labelled',
    targets: (ctx) => hostTargets(ctx, o.hosts),
    fingerprint: (t, ctx) => nodeLabels(resolve(ctx, t).cluster, resolve(ctx, t).node),
    describe: (t, ctx) =>
      `wait until Node ${t.node} is Ready, label it ${Object.entries(nodeLabels(resolve(ctx, t).cluster, resolve(ctx, t).node))
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    async isDone(t, ctx) {
      const {cluster, node} = resolve(ctx, t)
      const s = await (await drainLib()).nodeState(await kubeOf(ctx, t.cluster), t.node)
      const want = nodeLabels(cluster, node)
      if (!s.ready || Object.entries(want).some(([k, v]) => s.labels[k] !== v)) return false
      return {summary: `Ready, labelled`, report: {node: t.node, kubeletVersion: s.kubeletVersion, labels: want}}
    },
    async run(t, ctx, io) {
      const {cluster, node} = resolve(ctx, t)
      const d = await drainLib()
      const kube = await kubeOf(ctx, t.cluster)
      const s = await d.waitNodeReady(kube, t.node, {timeoutMs: (o.timeoutSeconds ?? 600) * 1000, pollMs: o.pollMs, signal: io.signal, log: io.log})
      const labels = nodeLabels(cluster, node)
      await d.patchNode(kube, t.node, {metadata: {name: t.node, labels}})
      io.log(
        `labelled ${t.node}: ${Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      )
      return {summary: `Ready (kubelet ${s.kubeletVersion ?? '?'}), labelled`, report: {node: t.node, kubeletVersion: s.kubeletVersion, labels}}
    },
  }
}

// ------------------------------------------------------------------------------------------ removal

/** What every removal step is given: the cluster and the node as the inventory had them when the removal started. */
export interface NodeRemovalOptions {
  cluster: Cluster
  node: ClusterNode
  /** remove even when a Longhorn volume loses its last healthy replica, and when the machine cannot be reached for `kubeadm reset` */
  force?: boolean
  drainTimeoutSeconds?: number
  pollMs?: number
}

export interface LonghornRisk {
  volume: string
  /** healthy replicas on the node being removed */
  onNode: number
}

interface LonghornObject {
  metadata: {name: string}
  spec?: {nodeID?: string; volumeName?: string; healthyAt?: string; failedAt?: string}
  status?: {currentState?: string}
}

/**
 * Longhorn volumes whose every healthy replica is on `node` (longhorn.io/v1beta2 Replica: spec.nodeID,
 * spec.volumeName; healthy = spec.healthyAt set and spec.failedAt empty, whatever status.currentState: a detached
 * volume's replicas are `stopped` and still hold its data).
 * No Longhorn (the API has no longhorn.io/v1beta2): none. An answer that cannot be read is an error, never "none".
 */
export async function longhornAtRisk(kube: import('../platform/kube.js').Kube, node: string): Promise<{installed: boolean; risks: LonghornRisk[]}> {
  const {apiRequest} = await drainLib()
  const get = async (what: string): Promise<LonghornObject[] | undefined> => {
    const r = await apiRequest(kube, 'GET', `/apis/longhorn.io/v1beta2/namespaces/longhorn-system/${what}`)
    if (r.status === 404) return undefined
    if (r.status !== 200)
      throw new ObsctlError(`cannot list Longhorn ${what} on ${kube.context} (HTTP ${r.status}): ${r.body.slice(0, 200)}`, {
        code: 'LONGHORN_UNKNOWN',
        hints: ['obsctl cannot tell whether removing the node loses data; --force removes it anyway'],
      })
    return (JSON.parse(r.body) as {items?: LonghornObject[]}).items ?? []
  }
  const [volumes, replicas] = await Promise.all([get('volumes'), get('replicas')])
  if (!volumes || !replicas) return {installed: false, risks: []}
  const healthy = (r: LonghornObject) => Boolean(r.spec?.healthyAt) && !r.spec?.failedAt
  const risks: LonghornRisk[] = []
  for (const v of volumes) {
    const mine = replicas.filter((r) => r.spec?.volumeName === v.metadata.name && healthy(r))
    const here = mine.filter((r) => r.spec?.nodeID === node).length
    if (here > 0 && here === mine.length) risks.push({volume: v.metadata.name, onNode: here})
  }
  return {installed: true, risks}
}

const removalTarget = (o: NodeRemovalOptions): HostTarget => ({
  id: `${o.cluster.name}/${o.node.host}`,
  title: `${o.cluster.name}/${nodeName(o.node)}`,
  cluster: o.cluster.name,
  host: o.node.host,
  node: nodeName(o.node),
})

export interface NodeDrainReport {
  node: string
  evicted: string[]
  longhorn: LonghornRisk[]
  forced: boolean
}

export function nodeDrainPhase(o: NodeRemovalOptions): Phase<HostTarget, NodeDrainReport> {
  return {
    name: 'node-drain',
    kubeconfig: 'read',
    title: 'Cordon and drain the node (Longhorn replicas checked first)',
    targets: () => [removalTarget(o)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t) =>
      `refuse if a Longhorn volume has its last healthy replica on ${t.node}${o.force ? ' (--force: warn only)' : ''}; cordon; evict its pods (PodDisruptionBudgets honoured)`,
    async run(t, ctx, io) {
      const kube = await kubeOf(ctx, t.cluster)
      const d = await drainLib()
      if (!(await d.nodeState(kube, t.node)).exists)
        return {summary: `Node ${t.node} is not in the cluster: nothing to drain`, report: {node: t.node, evicted: [], longhorn: [], forced: false}}
      let risks: LonghornRisk[] = []
      try {
        const lh = await longhornAtRisk(kube, t.node)
        risks = lh.risks
        io.log(
          lh.installed
            ? `Longhorn: ${risks.length} volume(s) with their last healthy replica on ${t.node}`
            : 'Longhorn: not installed (no longhorn.io/v1beta2 API)',
        )
      } catch (e) {
        if (!o.force) throw e
        io.log(`--force: ${errorMessage(e)}`)
      }
      if (risks.length && !o.force) {
        throw new ObsctlError(
          `removing ${t.node} would lose data: Longhorn volume(s) ${risks.map((r) => r.volume).join(', ')} have their last healthy replica on it`,
          {
            code: 'LONGHORN_LAST_REPLICA',
            hints: [
              "raise the volumes' numberOfReplicas (or wait for Longhorn to rebuild a replica on another node) and rerun",
              '--force removes the node anyway (those volumes lose their data)',
            ],
          },
        )
      }
      for (const r of risks) io.log(`--force: Longhorn volume ${r.volume} loses its last healthy replica`)
      const r = await d.drainNode(kube, t.node, {timeoutMs: (o.drainTimeoutSeconds ?? 600) * 1000, pollMs: o.pollMs, signal: io.signal, log: io.log})
      return {summary: `drained: ${r.evicted.length} pod(s) evicted`, report: {node: t.node, evicted: r.evicted, longhorn: risks, forced: risks.length > 0}}
    },
  }
}

export function nodeResetPhase(o: NodeRemovalOptions): Phase<HostTarget, {reset: boolean}> {
  return {
    name: 'node-reset',
    title: 'kubeadm reset on the node',
    targets: () => [removalTarget(o)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `ssh ${nodeLogin(ctx.platform, o.node)}: sudo kubeadm reset -f${o.force ? ' (--force: an unreachable machine is skipped)' : ''}`,
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    async run(t, ctx, io) {
      const {sshPool} = await import('../ssh/pool.js')
      let conn
      try {
        conn = await (await sshPool(ctx)).get(o.node)
      } catch (e) {
        if (!o.force) throw e
        io.log(`--force: ${t.host} cannot be reached (${errorMessage(e)}); not reset`)
        return {summary: 'not reset: the machine cannot be reached (--force)', report: {reset: false}}
      }
      await rootStep(conn, 'kubeadm reset -f', 'kubeadm reset -f', {log: io.log, signal: io.signal, code: 'RESET_FAILED'})
      return {summary: 'kubeadm reset -f done', report: {reset: true}}
    },
  }
}

export function nodeDeletePhase(o: NodeRemovalOptions): Phase<HostTarget, {deleted: boolean}> {
  return {
    name: 'node-delete',
    kubeconfig: 'read',
    title: 'Delete the Node object',
    targets: () => [removalTarget(o)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t) => `delete Node ${t.node} from ${t.cluster}`,
    async run(t, ctx) {
      const kube = await kubeOf(ctx, t.cluster)
      const deleted = await kube.delete({apiVersion: 'v1', kind: 'Node', metadata: {name: t.node}})
      return {summary: deleted ? `Node ${t.node} deleted` : `Node ${t.node} was already gone`, report: {deleted}}
    },
  }
}

export function nodeForgetPhase(o: NodeRemovalOptions): Phase<HostTarget, {removed: boolean}> {
  return {
    name: 'node-forget',
    title: 'Remove the node from the inventory',
    targets: () => [removalTarget(o)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t, ctx) => `remove ${t.host} from clusters.${t.cluster}.nodes in ${ctx.inv.file}`,
    async run(t, ctx, io) {
      // first the journal: the same host added later is checked, installed and joined again instead of found done
      // (its preflight, nodes and node-labels tasks); before the edit, so a run killed between the two forgets on its rerun
      const forgotten = ctx.journal?.forgetTargets([t.id]) ?? 0
      if (forgotten) io.log(`the journal forgets ${forgotten} task record(s) of ${t.id}`)
      const {loadInventory} = await import('../config/load.js')
      const {removeInventoryValue} = await import('../config/edit.js')
      const inv = loadInventory(ctx.inv.file)
      const i = findCluster(inv.platform, t.cluster)?.nodes.findIndex((n) => n.host === t.host) ?? -1
      if (i < 0) return {summary: 'not in the inventory any more', report: {removed: false}}
      // the machine has left the cluster: the inventory records it even if the rest is now overcommitted (config validate says so)
      await removeInventoryValue(inv, `clusters.${t.cluster}.nodes[${i}]`, {allowOvercommit: true})
      return {summary: `removed from ${inv.file}`, report: {removed: true}}
    },
  }
}
