/**
 * validate against real Prometheus + node-exporters (four clusters), fake Thanos Query/Compactor and
 * OpenSearch (documented response shapes) and s3rver: each HTTP-reached check passing, then failing.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {validate, type CheckOutcome, type Verdict} from '../../src/lib/validate/index.js'
import {DEAD, DEAD_TLS, OS_PASSWORD, startPlatform, type Platform} from './harness.js'

let p: Platform
const KUBE_CHECKS = ['prometheus.replicas']
/** request timeout where an answer is expected: bounds only a failure, so generous for a loaded machine */
const GENEROUS_MS = 20_000

beforeAll(async () => {
  p = await startPlatform()
  Object.assign(process.env, p.env)
  await p.metrics.settled()
})
afterAll(async () => {
  await p?.close()
})

const byId = (v: Verdict, id: string): CheckOutcome => {
  const c = v.checks.find((x) => x.id === id)
  if (!c) throw new Error(`no outcome for ${id}: ${v.checks.map((x) => x.id).join(', ')}`)
  return c
}

async function run(component: 'thanos' | 'prometheus' | 'opensearch', extra: Parameters<typeof validate>[1] = {}, inv = p.inv) {
  return validate(inv, {component, skip: component === 'prometheus' ? KUBE_CHECKS : [], kubeconfig: p.env.KUBECONFIG, requestTimeoutMs: GENEROUS_MS, ...extra})
}

describe('thanos and prometheus against four clusters', () => {
  it('pass: every store, every cluster, both replicas, compactor running, blocks in the bucket', async () => {
    const v = await run('thanos')
    expect(v.checks.map((c) => [c.id, c.result, c.detail])).toEqual([
      ['thanos.stores', 'pass', '4 sidecar, 1 store, 1 rule, 1 receive'],
      ['thanos.clusters', 'pass', '4 clusters: cluster-01, cluster-02, cluster-03 and cluster-04'],
      ['thanos.replicas', 'pass', '2 replicas: prometheus-0, prometheus-1'],
      ['thanos.compactor', 'pass', 'running (thanos_compact_halted 0)'],
      ['thanos.bucket', 'pass', 'bucket thanos-metrics: 1 block(s)'],
    ])
    expect(v.ok).toBe(true)
  })

  it('pass: no target down, every remote-scrape edge scraped', async () => {
    const v = await run('prometheus')
    expect(byId(v, 'prometheus.targets')).toMatchObject({result: 'pass', detail: '5 targets up'})
    expect(byId(v, 'prometheus.edges')).toMatchObject({result: 'pass', detail: 'targets up: cluster-03 1 and cluster-04 1'})
    expect(v.skipped).toEqual(['prometheus.replicas'])
    expect(v.ok).toBe(true)
  })

  it("fail: one cluster's target removed — thanos.clusters and prometheus.edges name it", async () => {
    await p.metrics.scrapeClusters(['cluster-01', 'cluster-02', 'cluster-03'])
    try {
      const [t, pr] = await Promise.all([run('thanos'), run('prometheus')])
      expect(byId(t, 'thanos.clusters')).toMatchObject({result: 'fail', detail: 'no metrics from cluster-04 (seen: cluster-01, cluster-02 and cluster-03)'})
      expect(byId(t, 'thanos.clusters').hint).toMatch(/remote-scrape/)
      expect(byId(pr, 'prometheus.edges')).toMatchObject({result: 'fail', detail: 'cluster-04: no targets'})
      expect(t.ok).toBe(false)
      expect(pr.ok).toBe(false)
    } finally {
      await p.metrics.scrapeClusters(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    }
  })

  it('fail: a node-exporter stops — prometheus.targets lists the down target', async () => {
    await p.metrics.stopExporter('cluster-03')
    try {
      let v!: Verdict
      const deadline = Date.now() + 120_000
      // each Prometheus replica notices the stopped exporter at its own next scrape: prometheus.targets asks
      // one replica, prometheus.edges the targets Thanos Query gathers from both, so wait until both see it
      let t!: Verdict
      do [v, t] = await Promise.all([run('prometheus'), run('thanos')])
      while (
        (byId(v, 'prometheus.targets').result === 'pass' || byId(v, 'prometheus.edges').result === 'pass' || byId(t, 'thanos.clusters').result === 'pass') &&
        Date.now() < deadline
      )
      // its up series are still there (value 0): no successful scrape is no metrics
      expect(byId(t, 'thanos.clusters')).toMatchObject({result: 'fail', detail: 'no metrics from cluster-03 (seen: cluster-01, cluster-02 and cluster-04)'})
      expect(byId(v, 'prometheus.targets').result).toBe('fail')
      expect(byId(v, 'prometheus.targets').detail).toMatch(
        /^1\/5 targets down: node-exporter\/127\.0\.0\.1:\d+ \(cluster-03\): .*connection (refused|reset by peer)/,
      )
      expect(byId(v, 'prometheus.edges')).toMatchObject({result: 'fail', detail: 'cluster-03: 1/1 down (node-exporter)'})
    } finally {
      await p.metrics.startExporter('cluster-03')
      await p.metrics.settled()
    }
  })

  it('fail: a store with lastError, a missing store, query warnings, a halted compactor, no bucket', async () => {
    const saved = structuredClone(p.thanos.stores)
    p.thanos.stores.sidecar![1]!.lastError = 'rpc error: code = Unavailable desc = connection refused'
    delete p.thanos.stores.store
    p.thanos.warnings = ['partial response: store thanos-store.monitoring.svc:10901 unavailable']
    p.thanos.halted = 1
    try {
      const inv = p.inventoryWith({}, {'s3.buckets.metrics.name': 'thanos-gone'})
      const v = await run('thanos', {}, inv)
      expect(byId(v, 'thanos.stores').result).toBe('fail')
      expect(byId(v, 'thanos.stores').detail).toBe(
        'missing or failing: store gateway: 0/1 (store) and sidecar 10.0.1.11:10901: rpc error: code = Unavailable desc = connection refused (has 4 sidecar, 1 rule, 1 receive)',
      )
      expect(byId(v, 'thanos.clusters')).toMatchObject({
        result: 'fail',
        detail: 'thanos-query answered count by (cluster) (up == 1) with warnings: partial response: store thanos-store.monitoring.svc:10901 unavailable',
      })
      expect(byId(v, 'thanos.replicas').result).toBe('fail')
      expect(byId(v, 'thanos.compactor')).toMatchObject({
        result: 'fail',
        detail: 'the compactor has halted (thanos_compact_halted 1): compaction and downsampling stopped',
      })
      expect(byId(v, 'thanos.bucket')).toMatchObject({result: 'fail', detail: 'bucket thanos-gone does not exist', hint: 'obsctl s3 setup creates it'})
      expect(v.summary).toEqual({pass: 0, warn: 0, fail: 5, skipped: 0})
    } finally {
      p.thanos.stores = saved
      p.thanos.warnings = []
      p.thanos.halted = 0
    }
  })

  it('warn: an empty metrics bucket (the sidecars upload every 2h)', async () => {
    const inv = p.inventoryWith({}, {'s3.buckets.metrics.name': 'thanos-empty'})
    const v = await run('thanos', {}, inv)
    expect(byId(v, 'thanos.bucket')).toMatchObject({result: 'warn', detail: 'bucket thanos-empty holds no blocks yet'})
    expect(v.ok).toBe(true)
  })

  it("fail: a remote-scrape edge's sidecar carries the central cluster label (the old single-Prometheus shape)", async () => {
    const saved = structuredClone(p.thanos.stores)
    for (const s of p.thanos.stores.sidecar!) for (const l of s.labelSets) if (l.cluster === 'cluster-03') l.cluster = 'cluster-01'
    try {
      const v = await run('thanos')
      expect(byId(v, 'thanos.stores')).toMatchObject({
        result: 'fail',
        detail: 'missing or failing: no sidecar with cluster=cluster-03 (Prometheus edge-cluster-03) (has 4 sidecar, 1 store, 1 rule, 1 receive)',
      })
    } finally {
      p.thanos.stores = saved
    }
  })

  it('fail: only one replica answers without dedup', async () => {
    const [gone] = p.thanos.stores.sidecar!.splice(1, 1)
    // stopped before the check asks: kill(2) returning is not the process stopped (a loaded machine saw this
    // replica answer the query after SIGSTOP), so pause() waits until every thread of it is
    await p.metrics.replicas[1]!.daemon.pause()
    try {
      p.thanos.replicaAnswers = []
      // the fake gives up on the stopped replica after its own replica timeout (5 s) and answers 422
      const v = await run('thanos')
      expect(byId(v, 'thanos.stores').detail).toMatch(/^missing or failing: Prometheus sidecars: 3\/4 \(sidecar\)/)
      // the fake answers like Thanos with partial_response=false: the stopped replica fails the query
      expect(byId(v, 'thanos.replicas').result, JSON.stringify(p.thanos.replicaAnswers)).toBe('fail')
      expect(byId(v, 'thanos.replicas').detail).toMatch(/^thanos-query: .* answered HTTP 422: .*prometheus-1: .*(timeout|aborted)/i)
    } finally {
      await p.metrics.replicas[1]!.daemon.resume()
      p.thanos.stores.sidecar!.splice(1, 0, gone!)
    }
  })
})

describe('opensearch', () => {
  it('pass: green with 6 nodes, repository verifies, snapshot policy runs, ISM policy current on every index, logs from every cluster', async () => {
    const v = await run('opensearch')
    expect(v.checks.map((c) => [c.id, c.result, c.detail])).toEqual([
      ['opensearch.health', 'pass', 'opensearch: green, 6/6 nodes (3 data)'],
      [
        'opensearch.snapshots',
        'pass',
        's3 repository, bucket opensearch-snapshots, verified by 6 node(s); snapshot policy fluent-bit-snapshots enabled, last creation SUCCESS',
      ],
      ['opensearch.ism', 'pass', 'policy fluent-bit-logs, 4 managed indices on its current version, none failed'],
      ['opensearch.logs', 'pass', 'within 15m: cluster-01 5, cluster-02 5, cluster-03 5 and cluster-04 5'],
    ])
  })

  it("logs: one multi-search counts every cluster's logs; a search that fails alone fails the check naming its clusters' indices", async () => {
    const before = p.opensearch.msearches.length
    const v = await run('opensearch')
    expect(byId(v, 'opensearch.logs')).toMatchObject({result: 'pass'})
    // one request for the four clusters, not one each (1,000 clusters: 1,000 searches at once against a queue of 1,000)
    expect(p.opensearch.msearches.slice(before)).toEqual([4])
    p.opensearch.failSearch['fluent-bit-cluster-02-*'] = 'failed to create query: field [@timestamp] of type [keyword] does not support range queries'
    try {
      const bad = await run('opensearch')
      expect(byId(bad, 'opensearch.logs')).toMatchObject({
        result: 'fail',
        detail: 'opensearch: counting fluent-bit-cluster-02-*: search_phase_execution_exception: all shards failed',
      })
    } finally {
      p.opensearch.failSearch = {}
    }
  })

  it('warn: yellow health', async () => {
    p.opensearch.health.status = 'yellow'
    p.opensearch.health.unassigned_shards = 3
    try {
      const v = await run('opensearch')
      expect(byId(v, 'opensearch.health')).toMatchObject({result: 'warn', detail: 'opensearch: yellow, 6/6 nodes (3 data), 3 unassigned shards'})
      expect(v.ok).toBe(true)
    } finally {
      p.opensearch.health.status = 'green'
      p.opensearch.health.unassigned_shards = 0
    }
  })

  it('fail: red, a node missing, repository failing verification, failed ISM index, a silent cluster', async () => {
    p.opensearch.health.status = 'red'
    p.opensearch.health.number_of_nodes = 5
    p.opensearch.verifyFailure['s3-snapshots'] = 'is not accessible on master node: AmazonS3Exception: Access Denied'
    const failedIndex = p.opensearch.docs[0]!.index
    p.opensearch.failedIndices[failedIndex] = {action: 'snapshot', message: 'Failed to create snapshot'}
    const docs = p.opensearch.docs
    p.opensearch.docs = docs.filter((d) => !d.index.startsWith('fluent-bit-cluster-03-'))
    p.opensearch.addLogs('cluster-03', 2, 2 * 3600_000)
    try {
      const v = await run('opensearch')
      expect(byId(v, 'opensearch.health')).toMatchObject({result: 'fail', detail: 'opensearch: red, 5/6 nodes (3 data)'})
      expect(byId(v, 'opensearch.snapshots')).toMatchObject({
        result: 'fail',
        detail:
          'repository s3-snapshots (s3, bucket opensearch-snapshots) does not verify: repository_verification_exception: [s3-snapshots] is not accessible on master node: AmazonS3Exception: Access Denied',
      })
      expect(byId(v, 'opensearch.ism')).toMatchObject({
        result: 'fail',
        detail: `1/4 managed indices failed: ${failedIndex} (snapshot: Failed to create snapshot)`,
      })
      expect(byId(v, 'opensearch.logs')).toMatchObject({result: 'fail', detail: 'no logs within 15m from cluster-03'})
      const longer = await run('opensearch', {since: '3h'})
      expect(byId(longer, 'opensearch.logs')).toMatchObject({result: 'pass', detail: 'within 3h: cluster-01 5, cluster-02 5, cluster-03 2 and cluster-04 5'})
    } finally {
      p.opensearch.health.status = 'green'
      p.opensearch.health.number_of_nodes = 6
      p.opensearch.verifyFailure = {}
      p.opensearch.failedIndices = {}
      p.opensearch.docs = docs
    }
  })

  it('warn: indices on an older ISM policy version, on the legacy policy, unmanaged; a failed snapshot run', async () => {
    const [a, b, c] = [...new Set(p.opensearch.docs.map((d) => d.index))].sort()
    p.opensearch.managed[a!] = {policyId: 'fluent-bit-logs', seqNo: 3, primaryTerm: 1}
    p.opensearch.managed[b!] = {policyId: 'fluent-bit-retention', seqNo: 0, primaryTerm: 1}
    p.opensearch.unmanaged.add(c!)
    const sm = p.opensearch.smPolicies['fluent-bit-snapshots']!
    p.opensearch.smPolicies['fluent-bit-snapshots'] = {
      ...sm,
      deletion: {
        latest_execution: {
          status: 'FAILED',
          info: {message: 'Caught exception while deleting snapshot', cause: 'repository_exception: [s3-snapshots] Access Denied'},
        },
      },
    }
    try {
      const v = await run('opensearch')
      expect(byId(v, 'opensearch.ism')).toMatchObject({
        result: 'warn',
        detail: `policy fluent-bit-logs version 7/1: 2 on an older policy (${a}: fluent-bit-logs 3/1 and ${b}: fluent-bit-retention 0/1); 1 unmanaged (${c})`,
        hint: expect.stringContaining('opensearch-setup PostSync Job moves them'),
      })
      expect(byId(v, 'opensearch.snapshots')).toMatchObject({
        result: 'warn',
        detail:
          's3 repository, bucket opensearch-snapshots, verified by 6 node(s); snapshot policy fluent-bit-snapshots: last deletion FAILED (repository_exception: [s3-snapshots] Access Denied)',
      })
      expect(v.ok).toBe(true)
    } finally {
      p.opensearch.managed = {}
      p.opensearch.unmanaged.clear()
      p.opensearch.smPolicies['fluent-bit-snapshots'] = sm
    }
  })

  it('fail: the snapshot management policy is missing or stopped (no snapshot is taken or deleted)', async () => {
    const sm = p.opensearch.smPolicies
    try {
      p.opensearch.smPolicies = {}
      expect(byId(await run('opensearch'), 'opensearch.snapshots')).toMatchObject({
        result: 'fail',
        detail: expect.stringMatching(/snapshot policy fluent-bit-snapshots does not exist/),
        hint: expect.stringContaining('kubectl -n logging describe opensearchsnapshotpolicy fluent-bit-snapshots'),
      })
      p.opensearch.smPolicies = {'fluent-bit-snapshots': {enabled: false}}
      expect(byId(await run('opensearch'), 'opensearch.snapshots')).toMatchObject({
        result: 'fail',
        detail: expect.stringMatching(/snapshot policy fluent-bit-snapshots is stopped$/),
      })
    } finally {
      p.opensearch.smPolicies = sm
    }
  })

  it('fail: no log index yet — ISM explain over fluent-bit-* matches none, so opensearch.ism measured nothing', async () => {
    // The stand-in answers GET _plugins/_ism/explain/<pattern> that matches no index with {"total_managed_indices": 0}
    // and no per-index key: checked against the index-management plugin (opensearch-project/index-management,
    // TransportExplainAction.kt: no index name resolved → an empty list; ExplainResponse.toXContent writes one object
    // per index, then total_managed_indices) and the ISM API page of docs.opensearch.org (Explain index).
    const docs = p.opensearch.docs
    p.opensearch.docs = []
    try {
      const v = await run('opensearch')
      expect(byId(v, 'opensearch.ism')).toMatchObject({
        result: 'fail',
        detail: 'no log index matches fluent-bit-* yet: no index to check the policy on',
        hint: expect.stringMatching(/fluent-bit creates the indices .*opensearch\.logs and fluent-bit\.output/),
      })
      expect(v.ok).toBe(false)
    } finally {
      p.opensearch.docs = docs
    }
  })

  it('fail: missing repository and policy; wrong and missing credentials', async () => {
    const repos = p.opensearch.repositories
    const policies = p.opensearch.policies
    p.opensearch.repositories = {}
    p.opensearch.policies = {}
    try {
      const v = await run('opensearch')
      expect(byId(v, 'opensearch.snapshots')).toMatchObject({
        result: 'fail',
        detail: 'repository s3-snapshots does not exist (repository_missing_exception: [s3-snapshots] missing)',
      })
      expect(byId(v, 'opensearch.ism')).toMatchObject({result: 'fail', detail: 'ISM policy fluent-bit-logs does not exist'})
    } finally {
      p.opensearch.repositories = repos
      p.opensearch.policies = policies
    }
    process.env.OBSCTL_OPENSEARCH_PASSWORD = 'wrong'
    try {
      const v = await run('opensearch')
      expect(v.checks.every((c) => c.result === 'fail' && c.detail === 'opensearch rejected the credentials (HTTP 401)')).toBe(true)
      delete process.env.OBSCTL_OPENSEARCH_PASSWORD
      const w = await run('opensearch')
      expect(byId(w, 'opensearch.health').detail).toMatch(/^OpenSearch credentials missing: set \$OBSCTL_OPENSEARCH_USER and \$OBSCTL_OPENSEARCH_PASSWORD/)
    } finally {
      process.env.OBSCTL_OPENSEARCH_PASSWORD = OS_PASSWORD
    }
  })
})

describe('runner', () => {
  it('an unreachable endpoint fails its checks, never the run; every check still runs', async () => {
    const inv = p.inventoryWith({'thanos-query': DEAD, opensearch: DEAD_TLS})
    const v = await validate(inv, {component: 'all', kubeconfig: p.env.KUBECONFIG, requestTimeoutMs: GENEROUS_MS})
    expect(v.checks).toHaveLength(20)
    expect(byId(v, 'thanos.stores')).toMatchObject({result: 'fail', detail: 'thanos-query: cannot reach http://127.0.0.1:9 (ECONNREFUSED)'})
    expect(byId(v, 'opensearch.health').detail).toBe('opensearch: cannot reach https://127.0.0.1:9 (ECONNREFUSED)')
    expect(byId(v, 'thanos.compactor').result).toBe('pass')
    expect(byId(v, 'prometheus.targets').result).toBe('pass')
    // a kubeconfig without the clusters' contexts: the kube-based checks fail with the fix
    expect(byId(v, 'argocd.apps').detail).toMatch(/^context cluster-01-context is not in \S+empty-kubeconfig/)
    expect(byId(v, 'argocd.apps').hint).toMatch(/obsctl kubeconfig merge|it has no context/)
    expect(v.ok).toBe(false)
  })

  it('a kubeconfig that is missing or a folder, named by --kubeconfig or $KUBECONFIG, is bad input before any check runs', async () => {
    const refusal = async (o: Parameters<typeof validate>[1]) => {
      try {
        await validate(p.inv, {component: 'all', requestTimeoutMs: GENEROUS_MS, ...o})
      } catch (e) {
        return e as {exitCode?: number; message: string; hints?: string[]}
      }
      throw new Error('validate ran its checks')
    }
    const missing = await refusal({kubeconfig: `${p.dir}/nope.conf`})
    expect(missing.exitCode).toBe(2)
    expect(missing.message).toMatch(/^cannot read kubeconfig \S+nope\.conf: no such file/)
    const saved = process.env.KUBECONFIG
    try {
      process.env.KUBECONFIG = p.dir
      const folder = await refusal({})
      expect(folder.exitCode).toBe(2)
      expect(folder.message).toBe(`$KUBECONFIG: ${p.dir} is a folder, not a kubeconfig file`)
      // several files: a missing one is skipped as kubectl skips it, none at all is refused
      process.env.KUBECONFIG = [`${p.dir}/nope-1`, `${p.dir}/nope-2`].join(':')
      const none = await refusal({})
      expect(none.exitCode).toBe(2)
      expect(none.message).toMatch(/^\$KUBECONFIG: none of its 2 files exists/)
      process.env.KUBECONFIG = [`${p.dir}/nope-1`, saved].join(':')
      const v = await validate(p.inv, {component: 'all', requestTimeoutMs: GENEROUS_MS})
      expect(byId(v, 'argocd.apps').detail).toMatch(/^context cluster-01-context is not in \S+nope-1:\S+empty-kubeconfig/)
    } finally {
      process.env.KUBECONFIG = saved
    }
  })

  it('a hanging endpoint is bounded by the request timeout', async () => {
    // the endpoint accepts and never answers within the test: only the request timeout can end the checks
    p.thanos.latency['*'] = 600_000
    try {
      const v = await run('thanos', {requestTimeoutMs: 500, skip: ['thanos.bucket']})
      expect(byId(v, 'thanos.stores').detail).toMatch(/^thanos-query: no answer from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/stores within 0\.5s$/)
    } finally {
      p.thanos.latency = {}
    }
  })

  it('--wait re-runs a failing check until it passes', async () => {
    // the compactor reports halted on the first scrape only, then recovers: no timing involved
    let scrapes = 0
    Object.defineProperty(p.thanos, 'halted', {configurable: true, get: () => (scrapes++ === 0 ? 1 : 0), set: () => {}})
    let v: Verdict
    try {
      v = await run('thanos', {wait: true, waitTimeoutMs: 120_000, intervalMs: 100, skip: ['thanos.bucket']})
    } finally {
      Object.defineProperty(p.thanos, 'halted', {configurable: true, writable: true, enumerable: true, value: 0})
    }
    const c = byId(v, 'thanos.compactor')
    expect(c.result).toBe('pass')
    expect(c.attempts).toBeGreaterThan(1)
    expect(byId(v, 'thanos.stores').attempts).toBe(1)
  })

  it('--wait gives up at the timeout and reports the failure', async () => {
    p.thanos.halted = 1
    try {
      // the timeout is waited out in full: 3 s is still ~30 attempts of the compactor's one local request
      const v = await run('thanos', {wait: true, waitTimeoutMs: 3000, intervalMs: 100, skip: ['thanos.bucket']})
      expect(byId(v, 'thanos.compactor').result).toBe('fail')
      expect(byId(v, 'thanos.compactor').attempts).toBeGreaterThan(1)
    } finally {
      p.thanos.halted = 0
    }
  })

  it('--skip of an unknown id is bad input (exit 2)', async () => {
    await expect(validate(p.inv, {skip: ['thanos.nope']})).rejects.toMatchObject({exitCode: 2, code: 'BAD_SKIP'})
  })
})
