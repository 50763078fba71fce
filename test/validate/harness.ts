/** The validate test platform: real Prometheus + node-exporters, fake Thanos Query/Compactor and OpenSearch, s3rver. */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Client} from 'minio'
import {ACCESS_KEY, SECRET_KEY, startS3rver, writeInventory, type S3Peer} from '../s3/harness.js'
import {startMetrics, type MetricsPeer} from '../support/prometheus.js'
import {startThanosFake, type ThanosFake} from '../support/thanos-fake.js'
import type {OpenSearchFake} from '../support/opensearch-fake.js'
import {startAlertmanager, type AlertmanagerPeer} from '../support/alertmanager.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {platformTls, sharePlatformCa, type PlatformTls, startPlatformOpenSearch} from '../support/platform-tls.js'

export const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']

/**
 * A kubeconfig with no cluster, user or context in `dir`: validate's kube-based checks fail (no context for the
 * cluster), each with its fix, while the others run. A kubeconfig that is missing or a folder is bad input instead:
 * validate refuses it (exit 2) before any check runs.
 */
export function emptyKubeconfig(dir: string): string {
  const file = path.join(dir, 'empty-kubeconfig')
  writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n', {mode: 0o600})
  return file
}
export const OS_USER = 'admin'
export const OS_PASSWORD = 'test-Opensearch-pw-7'
export const BLOCK = '01JBQ4V1X2Y3Z4A5B6C7D8E9F0'

export interface Platform {
  dir: string
  file: string
  inv: LoadedInventory
  metrics: MetricsPeer
  thanos: ThanosFake
  opensearch: OpenSearchFake
  /** two real Alertmanagers in one gossip cluster, with the receiver ops */
  alertmanager: AlertmanagerPeer
  s3: S3Peer
  env: Record<string, string>
  /** a certificate for 127.0.0.1 from the platform CA every inventory of this platform trusts (fakes of credential services) */
  tls: PlatformTls
  /** an inventory with other endpoints (e.g. a dead port) */
  inventoryWith(endpoints: Record<string, string>, sets?: Record<string, unknown>): LoadedInventory
  close(): Promise<void>
}

/** A loopback port nothing listens on (connections are refused at once). */
export const DEAD = 'http://127.0.0.1:9'
/** The same for a service obsctl sends credentials to (OpenSearch, Grafana, Argo CD): those are https only. */
export const DEAD_TLS = 'https://127.0.0.1:9'

/** The inventory's `endpoints` (test/support/inventory.ts), as fields to set. */
export const endpointsYaml = (e: Record<string, string>): Record<string, unknown> => ({endpoints: e})

/** `clusters`: the clusters with metrics (a node-exporter each) and logs (default the four of the inventory) */
export async function startPlatform(clusters: string[] = CLUSTERS): Promise<Platform> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-validate-'))
  // OpenSearch gets credentials: it serves https with a certificate from the platform CA beside the inventory
  // the peers that do not need it start beside it: Prometheus applies its first targets at its 5-second discovery
  // tick, so everything that waits for a first scrape (settled) counts from its start
  const [metrics, s3, alertmanager, tls] = await Promise.all([
    startMetrics({central: 'cluster-01', clusters}),
    startS3rver(),
    startAlertmanager({replicas: 2, receivers: ['ops']}),
    platformTls(dir),
  ])
  const [thanos, opensearch] = await Promise.all([
    // the inventories of these tests: cluster-02 uses metrics: agent, every other edge remote-scrape (its own Prometheus and sidecar)
    startThanosFake({
      replicas: metrics.replicas,
      central: 'cluster-01',
      receive: true,
      edges: clusters.filter((c) => c !== 'cluster-01' && c !== 'cluster-02'),
    }),
    startPlatformOpenSearch(tls, {user: OS_USER, password: OS_PASSWORD}),
  ])
  for (const c of clusters) opensearch.addLogs(c, 5, 60_000)
  const minio = new Client({
    endPoint: '127.0.0.1',
    port: s3.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: 'us-east-1',
    pathStyle: true,
  })
  await minio.makeBucket('thanos-metrics')
  await minio.putObject(
    'thanos-metrics',
    `${BLOCK}/meta.json`,
    Buffer.from(JSON.stringify({ulid: BLOCK, version: 1, thanos: {labels: {cluster: 'cluster-01'}}})),
  )
  await minio.makeBucket('thanos-empty')
  const endpoints = {
    prometheus: metrics.replicas[0]!.url,
    'thanos-query': thanos.url,
    'thanos-compactor': thanos.url,
    opensearch: opensearch.url,
    argocd: DEAD_TLS,
    alertmanager: alertmanager.url,
  }
  const {file, inv} = writeInventory(dir, s3.url, endpointsYaml(endpoints))
  const env = {
    OBSCTL_S3_ACCESS_KEY: ACCESS_KEY,
    OBSCTL_S3_SECRET_KEY: SECRET_KEY,
    OBSCTL_OPENSEARCH_USER: OS_USER,
    OBSCTL_OPENSEARCH_PASSWORD: OS_PASSWORD,
    CI: '1',
    // a kubeconfig without contexts: the kube-based checks fail, each with its fix (a missing file would be refused as
    // bad input before any check runs)
    KUBECONFIG: emptyKubeconfig(dir),
  }
  let n = 0
  return {
    dir,
    file,
    inv,
    metrics,
    thanos,
    opensearch,
    alertmanager,
    s3,
    env,
    tls,
    inventoryWith(e, sets = {}) {
      const sub = path.join(dir, `inv-${n++}`)
      mkdirSync(sub)
      sharePlatformCa(dir, sub)
      return writeInventory(sub, s3.url, {...endpointsYaml({...endpoints, ...e}), ...sets}).inv
    },
    async close() {
      await Promise.all([metrics.close(), thanos.close(), opensearch.close(), s3.close(), alertmanager.close()])
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
