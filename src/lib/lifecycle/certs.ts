/**
 * kubeadm certificates on day 2 (issue 15): how long every certificate of each control-plane node and
 * the admin client certificate of the merged kubeconfig are still valid, and their renewal.
 *
 * The certificates themselves are read (not `kubeadm certs check-expiration`'s table, whose layout is
 * not an API): over SSH as root, every `/etc/kubernetes/pki/**.crt` and the client-certificate-data of
 * the kubeconfig files kubeadm writes (admin, super-admin, controller-manager, scheduler; never their
 * keys: only that one field leaves the node). They are parsed with node:crypto's X509Certificate
 * (OpenSSL's parser, as the platform CA code does).
 *
 * Phases (registered in ../flows/registry.ts):
 * - `certs-check`: one task per cluster, read only; a node that cannot be read is reported (a check that
 *   could not measure fails the command), never skipped. Beside the files, what each control plane's
 *   kube-apiserver serves (./certs-served.ts, one handshake from the node): another certificate than its
 *   apiserver.crt is at least a warning (its own dates decide beyond: expired fails), one that cannot be
 *   reached or fails verification otherwise is not measured (fails).
 * - `certs-renew`: one task per control-plane node, one node at a time: `kubeadm certs renew all`,
 *   then each control-plane static pod restarted (./static-pods.ts), then the certificates read back
 *   (a leaf that still expires within the warning window fails the task), then what kube-apiserver
 *   serves checked against the renewed apiserver.crt (./certs-served.ts: a TLS connection from the node
 *   to its own address and the API server port; a restart that did not take fails the task). The certs renew flow follows
 *   it with the `kubeconfig` phase, which merges the renewed admin.conf.
 *   Resumable per node (see renewOf): a renew of a cluster that a kill or a failure left unfinished is
 *   taken up again by the next run, which skips the nodes it already renewed; once every node and the
 *   kubeconfig were done, the next run is a new renew of every node.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {apiServerPort, controlPlaneNodes, findCluster, kubeUserName, nodeLogin, nodeName, obsctlDir} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import type {Cluster, ClusterNode} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import {StateStore} from '../engine/state.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {lockPathFor, withFileLock} from '../file-lock.js'
import {writeFileAtomic} from '../fs.js'
import {chainFileFor} from '../kube/kubeconfig/chain.js'
import {kubeconfigFiles, resolveKubeconfigPath} from '../platform/kube.js'
import {
  WARN_DAYS,
  daysLeftOf,
  kubeconfigCert,
  readNodeCerts,
  soonestOf,
  statusOf,
  worst,
  type CertInfo,
  type CertsClusterReport,
  type NodeCerts,
  type Soonest,
} from './certs-read.js'
import {rootStep} from '../nodes/lock.js'
import {
  checkServedApiserver,
  describeId,
  measureServedApiserver,
  servedFinding,
  type NodeShell,
  type ServedCert,
  type ServedMeasure,
  type ServedReport,
} from './certs-served.js'
import {CONTROL_PLANE_PODS, restartStaticPod, unparkAll} from './static-pods.js'

export * from './certs-read.js'

// ---------------------------------------------------------------------------------------------
// phases

export interface ClusterTarget extends Target {
  cluster: string
}

export interface CpNodeTarget extends Target {
  cluster: string
  host: string
}

function clusterOf(ctx: RunContext, name: string): Cluster {
  const c = findCluster(ctx.platform, name)
  if (!c) throw inputError(`cluster ${name} is not in the inventory`, [`clusters: ${ctx.platform.clusters.map((x) => x.name).join(', ')}`], 'UNKNOWN_CLUSTER')
  return c
}

function cpNode(ctx: RunContext, t: CpNodeTarget): {cluster: Cluster; node: ClusterNode} {
  const cluster = clusterOf(ctx, t.cluster)
  const node = controlPlaneNodes(cluster).find((n) => n.host === t.host)
  if (!node) throw new ObsctlError(`${t.host} is not a control-plane node of ${t.cluster} in the inventory`, {code: 'UNKNOWN_TARGET'})
  return {cluster, node}
}

async function rootShell(ctx: RunContext, node: ClusterNode): Promise<NodeShell> {
  const {sshPool} = await import('../ssh/pool.js')
  return (await sshPool(ctx)).get(node)
}

export interface CertsCheckOptions {
  /** the time certificates are measured against (tests) */
  now?: number
  /** how long the handshake with each kube-apiserver may take (default 10 s; it is not waited for: a refusal is a finding at once) */
  servedTimeoutMs?: number
}

const problemOf = (e: unknown): NonNullable<ServedReport['problem']> =>
  e instanceof ObsctlError ? {message: e.message, code: e.code, hints: e.hints ?? []} : {message: errorMessage(e), hints: []}

/**
 * What the node's kube-apiserver serves, one handshake from the node (../lifecycle/certs-served.ts), judged as the
 * check judges certificates (see ServedReport.status). Never throws but for an interrupt.
 */
async function servedReport(
  conn: NodeShell,
  host: string,
  port: number,
  o: {cluster: string; now: number; timeoutMs: number; signal?: AbortSignal},
): Promise<ServedReport> {
  let m: ServedMeasure
  try {
    m = await measureServedApiserver(conn, host, port, {timeoutMs: o.timeoutMs, signal: o.signal, once: true})
  } catch (e) {
    if (o.signal?.aborted) throw e
    return {endpoint: `${host}:${port}`, status: 'error', problem: problemOf(e)}
  }
  const finding = servedFinding(m, conn.label, {cluster: o.cluster, after: 'check'})
  const problem = finding ? problemOf(finding) : undefined
  if ('verifyError' in m) {
    // clients get what fails verification: an expired one is expired, anything else not trusted (a failure)
    const status = /^CERT_HAS_EXPIRED\b/.test(m.verifyError) ? 'expired' : 'error'
    return {endpoint: m.endpoint, file: m.file, sameAsFile: m.fileProblem ? undefined : false, verifyError: m.verifyError, status, problem}
  }
  const {endpoint, ...id} = m.served
  const notAfter = new Date(id.notAfter)
  const own = statusOf(notAfter, o.now)
  return {
    endpoint,
    cert: {...id, daysLeft: daysLeftOf(notAfter, o.now), status: own},
    file: m.file,
    sameAsFile: m.same,
    // another certificate than the file: a finding even while it is valid (the next restart changes what clients get)
    status: m.same || own !== 'ok' ? own : 'warn',
    problem,
  }
}

const servedLog = (s: ServedReport) =>
  s.cert
    ? `kube-apiserver at ${s.endpoint} serves ${describeId(s.cert)} (${s.cert.daysLeft} days)${s.sameAsFile ? ': its apiserver.crt' : ''}${s.problem ? `: ${s.problem.message}` : ''}`
    : `kube-apiserver at ${s.endpoint}: ${s.problem?.message ?? s.status}`

/** Read every certificate of one cluster: each control-plane node (over SSH) and the kubeconfig's admin user. */
export async function checkClusterCerts(
  ctx: RunContext,
  c: Cluster,
  o: CertsCheckOptions = {},
  log: (l: string) => void = () => undefined,
): Promise<CertsClusterReport> {
  const now = o.now ?? Date.now()
  const nodes = await Promise.all(
    controlPlaneNodes(c).map(async (n): Promise<NodeCerts> => {
      try {
        const conn = await rootShell(ctx, n)
        const certs = await readNodeCerts(conn, now, ctx.signal)
        for (const x of certs) log(`${nodeName(n)} ${x.name}: ${x.status} (${x.daysLeft} days, until ${x.notAfter})`)
        const served = await servedReport(conn, n.host, apiServerPort(c), {
          cluster: c.name,
          now,
          timeoutMs: o.servedTimeoutMs ?? 10_000,
          signal: ctx.signal,
        })
        log(`${nodeName(n)} ${servedLog(served)}`)
        return {node: nodeName(n), host: n.host, certs, served}
      } catch (e) {
        if (ctx.signal.aborted) throw e
        log(`${nodeName(n)}: ${errorMessage(e)}`)
        return {node: nodeName(n), host: n.host, certs: [], error: errorMessage(e)}
      }
    }),
  )
  // the first $KUBECONFIG file that names the user, as kubectl reads a chain
  const kubeconfig = kubeconfigCert(chainFileFor(kubeconfigFiles(ctx.kubeconfig, {read: true}), 'users', kubeUserName(c)), c, now)
  log(kubeconfig.cert ? `kubeconfig ${kubeconfig.user}: ${kubeconfig.cert.status} (${kubeconfig.cert.daysLeft} days)` : `kubeconfig: ${kubeconfig.error}`)
  return {cluster: c.name, nodes, kubeconfig, soonest: soonestOf(nodes, kubeconfig), status: worst(nodes, kubeconfig)}
}

export function certsCheckPhase(o: CertsCheckOptions = {}): Phase<ClusterTarget, CertsClusterReport> {
  return {
    name: 'certs-check',
    kubeconfig: 'read',
    title: 'Certificate expiry per cluster',
    targets: (ctx) =>
      runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${controlPlaneNodes(c).length} control plane(s) + kubeconfig)`})),
    // read only and always measured again (commands run it with restart)
    fingerprint: (t) => ({cluster: t.cluster}),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    describe: (t, ctx) => {
      const c = clusterOf(ctx, t.cluster)
      return `read /etc/kubernetes/pki/**.crt and the kubeconfig client certificates on ${controlPlaneNodes(c)
        .map((n) => n.host)
        .join(
          ', ',
        )} (sudo), and what kube-apiserver serves at each one's address and port ${apiServerPort(c)} (a TLS handshake from the node through its sshd, compared with its apiserver.crt); the ${kubeUserName(t.cluster)} certificate in ${resolveKubeconfigPath(ctx.kubeconfig)}`
    },
    async run(t, ctx, io) {
      const r = await checkClusterCerts(ctx, clusterOf(ctx, t.cluster), o, (l) => io.log(l))
      const s = r.soonest
      return {summary: `${r.status}${s ? `; soonest ${s.name} on ${s.where} in ${s.daysLeft} days` : ''}`, report: r}
    },
  }
}

export interface CertsRenewOptions {
  /** how long each static pod may take to stop or start (default 300 s) */
  podTimeoutMs?: number
  /** poll interval of the container runtime (default 1 s) */
  pollMs?: number
}

export interface CertsRenewReport {
  cluster: string
  node: string
  host: string
  /** the soonest non-CA expiry before and after */
  before?: string
  after: string
  renewed: string[]
  restarted: string[]
  /**
   * what kube-apiserver serves after the restarts (from the node): the renewed apiserver.crt. Absent from a
   * node the journal kept from a renew made before obsctl checked it.
   */
  served?: ServedCert
  /** the renew this node was renewed in: the id of the run that began it (a resumed renew keeps it) */
  renew: string
}

const CERTS_RENEW_PHASE = 'certs-renew'

/**
 * The renew a run of `certs renew` carries on in a cluster: the one the journal shows unfinished, else a
 * new one (this run's id). Unfinished: some control-plane node was renewed in it (its record is done with
 * that renew in its report) while another one was not, or the kubeconfig was not merged after its last
 * node. A task's fingerprint holds the renew, so the engine skips a node done in the same renew and runs
 * one done in an earlier, finished renew. Read from the journal on disk once per run and cluster, before
 * the run records any task of this phase (the run holds the lock, so nothing else writes it meanwhile).
 */
export function renewOf(ctx: RunContext, cluster: string): Promise<string> {
  return ctx.resources.getOrCreate(`certs-renew:renew:${cluster}`, () => {
    const state = StateStore.load(ctx.stateDir, ctx.inv.file)
    const done = controlPlaneNodes(clusterOf(ctx, cluster)).map((n) => {
      const rec = state.get(CERTS_RENEW_PHASE, `${cluster}/${n.host}`)
      return rec?.status === 'done' ? {renew: (rec.report as Partial<CertsRenewReport> | undefined)?.renew, endedAt: rec.endedAt ?? ''} : undefined
    })
    // run ids begin with their ISO start time: the newest sorts last
    const last = done
      .map((d) => d?.renew)
      .filter((r): r is string => typeof r === 'string')
      .sort()
      .at(-1)
    if (!last) return ctx.runId
    const allNodes = done.every((d) => d?.renew === last)
    const lastNodeEnd = done.reduce((m, d) => (d?.renew === last && d.endedAt > m ? d.endedAt : m), '')
    const kc = state.get('kubeconfig', cluster)
    const merged = kc?.status === 'done' && (kc.endedAt ?? '') >= lastNodeEnd
    return allNodes && merged ? ctx.runId : last
  })
}

/** Non-CA certificates: the ones `kubeadm certs renew all` renews. */
const leaves = (certs: CertInfo[]) => certs.filter((c) => !c.ca)
const soonestLeaf = (certs: CertInfo[]) => leaves(certs).sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter))[0]

export function certsRenewPhase(o: CertsRenewOptions = {}): Phase<CpNodeTarget, CertsRenewReport> {
  return {
    name: CERTS_RENEW_PHASE,
    title: 'Renew kubeadm certificates, one control-plane node at a time',
    targets: (ctx) =>
      runClusters(ctx).flatMap((c) =>
        controlPlaneNodes(c).map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host})),
      ),
    // one node of the whole run at a time: a control plane never loses two API servers at once
    concurrency: 1,
    // the journal is trusted within one renew: a node done in it is skipped by the rerun
    fingerprint: async (t, ctx) => ({cluster: t.cluster, host: t.host, renew: await renewOf(ctx, t.cluster)}),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    describe: (t, ctx) =>
      `ssh ${nodeLogin(ctx.platform, cpNode(ctx, t).node)}: kubeadm certs renew all; restart ${CONTROL_PLANE_PODS.join(', ')} one at a time (manifest moved out of /etc/kubernetes/manifests until crictl shows the container gone, then back until a new container runs); read the certificates back; check that kube-apiserver at ${t.host}:${apiServerPort(clusterOf(ctx, t.cluster))} (a TLS connection from the node through its sshd) serves the renewed apiserver.crt`,
    async run(t, ctx, io) {
      const {cluster, node} = cpNode(ctx, t)
      const conn = await rootShell(ctx, node)
      const wait = {timeoutMs: o.podTimeoutMs, intervalMs: o.pollMs, signal: ctx.signal, log: (l: string) => io.log(l)}
      // a run killed between the two moves left a manifest parked: the node is made whole first
      await unparkAll(conn, wait)
      const before = soonestLeaf(await readNodeCerts(conn, Date.now(), ctx.signal))
      io.log(`before: soonest ${before ? `${before.name} until ${before.notAfter}` : '(none)'}`)
      const out = await rootStep(conn, 'kubeadm certs renew all', 'kubeadm certs renew all', {log: (l) => io.log(l), signal: ctx.signal, code: 'CERTS_RENEW'})
      const renewed = out
        .split('\n')
        .map((l) => /^certificate(?: embedded in the kubeconfig file for the)? (\S+) renewed/.exec(l.trim())?.[1])
        .filter((x): x is string => Boolean(x))
      const restarted: string[] = []
      for (const pod of CONTROL_PLANE_PODS) {
        await restartStaticPod(conn, pod, wait)
        restarted.push(pod)
      }
      const now = Date.now()
      const after = await readNodeCerts(conn, now, ctx.signal)
      const stale = leaves(after).filter((c) => c.status !== 'ok')
      if (stale.length > 0) {
        throw new ObsctlError(
          `after kubeadm certs renew all on ${conn.label}, ${stale.map((c) => `${c.name} (until ${c.notAfter})`).join(', ')} still expire within ${WARN_DAYS} days`,
          {
            code: 'CERTS_NOT_RENEWED',
            hints: ['check the node: sudo kubeadm certs check-expiration', 'certificates signed by an external CA are renewed by that CA, not kubeadm'],
          },
        )
      }
      const s = soonestLeaf(after)!
      io.log(`after: soonest ${s.name} until ${s.notAfter}`)
      // the files are renewed; the API server that restarted must serve them (a restart that did not take serves the old one)
      const {served} = await checkServedApiserver(conn, node.host, apiServerPort(cluster), {
        cluster: cluster.name,
        timeoutMs: o.podTimeoutMs ?? 300_000,
        intervalMs: o.pollMs,
        signal: ctx.signal,
        log: (l) => io.log(l),
      })
      return {
        summary: `renewed (${s.name} now until ${s.notAfter.slice(0, 10)}); restarted ${restarted.join(', ')}; kube-apiserver serves the renewed certificate`,
        report: {
          cluster: cluster.name,
          node: nodeName(node),
          host: node.host,
          before: before?.notAfter,
          after: s.notAfter,
          renewed,
          restarted,
          served,
          renew: await renewOf(ctx, t.cluster),
        },
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// the record `obsctl status` reads

export interface CertsRecord {
  at: string
  clusters: Record<string, {status: CertsClusterReport['status']; soonest?: Soonest}>
}

export const certsRecordFile = (inv: LoadedInventory) => path.join(obsctlDir(inv.dir), 'certs.json')

/**
 * Keep the last check's soonest expiry per cluster (merged: a check of one cluster keeps the others), holding
 * `certs.json.lock` from the read to the write (../file-lock.ts): it is written after the run lock is released, so
 * two checks of different clusters may end together, and both are kept.
 */
export async function recordCerts(inv: LoadedInventory, reports: CertsClusterReport[], at = new Date()): Promise<void> {
  const {ensurePrivateDir} = await import('../fs.js')
  ensurePrivateDir(obsctlDir(inv.dir))
  const file = certsRecordFile(inv)
  await withFileLock(lockPathFor(file), async () => {
    const prev = lastCerts(inv)
    // a newer obsctl's keys are kept: at the top, and on the clusters this check did not cover
    const rec: CertsRecord = {...prev, at: at.toISOString(), clusters: {...prev?.clusters}}
    for (const r of reports) rec.clusters[r.cluster] = {status: r.status, soonest: r.soonest}
    await writeFileAtomic(file, `${JSON.stringify(rec, null, 2)}\n`)
  })
}

export function lastCerts(inv: LoadedInventory): CertsRecord | undefined {
  try {
    return JSON.parse(readFileSync(certsRecordFile(inv), 'utf8')) as CertsRecord
  } catch {
    return undefined
  }
}
