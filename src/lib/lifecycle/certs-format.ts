/** The human form of `obsctl certs check` (the run is ../flows/certs-run.ts): what a check found, per cluster. */
import {ICONS} from '../checks/render.js'
import type {CertsClusterReport, ExpiryStatus} from './certs-read.js'
import {APISERVER_CRT, describeId, type ServedReport} from './certs-served.js'

/** What `certs check` measured, as its view reads it. */
export interface CertsCheckSummary {
  warnDays: number
  clusters: CertsClusterReport[]
  /** clusters whose task failed outright */
  failed: {cluster: string; error: string}[]
  summary: {ok: number; warn: number; expired: number; error: number; notServed: number}
}

const mark = (s: ExpiryStatus | 'error') =>
  s === 'error' ? ICONS.fail : s === 'expired' ? `${ICONS.fail} EXPIRED` : s === 'warn' ? `${ICONS.warn} expires soon` : ICONS.pass

/** One control plane's kube-apiserver: what it serves, and whether that is its apiserver.crt. */
function servedLine(node: string, s: ServedReport): string {
  const at = `${node} kube-apiserver at ${s.endpoint}`
  if (!s.cert) return `  ${mark(s.status)} ${at}: ${s.problem?.message ?? s.status}`
  const days = `${s.cert.daysLeft} days (until ${s.cert.notAfter})`
  if (s.sameAsFile) return `  ${mark(s.status)} ${at} serves its apiserver.crt: ${days}`
  // at least a warning while it is valid: say what it is, not "expires soon"
  const icon = s.status === 'warn' && s.cert.status === 'ok' ? `${ICONS.warn} NOT SERVED` : mark(s.status)
  return `  ${icon} ${at} serves another certificate than ${APISERVER_CRT}: serial ${s.cert.serial}, ${days}; the file: ${s.file ? describeId(s.file) : '?'}`
}

/** The human form: one line per certificate that is not fine, then one line per cluster. */
export function formatCertsCheck(r: CertsCheckSummary, verbose = false): string {
  const lines: string[] = []
  for (const c of r.clusters) {
    const s = c.soonest
    lines.push(`${c.cluster}: ${c.status.toUpperCase()}${s ? ` — soonest ${s.name} on ${s.where}: ${s.daysLeft} days (${s.notAfter.slice(0, 10)})` : ''}`)
    for (const n of c.nodes) {
      if (n.error) lines.push(`  ✖ ${n.node}: ${n.error}`)
      for (const x of n.certs) if (verbose || x.status !== 'ok') lines.push(`  ${mark(x.status)} ${n.node} ${x.name}: ${x.daysLeft} days (until ${x.notAfter})`)
      if (n.served && (verbose || n.served.status !== 'ok')) lines.push(servedLine(n.node, n.served))
    }
    const k = c.kubeconfig
    if (k.error) lines.push(`  ✖ kubeconfig: ${k.error}`)
    else if (k.cert && (verbose || k.cert.status !== 'ok'))
      lines.push(`  ${mark(k.cert.status)} kubeconfig ${k.user}: ${k.cert.daysLeft} days (until ${k.cert.notAfter})`)
  }
  for (const f of r.failed) lines.push(`${f.cluster}: ERROR — ${f.error}`)
  const {ok, warn, expired, error, notServed} = r.summary
  lines.push(
    '',
    `${ok} ok, ${warn} expiring within ${r.warnDays} days${notServed > 0 ? ' or serving another certificate' : ''}, ${expired} expired, ${error} not measured${expired + warn > 0 ? ' → obsctl certs renew --cluster NAME' : ''}`,
  )
  if (notServed > 0)
    lines.push(
      `kube-apiserver serves another certificate than its ${APISERVER_CRT} on ${notServed} cluster(s) (typically a restart that did not take): clients get the certificate shown, not the file`,
    )
  return lines.join('\n')
}
