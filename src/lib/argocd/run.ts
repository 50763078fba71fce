/**
 * The Argo CD commands (`argocd install`, `cluster register`): one phase each through the engine (journal,
 * lock, per-task logs, Ctrl-C → 130); the phase's reports come from the run result, and a failed task's own
 * error (exit code, hints) is what the command shows. `argocd sync` waits for the pushed commit first
 * (argocd-refresh, a phase of the fleet domain), so its driver is in ../flows/change-run.ts.
 */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {InstallReport} from './install.js'
import {argocdPhase, registerPhase, type ArgocdPhaseOptions, type RegisterPhaseOptions} from './phases.js'
import type {RegisterReport} from './register.js'

export interface ArgocdRunOptions {
  kubeconfig?: string
  renderer?: RendererChoice
  onEvent?: RunEventSink
  dryRun?: boolean
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
  /** --concurrency: targets at once (default: all) */
  concurrency?: number
}

const standalone = async () => (await import('../engine/standalone.js')).runStandalone

/**
 * `argocd install`: the install report, absent when the live check found Argo CD installed already. `dryRun` at the top,
 * as every command's --json result says it (also in `run`).
 */
export async function argocdInstall(
  inv: LoadedInventory,
  o: ArgocdRunOptions & ArgocdPhaseOptions = {},
): Promise<{dryRun: boolean; install?: InstallReport; run: RunResult}> {
  const {reports, run} = await (await standalone())(argocdPhase(o), {...o, inv, command: 'argocd install', failureCode: 'ARGOCD_FAILED'})
  return {dryRun: Boolean(o.dryRun), install: reports[0], run}
}

/** `cluster register [NAME…]`: a report per edge that was registered now (not those found registered); `dryRun` as argocdInstall. */
export async function clusterRegister(
  inv: LoadedInventory,
  o: ArgocdRunOptions & RegisterPhaseOptions & {clusters?: string[]} = {},
): Promise<{dryRun: boolean; register: RegisterReport[]; run: RunResult}> {
  const {reports, run} = await (await standalone())(registerPhase(o), {...o, inv, command: 'cluster register', failureCode: 'ARGOCD_FAILED'})
  return {dryRun: Boolean(o.dryRun), register: reports, run}
}
