/** thanos.*: Thanos Query's store set, the global view per cluster, HA pairs, the compactor and the bucket. */
import {centralCluster, needsReceive, scrapeEdges} from '../../config/model.js'
import {sizeOf} from '../../config/sizing.js'
import {okJson, thanosQuery, type PromEnvelope} from '../../platform/index.js'
import type {Check} from '../types.js'
import {fail, list, pass, warn} from './util.js'

/** One entry of Thanos Query's /api/v1/stores (grouped by component type: sidecar, store, rule, receive, query). */
export interface ThanosStore {
  name: string
  lastCheck?: string
  lastError?: string | null
  labelSets?: Record<string, string>[]
  minTime?: number
  maxTime?: number
}

export const REPLICA_LABEL = 'prometheus_replica'

const stores: Check = {
  id: 'thanos.stores',
  component: 'thanos',
  title: 'Thanos Query sees the sidecars, the store gateway and the ruler (and receive) with no errors',
  async run(ctx) {
    const p = ctx.platform
    const body = okJson<PromEnvelope<Record<string, ThanosStore[] | null>>>(await ctx.http.request('thanos-query', '/api/v1/stores'), 'thanos-query')
    const data = body.data ?? {}
    const edges = scrapeEdges(p)
    const want: [type: string, n: number, what: string][] = [
      ['sidecar', sizeOf(p, 'prometheus').replicas + edges.length * sizeOf(p, 'prometheus-edge').replicas, 'Prometheus sidecars'],
      ['store', 1, 'store gateway'],
      ['rule', 1, 'ruler'],
    ]
    if (needsReceive(p)) want.push(['receive', 1, 'receive'])
    const problems: string[] = []
    for (const [type, n, what] of want) {
      const have = (data[type] ?? []).length
      if (have < n) problems.push(`${what}: ${have}/${n} (${type})`)
    }
    // each remote-scrape edge's own Prometheus: a sidecar whose external labels say cluster=<edge>
    const sidecarClusters = new Set((data.sidecar ?? []).flatMap((s) => (s.labelSets ?? []).map((l) => l.cluster)))
    for (const e of edges) if (!sidecarClusters.has(e.name)) problems.push(`no sidecar with cluster=${e.name} (Prometheus edge-${e.name})`)
    const broken = Object.entries(data).flatMap(([type, list]) => (list ?? []).filter((s) => s.lastError).map((s) => `${type} ${s.name}: ${s.lastError}`))
    problems.push(...broken)
    const counts = Object.entries(data)
      .map(([t, l]) => `${(l ?? []).length} ${t}`)
      .join(', ')
    if (problems.length) {
      return fail(
        `missing or failing: ${list(problems)} (has ${counts || 'none'})`,
        'check the endpoints Thanos Query discovers (ConfigMap monitoring/thanos-query-endpoints, --endpoint.sd-config-file) and that the sidecar gRPC port 10901 is reachable: kubectl -n monitoring logs deploy/thanos-query',
      )
    }
    return pass(counts)
  },
}

const clusters: Check = {
  id: 'thanos.clusters',
  component: 'thanos',
  title: 'Every inventory cluster has metrics in Thanos Query (dedup, no partial response)',
  async run(ctx) {
    // scrapes that succeeded: an edge whose every scrape fails (a revoked token: 401) still writes up=0 series
    const result = await thanosQuery(ctx, 'count by (cluster) (up == 1)', true)
    const seen = new Set(result.map((r) => r.metric.cluster).filter(Boolean))
    const missing = ctx.platform.clusters.map((c) => c.name).filter((n) => !seen.has(n))
    if (missing.length) {
      return fail(
        `no metrics from ${list(missing)} (seen: ${list([...seen].sort()) || 'none'})`,
        'remote-scrape edges: see prometheus.edges (each has its own Prometheus edge-<edge> on the central cluster); agent edges: the Prometheus Agent remote-writes to Thanos Receive — kubectl -n monitoring logs of the agent on that cluster',
        missing,
      )
    }
    return pass(`${seen.size} clusters: ${list([...seen].sort())}`)
  },
}

const replicas: Check = {
  id: 'thanos.replicas',
  component: 'thanos',
  title: `Both central Prometheus replicas answer in Thanos Query (without dedup, label ${REPLICA_LABEL})`,
  async run(ctx) {
    const central = centralCluster(ctx.platform)
    const want = sizeOf(ctx.platform, 'prometheus').replicas
    const result = await thanosQuery(ctx, `count by (${REPLICA_LABEL}) (up{cluster="${central.name}"})`, false)
    const reps = [...new Set(result.map((r) => r.metric[REPLICA_LABEL]).filter((x): x is string => Boolean(x)))].sort()
    if (reps.length < want) {
      return fail(
        `${reps.length}/${want} replicas of the central Prometheus answer${reps.length ? ` (${reps.join(', ')})` : ''}`,
        `every replica needs the external label ${REPLICA_LABEL} and a sidecar Thanos Query reaches: kubectl -n monitoring get pods -l app.kubernetes.io/name=prometheus,prometheus=kube-prometheus-stack-prometheus`,
      )
    }
    return pass(`${reps.length} replicas: ${reps.join(', ')}`)
  },
}

const compactor: Check = {
  id: 'thanos.compactor',
  component: 'thanos',
  title: 'Thanos Compactor is not halted',
  async run(ctx) {
    const res = await ctx.http.request('thanos-compactor', '/metrics', {headers: {accept: 'text/plain'}})
    if (res.status !== 200)
      return fail(`thanos-compactor: ${res.url} answered HTTP ${res.status}`, 'kubectl -n monitoring get pods -l app.kubernetes.io/name=thanos-compactor')
    const m = /^thanos_compact_halted(?:\{[^}]*\})?\s+(\S+)/m.exec(res.body)
    if (!m) return warn('the compactor exposes no thanos_compact_halted metric', 'is this a Thanos Compactor? check --endpoint thanos-compactor=URL')
    if (Number(m[1]) !== 0) {
      return fail(
        'the compactor has halted (thanos_compact_halted 1): compaction and downsampling stopped',
        'kubectl -n monitoring logs statefulset/thanos-compactor | grep -i halt — usually overlapping blocks or a retention flag it refuses; fix and restart it',
      )
    }
    return pass('running (thanos_compact_halted 0)')
  },
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}\/?$/

const bucket: Check = {
  id: 'thanos.bucket',
  component: 'thanos',
  title: 'The metrics bucket holds TSDB blocks',
  async run(ctx) {
    const name = ctx.platform.s3.buckets.metrics.name
    const prefixes = await ctx.listBucketPrefixes(name)
    const blocks = prefixes.filter((p) => ULID.test(p))
    if (blocks.length === 0) {
      return warn(
        `bucket ${name} holds no blocks yet`,
        'the sidecars upload a block every 2h: a younger platform has none; later, check the sidecar logs for upload errors (kubectl -n monitoring logs <prometheus pod> -c thanos-sidecar)',
      )
    }
    return pass(`bucket ${name}: ${blocks.length} block(s)`)
  },
}

export const thanosChecks: Check[] = [stores, clusters, replicas, compactor, bucket]
