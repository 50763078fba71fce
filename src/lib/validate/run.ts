/**
 * Run validate's checks through the one check runner (src/lib/checks/run.ts): all concurrently, each
 * bounded in time, none stopping another; --wait re-runs the failing ones.
 */
import {runChecks as runDefs, selectChecks as selectIds, type CheckDef, type Outcome} from '../checks/index.js'
import {ALL_CHECKS} from './checks/index.js'
import {COMPONENTS, type Check, type CheckOutcome, type CheckStatus, type Component, type ValidateContext, type Verdict} from './types.js'

export interface RunOptions {
  /** re-run failing checks until they pass or `waitTimeoutMs` passes */
  wait?: boolean
  waitTimeoutMs?: number
  /** pause between attempts under --wait (default 2 s) */
  intervalMs?: number
  /** upper bound of one check run (default 3x the request timeout, at least 5 s) */
  checkTimeoutMs?: number
  /** called as each check settles (progress) */
  onOutcome?: (o: CheckOutcome) => void
  /** under --wait: the progress line while failing checks are retried */
  onWaiting?: (line: string) => void
  /** without --wait: the progress line while checks still run (which are pending; ../checks/run.ts) */
  onRunning?: (line: string) => void
  tickMs?: number
  heartbeatMs?: number
  signal?: AbortSignal
}

export type ComponentArg = Component | 'all'
export const COMPONENT_ARGS: ComponentArg[] = [...COMPONENTS, 'all']

/** The checks of a component (or all), minus --skip ids; unknown ids are bad input. */
export function selectChecks(component: ComponentArg = 'all', skip: string[] = [], checks: Check[] = ALL_CHECKS): {run: Check[]; skipped: string[]} {
  selectIds(checks, skip)
  const mine = checks.filter((c) => component === 'all' || c.component === component)
  return selectIds(
    mine,
    skip.filter((s) => mine.some((c) => c.id === s)),
  )
}

/** A validate check as a definition of the check model. */
export function checkDef(check: Check): CheckDef<ValidateContext, {component: Component}> {
  return {
    id: check.id,
    title: check.title,
    group: check.component,
    meta: {component: check.component},
    async run(ctx) {
      const r = await check.run(ctx)
      return {status: r.result, detail: r.detail, ...(r.hint ? {hint: r.hint} : {}), ...(r.clusters?.length ? {clusters: r.clusters} : {})}
    },
  }
}

/** A model outcome in validate's shape (`result`, `component`). */
export function fromOutcome(o: Outcome<{component: Component}>): CheckOutcome {
  return {
    id: o.id,
    component: o.component,
    title: o.title,
    result: o.status as CheckStatus,
    detail: o.detail,
    ...(o.hint ? {hint: o.hint} : {}),
    ...(o.clusters?.length ? {clusters: o.clusters} : {}),
    durationMs: o.durationMs ?? 0,
    attempts: o.attempts ?? 1,
  }
}

/** A validate outcome in the model's shape (for the renderers). */
export function toOutcome(c: CheckOutcome): Outcome<{component: Component}> {
  return {
    id: c.id,
    title: c.title,
    group: c.component,
    component: c.component,
    status: c.result,
    detail: c.detail,
    ...(c.hint ? {hint: c.hint} : {}),
    ...(c.clusters ? {clusters: c.clusters} : {}),
    durationMs: c.durationMs,
    attempts: c.attempts,
  }
}

export async function runChecks(checks: Check[], ctx: ValidateContext, o: RunOptions = {}): Promise<CheckOutcome[]> {
  const outcomes = await runDefs(checks.map(checkDef), ctx, {
    timeoutMs: o.checkTimeoutMs ?? Math.max(5000, ctx.timeoutMs * 3),
    timeoutHint: 'an endpoint or API server does not answer; --request-timeout raises the limit',
    wait: o.wait,
    waitTimeoutMs: o.waitTimeoutMs,
    intervalMs: o.intervalMs,
    signal: o.signal,
    // a $KUBECONFIG file that is no kubeconfig, found by the first connect: the run's one error, not every check's
    stop: ctx.fatal,
    onOutcome: o.onOutcome && ((x) => o.onOutcome!(fromOutcome(x))),
    onWaiting: o.onWaiting,
    onRunning: o.onRunning,
    tickMs: o.tickMs,
    heartbeatMs: o.heartbeatMs,
  })
  return outcomes.map(fromOutcome)
}

export function verdictOf(outcomes: CheckOutcome[], skipped: string[], components: Component[], durationMs: number): Verdict {
  const count = (r: string) => outcomes.filter((o) => o.result === r).length
  const summary = {pass: count('pass'), warn: count('warn'), fail: count('fail'), skipped: skipped.length}
  return {ok: summary.fail === 0, components, summary, checks: outcomes, skipped, durationMs}
}
