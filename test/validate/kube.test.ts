/**
 * validate with Kubernetes state from the API test servers (one per cluster): Argo CD Applications and
 * cluster Secrets, the Prometheus pods (pod proxy to the real Prometheus), Fluent Bit DaemonSets,
 * ClusterOutputs and pod health; `--via-api-server` reaching every service through the service proxy.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {validate, formatVerdict, type CheckOutcome, type Verdict} from '../../src/lib/validate/index.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer, type ProxyHandler} from '../support/kube/index.js'
import {CLUSTERS, DEAD, startPlatform, type Platform} from './harness.js'
import {startFake, type FakeServer} from '../support/http-fake.js'
import {execFile} from 'node:child_process'
import {BIN, requireBuild} from '../cli/helpers.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'

let p: Platform
let kubes: KubeServer[]
let kubeconfig: string
let argocdFake: FakeServer
let inv: LoadedInventory
const argo = {password: 'argo-admin-pw-5', connection: {} as Record<string, string>}
const fbHealth: Record<string, {status: number; body: string}> = {}

const forward = (base: string): ProxyHandler => async (req) => {
  const q = req.query.toString()
  const res = await fetch(`${base}${req.path}${q ? `?${q}` : ''}`, {method: req.method, headers: {...(req.headers.cookie ? {cookie: String(req.headers.cookie)} : {}), 'content-type': 'application/json'}, body: req.method === 'GET' ? undefined : new Uint8Array(req.body)})
  return {status: res.status, headers: {'content-type': res.headers.get('content-type') ?? 'text/plain'}, body: await res.text()}
}

const crd = (group: string, kind: string, plural: string, version: string, scope: 'Namespaced' | 'Cluster') => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {name: `${plural}.${group}`},
  spec: {group, scope, names: {kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`}, versions: [{name: version, served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}]},
})
const ns = (name: string) => ({apiVersion: 'v1', kind: 'Namespace', metadata: {name}})
const readyPod = (name: string, namespace: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace, labels},
  spec: {containers: [{name: 'main', image: 'x'}]},
  status: {phase: 'Running', podIP: '10.0.0.5', conditions: [{type: 'Ready', status: 'True'}]},
})
/** plays the kubelet: a Pod's status (create ignores status, as in Kubernetes) */
function seedPod(k: KubeServer, pod: ReturnType<typeof readyPod>) {
  const {status, ...rest} = pod
  const [o] = k.seed(rest)
  internal(k).update(k.type('pods'), pod.metadata.namespace, pod.metadata.name, {...o, status}, {manager: 'kubelet'}, 'status')
}
const internal = (k: KubeServer) => (k as unknown as {objects: {update: (...a: unknown[]) => unknown}}).objects
const b64 = (s: string) => Buffer.from(s).toString('base64')

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

function setDaemonSet(k: KubeServer, desired: number, ready: number) {
  const [ds] = k.seed({apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'fluent-bit', namespace: 'logging'}, spec: {selector: {matchLabels: {'app.kubernetes.io/name': 'fluent-bit'}}, template: {metadata: {labels: {'app.kubernetes.io/name': 'fluent-bit'}}, spec: {containers: [{name: 'fluent-bit', image: 'fluent-bit'}]}}}})
  // plays the DaemonSet controller
  const t = k.type('daemonsets')
  void t
  internal(k).update(k.type('daemonsets'), 'logging', 'fluent-bit', {...ds, status: {desiredNumberScheduled: desired, currentNumberScheduled: desired, numberReady: ready, numberAvailable: ready, updatedNumberScheduled: desired, observedGeneration: 1}}, {manager: 'daemonset-controller'}, 'status')
}

beforeAll(async () => {
  ;[p, kubes] = await Promise.all([startPlatform(), startKubeServers(CLUSTERS)])
  Object.assign(process.env, p.env)
  kubeconfig = writeFleetKubeconfig(path.join(p.dir, 'kubeconfig'), kubes)
  process.env.KUBECONFIG = kubeconfig
  const central = kubes[0]!
  for (const k of kubes) {
    k.seed(ns('logging'), ns('monitoring'), ns('argocd'))
    k.seed(crd('fluentbit.fluent.io', 'ClusterOutput', 'clusteroutputs', 'v1alpha2', 'Cluster'))
  }
  central.seed(crd('argoproj.io', 'Application', 'applications', 'v1alpha1', 'Namespaced'))
  await Promise.all(kubes.map((k) => waitKind(k, 'clusteroutputs.fluentbit.fluent.io')))
  await waitKind(central, 'applications.argoproj.io')
  for (const app of ['root', 'kube-prometheus-stack', 'thanos', 'opensearch', 'fluent-bit-cluster-02']) {
    central.seed({apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {name: app, namespace: 'argocd'}, spec: {project: 'default', source: {repoURL: 'https://git.example/x.git', path: app}, destination: {name: 'in-cluster'}}})
    central.setApplicationStatus('argocd', app, {sync: 'Synced', health: 'Healthy'})
  }
  central.seed({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'argocd-initial-admin-secret', namespace: 'argocd'}, data: {password: b64(argo.password)}})
  for (const [i, edge] of CLUSTERS.slice(1).entries()) {
    const server = kubes[i + 1]!.url
    central.seed({apiVersion: 'v1', kind: 'Secret', metadata: {name: `cluster-${edge}`, namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'cluster', 'obsctl.dev/cluster': edge, 'obsctl.dev/role': 'edge'}}, data: {name: b64(edge), server: b64(server), config: b64('{}')}})
    argo.connection[edge] = 'Successful'
  }
  // argocd-server's API, reached through the service proxy
  central.seed({apiVersion: 'v1', kind: 'Service', metadata: {name: 'argocd-server', namespace: 'argocd'}, spec: {ports: [{name: 'https', port: 443}]}})
  const argocdApi: ProxyHandler = (req) => {
    if (req.path === '/api/v1/session' && req.method === 'POST') {
      const body = JSON.parse(req.body.toString()) as {username: string; password: string}
      return body.username === 'admin' && body.password === argo.password ? {body: {token: 'argo-session-token'}} : {status: 401, body: {error: 'Invalid username or password', code: 16, message: 'Invalid username or password'}}
    }
    if (req.path === '/api/v1/clusters' && req.headers.cookie === 'argocd.token=argo-session-token') {
      return {
        body: {
          metadata: {},
          items: CLUSTERS.slice(1).map((edge, i) => ({server: kubes[i + 1]!.url, name: edge, config: {tlsClientConfig: {insecure: false}}, connectionState: {status: argo.connection[edge], message: argo.connection[edge] === 'Failed' ? 'dial tcp: connect: connection refused' : '', attemptedAt: new Date().toISOString()}, info: {connectionState: {status: argo.connection[edge], message: argo.connection[edge] === 'Failed' ? 'dial tcp: connect: connection refused' : ''}, applicationsCount: 1}})),
        },
      }
    }
    return {status: 401, body: {error: 'no session information', code: 16}}
  }
  central.onProxy('services/argocd/argocd-server:443', argocdApi)
  argocdFake = await startFake([['*', /^(\/.*)$/, async (req) => {
    const r = await argocdApi({method: req.method, path: req.path, query: req.query, headers: req.headers, body: Buffer.from(req.body), user: 'admin'})
    return {status: r.status, json: r.body}
  }]])
  inv = p.inventoryWith({argocd: argocdFake.url})
  // the other services, for --via-api-server
  const svc = (namespace: string, name: string, port: number, base: string) => {
    central.seed({apiVersion: 'v1', kind: 'Service', metadata: {name, namespace}, spec: {ports: [{port}]}})
    central.onProxy(`services/${namespace}/${name}:${port}`, forward(base))
  }
  svc('monitoring', 'kube-prometheus-stack-prometheus', 9090, p.metrics.replicas[0]!.url)
  svc('monitoring', 'thanos-query', 9090, p.thanos.url)
  svc('monitoring', 'thanos-compactor', 10902, p.thanos.url)
  svc('logging', 'opensearch', 9200, p.opensearch.url)
  // the Prometheus replicas: pods whose port 9090 is the real Prometheus
  for (const [i, r] of p.metrics.replicas.entries()) {
    const pod = `prometheus-kube-prometheus-stack-prometheus-${i}`
    seedPod(central, readyPod(pod, 'monitoring', {'app.kubernetes.io/name': 'prometheus', prometheus: 'kube-prometheus-stack-prometheus'}))
    central.onProxy(`pods/monitoring/${pod}:9090`, forward(r.url))
  }
  // Fluent Bit on every cluster
  for (const [i, k] of kubes.entries()) {
    setDaemonSet(k, 1, 1)
    const pod = `fluent-bit-${CLUSTERS[i]}-x`
    seedPod(k, readyPod(pod, 'logging', {'app.kubernetes.io/name': 'fluent-bit'}))
    fbHealth[CLUSTERS[i]!] = {status: 200, body: 'ok'}
    k.onProxy(`pods/logging/${pod}:2020`, (req) => (req.path === '/api/v1/health' ? {...fbHealth[CLUSTERS[i]!]!, headers: {'content-type': 'text/plain'}} : {status: 404, body: 'not found'}))
    k.seed({apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'ClusterOutput', metadata: {name: 'opensearch', labels: {'fluentbit.fluent.io/enabled': 'true'}}, spec: {match: '*', opensearch: {host: i === 0 ? 'opensearch.logging.svc' : 'opensearch.k8s-cluster-01.miribit.lab', port: 9200, logstashFormat: true, logstashPrefix: `fluent-bit-${CLUSTERS[i]}`, tls: {verify: true}}}})
  }
  await p.metrics.settled()
}, 60_000)

afterAll(async () => {
  await Promise.all([p?.close(), kubes && stopKubeServers(kubes), argocdFake?.close()])
})

/** the built CLI, asynchronously: the test servers live in this process, so spawnSync would deadlock them */
function obsctl(args: string[], opts: {env: Record<string, string>}): Promise<{status: number | null; stdout: string; stderr: string}> {
  const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1', ...opts.env}
  delete env.OBSCTL_CONFIG
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {env, timeout: 30_000}, (err, stdout, stderr) => resolve({status: err ? ((err as {code?: number}).code ?? 1) : 0, stdout, stderr}))
  })
}

const byId = (v: Verdict, id: string): CheckOutcome => v.checks.find((x) => x.id === id)!

describe('validate all with Kubernetes state', () => {
  it('passes: all 17 checks', async () => {
    const v = await validate(inv, {kubeconfig, requestTimeoutMs: 3000})
    const bad = v.checks.filter((c) => c.result !== 'pass')
    expect(bad, formatVerdict(v)).toEqual([])
    expect(v.summary).toEqual({pass: 17, warn: 0, fail: 0, skipped: 0})
    expect(byId(v, 'argocd.apps').detail).toBe('5 Applications Synced and Healthy')
    expect(byId(v, 'argocd.clusters').detail).toBe('3 edges Successful')
    expect(byId(v, 'prometheus.replicas').detail).toBe('2 replicas ready, cluster=cluster-01')
    expect(byId(v, 'fluent-bit.daemonset').detail).toBe('ready on 4 clusters')
    expect(byId(v, 'fluent-bit.output').detail).toBe('4 clusters → opensearch.k8s-cluster-01.miribit.lab')
    expect(byId(v, 'fluent-bit.health').detail).toBe('4 pods healthy on 4 clusters')
  })

  it('passes --via-api-server: every service through the central API server service proxy', async () => {
    const inv = p.inventoryWith({prometheus: DEAD, 'thanos-query': DEAD, 'thanos-compactor': DEAD, opensearch: DEAD, argocd: DEAD})
    const direct = await validate(inv, {kubeconfig, requestTimeoutMs: 2000, component: 'thanos', skip: ['thanos.bucket']})
    expect(direct.ok).toBe(false)
    const v = await validate(inv, {kubeconfig, requestTimeoutMs: 3000, viaApiServer: true, skip: ['opensearch.health', 'opensearch.snapshots', 'opensearch.ism', 'opensearch.logs']})
    expect(v.checks.filter((c) => c.result !== 'pass'), formatVerdict(v)).toEqual([])
    // OpenSearch needs basic auth, which an API server proxy strips: an --endpoint override is required and wins
    const os = await validate(inv, {kubeconfig, requestTimeoutMs: 3000, viaApiServer: true, component: 'opensearch'})
    expect(byId(os, 'opensearch.health')).toMatchObject({result: 'fail', detail: 'OpenSearch needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)'})
    const os2 = await validate(inv, {kubeconfig, requestTimeoutMs: 3000, viaApiServer: true, component: 'opensearch', endpoints: {opensearch: p.opensearch.url}})
    expect(os2.ok).toBe(true)
  })

  it('fails: each Kubernetes-based check names what is wrong', async () => {
    const [central, c2, c3] = [kubes[0]!, kubes[1]!, kubes[2]!]
    central.setApplicationStatus('argocd', 'opensearch', {sync: 'OutOfSync', health: 'Degraded', message: 'StatefulSet opensearch-data: 1/3 ready'})
    central.setApplicationStatus('argocd', 'thanos', {sync: 'Synced', health: 'Progressing'})
    argo.connection['cluster-04'] = 'Failed'
    seedPod(central, {...readyPod('prometheus-kube-prometheus-stack-prometheus-1', 'monitoring', {'app.kubernetes.io/name': 'prometheus'}), status: {phase: 'Pending', podIP: '10.0.0.6', conditions: [{type: 'Ready', status: 'False'}]}})
    setDaemonSet(c3, 2, 1)
    c2.seed({apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'ClusterOutput', metadata: {name: 'opensearch'}, spec: {match: '*', opensearch: {host: 'opensearch.logging.svc', port: 9200}}})
    fbHealth['cluster-04'] = {status: 500, body: 'error'}
    try {
      const v = await validate(inv, {kubeconfig, requestTimeoutMs: 3000, skip: ['thanos.bucket']})
      expect(byId(v, 'argocd.apps')).toMatchObject({result: 'fail', detail: '2/5 not Synced and Healthy: opensearch (OutOfSync/Degraded: StatefulSet opensearch-data: 1/3 ready) and thanos (Synced/Progressing)'})
      expect(byId(v, 'argocd.clusters')).toMatchObject({result: 'fail', detail: 'cluster-04: Failed (dial tcp: connect: connection refused)'})
      expect(byId(v, 'prometheus.replicas')).toMatchObject({result: 'fail', detail: 'prometheus-kube-prometheus-stack-prometheus-1 not ready (Pending)'})
      expect(byId(v, 'fluent-bit.daemonset')).toMatchObject({result: 'fail', detail: 'cluster-03: 1/2 ready'})
      expect(byId(v, 'fluent-bit.output')).toMatchObject({result: 'fail', detail: 'cluster-02: opensearch → opensearch.logging.svc (want opensearch.k8s-cluster-01.miribit.lab)'})
      expect(byId(v, 'fluent-bit.health')).toMatchObject({result: 'fail', detail: 'cluster-04: fluent-bit-cluster-04-x: HTTP 500 error'})
      expect(v.summary.fail).toBe(6)
      // an edge that was never registered
      central.seed({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cluster-cluster-03', namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'not-a-cluster'}}, data: {}})
      const w = await validate(inv, {kubeconfig, component: 'argocd'})
      expect(byId(w, 'argocd.clusters')).toMatchObject({result: 'fail', detail: 'not registered: cluster-03', hint: 'obsctl cluster register cluster-03'})
    } finally {
      central.setApplicationStatus('argocd', 'opensearch', {sync: 'Synced', health: 'Healthy'})
      central.setApplicationStatus('argocd', 'thanos', {sync: 'Synced', health: 'Healthy'})
      argo.connection['cluster-04'] = 'Successful'
      seedPod(central, readyPod('prometheus-kube-prometheus-stack-prometheus-1', 'monitoring', {'app.kubernetes.io/name': 'prometheus'}))
      central.seed({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cluster-cluster-03', namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'cluster', 'obsctl.dev/cluster': 'cluster-03'}}, data: {name: b64('cluster-03'), server: b64(kubes[2]!.url)}})
      setDaemonSet(c3, 1, 1)
      c2.seed({apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'ClusterOutput', metadata: {name: 'opensearch'}, spec: {match: '*', opensearch: {host: 'opensearch.k8s-cluster-01.miribit.lab', port: 9200}}})
      fbHealth['cluster-04'] = {status: 200, body: 'ok'}
    }
  })

  it('fails prometheus.replicas when a replica lacks the external label cluster', async () => {
    const central = kubes[0]!
    central.onProxy('pods/monitoring/prometheus-kube-prometheus-stack-prometheus-0:9090', () => ({body: {status: 'success', data: {yaml: 'global:\n  scrape_interval: 30s\n  external_labels:\n    prometheus_replica: prometheus-0\n'}}}))
    try {
      const v = await validate(inv, {kubeconfig, component: 'prometheus'})
      expect(byId(v, 'prometheus.replicas')).toMatchObject({result: 'fail', detail: 'prometheus-kube-prometheus-stack-prometheus-0: external label cluster=(none), want cluster-01'})
    } finally {
      central.onProxy('pods/monitoring/prometheus-kube-prometheus-stack-prometheus-0:9090', forward(p.metrics.replicas[0]!.url))
    }
  })

  it('the built CLI: exit 0 with the checklist, exit 1 with --json when a check fails', async () => {
    requireBuild()
    const env = {...p.env, KUBECONFIG: kubeconfig}
    const ok = await obsctl(['validate', 'all', '-c', inv.file], {env})
    expect(ok.stderr).toBe('')
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/✔ 17 passed, 0 warnings, 0 failed in \d+\.\ds\n$/)
    p.thanos.halted = 1
    p.opensearch.health.status = 'yellow'
    const central = kubes[0]!
    central.setApplicationStatus('argocd', 'opensearch', {sync: 'OutOfSync', health: 'Degraded', message: 'StatefulSet logging/opensearch-cluster-data: 2/3 ready'})
    try {
      const bad = await obsctl(['validate', 'all', '-c', inv.file], {env})
      expect(bad.status).toBe(1)
      expect(bad.stdout).toMatch(/✖ 14 passed, 1 warning, 2 failed in/)
      const json = await obsctl(['validate', 'all', '-c', inv.file, '--json', '--skip', 'thanos.bucket'], {env})
      expect(json.status).toBe(1)
      const v = JSON.parse(json.stdout) as Verdict
      expect(v.ok).toBe(false)
      expect(v.summary).toEqual({pass: 13, warn: 1, fail: 2, skipped: 1})
      expect(v.checks.filter((c) => c.result === 'fail').map((c) => c.id).sort()).toEqual(['argocd.apps', 'thanos.compactor'])
      if (process.env.OBSCTL_CAPTURE) writeFileSync(process.env.OBSCTL_CAPTURE, `$ obsctl validate all\n${ok.stdout}\n$ obsctl validate all   # exit 1\n${bad.stdout}`)
    } finally {
      p.thanos.halted = 0
      p.opensearch.health.status = 'green'
      central.setApplicationStatus('argocd', 'opensearch', {sync: 'Synced', health: 'Healthy'})
    }
  })
})
