/** `obsctl node preflight`'s human output: one table row per check and node, then the summary line. */
import {ICONS, summaryLine} from '../../checks/render.js'
import {summarize} from '../../checks/model.js'
import type {PreflightReport} from '../../nodes/preflight.js'
import {table} from '../format.js'

export function formatPreflight(report: PreflightReport): string {
  const rows = report.checks.map((c) => [
    c.target ?? `${c.cluster}/${c.node}`,
    c.title,
    `${ICONS[c.status]} ${c.status}`,
    c.hint && c.status !== 'pass' ? `${c.detail} → ${c.hint}` : c.detail,
  ])
  return `${table(['NODE', 'CHECK', 'RESULT', 'DETAIL'], rows)}\n\n${summaryLine(summarize(report.checks), {suffix: ` (host keys: ${report.knownHosts})`})}`
}
