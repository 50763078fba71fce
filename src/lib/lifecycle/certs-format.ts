/** The human form of `obsctl certs check` (the run is ../flows/certs-run.ts): what a check found, per cluster. */
import {ICONS} from '../checks/render.js'
import type {CertsClusterReport} from './certs-read.js'

/** What `certs check` measured, as its view reads it. */
export interface CertsCheckSummary {
  warnDays: number
  clusters: CertsClusterReport[]
  /** clusters whose task failed outright */
  failed: {cluster: string; error: string}[]
  summary: {ok: number; warn: number; expired: number; error: number}
}

/** The human form: one line per certificate that is not fine, then one line per cluster. */
export function formatCertsCheck(r: CertsCheckSummary, verbose = false): string {
  const lines: string[] = []
  for (const c of r.clusters) {
    const s = c.soonest
    lines.push(`${c.cluster}: ${c.status.toUpperCase()}${s ? ` — soonest ${s.name} on ${s.where}: ${s.daysLeft} days (${s.notAfter.slice(0, 10)})` : ''}`)
    for (const n of c.nodes) {
      if (n.error) lines.push(`  ✖ ${n.node}: ${n.error}`)
      for (const x of n.certs)
        if (verbose || x.status !== 'ok')
          lines.push(
            `  ${x.status === 'expired' ? `${ICONS.fail} EXPIRED` : x.status === 'warn' ? `${ICONS.warn} expires soon` : ICONS.pass} ${n.node} ${x.name}: ${x.daysLeft} days (until ${x.notAfter})`,
          )
    }
    const k = c.kubeconfig
    if (k.error) lines.push(`  ✖ kubeconfig: ${k.error}`)
    else if (k.cert && (verbose || k.cert.status !== 'ok'))
      lines.push(
        `  ${k.cert.status === 'expired' ? `${ICONS.fail} EXPIRED` : k.cert.status === 'warn' ? `${ICONS.warn} expires soon` : ICONS.pass} kubeconfig ${k.user}: ${k.cert.daysLeft} days (until ${k.cert.notAfter})`,
      )
  }
  for (const f of r.failed) lines.push(`${f.cluster}: ERROR — ${f.error}`)
  const {ok, warn, expired, error} = r.summary
  lines.push(
    '',
    `${ok} ok, ${warn} expiring within ${r.warnDays} days, ${expired} expired, ${error} not measured${expired + warn > 0 ? ' → obsctl certs renew --cluster NAME' : ''}`,
  )
  return lines.join('\n')
}
