/** `obsctl validate`'s human output: the checklist grouped by component, hints, the summary line. */
import {formatChecklist, summaryLine} from '../../checks/render.js'
import {toOutcome} from '../../validate/run.js'
import {COMPONENTS, type Verdict} from '../../validate/types.js'

export function formatVerdict(v: Verdict): string {
  const s = v.summary
  return `${formatChecklist(v.checks.map(toOutcome), COMPONENTS)}\n${summaryLine({...s, info: 0}, {skipped: v.skipped, durationMs: v.durationMs})}`
}
