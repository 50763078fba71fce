/**
 * A check's detail and hint stay a few lines however large the fleet: a pass that listed every cluster printed a
 * 14,000-character line for 1,000 clusters (certificates.expiry's clusters without a client certificate; so did
 * thanos.clusters, prometheus.edges and opensearch.logs, and argocd.clusters' fix named every edge not registered).
 * Each check runs here against a 1,000-cluster platform with its services answering as the real ones do: Thanos
 * Query's /api/v1/query and /api/v1/targets (the Prometheus HTTP API envelope, prometheus/web/api/v1/api.go),
 * OpenSearch's _msearch (`responses` in order, `hits.total.value` with track_total_hits), the API server's certificate
 * as the cluster's connection was served it (a real one, issued by openssl), and no Argo CD cluster Secret.
 */
import {X509Certificate} from 'node:crypto'
import {afterAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import type {Cluster} from '../../src/lib/config/schema.js'
import {mapLimited} from '../../src/lib/async.js'
import {ALL_CHECKS} from '../../src/lib/validate/checks/index.js'
import type {CheckResult, ValidateContext} from '../../src/lib/validate/types.js'
import {CertificateAuthority} from '../support/kube/tls.js'

const FLEET = 1000
const example = parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), '/tmp/obsctl.yaml')
const central = example.platform.clusters.find((c) => c.role === 'central')!
const edge = example.platform.clusters.find((c) => c.role === 'edge' && (c.metrics ?? 'remote-scrape') === 'remote-scrape')!
const clusters: Cluster[] = [central, ...Array.from({length: FLEET - 1}, (_, i) => ({...edge, name: `edge-${String(i + 1).padStart(4, '0')}`}))]
const platform = {...example.platform, clusters}
const names = clusters.map((c) => c.name)

const ca = CertificateAuthority.create('obsctl fleet details ca')
const serving = new X509Certificate(ca.serving().cert)
afterAll(() => ca.dispose())

type Answer = (path: string) => unknown

/** a validate context over the 1,000 clusters whose services answer `answer(path)` (as JSON, HTTP 200) */
function fleet(answer: Answer): ValidateContext {
  return {
    platform,
    inv: {...example, platform},
    since: '15m',
    sinceMs: 15 * 60_000,
    opensearch: {user: 'admin', password: 'not-a-secret'},
    http: {
      where: () => 'https://service.test',
      credentialRefusal: () => undefined,
      request: async (_service: string, path: string) => ({status: 200, body: JSON.stringify(answer(path)), url: `https://service.test${path}`}),
    },
    // a cluster's connection as status and validate hold it: a kubeconfig user with a token (no client certificate to
    // age out) and the certificate its requests were served with
    kube: async (cluster: string) => ({
      context: `${cluster}-context`,
      server: `https://${cluster}.test:6443`,
      kc: {
        getCurrentUser: () => ({name: `${cluster}-admin`, token: 'not-a-secret'}),
        getCurrentCluster: () => ({name: cluster, server: `https://${cluster}.test:6443`}),
      },
      servingCertificate: () => serving,
      // the central cluster's lists: no Argo CD cluster Secret (no edge registered)
      list: async () => [],
    }),
    mapClusters: <R>(fn: (c: Cluster) => Promise<R>) => mapLimited(clusters, 64, fn),
  } as unknown as ValidateContext
}

const vector = (seen: string[]) => ({
  status: 'success',
  data: {resultType: 'vector', result: seen.map((cluster) => ({metric: {cluster}, value: [1_765_000_000, '3']}))},
})
const targets = (health: (cluster: string) => string) => ({
  status: 'success',
  data: {
    activeTargets: names.map((cluster) => ({
      labels: {cluster, job: 'kubelet'},
      scrapePool: 'kubelet',
      scrapeUrl: `https://${cluster}.test/metrics`,
      lastError: '',
      health: health(cluster),
    })),
    droppedTargets: [],
  },
})
const counts = (n: (cluster: string) => number) => ({responses: names.map((c) => ({hits: {total: {value: n(c), relation: 'eq'}}, status: 200}))})

async function run(id: string, answer: Answer): Promise<CheckResult> {
  const check = ALL_CHECKS.find((c) => c.id === id)!
  return check.run(fleet(answer))
}

/** a few lines at most, naming the first clusters and how many more */
function short(r: CheckResult): void {
  expect(r.detail.length, r.detail.slice(0, 200)).toBeLessThan(400)
  expect((r.hint ?? '').length, r.hint?.slice(0, 200)).toBeLessThan(600)
}

describe(`check results over ${FLEET} clusters`, () => {
  it('certificates.expiry: a pass names the first clusters without a client certificate and how many more', async () => {
    const r = await run('certificates.expiry', () => ({}))
    expect(r.result).toBe('pass')
    short(r)
    expect(r.detail).toContain(`${FLEET} certificates valid`)
    expect(r.detail).toContain(`no client certificate (the kubeconfig user has a token or exec plugin): cluster-01, edge-0001, `)
    expect(r.detail).toMatch(/ and 992 more$/)
  })

  it('thanos.clusters: a pass and a fail with every cluster but one seen', async () => {
    const pass = await run('thanos.clusters', () => vector(names))
    expect(pass.result).toBe('pass')
    short(pass)
    expect(pass.detail).toMatch(new RegExp(`^${FLEET} clusters: cluster-01, edge-0001, .* and 992 more$`))
    const fail = await run('thanos.clusters', () => vector(names.filter((n) => n !== 'edge-0500')))
    expect(fail.result).toBe('fail')
    short(fail)
    expect(fail.detail).toMatch(/^no metrics from edge-0500 \(seen: cluster-01, edge-0001, .* and 991 more\)$/)
    expect(fail.clusters).toEqual(['edge-0500'])
  })

  it('prometheus.edges: a pass, and a fail whose hint names the first edge Prometheus objects', async () => {
    const pass = await run('prometheus.edges', () => targets(() => 'up'))
    expect(pass.result).toBe('pass')
    short(pass)
    expect(pass.detail).toMatch(/^targets up: edge-0001 1, edge-0002 1, .* and 991 more$/)
    const fail = await run('prometheus.edges', () => targets((c) => (c === 'edge-0007' ? 'down' : 'up')))
    expect(fail.result).toBe('fail')
    short(fail)
    expect(fail.detail).toBe('edge-0007: 1/1 down (kubelet)')
    expect(fail.hint).toMatch(/^each edge has its own Prometheus on the central cluster \(edge-edge-0001, .* and 991 more\) scraping/)
  })

  it('opensearch.logs: a pass names the first clusters and their counts', async () => {
    const r = await run('opensearch.logs', () => counts(() => 5))
    expect(r.result).toBe('pass')
    short(r)
    expect(r.detail).toMatch(/^within 15m: cluster-01 5, edge-0001 5, .* and 992 more$/)
  })

  it('argocd.clusters: no edge registered, the fix registers every edge instead of naming 999', async () => {
    const r = await run('argocd.clusters', () => ({}))
    expect(r.result).toBe('fail')
    short(r)
    expect(r.detail).toMatch(/^not registered: edge-0001, edge-0002, .* and 991 more$/)
    expect(r.hint).toBe('obsctl cluster register (every edge; 999 are not registered)')
    expect(r.clusters).toHaveLength(999)
  })
})
