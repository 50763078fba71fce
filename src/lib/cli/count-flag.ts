/**
 * Integer flags that count something (targets at once, lines of a log or of diff context), made here with a
 * maximum, as the flags in seconds are (./seconds-flag.ts). oclif's integer flag took any run of digits:
 * `--concurrency 99999999999999999999` became 1e20 (past the integers a number holds exactly) and
 * `diagnose --tail-lines 99999999999999999999` went to each API server as `tailLines=100000000000000000000`, which
 * Kubernetes refuses (its int64 overflows), so every log in the archive was an error. A value past the maximum is
 * exit 2 naming the flag (`--concurrency: expected an integer less than or equal to 1000 but received: 5000`), and
 * an empty or blank value is shown quoted (`received: ""`), not as nothing. This file loads nothing but @oclif/core and the
 * dependency-free units module.
 */
import * as Flags from '@oclif/core/flags'
import {durationSeconds, isDuration} from '../config/units.js'

/** The value as the message shows it: quoted when it holds anything but letters, digits, `.`, `_` and `-`. */
export function shownValue(value: string): string {
  return /^[\w.-]+$/.test(value) ? value : JSON.stringify(value)
}

/**
 * What is wrong with an integer flag's value (oclif's wording), or undefined. `seconds`: a duration typed where
 * seconds go (`--timeout 5m`) is told what to type instead (`expected an integer (seconds: 300 for 5m) …`).
 */
export function integerProblem(input: string, o: {min?: number; max: number; seconds?: boolean}): string | undefined {
  const got = `but received: ${shownValue(input)}`
  if (!/^-?\d+$/.test(input)) {
    const s = o.seconds && isDuration(input) ? durationSeconds(input) : undefined
    const hint = s !== undefined && Number.isInteger(s) && s >= 1 ? ` (seconds: ${s} for ${input})` : o.seconds ? ' (seconds)' : ''
    return `expected an integer${hint} ${got}`
  }
  const n = Number(input)
  if (o.min !== undefined && n < o.min) return `expected an integer greater than or equal to ${o.min} ${got}`
  if (n > o.max) return `expected an integer less than or equal to ${o.max} ${got}`
  return undefined
}

function parser(min: number, max: number, seconds?: boolean) {
  return async (input: string) => {
    const problem = integerProblem(input, {min, max, seconds})
    if (problem) throw new Error(problem)
    return Number(input)
  }
}

/** `--NAME N`, an integer from `min` (1 unless told) to `max`, optional; `min`/`max` stay on the flag for its help and tests. */
export function countFlag(summary: string, o: {min?: number; max: number}) {
  const min = o.min ?? 1
  return Flags.integer({summary, min, max: o.max, parse: parser(min, o.max)})
}

/** countFlag with a default; `seconds`: the flag is in seconds (./seconds-flag.ts). */
export function countFlagWithDefault(summary: string, o: {min?: number; max: number; default: number; seconds?: boolean}) {
  const min = o.min ?? 1
  return Flags.integer({summary, default: o.default, min, max: o.max, parse: parser(min, o.max, o.seconds)})
}

/** `--concurrency`: targets at once. More than a phase has runs them all at once, as the default does. */
export const MAX_CONCURRENCY = 1000

/**
 * `--concurrency N` of a command that runs a phase over many targets (bootstrap, node install, and the fleet-wide
 * commands over clusters): `what` at once, at most MAX_CONCURRENCY; unset, all at once.
 */
export function concurrencyFlag(what: string) {
  return countFlag(`${what} at once, at most ${MAX_CONCURRENCY} (default: all).`, {max: MAX_CONCURRENCY})
}
/** Lines of local output (`logs --tail`, `diff --context`): past a file's length, the whole file. */
export const MAX_LINES = 1_000_000
/**
 * `diagnose --tail-lines`: each not-Ready container's log is fetched whole into memory (up to 20 pods a cluster),
 * so this bounds the archive as well as the request.
 */
export const MAX_LOG_TAIL_LINES = 10_000
