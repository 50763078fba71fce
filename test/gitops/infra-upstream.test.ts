/**
 * Longhorn, the OpenSearch operator chart and Cilium in the rendered repository, checked against the
 * upstream projects at the versions obsctl pins (../shared/upstream: the charts' values and `fail`
 * rules, the CRD schemas), and the Cilium values install-k8s.sh installs with against the repository's.
 *
 * Cilium's chart values are not in ../shared/upstream. Checked with the search tool in cilium/cilium
 * install/kubernetes/cilium/values.yaml.tmpl (the source of the chart's values.yaml; the stored revision
 * is the 1.18 line: it says the Kafka API-key redaction "will be removed in v1.19"):
 *   hubble.tls.auto.method: helm (default; also cronJob, certmanager), certValidityDuration: 365,
 *   schedule: "0 0 1 *\/4 *" ("Only used if method is cronJob"), hubble.tls.enabled: true,
 *   k8sClientRateLimit.qps/burst: null, documented defaults 10 and 20.
 * And the templates: tls-helm/server-secret.yaml and cilium-ca-secret.yaml call genSignedCert/genCA on
 * every render when method is helm (their `lookup` of the live Secret is empty in Argo CD's render), so
 * those Secrets differ on every refresh; with cronJob neither Secret is rendered, and
 * tls-cronjob/job.yaml is a `helm.sh/hook: post-install,post-upgrade` Job (certgen) that creates them.
 */
import {gunzipSync} from 'node:zlib'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse, parseAllDocuments, stringify} from 'yaml'
import {CILIUM_CLIENT_RATE_LIMIT, CILIUM_L2_POLICY, CILIUM_LB_POOL, ciliumValues} from '../../src/lib/config/cilium.js'
import {firstControlPlane} from '../../src/lib/config/model.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {renderInstallScript} from '../../src/lib/nodes/script.js'
import {fleetAnswers, platformOf} from './support.js'

const UPSTREAM = path.resolve(import.meta.dirname, '../../../shared/upstream')
const gz = (f: string) => JSON.parse(gunzipSync(readFileSync(path.join(UPSTREAM, f))).toString('utf8')) as Record<string, unknown>

interface FailRule {
  path: string
  type: string
  source: string
}
interface Chart {
  version: string
  source: string
  values: Record<string, unknown>
  failRules: FailRule[]
  templateRefs: string[]
}
type Schema = {
  type?: string
  properties?: Record<string, Schema>
  items?: Schema
  additionalProperties?: Schema | boolean
  required?: string[]
  enum?: unknown[]
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}

const charts = gz('charts.json.gz') as Record<string, Chart>
const crds = gz('crds.json.gz') as Record<string, {schema: Schema; served: boolean; deprecated: boolean}>

function at(o: unknown, dotted: string): unknown {
  let v = o
  for (const k of dotted.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  return v
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'slice'
  if (v === null) return 'null'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64'
  if (typeof v === 'object') return 'map'
  return typeof v === 'boolean' ? 'bool' : typeof v
}

/** The chart's `fail "X must be a T"` rules a values document breaks: "path: want T, got U (source)". */
function failRuleViolations(chart: Chart, values: unknown): string[] {
  const out: string[] = []
  for (const r of chart.failRules) {
    const v = at(values, r.path)
    if (v === undefined || v === null) continue
    if (typeOf(v) !== r.type) out.push(`${r.path}: the chart wants a ${r.type}, got ${typeOf(v)} ${JSON.stringify(v)} (${r.source})`)
  }
  return out
}

/** Leaf paths of a values document. */
function leaves(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
}

/** Structural check of a value against an OpenAPI v3 schema: unknown fields, types, enums, required. */
function schemaErrors(v: unknown, s: Schema, where: string): string[] {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v) ? [] : [`${where}: want int-or-string`]
  switch (s.type) {
    case 'object': {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return [`${where}: want an object`]
      const errs: string[] = []
      for (const r of s.required ?? []) if (!(r in v)) errs.push(`${where}.${r}: required`)
      for (const [k, x] of Object.entries(v)) {
        const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined)
        if (sub) errs.push(...schemaErrors(x, sub, `${where}.${k}`))
        else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) errs.push(`${where}.${k}: unknown field`)
      }
      return errs
    }
    case 'array':
      return Array.isArray(v) ? v.flatMap((x, i) => (s.items ? schemaErrors(x, s.items, `${where}[${i}]`) : [])) : [`${where}: want an array`]
    case 'string':
      if (typeof v !== 'string') return [`${where}: want a string`]
      return s.enum && !s.enum.includes(v) ? [`${where}: ${v} not in ${JSON.stringify(s.enum)}`] : []
    case 'boolean':
      return typeof v === 'boolean' ? [] : [`${where}: want a boolean`]
    case 'integer':
      return Number.isInteger(v) ? [] : [`${where}: want an integer`]
    default:
      return []
  }
}

type Obj = {apiVersion: string; kind: string; metadata: {name: string}; spec: Record<string, unknown>}
const objects = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean)

describe('upstream checks catch what they look for', () => {
  it('an integer where the longhorn chart fails unless it gets a string', () => {
    expect(failRuleViolations(charts.longhorn!, {defaultSettings: {defaultReplicaCount: 1}})).toEqual([
      'defaultSettings.defaultReplicaCount: the chart wants a string, got int 1 (v1.10.0:chart/templates/default-setting.yaml)',
    ])
    expect(failRuleViolations(charts.longhorn!, {defaultSettings: {defaultReplicaCount: '1'}})).toEqual([])
  })
  it('an unknown field and a wrong type in a Cilium pool', () => {
    const s = crds['cilium.io/v2/CiliumLoadBalancerIPPool']!.schema.properties!.spec!
    expect(schemaErrors({blocks: [{cidr: '10.0.0.0/24', first: '10.0.0.1'}], disabled: 'no'}, s, 'spec')).toEqual([
      'spec.blocks[0].first: unknown field',
      'spec.disabled: want a boolean',
    ])
  })
})

for (const [label, answers] of [
  ['the 4-cluster example', undefined],
  ['a 25-cluster fleet', fleetAnswers(25)],
] as const) {
  describe(`rendered repository against upstream: ${label}`, () => {
    const p = platformOf(answers)
    const files = renderFiles(p)
    const byPath = new Map(files.map((f) => [f.path, f.content]))
    const overlay = (c: (typeof p.clusters)[number], app: string, file: string) => byPath.get(`deploy/overlays/${c.name}-${c.role}/${app}/${file}`)
    /** a cluster's own chart values: inline in its kustomization (helmCharts[0].valuesInline), as YAML text */
    const inlineValues = (c: (typeof p.clusters)[number], app: string) =>
      stringify((parse(overlay(c, app, 'kustomization.yaml')!) as {helmCharts: {valuesInline: unknown}[]}).helmCharts[0]!.valuesInline)

    it('longhorn values: no `fail` rule of the 1.10.0 chart fires, every defaultSettings value is a string the chart knows', () => {
      const chart = charts.longhorn!
      expect(chart.version).toBe(p.versions.charts.longhorn)
      for (const c of p.clusters) {
        const v = parse(inlineValues(c, 'longhorn')) as {defaultSettings: Record<string, unknown>; persistence: {defaultClassReplicaCount: number}}
        expect(failRuleViolations(chart, v), c.name).toEqual([])
        // the chart types every defaultSettings entry as a string (53 rules), so every one we set is quoted
        for (const [k, x] of Object.entries(v.defaultSettings)) {
          expect(k in (chart.values.defaultSettings as object), `defaultSettings.${k} is a value of the chart`).toBe(true)
          expect(
            chart.failRules.some((r) => r.path === `defaultSettings.${k}` && r.type === 'string'),
            k,
          ).toBe(true)
          expect(typeof x, `${c.name} defaultSettings.${k}`).toBe('string')
        }
        expect(v.defaultSettings.defaultReplicaCount).toBe(String(Math.min(3, c.nodes.length)))
        expect(v.persistence.defaultClassReplicaCount).toBe(Math.min(3, c.nodes.length))
        // every key we set is a value of the chart or a path its templates read
        for (const leaf of leaves(v)) {
          const known = at(chart.values, leaf) !== undefined || chart.templateRefs.some((r) => leaf === r || leaf.startsWith(`${r}.`))
          expect(known, `longhorn ${leaf}`).toBe(true)
        }
      }
    })

    it('opensearch-operator 3.0.0: the webhook (on by default, with cert-manager) is off, through keys the chart reads', () => {
      const chart = charts['opensearch-operator']!
      expect(chart.version).toBe(p.versions.charts['opensearch-operator'])
      // the premise: both default to true in the chart
      expect(at(chart.values, 'webhook.enabled')).toBe(true)
      expect(at(chart.values, 'webhook.certManager.enabled')).toBe(true)
      const central = p.clusters.find((c) => c.role === 'central')!
      const text = overlay(central, 'opensearch-operator', 'values.yaml')!
      const v = parse(text) as {webhook: {enabled: boolean; certManager: {enabled: boolean}}}
      expect(v.webhook).toEqual({enabled: false, certManager: {enabled: false}})
      for (const leaf of leaves(v))
        expect(
          chart.templateRefs.some((r) => leaf === r || leaf.startsWith(`${r}.`)),
          `opensearch-operator ${leaf}`,
        ).toBe(true)
      expect(failRuleViolations(chart, v)).toEqual([])
      expect(text).toMatch(/no cert-manager/)
      // no cert-manager object anywhere in the repository
      for (const f of files) expect(f.content, f.path).not.toMatch(/apiVersion:\s*cert-manager\.io\//)
    })

    it('cilium values: one source for the repository and install-k8s.sh; hubble certificates by cronJob; raised rate limits', () => {
      for (const c of p.clusters) {
        const repo = parse(inlineValues(c, 'cilium')) as Record<string, unknown>
        expect(repo, c.name).toEqual(ciliumValues(c))
        expect(at(repo, 'hubble.tls.auto.method')).toBe('cronJob')
        expect(at(repo, 'hubble.tls.auto.schedule')).toBe('0 0 1 */4 *')
        expect(repo.k8sClientRateLimit).toEqual({qps: 50, burst: 100})
        // bare, an IPv6 address too: client-go adds the brackets when it joins the host and the port
        expect(repo.k8sServiceHost).toBe(new URL(c.apiServer).hostname.replace(/^\[(.*)\]$/, '$1'))
        // the first control plane's install script hands `cilium install` the very same values
        const script = renderInstallScript(p, c, firstControlPlane(c))
        const m = /cat >"\$STATE_DIR\/cilium-values\.yaml" <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(script)
        expect(m, `${c.name}: install-k8s.sh writes the values file`).not.toBeNull()
        expect(parse(m![1]!), c.name).toEqual(repo)
        expect(script).toContain('cilium install --version "$CILIUM_VERSION" --values "$STATE_DIR/cilium-values.yaml"')
        expect(script).not.toMatch(/--set k8sClientRateLimit|qps=|burst=/)
      }
      expect(CILIUM_CLIENT_RATE_LIMIT).toEqual({qps: 50, burst: 100})
    })

    it('cilium Applications: nothing the chart regenerates per render is left to differ (no hubble Secret in the values path)', () => {
      // every cluster's cilium Application comes from the one ApplicationSet template
      const app = (
        objects(byPath.get('argocd/applications/cilium.yaml')!)[0] as unknown as {
          spec: {template: {spec: {syncPolicy: {syncOptions: string[]}; ignoreDifferences?: unknown}}}
        }
      ).spec.template
      // with method cronJob the chart renders neither hubble-server-certs nor cilium-ca, so there is no
      // difference to ignore; an ignoreDifferences here would hide real drift of Secrets Argo CD owns
      expect(app.spec.ignoreDifferences).toBeUndefined()
      expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true')
      for (const c of p.clusters) {
        const v = parse(inlineValues(c, 'cilium'))
        expect(at(v, 'hubble.tls.auto.method')).not.toBe('helm')
        expect(at(v, 'hubble.tls.auto.enabled')).toBe(true)
      }
    })

    it('one LB pool per cluster, cilium.io/v2, owned by the repository only; the L2 policy is valid v2alpha1', () => {
      const poolCrd = crds['cilium.io/v2/CiliumLoadBalancerIPPool']!
      expect(poolCrd.served && !poolCrd.deprecated).toBe(true)
      expect(crds['cilium.io/v2alpha1/CiliumLoadBalancerIPPool']!.deprecated).toBe(true)
      const l2Crd = crds['cilium.io/v2alpha1/CiliumL2AnnouncementPolicy']!
      expect(l2Crd.served).toBe(true)
      expect(Object.keys(crds).filter((k) => k.endsWith('/CiliumL2AnnouncementPolicy'))).toEqual(['cilium.io/v2alpha1/CiliumL2AnnouncementPolicy'])
      for (const c of p.clusters) {
        const dir = `deploy/overlays/${c.name}-${c.role}/`
        // the overlay's own objects and the shared base it lists (deploy/base/cilium: the L2 policy)
        expect((parse(byPath.get(`${dir}cilium/kustomization.yaml`)!) as {resources: string[]}).resources).toContain('../../../base/cilium')
        const inOverlay = files
          .filter((f) => f.path.startsWith(dir) || f.path.startsWith('deploy/base/cilium/'))
          .flatMap((f) => (f.path.endsWith('.yaml') && !f.path.endsWith('kustomization.yaml') ? objects(f.content) : []))
        const pools = inOverlay.filter((o) => o.kind === 'CiliumLoadBalancerIPPool')
        expect(pools.length, c.name).toBe(c.loadBalancerIPs.length > 0 ? 1 : 0)
        for (const pool of pools) {
          expect(pool.apiVersion).toBe('cilium.io/v2')
          expect(pool.metadata.name).toBe(CILIUM_LB_POOL)
          expect(schemaErrors(pool.spec, poolCrd.schema.properties!.spec!, 'spec'), `${c.name} pool`).toEqual([])
          expect((pool.spec.blocks as unknown[]).length).toBe(c.loadBalancerIPs.length)
        }
        const l2 = inOverlay.filter((o) => o.kind === 'CiliumL2AnnouncementPolicy')
        expect(l2.map((o) => [o.apiVersion, o.metadata.name])).toEqual([['cilium.io/v2alpha1', CILIUM_L2_POLICY]])
        expect(schemaErrors(l2[0]!.spec, l2Crd.schema.properties!.spec!, 'spec'), `${c.name} L2 policy`).toEqual([])
        // the nodes phase creates neither: no script variant applies a pool or a policy
        for (const n of c.nodes) {
          const s = renderInstallScript(p, c, n, {joinConfigPath: '/tmp/join.yaml'})
          expect(s).not.toMatch(/CiliumLoadBalancerIPPool|CiliumL2AnnouncementPolicy|kubectl apply/)
        }
      }
      // no other file of the repository renders a pool
      const all = files.filter((f) => /kind:\s*CiliumLoadBalancerIPPool/.test(f.content)).map((f) => f.path)
      expect(all).toEqual(
        p.clusters
          .filter((c) => c.loadBalancerIPs.length > 0)
          .map((c) => `deploy/overlays/${c.name}-${c.role}/cilium/lb-ippool.yaml`)
          .sort(),
      )
    })
  })
}
