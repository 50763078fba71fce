import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {APPS, WAVES, renderFiles, type RenderedFile} from '../../src/lib/gitops/index.js'
import {fleetAnswers, platformOf} from './support.js'
import type {Loose} from '../support/kube/store.js'

type Obj = {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; annotations?: Record<string, string>}
  spec?: Record<string, unknown>
  [k: string]: unknown
}

/** The kubernetes-models class for an object, or undefined when no maintained schema package covers it. */
async function modelFor(o: Obj): Promise<(new (d: unknown) => {validate(): void}) | undefined> {
  const [group, version] = o.apiVersion!.includes('/') ? o.apiVersion!.split('/') : ['', o.apiVersion!]
  let mod: string | undefined
  if (group === '') mod = `kubernetes-models/v1/${o.kind}`
  else if (['apps', 'batch', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'policy'].includes(group!))
    mod = `kubernetes-models/${group}/${version}/${o.kind}`
  else if (group === 'argoproj.io') mod = `@kubernetes-models/argo-cd/argoproj.io/${version}/${o.kind}`
  else if (group === 'monitoring.coreos.com') mod = `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${o.kind}`
  if (!mod) return undefined
  const m = (await import(mod)) as Record<string, new (d: unknown) => {validate(): void}>
  return m[o.kind!]
}

function objectsOf(f: RenderedFile): Obj[] {
  return parseAllDocuments(f.content)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${f.path}: ${d.errors[0]!.message}`)
      return d.toJS() as Obj
    })
    .filter((o) => o !== null)
}

const isManifest = (p: string) => p.endsWith('.yaml') && !p.endsWith('/kustomization.yaml') && !p.endsWith('/values.yaml')

let tmp: string
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-render-'))
})
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

for (const [label, answers] of [
  ['the 4-cluster example', undefined],
  ['a 30-cluster fleet', fleetAnswers(30)],
] as const) {
  describe(`rendered repository: ${label}`, () => {
    const p = platformOf(answers)
    const files = renderFiles(p)
    const byPath = new Map(files.map((f) => [f.path, f.content]))

    it('is deterministic: the same inventory gives the same bytes', () => {
      expect(renderFiles(platformOf(answers))).toEqual(files)
    })

    it('every YAML file parses', () => {
      for (const f of files.filter((x) => x.path.endsWith('.yaml'))) expect(() => objectsOf(f), f.path).not.toThrow()
    })

    it('contains no Secret objects and no credentials (Secrets are referenced by name only)', () => {
      for (const f of files.filter((x) => isManifest(x.path) && x.path !== 'argocd/applications/in-cluster.yaml')) {
        for (const o of objectsOf(f)) expect(o.kind, f.path).not.toBe('Secret')
      }
      // the one Secret: the central cluster as Argo CD's in-cluster, which has no credential to hold
      const inCluster = objectsOf({path: 'x', content: byPath.get('argocd/applications/in-cluster.yaml')!})
      expect(inCluster).toHaveLength(1)
      expect(inCluster[0]!.stringData).toEqual({name: 'in-cluster', server: 'https://kubernetes.default.svc', config: '{"tlsClientConfig":{"insecure":false}}'})
      expect(inCluster[0]!.data).toBeUndefined()
      const all = files.map((f) => f.content).join('\n')
      expect(all).not.toMatch(/admin:admin|prom-operator|secret_key:|access_key:\s*\S/i)
    })

    it('objects of kinds with maintained schema packages validate against them', async () => {
      let validated = 0
      for (const f of files.filter((x) => isManifest(x.path))) {
        for (const o of objectsOf(f)) {
          const Model = await modelFor(o)
          if (!Model) continue
          expect(() => new Model(o).validate(), `${f.path} ${o.kind}/${o.metadata?.name}`).not.toThrow()
          validated++
        }
      }
      // the per-cluster objects are few now (edges share their overlays): the shared ones and one pool per cluster
      expect(validated).toBeGreaterThan(p.clusters.length + 15)
    })

    it('OpenSearch uses opensearch.org/v1 with the repository-s3 plugin and keystore Secret', () => {
      const os = objectsOf({path: 'x', content: byPath.get('deploy/base/opensearch/cluster.yaml')!})[0]!
      expect(os.apiVersion).toBe('opensearch.org/v1')
      const general = os.spec!.general as {pluginsList: string[]; keystore: {secret: {name: string}}[]; version: string}
      expect(general.pluginsList).toContain('repository-s3')
      expect(general.keystore[0]!.secret.name).toBe('opensearch-s3-keystore')
      expect(general.version).toBe(p.versions.opensearch)
      // the snapshot repository, the ISM policy and the snapshot policy are resources the operator reconciles
      const general2 = general as unknown as {snapshotRepositories: {name: string; type: string; settings: Record<string, string>}[]}
      expect(general2.snapshotRepositories).toEqual([
        {name: 's3-snapshots', type: 's3', settings: {bucket: p.s3.buckets.snapshots.name, base_path: p.name, client: 'default'}},
      ])
      const ism = objectsOf({path: 'x', content: byPath.get('deploy/base/opensearch/ism-policy.yaml')!})[0] as Obj & {
        spec: {
          policyId: string
          states: {name: string; transitions: {stateName: string; conditions: {minIndexAge: string}}[]}[]
          ismTemplate: {indexPatterns: string[]; priority: number}
        }
      }
      expect(ism.kind).toBe('OpenSearchISMPolicy')
      expect(ism.spec.policyId).toBe('fluent-bit-logs')
      expect(ism.spec.states[0]!.transitions[0]).toEqual({stateName: 'delete', conditions: {minIndexAge: '180d'}})
      expect(ism.spec.ismTemplate).toEqual({indexPatterns: ['fluent-bit-*'], priority: 200})
      const sm = objectsOf({path: 'x', content: byPath.get('deploy/base/opensearch/snapshot-policy.yaml')!})[0] as Obj & {
        spec: {snapshotConfig: {repository: string; indices: string}; deletion: {deleteCondition: {maxAge: string; minCount: number}}}
      }
      expect(sm.kind).toBe('OpensearchSnapshotPolicy')
      expect(sm.spec.snapshotConfig).toMatchObject({repository: 's3-snapshots', indices: 'fluent-bit-*'})
      expect(sm.spec.deletion.deleteCondition).toEqual({maxAge: '180d', minCount: 7})
      const hook = objectsOf({path: 'x', content: byPath.get('deploy/base/opensearch/setup-job.yaml')!})[0]!
      expect(hook.metadata!.annotations!['argocd.argoproj.io/hook']).toBe('PostSync')
      const script = byPath.get('deploy/base/opensearch/setup-script.yaml')!
      expect(script).toContain('ism change_policy "$index"')
      expect(script).not.toContain('_snapshot/')
    })

    it('every kustomization without helmCharts builds with the real kubectl kustomize', () => {
      const dir = path.join(tmp, label.replaceAll(' ', '-'))
      for (const f of files) {
        mkdirSync(path.dirname(path.join(dir, f.path)), {recursive: true})
        writeFileSync(path.join(dir, f.path), f.content)
      }
      const plain = files.filter((f) => f.path.endsWith('kustomization.yaml') && !f.content.includes('helmCharts:'))
      expect(plain.length).toBeGreaterThan(3)
      // a sample on the big fleet: every shape once (central, agent edge, remote-scrape edge), plus bases
      const sample = plain.filter((f) => !/overlays\/cluster-(0[5-9]|[1-9]\d)/.test(f.path))
      for (const f of sample) {
        const out = execFileSync('kubectl', ['kustomize', path.join(dir, path.dirname(f.path))], {encoding: 'utf8'})
        expect(out.length, f.path).toBeGreaterThan(0)
      }
    })

    it('kustomizations with helmCharts are structurally right (pinned chart, values file beside it or inline)', () => {
      const helm = files.filter((f) => f.path.endsWith('kustomization.yaml') && f.content.includes('helmCharts:'))
      // per cluster Cilium and Longhorn; central kube-prometheus-stack, opensearch-operator, fluent-operator;
      // per edge metrics mode kube-prometheus-stack and fluent-operator
      const modes = new Set(p.clusters.filter((c) => c.role === 'edge').map((c) => c.metrics ?? 'remote-scrape')).size
      expect(helm.length).toBe(p.clusters.length * 2 + 3 + modes * 2)
      const pins: Record<string, string> = p.versions.charts
      for (const f of helm) {
        const k = objectsOf(f)[0] as {
          helmCharts: {
            name: string
            repo: string
            version: string
            releaseName: string
            namespace: string
            valuesFile?: string
            valuesInline?: Record<string, unknown>
            includeCRDs: boolean
          }[]
        }
        for (const h of k.helmCharts) {
          expect(h.repo, f.path).toMatch(/^https:\/\//)
          expect(h.version, f.path).toBe(pins[h.name])
          expect(h.releaseName && h.namespace, f.path).toBeTruthy()
          if (h.valuesInline) {
            expect(h.valuesFile, f.path).toBeUndefined()
            expect(Object.keys(h.valuesInline).length, f.path).toBeGreaterThan(0)
            continue
          }
          const values = byPath.get(path.posix.join(path.posix.dirname(f.path), h.valuesFile!))
          expect(values, `${f.path}: ${h.valuesFile}`).toBeDefined()
          expect(() => objectsOf({path: h.valuesFile!, content: values!})).not.toThrow()
        }
      }
    })

    it('ApplicationSets: one per component, waves by layer, the resources finalizer, never deleting on their own', () => {
      const sets = files.filter((f) => f.path.startsWith('argocd/applications/') && f.path !== 'argocd/applications/in-cluster.yaml')
      expect(sets.map((f) => f.path)).toEqual(APPS.map((a) => `argocd/applications/${a.name}.yaml`).sort())
      for (const f of sets) {
        const a = objectsOf(f)[0] as {
          kind: string
          spec: {
            goTemplate: boolean
            syncPolicy: {applicationsSync: string}
            generators: {clusters: {selector: Record<string, unknown>; values: {path: string}}}[]
            template: {
              metadata: {name: string; annotations: Record<string, string>; finalizers: string[]}
              spec: {
                destination: {server: string}
                source: {path: string; repoURL: string; targetRevision: string}
                syncPolicy: {automated: {selfHeal: boolean}; syncOptions: string[]}
              }
            }
          }
        }
        const def = APPS.find((x) => f.path.endsWith(`/${x.name}.yaml`))!
        expect(a.kind).toBe('ApplicationSet')
        expect(a.spec.goTemplate).toBe(true)
        expect(a.spec.syncPolicy.applicationsSync).toBe('create-update')
        expect(a.spec.generators.length, f.path).toBe(def.roles.length)
        const t = a.spec.template
        expect(t.metadata.name).toBe(`${def.name}-{{ index .metadata.labels "obsctl.dev/cluster" }}`)
        expect(t.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io'])
        expect(t.spec.destination.server).toBe('{{ .server }}')
        expect(t.spec.source.repoURL).toBe(p.git.remote)
        expect(t.spec.source.targetRevision).toBe(p.git.branch)
        expect(t.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true')
        expect(t.spec.syncPolicy.automated.selfHeal).toBe(true)
        expect(t.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(String(WAVES[def.layer]))
      }
      // what they generate per cluster (names, paths, destinations): appsets.test.ts
    })

    it('central Prometheus: HA with Thanos sidecar, cluster label, replica label, retention; no edge scraped there', () => {
      const central = p.clusters.find((c) => c.role === 'central')!
      const v = objectsOf({path: 'v', content: byPath.get(`deploy/overlays/${central.name}-central/kube-prometheus-stack/values.yaml`)!})[0] as {
        prometheus: {
          thanosService: {enabled: boolean}
          thanosServiceMonitor: {enabled: boolean}
          prometheusSpec: {
            replicas: number
            externalLabels: {cluster: string}
            replicaExternalLabelName: string
            retention: string
            thanos: {objectStorageConfig: {existingSecret: {name: string}}}
            additionalScrapeConfigs?: unknown[]
            secrets?: string[]
          }
        }
      }
      const ps = v.prometheus.prometheusSpec
      expect(ps.replicas).toBe(2)
      expect(ps.externalLabels.cluster).toBe(central.name)
      expect(ps.replicaExternalLabelName).toBe('prometheus_replica')
      expect(ps.retention).toBe(p.retention.prometheus)
      expect(ps.thanos.objectStorageConfig.existingSecret.name).toBe('thanos-objstore')
      // the central Prometheus (cluster=<central>) must not carry edge series: its sidecar would relabel them
      expect(ps.additionalScrapeConfigs).toBeUndefined()
      expect(ps.secrets).toBeUndefined()
      expect(v.prometheus.thanosService.enabled && v.prometheus.thanosServiceMonitor.enabled).toBe(true)
      const compactor = byPath.get('deploy/base/thanos/compactor.yaml')!
      expect(compactor).toContain(`--retention.resolution-raw=${p.retention.thanos.raw}`)
      expect(compactor).toContain(`--retention.resolution-1h=${p.retention.thanos['1h']}`)
      const query = byPath.get('deploy/base/thanos/query.yaml')!
      expect(query).toContain('--query.replica-label=prometheus_replica')
      expect(query).toContain('--query.replica-label=thanos_ruler_replica')
      expect(byPath.has('deploy/base/thanos/receive.yaml')).toBe(p.clusters.some((c) => c.metrics === 'agent'))
    })

    it('each remote-scrape edge: its own Prometheus on central (external label cluster=<edge>, sidecar, retention), its ScrapeConfigs, a Thanos Query endpoint', () => {
      const central = p.clusters.find((c) => c.role === 'central')!
      const scrape = p.clusters.filter((c) => c.role === 'edge' && (c.metrics ?? 'remote-scrape') === 'remote-scrape')
      const dir = `deploy/overlays/${central.name}-central/kube-prometheus-stack`
      expect(byPath.get(`${dir}/kustomization.yaml`)).toContain('- edge-prometheus.yaml')
      const objs = objectsOf({path: 'e', content: byPath.get(`${dir}/edge-prometheus.yaml`)!}) as (Obj & {
        spec: Record<string, Loose>
        metadata: {name: string; labels?: Record<string, string>}
      })[]
      const proms = objs.filter((o) => o.kind === 'Prometheus')
      expect(proms.map((o) => o.metadata.name)).toEqual(scrape.map((c) => `edge-${c.name}`))
      for (const c of scrape) {
        const pr = proms.find((o) => o.metadata.name === `edge-${c.name}`)!
        expect(pr.spec.externalLabels).toEqual({cluster: c.name})
        expect(pr.spec.retention).toBe(p.retention.prometheus)
        expect(pr.spec.thanos.objectStorageConfig).toEqual({name: 'thanos-objstore', key: 'objstore.yml'})
        expect(pr.spec.scrapeConfigSelector).toEqual({matchLabels: {'obsctl.dev/edge': c.name}})
        expect(pr.spec.podMetadata.labels['obsctl.dev/prometheus']).toBe('edge')
        const scs = objs.filter((o) => o.kind === 'ScrapeConfig' && o.metadata.labels?.['obsctl.dev/edge'] === c.name)
        // the four of scrape-jobs, and Fluent Bit's own metrics (scrape-jobs-fluent-bit) through the pod proxy in logging
        expect(scs.map((o) => o.spec.jobName)).toEqual(['kubelet', 'cadvisor', 'node-exporter', 'kube-state-metrics', 'logging/fluent-bit'])
        const fb = scs.at(-1)!
        expect(fb.spec.kubernetesSDConfigs[0]).toMatchObject({role: 'Pod', namespaces: {names: ['logging']}})
        expect(fb.spec.relabelings).toContainEqual({sourceLabels: ['__meta_kubernetes_pod_container_port_name'], regex: 'metrics', action: 'keep'})
        expect(fb.spec.relabelings).toContainEqual({
          sourceLabels: ['__meta_kubernetes_pod_name', '__meta_kubernetes_pod_container_port_number'],
          regex: '(.+);(.+)',
          targetLabel: '__metrics_path__',
          replacement: '/api/v1/namespaces/logging/pods/${1}:${2}/proxy/api/v2/metrics/prometheus',
        })
        const api = new URL(c.apiServer)
        for (const sc of scs) {
          expect(sc.spec.kubernetesSDConfigs[0].apiServer).toBe(c.apiServer)
          expect(sc.spec.authorization.credentials).toEqual({name: `obsctl-scrape-${c.name}`, key: 'token'})
          expect(sc.spec.relabelings).toContainEqual({targetLabel: '__address__', replacement: `${api.hostname}:${api.port || 443}`})
          // no cluster relabel: the label comes from this Prometheus's external label
          expect(JSON.stringify(sc.spec.relabelings)).not.toContain('"cluster"')
        }
      }
      const svc = objs.find((o) => o.kind === 'Service')!
      expect(svc.spec.selector).toEqual({'app.kubernetes.io/name': 'prometheus', 'obsctl.dev/prometheus': 'edge'})
      expect(objs.find((o) => o.kind === 'ServiceMonitor')!.spec.selector.matchLabels).toEqual({'app.kubernetes.io/name': svc.metadata.name})
      // Thanos Query discovers them from its endpoint file; no deprecated --endpoint flag (thanos-flags.json)
      const q = objectsOf({path: 'q', content: byPath.get('deploy/base/thanos/query.yaml')!}) as (Obj & {data?: Record<string, string>; spec: Loose})[]
      const args: string[] = q.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].args
      expect(args.filter((a) => /^--endpoint(=|-group|-strict)/.test(a))).toEqual([])
      expect(args).toContain('--endpoint.sd-config-file=/etc/thanos/endpoints/endpoints.yaml')
      const sd = parseAllDocuments(q.find((o) => o.kind === 'ConfigMap')!.data!['endpoints.yaml']!)[0]!.toJS() as {endpoints: {address: string}[]}
      const addresses = sd.endpoints.map((e) => e.address)
      expect(addresses).toContain('dnssrv+_grpc._tcp.kube-prometheus-stack-thanos-discovery.monitoring.svc.cluster.local')
      expect(addresses.includes(`dnssrv+_grpc._tcp.${svc.metadata.name}.monitoring.svc.cluster.local`)).toBe(scrape.length > 0)
      expect(addresses.includes('dnssrv+_grpc._tcp.thanos-receive.monitoring.svc.cluster.local')).toBe(p.clusters.some((c) => c.metrics === 'agent'))
    })

    it('agent edges remote-write to Thanos Receive on central; remote-scrape edges run no Prometheus', () => {
      // one Prometheus Agent shared by every agent edge; its cluster label comes from the kube-prometheus-stack
      // ApplicationSet's patch (built per cluster in appsets.test.ts); the remote-scrape overlay has none
      const agent = byPath.get('deploy/overlays/edge-agent/kube-prometheus-stack/prometheus-agent.yaml')
      expect(Boolean(agent)).toBe(p.clusters.some((c) => c.metrics === 'agent'))
      expect(byPath.get('deploy/overlays/edge-remote-scrape/kube-prometheus-stack/prometheus-agent.yaml')).toBeUndefined()
      const o = objectsOf({path: 'a', content: agent!})[0] as {
        spec: {remoteWrite: {url: string; tlsConfig: {ca: {secret: {name: string; key: string}}}}[]; externalLabels?: unknown}
      }
      expect(o.spec.remoteWrite[0]!.url).toBe(`https://thanos-receive.k8s-cluster-01.${p.domain}/api/v1/receive`)
      // the receive ingress serves a certificate from the platform CA (Secret written by secrets apply)
      expect(o.spec.remoteWrite[0]!.tlsConfig.ca.secret).toEqual({name: 'obsctl-platform-ca', key: 'ca.crt'})
      expect(o.spec.externalLabels).toBeUndefined()
      expect(byPath.get('argocd/applications/kube-prometheus-stack.yaml')).toContain('value: {cluster: "{{ index .metadata.labels "obsctl.dev/cluster" }}"}')
    })

    it('every dashboard parses, has a cluster variable, and every panel has a query', () => {
      const dashboards = files.filter((f) => f.path.startsWith('dashboards/') && f.path.endsWith('.json'))
      expect(dashboards.map((f) => path.basename(f.path)).sort()).toEqual([
        'cluster-metrics.json',
        'multi-cluster-summary.json',
        'opensearch-logs.json',
        'thanos-overview.json',
      ])
      for (const f of dashboards) {
        const d = JSON.parse(f.content) as {
          uid: string
          title: string
          templating: {list: {name: string; query: {query: string}}[]}
          panels: {title: string; targets: {expr?: string; query?: string}[]}[]
        }
        expect(d.uid && d.title).toBeTruthy()
        expect(d.templating.list.find((v) => v.name === 'cluster')?.query.query).toContain('cluster')
        expect(d.panels.length).toBeGreaterThan(3)
        for (const panel of d.panels) {
          expect(panel.targets.length, `${f.path}: ${panel.title}`).toBeGreaterThan(0)
          // PromQL (expr) or, on the OpenSearch datasource, a Lucene query
          for (const t of panel.targets) expect(t.expr ?? t.query, `${f.path}: ${panel.title}`).toMatch(/\w+/)
        }
      }
      expect(byPath.get('dashboards/kustomization.yaml')).toContain('grafana_dashboard: "1"')
    })

    it('Fluent Bit on every cluster ships to fluent-bit-<cluster> with a cluster field', () => {
      // central: in its own overlay; every edge: the fluent-bit ApplicationSet patches its name into the
      // shared overlay (built per cluster with kubectl kustomize in appsets.test.ts)
      const central = p.clusters.find((c) => c.role === 'central')!
      expect(byPath.get(`deploy/overlays/${central.name}-central/fluent-bit/cluster-output.yaml`)).toContain(`logstashPrefix: fluent-bit-${central.name}`)
      expect(byPath.get(`deploy/overlays/${central.name}-central/fluent-bit/cluster-filter.yaml`)).toContain(`- cluster ${central.name}`)
      const fbSet = byPath.get('argocd/applications/fluent-bit.yaml')!
      expect(fbSet).toContain('value: "fluent-bit-{{ index .metadata.labels "obsctl.dev/cluster" }}"')
      expect(fbSet).toContain('value: ["cluster {{ index .metadata.labels "obsctl.dev/cluster" }}"]')
      // the operator's image (its config watcher runs fluent-bit with the configuration the operator generates)
      const fb = objectsOf({path: 'x', content: byPath.get('deploy/base/fluent-bit/fluent-bit.yaml')!})[0] as Obj & {
        spec: {image: string; volumes: {name: string; hostPath: {path: string}}[]; volumesMounts: {name: string; mountPath: string}[]}
      }
      expect(fb.spec.image).toBe(`ghcr.io/fluent/fluent-operator/fluent-bit:${p.versions.fluentBit}`)
      // filesystem buffering: service.storage.path on a hostPath volume, the input on filesystem storage, retries and a size cap on the output
      const config = objectsOf({path: 'x', content: byPath.get('deploy/base/fluent-bit/cluster-fluentbit-config.yaml')!})[0] as Obj & {
        spec: {service: {storage: {path: string; maxChunksUp: number; backlogMemLimit: string}}}
      }
      const mount = fb.spec.volumesMounts.find((m) => config.spec.service.storage.path.startsWith(m.mountPath))!
      expect(fb.spec.volumes.find((v) => v.name === mount.name)!.hostPath.path).toBe('/var/lib/fluent-bit/storage')
      expect(byPath.get('deploy/base/fluent-bit/cluster-input.yaml')).toContain('storageType: filesystem')
      const want = p.profile === 'lab' ? {retry: '30', size: '1G', chunks: 64} : {retry: '100', size: '8G', chunks: 128}
      expect(config.spec.service.storage.maxChunksUp).toBe(want.chunks)
      const units = [`${central.name}-central`, ...new Set(p.clusters.filter((c) => c.role === 'edge').map((c) => `edge-${c.metrics ?? 'remote-scrape'}`))]
      for (const unit of units) {
        const o = objectsOf({path: 'x', content: byPath.get(`deploy/overlays/${unit}/fluent-bit/cluster-output.yaml`)!})[0] as Obj & {
          spec: {retry_limit: string; alias: string; opensearch: {totalLimitSize: string}}
        }
        expect([o.spec.retry_limit, o.spec.opensearch.totalLimitSize, o.spec.alias]).toEqual([want.retry, want.size, 'opensearch'])
        // the PodMonitor (where a Prometheus or Agent runs) uses the port the operator names "metrics", not the deprecated targetPort
        const pm = byPath.get(`deploy/overlays/${unit}/fluent-bit/pod-monitor.yaml`)
        if (pm)
          expect((objectsOf({path: 'x', content: pm})[0] as Obj & {spec: {podMetricsEndpoints: Record<string, unknown>[]}}).spec.podMetricsEndpoints).toEqual([
            {port: 'metrics', path: '/api/v2/metrics/prometheus', interval: '30s'},
          ])
        else expect(unit).toBe('edge-remote-scrape')
      }
    })
  })
}
