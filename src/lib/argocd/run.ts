/**
 * Commands run the Argo CD phases through the engine (journal, lock, per-task logs, Ctrl-C → 130) and
 * get the phases' reports back; a failed task's own error (exit code, hints) is what the command shows.
 */
import type {LoadedInventory} from '../config/load.js'
import type {Phase, RendererChoice, RunEventSink, RunResult, Target} from '../engine/index.js'
import {ObsctlError, errorMessage} from '../errors.js'
import type {InstallReport} from './install.js'
import type {ArgocdCollector} from './phases.js'
import type {RegisterReport} from './register.js'
import type {RootAppReport} from './rootapp.js'
import type {SyncReport} from './sync.js'

export interface ArgocdRunOptions {
  /** phase options: kubeconfig, timeoutSeconds, intervalMs, manifest, clusters, rotateTokens */
  options: Record<string, unknown>
  renderer?: RendererChoice
  onEvent?: RunEventSink
  command: string
  dryRun?: boolean
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
}

export interface ArgocdRunResult {
  install?: InstallReport
  register: RegisterReport[]
  rootApp?: RootAppReport
  sync?: SyncReport
  run: RunResult
}

export async function runArgocdPhases(inv: LoadedInventory, phases: Phase<Target>[], opts: ArgocdRunOptions): Promise<ArgocdRunResult> {
  const out: Omit<ArgocdRunResult, 'run'> = {register: []}
  const errors: unknown[] = []
  const collector: ArgocdCollector = {
    install: (r) => (out.install = r),
    register: (r) => out.register.push(r),
    rootApp: (r) => (out.rootApp = r),
    sync: (r) => (out.sync = r),
    error: (_t, e) => errors.push(e),
  }
  const {runPhases} = await import('../engine/index.js')
  // an explicit command always looks at the live system (bootstrap is the one that trusts the journal)
  const run = await runPhases(phases, {
    inv,
    dryRun: opts.dryRun,
    restart: true,
    renderer: opts.renderer,
    onEvent: opts.onEvent,
    command: opts.command,
    handleSignals: opts.handleSignals,
    options: {...opts.options, argocdCollector: collector},
  })
  if (!run.ok) {
    const logs = run.logsDir ? [`task logs: ${run.logsDir}`] : []
    const first = errors.find((e) => e instanceof ObsctlError) as ObsctlError | undefined
    const failed = run.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed')
    if (first) {
      const others = failed.length > 1 ? [`${failed.length} tasks failed: ${failed.map((t) => t.target).join(', ')}`] : []
      throw new ObsctlError(first.message, {exitCode: first.exitCode, code: first.code, hints: [...first.hints, ...others, ...logs], details: {error: first.details, run}, cause: first})
    }
    const phaseError = run.phases.find((p) => p.error)?.error
    throw new ObsctlError(`${opts.command} failed: ${failed.map((t) => `${t.target}: ${t.error}`).join('; ') || errorMessage(phaseError)}`, {code: 'ARGOCD_FAILED', hints: logs, details: run})
  }
  return {...out, run}
}
