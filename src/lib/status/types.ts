/** What `obsctl status` reports (a leaf: ./index.ts collects it, ./render.ts draws it). */
import type {CheckStatus, ValidationRecord} from '../validate/index.js'
import type {Soonest} from '../lifecycle/certs.js'

/** A probe that could not answer. */
export interface ProbeError {
  error: string
}

export interface NodesStatus {
  ready: number
  total: number
  /** names of nodes that are not Ready */
  notReady: string[]
}

export interface AppsStatus {
  total: number
  synced: number
  healthy: number
  /** `name (Sync/Health)` of those that are not Synced and Healthy */
  problems: string[]
}

export interface Freshness {
  /** ISO time of the newest sample / log line, null when there is none */
  last: string | null
  ageSeconds: number | null
  fresh: boolean
}

export interface ClusterValidation {
  /** worst result among the recorded checks about this cluster (every pass; warn/fail naming it; platform-wide ones count for the central cluster) */
  result: CheckStatus
  /** when the oldest check giving that result was made (a partial run does not make older results look fresh) */
  at: string
  ageSeconds: number
  /** ids of the warn/fail checks that concern this cluster */
  checks: string[]
}

/** The soonest certificate expiry of a cluster: the API server's and the kubeconfig's (live), and the nodes' from the last `obsctl certs check`. */
export interface CertsStatus {
  soonest: Soonest | null
  /** when `obsctl certs check` last read the nodes' certificates (null: never; then only the live two count) */
  nodesCheckedAt: string | null
  /** what could not be measured live */
  problems: string[]
}

export interface ClusterStatus {
  name: string
  id: string
  role: 'central' | 'edge'
  nodes: NodesStatus | ProbeError
  apps: AppsStatus | ProbeError
  metrics: Freshness | ProbeError
  logs: Freshness | ProbeError
  certs: CertsStatus | ProbeError
  validation: ClusterValidation | null
  /** nodes all Ready, apps all Synced and Healthy, metrics and logs fresh, no certificate expired, each of them measured (clusterOk) */
  ok: boolean
}

export interface FleetStatus {
  at: string
  ok: boolean
  clusters: ClusterStatus[]
  /** the merged record: `at`/`ageSeconds` of its latest run, `oldestAt`/`oldestAgeSeconds` of its oldest check */
  validation:
    (Pick<ValidationRecord, 'at' | 'ok' | 'summary' | 'components'> & {ageSeconds: number; oldestAt: string; oldestAgeSeconds: number; failed: string[]}) | null
  thresholds: {metrics: string; logs: string}
}
