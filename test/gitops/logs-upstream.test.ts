/**
 * The logging part of the rendered repository (Fluent Bit, OpenSearch retention and snapshots, their alert
 * rules) checked against upstream rather than our own expectations: every custom resource of the Fluent and
 * OpenSearch operators, and the PodMonitors, against the openAPIV3Schema of its CRD at the pinned version
 * (../shared/upstream/crds.json.gz; deprecated fields are failures), the logging rule group with the real
 * `promtool check rules`, and the Fluent Bit image against the Fluent operator chart's default image.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {fleetAnswers, platformOf} from './support.js'

const UPSTREAM = path.resolve(__dirname, '../../../shared/upstream')
const load = (f: string) => JSON.parse(gunzipSync(readFileSync(path.join(UPSTREAM, f))).toString('utf8')) as Record<string, unknown>

interface Schema {
  type?: string
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  required?: string[]
  enum?: unknown[]
  pattern?: string
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
  anyOf?: Schema[]
}
type Crd = {schema: Schema; served: boolean; deprecated: boolean; deprecatedFields?: string[]}
const crds = load('crds.json.gz') as Record<string, Crd>
const charts = load('charts.json.gz') as Record<string, {values: {fluentbit: {image: {registry: string; repository: string; tag: string}}}}>

/** Structural validation of `v` against an openAPIV3Schema: every problem as "path: what". */
function problems(v: unknown, s: Schema, at: string): string[] {
  if (v === null || v === undefined) return []
  if (s['x-kubernetes-int-or-string']) return typeof v === 'number' || typeof v === 'string' ? [] : [`${at}: expected an integer or a string`]
  const type = s.type
  const out: string[] = []
  if (s.enum && !s.enum.includes(v)) out.push(`${at}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`)
  if (type === 'string') {
    if (typeof v !== 'string') return [`${at}: expected a string, got ${JSON.stringify(v)}`]
    if (s.pattern && !new RegExp(s.pattern).test(v)) out.push(`${at}: ${v} does not match ${s.pattern}`)
    return out
  }
  if (type === 'integer') return Number.isInteger(v) ? out : [`${at}: expected an integer, got ${JSON.stringify(v)}`]
  if (type === 'number') return typeof v === 'number' ? out : [`${at}: expected a number`]
  if (type === 'boolean') return typeof v === 'boolean' ? out : [`${at}: expected a boolean, got ${JSON.stringify(v)}`]
  if (type === 'array') {
    if (!Array.isArray(v)) return [`${at}: expected a list`]
    return v.flatMap((x, i) => (s.items ? problems(x, s.items, `${at}[${i}]`) : []))
  }
  if (type === 'object' || s.properties) {
    if (typeof v !== 'object' || Array.isArray(v)) return [`${at}: expected an object`]
    const o = v as Record<string, unknown>
    for (const r of s.required ?? []) if (!(r in o)) out.push(`${at}.${r}: required`)
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k]
      if (p) out.push(...problems(x, p, `${at}.${k}`))
      else if (typeof s.additionalProperties === 'object') out.push(...problems(x, s.additionalProperties, `${at}.${k}`))
      else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) out.push(`${at}.${k}: not a field of the CRD`)
    }
  }
  return out
}

/** ".spec.podMetricsEndpoints[].targetPort" style paths of deprecated fields that `v` uses. */
function deprecatedUsed(v: unknown, fields: string[]): string[] {
  const has = (x: unknown, parts: string[]): boolean => {
    if (parts.length === 0) return x !== undefined
    const [head, ...rest] = parts
    if (head!.endsWith('[]')) {
      const list = (x as Record<string, unknown> | undefined)?.[head!.slice(0, -2)]
      return Array.isArray(list) && list.some((e) => has(e, rest))
    }
    return x !== null && typeof x === 'object' && has((x as Record<string, unknown>)[head!], rest)
  }
  return fields.filter((f) => has(v, f.split('.').filter(Boolean)))
}

const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-logs-upstream-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

for (const [label, answers] of [['the 4-cluster example', undefined], ['a 25-cluster fleet (agent and remote-scrape edges), profile production', fleetAnswers(25, {profile: 'production'})]] as const) {
  describe(`logging objects against upstream: ${label}`, () => {
    const files = renderFiles(platformOf(answers))
    const objects = files
      .filter((f) => f.path.endsWith('.yaml') && !f.path.endsWith('kustomization.yaml') && !f.path.endsWith('values.yaml'))
      .flatMap((f) => parseAllDocuments(f.content).map((d) => ({file: f.path, o: d.toJS() as {apiVersion: string; kind: string; metadata: {name: string}; spec: unknown}})))
      .filter((x) => x.o !== null)

    it('every Fluent operator, OpenSearch operator and PodMonitor object validates against its CRD (served, not deprecated, no deprecated field)', () => {
      const mine = objects.filter(({o}) => /fluent|opensearch/.test(o.apiVersion) || o.kind === 'PodMonitor')
      const kinds = new Set(mine.map(({o}) => `${o.apiVersion}/${o.kind}`))
      for (const k of ['opensearch.org/v1/OpenSearchCluster', 'opensearch.org/v1/OpenSearchISMPolicy', 'opensearch.org/v1/OpensearchSnapshotPolicy', 'fluentbit.fluent.io/v1alpha2/FluentBit', 'fluentbit.fluent.io/v1alpha2/ClusterFluentBitConfig', 'fluentbit.fluent.io/v1alpha2/ClusterInput', 'fluentbit.fluent.io/v1alpha2/ClusterOutput', 'monitoring.coreos.com/v1/PodMonitor']) expect(kinds).toContain(k)
      for (const {file, o} of mine) {
        const key = `${o.apiVersion}/${o.kind}`
        const crd = crds[key]
        expect(crd, `${file}: ${key} is not a CRD of the pinned operators`).toBeDefined()
        expect([crd!.served, crd!.deprecated], `${file}: ${key} served, deprecated`).toEqual([true, false])
        const specSchema = crd!.schema.properties!.spec!
        expect(problems(o.spec, specSchema, '.spec'), `${file} ${o.kind}/${o.metadata.name} (upstream crds.json.gz ${key})`).toEqual([])
        expect(deprecatedUsed(o, crd!.deprecatedFields ?? []), `${file}: deprecated fields of ${key}`).toEqual([])
      }
    })

    it('the check catches what it must: an unknown field (retryLimit; the CRD spells it retry_limit), a wrong type, a deprecated field', () => {
      const out = objects.find(({o}) => o.kind === 'ClusterOutput')!.o
      const outSchema = crds['fluentbit.fluent.io/v1alpha2/ClusterOutput']!.schema.properties!.spec!
      expect(problems({...(out.spec as object), retryLimit: 30}, outSchema, '.spec')).toEqual(['.spec.retryLimit: not a field of the CRD'])
      expect(problems({...(out.spec as object), retry_limit: 30}, outSchema, '.spec')).toEqual(['.spec.retry_limit: expected a string, got 30'])
      const pm = {spec: {podMetricsEndpoints: [{targetPort: 2020}]}}
      expect(deprecatedUsed(pm, crds['monitoring.coreos.com/v1/PodMonitor']!.deprecatedFields ?? [])).toEqual(['.spec.podMetricsEndpoints[].targetPort'])
    })

    it('the FluentBit image is the Fluent operator chart default image, with versions.fluentBit as its tag', () => {
      const img = charts['fluent-operator']!.values.fluentbit.image
      const fb = objects.find(({o}) => o.kind === 'FluentBit')!.o as unknown as {spec: {image: string}}
      const p = platformOf(answers)
      expect(fb.spec.image).toBe(`${img.registry}/${img.repository}:${p.versions.fluentBit}`)
      // the default version is the chart's own default tag
      expect(p.versions.fluentBit).toBe(img.tag)
    })

    it('the logging rules pass promtool and read the metrics Fluent Bit exports under the output alias', () => {
      const rules = objects.find(({o}) => o.kind === 'PrometheusRule' && o.metadata.name === 'global-alerts')!.o as unknown as {spec: {groups: {name: string; rules: {alert: string; expr: string}[]}[]}}
      const group = rules.spec.groups.find((g) => g.name === 'logging')!
      expect(group.rules.map((r) => r.alert)).toEqual(['FluentBitOutputErrors', 'FluentBitLogsDropped'])
      // counters of fluent-bit src/flb_output.c (cmetrics, label name = the output's alias)
      const alias = (objects.find(({o}) => o.kind === 'ClusterOutput')!.o as unknown as {spec: {alias: string}}).spec.alias
      for (const r of group.rules) {
        for (const m of r.expr.match(/fluentbit_[a-z_]+/g) ?? []) expect(['fluentbit_output_errors_total', 'fluentbit_output_retries_failed_total', 'fluentbit_output_dropped_records_total']).toContain(m)
        expect(r.expr).toContain(`name="${alias}"`)
      }
      const f = path.join(tmp, `${label.length}-rules.yaml`)
      writeFileSync(f, JSON.stringify({groups: rules.spec.groups}))
      const r = spawnSync('promtool', ['check', 'rules', f], {encoding: 'utf8'})
      expect(r.status, r.stdout + r.stderr).toBe(0)
    })
  })
}
