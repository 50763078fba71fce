/**
 * Integer flags in seconds that obsctl waits with (timers, deadlines, request timeouts). A Node timer holds at most
 * 2^31-1 ms (~24.8 days): a longer delay only warns (TimeoutOverflowWarning) and fires after 1 ms, which made
 * `status --watch --interval 3000000` redraw in a busy loop. So each such flag has a maximum well under that, and a
 * larger value is bad input like any other (exit 2 naming the flag: `--interval: expected an integer less than or
 * equal to 86400 but received: 3000000`). Every seconds flag is made here (through ./count-flag.ts: nothing but @oclif/core and the units module).
 */
import {countFlagWithDefault} from './count-flag.js'

/** The most a per-request timeout or a redraw interval may be. */
export const DAY = 86_400
/** The most a wait (rollouts, sync, a node Ready, a drain, a snapshot) may take. */
export const WEEK = 7 * DAY

/** `--NAME N` seconds from 1 to `max` (a week unless told), with a default. */
export function secondsFlag(summary: string, defaultSeconds: number, max: number = WEEK) {
  return countFlagWithDefault(summary, {default: defaultSeconds, max, seconds: true})
}
