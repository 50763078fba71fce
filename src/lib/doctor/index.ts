/**
 * `obsctl doctor`: is this workstation ready to run obsctl against this inventory? Offline checks
 * (Node, git, OpenSSL, SSH identity, credential env vars), DNS of every endpoint, and with --network
 * TCP reachability and clock skew. `bootstrap` runs the offline checks its phases need first.
 */
import type {LoadedInventory} from '../config/load.js'
import {ExitCode, ObsctlError} from '../errors.js'
import {formatChecklist, passed, runChecks, selectChecks, summarize, type Outcome, type Summary} from '../checks/index.js'
import {canPrompt} from '../prompt.js'
import {doctorChecks, type DoctorCheck, type DoctorContext, type DoctorTier} from './checks.js'

export {doctorChecks, inventoryEndpoints, namedEnvVars, tcpProbe, type DoctorCheck, type DoctorContext, type DoctorTier, type Endpoint} from './checks.js'

export const DOCTOR_GROUPS = ['workstation', 'credentials', 'dns', 'network'] as const

export interface DoctorOptions {
  /** also TCP reachability and clock skew */
  network?: boolean
  /** --kubeconfig: where the API servers' clock checks find each cluster's server and CA */
  kubeconfig?: string
  /** leave out DNS too (only what needs no network at all) */
  offline?: boolean
  skip?: string[]
  /** only the checks these bootstrap phases need (absent: all) */
  phases?: readonly string[]
  /** one network operation's limit (default 5 s) */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** can a terminal ask for a missing credential? (default: the prompt port's answer) */
  canPrompt?: boolean
  signal?: AbortSignal
  onOutcome?: (o: Outcome) => void
}

export interface DoctorReport {
  /** true when nothing failed (warnings allowed) */
  ok: boolean
  network: boolean
  summary: Summary
  checks: Outcome[]
  skipped: string[]
  durationMs: number
}

function wanted(c: DoctorCheck, o: DoctorOptions): boolean {
  const tiers: DoctorTier[] = o.offline ? ['offline'] : o.network ? ['offline', 'dns', 'network'] : ['offline', 'dns']
  if (!tiers.includes(c.tier)) return false
  return !o.phases || !c.neededBy || c.neededBy.some((p) => o.phases!.includes(p))
}

export async function runDoctor(inv: LoadedInventory, o: DoctorOptions = {}): Promise<DoctorReport> {
  const started = Date.now()
  const all = doctorChecks(inv, {kubeconfig: o.kubeconfig})
  const {run, skipped} = selectChecks(all, o.skip ?? [])
  const ctx: DoctorContext = {inv, env: o.env ?? process.env, canPrompt: o.canPrompt ?? canPrompt(), timeoutMs: o.timeoutMs ?? 5000}
  const timeoutMs = ctx.timeoutMs * 3
  const checks = await runChecks(
    run.filter((c) => wanted(c, o)),
    ctx,
    {concurrency: 16, timeoutMs, timeoutHint: "raise --timeout, or look at this machine's resolver and network", signal: o.signal, onOutcome: o.onOutcome},
  )
  return {ok: passed(checks), network: Boolean(o.network), summary: summarize(checks, skipped.length), checks, skipped, durationMs: Date.now() - started}
}

/**
 * Before bootstrap's phases: the offline doctor checks they need. A failure is an error carrying the
 * report (the command prints its checklist); nothing has run yet.
 */
export async function bootstrapPrecheck(
  inv: LoadedInventory,
  phases: readonly string[],
  o: Pick<DoctorOptions, 'env' | 'canPrompt' | 'signal'> = {},
): Promise<DoctorReport> {
  return runDoctor(inv, {...o, offline: true, phases})
}

export function precheckError(report: DoctorReport): ObsctlError {
  const failed = report.checks.filter((c) => c.status === 'fail')
  return new ObsctlError(`this workstation is not ready (nothing was changed):\n${formatChecklist(failed).trimEnd()}`, {
    code: 'DOCTOR_FAILED',
    exitCode: ExitCode.failed,
    hints: ['fix what is listed above (each → line says how), then rerun; obsctl doctor shows every check'],
    details: report,
  })
}
