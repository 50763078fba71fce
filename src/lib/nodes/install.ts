/**
 * Installing Kubernetes on one node over SSH: preflight, upload, run, verify.
 *
 * Join order: a worker or extra control plane needs its cluster's first control plane initialised.
 * All nodes are targets of the one `nodes` phase, running concurrently; a joining node first asks the
 * control plane itself (`test -f /etc/kubernetes/admin.conf`) and, when it is not initialised yet,
 * waits on a per-cluster promise in RunContext.resources that the first control plane's task settles.
 * Targets are ordered first control planes first, so a --concurrency limit never fills every slot
 * with waiting joiners. Splitting init and join into two phases would serialise every cluster behind
 * the slowest control plane of the fleet; the promise keeps clusters independent.
 */
import {sleepOrInterrupt as sleep, withTimeout} from '../async.js'
import {runClusters} from '../engine/options.js'
import {clusterKubernetes, findCluster, firstControlPlane, nodeLogin, nodeName} from '../config/model.js'
import type {Cluster, ClusterNode, Platform} from '../config/schema.js'
import type {RunContext, Target, TaskIO} from '../engine/types.js'
import {ObsctlError, errorMessage} from '../errors.js'
import {nodeCrypto, sha256} from '../hash.js'
import type {SshConnection} from '../ssh/connection.js'
import type {SshPool} from '../ssh/pool.js'
import {shQuote} from '../shell-quote.js'
import {installMode, installScriptTemplate, kubeadmJoinConfig, parseJoinCommand, renderInstallScript, type JoinInfo} from './script.js'
import {HOME_UPLOAD_DIR, leftoversLine, sweepHome} from './leftovers.js'
import {platformMemo} from '../derived-cache.js'
import {waitReporter} from '../progress.js'
import {pollMs} from '../poll.js'

export interface NodeTarget extends Target {
  cluster: string
  host: string
  /** index in the cluster's nodes */
  index: number
}

/** One target per node, first control planes first (see the join-order note above); `hosts` limits them (`node add`). */
export function nodeTargets(ctx: RunContext, hosts?: string[]): NodeTarget[] {
  const out: NodeTarget[] = []
  const clusters = runClusters(ctx)
  for (const pass of [true, false]) {
    for (const c of clusters) {
      c.nodes.forEach((n, index) => {
        if ((firstControlPlane(c) === n) !== pass) return
        if (hosts && !hosts.includes(n.host)) return
        out.push({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host, index})
      })
    }
  }
  return out
}

export function resolveTarget(p: Platform, t: NodeTarget): {cluster: Cluster; node: ClusterNode} {
  const cluster = findCluster(p, t.cluster)
  const node = cluster?.nodes[t.index]
  if (!cluster || !node || node.host !== t.host) throw new ObsctlError(`target ${t.id} is not in the inventory`, {code: 'UNKNOWN_TARGET'})
  return {cluster, node}
}

/** What, when changed, makes a done node task run again: the rendered script and where it runs. */
export function installFingerprint(p: Platform, t: NodeTarget): unknown {
  const {cluster, node} = resolveTarget(p, t)
  return nodeFingerprints(p, `${t.cluster}\0${t.index}\0${t.host}`, () => {
    const script = renderInstallScript(p, cluster, node, {joinConfigPath: '@JOIN@'})
    return {script: sha256(script), user: node.user ?? p.ssh.user, port: node.port ?? p.ssh.port}
  })
}

// kept between runs (plan asks for every node's; the script renders kubeadm and Cilium YAML)
const nodeFingerprints = platformMemo('node-fingerprints', installScriptTemplate)

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(e: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined)
  return {promise, resolve, reject}
}

const cpKey = (cluster: string) => `nodes:control-plane-ready:${cluster}`

function cpDeferred(ctx: RunContext, cluster: string): Promise<Deferred> {
  return ctx.resources.getOrCreate(cpKey(cluster), () => deferred())
}

/** Options of the nodes phase: how long a node may take to be Ready (--timeout; default 600 s), and the poll interval (tests). */
export interface NodesPhaseOptions {
  readyTimeoutSeconds?: number
  readyPollMs?: number
  /** only these nodes of the run's clusters (`node add`); default: every node */
  hosts?: string[]
}

/** Options of the preflight phase: only these nodes (`node add`); default every node of the run's clusters. */
export interface PreflightPhaseOptions {
  hosts?: string[]
}

function readyTimeoutMs(o: NodesPhaseOptions): number {
  const s = o.readyTimeoutSeconds
  return (s !== undefined && s > 0 ? s : 600) * 1000
}

async function waitForControlPlane(ctx: RunContext, o: NodesPhaseOptions, cluster: Cluster, cp: SshConnection, io: TaskIO): Promise<void> {
  const live = await cp.exec('test -f /etc/kubernetes/admin.conf')
  if (live.code === 0) return
  io.log(`waiting for the control plane ${nodeName(firstControlPlane(cluster))} to be initialised`)
  const d = await cpDeferred(ctx, cluster.name)
  try {
    await withTimeout(d.promise, readyTimeoutMs(o), `control plane of ${cluster.name}`, io.signal)
  } catch (e) {
    if (e instanceof ObsctlError && e.code === 'TIMEOUT') {
      e.hints.push(`the control plane task did not run in this run: obsctl node install ${cluster.name} --restart`)
    }
    throw e
  }
}

/** A fresh join token (and certificate key for control planes), read from the first control plane; never logged. */
async function joinInfo(cp: SshConnection, mode: 'join' | 'join-control-plane', io: TaskIO): Promise<JoinInfo> {
  const r = await cp.sudo('kubeadm token create --print-join-command --ttl 30m', {signal: io.signal})
  if (r.code !== 0) throw new ObsctlError(`kubeadm token create failed on ${cp.label}: ${r.stderr.trim().split('\n').pop()}`, {code: 'JOIN_TOKEN'})
  const info = parseJoinCommand(r.stdout)
  if (mode === 'join-control-plane') {
    const c = await cp.sudo('kubeadm init phase upload-certs --upload-certs', {signal: io.signal})
    const key = /^[0-9a-f]{64}$/m.exec(c.stdout)?.[0]
    if (c.code !== 0 || !key) throw new ObsctlError(`kubeadm init phase upload-certs failed on ${cp.label}`, {code: 'JOIN_CERTS'})
    info.certificateKey = key
  }
  io.log(`obtained a join token from ${cp.label} (valid 30 min; not logged)`)
  return info
}

/**
 * The uploaded join configuration (a join token valid 30 minutes; a certificate key for a control plane) off the
 * node: over the step's connection, or a new one when it was lost. Best effort: a failure (the run's connections
 * closed by Ctrl-C, the node gone) is logged, never thrown over the step's own outcome.
 */
async function removeJoinConfig(pool: SshPool, node: ClusterNode, file: string, io: TaskIO): Promise<void> {
  let why: string
  try {
    const r = await (await pool.get(node)).exec(`rm -f -- ${shQuote(file)}`)
    if (r.code === 0) return
    why = r.stderr.trim() || `rm exit ${r.code ?? r.signal}`
  } catch (e) {
    why = errorMessage(e)
  }
  io.log(`could not remove ${file} from ${nodeName(node)} (${why}): install-k8s.sh removes it when it ends; else remove it by hand`)
}

async function verifyReady(o: NodesPhaseOptions, cp: SshConnection, node: ClusterNode, io: TaskIO): Promise<void> {
  const name = nodeName(node)
  const cmd = `kubectl --kubeconfig /etc/kubernetes/admin.conf get node ${shQuote(name)} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'`
  const deadline = Date.now() + readyTimeoutMs(o)
  const progress = waitReporter(io.log, {timeoutMs: readyTimeoutMs(o), heartbeatMs: 30_000})
  let last: string
  for (;;) {
    const r = await cp.sudo(cmd, {signal: io.signal})
    last = r.code === 0 ? `Ready=${r.stdout.trim() || 'unknown'}` : (r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`)
    if (r.code === 0 && r.stdout.trim() === 'True') {
      io.log(`node ${name} is Ready (kubectl on ${cp.label})`)
      return
    }
    if (Date.now() > deadline) break
    progress({state: `node not Ready yet (${last})`, pending: [name]})
    await sleep(o.readyPollMs ?? pollMs(5000), io.signal)
  }
  throw new ObsctlError(`node ${name} did not become Ready within ${Math.round(readyTimeoutMs(o) / 1000)} s (${last})`, {
    code: 'NODE_NOT_READY',
    hints: [`on the control plane: kubectl describe node ${name}; kubectl -n kube-system get pods -o wide`],
  })
}

export interface InstallResult {
  result: 'installed' | 'already-installed'
  changes: number
}

/** The `nodes` phase's run(): preflight, upload, run, verify. */
export async function installNode(t: NodeTarget, ctx: RunContext, io: TaskIO, o: NodesPhaseOptions = {}): Promise<string> {
  const {cluster, node} = resolveTarget(ctx.platform, t)
  const mode = installMode(cluster, node)
  // loaded when a node is installed, not when a plan describes or fingerprints it
  const [{sshPool}, {checkNode}] = await Promise.all([import('../ssh/pool.js'), import('./preflight.js')])
  const pool = await sshPool(ctx)
  const seen = pool.notices.length
  const cpD = mode === 'init' ? await cpDeferred(ctx, cluster.name) : undefined
  try {
    io.log(`preflight ${node.host}`)
    const pre = await checkNode(pool, ctx.platform, cluster, node)
    for (const n of pool.notices.slice(seen)) io.log(n)
    const failed = pre.checks.filter((c) => c.status === 'fail')
    for (const c of pre.checks) io.log(`preflight ${c.status} ${c.title}: ${c.detail}`)
    if (failed.length > 0) {
      throw new ObsctlError(`preflight failed on ${nodeName(node)}: ${failed.map((c) => `${c.title}: ${c.detail}`).join('; ')}`, {
        code: 'PREFLIGHT',
        hints: [...new Set(failed.map((c) => c.hint).filter((h): h is string => Boolean(h))), `obsctl node preflight ${cluster.name}`],
      })
    }
    const conn = await pool.get(node)
    const cp = mode === 'init' ? conn : await pool.get(firstControlPlane(cluster))

    // upload files of runs killed while they uploaded here (a join configuration holds a token) go first
    const removed = await sweepHome(conn, io.signal)
    if (removed.length > 0) io.log(leftoversLine(removed, conn.label))
    const home = await conn.home()
    const dir = `${home}/${HOME_UPLOAD_DIR}`
    await conn.mkdir(dir, 0o700)
    // the script goes up under its own name, renamed into place (conn.upload): a killed run's script still running on
    // the node reads its own bytes to its end. The join configuration's name is this run's: that script's cleanup
    // (its EXIT trap) removes its own file, never the one this run's script is about to read.
    const scriptPath = `${dir}/install-k8s.sh`
    const joinPath = `${dir}/kubeadm-join-${nodeCrypto().randomBytes(6).toString('hex')}.yaml`
    let joined = false
    let joinFile = false
    let r: Awaited<ReturnType<SshConnection['sudo']>>
    try {
      if (mode !== 'init') {
        joined = (await conn.exec('test -f /etc/kubernetes/kubelet.conf')).code === 0
        if (!joined) {
          await waitForControlPlane(ctx, o, cluster, cp, io)
          const info = await joinInfo(cp, mode, io)
          joinFile = true
          await conn.upload(joinPath, kubeadmJoinConfig(ctx.platform, cluster, node, info), 0o600)
        }
      }
      const script = renderInstallScript(ctx.platform, cluster, node, {joinConfigPath: mode === 'init' || joined ? '' : joinPath})
      await conn.upload(scriptPath, script, 0o700)
      io.log(`uploaded ${scriptPath}; running it as root`)
      r = await conn.sudo(`bash ${shQuote(scriptPath)}`, {log: io.log, signal: io.signal})
    } finally {
      // whatever ended the step (a failed upload, a lost connection, Ctrl-C); the script removes it too when it ends
      if (joinFile) await removeJoinConfig(pool, node, joinPath, io)
    }
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${r.code}`
      throw new ObsctlError(`install-k8s.sh failed on ${nodeName(node)} (exit ${r.code ?? r.signal}): ${why}`, {
        code: 'INSTALL_FAILED',
        hints: [`full output: ${io.logFile}`, 'fix the cause and rerun: finished steps are skipped'],
      })
    }
    const m = /OBSCTL_RESULT=(installed|already-installed) changes=(\d+)/.exec(r.stdout)
    const res: InstallResult = {result: (m?.[1] as InstallResult['result']) ?? 'installed', changes: Number(m?.[2] ?? 0)}
    cpD?.resolve()
    await verifyReady(o, cp, node, io)
    return res.result === 'already-installed' ? `already installed, Ready` : `installed (${res.changes} change${res.changes === 1 ? '' : 's'}), Ready`
  } catch (e) {
    cpD?.reject(e instanceof ObsctlError ? new ObsctlError(`control plane ${nodeName(node)} failed: ${e.message}`, {code: 'CONTROL_PLANE_FAILED'}) : e)
    throw e
  }
}

export function describeInstall(t: NodeTarget, ctx: RunContext): string {
  const {cluster, node} = resolveTarget(ctx.platform, t)
  const mode = installMode(cluster, node)
  const what = mode === 'init' ? 'kubeadm init + Cilium' : mode === 'join' ? `join ${cluster.name} as worker` : `join ${cluster.name} as control plane`
  return `ssh ${nodeLogin(ctx.platform, node)}: upload install-k8s.sh (Kubernetes ${clusterKubernetes(ctx.platform, cluster)}, ${what}), run it with sudo, wait for Ready`
}
