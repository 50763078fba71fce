/** Human views of plans, runs and the journal (the --json output is the object they are drawn from). */
import {table} from '../table.js'
import type {PlanResult} from './plan.js'
import type {RunResult} from './result.js'
import type {PhaseRunShown, StateShowResult} from './plan.js'

/**
 * What a dry run says a task would do, in the words of the task list and `obsctl plan`: `would run: DESCRIPTION`
 * (a description names what it runs — `ssh HOST: …`, `server-side apply …` — so `would ` alone misreads).
 */
export const wouldRun = (description: string | undefined): string => `would run: ${description ?? ''}`.trimEnd()

/**
 * How every dry run's human output ends, in one wording (bootstrap's summary, cluster add's plan, the day-2
 * commands): whoever reads only the last line knows that nothing was touched. Human output only: --json has `dryRun`.
 */
export const DRY_RUN_CLOSING = 'dry run: nothing was changed'

/** A dry run's human output: what it would do, a blank line, then DRY_RUN_CLOSING. */
export function endDryRun(body: string | string[]): string {
  const text = (typeof body === 'string' ? body : body.join('\n')).trimEnd()
  return text ? `${text}\n\n${DRY_RUN_CLOSING}` : DRY_RUN_CLOSING
}

/**
 * What a dry run says of one task: `would run: DESCRIPTION`, or, for a task the journal has done with the same
 * inputs (status would-skip: the real run skips it), `would skip: done, unchanged` — a dry run after a success plans
 * nothing, in words as in --json.
 */
export const wouldDo = (t: {status: string; description?: string}): string =>
  t.status === 'would-skip' ? 'would skip: done, unchanged' : wouldRun(t.description)

/** A dry run's tasks, one a line: `PHASE TARGET: would run: DESCRIPTION` (or `would skip: done, unchanged`). */
export const wouldRunLines = (r: Pick<RunResult, 'phases'>): string[] => r.phases.flatMap((p) => p.tasks.map((t) => `${p.name} ${t.target}: ${wouldDo(t)}`))

const secs = (ms?: number) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`)

export function formatPlan(p: PlanResult): string {
  const rows: string[][] = []
  for (const ph of p.phases) {
    if (ph.error) rows.push([ph.name, '-', 'error', `cannot list targets: ${ph.error}`])
    for (const t of ph.tasks) rows.push([ph.name, t.target, t.state === 'changed' ? 'changed since' : t.state, t.description])
  }
  const c = p.counts
  const out = [table(['PHASE', 'TARGET', 'STATE', 'WOULD DO'], rows), '']
  out.push(
    `${c.done} done, ${c.pending} pending, ${c.changed} changed since, ${c.failed} failed, ${c.interrupted} interrupted${c.running ? `, ${c.running} running` : ''} (state: ${p.stateFile})`,
  )
  if (p.lock) out.push(`a run is in progress: pid ${p.lock.pid} on ${p.lock.host}, started ${p.lock.startedAt} (${p.lock.command})`)
  return out.join('\n')
}

/** The RESULT column in words (the JSON keeps the status as it is: `would-run`). */
const RESULT_WORDS: Partial<Record<RunResult['phases'][number]['tasks'][number]['status'], string>> = {
  'would-run': 'would run',
  'would-skip': 'would skip',
  'not-run': 'not run',
  'in-state': 'in state',
}

export function formatRunSummary(r: RunResult): string {
  const rows: string[][] = []
  for (const ph of r.phases) {
    if (ph.error) rows.push([ph.name, '-', 'failed', '', ph.error])
    if (ph.tasks.length === 0 && !ph.error)
      rows.push([
        ph.name,
        '-',
        ph.status,
        ph.status === 'not-run' ? '' : secs(ph.durationMs),
        ph.status === 'not-run' ? 'an earlier phase did not finish' : 'no targets',
      ])
    for (const t of ph.tasks)
      rows.push([ph.name, t.target, RESULT_WORDS[t.status] ?? t.status, secs(t.durationMs), t.error ?? t.summary ?? t.description ?? ''])
  }
  const verdict = r.ok ? 'all phases done' : r.interrupted ? 'interrupted' : 'failed'
  return [
    table(['PHASE', 'TARGET', 'RESULT', 'TIME', 'DETAIL'], rows),
    '',
    // a dry run's time is its planning's: the closing line reads the same as every other dry run's
    r.dryRun ? DRY_RUN_CLOSING : `${verdict} in ${secs(r.durationMs)}${r.logsDir ? `; logs: ${r.logsDir}` : ''}`,
    ...nextSteps(r).map((h) => `  → ${h}`),
  ].join('\n')
}

/**
 * What to do after a run that did not finish: the failures' own hints (each once), then how to go on. A failed run
 * printed its table and stopped, and the hint that fixes it (`is the node up and sshd listening…?`) was only in the
 * journal.
 */
function nextSteps(r: RunResult): string[] {
  if (r.ok || r.dryRun) return []
  const hints = new Set<string>()
  for (const ph of r.phases) {
    for (const h of ph.failure?.hints ?? []) hints.add(h)
    for (const t of ph.tasks) if (t.status === 'failed') for (const h of t.failure?.hints ?? []) hints.add(h)
  }
  hints.add(
    `${r.interrupted ? 'run' : 'fix what failed and run'} the same command again: finished tasks are not redone (obsctl logs${r.runId ? ` --run ${r.runId}` : ''} prints the task logs)`,
  )
  return [...hints]
}

export function formatState(s: StateShowResult): string {
  const logs = `task logs: ${s.logsDir}${s.lastRun ? ` (latest run ${s.lastRun}; obsctl logs prints them)` : ' (none yet)'}`
  if (!s.exists) return `no state yet (${s.stateFile}): nothing has run\n${logs}`
  const rows = s.tasks.map((t) => [t.phase, t.target, t.status, t.endedAt ?? t.startedAt ?? '', secs(t.durationMs), t.failure?.message ?? t.summary ?? ''])
  const out = [table(['PHASE', 'TARGET', 'STATUS', 'AT', 'TIME', 'DETAIL'], rows), '']
  if (s.phaseRuns.length) out.push(...formatPhaseRuns(s.phaseRuns), '')
  out.push(`${s.tasks.length} task(s) in ${s.stateFile}, updated ${s.updatedAt}`, logs)
  if (s.lock) out.push(`a run is in progress: pid ${s.lock.pid} on ${s.lock.host}, started ${s.lock.startedAt} (${s.lock.command})`)
  return out.join('\n')
}

/**
 * The latest run of each phase, under the run's id (one run usually covers several phases), one line a phase: its
 * status and when it ended (when it started, for a run that has not ended: running, killed). Narrow enough for 80
 * columns with the longest phase name and run id.
 */
function formatPhaseRuns(runs: PhaseRunShown[]): string[] {
  const rows = runs.map((r) => [r.phase, r.status, r.endedAt ? `ended ${r.endedAt}` : `started ${r.startedAt}`])
  // one table for every run's lines, so the columns line up across runs; its (empty) header line dropped
  const lines = table(['', '', ''], rows).split('\n').slice(1)
  const out = ['the latest run of each phase (obsctl logs --run RUN prints its task logs):']
  runs.forEach((r, i) => {
    if (runs[i - 1]?.runId !== r.runId) out.push(`run ${r.runId}`)
    out.push(`  ${lines[i]}`)
  })
  return out
}
