/** Run checks: all concurrently, each bounded in time, none stopping another; --wait re-runs the failing ones. */
import {inputError} from '../errors.js'
import {sleep} from '../platform/index.js'
import {ALL_CHECKS, CHECK_IDS} from './checks/index.js'
import {failFromError} from './checks/util.js'
import {COMPONENTS, type Check, type CheckOutcome, type CheckResult, type Component, type ValidateContext, type Verdict} from './types.js'

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
  signal?: AbortSignal
}

export type ComponentArg = Component | 'all'
export const COMPONENT_ARGS: ComponentArg[] = [...COMPONENTS, 'all']

/** The checks of a component (or all), minus --skip ids; unknown ids are bad input. */
export function selectChecks(component: ComponentArg = 'all', skip: string[] = [], checks: Check[] = ALL_CHECKS): {run: Check[]; skipped: string[]} {
  const ids = new Set(checks.map((c) => c.id))
  const unknown = skip.filter((s) => !ids.has(s))
  if (unknown.length) throw inputError(`--skip ${unknown.join(', ')}: no such check`, [`check ids: ${CHECK_IDS.join(', ')}`], 'BAD_SKIP')
  const mine = checks.filter((c) => component === 'all' || c.component === component)
  return {run: mine.filter((c) => !skip.includes(c.id)), skipped: mine.filter((c) => skip.includes(c.id)).map((c) => c.id)}
}

async function runOnce(check: Check, ctx: ValidateContext, limitMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({result: 'fail', detail: `no result within ${Math.round(limitMs / 1000)}s`, hint: 'an endpoint or API server does not answer; --request-timeout raises the limit'}), limitMs)
  })
  try {
    return await Promise.race([check.run(ctx).catch(failFromError), limit])
  } finally {
    clearTimeout(timer)
  }
}

export async function runChecks(checks: Check[], ctx: ValidateContext, o: RunOptions = {}): Promise<CheckOutcome[]> {
  const limitMs = o.checkTimeoutMs ?? Math.max(5000, ctx.timeoutMs * 3)
  const deadline = Date.now() + (o.waitTimeoutMs ?? 300_000)
  return Promise.all(
    checks.map(async (check) => {
      const start = Date.now()
      let attempts = 0
      let r: CheckResult
      for (;;) {
        attempts++
        r = await runOnce(check, ctx, limitMs)
        if (r.result !== 'fail' || !o.wait || o.signal?.aborted || Date.now() + (o.intervalMs ?? 2000) > deadline) break
        await sleep(o.intervalMs ?? 2000, o.signal)
      }
      const out: CheckOutcome = {id: check.id, component: check.component, title: check.title, ...r, durationMs: Date.now() - start, attempts}
      if (!out.hint) delete out.hint
      o.onOutcome?.(out)
      return out
    }),
  )
}

export function verdictOf(outcomes: CheckOutcome[], skipped: string[], components: Component[], durationMs: number): Verdict {
  const count = (r: string) => outcomes.filter((o) => o.result === r).length
  const summary = {pass: count('pass'), warn: count('warn'), fail: count('fail'), skipped: skipped.length}
  return {ok: summary.fail === 0, components, summary, checks: outcomes, skipped, durationMs}
}
