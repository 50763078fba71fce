/**
 * `obsctl status`: the fleet at a glance, per cluster — nodes Ready (its API server), Argo CD
 * Applications Synced/Healthy (central Argo CD, by the obsctl.dev/cluster label), metrics freshness
 * (newest `up` sample per cluster label in Thanos Query), logs freshness (newest @timestamp in
 * fluent-bit-<cluster>-*) and the last recorded validation. Every probe is bounded in time and a failed
 * probe is a cell saying why, never a failed command.
 */
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, findCluster} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {errorMessage, inputError} from '../errors.js'
import {unlessAborted, withTimeout} from '../async.js'
import {
  APPLICATION,
  NAMESPACES,
  indexPattern,
  msearch,
  openPlatform,
  thanosQuery,
  type KubeObject,
  type PlatformContext,
  type PlatformOptions,
} from '../platform/index.js'
import {lastValidation, type CheckStatus, type ValidationRecord} from '../validate/index.js'
import {lastCerts, type CertsRecord, type Soonest} from '../lifecycle/certs.js'
import type {AppsStatus, CertsStatus, ClusterStatus, ClusterValidation, FleetStatus, Freshness, NodesStatus, ProbeError} from './types.js'

export type * from './types.js'

export interface StatusOptions extends Pick<PlatformOptions, 'kubeconfig' | 'endpoints' | 'viaApiServer' | 'caFile' | 'clustersAtOnce'> {
  /** per-request timeout (default 5 s); each probe is bounded by twice that */
  requestTimeoutMs?: number
  /** newest metric sample older than this is stale (default 5m) */
  metricsStale?: string
  /** newest log line older than this is stale (default 15m) */
  logsStale?: string
  /** ask for OpenSearch credentials on a terminal (default true; --watch asks once) */
  prompt?: boolean
  now?: () => number
}

export interface StatusSession {
  collect(): Promise<FleetStatus>
  close(): void
}

const isError = (x: unknown): x is ProbeError => typeof x === 'object' && x !== null && 'error' in x

function threshold(flag: string, value: string): number {
  if (!isDuration(value)) throw inputError(`${flag} ${value}: expected a duration such as 90s, 5m, 1h`, [], 'BAD_DURATION')
  return durationSeconds(value)
}

interface Application extends KubeObject {
  spec?: {destination?: {server?: string; name?: string}}
  status?: {sync?: {status?: string}; health?: {status?: string}}
}

/**
 * The Applications by the cluster they deploy to: the obsctl.dev/cluster label, else their destination (in-cluster is the
 * central; a name or API server URL of the inventory's clusters). Grouped once per collect, with the clusters indexed: a
 * fleet of 1,000 clusters has ~10,000 Applications, and matching each cluster against every Application took ~140 ms a
 * collect with the label, ~20 s without it (a destination looked up in the cluster list each time).
 */
function appsByCluster(apps: Application[], p: Platform, central: string): Map<string, Application[]> {
  // by name: the platform's own cluster index (findCluster); by API server URL: indexed here, once
  const byServer = new Map<string, string>()
  for (const c of p.clusters) if (!byServer.has(c.apiServer)) byServer.set(c.apiServer, c.name)
  const out = new Map<string, Application[]>()
  for (const a of apps) {
    const d = a.spec?.destination ?? {}
    const cluster =
      a.metadata.labels?.['obsctl.dev/cluster'] ||
      (d.server === 'https://kubernetes.default.svc' || d.name === 'in-cluster'
        ? central
        : ((d.name !== undefined ? findCluster(p, d.name)?.name : undefined) ?? (d.server ? byServer.get(d.server) : undefined)))
    if (cluster === undefined) continue
    const list = out.get(cluster)
    if (list) list.push(a)
    else out.set(cluster, [a])
  }
  return out
}

/**
 * The VALIDATED cell of a cluster, from the merged record (../validate/record.ts). The checks that concern it: every
 * pass (a pass found no problem anywhere), and the warn/fail ones that name it (one about the platform as a whole
 * concerns the central cluster). Its result is the worst of them; its time is that of the OLDEST check giving that
 * result — for pass, every recorded check; for warn or fail, those warnings or failures — so a partial run does not
 * make older results look fresh, and a failure is as old as the run that found it.
 */
function clusterValidation(rec: ValidationRecord, c: Cluster, central: string, nowMs: number): ClusterValidation {
  const mine = rec.checks.filter((k) => k.result === 'pass' || (k.clusters?.length ? k.clusters.includes(c.name) : c.name === central))
  const result: CheckStatus = mine.some((k) => k.result === 'fail') ? 'fail' : mine.some((k) => k.result === 'warn') ? 'warn' : 'pass'
  const at = oldest(mine.filter((k) => k.result === result).map((k) => k.at)) ?? rec.at
  return {result, at, ageSeconds: ageOf(at, nowMs), checks: mine.filter((k) => k.result !== 'pass').map((k) => k.id)}
}

/** The earliest of ISO times (undefined for none). */
function oldest(times: string[]): string | undefined {
  return times.reduce<string | undefined>((a, t) => (a === undefined || Date.parse(t) < Date.parse(a) ? t : a), undefined)
}

const ageOf = (at: string, nowMs: number): number => Math.max(0, Math.round((nowMs - Date.parse(at)) / 1000))

async function probe<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T | ProbeError> {
  try {
    return await withTimeout(fn(), ms, what)
  } catch (e) {
    return {error: errorMessage(e).split('\n')[0]!}
  }
}

async function nodesOf(ctx: PlatformContext, cluster: string): Promise<NodesStatus> {
  const kube = await ctx.kube(cluster)
  const nodes = await kube.list<KubeObject & {status?: {conditions?: {type: string; status: string}[]}}>('v1', 'Node')
  const notReady = nodes.filter((n) => !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name)
  return {ready: nodes.length - notReady.length, total: nodes.length, notReady}
}

/**
 * newest successful scrape per cluster label (`up == 1`: a target whose every scrape fails still writes `up` 0,
 * and no metric of it arrives), deduplicated across the Prometheus replicas
 */
async function metricsAges(ctx: PlatformContext): Promise<Map<string, number>> {
  const rows = await thanosQuery(ctx, 'max by (cluster) (timestamp(up == 1))', true)
  return new Map(rows.filter((r) => r.metric.cluster).map((r) => [r.metric.cluster!, Number(r.value?.[1]) * 1000]))
}

/**
 * Every cluster's newest log (`max` of @timestamp over its fluent-bit-<cluster>-* indices) in one multi-search: one
 * request to OpenSearch however many clusters (platform/opensearch.ts msearch). A search that failed alone is that
 * cluster's error.
 */
async function newestLogs(ctx: PlatformContext, clusters: readonly string[]): Promise<Map<string, number | null | ProbeError>> {
  const body = {size: 0, track_total_hits: false, aggs: {newest: {max: {field: '@timestamp'}}}}
  const answers = await msearch(
    ctx,
    clusters.map((c) => ({index: indexPattern(c), body})),
    'opensearch',
  )
  return new Map(
    clusters.map((c, i): [string, number | null | ProbeError] => {
      const a = answers[i]!
      if (!a.ok) return [c, {error: `opensearch: ${a.error}`}]
      const v = (a.response as {aggregations?: {newest?: {value?: number | null}}}).aggregations?.newest?.value
      return [c, typeof v === 'number' ? v : null]
    }),
  )
}

async function certsOf(ctx: PlatformContext, cluster: string, rec: CertsRecord | undefined, timeoutMs: number, since: number): Promise<CertsStatus> {
  const {liveCerts} = await import('../validate/checks/certificates.js')
  const live = await liveCerts(await ctx.kube(cluster), timeoutMs, {since})
  const candidates: Soonest[] = live.certs.map((c) => ({name: c.name, where: c.file, notAfter: c.notAfter, daysLeft: c.daysLeft, status: c.status}))
  const recorded = rec?.clusters[cluster]?.soonest
  if (recorded) candidates.push(recorded)
  const soonest = candidates.sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter))[0] ?? null
  return {soonest, nodesCheckedAt: recorded ? rec!.at : null, problems: live.problems}
}

/**
 * A cluster is ok when every column was measured and is good: all nodes Ready, every Application Synced and
 * Healthy, fresh metrics and logs, no expired certificate — and a column that could not be measured (an error,
 * a certificate probe's problem) is not ok, whatever the others say.
 */
export function clusterOk(c: Pick<ClusterStatus, 'nodes' | 'apps' | 'metrics' | 'logs' | 'certs'>): boolean {
  const {nodes, apps, metrics, logs, certs} = c
  return (
    !isError(nodes) &&
    nodes.total > 0 &&
    nodes.ready === nodes.total &&
    !isError(apps) &&
    apps.total > 0 &&
    apps.problems.length === 0 &&
    !isError(metrics) &&
    metrics.fresh &&
    !isError(logs) &&
    logs.fresh &&
    !isError(certs) &&
    certs.problems.length === 0 &&
    certs.soonest?.status !== 'expired'
  )
}

function freshness(lastMs: number | null | undefined, nowMs: number, staleSeconds: number): Freshness {
  if (lastMs === null || lastMs === undefined || !Number.isFinite(lastMs)) return {last: null, ageSeconds: null, fresh: false}
  const age = Math.max(0, Math.round((nowMs - lastMs) / 1000))
  return {last: new Date(lastMs).toISOString(), ageSeconds: age, fresh: age <= staleSeconds}
}

/** Open the connections once (credentials asked once), then collect as often as needed (--watch). */
export async function openStatus(inv: LoadedInventory, o: StatusOptions = {}): Promise<StatusSession> {
  const metricsStale = o.metricsStale ?? '5m'
  const logsStale = o.logsStale ?? '15m'
  const metricsS = threshold('--metrics-stale', metricsStale)
  const logsS = threshold('--logs-stale', logsStale)
  const timeoutMs = o.requestTimeoutMs ?? 5000
  const probeMs = timeoutMs * 2
  const now = o.now ?? Date.now
  // status reads every cluster's nodes through the kubeconfig: a --kubeconfig or $KUBECONFIG that cannot be read is bad
  // input, not every cluster unreachable (a $KUBECONFIG file that is no kubeconfig: at the first connect, ctx.fatal)
  await (await import('../platform/kube.js')).Kube.loadNamedConfig(o.kubeconfig)
  const opened = await openPlatform(inv, {...o, requestTimeoutMs: timeoutMs, prompt: o.prompt, need: {opensearch: true, s3: false}})
  const {ctx} = opened
  const p = inv.platform
  const central = centralCluster(p).name

  // a file $KUBECONFIG names that is no kubeconfig is found by the first connect (not read up front: start-up), and is
  // then the command's one error (exit 2), not every cluster's API server cell
  const collect = (): Promise<FleetStatus> => unlessAborted(measure(), ctx.fatal)
  async function measure(): Promise<FleetStatus> {
    const [apps, ages] = await Promise.all([
      probe('Argo CD Applications', probeMs, async () =>
        (await ctx.kube(central)).list<Application>(APPLICATION.apiVersion, APPLICATION.kind, {namespace: NAMESPACES.argocd}),
      ),
      probe('Thanos Query', probeMs, () => metricsAges(ctx)),
    ])
    const rec = lastValidation(inv)
    const certsRec = lastCerts(inv)
    const t = now()
    const grouped = isError(apps) ? undefined : appsByCluster(apps, p, central)
    const newest = probe('OpenSearch', probeMs, () =>
      newestLogs(
        ctx,
        p.clusters.map((c) => c.name),
      ),
    )
    // each cluster's own probes, a bounded number of clusters at once (their turn ends with their answers, not with the
    // central OpenSearch's)
    const probed = await ctx.mapClusters((c) => {
      const since = Date.now()
      const nodes = probe(`${c.name} API server`, probeMs, () => nodesOf(ctx, c.name))
      // the serving certificate is read from the connection the nodes request made (one TLS handshake a cluster, not
      // two: a third of status's CPU at 1,000 clusters); its probe starts beside it and any handshake of its own ends
      // a timeout after the nodes request started, so a cluster that does not answer holds its turn no longer
      const certs = probe(`${c.name} certificates`, probeMs, async () => {
        await nodes
        return certsOf(ctx, c.name, certsRec, timeoutMs, since)
      })
      return Promise.all([nodes, certs])
    })
    const newestAll = await newest
    const clusters = p.clusters.map((c, i): ClusterStatus => {
      const [nodes, certs] = probed[i]!
      const last = isError(newestAll) ? newestAll : newestAll.get(c.name)!
      const logs: Freshness | ProbeError = isError(last) ? last : freshness(last, now(), logsS)
      let appsOf: AppsStatus | ProbeError
      if (isError(apps)) appsOf = apps
      else {
        const mine = grouped!.get(c.name) ?? []
        const synced = mine.filter((a) => a.status?.sync?.status === 'Synced').length
        const healthy = mine.filter((a) => a.status?.health?.status === 'Healthy').length
        const problems = mine
          .filter((a) => a.status?.sync?.status !== 'Synced' || a.status?.health?.status !== 'Healthy')
          .map((a) => `${a.metadata.name} (${a.status?.sync?.status ?? 'Unknown'}/${a.status?.health?.status ?? 'Unknown'})`)
          .sort()
        appsOf = {total: mine.length, synced, healthy, problems}
      }
      const metrics: Freshness | ProbeError = isError(ages) ? ages : freshness(ages.get(c.name), now(), metricsS)
      const ok = clusterOk({nodes, apps: appsOf, metrics, logs, certs})
      return {
        name: c.name,
        id: c.id,
        role: c.role,
        nodes,
        apps: appsOf,
        metrics,
        logs,
        certs,
        validation: rec ? clusterValidation(rec, c, central, t) : null,
        ok,
      }
    })
    return {
      at: new Date(t).toISOString(),
      ok: clusters.every((c) => c.ok),
      clusters,
      validation: rec
        ? {
            at: rec.at,
            ok: rec.ok,
            summary: rec.summary,
            components: rec.components,
            ageSeconds: ageOf(rec.at, t),
            oldestAt: oldest(rec.checks.map((k) => k.at)) ?? rec.at,
            oldestAgeSeconds: ageOf(oldest(rec.checks.map((k) => k.at)) ?? rec.at, t),
            failed: rec.checks.filter((k) => k.result === 'fail').map((k) => k.id),
          }
        : null,
      thresholds: {metrics: metricsStale, logs: logsStale},
    }
  }
  return {collect, close: opened.close}
}

export {formatStatus, formatAge} from './render.js'
