/**
 * The task engine's contract (DESIGN.md §3, phases as in k0sctl): each phase is an object with a
 * title, its targets, a fingerprint of each target's inputs, an optional live-state check, run and
 * describe. Domains (nodes, kube, s3, argocd, gitops, validate) implement phases as factories taking
 * typed options; the engine knows nothing phase-specific. See CONTRIBUTING.md.
 */
import type {LoadedInventory} from '../config/load.js'
import type {Platform} from '../config/schema.js'
// type only: the run's SSH settings travel in the context because every SSH phase shares one pool
import type {SshSecrets} from '../ssh/types.js'

/** One unit of work in a phase: a node or a cluster (or the whole platform). */
export interface Target {
  /** unique within the phase, stable across runs: e.g. `cluster-01/192.168.101.194`, `cluster-02`, `platform` */
  id: string
  /** shown on screen; defaults to id */
  title?: string
  cluster?: string
}

/** How the run's SSH connections are made (one pool per run, shared by every phase that uses SSH). */
export interface RunSsh {
  /** --known-hosts as typed: relative to the working directory (config/files.ts knownHostsPath) */
  knownHostsFile?: string
  /** connection attempts and backoff (tests shorten them) */
  attempts?: number
  backoffMs?: number
  /** credentials and sudo password resolved before the run (so no prompt fights the progress display) */
  secrets?: SshSecrets
}

/**
 * What every task of a run can see: only settings every phase shares. A phase's own settings are the
 * typed options of its factory (e.g. `secretsPhase({values, recheck})`), never a bag on the context.
 */
export interface RunContext {
  inv: LoadedInventory
  platform: Platform
  /** `.obsctl/` beside the inventory */
  stateDir: string
  /** this run's id (timestamp-based), names the log folder */
  runId: string
  dryRun: boolean
  /** aborted on Ctrl-C / SIGTERM: tasks must stop promptly and close connections */
  signal: AbortSignal
  /** --kubeconfig (else $KUBECONFIG's files, merged as kubectl does, else ~/.kube/config) */
  kubeconfig?: string
  /** the clusters a run is limited to (`cluster add NAME`, `secrets apply NAME`…); unset: every cluster */
  clusters?: string[]
  ssh: RunSsh
  /** shared per-run resources (SSH connection pools, kube clients, secrets read from env/prompt), closed at run end */
  resources: RunResources
  /** the run's journal, for what a phase needs of it beyond its own task (absent outside an engine run: plan, a phase called directly) */
  journal?: RunJournal
}

/** What a phase may ask of the journal (the engine keeps each task's own record). */
export interface RunJournal {
  /** the record an earlier run left for a task, as the journal held it when this run started */
  before(phase: string, targetId: string): TaskRecord | undefined
  /**
   * The latest earlier run of a phase, as the journal held it when this run started: whether it finished (`done`)
   * or not — a run stopped anywhere (killed, Ctrl-C, even between two tasks) is not `done`.
   */
  lastRun(phase: string): PhaseRunRecord | undefined
  /**
   * Forget every record of these targets and of the targets under them (`cluster-05` also `cluster-05/10.0.0.5`), in
   * every phase but `keep`: for the step that ends a target's life (cluster remove, node remove), so that a cluster or
   * node of that name added later starts from nothing instead of finding its old tasks done. Returns how many were dropped.
   */
  forgetTargets(targetIds: string[], keep?: readonly string[]): number
}

export interface RunResources {
  get<T>(key: string): T | undefined
  set<T>(key: string, value: T, close?: (value: T) => Promise<void> | void): T
  /** create once per run */
  getOrCreate<T>(key: string, create: () => Promise<T> | T, close?: (value: T) => Promise<void> | void): Promise<T>
}

/** Per-task I/O: everything logged goes to `.obsctl/logs/<run>/<phase>/<target>.log`. */
export interface TaskIO {
  /** append a line to the task log; the latest line is shown as live progress */
  log(line: string): void
  /** path of this task's log file */
  logFile: string
  signal: AbortSignal
}

/** What a task hands back: a one-line summary (journal, screen) and the phase's structured report. */
export interface TaskOutput<R = unknown> {
  summary?: string
  /** kept in the journal and returned in the run result; never holds a secret */
  report?: R
}

/** A task's failure as the journal keeps it: what an ObsctlError carries (exit code, code, hints). */
export interface TaskFailure {
  message: string
  /** the error's stable code (ObsctlError.code); absent for an unexpected error */
  code?: string
  exitCode: number
  hints: string[]
}

export interface Phase<T extends Target = Target, R = unknown> {
  /** stable id, e.g. `nodes`; used by --phase/--from and in state.json */
  name: string
  title: string
  /** targets of this phase for the inventory (and options) */
  targets(ctx: RunContext): Promise<T[]> | T[]
  /**
   * The inputs that, when changed, make a done task run again (serialisable; the engine hashes it).
   * Never include secret values: hash them yourself first if they must count.
   */
  fingerprint(target: T, ctx: RunContext): unknown
  /**
   * Resolve what may need a question (credentials, passwords) before the phase's progress display
   * starts, so a prompt never fights it; called only when some target will run, with those targets.
   * Cache the result in ctx.resources for the tasks. An error here is not the phase's: resources do not
   * cache failures, so each task resolves again and reports its own error.
   */
  prepare?(targets: T[], ctx: RunContext): Promise<void>
  /**
   * live-state check: true (or a one-line summary of what was found, or a summary and report) when the
   * target is already in the wanted state; the task is then skipped as done
   */
  isDone?(target: T, ctx: RunContext, io: TaskIO): Promise<boolean | string | TaskOutput<R>>
  /**
   * The journal alone never skips this phase's tasks: a task recorded done with the same fingerprint
   * is still checked with isDone (which must then be cheap), and runs again when the check fails —
   * for a phase whose result can be lost outside obsctl's view (the render phase's pushed branch).
   */
  recheck?: boolean
  /** do the work; returns a one-line summary for the state file and the screen, and the phase's report */
  run(target: T, ctx: RunContext, io: TaskIO): Promise<TaskOutput<R>>
  /** one line: what run() would do (dry runs and `plan`) */
  describe(target: T, ctx: RunContext): string | Promise<string>
  /** max targets at once (default: all, or the run's --concurrency) */
  concurrency?: number
  /**
   * How the phase's tasks use the kubeconfig (the run's --kubeconfig, else $KUBECONFIG's files, else ~/.kube/config):
   * `read`, they reach clusters through it; `write`, they merge entries into it, creating the file kubectl would
   * create. A run judges $KUBECONFIG's paths by its first phase that uses it before it starts (./runner.ts
   * refuseBadKubeconfig): a bad one is exit 2, nothing in the journal, no task log.
   */
  kubeconfig?: 'read' | 'write'
  /**
   * The phase's tasks only read, wait, or ask Argo CD to look again (a refresh annotation): nothing a user would call a
   * change. bootstrap's question lists them apart, and asks nothing when only they are left to run.
   */
  changesNothing?: true
}

/** A phase of any target and report type, as a list of a flow holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list mixes phases of different target/report types; each phase only ever sees its own targets
export type AnyPhase = Phase<any, any>

/** How a run shows its progress (resolveRenderer in ./runner.ts turns auto into default or lines). */
export type RendererChoice = 'auto' | 'default' | 'lines' | 'silent'

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'interrupted' | 'skipped'

export interface TaskRecord {
  phase: string
  target: string
  status: TaskStatus
  fingerprint?: string
  startedAt?: string
  endedAt?: string
  durationMs?: number
  summary?: string
  /** the phase's report of the task's last success */
  report?: unknown
  /** why the task failed (older journals held a plain message: read as {message, exitCode: 1}) */
  failure?: TaskFailure
  runId?: string
  logFile?: string
}

/**
 * A run of a phase as the journal keeps it (StateFile.phaseRuns, one per phase: the latest run that started it).
 * Written `running` before the phase's first task, and its end (`done`: every task done or unchanged; `failed`;
 * `interrupted`) only once the phase has ended. A run killed at any point leaves it `running`; Ctrl-C or SIGTERM
 * make it `interrupted` at once, so its tasks' records alone never have to say whether the run finished.
 */
export interface PhaseRunRecord {
  runId: string
  status: 'running' | 'done' | 'failed' | 'interrupted'
  startedAt: string
  endedAt?: string
}

/** `.obsctl/state.json`; a newer obsctl's keys are kept beside these when this one rewrites it (state.ts). */
export interface StateFile {
  version: 1
  inventory: string
  updatedAt: string
  tasks: Record<string, TaskRecord>
  /** per phase, its latest run (journals written before phase runs were recorded have none) */
  phaseRuns?: Record<string, PhaseRunRecord>
}
