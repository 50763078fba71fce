/**
 * Checks as data (DESIGN.md §8, as in linkerd's healthcheck): an id, a component, a title and a
 * run() that says pass / warn / fail with a detail and a hint. One runner, one renderer, one JSON.
 */
import type {LoadedInventory} from '../config/load.js'
import type {Platform} from '../config/schema.js'
import type {Kube} from '../kube/client.js'
import type {HttpClient} from './http.js'

export const COMPONENTS = ['argocd', 'prometheus', 'thanos', 'opensearch', 'fluent-bit'] as const
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

export interface OpenSearchCredentials {
  user: string
  password: string
}

/** What every check can reach. Everything here is created once per validate run and shared. */
export interface ValidateContext {
  platform: Platform
  inv: LoadedInventory
  /** HTTP to the platform's services (direct, or through the API server's service proxy) */
  http: HttpClient
  /** Kubernetes client of a cluster (by cluster name), connected once */
  kube(cluster: string): Promise<Kube>
  /** GET/POST a pod's port through a cluster's API server pod proxy */
  podProxy(cluster: string, namespace: string, pod: string, port: number, path: string): Promise<HttpResponse>
  /** OpenSearch basic-auth credentials, or the reason there are none */
  opensearch: OpenSearchCredentials | {missing: string}
  /** log freshness window for opensearch.logs, in ms (from --since) */
  sinceMs: number
  /** the --since text, for messages */
  since: string
  /** per-request timeout */
  timeoutMs: number
  /** an S3 bucket listing for thanos.bucket (lazy: minio is loaded only when this runs) */
  listBucketPrefixes(bucket: string): Promise<string[]>
}

export interface HttpResponse {
  status: number
  body: string
  url: string
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
