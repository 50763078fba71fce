/**
 * Facts that no single schema holds but the charts' own values do (charts.json.gz), each the cause of a
 * platform that syncs but does not work (issue 12 items 2 and 3):
 * - the FluentBit custom resource must run the fluent-operator's Fluent Bit image (the chart's
 *   `fluentbit.image`): the stock fluent/fluent-bit image ignores the configuration the operator
 *   generates, so nothing is shipped;
 * - a chart whose effective values (its defaults coalesced with ours) render cert-manager objects
 *   needs a cert-manager in the repository: opensearch-operator 3.0.0 `webhook.enabled` and
 *   `webhook.certManager.enabled` default to true (an Issuer, a Certificate, and a Deployment mounting
 *   the Secret only cert-manager creates).
 */
import type {Upstream} from './data.js'
import type {Finding} from './finding.js'
import {coalesce, type ValuesBlock} from './helm.js'
import {objectName, type ParsedObject} from './objects.js'

const get = (v: unknown, dotted: string) =>
  dotted.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), v)

/** Chart values that make the chart render cert-manager.io objects (all must be true). */
const NEEDS_CERT_MANAGER: Record<string, string[]> = {'opensearch-operator': ['webhook.enabled', 'webhook.certManager.enabled']}

export function consistencyFindings(up: Upstream, objects: ParsedObject[], values: ValuesBlock[]): Finding[] {
  const out: Finding[] = []
  const fo = up.charts['fluent-operator']
  if (fo) {
    const img = get(fo.values, 'fluentbit.image') as {registry?: string; repository?: string} | undefined
    const want = [img?.registry, img?.repository].filter(Boolean).join('/')
    for (const {file, object: o} of objects) {
      if (o.apiVersion !== 'fluentbit.fluent.io/v1alpha2' || o.kind !== 'FluentBit' || !want) continue
      const image = String(o.spec?.image ?? '')
      if (!image.startsWith(`${want}:`) && !image.startsWith(`${want}@`)) {
        out.push({
          file,
          object: objectName(o),
          path: 'spec.image',
          message: `${image || '(none)'} is not the fluent-operator's Fluent Bit image ${want}: a stock image ignores the configuration the operator generates`,
          source: `charts.json.gz: fluent-operator ${fo.version} values fluentbit.image`,
        })
      }
    }
  }
  const certManager =
    values.some((b) => b.chart === 'cert-manager') ||
    objects.some((o) => o.object.apiVersion?.startsWith('cert-manager.io/') && o.object.kind === 'ClusterIssuer')
  for (const b of values) {
    const keys = NEEDS_CERT_MANAGER[b.chart]
    const chart = up.charts[b.chart]
    if (!keys || !chart || certManager) continue
    const effective = coalesce(chart.values, b.values)
    if (keys.every((k) => get(effective, k) === true)) {
      out.push({
        file: b.file,
        object: `helm values of chart ${b.chart}${b.version ? ` ${b.version}` : ''}`,
        path: keys.join(' + '),
        message: 'true (the chart default unless set): the chart renders cert-manager Issuer/Certificate objects, and the repository deploys no cert-manager',
        source: `charts.json.gz: ${b.chart} ${chart.version} values ${keys.join(', ')}`,
      })
    }
  }
  return out
}
