/** The one human renderer of a Verdict: a checklist grouped by component, hints, a summary. */
import {COMPONENTS, type CheckOutcome, type Verdict} from './types.js'

export const ICONS = {pass: '✔', warn: '‼', fail: '✖'} as const

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n')
}

export function formatOutcome(o: CheckOutcome): string {
  const lines = [`${ICONS[o.result]} ${o.title} [${o.id}]`, indent(o.detail, '    ')]
  if (o.hint && o.result !== 'pass') lines.push(indent(`→ ${o.hint}`, '    '))
  return lines.join('\n')
}

export function formatVerdict(v: Verdict): string {
  const out: string[] = []
  for (const comp of COMPONENTS) {
    const mine = v.checks.filter((c) => c.component === comp)
    if (mine.length === 0) continue
    out.push(comp, '-'.repeat(comp.length), ...mine.map(formatOutcome), '')
  }
  const s = v.summary
  const parts = [`${s.pass} passed`, `${s.warn} warning${s.warn === 1 ? '' : 's'}`, `${s.fail} failed`]
  if (s.skipped) parts.push(`${s.skipped} skipped (${v.skipped.join(', ')})`)
  out.push(`${v.ok ? ICONS.pass : ICONS.fail} ${parts.join(', ')} in ${(v.durationMs / 1000).toFixed(1)}s`)
  return out.join('\n')
}
