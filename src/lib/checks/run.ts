/**
 * The one check runner: every definition runs (none stops another), at most `concurrency` at a time,
 * each bounded by `timeoutMs` (no answer in time is a fail, never a pass); under `wait` the failing ones
 * run again until they pass or the deadline passes. Used by validate, node preflight and doctor.
 */
import {setMaxListeners} from 'node:events'
import {eachLimited, sleep, unlessAborted} from '../async.js'
import {ObsctlError, errorMessage} from '../errors.js'
import {waitReporter} from '../progress.js'
import type {CheckDef, Finding, Outcome} from './model.js'
import {pollMs} from '../poll.js'

export interface RunChecksOptions<X extends object = object> {
  /** how many definitions run at once (default: all) */
  concurrency?: number
  /** upper bound of one run of one definition (default 30 s) */
  timeoutMs?: number
  /** the hint of a timed-out check (what raises the limit) */
  timeoutHint?: string
  /** re-run failing checks until they pass or `waitTimeoutMs` passes */
  wait?: boolean
  waitTimeoutMs?: number
  /** pause between attempts under `wait` (default 2 s) */
  intervalMs?: number
  /** called as each outcome settles (progress) */
  onOutcome?: (o: Outcome<X>) => void
  /**
   * under `wait`: the progress line while checks are retried (../progress.ts), e.g.
   * `12/15 checks pass · 40s of 5m · waiting for: thanos.store, opensearch.logs`
   */
  onWaiting?: (line: string) => void
  /**
   * without `wait`: the progress line while checks still run (../progress.ts), at most once a `tickMs`
   * and only when it changed (else every `heartbeatMs`), none for a run shorter than a tick, e.g.
   * `17/20 checks done · 3s of 45s · waiting for: thanos.stores, opensearch.logs`
   */
  onRunning?: (line: string) => void
  /** how often onRunning looks at the run (default 1 s) */
  tickMs?: number
  /** repeat an unchanged waiting line this often (default 15 s) */
  heartbeatMs?: number
  /** under `wait`: at most one waiting line this often, changed or not (default 1 s) */
  minGapMs?: number
  signal?: AbortSignal
  /**
   * Ends the run when it aborts: runChecks rejects with its reason at once, no further outcome is reported, and the
   * checks still running are aborted — for bad input that every check depends on and that is found only while they
   * run (validate: a $KUBECONFIG file that is no kubeconfig, ../platform/access.ts PlatformContext.fatal).
   */
  stop?: AbortSignal
}

/** A thrown error as a failed check: its message and its first hint. */
export function findingFromError(e: unknown): Finding {
  if (e instanceof ObsctlError) return {status: 'fail', detail: e.message, ...(e.hints[0] ? {hint: e.hints[0]} : {})}
  return {status: 'fail', detail: errorMessage(e)}
}

async function runOnce<C, X extends object>(def: CheckDef<C, X>, ctx: C, o: RunChecksOptions<X>): Promise<Finding | Outcome<X>[]> {
  const limitMs = o.timeoutMs ?? 30_000
  const ac = new AbortController()
  const onAbort = () => ac.abort()
  o.signal?.addEventListener('abort', onAbort, {once: true})
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<Finding>((resolve) => {
    timer = setTimeout(() => {
      ac.abort()
      resolve({status: 'fail', detail: `no result within ${Math.round(limitMs / 1000)}s`, ...(o.timeoutHint ? {hint: o.timeoutHint} : {})})
    }, limitMs)
  })
  try {
    return await Promise.race([def.run(ctx, ac.signal).catch(findingFromError), limit])
  } finally {
    clearTimeout(timer)
    o.signal?.removeEventListener('abort', onAbort)
  }
}

function outcomesOf<C, X extends object>(def: CheckDef<C, X>, r: Finding | Outcome<X>[], durationMs: number, attempts: number): Outcome<X>[] {
  const list: Outcome<X>[] = Array.isArray(r)
    ? r
    : [{...(def.meta as X), id: def.id, title: def.title, ...(def.target ? {target: def.target} : {}), ...r} as Outcome<X>]
  return list.map((x) => {
    const out = {...(def.group ? {group: def.group} : {}), ...x, durationMs, attempts} as Outcome<X>
    if (!out.hint) delete out.hint
    return out
  })
}

/** Run every definition; outcomes come back in the definitions' order. */
export async function runChecks<C, X extends object = object>(defs: readonly CheckDef<C, X>[], ctx: C, opts: RunChecksOptions<X> = {}): Promise<Outcome<X>[]> {
  const stop = opts.stop
  if (stop?.aborted) throw stop.reason
  // a stop aborts what runs (as Ctrl-C does), and what settles after it is not reported; every check listens on the
  // signal (one listener each: no limit)
  const signal = stop ? AbortSignal.any(opts.signal ? [opts.signal, stop] : [stop]) : undefined
  if (signal) setMaxListeners(0, signal)
  const o: RunChecksOptions<X> = signal ? {...opts, signal} : opts
  const deadline = Date.now() + (o.waitTimeoutMs ?? 300_000)
  const interval = o.intervalMs ?? pollMs(2000)
  const results: Outcome<X>[][] = new Array(defs.length)
  // under wait: which checks fail for now (by index), which pass, for the progress line
  const failing = new Set<number>()
  const passing = new Set<number>()
  // (at most a line a second: the first round of failures changes the state once per check)
  const progress =
    o.wait && o.onWaiting
      ? waitReporter(o.onWaiting, {timeoutMs: o.waitTimeoutMs ?? 300_000, heartbeatMs: o.heartbeatMs, minGapMs: o.minGapMs ?? 1000})
      : undefined
  const report = () => {
    if (progress && failing.size > 0)
      progress({state: `${passing.size}/${defs.length} checks pass`, pending: [...failing].sort((a, b) => a - b).map((i) => defs[i]!.id)})
  }
  // without wait: which checks are still running, on a ticker (the limit shown is one check's: they run at once)
  const running = !o.wait && o.onRunning ? waitReporter(o.onRunning, {timeoutMs: o.timeoutMs ?? 30_000, heartbeatMs: o.heartbeatMs}) : undefined
  const ticker = running
    ? setInterval(() => {
        const pending = defs.flatMap((d, i) => (results[i] ? [] : [d.id]))
        if (pending.length) running({state: `${defs.length - pending.length}/${defs.length} checks done`, pending})
      }, o.tickMs ?? 1000)
    : undefined
  const check = async (def: CheckDef<C, X>, i: number): Promise<void> => {
    if (stop?.aborted) return
    const start = Date.now()
    let attempts = 0
    let r: Finding | Outcome<X>[]
    for (;;) {
      attempts++
      r = await runOnce(def, ctx, o)
      const failed = Array.isArray(r) ? r.some((x) => x.status === 'fail') : r.status === 'fail'
      if (failed) failing.add(i)
      else {
        failing.delete(i)
        passing.add(i)
      }
      if (!failed || !o.wait || o.signal?.aborted || Date.now() + interval > deadline) break
      report()
      await sleep(interval, o.signal)
    }
    if (stop?.aborted) return
    results[i] = outcomesOf(def, r, Date.now() - start, attempts)
    for (const out of results[i]!) o.onOutcome?.(out)
  }
  const workers = eachLimited(defs, o.concurrency, check)
  try {
    await (stop ? unlessAborted(workers, stop) : workers)
  } finally {
    clearInterval(ticker)
  }
  return results.flat()
}
