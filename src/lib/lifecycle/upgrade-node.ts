/**
 * One node's upgrade (the `upgrade-nodes` phase of ./upgrade.ts): the nodes of a cluster in upgrade
 * order, whether a node is already where the upgrade leaves it, and kubeadm's steps for its role.
 */
import {nodeName} from '../config/model.js'
import type {Cluster, ClusterNode, Platform} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {RunContext, Target, TaskIO} from '../engine/types.js'
import {ObsctlError} from '../errors.js'
import {shQuote} from '../shell-quote.js'
import {holdPackages, installPackages, installedVersion, packageManager, resolvePackage, root, switchRepository} from './upgrade-packages.js'
import {formatVersion, isAt, minorOf, parseTarget, parseVersion, type Version} from './versions.js'

export interface UpgradeOptions {
  /** VERSION as the user gave it: 1.35 (newest patch) or 1.35.2 */
  version: string
  /** --drain-timeout: how long a node's drain may take (default 600 s) */
  drainTimeoutSeconds?: number
  /** --timeout: how long a node may take to be Ready at the new version (default 600 s) */
  readyTimeoutSeconds?: number
  /** poll interval of drains and readiness (tests) */
  pollMs?: number
}

export type UpgradeRole = 'first-control-plane' | 'control-plane' | 'worker'

export interface UpgradeNodeTarget extends Target {
  cluster: string
  host: string
  node: string
  role: UpgradeRole
}

export interface UpgradeNodeReport {
  cluster: string
  node: string
  role: UpgradeRole
  from?: string
  to: string
  steps: string[]
}

export const kubeOf = async (ctx: RunContext, cluster: string) => (await import('../kube/run.js')).kubeForCluster(ctx, cluster)
export const drainLib = () => import('../kube/drain.js')

const isControlPlane = (n: ClusterNode) => n.roles.includes('control-plane')

/** A cluster's nodes in upgrade order: first control plane, other control planes, workers (inventory order). */
export function upgradeOrder(c: Cluster): {node: ClusterNode; role: UpgradeRole}[] {
  const cps = c.nodes.filter(isControlPlane)
  return [
    ...cps.map((node, i) => ({node, role: (i === 0 ? 'first-control-plane' : 'control-plane') as UpgradeRole})),
    ...c.nodes.filter((n) => !isControlPlane(n)).map((node) => ({node, role: 'worker' as UpgradeRole})),
  ]
}

export function upgradeTargets(ctx: RunContext): UpgradeNodeTarget[] {
  return runClusters(ctx).flatMap((c) =>
    upgradeOrder(c).map(({node, role}) => ({
      id: `${c.name}/${node.host}`,
      title: `${c.name}/${nodeName(node)} (${role.replaceAll('-', ' ')})`,
      cluster: c.name,
      host: node.host,
      node: nodeName(node),
      role,
    })),
  )
}

export function clusterOf(p: Platform, name: string): Cluster {
  const c = p.clusters.find((x) => x.name === name)
  if (!c) throw new ObsctlError(`cluster ${name} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return c
}

export function inventoryNode(p: Platform, t: UpgradeNodeTarget): ClusterNode {
  const n = clusterOf(p, t.cluster).nodes.find((x) => x.host === t.host)
  if (!n) throw new ObsctlError(`node ${t.id} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return n
}

function timeouts(o: UpgradeOptions) {
  const s = (v: number | undefined) => (v !== undefined && v > 0 ? v : 600) * 1000
  return {drainMs: s(o.drainTimeoutSeconds), readyMs: s(o.readyTimeoutSeconds), pollMs: o.pollMs}
}

/** Is the node where the upgrade leaves it: kubelet at the target, Ready, schedulable (and the API server at the target, for the first control plane)? */
export async function nodeInState(ctx: RunContext, t: UpgradeNodeTarget, target: Version): Promise<string | undefined> {
  const kube = await kubeOf(ctx, t.cluster)
  const {nodeState, apiServerVersion} = await drainLib()
  const s = await nodeState(kube, t.node)
  if (!s.exists || !s.ready || s.unschedulable || !isAt(s.kubeletVersion, target)) return undefined
  if (t.role === 'first-control-plane' && !isAt(await apiServerVersion(kube), target)) return undefined
  return s.kubeletVersion
}

export async function upgradeNode(ctx: RunContext, t: UpgradeNodeTarget, o: UpgradeOptions, io: TaskIO): Promise<UpgradeNodeReport> {
  const target = parseTarget(o.version)
  const {drainLimits, steps, kube, conn, pm, cluster} = await (async () => {
    const {sshPool} = await import('../ssh/pool.js')
    const node = inventoryNode(ctx.platform, t)
    const c = await (await sshPool(ctx)).get(node)
    return {
      drainLimits: timeouts(o),
      steps: [] as string[],
      kube: await kubeOf(ctx, t.cluster),
      conn: c,
      pm: await packageManager(c),
      cluster: clusterOf(ctx.platform, t.cluster),
    }
  })()
  const d = await drainLib()
  const step = (s: string) => {
    steps.push(s)
    io.log(`== ${s}`)
  }
  const before = await d.nodeState(kube, t.node)
  if (!before.exists)
    throw new ObsctlError(`Node ${t.node} is not in cluster ${t.cluster}`, {
      code: 'NODE_NOT_FOUND',
      hints: ['obsctl node add registers a node; nodes[].name must be its Kubernetes node name'],
    })

  // the exact release: given, or (minor only) the newest patch for the first control plane and the API server's release for the others
  let version: string
  let pin: string
  const repository = async () => {
    step(`package repository ${minorOf(target)}`)
    await switchRepository(conn, ctx.platform, pm, minorOf(target), io)
  }
  if (t.role === 'first-control-plane') {
    await repository()
    ;({version, pin} = await resolvePackage(conn, pm, target, io))
  } else {
    // the others follow the control plane: the API server's release (kubelets never newer than it)
    const api = parseVersion(await d.apiServerVersion(kube))
    if (!api || !isAt(`v${formatVersion(api)}`, target))
      throw new ObsctlError(`the API server of ${t.cluster} does not run ${formatVersion(target)} yet`, {
        code: 'UPGRADE_ORDER',
        hints: ['the first control plane is upgraded first: rerun, it resumes there'],
      })
    version = formatVersion(api)
    pin = ''
  }
  const vTag = `v${version}`
  const kubeadmStep = async () => {
    if ((await installedVersion(conn, 'kubeadm')) === vTag) {
      io.log(`kubeadm ${vTag} already installed`)
      return holdPackages(conn, pm, ['kubeadm'], io)
    }
    step(`kubeadm package ${version}`)
    await installPackages(conn, pm, ['kubeadm'], pin, io)
  }
  const drainStep = async () => {
    if (cluster.nodes.length === 1) {
      step('cordon (a single-node cluster: its pods have nowhere to go, so they are not evicted)')
      await d.setUnschedulable(kube, t.node, true)
      return
    }
    step(`cordon and drain ${t.node}`)
    const r = await d.drainNode(kube, t.node, {timeoutMs: drainLimits.drainMs, pollMs: drainLimits.pollMs, signal: io.signal, log: io.log})
    io.log(`drained: ${r.evicted.length} pod(s) evicted, ${r.ignored.length} left (DaemonSet/static)`)
  }
  const kubeletStep = async (pkgs: string[]) => {
    if ((await installedVersion(conn, 'kubelet')) !== vTag) {
      step(`${pkgs.join(', ')} packages ${version}`)
      await installPackages(conn, pm, pkgs, pin, io)
    } else {
      io.log(`kubelet ${vTag} already installed`)
      await holdPackages(conn, pm, pkgs, io)
    }
  }
  const restartAndWait = async () => {
    step('restart kubelet')
    await root(conn, 'restarting kubelet', 'systemctl daemon-reload && systemctl restart kubelet', io)
    step(`wait for ${t.node} Ready at ${vTag}`)
    await d.waitNodeReady(kube, t.node, {version: vTag, timeoutMs: drainLimits.readyMs, pollMs: drainLimits.pollMs, signal: io.signal, log: io.log})
    step(`uncordon ${t.node}`)
    await d.setUnschedulable(kube, t.node, false)
  }

  const resolvePin = async () => {
    if (pin) return
    await repository()
    ;({pin} = await resolvePackage(conn, pm, parseVersion(version)!, io))
  }
  if (t.role === 'worker') {
    await drainStep()
    await resolvePin()
    const pkgs = ['kubeadm', 'kubelet', 'kubectl']
    if ((await installedVersion(conn, 'kubeadm')) !== vTag || (await installedVersion(conn, 'kubelet')) !== vTag) {
      step(`kubeadm, kubelet, kubectl packages ${version}`)
      await installPackages(conn, pm, pkgs, pin, io)
    } else {
      io.log(`kubeadm and kubelet ${vTag} already installed`)
      await holdPackages(conn, pm, pkgs, io)
    }
    step('kubeadm upgrade node')
    await root(conn, 'kubeadm upgrade node', 'kubeadm upgrade node', io, 'KUBEADM_UPGRADE')
    await restartAndWait()
  } else {
    await resolvePin()
    await kubeadmStep()
    if (t.role === 'first-control-plane') {
      step(`kubeadm upgrade plan ${vTag}`)
      await root(conn, 'kubeadm upgrade plan', `kubeadm upgrade plan ${shQuote(vTag)}`, io, 'KUBEADM_UPGRADE')
      if ((await d.apiServerVersion(kube)) === vTag) io.log(`the control plane already runs ${vTag}`)
      else {
        step(`kubeadm upgrade apply ${vTag}`)
        await root(conn, 'kubeadm upgrade apply', `kubeadm upgrade apply ${shQuote(vTag)} --yes`, io, 'KUBEADM_UPGRADE')
      }
    } else {
      step('kubeadm upgrade node')
      await root(conn, 'kubeadm upgrade node', 'kubeadm upgrade node', io, 'KUBEADM_UPGRADE')
    }
    await drainStep()
    await kubeletStep(['kubelet', 'kubectl'])
    await restartAndWait()
  }
  return {cluster: t.cluster, node: t.node, role: t.role, from: before.kubeletVersion, to: vTag, steps}
}
