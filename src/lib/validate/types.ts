/**
 * Checks as data (DESIGN.md §8, as in linkerd's healthcheck): an id, a component, a title and a
 * run() that says pass / warn / fail with a detail and a hint. One runner, one renderer, one JSON.
 */
import type {PlatformContext} from '../platform/index.js'

export type {HttpResponse, OpenSearchCredentials} from '../platform/index.js'

export const COMPONENTS = ['argocd', 'prometheus', 'thanos', 'opensearch', 'fluent-bit', 'certificates'] as const
export type Component = (typeof COMPONENTS)[number]

export type CheckStatus = 'pass' | 'warn' | 'fail'

export interface CheckResult {
  result: CheckStatus
  /** one line (or a few) saying what was found */
  detail: string
  /** what to do about a warn/fail */
  hint?: string
  /** the inventory clusters a warn/fail concerns (absent: the platform as a whole) */
  clusters?: string[]
}

/** What every check can reach: the platform (lib/platform, created once per validate run and shared) and the --since window. */
export interface ValidateContext extends PlatformContext {
  /** log freshness window for opensearch.logs, in ms (from --since) */
  sinceMs: number
  /** the --since text, for messages */
  since: string
}

export interface Check {
  /** stable, e.g. thanos.stores; used by --skip and in --json */
  id: string
  component: Component
  title: string
  run(ctx: ValidateContext): Promise<CheckResult>
}

export interface CheckOutcome extends CheckResult {
  id: string
  component: Component
  title: string
  durationMs: number
  /** how many times it ran (more than one under --wait) */
  attempts: number
}

export interface Verdict {
  /** true when nothing failed (warnings allowed) */
  ok: boolean
  components: Component[]
  summary: {pass: number; warn: number; fail: number; skipped: number}
  checks: CheckOutcome[]
  skipped: string[]
  durationMs: number
}
