/**
 * The platform as Argo CD would have deployed it, played on the Kubernetes API test servers (one per
 * cluster): namespaces and CRDs, Argo CD Applications and cluster Secrets, argocd-server's API (fake
 * and through the service proxy), the Prometheus pods (pod proxy to the real Prometheus), Fluent Bit
 * DaemonSets, pods and ClusterOutputs, and Services forwarding to the peers of the validate harness.
 * Used by the validate, status and end-to-end tests.
 */
import {centralCluster, serviceHost} from '../../src/lib/config/model.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import type {KubeServer, ProxyHandler} from '../support/kube/index.js'
import {startFake, type FakeServer} from '../support/http-fake.js'
import type {Platform} from './harness.js'

export const forward =
  (base: string): ProxyHandler =>
  async (req) => {
    const q = req.query.toString()
    const res = await fetch(`${base}${req.path}${q ? `?${q}` : ''}`, {
      method: req.method,
      headers: {...(req.headers.cookie ? {cookie: String(req.headers.cookie)} : {}), 'content-type': 'application/json'},
      body: req.method === 'GET' ? undefined : new Uint8Array(req.body),
    })
    return {status: res.status, headers: {'content-type': res.headers.get('content-type') ?? 'text/plain'}, body: await res.text()}
  }

const crd = (group: string, kind: string, plural: string, version: string, scope: 'Namespaced' | 'Cluster') => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {name: `${plural}.${group}`},
  spec: {
    group,
    scope,
    names: {kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`},
    versions: [{name: version, served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
  },
})
const ns = (name: string) => ({apiVersion: 'v1', kind: 'Namespace', metadata: {name}})
export const readyPod = (name: string, namespace: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace, labels},
  spec: {containers: [{name: 'main', image: 'x'}]},
  status: {phase: 'Running', podIP: '10.0.0.5', conditions: [{type: 'Ready', status: 'True'}]} as Record<string, unknown>,
})
const internal = (k: KubeServer) => (k as unknown as {objects: {update: (...a: unknown[]) => unknown}}).objects
export const b64 = (s: string) => Buffer.from(s).toString('base64')

/** plays the kubelet: a Pod's status (create ignores status, as in Kubernetes) */
export function seedPod(k: KubeServer, pod: ReturnType<typeof readyPod>) {
  const {status, ...rest} = pod
  const [o] = k.seed(rest)
  internal(k).update(k.type('pods'), pod.metadata.namespace, pod.metadata.name, {...o, status}, {manager: 'kubelet'}, 'status')
}

async function waitKind(k: KubeServer, kind: string) {
  for (let i = 0; i < 100; i++) {
    try {
      k.type(kind)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  throw new Error(`kind ${kind} never became servable`)
}

/** plays the DaemonSet controller for fluent-bit */
export function setDaemonSet(k: KubeServer, desired: number, ready: number) {
  const [ds] = k.seed({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {name: 'fluent-bit', namespace: 'logging'},
    spec: {
      selector: {matchLabels: {'app.kubernetes.io/name': 'fluent-bit'}},
      template: {metadata: {labels: {'app.kubernetes.io/name': 'fluent-bit'}}, spec: {containers: [{name: 'fluent-bit', image: 'fluent-bit'}]}},
    },
  })
  internal(k).update(
    k.type('daemonsets'),
    'logging',
    'fluent-bit',
    {
      ...ds,
      status: {
        desiredNumberScheduled: desired,
        currentNumberScheduled: desired,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: desired,
        observedGeneration: 1,
      },
    },
    {manager: 'daemonset-controller'},
    'status',
  )
}

export interface Deployed {
  /** the admin password argocd-server accepts, and each edge's connection state it reports */
  argo: {password: string; connection: Record<string, string>}
  /** each cluster's Fluent Bit pod /api/v1/health answer */
  fbHealth: Record<string, {status: number; body: string}>
  /** argocd-server's API at a URL (for endpoints.argocd) */
  argocdFake: FakeServer
  close(): Promise<void>
}

export interface DeployOptions {
  /** the inventory the platform belongs to (its domain gives the ClusterOutput host) */
  inv: LoadedInventory
  /** Applications to create on the central cluster, Synced and Healthy (none when Argo CD itself is played elsewhere) */
  apps?: string[]
  /** an argocd-server API started earlier (its URL had to go into the inventory first) */
  argocd?: ArgocdApi
  /** seed the edges' Argo CD cluster Secrets when missing (default true; false when obsctl registers them) */
  registerEdges?: boolean
}

export interface ArgocdApi {
  argo: {password: string; connection: Record<string, string>}
  handler: ProxyHandler
  fake: FakeServer
}

/**
 * argocd-server's session and cluster-list API over the edges' test servers, over https with `tls` (obsctl sends
 * Argo CD's admin password only over verified https: a certificate from the platform CA the inventory trusts).
 */
export async function startArgocdApi(kubes: KubeServer[], clusters: string[], tls: {cert: string; key: string}): Promise<ArgocdApi> {
  const argo = {password: 'argo-admin-pw-5', connection: {} as Record<string, string>}
  const argocdApi: ProxyHandler = (req) => {
    if (req.path === '/api/v1/session' && req.method === 'POST') {
      const body = JSON.parse(req.body.toString()) as {username: string; password: string}
      return body.username === 'admin' && body.password === argo.password
        ? {body: {token: 'argo-session-token'}}
        : {status: 401, body: {error: 'Invalid username or password', code: 16, message: 'Invalid username or password'}}
    }
    if (req.path === '/api/v1/clusters' && req.headers.cookie === 'argocd.token=argo-session-token') {
      return {
        body: {
          metadata: {},
          items: clusters.slice(1).map((edge, i) => ({
            server: kubes[i + 1]!.url,
            name: edge,
            config: {tlsClientConfig: {insecure: false}},
            connectionState: {
              status: argo.connection[edge],
              message: argo.connection[edge] === 'Failed' ? 'dial tcp: connect: connection refused' : '',
              attemptedAt: new Date().toISOString(),
            },
            info: {
              connectionState: {status: argo.connection[edge], message: argo.connection[edge] === 'Failed' ? 'dial tcp: connect: connection refused' : ''},
              applicationsCount: 1,
            },
          })),
        },
      }
    }
    return {status: 401, body: {error: 'no session information', code: 16}}
  }
  const fake = await startFake(
    [
      [
        '*',
        /^(\/.*)$/,
        async (req) => {
          const r = await argocdApi({method: req.method, path: req.path, query: req.query, headers: req.headers, body: Buffer.from(req.body), user: 'admin'})
          return {status: r.status, json: r.body}
        },
      ],
    ],
    {tls},
  )
  return {argo, handler: argocdApi, fake}
}

/** exists already? (the end-to-end run's Argo CD install brings the real Application CRD) */
const has = (k: KubeServer, kind: string, namespace: string | undefined, name: string) => {
  try {
    return Boolean(k.getObject(kind, namespace, name))
  } catch {
    return false
  }
}

export async function deployPlatform(p: Platform, kubes: KubeServer[], clusters: string[], o: DeployOptions): Promise<Deployed> {
  const fbHealth: Record<string, {status: number; body: string}> = {}
  const central = kubes[0]!
  for (const k of kubes) {
    for (const n of ['logging', 'monitoring', 'argocd']) if (!has(k, 'namespaces', undefined, n)) k.seed(ns(n))
    k.seed(crd('fluentbit.fluent.io', 'ClusterOutput', 'clusteroutputs', 'v1alpha2', 'Cluster'))
  }
  if (!has(central, 'customresourcedefinitions', undefined, 'applications.argoproj.io'))
    central.seed(crd('argoproj.io', 'Application', 'applications', 'v1alpha1', 'Namespaced'))
  await Promise.all(kubes.map((k) => waitKind(k, 'clusteroutputs.fluentbit.fluent.io')))
  await waitKind(central, 'applications.argoproj.io')
  for (const app of o.apps ?? []) {
    central.seed({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name: app, namespace: 'argocd'},
      spec: {project: 'default', source: {repoURL: 'https://git.example/x.git', path: app}, destination: {name: 'in-cluster'}},
    })
    central.setApplicationStatus('argocd', app, {sync: 'Synced', health: 'Healthy'})
  }
  const api = o.argocd ?? (await startArgocdApi(kubes, clusters, p.tls))
  const initial = central.getObject('secrets', 'argocd', 'argocd-initial-admin-secret') as {data?: {password?: string}} | undefined
  if (initial?.data?.password) api.argo.password = Buffer.from(initial.data.password, 'base64').toString()
  else
    central.seed({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'argocd-initial-admin-secret', namespace: 'argocd'},
      data: {password: b64(api.argo.password)},
    })
  for (const [i, edge] of clusters.slice(1).entries()) {
    const server = kubes[i + 1]!.url
    if (o.registerEdges !== false && !central.listObjects('secrets', 'argocd').some((s) => s.metadata?.labels?.['obsctl.dev/cluster'] === edge)) {
      central.seed({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: `cluster-${edge}`,
          namespace: 'argocd',
          labels: {'argocd.argoproj.io/secret-type': 'cluster', 'obsctl.dev/cluster': edge, 'obsctl.dev/role': 'edge'},
        },
        data: {name: b64(edge), server: b64(server), config: b64('{}')},
      })
    }
  }
  // argocd-server's API, reached through the service proxy (and at its own URL)
  Object.assign(api.argo.connection, Object.fromEntries(clusters.slice(1).map((e) => [e, 'Successful'])))
  central.seed({apiVersion: 'v1', kind: 'Service', metadata: {name: 'argocd-server', namespace: 'argocd'}, spec: {ports: [{name: 'https', port: 443}]}})
  central.onProxy('services/argocd/argocd-server:443', api.handler)
  // the other services, for --via-api-server
  const svc = (namespace: string, name: string, port: number, base: string) => {
    central.seed({apiVersion: 'v1', kind: 'Service', metadata: {name, namespace}, spec: {ports: [{port}]}})
    central.onProxy(`services/${namespace}/${name}:${port}`, forward(base))
  }
  svc('monitoring', 'kube-prometheus-stack-prometheus', 9090, p.metrics.replicas[0]!.url)
  svc('monitoring', 'thanos-query', 9090, p.thanos.url)
  svc('monitoring', 'thanos-compactor', 10902, p.thanos.url)
  svc('logging', 'opensearch', 9200, p.opensearch.url)
  svc('monitoring', 'kube-prometheus-stack-alertmanager', 9093, p.alertmanager.url)
  // the Prometheus replicas: pods whose port 9090 is the real Prometheus
  for (const [i, r] of p.metrics.replicas.entries()) {
    const pod = `prometheus-kube-prometheus-stack-prometheus-${i}`
    seedPod(central, readyPod(pod, 'monitoring', {'app.kubernetes.io/name': 'prometheus', prometheus: 'kube-prometheus-stack-prometheus'}))
    central.onProxy(`pods/monitoring/${pod}:9090`, forward(r.url))
  }
  // Fluent Bit on every cluster, shipping to the central OpenSearch
  const osHost = serviceHost(o.inv.platform, centralCluster(o.inv.platform), 'opensearch')
  for (const [i, k] of kubes.entries()) {
    setDaemonSet(k, 1, 1)
    const pod = `fluent-bit-${clusters[i]}-x`
    seedPod(k, readyPod(pod, 'logging', {'app.kubernetes.io/name': 'fluent-bit'}))
    fbHealth[clusters[i]!] = {status: 200, body: 'ok'}
    k.onProxy(`pods/logging/${pod}:2020`, (req) =>
      req.path === '/api/v1/health' ? {...fbHealth[clusters[i]!]!, headers: {'content-type': 'text/plain'}} : {status: 404, body: 'not found'},
    )
    k.seed({
      apiVersion: 'fluentbit.fluent.io/v1alpha2',
      kind: 'ClusterOutput',
      metadata: {name: 'opensearch', labels: {'fluentbit.fluent.io/enabled': 'true'}},
      spec: {
        match: '*',
        opensearch: {
          host: i === 0 ? 'opensearch.logging.svc' : osHost,
          port: 9200,
          logstashFormat: true,
          logstashPrefix: `fluent-bit-${clusters[i]}`,
          tls: {verify: true},
        },
      },
    })
  }
  await p.metrics.settled()
  return {argo: api.argo, fbHealth, argocdFake: api.fake, close: () => api.fake.close()}
}
