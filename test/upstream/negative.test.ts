/**
 * The checker catches each class of defect (issue 12, "The checks that keep it correct"): every case
 * changes one thing in the rendered example repository (or adds one object to it) and expects
 * exactly that finding, with the file, the object, the field and the upstream source; the unchanged
 * counterpart is the control that proves the finding is about the change.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {checkRepository, formatFinding, loadUpstream, parseYaml, type RenderedFile} from '../support/upstream/index.js'
import {example} from './inventories.js'
import type {Loose} from '../support/kube/store.js'

const base = renderFiles(example().platform)
const baseline = new Set(checkRepository(base).findings.map(formatFinding))

type Edit = (docs: Record<string, Loose>[]) => Record<string, Loose>[]

/** All findings of the repository with `file` edited (or added). */
function findingsWith(file: string, edit: Edit): string[] {
  const old = base.find((f) => f.path === file)
  const docs = old ? (parseYaml(file, old.content) as Record<string, Loose>[]) : []
  const content = edit(docs)
    .map((d) => stringify(d))
    .join('---\n')
  const files: RenderedFile[] = [...base.filter((f) => f.path !== file), {path: file, content}]
  return checkRepository(files).findings.map(formatFinding)
}

/** An edit of the documents of one kind in a file (the others stay as rendered). */
const ofKind =
  (kind: string, fn: (d: Record<string, Loose>) => Record<string, Loose>): Edit =>
  (docs) =>
    docs.map((d) => (d.kind === kind ? fn(d) : d))

/** Findings of the edited repository minus those the unedited one has. */
const newFindings = (file: string, edit: Edit) => findingsWith(file, edit).filter((f) => !baseline.has(f))

// an edge's Longhorn values are inline in its kustomization (helmCharts[0].valuesInline)
const LONGHORN = 'deploy/overlays/cluster-02-edge/longhorn/kustomization.yaml'
const KPS = 'deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml'
const thanosQuery = (args: string[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {name: 'q', namespace: 'monitoring'},
  spec: {
    selector: {matchLabels: {a: 'q'}},
    template: {metadata: {labels: {a: 'q'}}, spec: {containers: [{name: 'q', image: 'quay.io/thanos/thanos:v0.39.2', args: ['query', ...args]}]}},
  },
})

describe('the upstream checker catches', () => {
  it('an integer where a chart fail rule wants a string (Longhorn defaultSettings)', () => {
    const set = (v: unknown) =>
      newFindings(LONGHORN, ([d]) => [
        {
          ...d,
          helmCharts: [
            {
              ...d!.helmCharts[0],
              valuesInline: {...d!.helmCharts[0].valuesInline, defaultSettings: {defaultReplicaCount: '1', storageOverProvisioningPercentage: v}},
            },
          ],
        },
      ])
    expect(set(200)).toEqual([
      `${LONGHORN}: helm values of chart longhorn 1.10.0 defaultSettings.storageOverProvisioningPercentage: must be a string (the chart fails: "defaultSettings.storageOverProvisioningPercentage must be a string"), got 200 [charts.json.gz: longhorn failRules (v1.10.0:chart/templates/default-setting.yaml)]`,
    ])
    expect(set('200')).toEqual([])
  })

  it('an unknown Helm values key, in the chart, in a subchart and in a passthrough map', () => {
    const found = newFindings(KPS, ([d]) => [
      {
        ...d,
        retentionn: '1d',
        grafana: {...d!.grafana, sidecarr: {}, 'grafana.ini': {server: {root_url: 'x'}}},
        prometheus: {...d!.prometheus, prometheusSpec: {...d!.prometheus.prometheusSpec, storageSpec: {volumeClaimTemplatee: {}}}},
      },
    ])
    expect(found).toHaveLength(3)
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^deploy\/overlays\/cluster-01-central\/kube-prometheus-stack\/values\.yaml: helm values of chart kube-prometheus-stack 78\.2\.1 retentionn: unknown values key: .*Helm ignores it \[charts\.json\.gz: kube-prometheus-stack 78\.2\.1/,
        ),
        expect.stringMatching(/ grafana\.sidecarr: unknown values key: .*\(nor by subchart grafana\)/),
        expect.stringMatching(
          / prometheus\.prometheusSpec\.storageSpec\.volumeClaimTemplatee: unknown field: .* \[crds\.json\.gz: monitoring\.coreos\.com\/v1\/Prometheus spec\.storage \(passthrough of charts\.json\.gz: kube-prometheus-stack/,
        ),
      ]),
    )
  })

  it('an unknown custom resource field (pruned by the API server) and a missing required one, while open maps stay open', () => {
    const file = 'deploy/base/opensearch/cluster.yaml'
    const cluster = (parseYaml(file, base.find((f) => f.path === file)!.content) as {kind: string; spec: {general: Record<string, unknown>}}[]).find(
      (d) => d.kind === 'OpenSearchCluster',
    )!
    const general = {...cluster.spec.general}
    delete general.serviceName
    expect(
      newFindings(
        file,
        ofKind('OpenSearchCluster', (d) => ({...d, spec: {...d.spec, general: {...general, bogusField: true, additionalConfig: {'any.key': 'x'}}}})),
      ),
    ).toEqual([
      `${file}: OpenSearchCluster/opensearch-cluster spec.general.bogusField: unknown field: not in the schema, the API server prunes it [crds.json.gz: opensearch.org/v1/OpenSearchCluster]`,
      `${file}: OpenSearchCluster/opensearch-cluster spec.general.serviceName: required field missing [crds.json.gz: opensearch.org/v1/OpenSearchCluster]`,
    ])
  })

  it('a wrong type, an enum miss, a bound and int-or-string in a custom resource', () => {
    const file = 'deploy/overlays/edge-agent/fluent-bit/pod-monitor.yaml'
    const found = newFindings(
      file,
      ofKind('PodMonitor', (d) => ({...d, spec: {...d.spec, podMetricsEndpoints: [{port: 2020, scheme: 'htp'}, {targetPort: 'metrics'}]}})),
    )
    expect(found).toEqual([
      `${file}: PodMonitor/fluent-bit spec.podMetricsEndpoints[0].port: expected a string, got the integer 2020 [crds.json.gz: monitoring.coreos.com/v1/PodMonitor]`,
      `${file}: PodMonitor/fluent-bit spec.podMetricsEndpoints[0].scheme: the string "htp" is not one of "http", "https" [crds.json.gz: monitoring.coreos.com/v1/PodMonitor]`,
      `${file}: PodMonitor/fluent-bit spec.podMetricsEndpoints[1].targetPort: deprecated field (the CRD marks it deprecated) [crds.json.gz: monitoring.coreos.com/v1/PodMonitor]`,
    ])
    const ruler = 'deploy/base/thanos/ruler.yaml'
    expect(
      newFindings(
        ruler,
        ofKind('ThanosRuler', (d) => ({...d, spec: {...d.spec, replicas: '2'}})),
      ),
    ).toEqual([
      `${ruler}: ThanosRuler/thanos-ruler spec.replicas: expected an integer, got the string "2" [crds.json.gz: monitoring.coreos.com/v1/ThanosRuler]`,
    ])
    const output = 'deploy/overlays/edge-agent/fluent-bit/cluster-output.yaml'
    expect(
      newFindings(
        output,
        ofKind('ClusterOutput', (d) => ({...d, spec: {...d.spec, opensearch: {...d.spec.opensearch, port: 70000}}})),
      ),
    ).toEqual([
      expect.stringMatching(/spec\.opensearch\.port: 70000 is above the maximum 65535 \[crds\.json\.gz: fluentbit\.fluent\.io\/v1alpha2\/ClusterOutput\]$/),
    ])
  })

  it('an unknown field and a wrong type in a built-in kind (strict field validation)', () => {
    const file = 'deploy/base/thanos/query.yaml'
    // the file's Deployment and Service, wherever they are among its documents
    const found = newFindings(file, (docs) =>
      docs.map((d) => {
        if (d.kind === 'Deployment' && d.metadata.name === 'thanos-query') {
          const c = d.spec.template.spec.containers[0]
          return {
            ...d,
            spec: {...d.spec, replicas: '1', template: {...d.spec.template, spec: {...d.spec.template.spec, containers: [{...c, imagePullPolicyy: 'Always'}]}}},
          }
        }
        if (d.kind === 'Service' && d.metadata.name === 'thanos-query')
          return {...d, spec: {...d.spec, ports: [{port: 9090, targetPort: 'http'}, {port: 10901, targetPort: 10901}, {port: '1'}]}}
        return d
      }),
    )
    expect(found).toEqual([
      `${file}: Deployment/thanos-query spec.replicas: expected an integer, got the string "1" [k8s.json.gz: apps/v1/Deployment]`,
      `${file}: Deployment/thanos-query spec.template.spec.containers[0].imagePullPolicyy: unknown field: not in the schema, strict field validation rejects it [k8s.json.gz: apps/v1/Deployment]`,
      `${file}: Service/thanos-query spec.ports[2].port: expected an integer, got the string "1" [k8s.json.gz: v1/Service]`,
    ])
  })

  it('a deprecated API version (cilium.io/v2alpha1 pool) and a kind no upstream data knows', () => {
    const file = 'extra/pools.yaml'
    const pool = (apiVersion: string) => ({
      apiVersion,
      kind: 'CiliumLoadBalancerIPPool',
      metadata: {name: `p-${apiVersion.split('/')[1]}`},
      spec: {blocks: [{start: '10.0.0.1', stop: '10.0.0.5'}]},
    })
    expect(
      newFindings(file, () => [pool('cilium.io/v2alpha1'), pool('cilium.io/v2'), {apiVersion: 'example.com/v1', kind: 'Thing', metadata: {name: 't'}}]),
    ).toEqual([
      `${file}: CiliumLoadBalancerIPPool/p-v2alpha1 apiVersion: cilium.io/v2alpha1 CiliumLoadBalancerIPPool is deprecated; use cilium.io/v2 [crds.json.gz: cilium.io/v2alpha1/CiliumLoadBalancerIPPool]`,
      `${file}: Thing/t apiVersion: example.com/v1/Thing: cannot check (no CRD or built-in kind with this apiVersion/kind in the upstream data) [crds.json.gz, k8s.json.gz]`,
    ])
  })

  it('a deprecated Thanos flag and an unknown one, in a container and in ThanosRuler additionalArgs', () => {
    const file = 'extra/query.yaml'
    const src = '[thanos-flags.json: thanos-io/thanos@v0.39.2:docs/components/*.md]'
    expect(
      newFindings(file, () => [
        thanosQuery([
          '--endpoint=dnssrv+_grpc._tcp.x',
          '--store',
          'dnssrv+_grpc._tcp.y',
          '--endpoint.sd-config-file=/etc/sd.yaml',
          '--query.replica-label',
          'replica',
          '--no-query.partial-response',
        ]),
      ]),
    ).toEqual([
      `${file}: Deployment/q spec.template.spec.containers[0].args[1]: --endpoint is deprecated in thanos query v0.39.2 ${src}`,
      `${file}: Deployment/q spec.template.spec.containers[0].args[2]: --store is not a flag of thanos query v0.39.2 ${src}`,
    ])
    const ruler = 'deploy/base/thanos/ruler.yaml'
    expect(
      newFindings(
        ruler,
        ofKind('ThanosRuler', (d) => ({...d, spec: {...d.spec, additionalArgs: [{name: 'query.http-method', value: 'GET'}, {name: 'bogus-flag'}]}})),
      ),
    ).toEqual([`${ruler}: ThanosRuler/thanos-ruler spec.additionalArgs[1]: --bogus-flag is not a flag of thanos rule v0.39.2 ${src}`])
    expect(
      newFindings(KPS, ([d]) => [
        {
          ...d,
          prometheus: {
            ...d!.prometheus,
            prometheusSpec: {
              ...d!.prometheus.prometheusSpec,
              thanos: {...d!.prometheus.prometheusSpec.thanos, additionalArgs: [{name: 'tsdb.path', value: '/x'}, {name: 'endpoint'}]},
            },
          },
        },
      ]),
    ).toEqual([
      `${KPS}: helm values of chart kube-prometheus-stack prometheus.prometheusSpec.thanos.additionalArgs[1]: --endpoint is not a flag of thanos sidecar v0.39.2 ${src}`,
    ])
  })

  it('alerts that reach nobody, and not a configuration with a notifier', () => {
    const route = {receiver: 'ops', routes: []}
    expect(
      newFindings(KPS, ([d]) => [
        {
          ...d,
          alertmanager: {...d!.alertmanager, config: {route, receivers: [{name: 'ops', webhook_configs: [{url_file: '/etc/alertmanager/secrets/x/url'}]}]}},
        },
      ]).filter((f) => f.includes('receivers')),
    ).toEqual([])
    expect(
      baseline.has(
        `${KPS}: helm values of chart kube-prometheus-stack 78.2.1 alertmanager.config.receivers: no receiver has a notifier (null): every alert is dropped [charts.json.gz: kube-prometheus-stack 78.2.1 values alertmanager.config]`,
      ),
    ).toBe(true)
  })

  it("a FluentBit not on the operator's image, and a chart that needs a cert-manager nobody deploys", () => {
    const fb = 'deploy/base/fluent-bit/fluent-bit.yaml'
    const image = (image: string) =>
      findingsWith(
        fb,
        ofKind('FluentBit', (d) => ({...d, spec: {...d.spec, image}})),
      ).filter((f) => f.includes('spec.image'))
    expect(image('fluent/fluent-bit:4.0.1')).toEqual([
      `${fb}: FluentBit/fluent-bit spec.image: fluent/fluent-bit:4.0.1 is not the fluent-operator's Fluent Bit image ghcr.io/fluent/fluent-operator/fluent-bit: a stock image ignores the configuration the operator generates [charts.json.gz: fluent-operator 3.4.2 values fluentbit.image]`,
    ])
    expect(image('ghcr.io/fluent/fluent-operator/fluent-bit:4.0.1')).toEqual([])
    const op = 'deploy/overlays/cluster-01-central/opensearch-operator/values.yaml'
    const webhook = (w: object | undefined) => findingsWith(op, ([d]) => [{...d, webhook: w}]).filter((f) => f.includes('cert-manager'))
    expect(webhook(undefined)).toEqual([
      `${op}: helm values of chart opensearch-operator 3.0.0 webhook.enabled + webhook.certManager.enabled: true (the chart default unless set): the chart renders cert-manager Issuer/Certificate objects, and the repository deploys no cert-manager [charts.json.gz: opensearch-operator 3.0.0 values webhook.enabled, webhook.certManager.enabled]`,
    ])
    expect(webhook({enabled: false})).toEqual([])
  })

  it('what the API server and Cilium refuse in code: an IP address or a bad name as an Ingress host, a bracketed k8sServiceHost', () => {
    const ingress = 'deploy/overlays/cluster-01-central/thanos/ingress.yaml'
    const src = '[kubernetes pkg/apis/networking/validation/validation.go]'
    const hosts = (rule: string, tls: string) =>
      newFindings(
        ingress,
        ofKind('Ingress', (d) =>
          d.metadata.name === 'thanos-query'
            ? {...d, spec: {...d.spec, rules: [{...d.spec.rules[0], host: rule}], tls: [{...d.spec.tls[0], hosts: [tls]}]}}
            : d,
        ),
      )
    expect(hosts('10.0.0.1', 'Query.lab')).toEqual([
      `${ingress}: Ingress/thanos-query spec.rules[0].host: "10.0.0.1" must be a DNS name, not an IP address ${src}`,
      `${ingress}: Ingress/thanos-query spec.tls[0].hosts[0]: "Query.lab" is not a DNS-1123 subdomain (lower-case alphanumeric characters, - or ., starting and ending with an alphanumeric) ${src}`,
    ])
    expect(hosts('*.query.lab', '*.query.lab')).toEqual([])
    expect(newFindings(KPS, ([d]) => [{...d, grafana: {...d!.grafana, ingress: {...d!.grafana.ingress, hosts: ['fd00::1']}}}])).toEqual([
      `${KPS}: helm values of chart kube-prometheus-stack 78.2.1 grafana.ingress.hosts[0]: "fd00::1" must be a DNS name, not an IP address ${src.slice(0, -1)}, via the grafana chart's templates/ingress.yaml]`,
    ])
    const cilium = 'deploy/overlays/cluster-03-edge/cilium/kustomization.yaml'
    const host = (k8sServiceHost: string) =>
      newFindings(cilium, ([d]) => [{...d, helmCharts: [{...d!.helmCharts[0], valuesInline: {...d!.helmCharts[0].valuesInline, k8sServiceHost}}]}])
    expect(host('[fd00::197]')).toEqual([
      expect.stringMatching(
        /^deploy\/overlays\/cluster-03-edge\/cilium\/kustomization\.yaml: helm values of chart cilium 1\.18\.2 k8sServiceHost: "\[fd00::197\]" is bracketed: .*net\.JoinHostPort/,
      ),
    ])
    expect(host('fd00::197')).toEqual([])
  })

  it('missing upstream data: a clear error naming the path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-no-upstream-'))
    try {
      expect(() => loadUpstream(dir)).toThrow(`upstream data missing: ${path.join(dir, 'crds.json.gz')}`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
