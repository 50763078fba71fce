/**
 * Flags that take a duration as Prometheus writes it (30m, 2h, 1d12h): `alerts silence --for`, the `--since` windows of
 * validate and diagnose, `status --metrics-stale/--logs-stale`. One shape for all of them, checked while the flags are
 * parsed, so a bad value is exit 2 naming the flag before the inventory is read or anything is contacted: a duration of
 * at least a second (`0` would make every log line stale, and kubectl's sinceSeconds refuses it) and at most `max`
 * (a year unless told: `99999999999d` overflowed the date a silence ends at). This file loads nothing but @oclif/core
 * and the dependency-free units module.
 */
import * as Flags from '@oclif/core/flags'
import {durationSeconds, isDuration} from '../config/units.js'
import {shownValue} from './count-flag.js'

export const YEAR = 365 * 86_400

/** What is wrong with a duration flag's value, or undefined. */
export function durationFlagProblem(value: string, o: {example: string; max?: number}): string | undefined {
  const max = o.max ?? YEAR
  // a value with a space, a newline or a quote is shown quoted, so the message says what was typed
  const got = `but received: ${shownValue(value)}`
  if (!isDuration(value)) return `expected a duration such as ${o.example} (a number and a unit: ms, s, m, h, d, w, y; largest unit first, e.g. 1h30m) ${got}`
  const s = durationSeconds(value)
  if (s < 1) return `expected a duration of at least 1s ${got}`
  if (s > max) return `expected a duration of at most ${max % YEAR === 0 ? `${max / YEAR}y` : `${max}s`} ${got}`
  return undefined
}

/** `--NAME DURATION` with a default (as the flag's help shows it); `example` is what the message suggests. */
export function durationFlag(summary: string, defaultValue: string, o: {example: string; max?: number}) {
  return Flags.string({
    summary,
    default: defaultValue,
    parse: async (input: string) => {
      const problem = durationFlagProblem(input, o)
      if (problem) throw new Error(problem)
      return input
    },
  })
}
