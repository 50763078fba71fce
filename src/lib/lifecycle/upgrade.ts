/**
 * `obsctl upgrade kubernetes VERSION` as three phases (registered in ../flows/registry.ts, listed in
 * ../flows/upgrade-kubernetes.ts, run by ../flows/upgrade-kubernetes-run.ts), kubeadm's documented procedure:
 *
 * - `upgrade-preflight`, one task per cluster: the target is one minor step (never down), every kubelet
 *   is no newer than the API server, every node is Ready, etcd is healthy (the API server's
 *   /readyz/etcd and the etcd static pods), and the package repository of the target minor (pkgs.k8s.io
 *   or ssh.aptMirror) answers from every node. Nothing is changed.
 * - `upgrade-nodes`, one task per node, in order within a cluster (first control plane, the other
 *   control planes, then the workers one at a time; clusters side by side — see ./sequence.ts):
 *   first control plane: repository, kubeadm package, `kubeadm upgrade plan`, `kubeadm upgrade apply`;
 *   other control planes: repository, kubeadm package, `kubeadm upgrade node`; then each of them:
 *   cordon, drain, kubelet and kubectl packages, restart kubelet, wait Ready at the new version,
 *   uncordon. Workers: cordon, drain (Eviction API, PodDisruptionBudgets honoured), repository,
 *   kubeadm/kubelet/kubectl packages, `kubeadm upgrade node`, restart kubelet, wait Ready at the new
 *   version, uncordon. Each step checks before it acts, and the journal records each node, so a
 *   killed upgrade resumes at the node it was on. The steps are in ./upgrade-node.ts, the node's
 *   packages and repository in ./upgrade-packages.ts.
 * - `upgrade-inventory`: versions.kubernetes is set to VERSION once every cluster of the inventory runs it; until
 *   then a cluster at VERSION gets its own `clusters[].kubernetes` (its new nodes install VERSION)
 *   (the field is the fleet's); until then it says which clusters still run an older version.
 */
import {nodeName} from '../config/model.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, errorMessage} from '../errors.js'
import {shQuote} from '../shell-quote.js'
import {sequenceOf, type Sequence} from './sequence.js'
import {
  clusterOf,
  drainLib,
  inventoryNode,
  kubeOf,
  nodeInState,
  upgradeNode,
  upgradeTargets,
  type UpgradeNodeReport,
  type UpgradeNodeTarget,
  type UpgradeOptions,
} from './upgrade-node.js'
import {packageBaseFor, packageManager, proxyEnv} from './upgrade-packages.js'
import {compareVersions, isAt, minorOf, parseTarget, parseVersion, stepProblem, type Version} from './versions.js'

export {packageBaseFor} from './upgrade-packages.js'
export {upgradeOrder, upgradeTargets, type UpgradeNodeReport, type UpgradeNodeTarget, type UpgradeOptions, type UpgradeRole} from './upgrade-node.js'

export interface UpgradePreflightReport {
  cluster: string
  apiServer: string
  target: string
  nodes: {name: string; kubelet?: string; ready: boolean}[]
  upToDate: boolean
}

export interface UpgradeNodesState {
  target: Version
  seq: Sequence
}

export function upgradePreflightPhase(o: UpgradeOptions): Phase<Target, UpgradePreflightReport> {
  return {
    name: 'upgrade-preflight',
    kubeconfig: 'read',
    title: `Preflight for Kubernetes ${o.version}`,
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name})),
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `one minor step to ${o.version}, kubelets no newer than the API server, every node Ready, etcd healthy, ${packageBaseFor(ctx.platform, minorOf(parseTarget(o.version)))} reachable from every node (read-only)`,
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    async run(t, ctx, io) {
      const target = parseTarget(o.version)
      const c = clusterOf(ctx.platform, t.id)
      const kube = await kubeOf(ctx, c.name)
      const d = await drainLib()
      const apiRaw = await d.apiServerVersion(kube)
      const api = parseVersion(apiRaw)
      if (!api) throw new ObsctlError(`${c.name}: the API server reports version ${apiRaw}`, {code: 'KUBE_VERSION'})
      io.log(`API server: ${apiRaw}`)
      const step = stepProblem(api, target)
      if (step) throw new ObsctlError(step, {exitCode: 2, code: 'UPGRADE_SKEW', hints: ['VERSION is the next minor (or a patch of the current one)']})
      const problems: string[] = []
      const nodes = await d.listNodes(kube)
      for (const n of c.nodes) {
        const s = nodes.find((x) => x.name === nodeName(n))
        if (!s) {
          problems.push(`node ${nodeName(n)} (${n.host}) is in the inventory but not in the cluster`)
          continue
        }
        io.log(`node ${s.name}: ${s.ready ? 'Ready' : 'NOT Ready'}, kubelet ${s.kubeletVersion ?? 'unknown'}`)
        if (!s.ready) problems.push(`node ${s.name} is not Ready`)
        const kv = parseVersion(s.kubeletVersion)
        if (!kv) problems.push(`node ${s.name}: kubelet version unknown`)
        else if (compareVersions(kv, api) > 0) problems.push(`node ${s.name}: kubelet ${s.kubeletVersion} is newer than the API server ${apiRaw}`)
      }
      const etcd = await d.etcdHealth(kube)
      if (etcd.problem) problems.push(`etcd: ${etcd.problem}`)
      else if (etcd.staticPods.length === 0)
        // say what was measured: an external etcd's members are not visible to obsctl, only the API server's view of them
        io.log('etcd: healthy, judged by /readyz/etcd alone: no etcd static pods in kube-system (external etcd)')
      else io.log(`etcd: healthy (/readyz/etcd ok; static pod(s) Ready: ${etcd.staticPods.join(', ')})`)
      const upToDate = isAt(apiRaw, target) && nodes.every((n) => isAt(n.kubeletVersion, target))
      if (!upToDate) {
        const {sshPool} = await import('../ssh/pool.js')
        const pool = await sshPool(ctx)
        const base = packageBaseFor(ctx.platform, minorOf(target))
        await Promise.all(
          c.nodes.map(async (n) => {
            try {
              const conn = await pool.get(n)
              const pm = await packageManager(conn)
              const url = pm === 'apt' ? `${base}/deb/Release.key` : `${base}/rpm/repodata/repomd.xml.key`
              const r = await conn.exec(`${proxyEnv(ctx.platform)}curl -fsSL --max-time 30 -o /dev/null ${shQuote(url)}`, {signal: io.signal})
              if (r.code === 0) io.log(`${nodeName(n)}: ${url} reachable`)
              else problems.push(`${nodeName(n)} cannot fetch ${url}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`)
            } catch (e) {
              problems.push(`${nodeName(n)}: ${errorMessage(e)}`)
            }
          }),
        )
      }
      if (problems.length) {
        throw new ObsctlError(`not ready for Kubernetes ${o.version}: ${problems.join('; ')}`, {
          code: 'UPGRADE_PREFLIGHT',
          hints: [
            'nothing was changed; fix these and rerun',
            ctx.platform.ssh.aptMirror ? 'the package repository is ssh.aptMirror' : 'behind a firewall, ssh.aptMirror names a mirror of pkgs.k8s.io',
          ],
        })
      }
      return {
        summary: upToDate ? `already at ${o.version}` : `${apiRaw} → ${o.version}: ${c.nodes.length} node(s) ready`,
        report: {
          cluster: c.name,
          apiServer: apiRaw,
          target: o.version,
          nodes: nodes.map((n) => ({name: n.name, kubelet: n.kubeletVersion, ready: n.ready})),
          upToDate,
        },
      }
    },
  }
}

export function upgradeNodesPhase(o: UpgradeOptions): Phase<UpgradeNodeTarget, UpgradeNodeReport> {
  const seq = (ctx: RunContext, t: UpgradeNodeTarget) =>
    sequenceOf(ctx, 'upgrade-nodes', t.cluster, () =>
      upgradeTargets(ctx)
        .filter((x) => x.cluster === t.cluster)
        .map((x) => x.id),
    )
  return {
    name: 'upgrade-nodes',
    title: `Upgrade the nodes to Kubernetes ${o.version}`,
    targets: (ctx) => upgradeTargets(ctx),
    fingerprint: (t, ctx) => ({version: o.version, host: t.host, role: t.role, user: inventoryNode(ctx.platform, t).user ?? ctx.platform.ssh.user}),
    // the journal alone never skips a node: its live check settles the node's turn (see ./sequence.ts)
    recheck: true,
    describe: (t) =>
      t.role === 'worker'
        ? `cordon, drain, kubeadm/kubelet/kubectl ${o.version}, kubeadm upgrade node, restart kubelet, wait Ready, uncordon`
        : t.role === 'first-control-plane'
          ? `kubeadm ${o.version}, kubeadm upgrade plan + apply, cordon, drain, kubelet/kubectl, restart kubelet, wait Ready, uncordon`
          : `kubeadm ${o.version}, kubeadm upgrade node, cordon, drain, kubelet/kubectl, restart kubelet, wait Ready, uncordon`,
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    async isDone(t, ctx, io) {
      const s = await seq(ctx, t)
      try {
        await s.turn(t.id, ctx.signal)
        const v = await nodeInState(ctx, t, parseTarget(o.version))
        if (!v) return false
        s.done(t.id)
        io.log(`${t.node} runs ${v}, Ready and schedulable`)
        return {summary: `at ${v}`, report: {cluster: t.cluster, node: t.node, role: t.role, from: v, to: v, steps: []}}
      } catch (e) {
        s.fail(t.id, e)
        throw e
      }
    },
    async run(t, ctx, io) {
      const s = await seq(ctx, t)
      try {
        await s.turn(t.id, ctx.signal)
        const r = await upgradeNode(ctx, t, o, io)
        s.done(t.id)
        return {summary: `${r.from ?? '?'} → ${r.to}`, report: r}
      } catch (e) {
        s.fail(t.id, e)
        throw e
      }
    },
  }
}

export interface UpgradeInventoryReport {
  /** versions.kubernetes or a cluster's own version was written */
  updated: boolean
  /** versions.kubernetes after the phase */
  value: string
  /** clusters not yet at VERSION (versions.kubernetes waits for them) */
  behind: string[]
  /** clusters at VERSION ahead of the others: their own `kubernetes` field, so their new nodes get VERSION */
  ahead: string[]
}

/**
 * Record what the clusters run: once every cluster runs VERSION, versions.kubernetes = VERSION and no cluster
 * keeps a version of its own; until then each cluster at VERSION gets `clusters[].kubernetes: VERSION` (a node
 * added to it installs VERSION, not the fleet's older one).
 */
export function upgradeInventoryPhase(o: UpgradeOptions): Phase<Target, UpgradeInventoryReport> {
  return {
    name: 'upgrade-inventory',
    kubeconfig: 'read',
    title: 'Record the version in the inventory',
    targets: () => [{id: 'versions.kubernetes', title: 'versions.kubernetes'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `in ${ctx.inv.file}: versions.kubernetes = ${o.version} once every cluster runs it; until then clusters[].kubernetes = ${o.version} on each cluster that does`,
    async run(_t, ctx, io) {
      const target = parseTarget(o.version)
      const {loadInventory} = await import('../config/load.js')
      const {removeInventoryValue, setInventoryValue} = await import('../config/edit.js')
      const {clusterKubernetes} = await import('../config/model.js')
      const inv = () => loadInventory(ctx.inv.file)
      const first = inv()
      const d = await drainLib()
      const behind: string[] = []
      const at: string[] = []
      for (const c of first.platform.clusters) {
        try {
          const kube = await kubeOf(ctx, c.name)
          const api = await d.apiServerVersion(kube)
          const old = (await d.listNodes(kube)).filter((n) => !isAt(n.kubeletVersion, target))
          if (!isAt(api, target) || old.length)
            behind.push(`${c.name} (API server ${api}${old.length ? `, ${old.map((n) => `${n.name} ${n.kubeletVersion ?? '?'}`).join(', ')}` : ''})`)
          else at.push(c.name)
        } catch (e) {
          behind.push(`${c.name} (not checked: ${errorMessage(e)})`)
        }
      }
      const current = first.platform.versions.kubernetes
      // recorded facts, not a change of requests or capacity: an overcommit lint finding does not block them
      const opts = {allowOvercommit: true}
      let updated = false
      if (behind.length === 0) {
        if (current !== o.version) {
          await setInventoryValue(inv(), 'versions.kubernetes', JSON.stringify(o.version), opts)
          io.log(`versions.kubernetes: ${current} → ${o.version} in ${ctx.inv.file}`)
          updated = true
        }
        for (const c of first.platform.clusters.filter((x) => x.kubernetes !== undefined)) {
          await removeInventoryValue(inv(), `clusters.${c.name}.kubernetes`, opts)
          io.log(`clusters.${c.name}.kubernetes removed: the cluster runs versions.kubernetes (${o.version})`)
          updated = true
        }
        return {
          summary: updated ? `versions.kubernetes ${current} → ${o.version}` : `versions.kubernetes is ${current}`,
          report: {updated, value: o.version, behind, ahead: []},
        }
      }
      const ahead: string[] = []
      for (const name of at) {
        const c = first.platform.clusters.find((x) => x.name === name)!
        if (clusterKubernetes(first.platform, c) === o.version) continue
        await setInventoryValue(inv(), `clusters.${name}.kubernetes`, JSON.stringify(o.version), opts)
        io.log(`clusters.${name}.kubernetes = ${o.version} in ${ctx.inv.file}: its new nodes get ${o.version}`)
        ahead.push(name)
        updated = true
      }
      io.log(`versions.kubernetes stays ${current}: not yet at ${o.version}: ${behind.join('; ')}`)
      const done = ahead.length ? `; ${ahead.join(', ')} recorded at ${o.version}` : ''
      return {
        summary: `versions.kubernetes stays ${current} until ${behind.map((b) => b.split(' ')[0]).join(', ')} run ${o.version}${done}`,
        report: {updated, value: current, behind, ahead},
      }
    },
  }
}
