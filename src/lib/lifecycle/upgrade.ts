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
 *   killed upgrade resumes at the node it was on.
 * - `upgrade-inventory`: versions.kubernetes is set to VERSION once every cluster of the inventory runs it
 *   (the field is the fleet's); until then it says which clusters still run an older version.
 */
import {nodeName} from '../config/model.js'
import type {Cluster, ClusterNode, Platform} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target, TaskIO} from '../engine/types.js'
import {ObsctlError, errorMessage} from '../errors.js'
import type {SshConnection} from '../ssh/connection.js'
import {shQuote} from '../ssh/connection.js'
import {sequenceOf, type Sequence} from './sequence.js'
import {compareVersions, formatVersion, isAt, minorOf, parseTarget, parseVersion, stepProblem, type Version} from './versions.js'

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

export interface UpgradePreflightReport {
  cluster: string
  apiServer: string
  target: string
  nodes: {name: string; kubelet?: string; ready: boolean}[]
  upToDate: boolean
}

const kubeOf = async (ctx: RunContext, cluster: string) => (await import('../kube/run.js')).kubeForCluster(ctx, cluster)
const drainLib = () => import('../kube/drain.js')

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
    upgradeOrder(c).map(({node, role}) => ({id: `${c.name}/${node.host}`, title: `${c.name}/${nodeName(node)} (${role.replaceAll('-', ' ')})`, cluster: c.name, host: node.host, node: nodeName(node), role})),
  )
}

function clusterOf(p: Platform, name: string): Cluster {
  const c = p.clusters.find((x) => x.name === name)
  if (!c) throw new ObsctlError(`cluster ${name} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return c
}

function inventoryNode(p: Platform, t: UpgradeNodeTarget): ClusterNode {
  const n = clusterOf(p, t.cluster).nodes.find((x) => x.host === t.host)
  if (!n) throw new ObsctlError(`node ${t.id} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return n
}

/** The package repository of a minor: pkgs.k8s.io, or ssh.aptMirror (same layout). */
export function packageBaseFor(p: Platform, minor: string): string {
  return `${(p.ssh.aptMirror ?? 'https://pkgs.k8s.io').replace(/\/+$/, '')}/core:/stable:/v${minor}`
}

/** The proxy the install script uses, for commands run on the node. */
function proxyEnv(p: Platform): string {
  const x = p.ssh.proxy
  if (!x) return ''
  const https = x.https ?? x.http
  const parts = [x.http && `http_proxy=${shQuote(x.http)} HTTP_PROXY=${shQuote(x.http)}`, https && `https_proxy=${shQuote(https)} HTTPS_PROXY=${shQuote(https)}`, x.noProxy && `no_proxy=${shQuote(x.noProxy)} NO_PROXY=${shQuote(x.noProxy)}`]
  return `export ${parts.filter(Boolean).join(' ')}; `
}

/** Run as root on the node; its output goes to the task log; a failure is an error naming the step. */
async function root(conn: SshConnection, step: string, command: string, io: TaskIO, code = 'UPGRADE_STEP'): Promise<string> {
  const r = await conn.sudo(command, {log: io.log, signal: io.signal})
  if (r.code !== 0) {
    const why = `${r.stderr}\n${r.stdout}`.trim().split('\n').filter(Boolean).pop() ?? `exit ${r.code}`
    throw new ObsctlError(`${step} failed on ${conn.label} (exit ${r.code ?? r.signal}): ${why}`, {code, hints: [`full output: ${io.logFile}`, 'fix the cause and rerun: finished nodes and steps are skipped']})
  }
  return r.stdout
}

async function packageManager(conn: SshConnection): Promise<'apt' | 'dnf'> {
  const r = await conn.exec('command -v apt-get >/dev/null 2>&1 && echo apt || { command -v dnf >/dev/null 2>&1 && echo dnf; }')
  const pm = r.stdout.trim()
  if (pm !== 'apt' && pm !== 'dnf') throw new ObsctlError(`${conn.label}: neither apt-get nor dnf found`, {code: 'UPGRADE_STEP'})
  return pm
}

/** Point the node's Kubernetes repository at the target minor (the repositories of pkgs.k8s.io are per minor). */
async function switchRepository(conn: SshConnection, p: Platform, pm: 'apt' | 'dnf', minor: string, io: TaskIO): Promise<void> {
  const base = packageBaseFor(p, minor)
  const script =
    pm === 'apt'
      ? `set -eo pipefail; ${proxyEnv(p)}want=${shQuote(`deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${base}/deb/ /`)}
if [ "$(cat /etc/apt/sources.list.d/kubernetes.list 2>/dev/null)" != "$want" ]; then
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL ${shQuote(`${base}/deb/Release.key`)} | gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  printf '%s\\n' "$want" >/etc/apt/sources.list.d/kubernetes.list
  echo "repository: ${base}"
fi
apt-get update -q`
      : `set -eo pipefail; cat >/etc/yum.repos.d/kubernetes.repo <<'EOF'
[kubernetes]
name=Kubernetes ${minor}
baseurl=${base}/rpm/
enabled=1
gpgcheck=1
gpgkey=${base}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
EOF
echo "repository: ${base}"`
  await root(conn, `switching the Kubernetes package repository to ${minor}`, script, io, 'UPGRADE_REPOSITORY')
}

/** The package version of `version` in the node's repository (its newest patch for a minor-only target). */
async function resolvePackage(conn: SshConnection, pm: 'apt' | 'dnf', target: Version, io: TaskIO): Promise<{version: string; pin: string}> {
  const want = formatVersion(target)
  if (pm === 'dnf') {
    if (target.patch === undefined) {
      const out = await root(conn, 'listing kubeadm versions', `dnf list --showduplicates -q --disableexcludes=kubernetes kubeadm | awk '{print $2}' | grep '^${minorOf(target)}\\.' | sort -V | tail -1`, io)
      const v = parseVersion(out.trim())
      if (!v?.patch && v?.patch !== 0) throw new ObsctlError(`no kubeadm ${want} in the repository of ${conn.label}`, {code: 'UPGRADE_PACKAGE'})
      return {version: formatVersion(v), pin: out.trim()}
    }
    return {version: want, pin: want}
  }
  const out = await root(conn, 'apt-cache madison kubeadm', `apt-cache madison kubeadm | awk -v v=${shQuote(want)} '{ if (index($3, v ".") == 1 || index($3, v "-") == 1) { print $3; exit } }'`, io)
  const pin = out.trim()
  const v = parseVersion(pin)
  if (!pin || !v || v.patch === undefined) throw new ObsctlError(`no kubeadm ${want} in the package repository of ${conn.label} (apt-cache madison kubeadm)`, {code: 'UPGRADE_PACKAGE', hints: ['check the version exists on pkgs.k8s.io (or ssh.aptMirror)']})
  return {version: formatVersion(v), pin}
}

async function installedVersion(conn: SshConnection, what: 'kubeadm' | 'kubelet'): Promise<string | undefined> {
  const r = await conn.exec(what === 'kubeadm' ? 'kubeadm version -o short 2>/dev/null' : 'kubelet --version 2>/dev/null')
  return /v\d+\.\d+\.\d+/.exec(r.stdout)?.[0]
}

async function installPackages(conn: SshConnection, pm: 'apt' | 'dnf', pkgs: string[], pin: string, io: TaskIO): Promise<void> {
  const names = pkgs.join(' ')
  const cmd =
    pm === 'apt'
      ? `set -e; apt-mark unhold ${names} >/dev/null; apt-get install -y -q --allow-change-held-packages ${pkgs.map((p) => `${p}=${pin}`).join(' ')}; apt-mark hold ${names}`
      : `dnf install -y -q --disableexcludes=kubernetes ${pkgs.map((p) => `${p}-${pin}*`).join(' ')}`
  await root(conn, `installing ${names} ${pin}`, cmd, io, 'UPGRADE_PACKAGE')
}

export interface UpgradeNodesState {
  target: Version
  seq: Sequence
}

function timeouts(o: UpgradeOptions) {
  const s = (v: number | undefined) => (v !== undefined && v > 0 ? v : 600) * 1000
  return {drainMs: s(o.drainTimeoutSeconds), readyMs: s(o.readyTimeoutSeconds), pollMs: o.pollMs}
}

/** Is the node where the upgrade leaves it: kubelet at the target, Ready, schedulable (and the API server at the target, for the first control plane)? */
async function nodeInState(ctx: RunContext, t: UpgradeNodeTarget, target: Version): Promise<string | undefined> {
  const kube = await kubeOf(ctx, t.cluster)
  const {nodeState, apiServerVersion} = await drainLib()
  const s = await nodeState(kube, t.node)
  if (!s.exists || !s.ready || s.unschedulable || !isAt(s.kubeletVersion, target)) return undefined
  if (t.role === 'first-control-plane' && !isAt(await apiServerVersion(kube), target)) return undefined
  return s.kubeletVersion
}

async function upgradeNode(ctx: RunContext, t: UpgradeNodeTarget, o: UpgradeOptions, io: TaskIO): Promise<UpgradeNodeReport> {
  const target = parseTarget(o.version)
  const {drainLimits, steps, kube, conn, pm, cluster} = await (async () => {
    const {sshPool} = await import('../ssh/pool.js')
    const node = inventoryNode(ctx.platform, t)
    const c = await (await sshPool(ctx)).get(node)
    return {drainLimits: timeouts(o), steps: [] as string[], kube: await kubeOf(ctx, t.cluster), conn: c, pm: await packageManager(c), cluster: clusterOf(ctx.platform, t.cluster)}
  })()
  const d = await drainLib()
  const step = (s: string) => {
    steps.push(s)
    io.log(`== ${s}`)
  }
  const before = await d.nodeState(kube, t.node)
  if (!before.exists) throw new ObsctlError(`Node ${t.node} is not in cluster ${t.cluster}`, {code: 'NODE_NOT_FOUND', hints: ['obsctl node add registers a node; nodes[].name must be its Kubernetes node name']})

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
    if (!api || !isAt(`v${formatVersion(api)}`, target)) throw new ObsctlError(`the API server of ${t.cluster} does not run ${formatVersion(target)} yet`, {code: 'UPGRADE_ORDER', hints: ['the first control plane is upgraded first: rerun, it resumes there']})
    version = formatVersion(api)
    pin = ''
  }
  const vTag = `v${version}`
  const kubeadmStep = async () => {
    if ((await installedVersion(conn, 'kubeadm')) === vTag) return io.log(`kubeadm ${vTag} already installed`)
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
    } else io.log(`kubelet ${vTag} already installed`)
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
    if ((await installedVersion(conn, 'kubeadm')) !== vTag || (await installedVersion(conn, 'kubelet')) !== vTag) {
      step(`kubeadm, kubelet, kubectl packages ${version}`)
      await installPackages(conn, pm, ['kubeadm', 'kubelet', 'kubectl'], pin, io)
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

export function upgradePreflightPhase(o: UpgradeOptions): Phase<Target, UpgradePreflightReport> {
  return {
    name: 'upgrade-preflight',
    title: `Preflight for Kubernetes ${o.version}`,
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name})),
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `one minor step to ${o.version}, kubelets no newer than the API server, every node Ready, etcd healthy, ${packageBaseFor(ctx.platform, minorOf(parseTarget(o.version)))} reachable from every node (read-only)`,
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
      const etcd = await d.etcdProblem(kube)
      if (etcd) problems.push(`etcd: ${etcd}`)
      else io.log('etcd: healthy')
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
          hints: ['nothing was changed; fix these and rerun', ctx.platform.ssh.aptMirror ? 'the package repository is ssh.aptMirror' : 'behind a firewall, ssh.aptMirror names a mirror of pkgs.k8s.io'],
        })
      }
      return {
        summary: upToDate ? `already at ${o.version}` : `${apiRaw} → ${o.version}: ${c.nodes.length} node(s) ready`,
        report: {cluster: c.name, apiServer: apiRaw, target: o.version, nodes: nodes.map((n) => ({name: n.name, kubelet: n.kubeletVersion, ready: n.ready})), upToDate},
      }
    },
  }
}

export function upgradeNodesPhase(o: UpgradeOptions): Phase<UpgradeNodeTarget, UpgradeNodeReport> {
  const seq = (ctx: RunContext, t: UpgradeNodeTarget) => sequenceOf(ctx, 'upgrade-nodes', t.cluster, () => upgradeTargets(ctx).filter((x) => x.cluster === t.cluster).map((x) => x.id))
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
  updated: boolean
  value: string
  /** clusters not yet at VERSION (versions.kubernetes waits for them) */
  behind: string[]
}

export function upgradeInventoryPhase(o: UpgradeOptions): Phase<Target, UpgradeInventoryReport> {
  return {
    name: 'upgrade-inventory',
    title: 'Record the version in the inventory',
    targets: () => [{id: 'versions.kubernetes', title: 'versions.kubernetes'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `set versions.kubernetes to ${o.version} in ${ctx.inv.file} once every cluster of the inventory runs it`,
    async run(_t, ctx, io) {
      const target = parseTarget(o.version)
      const {loadInventory} = await import('../config/load.js')
      const {setInventoryValue} = await import('../config/edit.js')
      const inv = loadInventory(ctx.inv.file)
      const d = await drainLib()
      const behind: string[] = []
      for (const c of inv.platform.clusters) {
        try {
          const kube = await kubeOf(ctx, c.name)
          const api = await d.apiServerVersion(kube)
          const old = (await d.listNodes(kube)).filter((n) => !isAt(n.kubeletVersion, target))
          if (!isAt(api, target) || old.length) behind.push(`${c.name} (API server ${api}${old.length ? `, ${old.map((n) => `${n.name} ${n.kubeletVersion ?? '?'}`).join(', ')}` : ''})`)
        } catch (e) {
          behind.push(`${c.name} (not checked: ${errorMessage(e)})`)
        }
      }
      const current = inv.platform.versions.kubernetes
      if (behind.length) {
        io.log(`versions.kubernetes stays ${current}: not yet at ${o.version}: ${behind.join('; ')}`)
        return {summary: `versions.kubernetes stays ${current} until ${behind.map((b) => b.split(' ')[0]).join(', ')} run ${o.version}`, report: {updated: false, value: current, behind}}
      }
      if (current === o.version) return {summary: `versions.kubernetes is ${current}`, report: {updated: false, value: current, behind}}
      // a recorded fact, not a change of requests or capacity: an overcommit lint finding does not block it
      await setInventoryValue(inv, 'versions.kubernetes', JSON.stringify(o.version), {allowOvercommit: true})
      io.log(`versions.kubernetes: ${current} → ${o.version} in ${inv.file}`)
      return {summary: `versions.kubernetes ${current} → ${o.version}`, report: {updated: true, value: o.version, behind}}
    },
  }
}
