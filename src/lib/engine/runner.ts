/**
 * The runner (DESIGN.md §3): phases strictly in order; each phase a listr2 task list with one task
 * per target, run concurrently. A task done in an earlier run with the same input fingerprint is
 * skipped; otherwise the phase's live check may find it already in the wanted state; otherwise it
 * runs. A failing task does not stop its siblings; the phase fails once all its targets finish and
 * later phases do not run. Ctrl-C / SIGTERM aborts the run, marks running tasks interrupted and
 * surfaces exit code 130. Nothing phase-specific lives here.
 */
import {setMaxListeners} from 'node:events'
import {obsctlDir} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import {eachLimited} from '../async.js'
import {ExitCode, ObsctlError, isPromptExit} from '../errors.js'
import {kubeconfigFiles} from '../platform/kube.js'
import {isCI} from '../prompt.js'
import {isTerminal} from '../stdio.js'
import {tone} from '../style.js'
import {lineRenderer, type RunEvent, type RunEventSink} from './events.js'
import {acquireLock, assertHeld, type Lock} from './lock.js'
import {newRunId, runLogsDir} from './logs.js'
import {Resources} from './resources.js'
import type {PhaseResult, RunResult, TaskResult} from './result.js'
import {failureOf} from './failure.js'
import {StateStore, stateFilePath, taskKey} from './state.js'
import {pendingTargets, runTask, type PhaseRunEnv} from './task.js'
import type {AnyPhase, PhaseRunRecord, RendererChoice, RunContext, RunSsh, Target, TaskRecord} from './types.js'

export type {AnyPhase, RendererChoice} from './types.js'

export interface RunOptions {
  inv: LoadedInventory
  dryRun?: boolean
  /** ignore the journal: every task runs (or re-checks live state) again */
  restart?: boolean
  /** max targets at once per phase (a phase's own `concurrency` wins) */
  concurrency?: number
  /** settings every phase of the run shares (ctx.kubeconfig, ctx.clusters, ctx.ssh); a phase's own are its factory's options */
  kubeconfig?: string
  clusters?: string[]
  ssh?: RunSsh
  /** `auto`: listr2's default renderer when stdout is a TTY (and CI unset), else `lines`; `silent` under --json */
  renderer?: RendererChoice
  /** extra observer of run events (tests, bootstrap's summary) */
  onEvent?: RunEventSink
  /** the command line shown in the lock file, e.g. `bootstrap --all` */
  command?: string
  /** how long to wait for tasks to stop after Ctrl-C before giving up on them (ms) */
  interruptGraceMs?: number
  /** handle SIGINT/SIGTERM (default true) */
  handleSignals?: boolean
  /**
   * The run lock of this inventory, already held by this process (lockInventory / acquireLock): the command that
   * edited the inventory under it runs its phases under it too, and releases it itself. Without it the run takes
   * the lock (LOCKED when another process holds it) and releases it at the end.
   */
  lock?: Lock
}

/**
 * A dry run's finished task is one that would run, not one that ran: listr2's ✔ (COMPLETED) becomes a
 * hollow ○ in the plan's colour, and the title says "would run" (would-skip tasks show listr2's skip arrow).
 */
const DRY_RUN_STYLE = () => ({icon: {COMPLETED: '○'}, color: {COMPLETED: (m?: string) => tone('plan', m ?? '')}})
/** what a settled task's promise becomes off a terminal (its result is already in the phase's record) */
const noop = () => undefined

export function resolveRenderer(choice: RendererChoice = 'auto'): Exclude<RendererChoice, 'auto'> {
  if (choice !== 'auto') return choice
  return isTerminal(1) && !isCI() ? 'default' : 'lines'
}

/**
 * A $KUBECONFIG the run's phases cannot use, refused before the run (exit 2 naming the variable; no lock, no journal
 * entry, no task log): its paths judged as kubectl judges them, no file read (../platform/kube.ts kubeconfigFiles). The
 * first phase that uses the kubeconfig decides: one that reads it needs a file there; one that writes it (bootstrap's
 * and cluster add's kubeconfig phase, before the phases that read) creates the last path, as kubectl does. Flows that
 * ask, lock or edit the inventory before the run call it first too.
 */
export function refuseBadKubeconfig(phases: readonly AnyPhase[], kubeconfig: string | undefined): void {
  const use = phases.find((p) => p.kubeconfig)?.kubeconfig
  if (use) kubeconfigFiles(kubeconfig, {read: use === 'read'})
}

export async function runPhases(phases: AnyPhase[], opts: RunOptions): Promise<RunResult> {
  refuseBadKubeconfig(phases, opts.kubeconfig)
  const started = Date.now()
  const dryRun = Boolean(opts.dryRun)
  const restart = Boolean(opts.restart)
  const renderer = resolveRenderer(opts.renderer)
  const stateDir = obsctlDir(opts.inv.dir)
  const runId = newRunId()
  const lines = renderer === 'lines' ? lineRenderer() : undefined
  const emit = (e: RunEvent) => {
    lines?.(e)
    opts.onEvent?.(e)
  }
  const notice = (message: string) => {
    emit({type: 'notice', message})
    if (renderer === 'default') process.stderr.write(`notice: ${message}\n`)
  }

  // a lock the caller holds (a command that edited the inventory under it) is used as it is, and left held
  if (opts.lock) assertHeld(opts.lock, stateDir)
  const lock: Lock | undefined = dryRun || opts.lock ? undefined : acquireLock(stateDir, opts.command ?? 'run', notice)
  // the journal is read under the lock: a run that finished while this one was starting keeps its records
  let state: StateStore
  try {
    state = StateStore.load(stateDir, opts.inv.file)
  } catch (error) {
    lock?.release()
    throw error
  }

  // what earlier runs left, as it was when this run started (ctx.journal.before)
  const loaded = state.records()
  const loadedRuns = state.phaseRuns()
  const ac = new AbortController()
  // every task of the run (and each SSH/HTTP request in it) listens on this one signal
  setMaxListeners(0, ac.signal)
  const resources = new Resources()
  const ctx: RunContext = {
    inv: opts.inv,
    platform: opts.inv.platform,
    stateDir,
    runId,
    dryRun,
    signal: ac.signal,
    kubeconfig: opts.kubeconfig,
    clusters: opts.clusters?.length ? opts.clusters : undefined,
    ssh: opts.ssh ?? {},
    resources,
    journal: {
      before: (phase, target) => loaded[taskKey(phase, target)],
      lastRun: (phase) => loadedRuns[phase],
      forgetTargets: (ids, keep) => (dryRun ? 0 : state.forgetTargets(ids, keep)),
    },
  }
  const running = new Map<string, TaskRecord>()
  /** the phase running now and its run record (PhaseRunRecord: `running` until the phase ends) */
  let phaseRun: {phase: string; rec: PhaseRunRecord} | undefined
  let interruptedBy: string | undefined
  const onSignal = (sig: string) => {
    if (interruptedBy) return
    interruptedBy = sig
    // on disk first, so even a run that cannot stop its tasks leaves the truth behind
    const at = new Date().toISOString()
    // the phase's run is interrupted now, whatever its tasks do next (none of them makes it finished)
    if (phaseRun) state.putPhaseRun(phaseRun.phase, {...phaseRun.rec, status: 'interrupted', endedAt: at})
    for (const rec of running.values()) {
      state.put({
        ...rec,
        status: 'interrupted',
        endedAt: at,
        failure: {message: `interrupted by ${sig}`, code: 'INTERRUPTED', exitCode: ExitCode.interrupted, hints: []},
      })
    }
    notice(`${sig}: stopping; running tasks are marked interrupted and resume on the next run`)
    ac.abort(new ObsctlError(`interrupted by ${sig}`, {exitCode: ExitCode.interrupted, code: 'INTERRUPTED'}))
  }
  const handleSignals = opts.handleSignals !== false && !dryRun
  if (handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }

  const result: RunResult = {
    runId,
    dryRun,
    restart,
    ok: true,
    interrupted: false,
    exitCode: ExitCode.ok,
    inventory: opts.inv.file,
    stateFile: stateFilePath(stateDir),
    logsDir: dryRun ? undefined : runLogsDir(stateDir, runId),
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    phases: [],
  }

  try {
    let stop = false
    for (const phase of phases) {
      if (stop || ac.signal.aborted) {
        result.phases.push({name: phase.name, title: phase.title, status: 'not-run', durationMs: 0, tasks: []})
        continue
      }
      // the phase's run is on disk before its first task: a run stopped anywhere in it (even between two tasks,
      // with every task it started done) is found unfinished by the next one (RunJournal.lastRun)
      if (!dryRun) {
        phaseRun = {phase: phase.name, rec: {runId, status: 'running', startedAt: new Date().toISOString()}}
        state.putPhaseRun(phase.name, phaseRun.rec)
      }
      const pr = await runPhase(phase, {
        ctx,
        state,
        dryRun,
        restart,
        renderer,
        emit,
        running,
        concurrency: opts.concurrency,
        graceMs: opts.interruptGraceMs ?? 5000,
        interrupt: onSignal,
      })
      result.phases.push(pr)
      // its end (after a signal: already recorded interrupted, at the time it came)
      if (phaseRun && !interruptedBy) {
        const status = pr.status === 'done' ? 'done' : pr.status === 'interrupted' ? 'interrupted' : 'failed'
        state.putPhaseRun(phase.name, {...phaseRun.rec, status, endedAt: new Date().toISOString()})
      }
      phaseRun = undefined
      if (pr.status === 'failed' || pr.status === 'interrupted') stop = true
    }
  } finally {
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
    const closeErrors = await resources.closeAll()
    for (const e of closeErrors) notice(`closing ${e}`)
    lock?.release()
  }

  result.durationMs = Date.now() - started
  result.interrupted = Boolean(interruptedBy)
  result.ok = !result.interrupted && result.phases.every((p) => p.status === 'done' || p.status === 'planned')
  result.exitCode = result.interrupted ? ExitCode.interrupted : result.ok ? ExitCode.ok : ExitCode.failed
  if (result.interrupted) {
    const by = interruptedBy === 'SIGINT' ? 'SIGINT (Ctrl-C)' : interruptedBy
    throw new ObsctlError(`interrupted by ${by}; interrupted tasks resume on the next run`, {
      exitCode: ExitCode.interrupted,
      code: 'INTERRUPTED',
      details: result,
      hints: ['run the same command again to resume: finished tasks are not redone (obsctl state show lists them)', `logs: ${result.logsDir}`],
    })
  }
  return result
}

async function runPhase(phase: AnyPhase, env: PhaseRunEnv): Promise<PhaseResult> {
  const t0 = Date.now()
  const {ctx, emit} = env
  const pr: PhaseResult = {name: phase.name, title: phase.title, status: env.dryRun ? 'planned' : 'done', durationMs: 0, tasks: []}
  let targets: Target[]
  try {
    targets = await phase.targets(ctx)
  } catch (e) {
    pr.status = 'failed'
    pr.failure = failureOf(e, 'listing targets: ')
    pr.error = pr.failure.message
    pr.durationMs = Date.now() - t0
    emit({type: 'phase-start', phase: phase.name, title: phase.title, targets: 0, dryRun: env.dryRun})
    emit({type: 'phase-end', phase: phase.name, status: 'failed', durationMs: pr.durationMs, failed: 0, error: pr.error})
    return pr
  }
  emit({type: 'phase-start', phase: phase.name, title: phase.title, targets: targets.length, dryRun: env.dryRun})
  pr.tasks = targets.map((t) => ({phase: phase.name, target: t.id, title: t.title ?? t.id, status: 'not-run'}))

  if (targets.length > 0 && phase.prepare && !env.dryRun) {
    const pending = await pendingTargets(phase, targets, env)
    // a failed prepare() is retried by the tasks themselves; Ctrl-C at its prompt stops the run (exit 130)
    if (pending.length > 0) await phase.prepare(pending, ctx).catch((e: unknown) => (isPromptExit(e) ? env.interrupt('Ctrl-C at a prompt') : undefined))
  }

  if (targets.length > 0) {
    const concurrency = phase.concurrency ?? env.concurrency
    const run = (i: number, progress: (line: string) => void) => runTask(phase, targets[i]!, pr.tasks[i]!, env, progress)
    // on a terminal listr2 draws the tasks; elsewhere the events are the output (lines, or nothing under --json) and the
    // tasks only run, at most `concurrency` at once: listr2 is not loaded for that (~4 ms of CPU). Either way a task that
    // throws (runTask records its own failures; this is a journal it could not write) leaves its record not-run and the
    // others go on
    const done =
      env.renderer === 'default'
        ? drawTasks(phase, targets, concurrency, env.dryRun, run)
        : eachLimited(targets, concurrency, (_, i) => run(i, () => undefined).then(noop, noop))
    // after Ctrl-C, give tasks a grace period to stop, then stop waiting for them
    let graceTimer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<void>((resolve) => {
      const arm = () => {
        graceTimer = setTimeout(resolve, env.graceMs)
      }
      if (ctx.signal.aborted) arm()
      else ctx.signal.addEventListener('abort', arm, {once: true})
    })
    await Promise.race([done, gaveUp])
    if (graceTimer) clearTimeout(graceTimer)
    // tasks that did not stop within the grace period: already marked interrupted on disk
    for (const t of pr.tasks) if (t.status === 'not-run' && env.running.has(`${phase.name}/${t.target}`)) t.status = 'interrupted'
  }

  const failed = pr.tasks.filter((t) => t.status === 'failed').length
  if (pr.tasks.some((t) => t.status === 'interrupted') || ctx.signal.aborted) pr.status = 'interrupted'
  else if (failed > 0) pr.status = 'failed'
  pr.durationMs = Date.now() - t0
  emit({type: 'phase-end', phase: phase.name, status: pr.status, durationMs: pr.durationMs, failed})
  return pr
}

/**
 * The phase's tasks run under listr2's default renderer, its lines fitted by obsctl (./listr-renderer.ts): each task's
 * last output line under it, its outcome in its title. Settles when every task has.
 */
async function drawTasks(
  phase: AnyPhase,
  targets: Target[],
  concurrency: number | undefined,
  dryRun: boolean,
  run: (i: number, progress: (line: string) => void) => Promise<TaskResult>,
): Promise<void> {
  const [{Listr}, {FittedRenderer}] = await Promise.all([import('listr2'), import('./listr-renderer.js')])
  type Drawn = {title: string; output: string | undefined; skip(msg?: string): void}
  // the phase's own line: not ✔ when a task of it was interrupted (listr2 leaves a task skipped while its subtasks run)
  let phaseLine: Drawn | undefined
  const work = targets.map((target, i) => ({
    title: target.title ?? target.id,
    task: async (_c: unknown, task: Drawn) => {
      const tr = await run(i, (line) => {
        task.output = line
      })
      if (tr.status === 'unchanged' || tr.status === 'in-state' || tr.status === 'would-skip' || tr.status === 'not-run')
        task.skip(`${task.title}: ${tr.summary ?? tr.status}`)
      else if (tr.status === 'would-run') task.title = `${task.title}: would run: ${tr.description}`
      else if (tr.status === 'failed') throw new Error(`${task.title}: ${tr.error ?? tr.status}`)
      // an interrupted task did not fail (no ✖): shown as skipped, saying so (as the journal has it); it resumes on the next run
      else if (tr.status === 'interrupted') {
        task.skip(`${task.title}: ${tr.error ?? 'interrupted'}; resumes on the next run`)
        if (phaseLine && !phaseLine.title.endsWith(': interrupted')) {
          phaseLine.title = `${phaseLine.title}: interrupted`
          phaseLine.skip(phaseLine.title)
        }
      } else if (tr.summary) task.title = `${task.title}: ${tr.summary}`
    },
  }))
  const list = new Listr(
    [
      {
        title: `${dryRun ? '[dry-run] ' : ''}${phase.title} (${phase.name})`,
        task: (_c, parent) => {
          phaseLine = parent
          return parent.newListr(work, {concurrent: concurrency && concurrency > 0 ? concurrency : true, exitOnError: false})
        },
      },
    ],
    {
      renderer: FittedRenderer,
      exitOnError: false,
      registerSignalListeners: false,
      collectErrors: false,
      rendererOptions: {collapseSubtasks: false, collapseSkips: false, ...(dryRun && DRY_RUN_STYLE())},
    },
  )
  await list.run().catch(() => undefined)
}
