/**
 * `config validate`: rules the schema cannot express. Each finding has a severity, the field
 * path with its file:line, a message (the reason) and a fix.
 */
import type {FieldPath, LoadedInventory, Position} from './load.js'
import {formatPath} from './load.js'
import {argocdHA, centralCluster, edgePrometheusName, metricsMode} from './model.js'
import {lintAlerting} from './alerting.js'
import {capacity, SCALABLE_COMPONENTS, type CapacityRow} from './sizing.js'
import {durationSeconds} from './units.js'

export type Severity = 'error' | 'warning' | 'info'

export interface Finding {
  id: string
  severity: Severity
  path: string
  location: string
  message: string
  fix: string
}

export interface LintReport {
  file: string
  findings: Finding[]
  capacity: CapacityRow[]
  errors: number
  warnings: number
}

export interface LintOptions {
  allowOvercommit?: boolean
}

const THANOS_RESOLUTIONS = ['raw', '5m', '1h'] as const

/** Why the snapshots bucket must not expire objects (also the error of `s3 setup`). */
export const SNAPSHOT_EXPIRY_REASON =
  'an S3 lifecycle expiry on the OpenSearch snapshots bucket deletes files that newer snapshots still use: snapshots are incremental and share segment files, so expiring objects by age corrupts every later snapshot. OpenSearch deletes old snapshots itself, through the snapshot API (the snapshot management policy, retention.opensearch.deleteAfter)'
export const SNAPSHOT_EXPIRY_FIX = 'remove s3.buckets.snapshots.expireAfter; set retention.opensearch.deleteAfter to keep snapshots for that long'
const HOUR = 3600
const DAY = 86_400

export function lintInventory(inv: LoadedInventory, opts: LintOptions = {}): LintReport {
  const p = inv.platform
  const findings: Finding[] = []
  const add = (id: string, severity: Severity, at: FieldPath, message: string, fix: string) => {
    const pos: Position = inv.positionOf(at)
    findings.push({id, severity, path: formatPath(at), location: `${pos.file}:${pos.line}:${pos.column}`, message, fix})
  }

  // exactly one central cluster
  const centrals = p.clusters.flatMap((c, i) => (c.role === 'central' ? [i] : []))
  if (centrals.length === 0) add('central-count', 'error', ['clusters'], 'no cluster has role: central; the platform needs exactly one', 'set role: central on the cluster that runs Argo CD, Thanos and OpenSearch')
  for (const i of centrals.slice(1)) add('central-count', 'error', ['clusters', i, 'role'], `more than one central cluster (${centrals.map((j) => p.clusters[j]!.name).join(', ')})`, 'keep exactly one role: central; make the others role: edge')

  // uniqueness
  const seen = (kind: string, key: string, at: FieldPath, map: Map<string, string>, owner: string) => {
    const prev = map.get(key)
    if (prev) add(`unique-${kind}`, 'error', at, `duplicate ${kind} "${key}" (also ${prev})`, `give each ${kind} a unique value`)
    else map.set(key, owner)
  }
  const names = new Map<string, string>()
  const ids = new Map<string, string>()
  const addrs = new Map<string, string>()
  const apis = new Map<string, string>()
  p.clusters.forEach((c, i) => {
    seen('cluster name', c.name, ['clusters', i, 'name'], names, `clusters[${i}]`)
    seen('cluster id', c.id, ['clusters', i, 'id'], ids, `clusters[${i}] (${c.name})`)
    seen('API server', c.apiServer, ['clusters', i, 'apiServer'], apis, `clusters[${i}] (${c.name})`)
    c.nodes.forEach((n, j) => {
      seen('node address', `${n.host}:${n.port ?? p.ssh.port}`, ['clusters', i, 'nodes', j, 'host'], addrs, `clusters[${i}].nodes[${j}] (${c.name})`)
    })
    if (c.role === 'central' && c.metrics) add('metrics-central', 'error', ['clusters', i, 'metrics'], 'metrics applies to edge clusters only; the central cluster runs the full Prometheus', 'remove metrics from the central cluster')
    if (!c.nodes.some((n) => n.roles.includes('control-plane'))) add('control-plane', 'error', ['clusters', i, 'nodes'], `cluster ${c.name} has no control-plane node`, 'give the first node roles: [control-plane, worker]')
  })

  // Thanos retention: only raw/5m/1h; raw >= 40h, 5m >= 10d (compactor refuses to start otherwise)
  const th = p.retention.thanos
  for (const [res, value] of Object.entries(th)) {
    if (!(THANOS_RESOLUTIONS as readonly string[]).includes(res)) {
      add('thanos-resolution', 'error', ['retention', 'thanos', res], `Thanos has no "${res}" resolution: it keeps only raw, 5m and 1h downsampled data`, `remove "${res}: ${value}"; set raw, 5m and 1h (e.g. raw: 30d, 5m: 90d, 1h: 180d)`)
    }
  }
  for (const res of THANOS_RESOLUTIONS) {
    if (!(res in th)) add('thanos-resolution', 'error', ['retention', 'thanos'], `Thanos retention for "${res}" is missing`, `set retention.thanos.${res} (e.g. raw: 30d, 5m: 90d, 1h: 180d)`)
  }
  const raw = th.raw ? durationSeconds(th.raw) : undefined
  const five = th['5m'] ? durationSeconds(th['5m']) : undefined
  const hour = th['1h'] ? durationSeconds(th['1h']) : undefined
  if (raw !== undefined && raw !== 0 && raw < 40 * HOUR) add('thanos-raw-retention', 'error', ['retention', 'thanos', 'raw'], `raw retention ${th.raw} is under 40h: the compactor (since Thanos v0.25) refuses to start, because raw blocks would be deleted before they can be downsampled to 5m`, 'set raw to 40h or more (e.g. 30d); the seed\'s 2h is Prometheus\'s local retention, set that as retention.prometheus')
  if (five !== undefined && five !== 0 && five < 10 * DAY) add('thanos-5m-retention', 'error', ['retention', 'thanos', '5m'], `5m retention ${th['5m']} is under 10d: the compactor refuses to start, because 5m blocks would be deleted before they can be downsampled to 1h`, 'set 5m to 10d or more (e.g. 90d)')
  if (raw && five && hour && !(raw <= five && five <= hour)) add('thanos-retention-order', 'warning', ['retention', 'thanos'], 'coarser resolutions are usually kept longer (raw <= 5m <= 1h)', 'e.g. raw: 30d, 5m: 90d, 1h: 180d')

  // Prometheus local retention with the sidecar
  if (durationSeconds(p.retention.prometheus) < 6 * HOUR) add('prometheus-retention', 'error', ['retention', 'prometheus'], `Prometheus local retention ${p.retention.prometheus} is under 6h: the Thanos sidecar uploads 2h blocks and needs local data to survive an upload outage or restart`, 'set retention.prometheus to 6h or more')
  const os = p.retention.opensearch
  if (durationSeconds(os.deleteAfter) < 2 * DAY) add('opensearch-retention', 'error', ['retention', 'opensearch', 'deleteAfter'], `indices and snapshots deleted after ${os.deleteAfter}: the snapshot management policy snapshots the daily log indices once a day, so an index could be deleted before any snapshot holds it`, 'set retention.opensearch.deleteAfter to 2d or more (e.g. 180d)')
  if (os.snapshotAfter) add('opensearch-snapshot-after', 'warning', ['retention', 'opensearch', 'snapshotAfter'], `retention.opensearch.snapshotAfter (${os.snapshotAfter}) is no longer used: the snapshot management policy snapshots fluent-bit-* every day and deletes snapshots after deleteAfter (snapshots made by an ISM snapshot action could never be deleted through OpenSearch)`, 'remove retention.opensearch.snapshotAfter')
  if (p.s3.buckets.snapshots.expireAfter) add('snapshot-expiry', 'error', ['s3', 'buckets', 'snapshots', 'expireAfter'], SNAPSHOT_EXPIRY_REASON, SNAPSHOT_EXPIRY_FIX)

  // Fluent Bit runs the Fluent operator's image; its 2.x builds were published elsewhere (kubesphere/fluent-bit:v2.x,
  // fluent-operator .github/workflows/build-fb-image.yaml), so an inventory written with the old default 2.2.0 would
  // render an image that is not there
  const fbMajor = Number(/^v?(\d+)\./.exec(p.versions.fluentBit)?.[1] ?? NaN)
  if (fbMajor < 3) add('fluent-bit-version', 'warning', ['versions', 'fluentBit'], `versions.fluentBit ${p.versions.fluentBit} is a tag of the Fluent operator's image ghcr.io/fluent/fluent-operator/fluent-bit, which is published from Fluent Bit 3 on (2.x builds went to kubesphere/fluent-bit); the pod would not start`, 'set versions.fluentBit to 4.0.1 (the default of the fluent-operator 3.4.2 chart)')

  // Argo CD HA needs >= 3 central nodes
  if (centrals.length === 1 && !argocdHA(p)) {
    const c = centralCluster(p)
    add('argocd-ha', 'info', ['clusters', centrals[0]!, 'nodes'], `central cluster ${c.name} has ${c.nodes.length} node(s): Argo CD's HA manifest needs at least 3 (its pods use required anti-affinity), so the non-HA manifest will be installed`, 'add nodes to the central cluster for HA Argo CD')
  }

  // remote-scrape: nodes/proxy warning, once
  const rs = p.clusters.findIndex((c) => metricsMode(c) === 'remote-scrape')
  if (rs >= 0) {
    const names = p.clusters.filter((c) => metricsMode(c) === 'remote-scrape').map((c) => c.name)
    add(
      'remote-scrape-nodes-proxy',
      'warning',
      ['clusters', rs, 'metrics'],
      `remote-scrape (${names.join(', ')}) runs one small Prometheus per edge on the central cluster (${names.map((n) => edgePrometheusName(n)).join(', ')}: external label cluster=<edge>, its own Thanos sidecar), holding a token with "get nodes/proxy" on that edge; Kubernetes documents that permission as more than read-only (it reaches the kubelet API, including exec over WebSocket). The ServiceAccount gets nothing else`,
      'use metrics: agent on an edge to keep that token off the central cluster and that Prometheus off its budget (a Prometheus Agent on the edge remote-writes instead)',
    )
  }

  for (const [component, n] of Object.entries(p.replicas)) {
    if (!SCALABLE_COMPONENTS.includes(component)) add('replicas-component', 'error', ['replicas', component], `no scalable component "${component}"`, `use one of: ${SCALABLE_COMPONENTS.join(', ')}`)
    else if (component === 'prometheus' && n < 2) add('prometheus-ha', 'warning', ['replicas', component], `${n} Prometheus replica(s): the seed's HA pair (deduplicated by Thanos on prometheus_replica) needs 2`, 'set replicas.prometheus to 2 or more')
  }

  // alerting: receivers and routes (config/alerting.ts)
  lintAlerting(p.alerting, p.clusters.map((c) => c.name), add)

  // capacity budget per cluster
  const rows = p.clusters.map((c) => capacity(p, c))
  rows.forEach((r, i) => {
    if (r.cpuOk && r.memoryOk) return
    const what = [!r.cpuOk && 'CPU', !r.memoryOk && 'memory'].filter(Boolean).join(' and ')
    add('capacity', opts.allowOvercommit ? 'warning' : 'error', ['clusters', i, 'nodes'], `the platform's requests for ${r.cluster} (${r.role}, profile ${p.profile}) exceed its declared ${what}`, `add nodes or CPU/memory, use profile: lab, or pass --allow-overcommit`)
  })

  return {
    file: inv.file,
    findings,
    capacity: rows,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}
