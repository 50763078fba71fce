/**
 * Reading kubeadm certificates (see ./certs.ts): the .crt files of /etc/kubernetes/pki and the
 * client-certificate-data of kubeadm's kubeconfigs on a node (as root, one command; no key leaves the
 * node), the admin client certificate of the local kubeconfig, each parsed with node:crypto's
 * X509Certificate and judged against WARN_DAYS.
 */
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {yaml} from '../lazy-deps.js'
import {kubeUserName} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {ObsctlError, errorMessage} from '../errors.js'
import type {RootShell} from '../nodes/lock.js'
import type {ServedReport} from './certs-served.js'

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
  /** what its kube-apiserver serves, beside its apiserver.crt (absent when the certificates could not be read) */
  served?: ServedReport
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

/** whole days left until notAfter (negative once expired) */
export const daysLeftOf = (notAfter: Date, now: number) => Math.floor((notAfter.getTime() - now) / DAY_MS)

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
    daysLeft: daysLeftOf(notAfter, now),
    status: statusOf(notAfter, now),
  }
}

/** kubeadm's names: pki/apiserver.crt → apiserver, pki/etcd/server.crt → etcd-server, admin.conf → admin.conf */
export function kubeadmName(rel: string): string {
  if (rel.endsWith('.conf')) return rel
  return rel
    .replace(/^pki\//, '')
    .replace(/\.crt$/, '')
    .replaceAll('/', '-')
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
  if (certs.length === 0)
    throw new ObsctlError(`no certificates in /etc/kubernetes/pki on ${conn.label}`, {code: 'CERTS_NONE', hints: ['is this node a kubeadm control plane?']})
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
    const kc = (yaml().parse(text) ?? {}) as {users?: {name?: string; user?: Record<string, unknown>}[]}
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

/** The name a served certificate that is not apiserver.crt goes by in `soonest`. */
export const SERVED_NAME = 'apiserver (served)'

/**
 * The soonest-expiring certificate of a cluster (CAs included, and what a kube-apiserver serves when it is not its
 * apiserver.crt: that one is what clients get).
 */
export function soonestOf(nodes: NodeCerts[], kc: KubeconfigCert): Soonest | undefined {
  type Dated = Pick<CertInfo, 'name' | 'notAfter' | 'daysLeft' | 'status'>
  const all: {c: Dated; where: string}[] = [
    ...nodes.flatMap((n) => n.certs.map((c) => ({c, where: n.node}))),
    ...nodes.flatMap((n) => (n.served?.cert && n.served.sameAsFile === false ? [{c: {...n.served.cert, name: SERVED_NAME}, where: n.node}] : [])),
    ...(kc.cert ? [{c: kc.cert, where: 'kubeconfig'}] : []),
  ]
  const s = all.sort((a, b) => Date.parse(a.c.notAfter) - Date.parse(b.c.notAfter))[0]
  return s ? {name: s.c.name, where: s.where, notAfter: s.c.notAfter, daysLeft: s.c.daysLeft, status: s.c.status} : undefined
}

/** The worst of every certificate and of what each kube-apiserver serves (./certs-served.ts ServedReport.status). */
export function worst(nodes: NodeCerts[], kc: KubeconfigCert): CertsClusterReport['status'] {
  if (nodes.some((n) => n.error || n.served?.status === 'error') || kc.error) return 'error'
  const all = [...nodes.flatMap((n) => [...n.certs.map((c) => c.status), ...(n.served ? [n.served.status] : [])]), ...(kc.cert ? [kc.cert.status] : [])]
  if (all.includes('expired')) return 'expired'
  return all.includes('warn') ? 'warn' : 'ok'
}
