/**
 * `obsctl logs`: a run's task logs from `.obsctl/logs/<runId>/<phase>/<target>.log` (the latest run
 * unless one is named), redacted; and, for `--verbose`, the tail of each failed task's log.
 */
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import {obsctlDir} from '../config/model.js'
import {inputError} from '../errors.js'
import {listRuns, readTaskLog, runTaskLogs, type TaskLogFile} from './logs.js'
import type {RunResult} from './result.js'
import {StateStore} from './state.js'

export interface LogsResult {
  /** `.obsctl/logs` */
  logsDir: string
  /** every run that left logs, oldest first */
  runs: string[]
  /** the run shown (undefined: none has left logs yet) */
  runId?: string
  tasks: TaskLogFile[]
}

export function showLogs(inv: LoadedInventory, o: {run?: string; phases?: string[]; targets?: string[]; tail?: number} = {}): LogsResult {
  const stateDir = obsctlDir(inv.dir)
  const logsDir = path.join(stateDir, 'logs')
  const runs = listRuns(stateDir)
  if (o.run !== undefined && !runs.includes(o.run)) {
    const matches = runs.filter((r) => r.startsWith(o.run!))
    if (matches.length !== 1) {
      throw inputError(
        `--run ${o.run}: ${matches.length ? `${matches.length} runs start with it` : 'no such run'} in ${logsDir}`,
        [runs.length ? `runs (latest last): ${runs.slice(-5).join(', ')}` : 'no run has left logs yet (dry runs write none)'],
        'BAD_RUN',
      )
    }
    o = {...o, run: matches[0]}
  }
  const runId = o.run ?? runs.at(-1)
  if (!runId) return {logsDir, runs, tasks: []}
  const known = StateStore.load(stateDir, inv.file).all()
  return {logsDir, runs, runId, tasks: runTaskLogs(stateDir, runId, {phases: o.phases, targets: o.targets, tail: o.tail, known})}
}

/** The run result inside a command's result (itself, or its `run`), if any. */
export function runResultIn(x: unknown): RunResult | undefined {
  const isRun = (v: unknown): v is RunResult => typeof v === 'object' && v !== null && 'runId' in v && Array.isArray((v as RunResult).phases)
  if (isRun(x)) return x
  const inner = typeof x === 'object' && x !== null ? (x as {run?: unknown}).run : undefined
  return isRun(inner) ? inner : undefined
}

/** The last `lines` lines of each failed (or interrupted) task's log, redacted. */
export function failedTaskTails(run: RunResult, lines = 20): TaskLogFile[] {
  const out: TaskLogFile[] = []
  for (const ph of run.phases) {
    for (const t of ph.tasks) {
      if ((t.status !== 'failed' && t.status !== 'interrupted') || !t.logFile) continue
      try {
        out.push({phase: t.phase, target: t.target, file: t.logFile, ...readTaskLog(t.logFile, lines)})
      } catch {
        // a task that failed before it wrote its log (its error is in the summary)
      }
    }
  }
  return out
}
