/**
 * One phase as a command (`s3 setup`, `kubeconfig merge`, `secrets apply`, `argocd install|sync`,
 * `cluster register`): the engine run (journal, lock, per-task logs, Ctrl-C → 130), the phase's reports
 * read from the run result, and the first structured task failure thrown as the command's error — its
 * exit code and hints intact (a task failing with a bad-input error makes the command exit 2).
 */
import {ObsctlError} from '../errors.js'
import {list} from '../words.js'
import {failureError} from './failure.js'
import type {RunResult} from './result.js'
import {runPhases, type RunOptions} from './runner.js'
import type {Phase, Target} from './types.js'

export interface StandaloneOptions extends Omit<RunOptions, 'restart' | 'command'> {
  /** the command line shown in the lock and in a failure without a code of its own, e.g. `s3 setup` */
  command: string
  /**
   * ignore the journal (default true: an explicit command always looks at the live system; bootstrap trusts the
   * journal). A dry run, which looks at no live system, says what the journal says (default false there): a task done
   * with the same inputs would be skipped, and the plan after a success is empty instead of the whole job again.
   */
  restart?: boolean
  /** the code of the error when no failed task carries one (an unexpected error) */
  failureCode?: string
}

export interface StandaloneResult<R> {
  run: RunResult
  /** the reports of the tasks that did work or found the target in state, in target order */
  reports: R[]
}

/** The reports of a run's tasks (every phase), in order. */
export function runReports<R = unknown>(run: RunResult, phase?: string): R[] {
  return run.phases
    .filter((p) => !phase || p.name === phase)
    .flatMap((p) => p.tasks)
    .filter((t) => t.report !== undefined)
    .map((t) => t.report as R)
}

/** failed tasks whose messages a run's error says (the others by count) */
const MESSAGES_SHOWN = 5

/**
 * The error of a run that did not finish: the first structured failure (a phase that could not list its
 * targets, else the first failed task in target order whose error had a code), with the other failed
 * targets and the logs folder as hints; otherwise every failed task's message under `failureCode`.
 */
export function runFailure(run: RunResult, command: string, failureCode = 'TASK_FAILED'): ObsctlError {
  const failed = run.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed')
  const logs = run.logsDir ? [`task logs: ${run.logsDir}`] : []
  // a fleet's failed targets, and their messages, by the first few and how many more (each is in the journal and its log)
  const others = failed.length > 1 ? [`${failed.length} tasks failed: ${list(failed.map((t) => t.target))}`] : []
  const first = run.phases.find((p) => p.failure?.code)?.failure ?? failed.find((t) => t.failure?.code)?.failure
  if (first) return failureError(first, {hints: [...others, ...logs], details: {run}})
  const shown = failed.slice(0, MESSAGES_SHOWN).map((t) => `${t.target}: ${t.error}`)
  if (failed.length > MESSAGES_SHOWN) shown.push(`and ${failed.length - MESSAGES_SHOWN} more (obsctl state show)`)
  const what = shown.join('; ') || run.phases.find((p) => p.error)?.error || 'a task did not finish'
  return new ObsctlError(`${command} failed: ${what}`, {code: failureCode, hints: logs, details: {run}})
}

export async function runStandalone<T extends Target, R>(phase: Phase<T, R>, opts: StandaloneOptions): Promise<StandaloneResult<R>> {
  const {failureCode, ...rest} = opts
  const run = await runPhases([phase], {...rest, restart: opts.restart ?? !opts.dryRun})
  if (!run.ok) throw runFailure(run, opts.command, failureCode)
  return {run, reports: runReports<R>(run)}
}
