/**
 * certificates.expiry: per cluster, the two certificates every obsctl command depends on, measured
 * live: the API server's serving certificate (a TLS handshake with the CA of the kubeconfig) and the
 * admin client certificate of the kubeconfig's <cluster>-admin user. Expired fails, within 30 days
 * warns (lifecycle/certs-read.ts WARN_DAYS). The node-side certificates (etcd, front proxy, …) need SSH:
 * `obsctl certs check` reads them.
 */
import {readFileSync} from 'node:fs'
import tls from 'node:tls'
import {errorMessage} from '../../errors.js'
import {WARN_DAYS, certInfo, type CertInfo} from '../../lifecycle/certs-read.js'
import type {Kube} from '../../platform/kube.js'
import type {Check, ValidateContext} from '../types.js'
import {fail, list, pass, warn} from './util.js'

interface Measured {
  cluster: string
  certs: CertInfo[]
  problems: string[]
}

/**
 * The API server's serving certificate, as the handshake presents it (verified against the kubeconfig's CA, and
 * against its `tls-server-name` when the cluster entry has one, as kubectl and client-node verify it). It waits
 * `timeoutMs`; a failure to answer names `saidMs`, the whole timeout when this is what was left of it.
 */
function servingCert(server: string, ca: string | undefined, tlsServerName: string | undefined, timeoutMs: number, saidMs = timeoutMs): Promise<CertInfo> {
  const u = new URL(server)
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: u.hostname,
        port: Number(u.port || 443),
        servername: tlsServerName || (/^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname),
        ca,
        rejectUnauthorized: true,
        timeout: timeoutMs,
      },
      () => {
        try {
          resolve(certInfo('apiserver (serving)', server, s.getPeerX509Certificate()!.raw))
        } catch (e) {
          reject(e)
        } finally {
          s.end()
        }
      },
    )
    s.once('timeout', () => {
      s.destroy()
      reject(new Error(`no TLS handshake with ${server} within ${saidMs / 1000}s`))
    })
    s.once('error', (e: Error & {code?: string}) => reject(e.code === 'CERT_HAS_EXPIRED' ? new Error(`${server} presents an EXPIRED certificate`) : e))
  })
}

/**
 * The API server's serving certificate: the one this connection's requests were last served with, verified as they
 * verify it (Kube.servingCertificate), so that a cluster that already answered costs no second TLS handshake (status
 * asks for its nodes first); before any request, or when that handshake failed (an expired certificate), a handshake
 * of its own, which ends `timeoutMs` after `since` (status: when the request it waited for started, so that a cluster
 * that does not answer holds its turn for one timeout, not two).
 */
async function servingCertOf(kube: Kube, timeoutMs: number, since: number): Promise<CertInfo> {
  const served = kube.servingCertificate()
  if (served) return certInfo('apiserver (serving)', kube.server, served.raw)
  // the request it waited for took the whole timeout: this cluster answered nothing in time
  const left = since + timeoutMs - Date.now()
  if (left <= 0) throw new Error(`not measured: no answer from ${kube.server} within ${timeoutMs / 1000}s`)
  const kcCluster = kube.kc.getCurrentCluster()
  const ca = kcCluster?.caData
    ? Buffer.from(kcCluster.caData, 'base64').toString('utf8')
    : kcCluster?.caFile
      ? readFileSync(kcCluster.caFile, 'utf8')
      : undefined
  return servingCert(kube.server, ca, kcCluster?.tlsServerName, left, timeoutMs)
}

/** The serving and kubeconfig client certificates of one cluster, measured live (status uses it too). */
export async function liveCerts(kube: Kube, timeoutMs: number, o: {since?: number} = {}): Promise<{certs: CertInfo[]; problems: string[]}> {
  const certs: CertInfo[] = []
  const problems: string[] = []
  const user = kube.kc.getCurrentUser()
  try {
    if (user?.certData) certs.push(certInfo(`kubeconfig ${user.name}`, kube.context, Buffer.from(user.certData, 'base64')))
    else if (user?.certFile) certs.push(certInfo(`kubeconfig ${user.name}`, user.certFile, readFileSync(user.certFile)))
  } catch (e) {
    problems.push(`kubeconfig client certificate: ${errorMessage(e)}`)
  }
  try {
    certs.push(await servingCertOf(kube, timeoutMs, o.since ?? Date.now()))
  } catch (e) {
    problems.push(`API server certificate: ${errorMessage(e)}`)
  }
  return {certs, problems}
}

async function measure(ctx: ValidateContext, cluster: string): Promise<Measured> {
  try {
    const r = await liveCerts(await ctx.kube(cluster), ctx.timeoutMs)
    return {cluster, certs: r.certs, problems: r.problems.map((x) => `${cluster}: ${x}`)}
  } catch (e) {
    return {cluster, certs: [], problems: [`${cluster}: ${errorMessage(e)}`]}
  }
}

const expiry: Check = {
  id: 'certificates.expiry',
  component: 'certificates',
  title: `API server and kubeconfig client certificates are valid for ${WARN_DAYS} more days`,
  async run(ctx) {
    const all = await ctx.mapClusters((c) => measure(ctx, c.name))
    const line = (m: Measured, c: CertInfo) =>
      `${m.cluster}: ${c.name} ${c.status === 'expired' ? 'EXPIRED' : 'expires'} ${c.notAfter.slice(0, 10)} (${c.daysLeft} days)`
    const expired = all.flatMap((m) => m.certs.filter((c) => c.status === 'expired').map((c) => line(m, c)))
    const problems = all.flatMap((m) => m.problems)
    const soon = all.flatMap((m) => m.certs.filter((c) => c.status === 'warn').map((c) => line(m, c)))
    const clustersOf = (lines: string[]) => [...new Set(lines.map((l) => l.slice(0, l.indexOf(':'))))]
    const renew = 'obsctl certs renew --cluster NAME (then obsctl certs check reads every certificate on the nodes)'
    if (expired.length || problems.length)
      return fail(
        list([...expired, ...problems], 6),
        expired.length ? renew : 'a certificate that cannot be measured is a failure: check the kubeconfig (obsctl kubeconfig merge) and the API server',
        clustersOf([...expired, ...problems]),
      )
    if (soon.length) return warn(list(soon, 6), renew, clustersOf(soon))
    const soonest = all.flatMap((m) => m.certs.map((c) => ({m, c}))).sort((a, b) => a.c.daysLeft - b.c.daysLeft)[0]
    // a user that signs in with a token or an exec plugin has no client certificate to age out: said, not counted
    const noClientCert = all.filter((m) => !m.certs.some((c) => c.name.startsWith('kubeconfig '))).map((m) => m.cluster)
    return pass(
      `${all.reduce((n, m) => n + m.certs.length, 0)} certificates valid${soonest ? `; soonest: ${soonest.m.cluster} ${soonest.c.name} in ${soonest.c.daysLeft} days` : ''}${noClientCert.length ? `; no client certificate (the kubeconfig user has a token or exec plugin): ${list(noClientCert)}` : ''}`,
    )
  },
}

export const certificateChecks: Check[] = [expiry]
