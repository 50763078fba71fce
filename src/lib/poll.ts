/**
 * How often obsctl looks again while it waits for a condition on a remote system (Applications Synced, Argo CD at
 * the pushed commit, a node Ready, a rollout done, a check passing, a credential verified), or tries an SSH connection
 * again after one was refused (the back-off, 0.5 s then 1 s: ./ssh/connection.ts): each wait has its own interval, the
 * default passed here, and a deadline (--timeout and the like) or a number of attempts that this never changes.
 *
 * TEST-ONLY, beside OBSCTL_TEST_KILL_AT (./engine/kill-point.ts): `OBSCTL_TEST_POLL_MS=N` caps every such interval at
 * N milliseconds (it never lengthens one), so the test suite's spawned CLIs do not sit idle for seconds while the
 * stand-ins they wait on (which answer within ~100 ms) are long done, nor 1.5 s per node that refuses SSH. Only the
 * time between two looks changes: what is waited for, the deadline and the number of attempts are the same. Unset
 * (always, outside tests) each wait keeps its interval.
 * docs/testing.md says which test files set it. A value that is not a whole number from 10 to 10000 is refused
 * (exit 2, BaseCommand.init): a typo must not make a test quietly slow, and 0 would hammer the API servers.
 */
import {envValue} from './env.js'
import {inputError} from './errors.js'

export const POLL_ENV = 'OBSCTL_TEST_POLL_MS'
const MIN_MS = 10
const MAX_MS = 10_000

/** The cap OBSCTL_TEST_POLL_MS sets, or undefined when unset (a bad value: exit 2 naming the variable). */
export function pollCap(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = envValue(POLL_ENV, {env})
  if (raw === undefined) return undefined
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
  if (!(n >= MIN_MS && n <= MAX_MS))
    throw inputError(
      `${POLL_ENV}=${raw} is not a poll interval: a whole number of milliseconds from ${MIN_MS} to ${MAX_MS} (a test-only setting)`,
      [`unset ${POLL_ENV} (each wait then keeps its own interval), or e.g. ${POLL_ENV}=100`],
      'BAD_VALUE',
    )
  return n
}

/** The interval between two looks of a wait whose own interval is `defaultMs` (capped by OBSCTL_TEST_POLL_MS). */
export function pollMs(defaultMs: number): number {
  const cap = pollCap()
  return cap === undefined ? defaultMs : Math.min(defaultMs, cap)
}
