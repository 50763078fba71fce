/**
 * The data every template sees (`it`): the inventory, names from config/model.ts, sizes from
 * config/sizing.ts (so lint and render agree), and small helpers that print YAML fragments.
 */
import {yaml} from '../lazy-deps.js'
import {yamlScalar} from '../yaml-scalar.js'
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
  ingressHost,
  serviceUrl,
} from '../config/model.js'
import {fluentBitDelivery, sizeOf, type ComponentSize} from '../config/sizing.js'
import {ISM_POLICY_ID, LEGACY_ISM_POLICY_ID, LOG_INDEX_PATTERN, OPENSEARCH_NODE_POOLS, SNAPSHOT_POLICY, SNAPSHOT_REPOSITORY} from '../platform/catalogue.js'
import {CILIUM_L2_POLICY, CILIUM_LB_POOL, ciliumValuesYaml} from '../config/cilium.js'
import {durationDays, memoryBytes} from '../config/units.js'
import {bareHost, urlHost} from '../config/validators.js'
import {sha256} from '../hash.js'
import {IN_CLUSTER_SERVER, clusterSecretName} from '../argocd/cluster-secret.js'

export const DASHBOARDS = ['cluster-metrics', 'multi-cluster-summary', 'opensearch-logs', 'thanos-overview'] as const
/** uids of the datasources provisioned in Grafana (grafana.additionalDataSources): the dashboards reference these */
export const GRAFANA_DATASOURCES = {thanos: 'thanos', opensearch: 'opensearch'} as const
/**
 * The Fluent operator's Fluent Bit image (fluent-bit + the operator's config watcher): fluent-operator
 * 3.4.2's chart default is ghcr.io/fluent/fluent-operator/fluent-bit:4.0.1 (charts.json.gz values
 * fluentbit.image); tags are the Fluent Bit version, with and without a leading v
 * (fluent-operator .github/workflows/build-fluentbit-image.yaml).
 */
export const FLUENT_BIT_IMAGE = 'ghcr.io/fluent/fluent-operator/fluent-bit'

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

/**
 * Cilium LB pool blocks from the inventory's loadBalancerIPs (CIDR, single IP, or start-stop). A single address is
 * its host prefix: /32, or /128 for IPv6 (Cilium's LB IPAM takes a block's whole network, lbipam.go
 * ipRangeFromBlock, so fd00::5/32 would be 2^96 addresses).
 */
export function lbBlocks(c: Cluster): {cidr?: string; start?: string; stop?: string}[] {
  return c.loadBalancerIPs.map((r) => {
    if (r.includes('-')) {
      const [start, stop] = r.split('-')
      return {start, stop}
    }
    return {cidr: r.includes('/') ? r : `${r}/${r.includes(':') ? 128 : 32}`}
  })
}

/**
 * The host (an IPv6 address bare, as a program takes a host on its own: Fluent Bit's `host` goes to getaddrinfo as it is)
 * and the port of a URL; urlHost puts the brackets back where a host and a port are joined.
 */
function hostPort(url: string): {host: string; port: number} {
  const u = new URL(url)
  return {host: bareHost(u.hostname), port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80}
}

// the log index pattern and the ISM / snapshot policy names are platform facts (lib/platform/catalogue.ts)
export {LOG_INDEX_PATTERN, ISM_POLICY_ID, LEGACY_ISM_POLICY_ID, SNAPSHOT_POLICY, SNAPSHOT_REPOSITORY}
/** above the legacy policy's 100: ISM refuses two templates with overlapping patterns and the same priority */
export const ISM_PRIORITY = 200
export const SNAPSHOT_SCHEDULE = {create: '0 1 * * *', delete: '0 3 * * *', timezone: 'UTC'} as const
/** SM never deletes below this many snapshots, whatever their age (a stalled schedule keeps the last week). */
export const SNAPSHOT_MIN_COUNT = 7

/**
 * The spec of the OpenSearchISMPolicy: fluent-bit-* indices are deleted at retention.opensearch.deleteAfter.
 * No ISM snapshot action: snapshot management deletes only the snapshots it made itself (index-management
 * filterBySMPolicyInSnapshotMetadata), so ISM-made snapshots could never be deleted through OpenSearch;
 * the daily SM snapshots cover every index instead. The description carries a digest of the states, so the
 * setup Job can wait until the operator has written this version before it moves older indices to it.
 */
export function ismPolicy(p: Platform) {
  const del = `${durationDays(p.retention.opensearch.deleteAfter)}d`
  const states = [
    {name: 'hot', actions: [], transitions: [{stateName: 'delete', conditions: {minIndexAge: del}}]},
    {name: 'delete', actions: [{delete: {}}], transitions: []},
  ]
  const ismTemplate = {indexPatterns: [LOG_INDEX_PATTERN], priority: ISM_PRIORITY}
  const version = sha256(JSON.stringify({states, ismTemplate})).slice(0, 12)
  return {
    policyId: ISM_POLICY_ID,
    description: `${LOG_INDEX_PATTERN} log indices: delete after ${del} [obsctl ${version}]`,
    defaultState: 'hot',
    states,
    ismTemplate,
    version,
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
  const host = (service: string) => ingressHost(p, central, service)
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
    fluentBitImage: FLUENT_BIT_IMAGE,
    fluentBit: fluentBitDelivery(p),
    thanosRetention: {raw: p.retention.thanos.raw ?? '30d', '5m': p.retention.thanos['5m'] ?? '90d', '1h': p.retention.thanos['1h'] ?? '180d'},
    s3: {host: s3.host, protocol: s3.protocol.replace(':', '')},
    snapshotRepo: SNAPSHOT_REPOSITORY,
    ism: ismPolicy(p),
    legacyIsmPolicyId: LEGACY_ISM_POLICY_ID,
    logIndexPattern: LOG_INDEX_PATTERN,
    snapshotPolicy: {
      name: SNAPSHOT_POLICY,
      schedule: SNAPSHOT_SCHEDULE,
      maxAge: `${durationDays(p.retention.opensearch.deleteAfter)}d`,
      minCount: SNAPSHOT_MIN_COUNT,
    },
    receiveUrl: `${serviceUrl(p, central, 'thanos-receive')}/api/v1/receive`,
    /** alertmanager.config (route, receivers) as YAML at indent n; alertmanagerSpec.secrets */
    alertmanagerConfig: (n: number) => indent(yaml().stringify(alertmanagerConfig(p.alerting), {lineWidth: 0}).trimEnd(), n),
    alertmanagerSecrets: alertmanagerSecretMounts(p.alerting),
    /** Grafana's datasources (uids the dashboards use) and the OpenSearch one's user */
    datasources: GRAFANA_DATASOURCES,
    grafanaOpensearchUser: GRAFANA_OPENSEARCH_USER,
    queryEndpoints: thanosQueryEndpoints(p),
    /** jobs of the Thanos sidecars' metrics: the chart's thanosServiceMonitor, and the edge Prometheuses' */
    sidecarJobs: ['kube-prometheus-stack-thanos-discovery', ...(scrapeEdges(p).length > 0 ? [EDGE_SIDECAR_SERVICE] : [])],
    opensearchPools: [
      {component: OPENSEARCH_NODE_POOLS[0], size: sizeOf(p, 'opensearch-master'), roles: ['cluster_manager']},
      {component: OPENSEARCH_NODE_POOLS[1], size: sizeOf(p, 'opensearch-data'), roles: ['data', 'ingest']},
    ],
    q,
    y: yamlScalar,
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
      const data = {e, ns: NAMESPACES, api: `${urlHost(api.host)}:${api.port}`, secret: SECRET_NAMES.scrape(e.name), y: yamlScalar}
      // Fluent Bit's own metrics on the edge: a ScrapeConfig of its own (partials/scrape-jobs-fluent-bit.yaml)
      return `${renderPartial('scrape-jobs', data).trimEnd()}\n---\n${renderPartial('scrape-jobs-fluent-bit', data).trimEnd()}`
    },
    edgePrometheus: edgePrometheusName,
    edgeSidecarService: EDGE_SIDECAR_SERVICE,
    /** the central cluster's declarative in-cluster Secret (argocd/applications/in-cluster.yaml) */
    inCluster: {secretName: clusterSecretName(IN_CLUSTER_SERVER)},
    ciliumL2Policy: CILIUM_L2_POLICY,
  }
  return base
}

export type PlatformContext = ReturnType<typeof platformContext>

/** Per-cluster data on top of the platform's. */
export function clusterContext(base: PlatformContext, c: Cluster) {
  const mode = metricsMode(c)
  const os = c.role === 'central' ? {host: `opensearch.${NAMESPACES.logging}.svc`, port: 9200} : hostPort(serviceUrl(base.p, base.central, 'opensearch'))
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

/**
 * The data of a shared edge overlay (deploy/overlays/edge-<mode>/): every edge with that metrics mode.
 * No cluster (`c` is undefined): what differs per cluster is set by the ApplicationSet (plan.ts patches).
 */
export function edgeUnitContext(base: PlatformContext, mode: 'agent' | 'remote-scrape') {
  return {
    ...base,
    c: undefined,
    mode,
    overlay: `edge-${mode}`,
    hasPrometheusOperator: mode === 'agent',
    opensearch: hostPort(serviceUrl(base.p, base.central, 'opensearch')),
  }
}
