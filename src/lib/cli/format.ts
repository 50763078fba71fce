/** Human renderers shared by commands: tables and the lint report. */
import type {LintReport} from '../config/lint.js'
import {formatCpu, formatMemory} from '../config/units.js'

/** A plain left-aligned table (no colour codes, so widths are right in logs and pipes). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n')
}

const ICON = {error: '✖', warning: '‼', info: 'ℹ'} as const

export function formatLintReport(r: LintReport): string {
  const out: string[] = []
  for (const f of r.findings) {
    out.push(`${ICON[f.severity]} ${f.severity} ${f.location} ${f.path}`, `    ${f.message}`, `    fix: ${f.fix}`)
  }
  if (r.findings.length > 0) out.push('')
  out.push(
    'Capacity (platform requests vs declared node capacity):',
    table(
      ['CLUSTER', 'ROLE', 'CPU REQ/DECLARED', 'MEMORY REQ/DECLARED', 'FITS'],
      r.capacity.map((c) => [
        c.cluster,
        c.role,
        `${formatCpu(c.requestedCpuMillis)}/${formatCpu(c.declaredCpuMillis)}`,
        `${formatMemory(c.requestedMemoryBytes)}/${formatMemory(c.declaredMemoryBytes)}`,
        c.cpuOk && c.memoryOk ? 'yes' : 'NO',
      ]),
    ),
    '',
    r.errors > 0
      ? `✖ ${r.file}: ${r.errors} error(s), ${r.warnings} warning(s)`
      : `✔ ${r.file} is valid (${r.warnings} warning(s))`,
  )
  return out.join('\n')
}
