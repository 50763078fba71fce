/**
 * validate with Kubernetes state from the API test servers (one per cluster): Argo CD Applications and
 * cluster Secrets, the Prometheus pods (pod proxy to the real Prometheus), Fluent Bit DaemonSets,
 * ClusterOutputs and pod health; `--via-api-server` reaching every service through the service proxy.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {validate, type CheckOutcome, type Verdict} from '../../src/lib/validate/index.js'
import {formatVerdict} from '../../src/lib/cli/views/validate.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {CLUSTERS, DEAD, DEAD_TLS, startPlatform, type Platform} from './harness.js'
import {b64, deployPlatform, forward, readyPod, seedPod, setDaemonSet, type Deployed} from './deployed.js'
import type {FakeServer} from '../support/http-fake.js'
import {obsctlAsync as obsctl, requireBuild} from '../cli/helpers.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {waitFor} from '../support/wait.js'

let p: Platform
let kubes: KubeServer[]
let kubeconfig: string
let argocdFake: FakeServer
let inv: LoadedInventory
let deployed: Deployed
let argo: Deployed['argo']
let fbHealth: Deployed['fbHealth']

beforeAll(async () => {
  ;[p, kubes] = await Promise.all([startPlatform(), startKubeServers(CLUSTERS)])
  Object.assign(process.env, p.env)
  kubeconfig = writeFleetKubeconfig(path.join(p.dir, 'kubeconfig'), kubes)
  process.env.KUBECONFIG = kubeconfig
  deployed = await deployPlatform(p, kubes, CLUSTERS, {inv: p.inv, apps: ['root', 'kube-prometheus-stack', 'thanos', 'opensearch', 'fluent-bit-cluster-02']})
  ;({argo, fbHealth, argocdFake} = deployed)
  inv = p.inventoryWith({argocd: argocdFake.url})
})

afterAll(async () => {
  await Promise.all([p?.close(), kubes && stopKubeServers(kubes), deployed?.close()])
})

const byId = (v: Verdict, id: string): CheckOutcome => v.checks.find((x) => x.id === id)!

describe('validate all with Kubernetes state', () => {
  it('passes: all 20 checks', async () => {
    const v = await validate(inv, {kubeconfig, requestTimeoutMs: 20_000})
    const bad = v.checks.filter((c) => c.result !== 'pass')
    expect(bad, formatVerdict(v)).toEqual([])
    expect(v.summary).toEqual({pass: 20, warn: 0, fail: 0, skipped: 0})
    expect(byId(v, 'argocd.apps').detail).toBe('5 Applications Synced and Healthy')
    expect(byId(v, 'argocd.clusters').detail).toBe('3 edges Successful')
    expect(byId(v, 'prometheus.replicas').detail).toBe('2 replicas ready, cluster=cluster-01')
    expect(byId(v, 'fluent-bit.daemonset').detail).toBe('ready on 4 clusters')
    expect(byId(v, 'fluent-bit.output').detail).toBe('4 clusters → opensearch.k8s-cluster-01.miribit.lab')
    expect(byId(v, 'fluent-bit.health').detail).toBe('4 pods healthy on 4 clusters')
  })

  it('passes --via-api-server: every service through the central API server service proxy, credentials only to an https --endpoint', async () => {
    const inv = p.inventoryWith({prometheus: DEAD, 'thanos-query': DEAD, 'thanos-compactor': DEAD, opensearch: DEAD_TLS, argocd: DEAD_TLS, alertmanager: DEAD})
    const direct = await validate(inv, {kubeconfig, requestTimeoutMs: 20_000, component: 'thanos', skip: ['thanos.bucket']})
    expect(direct.ok).toBe(false)
    const central = kubes[0]!
    central.clearRequestLog()
    const v = await validate(inv, {
      kubeconfig,
      requestTimeoutMs: 20_000,
      viaApiServer: true,
      skip: ['opensearch.health', 'opensearch.snapshots', 'opensearch.ism', 'opensearch.logs'],
    })
    // Argo CD's admin password would cross the API server's proxy, which does not verify argocd-server's certificate:
    // refused, so the check could not measure and fails naming the fix; nothing was sent to argocd-server
    expect(
      v.checks.filter((c) => c.result !== 'pass'),
      formatVerdict(v),
    ).toEqual([
      expect.objectContaining({
        id: 'argocd.clusters',
        result: 'fail',
        detail:
          "Argo CD's admin password and session token would go through the API server's service proxy, which does not verify argocd-server's certificate (--via-api-server)",
        hint: 'pass --endpoint argocd=https://… as well (an override wins over --via-api-server)',
      }),
    ])
    expect(central.requestLog.filter((e) => e.path.includes('argocd-server'))).toEqual([])
    // with Argo CD at its own https URL (verified with the platform CA), the same run passes
    const withArgo = await validate(inv, {kubeconfig, requestTimeoutMs: 20_000, viaApiServer: true, component: 'argocd', endpoints: {argocd: argocdFake.url}})
    expect(withArgo.checks.map((c) => [c.id, c.result])).toEqual([
      ['argocd.apps', 'pass'],
      ['argocd.clusters', 'pass'],
    ])
    // OpenSearch needs basic auth, which an API server proxy strips: an --endpoint override is required and wins
    const os = await validate(inv, {kubeconfig, requestTimeoutMs: 20_000, viaApiServer: true, component: 'opensearch'})
    expect(byId(os, 'opensearch.health')).toMatchObject({
      result: 'fail',
      detail: 'OpenSearch needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)',
    })
    const os2 = await validate(inv, {
      kubeconfig,
      requestTimeoutMs: 20_000,
      viaApiServer: true,
      component: 'opensearch',
      endpoints: {opensearch: p.opensearch.url},
    })
    expect(os2.ok).toBe(true)
  })

  it('fails: each Kubernetes-based check names what is wrong', async () => {
    const [central, c2, c3] = [kubes[0]!, kubes[1]!, kubes[2]!]
    central.setApplicationStatus('argocd', 'opensearch', {sync: 'OutOfSync', health: 'Degraded', message: 'StatefulSet opensearch-data: 1/3 ready'})
    central.setApplicationStatus('argocd', 'thanos', {sync: 'Synced', health: 'Progressing'})
    argo.connection['cluster-04'] = 'Failed'
    seedPod(central, {
      ...readyPod('prometheus-kube-prometheus-stack-prometheus-1', 'monitoring', {
        'app.kubernetes.io/name': 'prometheus',
        prometheus: 'kube-prometheus-stack-prometheus',
      }),
      status: {phase: 'Pending', podIP: '10.0.0.6', conditions: [{type: 'Ready', status: 'False'}]},
    })
    setDaemonSet(c3, 2, 1)
    c2.seed({
      apiVersion: 'fluentbit.fluent.io/v1alpha2',
      kind: 'ClusterOutput',
      metadata: {name: 'opensearch'},
      spec: {match: '*', opensearch: {host: 'opensearch.logging.svc', port: 9200}},
    })
    fbHealth['cluster-04'] = {status: 500, body: 'error'}
    try {
      const v = await validate(inv, {kubeconfig, requestTimeoutMs: 20_000, skip: ['thanos.bucket']})
      expect(byId(v, 'argocd.apps')).toMatchObject({
        result: 'fail',
        detail: '2/5 not Synced and Healthy: opensearch (OutOfSync/Degraded: StatefulSet opensearch-data: 1/3 ready) and thanos (Synced/Progressing)',
      })
      expect(byId(v, 'argocd.clusters')).toMatchObject({result: 'fail', detail: 'cluster-04: Failed (dial tcp: connect: connection refused)'})
      expect(byId(v, 'prometheus.replicas')).toMatchObject({result: 'fail', detail: 'prometheus-kube-prometheus-stack-prometheus-1 not ready (Pending)'})
      expect(byId(v, 'fluent-bit.daemonset')).toMatchObject({result: 'fail', detail: 'cluster-03: 1/2 ready'})
      expect(byId(v, 'fluent-bit.output')).toMatchObject({
        result: 'fail',
        detail: 'cluster-02: opensearch → opensearch.logging.svc (want opensearch.k8s-cluster-01.miribit.lab)',
      })
      expect(byId(v, 'fluent-bit.health')).toMatchObject({result: 'fail', detail: 'cluster-04: fluent-bit-cluster-04-x: HTTP 500 error'})
      expect(v.summary.fail).toBe(6)
      // an edge that was never registered
      central.seed({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'cluster-cluster-03', namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'not-a-cluster'}},
        data: {},
      })
      const w = await validate(inv, {kubeconfig, component: 'argocd'})
      expect(byId(w, 'argocd.clusters')).toMatchObject({result: 'fail', detail: 'not registered: cluster-03', hint: 'obsctl cluster register cluster-03'})
    } finally {
      central.setApplicationStatus('argocd', 'opensearch', {sync: 'Synced', health: 'Healthy'})
      central.setApplicationStatus('argocd', 'thanos', {sync: 'Synced', health: 'Healthy'})
      argo.connection['cluster-04'] = 'Successful'
      seedPod(
        central,
        readyPod('prometheus-kube-prometheus-stack-prometheus-1', 'monitoring', {
          'app.kubernetes.io/name': 'prometheus',
          prometheus: 'kube-prometheus-stack-prometheus',
        }),
      )
      central.seed({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'cluster-cluster-03', namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'cluster', 'obsctl.dev/cluster': 'cluster-03'}},
        data: {name: b64('cluster-03'), server: b64(kubes[2]!.url)},
      })
      setDaemonSet(c3, 1, 1)
      c2.seed({
        apiVersion: 'fluentbit.fluent.io/v1alpha2',
        kind: 'ClusterOutput',
        metadata: {name: 'opensearch'},
        spec: {match: '*', opensearch: {host: 'opensearch.k8s-cluster-01.miribit.lab', port: 9200}},
      })
      fbHealth['cluster-04'] = {status: 200, body: 'ok'}
    }
  })

  it("fails prometheus.replicas when a replica lacks the external label cluster (a remote-scrape edge's own Prometheus is not a central replica)", async () => {
    const central = kubes[0]!
    // the Prometheus of remote-scrape edge cluster-03 on central: same app label, its own external label
    seedPod(central, readyPod('prometheus-edge-cluster-03-0', 'monitoring', {'app.kubernetes.io/name': 'prometheus', prometheus: 'edge-cluster-03'}))
    central.onProxy('pods/monitoring/prometheus-edge-cluster-03-0:9090', () => ({
      body: {status: 'success', data: {yaml: 'global:\n  external_labels:\n    cluster: cluster-03\n'}},
    }))
    central.onProxy('pods/monitoring/prometheus-kube-prometheus-stack-prometheus-0:9090', () => ({
      body: {status: 'success', data: {yaml: 'global:\n  scrape_interval: 30s\n  external_labels:\n    prometheus_replica: prometheus-0\n'}},
    }))
    try {
      const v = await validate(inv, {kubeconfig, component: 'prometheus'})
      expect(byId(v, 'prometheus.replicas')).toMatchObject({
        result: 'fail',
        detail: 'prometheus-kube-prometheus-stack-prometheus-0: external label cluster=(none), want cluster-01',
      })
    } finally {
      central.onProxy('pods/monitoring/prometheus-kube-prometheus-stack-prometheus-0:9090', forward(p.metrics.replicas[0]!.url))
    }
  })

  it('a check over every cluster probes a bounded number at once (clustersAtOnce 2 of 4), and still measures each', async () => {
    const holds = kubes.map((k) => k.hold('GET', '/apis/apps/v1/namespaces/logging/daemonsets/fluent-bit'))
    const held = () => holds.reduce((n, h) => n + h.held(), 0)
    const run = validate(inv, {kubeconfig, requestTimeoutMs: 120_000, component: 'fluent-bit', clustersAtOnce: 2})
    try {
      await waitFor(() => held() >= 2, 120_000, 'two clusters asking for their DaemonSet')
      // the other two wait for a turn, which only an answer gives (all four at once before)
      expect(held()).toBe(2)
    } finally {
      for (const h of holds) h.release()
    }
    expect(byId(await run, 'fluent-bit.daemonset')).toMatchObject({result: 'pass', detail: 'ready on 4 clusters'})
  })

  it('the built CLI: exit 0 with the checklist, exit 1 with --json when a check fails', async () => {
    requireBuild()
    const env = {...p.env, KUBECONFIG: kubeconfig}
    const ok = await obsctl(['validate', 'all', '-c', inv.file], {env})
    // not a terminal: the start line says what is checked, and nothing else comes before the verdict
    expect(ok.stderr).toBe('checking argocd, prometheus, thanos, opensearch, fluent-bit, alertmanager, certificates: 20 checks at once\n')
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/✔ 20 passed, 0 warnings, 0 failed in \d+\.\ds\n$/)
    p.thanos.halted = 1
    p.opensearch.health.status = 'yellow'
    const central = kubes[0]!
    central.setApplicationStatus('argocd', 'opensearch', {
      sync: 'OutOfSync',
      health: 'Degraded',
      message: 'StatefulSet logging/opensearch-cluster-data: 2/3 ready',
    })
    try {
      const bad = await obsctl(['validate', 'all', '-c', inv.file], {env})
      expect(bad.status).toBe(1)
      expect(bad.stdout).toMatch(/✖ 17 passed, 1 warning, 2 failed in/)
      const json = await obsctl(['validate', 'all', '-c', inv.file, '--json', '--skip', 'thanos.bucket'], {env})
      expect(json.status).toBe(1)
      expect(json.stderr).toBe('') // --json: no start line
      const v = JSON.parse(json.stdout) as Verdict
      expect(v.ok).toBe(false)
      expect(v.summary).toEqual({pass: 16, warn: 1, fail: 2, skipped: 1})
      expect(
        v.checks
          .filter((c) => c.result === 'fail')
          .map((c) => c.id)
          .sort(),
      ).toEqual(['argocd.apps', 'thanos.compactor'])
      if (process.env.OBSCTL_CAPTURE)
        writeFileSync(process.env.OBSCTL_CAPTURE, `$ obsctl validate all\n${ok.stdout}\n$ obsctl validate all   # exit 1\n${bad.stdout}`)
    } finally {
      p.thanos.halted = 0
      p.opensearch.health.status = 'green'
      central.setApplicationStatus('argocd', 'opensearch', {sync: 'Synced', health: 'Healthy'})
    }
  })
})
