/**
 * The one progress line of every wait (Argo CD sync, validate --wait, node Ready, CRDs Established,
 * rollouts): what is done, how long it has waited of how long it may, and what it still waits for —
 *   4/6 Synced and Healthy · 1m12s of 10m · waiting for: thanos-edge-1, opensearch
 * A wait calls its reporter on every poll; the reporter passes a line on when the state changes, and
 * otherwise every `heartbeatMs` (the elapsed time moves on), so a long wait never looks frozen and a
 * CI log is not flooded.
 */
import {LIST_MAX} from './words.js'

/** 40s, 1m12s, 10m, 1h5m (whole seconds, rounded down; zero units left out). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (h) return `${h}h${m ? `${m}m` : ''}`
  if (m) return `${m}m${sec ? `${sec}s` : ''}`
  return `${sec}s`
}

export interface WaitState {
  /** what is done so far, e.g. `4/6 Synced and Healthy` */
  state: string
  /** the names of what is still pending (at most `maxNames` are listed, then "and N more") */
  pending?: readonly string[]
}

/** `state · elapsed of limit · waiting for: a, b` */
export function waitLine(w: WaitState & {elapsedMs: number; timeoutMs: number; maxNames?: number}): string {
  const parts = [w.state, `${formatDuration(w.elapsedMs)} of ${formatDuration(w.timeoutMs)}`]
  const names = w.pending ?? []
  const max = w.maxNames ?? LIST_MAX
  if (names.length) parts.push(`waiting for: ${names.slice(0, max).join(', ')}${names.length > max ? ` and ${names.length - max} more` : ''}`)
  return parts.join(' · ')
}

export interface WaitReporterOptions {
  timeoutMs: number
  /** when the wait began (default: now) */
  startedAt?: number
  /** repeat an unchanged state this often (default 15 s) */
  heartbeatMs?: number
  /**
   * at most one line this often, even when the state changes (default 0: every change). Checks that start at
   * once change the state many times in their first second (each new failure); a line for each flooded the terminal.
   */
  minGapMs?: number
  now?: () => number
}

/** A reporter for one wait: call it on every poll; it sends `log` a line when due (see the file comment). */
export function waitReporter(log: (line: string) => void, o: WaitReporterOptions): (w: WaitState) => void {
  const now = o.now ?? Date.now
  const started = o.startedAt ?? now()
  const heartbeat = o.heartbeatMs ?? 15_000
  let lastKey: string | undefined
  let lastAt = 0
  return (w) => {
    const t = now()
    const key = `${w.state}\0${(w.pending ?? []).join('\0')}`
    if (key === lastKey && t - lastAt < heartbeat) return
    if (lastKey !== undefined && t - lastAt < (o.minGapMs ?? 0)) return
    lastKey = key
    lastAt = t
    log(waitLine({...w, elapsedMs: t - started, timeoutMs: o.timeoutMs}))
  }
}
