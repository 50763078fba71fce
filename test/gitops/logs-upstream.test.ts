/**
 * The logging part of the rendered repository against upstream, on top of test/upstream's whole-repository
 * check (whose checker, test/support/upstream, this reuses): the Fluent Bit and OpenSearch resources this
 * part adds are really checked against their CRDs (not skipped), the ClusterOutput fields are spelled as the
 * CRD spells them (`retry_limit`, not `retryLimit`), the Fluent Bit tag is the chart's own default, and the
 * logging alert rules read the counters Fluent Bit exports under the output's alias.
 */
import {describe, expect, it} from 'vitest'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {Findings, formatFinding} from '../support/upstream/finding.js'
import {checkObject} from '../support/upstream/objects.js'
import {checkRepository, upstream, type K8sObject} from '../support/upstream/index.js'
import {fleetAnswers, platformOf} from './support.js'

const LOGGING_KINDS = [
  'opensearch.org/v1/OpenSearchCluster',
  'opensearch.org/v1/OpenSearchISMPolicy',
  'opensearch.org/v1/OpensearchSnapshotPolicy',
  'fluentbit.fluent.io/v1alpha2/FluentBit',
  'fluentbit.fluent.io/v1alpha2/ClusterFluentBitConfig',
  'fluentbit.fluent.io/v1alpha2/ClusterInput',
  'fluentbit.fluent.io/v1alpha2/ClusterOutput',
  'monitoring.coreos.com/v1/PodMonitor',
]
const isLogging = (file: string) => /\/(fluent-bit|opensearch)\//.test(file)

for (const [label, answers] of [
  ['the 4-cluster example', undefined],
  ['a 25-cluster fleet (agent and remote-scrape edges), profile production', fleetAnswers(25, {profile: 'production'})],
] as const) {
  describe(`logging objects against upstream: ${label}`, () => {
    const p = platformOf(answers)
    const files = renderFiles(p)
    const check = checkRepository(files)
    const objects = check.objects.filter((o) => isLogging(o.file)).map((o) => o.object as K8sObject)

    it('every Fluent operator, OpenSearch operator and PodMonitor object is checked against its CRD, with no finding', () => {
      for (const k of LOGGING_KINDS) expect(check.bySource.get(`crds.json.gz: ${k}`) ?? 0, k).toBeGreaterThan(0)
      expect(check.findings.filter((f) => isLogging(f.file)).map(formatFinding)).toEqual([])
    })

    it('the ClusterOutput uses the CRD spelling: retry_limit (a string); retryLimit would be an unknown field', () => {
      const out = objects.find((o) => o.kind === 'ClusterOutput')!
      const findingsOf = (spec: Record<string, unknown>) => {
        const f = new Findings()
        checkObject(upstream(), 'cluster-output.yaml', {...out, spec}, f)
        return f.list.map((x) => `${x.path}: ${x.message}`)
      }
      expect(findingsOf(out.spec!)).toEqual([])
      expect(findingsOf({...out.spec, retryLimit: '30'})).toEqual([expect.stringMatching(/^spec\.retryLimit: unknown field/)])
      expect(findingsOf({...out.spec, retry_limit: 30})).toEqual([expect.stringMatching(/^spec\.retry_limit: expected a string/)])
    })

    it('the Fluent Bit image is the Fluent operator chart default image, and versions.fluentBit defaults to its tag', () => {
      const img = (upstream().charts['fluent-operator']!.values as {fluentbit: {image: {registry: string; repository: string; tag: string}}}).fluentbit.image
      const fb = objects.find((o) => o.kind === 'FluentBit')! as K8sObject & {spec: {image: string}}
      expect(fb.spec.image).toBe(`${img.registry}/${img.repository}:${p.versions.fluentBit}`)
      expect(p.versions.fluentBit).toBe(img.tag)
    })

    it('the logging rules read the counters Fluent Bit exports (fluent-bit src/flb_output.c) under the output alias', () => {
      const rules = check.objects.find((o) => o.object.kind === 'PrometheusRule' && o.object.metadata?.name === 'global-alerts')!.object as unknown as {
        spec: {groups: {name: string; rules: {alert: string; expr: string}[]}[]}
      }
      const group = rules.spec.groups.find((g) => g.name === 'logging')!
      expect(group.rules.map((r) => r.alert)).toEqual(['FluentBitOutputErrors', 'FluentBitLogsDropped'])
      const alias = (objects.find((o) => o.kind === 'ClusterOutput')! as K8sObject & {spec: {alias: string}}).spec.alias
      for (const r of group.rules) {
        for (const m of r.expr.match(/fluentbit_[a-z_]+/g) ?? [])
          expect(['fluentbit_output_errors_total', 'fluentbit_output_retries_failed_total', 'fluentbit_output_dropped_records_total']).toContain(m)
        expect(r.expr).toContain(`name="${alias}"`)
      }
    })
  })
}
