/**
 * The one check model (as linkerd's healthcheck and `flux check`): a check has a stable id, a title,
 * and says pass / info / warn / fail with a detail and a hint. Node preflight, validate, config lint and
 * doctor all produce these outcomes; one runner (./run.ts) runs check definitions and one set of
 * renderers (./render.ts) prints them. Outcomes are plain data: --json prints them as they are.
 */
import {inputError} from '../errors.js'

/** info: worth knowing, not a problem (config lint's "info" findings); only fail fails a command. */
export type CheckStatus = 'pass' | 'info' | 'warn' | 'fail'
export const STATUSES: readonly CheckStatus[] = ['pass', 'info', 'warn', 'fail']

/** What a check found. */
export interface Finding {
  status: CheckStatus
  /** one line (or a few) saying what was found; "could not measure: …" when it could not (a fail) */
  detail: string
  /** what to do about a warn/fail (a flag, env var or command) */
  hint?: string
  /** the inventory clusters a warn/fail concerns (absent: the platform or workstation as a whole) */
  clusters?: string[]
}

/** A finding with the check that made it. `X` adds a command's own fields (e.g. preflight's node). */
export type Outcome<X extends object = object> = Finding & {
  id: string
  title: string
  /** what it was checked on, for display: a node (cluster/node), a file:line, an endpoint */
  target?: string
  /** display heading (validate: the component) */
  group?: string
  /** set by the runner */
  durationMs?: number
  /** how many times it ran (more than one under --wait) */
  attempts?: number
} & X

export interface CheckDef<C, X extends object = object> {
  /** stable, e.g. thanos.stores or tools.git; used by --skip and in --json */
  id: string
  title: string
  group?: string
  target?: string
  /** fields every outcome of this definition carries (e.g. the node a preflight probe is about) */
  meta?: X
  /**
   * One finding, or several outcomes when one probe measures once and judges many things (a node's
   * facts read in one SSH exec). A throw is a fail with the error's message — never a pass.
   */
  run(ctx: C, signal: AbortSignal): Promise<Finding | Outcome<X>[]>
}

export interface Summary {
  pass: number
  info: number
  warn: number
  fail: number
  skipped: number
}

export function summarize(outcomes: readonly Pick<Finding, 'status'>[], skipped = 0): Summary {
  const count = (s: CheckStatus) => outcomes.filter((o) => o.status === s).length
  return {pass: count('pass'), info: count('info'), warn: count('warn'), fail: count('fail'), skipped}
}

/** true when nothing failed (warnings allowed) */
export const passed = (outcomes: readonly Pick<Finding, 'status'>[]): boolean => outcomes.every((o) => o.status !== 'fail')

/** The checks minus --skip ids; an unknown id is bad input naming the known ones. */
export function selectChecks<T extends {id: string}>(checks: readonly T[], skip: readonly string[] = [], flag = '--skip'): {run: T[]; skipped: string[]} {
  const ids = new Set(checks.map((c) => c.id))
  const unknown = skip.filter((s) => !ids.has(s))
  if (unknown.length) throw inputError(`${flag} ${unknown.join(', ')}: no such check`, [`check ids: ${[...ids].join(', ')}`], 'BAD_SKIP')
  return {run: checks.filter((c) => !skip.includes(c.id)), skipped: checks.filter((c) => skip.includes(c.id)).map((c) => c.id)}
}

export const pass = (detail: string): Finding => ({status: 'pass', detail})
export const info = (detail: string, hint?: string): Finding => ({status: 'info', detail, ...(hint ? {hint} : {})})
export const warn = (detail: string, hint?: string, clusters?: string[]): Finding => ({
  status: 'warn',
  detail,
  ...(hint ? {hint} : {}),
  ...(clusters?.length ? {clusters} : {}),
})
export const fail = (detail: string, hint?: string, clusters?: string[]): Finding => ({
  status: 'fail',
  detail,
  ...(hint ? {hint} : {}),
  ...(clusters?.length ? {clusters} : {}),
})
