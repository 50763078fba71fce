/**
 * Grafana's datasources (issue 12 item 13): an OpenSearch datasource provisioned through kube-prometheus-stack's
 * `grafana.additionalDataSources`, its plugin installed, TLS verified against the CA of the OpenSearch
 * certificate, credentials only as `$__env{...}` from a Secret obsctl creates; every dashboard references
 * a datasource that is provisioned, and the logs dashboard reads logs from OpenSearch.
 *
 * Plugin fields checked against grafana/opensearch-datasource pkg/opensearch/client/client.go (jsonData.version
 * and timeField required, flavor, database; basicAuth + secureJsonData.basicAuthPassword); TLS through the plugin
 * SDK's tlsAuthWithCACert + secureJsonData.tlsCACert; `$__env{}` expanded by Grafana's provisioning
 * (pkg/services/provisioning/values: setting.ExpandVar then os.ExpandEnv, after YAML parsing).
 */
import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import YAML from 'yaml'
import {describe, expect, it} from 'vitest'
import {GRAFANA_DATASOURCES} from '../../src/lib/gitops/context.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {secretShapes, tlsSecretSpecs} from '../../src/lib/kube/secrets/index.js'
import {centralCluster} from '../../src/lib/config/model.js'
import {fleetAnswers, platformOf} from './support.js'

type Values = Record<string, unknown>
type DataSource = {
  name: string
  uid: string
  type: string
  url: string
  access: string
  basicAuth?: boolean
  basicAuthUser?: string
  jsonData?: Values
  secureJsonData?: Record<string, string>
}

const charts = JSON.parse(gunzipSync(readFileSync(new URL('../../../shared/upstream/charts.json.gz', import.meta.url))).toString('utf8')) as Record<
  string,
  {values: Values; templateRefs: string[]}
>

/** Every `datasource` object a dashboard references (panels, targets, variables), with where it is. */
function datasourceRefs(node: unknown, at = '$'): {at: string; uid: string; type: string}[] {
  if (Array.isArray(node)) return node.flatMap((x, i) => datasourceRefs(x, `${at}[${i}]`))
  if (typeof node !== 'object' || node === null) return []
  const out: {at: string; uid: string; type: string}[] = []
  for (const [k, v] of Object.entries(node)) {
    if (k === 'datasource' && typeof v === 'object' && v !== null) out.push({at: `${at}.datasource`, ...(v as {uid: string; type: string})})
    else out.push(...datasourceRefs(v, `${at}.${k}`))
  }
  return out
}

for (const [label, answers] of [
  ['the 4-cluster example', undefined],
  ['a 12-cluster fleet', fleetAnswers(12)],
] as const) {
  describe(`Grafana datasources: ${label}`, () => {
    const p = platformOf(answers)
    const files = renderFiles(p)
    const values = YAML.parse(files.find((f) => f.path === `deploy/overlays/${centralCluster(p).name}-central/kube-prometheus-stack/values.yaml`)!.content) as {
      grafana: Values
    }
    const grafana = values.grafana
    const sources = grafana.additionalDataSources as DataSource[]
    const os = sources.find((d) => d.type === 'grafana-opensearch-datasource')!

    it('provisions an OpenSearch datasource on the central OpenSearch service, index fluent-bit-*, time field @timestamp', () => {
      expect(os).toBeDefined()
      expect(os.uid).toBe(GRAFANA_DATASOURCES.opensearch)
      expect(os.access).toBe('proxy')
      expect(os.url).toBe('https://opensearch.logging.svc:9200')
      expect(os.jsonData).toMatchObject({
        flavor: 'opensearch',
        version: p.versions.opensearch,
        database: 'fluent-bit-*',
        timeField: '@timestamp',
        logMessageField: 'log',
      })
      expect(grafana.plugins).toContain('grafana-opensearch-datasource')
    })

    it('verifies TLS against the CA of the OpenSearch certificate (never skipped); the URL host is in that certificate', () => {
      expect(os.jsonData!.tlsAuthWithCACert).toBe(true)
      expect(JSON.stringify(sources)).not.toMatch(/tlsSkipVerify|insecure/i)
      const osCert = tlsSecretSpecs(p).find((s) => s.name === 'opensearch-http-tls')!
      expect(osCert.hosts).toContain(new URL(os.url).hostname)
    })

    it('credentials and CA only as $__env{...} from the Secret obsctl creates, with the keys it creates', () => {
      expect(os.basicAuth).toBe(true)
      expect(os.basicAuthUser).toBe('grafana')
      expect(os.secureJsonData).toEqual({basicAuthPassword: '$__env{OPENSEARCH_DS_PASSWORD}', tlsCACert: '$__env{OPENSEARCH_DS_CA}'})
      const env = grafana.envValueFrom as Record<string, {secretKeyRef: {name: string; key: string}}>
      expect(env.OPENSEARCH_DS_PASSWORD!.secretKeyRef).toMatchObject({name: 'grafana-opensearch-credentials', key: 'password'})
      expect(env.OPENSEARCH_DS_CA!.secretKeyRef).toMatchObject({name: 'grafana-opensearch-credentials', key: 'ca.crt', optional: true})
      const shape = secretShapes(p, centralCluster(p), {opensearchCa: true}).find((s) => s.name === 'grafana-opensearch-credentials')!
      expect(shape.namespace).toBe('monitoring')
      expect(shape.keys).toEqual(['ca.crt', 'password', 'username'])
    })

    it('every dashboard references only provisioned datasources, by uid and type', () => {
      const provisioned = new Map(sources.map((d) => [d.uid, d.type]))
      const dashboards = files.filter((f) => f.path.startsWith('dashboards/') && f.path.endsWith('.json'))
      expect(dashboards.length).toBe(4)
      for (const d of dashboards) {
        const refs = datasourceRefs(JSON.parse(d.content))
        expect(refs.length, d.path).toBeGreaterThan(0)
        for (const r of refs) {
          expect(provisioned.has(r.uid), `${d.path} ${r.at}: uid ${r.uid}`).toBe(true)
          expect(r.type, `${d.path} ${r.at}`).toBe(provisioned.get(r.uid))
        }
      }
    })

    it('the logs dashboard reads logs from OpenSearch, filtered by the cluster variable', () => {
      const dash = JSON.parse(files.find((f) => f.path === 'dashboards/opensearch-logs.json')!.content) as {
        panels: {type: string; datasource: {uid: string}; targets: {query?: string; queryType?: string; timeField?: string; metrics?: {type: string}[]}[]}[]
        templating: {list: {name: string; allValue?: string}[]}
      }
      const logPanels = dash.panels.filter((x) => x.datasource.uid === GRAFANA_DATASOURCES.opensearch)
      expect(logPanels.map((x) => x.type).sort()).toEqual(['logs', 'timeseries'])
      for (const panel of logPanels) {
        for (const t of panel.targets) {
          expect(t.queryType).toBe('lucene')
          expect(t.timeField).toBe('@timestamp')
          // the multi-value variable formats as ("cluster-01" OR "cluster-02"): phrase queries, right on a text or a keyword field
          expect(t.query).toBe('cluster:${cluster:lucene}')
        }
      }
      expect(logPanels.find((x) => x.type === 'logs')!.targets[0]!.metrics).toEqual([{id: '1', type: 'logs'}])
      // "All" must expand to the cluster list (a custom .* would be a bad Lucene term)
      expect(dash.templating.list.find((v) => v.name === 'cluster')!.allValue).toBeUndefined()
    })
  })
}

describe('Grafana values paths', () => {
  it('exist in the grafana 10.1.0 subchart and kube-prometheus-stack 78.2.1', () => {
    const g = charts.grafana!
    for (const k of ['plugins', 'envValueFrom']) expect(k in g.values || g.templateRefs.includes(k), k).toBe(true)
    const kps = charts['kube-prometheus-stack']!
    expect('additionalDataSources' in (kps.values.grafana as Values)).toBe(true)
    expect(kps.templateRefs).toContain('grafana.additionalDataSources')
  })
})
