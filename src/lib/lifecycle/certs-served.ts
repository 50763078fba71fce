/**
 * The certificate a control-plane node's kube-apiserver actually serves, measured from the node itself: a
 * TLS connection to the node's own address and the API server port, made by the node's sshd over obsctl's
 * SSH connection (a direct-tcpip channel, ../ssh/connection.ts tcpChannel; nothing else need be reachable
 * from obsctl's machine). A renew that rewrote the files but whose API server still runs with the old
 * certificate in memory (a restart that did not take) is caught here, not by the files.
 *
 * The handshake verifies the served chain against the cluster CA (/etc/kubernetes/pki/ca.crt, read from the
 * node) for the name `kubernetes`, a SAN kubeadm always puts on apiserver.crt — verification is never turned
 * off. A served certificate that verifies is compared with the renewed file; one that fails verification is
 * told apart by the file itself: when apiserver.crt verifies (signature by ca.crt, the name, its dates), what
 * the API server serves is not that file (an old one, typically expired): CERTS_NOT_SERVED; when the file
 * does not verify either, the renewed certificate is at fault: CERTS_SERVED_UNTRUSTED.
 *
 * Two users, one measurement (measureServedApiserver): `certs renew` waits for the restarted API server and fails
 * the node on a finding (checkServedApiserver); `certs check` makes one handshake per control plane and reports
 * the finding (servedFinding gives both the same words and hints) beside the files it read (./certs.ts).
 */
import {X509Certificate} from 'node:crypto'
import type {Duplex} from 'node:stream'
import tls from 'node:tls'
import {sleepOrInterrupt as sleep} from '../async.js'
import {ObsctlError, errorMessage, interruptedError} from '../errors.js'
import type {RootShell} from '../nodes/lock.js'
import {pollMs} from '../poll.js'

export const PKI_CA = '/etc/kubernetes/pki/ca.crt'
export const APISERVER_CRT = '/etc/kubernetes/pki/apiserver.crt'
/** a name kubeadm always puts among apiserver.crt's SANs (with kubernetes.default…, the node name and addresses) */
export const APISERVER_NAME = 'kubernetes'

/** A root shell that can also open TCP connections from the node (../ssh/connection.ts SshConnection). */
export interface NodeShell extends RootShell {
  tcpChannel(host: string, port: number, o?: {signal?: AbortSignal}): Promise<Duplex>
}

/** One certificate as the served check compares it (no secret: all of it is public). */
export interface CertId {
  /** hex, as openssl prints it */
  serial: string
  /** SHA-256 of the DER, colon-separated hex */
  sha256: string
  notAfter: string
}

export interface ServedCert extends CertId {
  /** where it was measured: the node's address and API server port, from the node */
  endpoint: string
}

export interface ServedCheck {
  served: ServedCert
  file: CertId
}

/**
 * What kube-apiserver serves at the node's address and port (from the node) beside the node's apiserver.crt: the
 * served certificate when it verifies (and whether it is the file), else TLS's reason and the file's own problem
 * when it fails the same verification (undefined: the file verifies, so what is served is another certificate).
 */
export type ServedMeasure =
  {endpoint: string; file: CertId; served: ServedCert; same: boolean} | {endpoint: string; file: CertId; verifyError: string; fileProblem?: string}

/** What `certs check` reports of one control plane's kube-apiserver (all of it public). */
export interface ServedReport {
  /** the node's address and API server port, measured from the node */
  endpoint: string
  /** the served certificate, verified against ca.crt for `kubernetes` (absent: it failed verification, or nothing was measured) */
  cert?: CertId & {daysLeft: number; status: 'ok' | 'warn' | 'expired'}
  /** the node's /etc/kubernetes/pki/apiserver.crt */
  file?: CertId
  /** true: the served certificate is apiserver.crt (same SHA-256); false: another one; absent: not known */
  sameAsFile?: boolean
  /** why what is served fails TLS verification (against ca.crt, for `kubernetes`) */
  verifyError?: string
  /**
   * the served certificate's own expiry; at least `warn` when it is not apiserver.crt; `expired` when it fails
   * verification as expired; `error` when it fails verification otherwise or could not be measured
   */
  status: 'ok' | 'warn' | 'expired' | 'error'
  /** the finding, when there is one (the words and hints `certs renew` would fail with) */
  problem?: {message: string; code?: string; hints: string[]}
}

const idOf = (x: X509Certificate): CertId => ({serial: x.serialNumber, sha256: x.fingerprint256, notAfter: new Date(Date.parse(x.validTo)).toISOString()})
export const describeId = (c: CertId) => `serial ${c.serial}, until ${c.notAfter}`

/** ca.crt and apiserver.crt of a control-plane node (public certificates; no key is read). */
export async function readApiserverPki(conn: RootShell, signal?: AbortSignal): Promise<{ca: string; apiserver: X509Certificate}> {
  const r = await conn.sudo(`for f in ${PKI_CA} ${APISERVER_CRT}; do base64 -w0 "$f" || exit 1; echo; done`, {signal})
  const [ca, crt] = r.stdout.split('\n').map((l) => Buffer.from(l.trim(), 'base64').toString('utf8'))
  if (r.code !== 0 || !ca || !crt) {
    throw new ObsctlError(`cannot read ${PKI_CA} and ${APISERVER_CRT} on ${conn.label}: ${r.stderr.trim().split('\n').pop() || `exit code ${r.code}`}`, {
      code: 'CERTS_READ',
      hints: ['is this node a kubeadm control plane? (obsctl node install CLUSTER)'],
    })
  }
  return {ca, apiserver: new X509Certificate(crt)}
}

/** What one handshake found: the served certificate (verified), or why verification failed. */
type Handshake = {cert: X509Certificate} | {verifyError: string}

/** A certificate verification error of Node's TLS (OpenSSL's X509_V_ERR_* names, and the name check's). */
const VERIFY_ERROR = /^(?:CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)/

/** One verified TLS handshake with host:port as the node sees it; the channel is closed after it. */
export function handshake(conn: NodeShell, host: string, port: number, ca: string, o: {timeoutMs: number; signal?: AbortSignal}): Promise<Handshake> {
  return conn.tcpChannel(host, port, {signal: o.signal}).then(
    (channel) =>
      new Promise<Handshake>((resolve, reject) => {
        const s = tls.connect({socket: channel, ca, servername: APISERVER_NAME})
        let finished = false
        const done = (f: () => void) => {
          if (finished) return
          finished = true
          clearTimeout(timer)
          o.signal?.removeEventListener('abort', onAbort)
          s.destroy()
          channel.destroy()
          f()
        }
        const onAbort = () => done(() => reject(interruptedError()))
        const timer = setTimeout(() => done(() => reject(new Error(`no TLS handshake within ${Math.round(o.timeoutMs / 1000)} s`))), o.timeoutMs)
        o.signal?.addEventListener('abort', onAbort, {once: true})
        s.once('secureConnect', () => {
          const cert = s.getPeerX509Certificate()
          done(() => (cert ? resolve({cert}) : reject(new Error('the server sent no certificate'))))
        })
        s.once('error', (e: NodeJS.ErrnoException) =>
          // a verdict on the certificate, not an API server still starting: said, not retried
          done(() => (VERIFY_ERROR.test(e.code ?? '') ? resolve({verifyError: `${e.code}: ${e.message}`}) : reject(e))),
        )
        s.once('close', () => done(() => reject(new Error('the connection closed before the TLS handshake finished'))))
      }),
  )
}

/** Why `crt` does not verify against `ca` for the API server's name today, or undefined when it does (what TLS checks). */
function fileProblem(crt: X509Certificate, ca: string, now = Date.now()): string | undefined {
  if (!crt.verify(new X509Certificate(ca).publicKey)) return `not signed by ${PKI_CA}`
  if (!crt.checkHost(APISERVER_NAME)) return `${APISERVER_NAME} is not among its names`
  if (Date.parse(crt.validFrom) > now || Date.parse(crt.validTo) < now) return `not valid now (${crt.validFrom} – ${crt.validTo})`
  return undefined
}

export interface ServedOptions {
  /**
   * how long the API server may take to answer (it starts listening a while after its container runs); with
   * `once`, how long the one handshake may take
   */
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  log?: (line: string) => void
  /** one handshake, not retried (a check: the API server is expected to run; a refused port is a finding at once) */
  once?: boolean
}

function unreachable(conn: NodeShell, host: string, port: number, why: string, within?: number): ObsctlError {
  return new ObsctlError(
    `could not measure the certificate kube-apiserver serves on ${conn.label}: no TLS handshake with ${host}:${port} (from the node)${within === undefined ? '' : ` within ${Math.round(within / 1000)} s`}: ${why}`,
    {
      code: 'APISERVER_UNREACHABLE',
      hints: [
        `is kube-apiserver running and listening there? on the node: sudo crictl ps --name kube-apiserver; sudo ss -ltn 'sport = :${port}'`,
        `the port is the one in the inventory's apiServer URL of the cluster (kubeadm's bindPort); ${host} is the node's host in the inventory`,
        "obsctl connects through the node's sshd (a direct-tcpip channel, as ssh -L): AllowTcpForwarding must not be `no` in its sshd_config",
      ],
    },
  )
}

/**
 * Wait until host:port (from the node) completes a TLS handshake, retrying while nothing answers there or the
 * handshake fails (an API server that is starting); an sshd that refuses the channel fails at once. `once`: one
 * handshake, whatever ends it.
 */
export async function servedCertificate(conn: NodeShell, host: string, port: number, ca: string, o: ServedOptions): Promise<Handshake> {
  const endpoint = `${host}:${port}`
  const deadline = Date.now() + o.timeoutMs
  let last = ''
  for (let attempt = 1; ; attempt++) {
    try {
      const timeoutMs = o.once ? o.timeoutMs : Math.max(1000, Math.min(10_000, deadline - Date.now()))
      return await handshake(conn, host, port, ca, {timeoutMs, signal: o.signal})
    } catch (e) {
      if (o.signal?.aborted) throw interruptedError()
      if (e instanceof ObsctlError && e.code !== 'SSH_FORWARD_CONNECT' && e.code !== 'SSH_FORWARD') throw e
      const why = errorMessage(e)
      if (o.once) throw unreachable(conn, host, port, why)
      if (why !== last) o.log?.(`kube-apiserver at ${endpoint} (from the node): ${why}${attempt === 1 ? '; waiting for it' : ''}`)
      last = why
    }
    if (Date.now() > deadline) throw unreachable(conn, host, port, last, o.timeoutMs)
    await sleep(o.intervalMs ?? pollMs(1000), o.signal)
  }
}

/** Read the node's ca.crt and apiserver.crt, then what host:port serves (from the node): see ServedMeasure. */
export async function measureServedApiserver(conn: NodeShell, host: string, port: number, o: ServedOptions): Promise<ServedMeasure> {
  const endpoint = `${host}:${port}`
  const {ca, apiserver} = await readApiserverPki(conn, o.signal)
  const h = await servedCertificate(conn, host, port, ca, o)
  const file = idOf(apiserver)
  if ('verifyError' in h) return {endpoint, file, verifyError: h.verifyError, fileProblem: fileProblem(apiserver, ca)}
  const served: ServedCert = {endpoint, ...idOf(h.cert)}
  return {endpoint, file, served, same: served.sha256 === file.sha256}
}

/**
 * The finding in a measurement, as an error (undefined: kube-apiserver serves apiserver.crt, verified): what is served
 * is another certificate (CERTS_NOT_SERVED, TLS's reason when it fails verification), or the file fails verification
 * too (CERTS_SERVED_UNTRUSTED). `after`: the command that measured, for the words and the hints.
 */
export function servedFinding(m: ServedMeasure, label: string, o: {cluster: string; after: 'renew' | 'check'}): ObsctlError | undefined {
  const notServed = (what: string) =>
    new ObsctlError(
      `kube-apiserver on ${label} does not serve ${o.after === 'renew' ? 'the renewed certificate' : APISERVER_CRT}: at ${m.endpoint} it serves ${what}, ${APISERVER_CRT} is ${describeId(m.file)}`,
      {
        code: 'CERTS_NOT_SERVED',
        hints: [
          'its static pod did not restart (the old process still runs with the old certificate in memory): on the node, sudo crictl ps --name kube-apiserver shows how long it has run',
          o.after === 'renew'
            ? `restart it: rerun obsctl certs renew --cluster ${o.cluster} (the nodes it finished are skipped), or on the node move /etc/kubernetes/manifests/kube-apiserver.yaml out, wait until crictl shows no kube-apiserver, and move it back`
            : `restart it: obsctl certs renew --cluster ${o.cluster} (renews, restarts each static pod and checks what is served), or on the node move /etc/kubernetes/manifests/kube-apiserver.yaml out, wait until crictl shows no kube-apiserver, and move it back`,
        ],
      },
    )
  if ('verifyError' in m) {
    // the file verifies: what fails is another certificate (an old one, typically expired)
    if (!m.fileProblem) return notServed(`a certificate that fails verification (${m.verifyError})`)
    return new ObsctlError(
      `${APISERVER_CRT} on ${label} fails verification against ${PKI_CA} for the name ${APISERVER_NAME} (${m.fileProblem}), and so does what kube-apiserver serves at ${m.endpoint}: ${m.verifyError}`,
      {
        code: 'CERTS_SERVED_UNTRUSTED',
        hints: [
          `inspect it on the node: sudo openssl verify -CAfile ${PKI_CA} ${APISERVER_CRT}; sudo openssl x509 -in ${APISERVER_CRT} -noout -ext subjectAltName`,
        ],
      },
    )
  }
  return m.same ? undefined : notServed(describeId(m.served))
}

/**
 * The check of a renew: what kube-apiserver serves at the node's address and port (from the node) is the
 * node's apiserver.crt, and verifies against its ca.crt for `kubernetes`. Fails naming both certificates.
 */
export async function checkServedApiserver(conn: NodeShell, host: string, port: number, o: ServedOptions & {cluster: string}): Promise<ServedCheck> {
  const m = await measureServedApiserver(conn, host, port, o)
  if ('verifyError' in m)
    o.log?.(
      `kube-apiserver at ${m.endpoint} (from the node) serves a certificate that fails verification against ${PKI_CA} for ${APISERVER_NAME}: ${m.verifyError}`,
    )
  else
    o.log?.(
      `kube-apiserver at ${m.endpoint} (from the node) serves ${describeId(m.served)} (verified against ${PKI_CA} for ${APISERVER_NAME}); ${APISERVER_CRT}: ${describeId(m.file)}`,
    )
  if ('verifyError' in m || !m.same) throw servedFinding(m, conn.label, {cluster: o.cluster, after: 'renew'})!
  return {served: m.served, file: m.file}
}
