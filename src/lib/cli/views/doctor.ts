/** `obsctl doctor`'s human output (also what bootstrap prints when its pre-check fails). */
import {formatChecklist, summaryLine} from '../../checks/render.js'
import {DOCTOR_GROUPS, type DoctorReport} from '../../doctor/index.js'

export function formatDoctor(r: DoctorReport): string {
  const more = r.network ? '' : ' (--network also checks TCP reachability and clock skew)'
  return `${formatChecklist(r.checks, DOCTOR_GROUPS)}\n${summaryLine(r.summary, {skipped: r.skipped, durationMs: r.durationMs, suffix: more})}`
}

/** Only the problems (bootstrap's pre-check: what passed is not news there). */
export function formatDoctorProblems(r: DoctorReport): string {
  return formatChecklist(r.checks.filter((c) => c.status === 'fail' || c.status === 'warn'), DOCTOR_GROUPS).trimEnd()
}
