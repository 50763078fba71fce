/**
 * The renderers of check outcomes: the icon of each status, one outcome as checklist lines, a
 * checklist grouped by heading, the summary line. JSON needs none: outcomes are plain data.
 * Plain text (no colour codes), so widths hold in logs and pipes.
 */
import type {CheckStatus, Outcome, Summary} from './model.js'

export const ICONS: Record<CheckStatus, string> = {pass: '✔', info: 'ℹ', warn: '‼', fail: '✖'}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n')
}

/**
 * `✔ Title [id]` (with the target first when there is one), the detail under it, and `→ hint` under a
 * problem.
 */
export function formatOutcome(o: Outcome): string {
  const lines = [`${ICONS[o.status]} ${o.target ? `${o.target} ` : ''}${o.title} [${o.id}]`, indent(o.detail, '    ')]
  if (o.hint && o.status !== 'pass') lines.push(indent(`→ ${o.hint}`, '    '))
  return lines.join('\n')
}

/** One line for a log: the outcome's lines joined with " | ". */
export const outcomeLine = (o: Outcome): string =>
  formatOutcome(o)
    .split('\n')
    .map((l) => l.trim())
    .join(' | ')

/** "3 passed, 1 warning, 0 failed" (info and skipped only when there are some). */
export function summaryText(s: Summary, skippedIds: readonly string[] = []): string {
  const parts = [`${s.pass} passed`]
  if (s.info) parts.push(`${s.info} info`)
  parts.push(`${s.warn} warning${s.warn === 1 ? '' : 's'}`, `${s.fail} failed`)
  if (s.skipped) parts.push(`${s.skipped} skipped${skippedIds.length ? ` (${skippedIds.join(', ')})` : ''}`)
  return parts.join(', ')
}

/** The summary line: ✔ when nothing failed, else ✖; then the counts and what else the caller adds. */
export function summaryLine(s: Summary, opts: {skipped?: readonly string[]; durationMs?: number; suffix?: string} = {}): string {
  const took = opts.durationMs === undefined ? '' : ` in ${(opts.durationMs / 1000).toFixed(1)}s`
  return `${s.fail === 0 ? ICONS.pass : ICONS.fail} ${summaryText(s, opts.skipped)}${took}${opts.suffix ?? ''}`
}

/**
 * A checklist: outcomes under their group headings (in `groups` order when given, else first seen),
 * a blank line after each group. Outcomes without a group come first, without a heading.
 */
export function formatChecklist(outcomes: readonly Outcome[], groups?: readonly string[]): string {
  const order = groups ?? [...new Set(outcomes.map((o) => o.group).filter((g): g is string => Boolean(g)))]
  const out: string[] = []
  const loose = outcomes.filter((o) => !o.group)
  if (loose.length) out.push(...loose.map(formatOutcome), '')
  for (const g of order) {
    const mine = outcomes.filter((o) => o.group === g)
    if (mine.length === 0) continue
    out.push(g, '-'.repeat(g.length), ...mine.map(formatOutcome), '')
  }
  return out.join('\n')
}
