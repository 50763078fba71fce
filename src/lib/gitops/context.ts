/**
 * The data every template sees (`it`): the inventory, names from config/model.ts, sizes from
 * config/sizing.ts (so lint and render agree), and small helpers that print YAML fragments.
 */
import YAML from 'yaml'
import type {Cluster, Platform} from '../config/schema.js'
import {alertmanagerConfig, alertmanagerSecretMounts} from '../alerts/config.js'
import {
  GRAFANA_OPENSEARCH_USER,
  NAMESPACES,
  SECRET_NAMES,
  centralCluster,
  edgeClusters,
  edgePrometheusName,
  scrapeEdges,
  EDGE_SIDECAR_SERVICE,
  metricsMode,
  needsReceive,
  overlayName,
  serviceUrl,
} from '../config/model.js'
import {sizeOf, type ComponentSize} from '../config/sizing.js'
import {CILIUM_L2_POLICY, CILIUM_LB_POOL, ciliumValuesYaml} from '../config/cilium.js'
import {durationDays, memoryBytes} from '../config/units.js'

export const DASHBOARDS = ['cluster-metrics', 'multi-cluster-summary', 'opensearch-logs', 'thanos-overview'] as const
export const SNAPSHOT_REPOSITORY = 's3-snapshots'
/** uids of the datasources provisioned in Grafana (grafana.additionalDataSources): the dashboards reference these */
export const GRAFANA_DATASOURCES = {thanos: 'thanos', opensearch: 'opensearch'} as const
export const ISM_POLICY_ID = 'fluent-bit-retention'

const q = (v: unknown) => JSON.stringify(v)

export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n)
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n')
}

function resourcesOf(s: Pick<ComponentSize, 'cpu' | 'memory' | 'limitCpu' | 'limitMemory'>, n: number): string {
  const lines = ['requests:', `  cpu: ${s.cpu}`, `  memory: ${s.memory}`]
  if (s.limitCpu || s.limitMemory) {
    lines.push('limits:')
    if (s.limitCpu) lines.push(`  cpu: ${s.limitCpu}`)
    if (s.limitMemory) lines.push(`  memory: ${s.limitMemory}`)
  }
  return indent(lines.join('\n'), n)
}

/** JVM heap flags: half of the memory request (the seed's appendix C rule). */
function jvm(memory: string): string {
  const mi = Math.max(128, Math.floor(memoryBytes(memory) / 2 / 1024 ** 2))
  return `-Xms${mi}m -Xmx${mi}m`
}

/** Cilium LB pool blocks from the inventory's loadBalancerIPs (CIDR, single IP, or start-stop). */
export function lbBlocks(c: Cluster): {cidr?: string; start?: string; stop?: string}[] {
  return c.loadBalancerIPs.map((r) => {
    if (r.includes('-')) {
      const [start, stop] = r.split('-')
      return {start, stop}
    }
    return {cidr: r.includes('/') ? r : `${r}/32`}
  })
}

function hostPort(url: string): {host: string; port: number} {
  const u = new URL(url)
  return {host: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80}
}

export function ismPolicy(p: Platform): Record<string, unknown> {
  const snap = `${durationDays(p.retention.opensearch.snapshotAfter)}d`
  const del = `${durationDays(p.retention.opensearch.deleteAfter)}d`
  return {
    policy: {
      description: `fluent-bit-* indices: snapshot to ${SNAPSHOT_REPOSITORY} after ${snap}, delete after ${del}`,
      default_state: 'hot',
      states: [
        {name: 'hot', actions: [], transitions: [{state_name: 'snapshot', conditions: {min_index_age: snap}}]},
        {
          name: 'snapshot',
          actions: [{snapshot: {repository: SNAPSHOT_REPOSITORY, snapshot: 'fluent-bit'}}],
          transitions: [{state_name: 'delete', conditions: {min_index_age: del}}],
        },
        {name: 'delete', actions: [{delete: {}}], transitions: []},
      ],
      ism_template: [{index_patterns: ['fluent-bit-*'], priority: 100}],
    },
  }
}

/** The StoreAPI addresses Thanos Query discovers (DNS SRV over headless Services; templates/…/thanos/query.yaml). */
export function thanosQueryEndpoints(p: Platform): string[] {
  const srv = (service: string) => `dnssrv+_grpc._tcp.${service}.${NAMESPACES.monitoring}.svc.cluster.local`
  return [
    srv('kube-prometheus-stack-thanos-discovery'),
    ...(scrapeEdges(p).length > 0 ? [srv(EDGE_SIDECAR_SERVICE)] : []),
    srv('thanos-store'),
    srv('thanos-ruler-operated'),
    ...(needsReceive(p) ? [srv('thanos-receive')] : []),
  ]
}

export type Scope = 'platform' | 'cluster' | 'central' | 'edge'

/** Platform-wide data, computed once per render. */
export function platformContext(p: Platform, renderPartial: (name: string, data: object) => string) {
  const central = centralCluster(p)
  const edges = edgeClusters(p)
  const host = (service: string) => new URL(serviceUrl(p, central, service)).hostname
  const s3 = new URL(p.s3.endpoint)
  const base = {
    p,
    central,
    edges,
    agentEdges: edges.filter((e) => metricsMode(e) === 'agent'),
    scrapeEdges: scrapeEdges(p),
    needsReceive: needsReceive(p),
    ns: NAMESPACES,
    secrets: SECRET_NAMES,
    dashboards: DASHBOARDS,
    thanosImage: `quay.io/thanos/thanos:${p.versions.thanos}`,
    thanosRetention: {raw: p.retention.thanos.raw ?? '30d', '5m': p.retention.thanos['5m'] ?? '90d', '1h': p.retention.thanos['1h'] ?? '180d'},
    s3: {host: s3.host, protocol: s3.protocol.replace(':', '')},
    snapshotRepo: SNAPSHOT_REPOSITORY,
    ismPolicyId: ISM_POLICY_ID,
    ismPolicyJson: JSON.stringify(ismPolicy(p), null, 2),
    receiveUrl: `${serviceUrl(p, central, 'thanos-receive')}/api/v1/receive`,
    /** alertmanager.config (route, receivers) as YAML at indent n; alertmanagerSpec.secrets */
    alertmanagerConfig: (n: number) => indent(YAML.stringify(alertmanagerConfig(p.alerting), {lineWidth: 0}).trimEnd(), n),
    alertmanagerSecrets: alertmanagerSecretMounts(p.alerting),
    /** Grafana's datasources (uids the dashboards use) and the OpenSearch one's user */
    datasources: GRAFANA_DATASOURCES,
    grafanaOpensearchUser: GRAFANA_OPENSEARCH_USER,
    queryEndpoints: thanosQueryEndpoints(p),
    /** jobs of the Thanos sidecars' metrics: the chart's thanosServiceMonitor, and the edge Prometheuses' */
    sidecarJobs: ['kube-prometheus-stack-thanos-discovery', ...(scrapeEdges(p).length > 0 ? [EDGE_SIDECAR_SERVICE] : [])],
    opensearchPools: [
      {component: 'masters', size: sizeOf(p, 'opensearch-master'), roles: ['cluster_manager']},
      {component: 'data', size: sizeOf(p, 'opensearch-data'), roles: ['data', 'ingest']},
    ],
    q,
    indent,
    host,
    size: (component: string) => sizeOf(p, component),
    resources: (component: string, n: number) => resourcesOf(sizeOf(p, component), n),
    resourcesOf,
    jvm,
    modeOf: metricsMode,
    /** the ScrapeConfig objects of a remote-scrape edge (partials/scrape-jobs.yaml), read by its own Prometheus */
    scrapeConfigs: (e: Cluster) => {
      const api = hostPort(e.apiServer)
      return renderPartial('scrape-jobs', {e, ns: NAMESPACES, api: `${api.host}:${api.port}`, secret: SECRET_NAMES.scrape(e.name)}).trimEnd()
    },
    edgePrometheus: edgePrometheusName,
    edgeSidecarService: EDGE_SIDECAR_SERVICE,
  }
  return base
}

export type PlatformContext = ReturnType<typeof platformContext>

/** Per-cluster data on top of the platform's. */
export function clusterContext(base: PlatformContext, c: Cluster) {
  const mode = metricsMode(c)
  const os =
    c.role === 'central'
      ? {host: `opensearch.${NAMESPACES.logging}.svc`, port: 9200}
      : hostPort(serviceUrl(base.p, base.central, 'opensearch'))
  return {
    ...base,
    c,
    mode,
    overlay: overlayName(c),
    api: hostPort(c.apiServer),
    lbBlocks: lbBlocks(c),
    cilium: {values: ciliumValuesYaml(c).trimEnd(), pool: CILIUM_LB_POOL, l2Policy: CILIUM_L2_POLICY},
    volumeReplicas: Math.min(3, c.nodes.length),
    hasPrometheusOperator: c.role === 'central' || mode === 'agent',
    indexPrefix: `fluent-bit-${c.name}`,
    opensearch: os,
  }
}
