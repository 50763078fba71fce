/**
 * The `preflight` and `nodes` phases (DESIGN.md §3): one task per node. SSH connections live in the
 * run's resources (one per node, shared by both phases, closed at run end and on Ctrl-C).
 */
import type {Phase} from '../engine/types.js'
import {clusterKubernetes, nodeLogin} from '../config/model.js'
import {ObsctlError} from '../errors.js'
import {
  describeInstall,
  installFingerprint,
  installNode,
  nodeTargets,
  resolveTarget,
  type NodeTarget,
  type NodesPhaseOptions,
  type PreflightPhaseOptions,
} from './install.js'

export function preflightPhase(o: PreflightPhaseOptions = {}): Phase<NodeTarget> {
  return {
    name: 'preflight',
    title: 'Preflight checks on every node',
    targets: (ctx) => nodeTargets(ctx, o.hosts),
    // a resumed bootstrap does not re-check nodes that passed with the same declared inputs (after
    // `nodes` they would report our own kubelet on 10250); `obsctl node preflight` and --restart always check
    fingerprint: (t, ctx) => {
      const {cluster, node} = resolveTarget(ctx.platform, t)
      return {node, role: cluster.role, profile: ctx.platform.profile, k8s: clusterKubernetes(ctx.platform, cluster)}
    },
    describe: (t, ctx) =>
      `ssh ${nodeLogin(ctx.platform, resolveTarget(ctx.platform, t).node)}: OS/arch, CPU, memory, disk, swap, ports 6443/10250, clock, sudo, leftovers of obsctl runs (read-only)`,
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    async run(t, ctx, io) {
      const {cluster, node} = resolveTarget(ctx.platform, t)
      // loaded when a node is checked, not when a plan describes it
      const [{sshPool}, {checkNode}] = await Promise.all([import('../ssh/pool.js'), import('./preflight.js')])
      const pool = await sshPool(ctx)
      const r = await checkNode(pool, ctx.platform, cluster, node)
      for (const c of r.checks) io.log(`${c.status} ${c.title}: ${c.detail}`)
      const failed = r.checks.filter((c) => c.status === 'fail')
      if (failed.length > 0) {
        throw new ObsctlError(`${failed.length} check(s) failed: ${failed.map((c) => `${c.title}: ${c.detail}`).join('; ')}`, {
          code: 'PREFLIGHT',
          hints: failed.map((c) => c.hint).filter((h): h is string => Boolean(h)),
        })
      }
      const warn = r.checks.filter((c) => c.status === 'warn').length
      return {summary: `${r.checks.length} checks passed${warn ? ` (${warn} warning${warn === 1 ? '' : 's'})` : ''}`}
    },
  }
}

export function nodesPhase(o: NodesPhaseOptions = {}): Phase<NodeTarget> {
  return {
    name: 'nodes',
    title: 'Kubernetes on every node',
    targets: (ctx) => nodeTargets(ctx, o.hosts),
    fingerprint: (t, ctx) => installFingerprint(ctx.platform, t),
    describe: (t, ctx) => describeInstall(t, ctx),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    run: async (t, ctx, io) => ({summary: await installNode(t, ctx, io, o)}),
  }
}
