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
 *   could not measure fails the command), never skipped.
 * - `certs-renew`: one task per control-plane node, one node at a time: `kubeadm certs renew all`,
 *   then each control-plane static pod restarted (./static-pods.ts), then the certificates read back
 *   (a leaf that still expires within the warning window fails the task). The certs renew flow follows
 *   it with the `kubeconfig` phase, which merges the renewed admin.conf.
 */
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parse as parseYaml} from 'yaml'
import {controlPlaneNodes, findCluster, kubeUserName, nodeName, obsctlDir} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import type {Cluster, ClusterNode} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {writeFileAtomic} from '../fs.js'
import {resolveKubeconfigPath} from '../platform/kube.js'
import {CONTROL_PLANE_PODS, restartStaticPod, rootRun, unparkAll, type RootShell} from './static-pods.js'

/** A certificate that expires within this many days is a warning (kubeadm renews on upgrade; obsctl certs renew otherwise). */
export const WARN_DAYS = 30
const DAY_MS = 24 * 60 * 60 * 1000

export type ExpiryStatus = 'ok' | 'warn' | 'expired'

export interface CertInfo {
  /** kubeadm's name: apiserver, etcd-server, admin.conf, … */
  name: string
  /** where it was read: /etc/kubernetes/pki/apiserver.crt, or the kubeconfig file and user */
  file: string
  subject: string
  issuer: string
  /** a certificate authority (kubeadm's CAs live 10 years; `certs renew` does not renew them) */
  ca: boolean
  notBefore: string
  notAfter: string
  /** whole days left (negative once expired) */
  daysLeft: number
  status: ExpiryStatus
}

export interface NodeCerts {
  node: string
  host: string
  certs: CertInfo[]
  /** why this node's certificates could not be read (the check then fails) */
  error?: string
}

export interface KubeconfigCert {
  file: string
  user: string
  cert?: CertInfo
  /** not measurable: no such user, no client certificate, unreadable */
  error?: string
}

export interface Soonest {
  name: string
  /** node name, or `kubeconfig` */
  where: string
  notAfter: string
  daysLeft: number
  status: ExpiryStatus
}

export interface CertsClusterReport {
  cluster: string
  nodes: NodeCerts[]
  kubeconfig: KubeconfigCert
  soonest?: Soonest
  /** worst of every certificate; `error` when something could not be read */
  status: ExpiryStatus | 'error'
}

// ---------------------------------------------------------------------------------------------
// parsing

/** OpenSSL prints `Dec  2 10:56:47 2027 GMT` (X509Certificate.validTo on Node 20; validToDate is Node 22). */
function certDate(s: string, what: string): Date {
  const t = Date.parse(s)
  if (!/ GMT$/.test(s) || Number.isNaN(t)) throw new Error(`${what}: unreadable date ${JSON.stringify(s)}`)
  return new Date(t)
}

export function statusOf(notAfter: Date, now: number, warnDays = WARN_DAYS): ExpiryStatus {
  if (notAfter.getTime() <= now) return 'expired'
  return notAfter.getTime() - now < warnDays * DAY_MS ? 'warn' : 'ok'
}

/** One certificate (PEM or DER) as the check reports it. */
export function certInfo(name: string, file: string, data: Buffer | string, now = Date.now()): CertInfo {
  const x = new X509Certificate(data)
  const notAfter = certDate(x.validTo, `${file}: notAfter`)
  const notBefore = certDate(x.validFrom, `${file}: notBefore`)
  return {
    name,
    file,
    subject: x.subject.replaceAll('\n', ', '),
    issuer: x.issuer.replaceAll('\n', ', '),
    ca: x.ca,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY_MS),
    status: statusOf(notAfter, now),
  }
}

/** kubeadm's names: pki/apiserver.crt → apiserver, pki/etcd/server.crt → etcd-server, admin.conf → admin.conf */
export function kubeadmName(rel: string): string {
  if (rel.endsWith('.conf')) return rel
  return rel.replace(/^pki\//, '').replace(/\.crt$/, '').replaceAll('/', '-')
}

const KUBECONFIG_FILES = ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf']

/**
 * One root shell command printing `==> FILE` then the base64 of each certificate's PEM: the .crt files
 * of /etc/kubernetes/pki, and only the client-certificate-data line of each kubeconfig (no key leaves the node).
 */
export const READ_CERTS_SCRIPT = [
  'cd /etc/kubernetes || exit 3',
  '[ -d pki ] || { echo "no /etc/kubernetes/pki" >&2; exit 4; }',
  'for f in pki/*.crt pki/etcd/*.crt; do [ -f "$f" ] || continue; printf "==> %s\\n" "$f"; base64 -w0 "$f"; echo; done',
  `for f in ${KUBECONFIG_FILES.join(' ')}; do [ -f "$f" ] || continue; printf "==> %s\\n" "$f"; sed -n "s/^ *client-certificate-data: *//p" "$f" | head -n 1; done`,
].join('\n')

/** Parse READ_CERTS_SCRIPT's output. */
export function parseCertDump(out: string, now = Date.now()): CertInfo[] {
  const certs: CertInfo[] = []
  const lines = out.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^==> (.+)$/.exec(lines[i]!)
    if (!m) continue
    const rel = m[1]!
    const b64 = (lines[i + 1] ?? '').trim()
    if (!b64) continue
    certs.push(certInfo(kubeadmName(rel), `/etc/kubernetes/${rel}`, Buffer.from(b64, 'base64'), now))
  }
  return certs
}

/** Read every certificate of a control-plane node (as root). */
export async function readNodeCerts(conn: RootShell, now = Date.now(), signal?: AbortSignal): Promise<CertInfo[]> {
  const r = await conn.sudo(READ_CERTS_SCRIPT, {signal})
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() || `exit code ${r.code}`
    throw new ObsctlError(`cannot read the kubeadm certificates on ${conn.label}: ${why}`, {
      code: 'CERTS_READ',
      hints: ['is this node a kubeadm control plane? (obsctl node install CLUSTER)', `check that ${conn.label} can run sudo`],
    })
  }
  const certs = parseCertDump(r.stdout, now)
  if (certs.length === 0) throw new ObsctlError(`no certificates in /etc/kubernetes/pki on ${conn.label}`, {code: 'CERTS_NONE', hints: ['is this node a kubeadm control plane?']})
  return certs
}

/** The admin client certificate obsctl uses for a cluster: user `<cluster>-admin` of the kubeconfig. */
export function kubeconfigCert(file: string, c: Cluster, now = Date.now()): KubeconfigCert {
  const user = kubeUserName(c)
  const base: KubeconfigCert = {file, user}
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return {...base, error: `cannot read ${file}: ${errorMessage(e)}`}
  }
  try {
    const kc = (parseYaml(text) ?? {}) as {users?: {name?: string; user?: Record<string, unknown>}[]}
    const u = kc.users?.find((x) => x?.name === user)?.user
    if (!u) return {...base, error: `no user ${user} in ${file} (obsctl kubeconfig merge ${c.name})`}
    const data = u['client-certificate-data']
    const ref = u['client-certificate']
    let pem: Buffer
    let where = `${file} (user ${user})`
    if (typeof data === 'string') pem = Buffer.from(data, 'base64')
    else if (typeof ref === 'string') {
      const p = path.resolve(path.dirname(file), ref)
      pem = readFileSync(p)
      where = p
    } else return {...base, error: `user ${user} in ${file} has no client certificate (a token or exec plugin): nothing expires that obsctl can read`}
    return {...base, cert: certInfo('kubeconfig', where, pem, now)}
  } catch (e) {
    return {...base, error: `user ${user} in ${file}: ${errorMessage(e)}`}
  }
}

/** The soonest-expiring certificate of a cluster (CAs included). */
export function soonestOf(nodes: NodeCerts[], kc: KubeconfigCert): Soonest | undefined {
  const all: {c: CertInfo; where: string}[] = [...nodes.flatMap((n) => n.certs.map((c) => ({c, where: n.node}))), ...(kc.cert ? [{c: kc.cert, where: 'kubeconfig'}] : [])]
  const s = all.sort((a, b) => Date.parse(a.c.notAfter) - Date.parse(b.c.notAfter))[0]
  return s ? {name: s.c.name, where: s.where, notAfter: s.c.notAfter, daysLeft: s.c.daysLeft, status: s.c.status} : undefined
}

function worst(nodes: NodeCerts[], kc: KubeconfigCert): CertsClusterReport['status'] {
  if (nodes.some((n) => n.error) || kc.error) return 'error'
  const all = [...nodes.flatMap((n) => n.certs), ...(kc.cert ? [kc.cert] : [])]
  if (all.some((c) => c.status === 'expired')) return 'expired'
  return all.some((c) => c.status === 'warn') ? 'warn' : 'ok'
}

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

async function rootShell(ctx: RunContext, node: ClusterNode): Promise<RootShell> {
  const {sshPool} = await import('../ssh/pool.js')
  return (await sshPool(ctx)).get(node)
}

export interface CertsCheckOptions {
  /** the time certificates are measured against (tests) */
  now?: number
}

/** Read every certificate of one cluster: each control-plane node (over SSH) and the kubeconfig's admin user. */
export async function checkClusterCerts(ctx: RunContext, c: Cluster, o: CertsCheckOptions = {}, log: (l: string) => void = () => undefined): Promise<CertsClusterReport> {
  const now = o.now ?? Date.now()
  const nodes = await Promise.all(
    controlPlaneNodes(c).map(async (n): Promise<NodeCerts> => {
      try {
        const certs = await readNodeCerts(await rootShell(ctx, n), now, ctx.signal)
        for (const x of certs) log(`${nodeName(n)} ${x.name}: ${x.status} (${x.daysLeft} days, until ${x.notAfter})`)
        return {node: nodeName(n), host: n.host, certs}
      } catch (e) {
        if (ctx.signal.aborted) throw e
        log(`${nodeName(n)}: ${errorMessage(e)}`)
        return {node: nodeName(n), host: n.host, certs: [], error: errorMessage(e)}
      }
    }),
  )
  const kubeconfig = kubeconfigCert(resolveKubeconfigPath(ctx.kubeconfig), c, now)
  log(kubeconfig.cert ? `kubeconfig ${kubeconfig.user}: ${kubeconfig.cert.status} (${kubeconfig.cert.daysLeft} days)` : `kubeconfig: ${kubeconfig.error}`)
  return {cluster: c.name, nodes, kubeconfig, soonest: soonestOf(nodes, kubeconfig), status: worst(nodes, kubeconfig)}
}

export function certsCheckPhase(o: CertsCheckOptions = {}): Phase<ClusterTarget, CertsClusterReport> {
  return {
    name: 'certs-check',
    title: 'Certificate expiry per cluster',
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${controlPlaneNodes(c).length} control plane(s) + kubeconfig)`})),
    // read only and always measured again (commands run it with restart)
    fingerprint: (t) => ({cluster: t.cluster}),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    describe: (t, ctx) => `read /etc/kubernetes/pki/**.crt and the kubeconfig client certificates on ${controlPlaneNodes(clusterOf(ctx, t.cluster)).map((n) => n.host).join(', ')} (sudo); the ${kubeUserName(t.cluster)} certificate in ${resolveKubeconfigPath(ctx.kubeconfig)}`,
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
}

/** Non-CA certificates: the ones `kubeadm certs renew all` renews. */
const leaves = (certs: CertInfo[]) => certs.filter((c) => !c.ca)
const soonestLeaf = (certs: CertInfo[]) => leaves(certs).sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter))[0]

export function certsRenewPhase(o: CertsRenewOptions = {}): Phase<CpNodeTarget, CertsRenewReport> {
  return {
    name: 'certs-renew',
    title: 'Renew kubeadm certificates, one control-plane node at a time',
    targets: (ctx) => runClusters(ctx).flatMap((c) => controlPlaneNodes(c).map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host}))),
    // one node of the whole run at a time: a control plane never loses two API servers at once
    concurrency: 1,
    fingerprint: (t) => ({cluster: t.cluster, host: t.host}),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    describe: (t) =>
      `ssh ${t.host}: kubeadm certs renew all; restart ${CONTROL_PLANE_PODS.join(', ')} one at a time (manifest moved out of /etc/kubernetes/manifests until crictl shows the container gone, then back until a new container runs); read the certificates back`,
    async run(t, ctx, io) {
      const {cluster, node} = cpNode(ctx, t)
      const conn = await rootShell(ctx, node)
      const wait = {timeoutMs: o.podTimeoutMs, intervalMs: o.pollMs, signal: ctx.signal, log: (l: string) => io.log(l)}
      // a run killed between the two moves left a manifest parked: the node is made whole first
      await unparkAll(conn, wait)
      const before = soonestLeaf(await readNodeCerts(conn, Date.now(), ctx.signal))
      io.log(`before: soonest ${before ? `${before.name} until ${before.notAfter}` : '(none)'}`)
      const out = await rootRun(conn, 'kubeadm certs renew all', 'kubeadm certs renew all', {log: (l) => io.log(l), signal: ctx.signal, code: 'CERTS_RENEW'})
      const renewed = out.split('\n').map((l) => /^certificate(?: embedded in the kubeconfig file for the)? (\S+) renewed/.exec(l.trim())?.[1]).filter((x): x is string => Boolean(x))
      const restarted: string[] = []
      for (const pod of CONTROL_PLANE_PODS) {
        await restartStaticPod(conn, pod, wait)
        restarted.push(pod)
      }
      const now = Date.now()
      const after = await readNodeCerts(conn, now, ctx.signal)
      const stale = leaves(after).filter((c) => c.status !== 'ok')
      if (stale.length > 0) {
        throw new ObsctlError(`after kubeadm certs renew all on ${conn.label}, ${stale.map((c) => `${c.name} (until ${c.notAfter})`).join(', ')} still expire within ${WARN_DAYS} days`, {
          code: 'CERTS_NOT_RENEWED',
          hints: ['check the node: sudo kubeadm certs check-expiration', 'certificates signed by an external CA are renewed by that CA, not kubeadm'],
        })
      }
      const s = soonestLeaf(after)!
      io.log(`after: soonest ${s.name} until ${s.notAfter}`)
      return {
        summary: `renewed (${s.name} now until ${s.notAfter.slice(0, 10)}); restarted ${restarted.join(', ')}`,
        report: {cluster: cluster.name, node: nodeName(node), host: node.host, before: before?.notAfter, after: s.notAfter, renewed, restarted},
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

/** Keep the last check's soonest expiry per cluster (merged: a check of one cluster keeps the others). */
export async function recordCerts(inv: LoadedInventory, reports: CertsClusterReport[], at = new Date()): Promise<void> {
  const {ensurePrivateDir} = await import('../fs.js')
  ensurePrivateDir(obsctlDir(inv.dir))
  const prev = lastCerts(inv)
  const rec: CertsRecord = {at: at.toISOString(), clusters: {...prev?.clusters}}
  for (const r of reports) rec.clusters[r.cluster] = {status: r.status, soonest: r.soonest}
  await writeFileAtomic(certsRecordFile(inv), `${JSON.stringify(rec, null, 2)}\n`)
}

export function lastCerts(inv: LoadedInventory): CertsRecord | undefined {
  try {
    return JSON.parse(readFileSync(certsRecordFile(inv), 'utf8')) as CertsRecord
  } catch {
    return undefined
  }
}
