/**
 * One task of a phase (DESIGN.md §3): skipped when the journal has it done with the same fingerprint,
 * else the live check, else run(); its summary, report or structured failure go to the journal, the
 * run result and the event stream.
 */
import {redactText} from '../config/validators.js'
import {ObsctlError} from '../errors.js'
import type {RunEvent} from './events.js'
import {failureOf} from './failure.js'
import {killPoint, killPointHandled} from './kill-point.js'
import {TaskLog, taskLogPath} from './logs.js'
import type {TaskResult} from './result.js'
import {fingerprintOf, type StateStore} from './state.js'
import type {AnyPhase, RendererChoice, RunContext, Target, TaskIO, TaskOutput, TaskRecord} from './types.js'

export interface PhaseRunEnv {
  ctx: RunContext
  state: StateStore
  dryRun: boolean
  restart: boolean
  renderer: Exclude<RendererChoice, 'auto'>
  emit: (e: RunEvent) => void
  running: Map<string, TaskRecord>
  concurrency?: number
  graceMs: number
  /** stop the run as Ctrl-C does (Ctrl-C at a prompt of prepare()) */
  interrupt: (why: string) => void
}

/** The targets a run would not skip as unchanged (a fingerprint that fails counts as pending). */
export async function pendingTargets(phase: AnyPhase, targets: Target[], env: PhaseRunEnv): Promise<Target[]> {
  if (env.restart) return targets
  const out: Target[] = []
  for (const t of targets) {
    const prev = env.state.get(phase.name, t.id)
    let fp: string | undefined
    try {
      fp = fingerprintOf(await phase.fingerprint(t, env.ctx))
    } catch {}
    if (!(prev?.status === 'done' && fp !== undefined && prev.fingerprint === fp)) out.push(t)
  }
  return out
}

export async function runTask(phase: AnyPhase, target: Target, tr: TaskResult, env: PhaseRunEnv, progress: (line: string) => void): Promise<TaskResult> {
  const {ctx, state, emit} = env
  const key = `${phase.name}/${target.id}`
  if (ctx.signal.aborted) return tr
  const t0 = Date.now()
  let fp: string
  try {
    fp = fingerprintOf(await phase.fingerprint(target, ctx))
  } catch (e) {
    return finish(tr, failed(failureOf(e, 'fingerprint: '), {durationMs: 0}), env)
  }
  const prev = state.get(phase.name, target.id)
  const unchanged = !env.restart && prev?.status === 'done' && prev.fingerprint === fp

  if (env.dryRun) {
    try {
      tr.description = await phase.describe(target, ctx)
    } catch (e) {
      return finish(tr, failed(failureOf(e, 'describe: ')), env)
    }
    return finish(tr, unchanged ? {status: 'would-skip', summary: 'done, unchanged'} : {status: 'would-run'}, env)
  }
  const kept = prev?.report !== undefined ? {report: prev.report} : {}
  if (unchanged && !(phase.recheck && phase.isDone)) return finish(tr, {status: 'unchanged', summary: 'done, unchanged', ...kept}, env)
  if (unchanged) {
    // a recheck phase: the journal alone is not trusted; its cheap live check must agree, else it runs again
    const quiet: TaskIO = {log: () => undefined, logFile: '', signal: ctx.signal}
    let found: boolean | string | TaskOutput = false
    try {
      found = await phase.isDone!(target, ctx, quiet)
    } catch {}
    if (found) return finish(tr, {status: 'unchanged', summary: 'done, unchanged', ...kept}, env)
  }

  const logFile = taskLogPath(ctx.stateDir, ctx.runId, phase.name, target.id)
  tr.logFile = logFile
  const log = new TaskLog(logFile, (line) => {
    progress(line)
    emit({type: 'task-progress', phase: phase.name, target: target.id, line})
  })
  const io: TaskIO = {
    log: (line) => {
      log.write(line)
      killPoint(`${phase.name}:log`)
    },
    logFile,
    signal: ctx.signal,
  }
  const rec: TaskRecord = {
    phase: phase.name,
    target: target.id,
    status: 'running',
    fingerprint: fp,
    startedAt: new Date(t0).toISOString(),
    runId: ctx.runId,
    logFile,
  }
  env.running.set(key, rec)
  await state.putDurable(rec)
  killPoint(`${phase.name}:start`)
  emit({type: 'task-start', phase: phase.name, target: target.id})
  let outcome: Partial<TaskResult>
  try {
    log.write(`task: ${await phase.describe(target, ctx)}`)
    const found = phase.isDone ? await phase.isDone(target, ctx, io) : false
    if (found) {
      const out: TaskOutput = typeof found === 'object' ? found : {summary: typeof found === 'string' ? found : undefined}
      outcome = {
        status: 'in-state',
        summary: out.summary ? `already in wanted state: ${out.summary}` : 'already in wanted state',
        ...(out.report !== undefined && {report: out.report}),
      }
    } else {
      ctx.signal.throwIfAborted()
      const out = await phase.run(target, ctx, io)
      killPoint(`${phase.name}:after-run`)
      outcome = {status: 'done', summary: out.summary || undefined, ...(out.report !== undefined && {report: out.report})}
    }
  } catch (e) {
    const failure = failureOf(e)
    // stopped by the run's signal: interrupted, in the task's words when it says where it stopped (INTERRUPTED: `…after
    // the commit, before the push`), else in the signal's (as the runner recorded it when it came) — not as a failure
    // of its own (preflight's `1 check(s) failed: SSH: interrupted`), which its log keeps
    const stopped = ctx.signal.aborted ? (failure.code === 'INTERRUPTED' ? failure : failureOf(ctx.signal.reason)) : undefined
    outcome = stopped ? {status: 'interrupted', error: stopped.message, failure: stopped} : failed(failure)
    try {
      if (e instanceof Error && e.stack && !(e instanceof ObsctlError)) log.write(e.stack, true)
      log.write(`ERROR: ${failure.message}`, true)
    } catch {}
  } finally {
    log.close()
    env.running.delete(key)
  }
  // a summary goes where a failure's message goes (the journal, task-end events, the progress line): redacted the same
  if (outcome.summary) outcome.summary = redactText(outcome.summary)
  const endedAt = new Date()
  outcome.durationMs = endedAt.getTime() - t0
  await state.putDurable({
    ...rec,
    status: outcome.status === 'in-state' ? 'done' : (outcome.status as 'done' | 'failed' | 'interrupted'),
    endedAt: endedAt.toISOString(),
    durationMs: outcome.durationMs,
    summary: outcome.summary,
    report: outcome.report,
    failure: outcome.failure,
  })
  const ended = finish(tr, outcome, env)
  await killPointHandled(`${phase.name}:recorded`)
  return ended
}

function failed(failure: TaskResult['failure'] & {}, extra: Partial<TaskResult> = {}): Partial<TaskResult> {
  return {status: 'failed', error: failure.message, failure, ...extra}
}

function finish(tr: TaskResult, outcome: Partial<TaskResult>, env: PhaseRunEnv): TaskResult {
  Object.assign(tr, outcome)
  env.emit({
    type: 'task-end',
    phase: tr.phase,
    target: tr.target,
    status: tr.status,
    durationMs: tr.durationMs,
    summary: tr.summary ?? tr.description,
    error: tr.error,
    logFile: tr.logFile,
  })
  return tr
}
