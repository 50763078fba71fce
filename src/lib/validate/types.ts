/**
 * validate's checks in the one check model (src/lib/checks/): an id, a component (the model's group),
 * a title and a run() that says pass / warn / fail with a detail and a hint. The runner and renderers
 * are the model's; validate keeps the key `result` for the status — the key of `validate --json` and of
 * .obsctl/validation.json since the first release — and converts at its edge (./run.ts).
 */
import type {CheckStatus as ModelStatus} from '../checks/model.js'
import type {PlatformContext} from '../platform/index.js'

export type {HttpResponse, OpenSearchCredentials} from '../platform/index.js'

export const COMPONENTS = ['argocd', 'prometheus', 'thanos', 'opensearch', 'fluent-bit', 'alertmanager', 'certificates'] as const
export type Component = (typeof COMPONENTS)[number]

/** validate never reports the model's `info` */
export type CheckStatus = Exclude<ModelStatus, 'info'>

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
