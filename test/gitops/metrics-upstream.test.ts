/**
 * The metrics half of the rendered repository against the upstream projects (issue 12 items 4, 5, 6, 14):
 * - the Prometheus operator objects (Prometheus, ScrapeConfig, PrometheusAgent, ServiceMonitor) against
 *   their CRD schemas of prometheus-operator v0.86.0 (../shared/upstream/crds.json.gz);
 * - Thanos Query's arguments against the v0.39.2 flag list (../shared/upstream/thanos-flags.json; a
 *   deprecated flag is a failure) and its endpoint file against cmd/thanos/endpointset.go's format;
 * - every alert rule's expression reads only metrics that some rendered scrape produces (table below,
 *   with the upstream source of each name), and a `job` matcher names a job that exports the metric;
 * - each remote-scrape edge's series carry its own cluster label in Thanos: the Prometheus that scrapes it
 *   has external label cluster=<edge> (a sidecar puts its external labels over every series,
 *   thanos-io/thanos pkg/store/prometheus.go labelpb.ExtendSortedLabels).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {parser} from '@prometheus-io/lezer-promql'
import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {renderFiles, type RenderedFile} from '../../src/lib/gitops/index.js'
import {fleetAnswers, platformOf} from './support.js'
import type {Loose} from '../support/kube/store.js'

const UPSTREAM = path.resolve('../shared/upstream')
type Schema = {
  type?: string
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  enum?: unknown[]
  required?: string[]
  anyOf?: Schema[]
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}
const CRDS = JSON.parse(gunzipSync(readFileSync(path.join(UPSTREAM, 'crds.json.gz'))).toString()) as Record<string, {schema: Schema}>
const FLAGS = JSON.parse(readFileSync(path.join(UPSTREAM, 'thanos-flags.json'), 'utf8')) as {
  version: string
  commands: Record<string, string[]>
  deprecated: Record<string, string[]>
}

type Obj = {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>}
  spec?: Loose
  data?: Record<string, string>
}

const objectsOf = (f: RenderedFile): Obj[] =>
  parseAllDocuments(f.content)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o && typeof o === 'object' && 'kind' in o)

/** Structural OpenAPI v3 check: unknown fields, types, enums, required (int-or-string, preserve-unknown-fields honoured). */
function schemaProblems(v: unknown, s: Schema, at: string): string[] {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v) ? [] : [`${at}: want int or string`]
  if (s.anyOf && !s.type) return s.anyOf.some((a) => schemaProblems(v, a, at).length === 0) ? [] : [`${at}: matches none of anyOf`]
  if (s.enum && !s.enum.includes(v)) return [`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`]
  switch (s.type) {
    case 'object': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`${at}: want object`]
      const o = v as Record<string, unknown>
      const out = (s.required ?? []).filter((k) => !(k in o)).map((k) => `${at}.${k}: required`)
      for (const [k, x] of Object.entries(o)) {
        const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined)
        if (sub) out.push(...schemaProblems(x, sub, `${at}.${k}`))
        else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) out.push(`${at}.${k}: not a field of the CRD`)
      }
      return out
    }
    case 'array':
      return Array.isArray(v) ? v.flatMap((x, i) => (s.items ? schemaProblems(x, s.items, `${at}[${i}]`) : [])) : [`${at}: want array`]
    case 'string':
      return typeof v === 'string' ? [] : [`${at}: want string`]
    case 'integer':
      return Number.isInteger(v) ? [] : [`${at}: want integer`]
    case 'number':
      return typeof v === 'number' ? [] : [`${at}: want number`]
    case 'boolean':
      return typeof v === 'boolean' ? [] : [`${at}: want boolean`]
    default:
      return []
  }
}

/**
 * What each rendered scrape job exports that the alert rules read, and where upstream defines the name.
 * `up` is written by Prometheus itself for every target (prometheus/prometheus scrape/scrape.go).
 */
const SIDECAR = {
  metrics: ['thanos_objstore_bucket_last_successful_upload_time', 'process_start_time_seconds'],
  source:
    'thanos-io/objstore objstore.go (objstore_bucket_last_successful_upload_time, registered by Thanos with the thanos_ prefix); prometheus/client_golang process collector (process_start_time_seconds)',
}
const EXPORTS: Record<string, {metrics: string[]; source: string}> = {
  'node-exporter': {
    metrics: [
      'node_cpu_seconds_total',
      'node_memory_MemAvailable_bytes',
      'node_memory_MemTotal_bytes',
      'node_filesystem_avail_bytes',
      'node_filesystem_size_bytes',
    ],
    source: 'prometheus/node_exporter collector/cpu_linux.go, collector/meminfo.go (node_memory_<field>_bytes), collector/filesystem_common.go',
  },
  'kube-state-metrics': {metrics: ['kube_pod_container_status_restarts_total'], source: 'kubernetes/kube-state-metrics internal/store/pod.go'},
  kubelet: {metrics: [], source: 'kubelet /metrics'},
  cadvisor: {metrics: [], source: 'kubelet /metrics/cadvisor'},
  // the chart's thanosServiceMonitor: job = its Service kube-prometheus-stack-thanos-discovery
  'kube-prometheus-stack-thanos-discovery': SIDECAR,
  // the remote-scrape edges' own Prometheuses' sidecars
  'prometheus-edges-thanos-discovery': SIDECAR,
  'thanos-query': {
    metrics: ['thanos_store_nodes_grpc_connections', 'process_start_time_seconds'],
    source: 'thanos-io/thanos pkg/query/endpointset.go (newEndpointSetNodeCollector)',
  },
  'thanos-compactor': {
    metrics: ['thanos_compact_halted', 'process_start_time_seconds'],
    source: 'thanos-io/thanos cmd/thanos/compact.go (compactMetrics.halted)',
  },
  'thanos-store': {metrics: ['process_start_time_seconds'], source: 'prometheus/client_golang process collector'},
  'thanos-receive': {metrics: ['process_start_time_seconds'], source: 'prometheus/client_golang process collector'},
  // a PodMonitor's job is <namespace>/<name> (prometheus-operator default without jobLabel)
  // (a remote-scrape edge's ScrapeConfig edge-<edge>-fluent-bit uses the same job name, through its API server)
  'logging/fluent-bit': {
    metrics: ['fluentbit_output_errors_total', 'fluentbit_output_retries_failed_total', 'fluentbit_output_dropped_records_total'],
    source: 'fluent/fluent-bit src/flb_output.c (cmt_counter_create "fluentbit" "output" "errors_total" / "retries_failed_total" / "dropped_records_total")',
  },
}

/** The jobs the rendered repository makes some Prometheus (central, edge or agent) scrape. */
function renderedJobs(files: RenderedFile[]): Set<string> {
  const jobs = new Set<string>()
  for (const f of files.filter((x) => x.path.endsWith('.yaml'))) {
    if (f.path.endsWith('/values.yaml') && f.path.includes('/kube-prometheus-stack/')) {
      const v = parseAllDocuments(f.content)[0]!.toJS() as {
        prometheus?: {enabled?: boolean; thanosService?: {enabled?: boolean}; thanosServiceMonitor?: {enabled?: boolean}}
        nodeExporter?: {enabled?: boolean}
        kubeStateMetrics?: {enabled?: boolean}
        'prometheus-node-exporter'?: {prometheus?: {monitor?: {enabled?: boolean}}}
        'kube-state-metrics'?: {prometheus?: {monitor?: {enabled?: boolean}}}
      }
      const central = f.path.includes('-central/')
      // on central the chart's own Prometheus scrapes the exporters; on an edge only when its monitor is on (agent edges)
      if (v.nodeExporter?.enabled !== false && (central || v['prometheus-node-exporter']?.prometheus?.monitor?.enabled)) jobs.add('node-exporter')
      if (v.kubeStateMetrics?.enabled !== false && (central || v['kube-state-metrics']?.prometheus?.monitor?.enabled)) jobs.add('kube-state-metrics')
      if (v.prometheus?.thanosService?.enabled && v.prometheus?.thanosServiceMonitor?.enabled) jobs.add('kube-prometheus-stack-thanos-discovery')
      continue
    }
    if (f.path.endsWith('kustomization.yaml') || f.path.endsWith('values.yaml')) continue
    for (const o of objectsOf(f)) {
      if (o.kind === 'ServiceMonitor') jobs.add(o.spec.selector.matchLabels['app.kubernetes.io/name'])
      if (o.kind === 'PodMonitor') jobs.add(`${o.metadata.namespace}/${o.metadata.name}`)
      if (o.kind === 'ScrapeConfig') jobs.add(o.spec.jobName)
    }
  }
  return jobs
}

interface Selector {
  metric: string
  job?: {op: string; value: string}
}

/** The vector selectors of a PromQL expression (the Prometheus project's own grammar, @prometheus-io/lezer-promql). */
function selectors(expr: string): Selector[] {
  const out: Selector[] = []
  const tree = parser.parse(expr)
  const text = (n: {from: number; to: number}) => expr.slice(n.from, n.to)
  tree.iterate({
    enter(n) {
      if (n.type.isError) throw new Error(`PromQL syntax error in ${expr} at ${n.from}`)
      if (n.name !== 'VectorSelector') return
      const id = n.node.getChild('Identifier')
      if (!id) return
      const s: Selector = {metric: text(id)}
      for (const m of n.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const name = m.getChild('LabelName')
        if (name && text(name) === 'job') s.job = {op: text(m.getChild('MatchOp')!), value: JSON.parse(text(m.getChild('StringLiteral')!))}
      }
      out.push(s)
    },
  })
  return out
}

const jobMatches = (j: string, m: {op: string; value: string}) =>
  m.op === '='
    ? j === m.value
    : m.op === '!='
      ? j !== m.value
      : m.op === '=~'
        ? new RegExp(`^(?:${m.value})$`).test(j)
        : !new RegExp(`^(?:${m.value})$`).test(j)

for (const [label, answers] of [
  ['the 4-cluster example', undefined],
  ['a 25-cluster fleet mixing agent and remote-scrape edges', fleetAnswers(25)],
] as const) {
  describe(`metrics against upstream: ${label}`, () => {
    const p = platformOf(answers)
    const files = renderFiles(p)
    const all = files
      .filter((f) => f.path.endsWith('.yaml') && !f.path.endsWith('kustomization.yaml') && !f.path.endsWith('/values.yaml'))
      .flatMap((f) => objectsOf(f).map((o) => ({f: f.path, o})))
    const scrape = p.clusters.filter((c) => c.role === 'edge' && (c.metrics ?? 'remote-scrape') === 'remote-scrape')

    it('Prometheus, ScrapeConfig, PrometheusAgent and ServiceMonitor objects use only fields of their v0.86.0 CRDs', () => {
      const kinds = [
        'monitoring.coreos.com/v1/Prometheus',
        'monitoring.coreos.com/v1alpha1/ScrapeConfig',
        'monitoring.coreos.com/v1alpha1/PrometheusAgent',
        'monitoring.coreos.com/v1/ServiceMonitor',
      ]
      const seen = new Set<string>()
      for (const {f, o} of all) {
        const key = `${o.apiVersion}/${o.kind}`
        if (!kinds.includes(key)) continue
        seen.add(key)
        const schema = CRDS[key]!.schema
        expect(schemaProblems(o.spec, schema.properties!.spec!, 'spec'), `${f} ${o.kind}/${o.metadata.name} (crds.json.gz ${key})`).toEqual([])
      }
      expect([...seen].sort()).toEqual([...kinds].sort())
    })

    it('the negative case: the validator names an unknown field and a bad enum', () => {
      const spec = CRDS['monitoring.coreos.com/v1alpha1/ScrapeConfig']!.schema.properties!.spec!
      expect(schemaProblems({jobName: 'x', scheme: 'https', clusterLabel: 'x'}, spec, 'spec')).toEqual([
        'spec.scheme: "https" not in ["HTTP","HTTPS"]',
        'spec.clusterLabel: not a field of the CRD',
      ])
    })

    it('each remote-scrape edge is scraped by its own Prometheus with external label cluster=<edge>; nothing else scrapes its API server', () => {
      const proms = all.filter(({o}) => o.kind === 'Prometheus').map(({o}) => o)
      const scs = all.filter(({o}) => o.kind === 'ScrapeConfig').map(({o}) => o)
      for (const e of scrape) {
        const mine = scs.filter((s) => s.spec.kubernetesSDConfigs.some((k: {apiServer?: string}) => k.apiServer === e.apiServer))
        // kubelet, cadvisor, node-exporter, kube-state-metrics (scrape-jobs) and Fluent Bit (scrape-jobs-fluent-bit)
        expect(mine.length, e.name).toBe(5)
        // the Prometheus that selects them (label selector on the ScrapeConfig's labels)
        const readers = proms.filter(
          (pr) =>
            mine.every((s) => Object.entries(pr.spec.scrapeConfigSelector?.matchLabels ?? {}).every(([k, v]) => s.metadata.labels?.[k] === v)) &&
            pr.spec.scrapeConfigSelector,
        )
        expect(
          readers.map((r) => r.spec.externalLabels),
          e.name,
        ).toEqual([{cluster: e.name}])
        expect(readers[0]!.spec.thanos.objectStorageConfig.name).toBe('thanos-objstore')
      }
      // the central chart Prometheus reads no ScrapeConfig of ours: its selector wants release=kube-prometheus-stack
      for (const s of scs) expect(s.metadata.labels?.release).toBeUndefined()
    })

    it(`Thanos Query ${FLAGS.version}: every argument is a known, non-deprecated flag; endpoints come from an sd-config file`, () => {
      const q = all.find(({o}) => o.kind === 'Deployment' && o.metadata.name === 'thanos-query')!.o
      const args: string[] = q.spec.template.spec.containers[0].args
      expect(args[0]).toBe('query')
      for (const a of args.slice(1)) {
        const flag = /^--(?:no-)?([^=]+)/.exec(a)![1]!
        expect(FLAGS.commands.query, a).toContain(flag)
        expect(FLAGS.deprecated.query, `${a} is deprecated in Thanos ${FLAGS.version}`).not.toContain(flag)
      }
      const file = args.find((a) => a.startsWith('--endpoint.sd-config-file='))!.split('=')[1]!
      const mount = q.spec.template.spec.containers[0].volumeMounts.find((m: {mountPath: string}) => file.startsWith(`${m.mountPath}/`))
      const vol = q.spec.template.spec.volumes.find((v: {name: string}) => v.name === mount.name)
      const cm = all.find(({o}) => o.kind === 'ConfigMap' && o.metadata.name === vol.configMap.name)!.o
      // cmd/thanos/endpointset.go: EndpointConfig{Endpoints []endpointSettings{Address, Strict, Group, ...}}; dnssrv+ is resolved, and not allowed with strict
      const sd = parseAllDocuments(cm.data![path.basename(file)]!)[0]!.toJS() as {endpoints: Record<string, unknown>[]}
      for (const e of sd.endpoints) {
        expect(Object.keys(e).filter((k) => !['address', 'strict', 'group', 'service_config'].includes(k))).toEqual([])
        expect(e.address).toMatch(/^dnssrv\+_grpc\._tcp\.[a-z0-9-]+\.monitoring\.svc\.cluster\.local$/)
        expect(e.strict).toBeUndefined()
      }
      // one SRV name per headless Service with a grpc port that the repository renders (or the chart, for the sidecars)
      const services = new Set(
        all
          .filter(({o}) => o.kind === 'Service' && o.spec.clusterIP === 'None' && o.spec.ports.some((x: {name: string}) => x.name === 'grpc'))
          .map(({o}) => o.metadata.name),
      )
      services.add('kube-prometheus-stack-thanos-discovery') // prometheus.thanosService (chart)
      services.add('thanos-ruler-operated') // the operator's Service for the ThanosRuler
      for (const e of sd.endpoints) expect(services, String(e.address)).toContain(/_tcp\.([a-z0-9-]+)\./.exec(String(e.address))![1])
      expect(sd.endpoints.some((e) => String(e.address).includes('prometheus-edges-thanos-discovery'))).toBe(scrape.length > 0)
    })

    it('every alert rule reads only metrics some rendered scrape produces (and job matchers name such a job)', () => {
      const jobs = renderedJobs(files)
      for (const j of jobs) expect(EXPORTS, `rendered job ${j} is not in the metrics table`).toHaveProperty([j])
      const rules = all
        .filter(({o}) => o.kind === 'PrometheusRule')
        .flatMap(({f, o}) =>
          (o.spec.groups as {rules: {alert?: string; expr: string}[]}[]).flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({f, ...r}))),
        )
      expect(rules.length).toBeGreaterThan(5)
      const checked = new Set<string>()
      for (const r of rules) {
        for (const s of selectors(r.expr)) {
          const producers = [...jobs].filter((j) => s.metric === 'up' || EXPORTS[j]!.metrics.includes(s.metric))
          expect(producers, `${r.f} ${r.alert}: no rendered scrape produces ${s.metric}`).not.toEqual([])
          if (s.job)
            expect(
              producers.filter((j) => jobMatches(j, s.job!)),
              `${r.alert}: ${s.metric}{job${s.job.op}"${s.job.value}"} matches no job that exports it`,
            ).not.toEqual([])
          checked.add(s.metric)
        }
      }
      expect([...checked]).toEqual(expect.arrayContaining(['up', 'thanos_objstore_bucket_last_successful_upload_time', 'fluentbit_output_errors_total']))
    })

    it('the negative case: a rule on a metric nothing scrapes is caught, and so is a job matcher naming no exporter', () => {
      const jobs = [...renderedJobs(files)]
      const [s] = selectors('time() - thanos_shipper_last_upload{job="thanos-sidecar"} > 3600')
      expect(jobs.filter((j) => EXPORTS[j]!.metrics.includes(s!.metric))).toEqual([])
      const [t] = selectors('thanos_objstore_bucket_last_successful_upload_time{job=~".*thanos-sidecar.*"}')
      expect(jobs.filter((j) => EXPORTS[j]!.metrics.includes(t!.metric) && jobMatches(j, t!.job!))).toEqual([])
    })
  })
}
