/** The result of a run: what `bootstrap` prints as its summary and returns under --json. */
import type {TaskFailure} from './types.js'

export type TaskOutcome =
  /** ran now and succeeded */
  | 'done'
  /** skipped: done in an earlier run with the same input fingerprint */
  | 'unchanged'
  /** skipped: the live check says the target is already in the wanted state */
  | 'in-state'
  | 'failed'
  | 'interrupted'
  /** dry run: run() would be called */
  | 'would-run'
  /** dry run: the journal says done and unchanged */
  | 'would-skip'
  /** never started (an earlier phase failed, or the run was interrupted first) */
  | 'not-run'

export interface TaskResult {
  phase: string
  target: string
  title: string
  status: TaskOutcome
  /** run()'s one-line summary, or why it was skipped */
  summary?: string
  /** describe(): what the task does */
  description?: string
  /** the phase's report (ran now, found in state by the live check, or kept by the journal when unchanged) */
  report?: unknown
  /** the failure's message (failure.message) */
  error?: string
  failure?: TaskFailure
  durationMs?: number
  logFile?: string
}

export type PhaseOutcome = 'done' | 'failed' | 'interrupted' | 'not-run' | 'planned'

export interface PhaseResult {
  name: string
  title: string
  status: PhaseOutcome
  durationMs: number
  /** targets() itself failed */
  error?: string
  failure?: TaskFailure
  tasks: TaskResult[]
}

export interface RunResult {
  runId: string
  dryRun: boolean
  restart: boolean
  ok: boolean
  interrupted: boolean
  exitCode: number
  inventory: string
  stateFile: string
  /** `.obsctl/logs/<runId>` (absent on dry runs: nothing is written) */
  logsDir?: string
  startedAt: string
  durationMs: number
  phases: PhaseResult[]
}
