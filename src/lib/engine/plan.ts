/**
 * `obsctl plan` and `obsctl state show|reset`: read the journal and ask each phase for its targets,
 * fingerprints and one-line descriptions. Nothing here contacts a remote system.
 */
import path from 'node:path'
import {obsctlDir} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import {errorMessage, inputError} from '../errors.js'
import {acquireLock, holderAlive, readLock, type LockInfo} from './lock.js'
import {listRuns} from './logs.js'
import {Resources} from './resources.js'
import {StateStore, fingerprintOf} from './state.js'
import type {Phase, PhaseRunRecord, RunContext, Target, TaskRecord} from './types.js'

export type PlanState = 'done' | 'pending' | 'failed' | 'interrupted' | 'changed' | 'running'

export interface PlanTask {
  phase: string
  target: string
  title: string
  /** done (same inputs as last time) / pending / failed / interrupted / changed (done, but inputs changed since) / running */
  state: PlanState
  /** what the task does (the phase's describe()) */
  description: string
  lastRun?: Pick<TaskRecord, 'status' | 'startedAt' | 'endedAt' | 'summary' | 'failure' | 'runId'>
}

export interface PlanPhase {
  name: string
  title: string
  error?: string
  tasks: PlanTask[]
}

export interface PlanResult {
  inventory: string
  stateFile: string
  /** a run in progress, if any */
  lock?: LockInfo
  phases: PlanPhase[]
  counts: Record<PlanState, number>
}

/** What plan needs of a run: the inventory and the settings every phase shares. */
export interface PlanOptions {
  inv: LoadedInventory
  kubeconfig?: string
  clusters?: string[]
}

function planContext(o: PlanOptions, resources: Resources): RunContext {
  const inv = o.inv
  return {
    inv,
    platform: inv.platform,
    stateDir: obsctlDir(inv.dir),
    runId: 'plan',
    dryRun: true,
    signal: new AbortController().signal,
    kubeconfig: o.kubeconfig,
    clusters: o.clusters?.length ? o.clusters : undefined,
    ssh: {},
    resources,
  }
}

function activeLock(stateDir: string): LockInfo | undefined {
  const l = readLock(stateDir)
  return l && holderAlive(l) ? l : undefined
}

/**
 * A task the journal says is running is running only while another live process holds the run lock; else
 * its run was killed (SIGKILL, a crash, a lost machine) before it could mark the task interrupted.
 */
function stillRunning(lock: LockInfo | undefined): boolean {
  return Boolean(lock && lock.pid !== process.pid)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a flow's list mixes target/report types (see AnyPhase)
export async function planPhases(phases: Phase<any, any>[], opts: PlanOptions): Promise<PlanResult> {
  const stateDir = obsctlDir(opts.inv.dir)
  const state = StateStore.load(stateDir, opts.inv.file)
  const lock = activeLock(stateDir)
  const resources = new Resources()
  const ctx = planContext(opts, resources)
  const counts: Record<PlanState, number> = {done: 0, pending: 0, failed: 0, interrupted: 0, changed: 0, running: 0}
  try {
    const out: PlanPhase[] = await Promise.all(
      phases.map(async (phase) => {
        const pp: PlanPhase = {name: phase.name, title: phase.title, tasks: []}
        let targets: Target[]
        try {
          targets = await phase.targets(ctx)
        } catch (e) {
          pp.error = errorMessage(e)
          return pp
        }
        for (const t of targets) {
          const rec = state.get(phase.name, t.id)
          let description: string
          try {
            description = await phase.describe(t, ctx)
          } catch (e) {
            description = `(cannot describe: ${errorMessage(e)})`
          }
          let st: PlanState
          if (!rec || rec.status === 'pending' || rec.status === 'skipped') st = 'pending'
          else if (rec.status === 'done') {
            // worked out only to compare with a done task's: a plan with none done digests nothing (no node:crypto, ../hash.ts)
            let fp: string | undefined
            try {
              fp = fingerprintOf(await phase.fingerprint(t, ctx))
            } catch (e) {
              description = `(cannot describe: ${errorMessage(e)})`
            }
            st = rec.fingerprint === fp ? 'done' : 'changed'
          } else if (rec.status === 'running') st = stillRunning(lock) ? 'running' : 'interrupted'
          else st = rec.status
          counts[st]++
          pp.tasks.push({
            phase: phase.name,
            target: t.id,
            title: t.title ?? t.id,
            state: st,
            description,
            lastRun: rec && {status: rec.status, startedAt: rec.startedAt, endedAt: rec.endedAt, summary: rec.summary, failure: rec.failure, runId: rec.runId},
          })
        }
        return pp
      }),
    )
    return {inventory: opts.inv.file, stateFile: state.file, lock, phases: out, counts}
  } finally {
    await resources.closeAll()
  }
}

/** A phase's latest run as `state show` gives it (the journal's PhaseRunRecord, its status as it stands now). */
export interface PhaseRunShown {
  phase: string
  runId: string
  /**
   * `done`, `failed`, `interrupted` (Ctrl-C, SIGTERM) as the run recorded its end; `running` only while that run still
   * holds the run lock; `killed`: recorded running by a run that is gone (SIGKILL, a crash), which never wrote its end
   */
  status: Exclude<PhaseRunRecord['status'], 'running'> | 'running' | 'killed'
  startedAt: string
  endedAt?: string
}

export interface StateShowResult {
  stateFile: string
  exists: boolean
  updatedAt?: string
  lock?: LockInfo
  tasks: TaskRecord[]
  /** per phase, its latest run: grouped by run (in the order they started), in each run the phases in their order */
  phaseRuns: PhaseRunShown[]
  /** where each run's task logs are (`.obsctl/logs/<runId>/`; obsctl logs prints them) */
  logsDir: string
  /** the latest run that left logs */
  lastRun?: string
}

export function showState(inv: LoadedInventory, opts: {phases?: string[]} = {}): StateShowResult {
  const stateDir = obsctlDir(inv.dir)
  const state = StateStore.load(stateDir, inv.file)
  const lock = activeLock(stateDir)
  const tasks = state
    .all()
    .filter((r) => !opts.phases?.length || opts.phases.includes(r.phase))
    .map((r) => (r.status === 'running' && !stillRunning(lock) ? {...r, status: 'interrupted' as const} : r))
  const phaseRuns = Object.entries(state.phaseRuns())
    .filter(([phase]) => !opts.phases?.length || opts.phases.includes(phase))
    .map(([phase, r]): PhaseRunShown => ({phase, ...r, status: r.status === 'running' && !heldBy(lock, r) ? 'killed' : r.status}))
  // each run where its first phase started, so a run's phases stay together
  const runStart = new Map<string, string>()
  for (const r of phaseRuns) if (!runStart.has(r.runId) || r.startedAt < runStart.get(r.runId)!) runStart.set(r.runId, r.startedAt)
  phaseRuns.sort(
    (a, b) => runStart.get(a.runId)!.localeCompare(runStart.get(b.runId)!) || a.runId.localeCompare(b.runId) || a.startedAt.localeCompare(b.startedAt),
  )
  const exists = state.updatedAt !== new Date(0).toISOString()
  return {
    stateFile: state.file,
    exists,
    updatedAt: exists ? state.updatedAt : undefined,
    lock,
    tasks,
    phaseRuns,
    logsDir: path.join(stateDir, 'logs'),
    lastRun: listRuns(stateDir).at(-1),
  }
}

/**
 * Is the run that recorded this phase run `running` the one holding the run lock now? Its id ends in its pid
 * (newRunId) and it started once the lock was taken; a live lock of another run (a pid reused, a later run) is not it.
 */
function heldBy(lock: LockInfo | undefined, r: PhaseRunRecord): boolean {
  return stillRunning(lock) && r.runId.endsWith(`-${lock!.pid}`) && r.startedAt >= lock!.startedAt
}

export interface StateResetResult {
  stateFile: string
  phases: string[] | 'all'
  removed: number
  /** where an unusable journal was moved aside (`state.json.bad-<time>`), when it was */
  movedAside?: string
  /** why it was unusable */
  problem?: string
}

/** Forget tasks (all, or those of some phases). Holds the run lock so no run is changed under it. */
export function resetState(inv: LoadedInventory, opts: {phases?: string[]; onNotice?: (m: string) => void} = {}): StateResetResult {
  const stateDir = obsctlDir(inv.dir)
  const lock = acquireLock(stateDir, 'state reset', opts.onNotice)
  try {
    // a journal moved aside is told once, by the caller, from the result (movedAside, problem)
    const {store: state, movedTo, problem} = StateStore.loadOrSetAside(stateDir, inv.file)
    const removed = state.reset(opts.phases)
    return {stateFile: state.file, phases: opts.phases?.length ? opts.phases : 'all', removed, ...(movedTo && {movedAside: movedTo, problem})}
  } finally {
    lock.release()
  }
}

/**
 * --phase of the state commands: a phase obsctl has (`registered`, from the flows' registry) or one the journal
 * names; anything else is bad input (exit 2) listing the phases.
 */
export function requireKnownPhases(inv: LoadedInventory, phases: readonly string[] | undefined, registered: readonly string[]): void {
  if (!phases?.length) return
  const known = new Set([...registered, ...phasesInState(inv)])
  for (const p of phases) if (!known.has(p)) throw inputError(`--phase ${p}: unknown phase`, [`phases: ${registered.join(', ')}`], 'UNKNOWN_PHASE')
}

/** Phase names that appear in the journal (for validating --phase on state commands). */
export function phasesInState(inv: LoadedInventory): string[] {
  let store: StateStore
  try {
    store = StateStore.load(obsctlDir(inv.dir), inv.file)
  } catch (e) {
    // an unusable journal has no phases to offer; `state reset` sets it aside
    if ((e as {code?: string}).code === 'STATE_CORRUPT') return []
    throw e
  }
  return [...new Set([...store.all().map((r) => r.phase), ...Object.keys(store.phaseRuns())])]
}
