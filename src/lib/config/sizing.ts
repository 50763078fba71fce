/**
 * Sizing profiles: the requests of every platform component per cluster role.
 * `production` is the seed's tuning guide (appendix C); `lab` fits the seed's 4-core/16 GB machines.
 * The capacity lint and the rendered resources both read this table, so they never disagree.
 */
import type {Cluster, Platform} from './schema.js'
import {cpuMillis, memoryBytes} from './units.js'
import {metricsMode, needsReceive, scrapeEdges} from './model.js'

export type Profile = Platform['profile']

export interface Resources {
  cpu: string
  memory: string
  limitCpu?: string
  limitMemory?: string
  disk?: string
}

export interface ComponentSize extends Resources {
  component: string
  replicas: number
  /** per node (DaemonSets): multiplied by the cluster's node count */
  perNode?: boolean
}

type Row = [component: string, replicas: number, lab: Resources, production: Resources, perNode?: boolean]

/** Kubernetes itself (kubeadm control plane static pods + CoreDNS) and per-node agents. */
const SYSTEM: Row[] = [
  ['kube-control-plane', 1, {cpu: '550m', memory: '1Gi'}, {cpu: '550m', memory: '1Gi'}],
  ['coredns', 2, {cpu: '100m', memory: '70Mi'}, {cpu: '100m', memory: '70Mi'}],
  ['cilium', 1, {cpu: '100m', memory: '128Mi'}, {cpu: '100m', memory: '256Mi'}, true],
  ['longhorn', 1, {cpu: '100m', memory: '256Mi'}, {cpu: '250m', memory: '512Mi'}, true],
  ['fluent-operator', 1, {cpu: '50m', memory: '64Mi'}, {cpu: '100m', memory: '128Mi'}],
  [
    'fluent-bit',
    1,
    {cpu: '100m', memory: '128Mi', limitCpu: '500m', limitMemory: '512Mi'},
    {cpu: '100m', memory: '128Mi', limitCpu: '500m', limitMemory: '512Mi'},
    true,
  ],
  ['node-exporter', 1, {cpu: '25m', memory: '32Mi'}, {cpu: '50m', memory: '64Mi'}, true],
  ['kube-state-metrics', 1, {cpu: '25m', memory: '64Mi'}, {cpu: '100m', memory: '128Mi'}],
]

const CENTRAL: Row[] = [
  ['argocd', 1, {cpu: '350m', memory: '1Gi'}, {cpu: '1000m', memory: '2Gi'}],
  ['prometheus-operator', 1, {cpu: '50m', memory: '64Mi'}, {cpu: '100m', memory: '128Mi'}],
  [
    'prometheus',
    2,
    {cpu: '200m', memory: '768Mi', limitMemory: '1536Mi', disk: '10Gi'},
    {cpu: '1000m', memory: '2Gi', limitCpu: '2000m', limitMemory: '4Gi', disk: '15Gi'},
  ],
  ['thanos-sidecar', 2, {cpu: '50m', memory: '128Mi'}, {cpu: '100m', memory: '256Mi'}],
  ['alertmanager', 2, {cpu: '25m', memory: '64Mi', disk: '1Gi'}, {cpu: '100m', memory: '256Mi', disk: '2Gi'}],
  ['grafana', 1, {cpu: '100m', memory: '256Mi', disk: '2Gi'}, {cpu: '250m', memory: '512Mi', disk: '10Gi'}],
  ['thanos-query', 1, {cpu: '100m', memory: '256Mi', limitMemory: '1Gi'}, {cpu: '1000m', memory: '1Gi', limitMemory: '2Gi'}],
  ['thanos-store', 1, {cpu: '100m', memory: '512Mi', limitMemory: '1Gi', disk: '5Gi'}, {cpu: '500m', memory: '1Gi', limitMemory: '2Gi', disk: '10Gi'}],
  ['thanos-compactor', 1, {cpu: '100m', memory: '512Mi', limitMemory: '1Gi', disk: '10Gi'}, {cpu: '500m', memory: '1Gi', limitMemory: '2Gi', disk: '20Gi'}],
  ['thanos-ruler', 1, {cpu: '50m', memory: '128Mi', disk: '1Gi'}, {cpu: '250m', memory: '512Mi', disk: '5Gi'}],
  ['opensearch-operator', 1, {cpu: '50m', memory: '128Mi'}, {cpu: '100m', memory: '256Mi'}],
  ['opensearch-master', 3, {cpu: '100m', memory: '768Mi', disk: '5Gi'}, {cpu: '500m', memory: '1Gi', disk: '20Gi'}],
  ['opensearch-data', 3, {cpu: '200m', memory: '1536Mi', disk: '20Gi'}, {cpu: '1000m', memory: '2Gi', disk: '100Gi'}],
  ['opensearch-dashboards', 1, {cpu: '100m', memory: '512Mi'}, {cpu: '200m', memory: '512Mi'}],
]

const RECEIVE: Row = ['thanos-receive', 1, {cpu: '100m', memory: '512Mi', disk: '10Gi'}, {cpu: '500m', memory: '1Gi', disk: '20Gi'}]
const AGENT: Row = ['prometheus-agent', 1, {cpu: '100m', memory: '200Mi', limitMemory: '400Mi'}, {cpu: '200m', memory: '200Mi', limitMemory: '512Mi'}]
/**
 * On central, one per `metrics: remote-scrape` edge, with its Thanos sidecar: a few targets per edge node
 * at 30s and a block upload every 2h, so small (three such edges still fit the seed's 4-core central in lab)
 */
const EDGE_PROMETHEUS: Row = [
  'prometheus-edge',
  1,
  {cpu: '50m', memory: '256Mi', limitMemory: '512Mi', disk: '5Gi'},
  {cpu: '200m', memory: '512Mi', limitMemory: '1Gi', disk: '10Gi'},
]
const EDGE_SIDECAR: Row = ['thanos-sidecar-edge', 1, {cpu: '25m', memory: '64Mi'}, {cpu: '50m', memory: '128Mi'}]

function pick(rows: Row[], p: Pick<Platform, 'profile' | 'replicas'>): ComponentSize[] {
  return rows.map(([component, replicas, lab, production, perNode]) => ({
    component,
    replicas: p.replicas?.[component] ?? replicas,
    perNode,
    ...(p.profile === 'lab' ? lab : production),
  }))
}

/**
 * Component names that `replicas` overrides may use: the ones whose replicas the GitOps repository renders (the
 * templates' `it.size(NAME).replicas`; test/gitops/replicas.test.ts renders each at another count and finds it).
 */
export const SCALABLE_COMPONENTS: string[] = [
  'prometheus',
  'alertmanager',
  'thanos-query',
  'thanos-store',
  'thanos-ruler',
  'opensearch-master',
  'opensearch-data',
  'opensearch-dashboards',
  'prometheus-agent',
  'prometheus-edge',
]

/**
 * The sized components whose count obsctl does not render, and why: `replicas.NAME` for one of them changed only the
 * capacity check, and the platform ran the count below (lint: replicas-fixed).
 */
export const FIXED_REPLICAS: Record<string, string> = {
  coredns: 'kubeadm installs CoreDNS with 2 replicas and keeps it (kubectl -n kube-system scale deployment coredns changes it)',
  'fluent-operator': 'the operator runs one replica (the Fluent Bit agents run on every node)',
  'kube-state-metrics': 'kube-prometheus-stack runs one kube-state-metrics replica',
  argocd:
    "Argo CD's replicas follow the central cluster: the HA manifest from 3 nodes on, and the application controller's shards from the cluster count (docs/argocd.md)",
  'prometheus-operator': 'the operator runs one replica',
  'thanos-sidecar': 'one sidecar runs in every Prometheus pod: set replicas.prometheus',
  grafana: 'Grafana runs one replica on its own volume (a second would need a shared database)',
  'thanos-compactor': 'Thanos needs exactly one compactor per bucket',
  'opensearch-operator': 'the operator runs one replica',
  'thanos-receive': 'obsctl renders one Thanos Receive (no hashring)',
}

/** The platform components a cluster of this role runs, with sizes for the profile. */
export function componentsFor(p: Platform, c: Cluster): ComponentSize[] {
  const rows = [...SYSTEM]
  if (c.role === 'central') {
    rows.push(...CENTRAL)
    if (needsReceive(p)) rows.push(RECEIVE)
  } else if (metricsMode(c) === 'agent') rows.push(AGENT)
  const out = pick(rows, p)
  const edges = c.role === 'central' ? scrapeEdges(p).length : 0
  if (edges > 0) {
    // every remote-scrape edge's own Prometheus and its sidecar
    const [prom, side] = pick([EDGE_PROMETHEUS, EDGE_SIDECAR], p)
    out.push({...prom!, replicas: prom!.replicas * edges}, {...side!, replicas: prom!.replicas * edges})
  }
  return out
}

/** Size of one component for the profile (for rendering resources). */
export function sizeOf(p: Platform, component: string): ComponentSize {
  const row = [...SYSTEM, ...CENTRAL, RECEIVE, AGENT, EDGE_PROMETHEUS, EDGE_SIDECAR].find((r) => r[0] === component)
  if (!row) throw new Error(`no size for component ${component}`)
  return pick([row], p)[0]!
}

export interface CapacityRow {
  cluster: string
  role: string
  requestedCpuMillis: number
  requestedMemoryBytes: number
  declaredCpuMillis: number
  declaredMemoryBytes: number
  cpuOk: boolean
  memoryOk: boolean
}

/** Sum of the platform's requests for a cluster vs the CPU/memory its nodes declare. */
export function capacity(p: Platform, c: Cluster): CapacityRow {
  let cpu = 0
  let mem = 0
  for (const s of componentsFor(p, c)) {
    const n = s.replicas * (s.perNode ? c.nodes.length : 1)
    cpu += cpuMillis(s.cpu) * n
    mem += memoryBytes(s.memory) * n
  }
  const declaredCpu = c.nodes.reduce((a, n) => a + cpuMillis(n.cpu), 0)
  const declaredMem = c.nodes.reduce((a, n) => a + memoryBytes(n.memory), 0)
  return {
    cluster: c.name,
    role: c.role,
    requestedCpuMillis: cpu,
    requestedMemoryBytes: mem,
    declaredCpuMillis: declaredCpu,
    declaredMemoryBytes: declaredMem,
    cpuOk: cpu <= declaredCpu,
    memoryOk: mem <= declaredMem,
  }
}

/**
 * Fluent Bit's delivery guarantees per profile: how long an output retries a chunk and how much a
 * node buffers on disk while OpenSearch is unreachable.
 * - retryLimit (ClusterOutput `retry_limit`): with Fluent Bit's scheduler defaults (base 5s, cap 2000s,
 *   full-jitter backoff) 30 retries span about 6 hours, 100 about a day; a chunk is dropped only after that.
 * - totalLimitSize (`storage.total_limit_size` of the output): the filesystem buffer per node; when it is
 *   full the oldest chunks are dropped (fluentbit_output_dropped_records_total).
 * - backlogMemLimit / maxChunksUp (`storage.backlog.mem_limit`, `storage.max_chunks_up`): memory for
 *   chunks read back from disk, well under the fluent-bit memory limit above.
 */
export interface FluentBitDelivery {
  retryLimit: number
  totalLimitSize: string
  backlogMemLimit: string
  maxChunksUp: number
}

const FLUENT_BIT_DELIVERY: Record<Profile, FluentBitDelivery> = {
  lab: {retryLimit: 30, totalLimitSize: '1G', backlogMemLimit: '16M', maxChunksUp: 64},
  production: {retryLimit: 100, totalLimitSize: '8G', backlogMemLimit: '64M', maxChunksUp: 128},
}

export function fluentBitDelivery(p: Pick<Platform, 'profile'>): FluentBitDelivery {
  return FLUENT_BIT_DELIVERY[p.profile]
}
