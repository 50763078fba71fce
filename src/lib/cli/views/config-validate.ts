/** `obsctl config validate`'s human output: the findings as a checklist, the capacity table, the verdict. */
import {formatOutcome, ICONS} from '../../checks/render.js'
import {lintOutcomes, type LintReport} from '../../config/lint.js'
import {formatCpu, formatMemory} from '../../config/units.js'
import {table} from '../format.js'

export function formatLintReport(r: LintReport): string {
  const out: string[] = lintOutcomes(r).map(formatOutcome)
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
    r.errors > 0 ? `${ICONS.fail} ${r.file}: ${r.errors} error(s), ${r.warnings} warning(s)` : `${ICONS.pass} ${r.file} is valid (${r.warnings} warning(s))`,
  )
  return out.join('\n')
}
