/** `obsctl doctor`'s human output: the checklist by group (workstation, credentials, dns, network) and the summary line. */
import {formatChecklist, summaryLine} from '../../checks/render.js'
import {DOCTOR_GROUPS, type DoctorReport} from '../../doctor/index.js'

export function formatDoctor(r: DoctorReport): string {
  const more = r.network ? '' : ' (--network also checks TCP reachability and clock skew)'
  return `${formatChecklist(r.checks, DOCTOR_GROUPS)}\n${summaryLine(r.summary, {skipped: r.skipped, durationMs: r.durationMs, suffix: more})}`
}
