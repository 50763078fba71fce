/**
 * obsctl status against the deployed-platform harness: four Kubernetes API test servers (nodes, Argo CD
 * Applications), real Prometheus behind the Thanos Query fake (metrics freshness), the OpenSearch fake
 * (logs freshness) and the validation record.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {spawn} from 'node:child_process'
import {clusterOk, openStatus, formatStatus, type ClusterStatus, type FleetStatus} from '../../src/lib/status/index.js'
import {validate} from '../../src/lib/validate/index.js'
import {recordFile, type ValidationRecord} from '../../src/lib/validate/record.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {CLUSTERS, startPlatform, type Platform} from '../validate/harness.js'
import {deployPlatform, type Deployed} from '../validate/deployed.js'
import {BIN, obsctlAsync, requireBuild} from '../cli/helpers.js'
import {Terminal} from '../support/tmux.js'
import {waitFor} from '../support/wait.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'

let p: Platform
let kubes: KubeServer[]
let kubeconfig: string
let deployed: Deployed
let inv: LoadedInventory

const app = (name: string, cluster: string) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: {name: `${name}-${cluster}`, namespace: 'argocd', labels: {'obsctl.dev/cluster': cluster}},
  spec: {project: 'default', source: {repoURL: 'https://git.example/x.git', path: name}, destination: {server: 'https://example', namespace: 'x'}},
})

beforeAll(async () => {
  ;[p, kubes] = await Promise.all([startPlatform(), startKubeServers(CLUSTERS)])
  Object.assign(process.env, p.env)
  kubeconfig = writeFleetKubeconfig(path.join(p.dir, 'kubeconfig'), kubes)
  process.env.KUBECONFIG = kubeconfig
  // root-app deploys to the central cluster (in-cluster destination, no label)
  deployed = await deployPlatform(p, kubes, CLUSTERS, {inv: p.inv, apps: ['root-app']})
  inv = p.inventoryWith({argocd: deployed.argocdFake.url})
  for (const [i, k] of kubes.entries()) {
    k.addReadyNode(`node-${i + 1}`)
    for (const name of ['fluent-bit', 'node-exporter']) {
      kubes[0]!.seed(app(name, CLUSTERS[i]!))
      kubes[0]!.setApplicationStatus('argocd', `${name}-${CLUSTERS[i]}`, {sync: 'Synced', health: 'Healthy'})
    }
  }
})

afterAll(async () => {
  await Promise.all([p?.close(), kubes && stopKubeServers(kubes), deployed?.close()])
})

async function status(o: Parameters<typeof openStatus>[1] = {}): Promise<FleetStatus> {
  const s = await openStatus(inv, {kubeconfig, requestTimeoutMs: 20_000, ...o})
  try {
    return await s.collect()
  } finally {
    s.close()
  }
}
/** the clusters thanos.clusters counts: those with a successful scrape, as Thanos Query (the fake, dedup) answers */
async function scrapedClusters(): Promise<string[]> {
  const res = await fetch(`${p.thanos.url}/api/v1/query?${new URLSearchParams({query: 'count by (cluster) (up == 1)'})}`)
  return ((await res.json()) as {data: {result: {metric: {cluster: string}}[]}}).data.result.map((r) => r.metric.cluster)
}
const internal = (k: KubeServer) => (k as unknown as {objects: {update: (...a: unknown[]) => unknown; delete: (...a: unknown[]) => unknown}}).objects
const row = (s: FleetStatus, name: string): ClusterStatus => s.clusters.find((c) => c.name === name)!

describe('obsctl status', () => {
  it('all ok: nodes Ready, apps Synced and Healthy per cluster, fresh metrics and logs; no validation yet', async () => {
    const s = await status()
    expect(
      s.clusters.map((c) => [c.name, c.ok]),
      formatStatus(s),
    ).toEqual(CLUSTERS.map((c) => [c, true]))
    expect(row(s, 'cluster-01')).toMatchObject({
      role: 'central',
      nodes: {ready: 1, total: 1, notReady: []},
      apps: {total: 3, synced: 3, healthy: 3, problems: []},
      validation: null,
    })
    expect(row(s, 'cluster-03').apps).toEqual({total: 2, synced: 2, healthy: 2, problems: []})
    for (const c of s.clusters) {
      expect(c.metrics).toMatchObject({fresh: true})
      expect((c.metrics as {ageSeconds: number}).ageSeconds).toBeLessThan(60)
      expect(c.logs).toMatchObject({fresh: true})
      expect((c.logs as {ageSeconds: number}).ageSeconds).toBeGreaterThanOrEqual(59)
    }
    expect(s.ok).toBe(true)
    const text = formatStatus(s)
    expect(text).toMatch(/^CLUSTER\s+ROLE\s+NODES\s+APPS\s+METRICS\s+LOGS\s+CERTS\s+VALIDATED\s+STATUS\n/)
    expect(text).toMatch(/cluster-01\s+central\s+1\/1 Ready\s+3\/3 Synced\+Healthy\s+\d+s ago\s+\d+s ago\s+\d+d\s+never\s+ok/)
    expect(text).toMatch(/all 4 clusters ok; no validation recorded yet \(obsctl validate\)$/)
  })

  it('an Application without the obsctl.dev/cluster label counts for the cluster its destination names (by server or by name)', async () => {
    const edge = inv.platform.clusters[1]!
    const bare = (name: string, destination: Record<string, string>) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name, namespace: 'argocd'},
      spec: {project: 'default', source: {repoURL: 'https://git.example/x.git', path: name}, destination: {...destination, namespace: 'x'}},
    })
    const before = row(await status(), edge.name).apps as {total: number}
    kubes[0]!.seed(bare('by-server', {server: edge.apiServer}))
    kubes[0]!.seed(bare('by-name', {name: edge.name}))
    for (const n of ['by-server', 'by-name']) kubes[0]!.setApplicationStatus('argocd', n, {sync: 'Synced', health: 'Healthy'})
    try {
      expect(row(await status(), edge.name).apps).toMatchObject({total: before.total + 2, problems: []})
    } finally {
      for (const n of ['by-server', 'by-name']) internal(kubes[0]!).delete(kubes[0]!.type('applications.argoproj.io'), 'argocd', n, {}, false)
    }
  })

  it("every cluster's newest log comes from one multi-search; a search that fails alone is its cluster's LOGS error, the others fresh", async () => {
    const before = p.opensearch.msearches.length
    await status()
    expect(p.opensearch.msearches.slice(before)).toEqual([CLUSTERS.length])
    p.opensearch.failSearch['fluent-bit-cluster-03-*'] = 'no mapping found for [@timestamp]'
    try {
      const s = await status()
      expect(row(s, 'cluster-03').logs).toEqual({error: 'opensearch: search_phase_execution_exception: all shards failed'})
      expect(row(s, 'cluster-03').ok).toBe(false)
      for (const c of CLUSTERS.filter((n) => n !== 'cluster-03')) expect(row(s, c).logs, c).toMatchObject({fresh: true})
    } finally {
      p.opensearch.failSearch = {}
    }
  })

  it('a bounded number of clusters at once (clustersAtOnce 2 of 4): two clusters in flight until answered, then the others; every cluster measured', async () => {
    // a fleet's requests all at once queued behind their own deadlines (551 of 1,000 API servers reported as not
    // answering): each cluster's probes wait for its turn (PlatformContext.mapClusters)
    const holds = kubes.map((k) => k.hold('GET', '/api/v1/nodes'))
    const held = () => holds.reduce((n, h) => n + h.held(), 0)
    const run = status({clustersAtOnce: 2, requestTimeoutMs: 120_000})
    try {
      await waitFor(() => held() >= 2, 120_000, 'two clusters asking for their nodes')
      // the other two wait for a turn, which only an answer gives (all four at once before)
      expect(held()).toBe(2)
    } finally {
      for (const h of holds) h.release()
    }
    const s = await run
    expect(s.clusters.map((c) => [c.name, c.nodes])).toEqual(CLUSTERS.map((c) => [c, {ready: 1, total: 1, notReady: []}]))
  })

  it("one TLS connection a cluster: the serving certificate is the one the nodes request's connection was served with", async () => {
    // the certificate probe made a handshake of its own beside the nodes request's (two a cluster, a third of status's
    // CPU at 1,000 clusters). The central cluster also answers the Argo CD Applications request, on a connection of
    // its own when both are in flight at once: the edge clusters are counted.
    const edges = kubes.slice(1)
    const before = edges.map((k) => k.connections().accepted)
    const s = await status()
    expect(edges.map((k, i) => k.connections().accepted - before[i]!)).toEqual(edges.map(() => 1))
    for (const c of CLUSTERS) {
      expect(row(s, c).nodes, c).toEqual({ready: 1, total: 1, notReady: []})
      expect(row(s, c).certs, c).toMatchObject({problems: []})
    }
  })

  it('shows the last validation per cluster: failures that name a cluster go to it, the rest to the central', async () => {
    // cluster-04's node-exporter stops: its scrapes fail (up 0), so thanos.clusters has no metrics from it. (Not a
    // reload without its target: Prometheus 2.42 applies new targets at its 5-second discovery and scrape-manager
    // ticks, and the reload and the one back cost up to 10 s each.) Each replica notices at its next scrape.
    await p.metrics.stopExporter('cluster-04')
    try {
      await waitFor(async () => !(await scrapedClusters()).includes('cluster-04'), 120_000, 'both replicas to see the node-exporter of cluster-04 down')
      const v = await validate(inv, {kubeconfig, component: 'thanos', skip: ['thanos.bucket'], record: true, requestTimeoutMs: 20_000})
      expect(v.ok).toBe(false)
      const s = await status()
      expect(row(s, 'cluster-04').validation).toMatchObject({result: 'fail', checks: ['thanos.clusters']})
      expect(row(s, 'cluster-02').validation).toMatchObject({result: 'pass', checks: []})
      expect(row(s, 'cluster-04').validation!.ageSeconds).toBeLessThan(30)
      expect(s.validation).toMatchObject({ok: false, failed: ['thanos.clusters'], summary: {pass: 3, warn: 0, fail: 1, skipped: 1}})
      expect(formatStatus(s)).toMatch(/last validation \d+s ago: 3 passed, 0 warnings, 1 failed \(thanos\.clusters\)$/)
    } finally {
      await p.metrics.startExporter('cluster-04')
      await p.metrics.settled()
      await waitFor(async () => (await scrapedClusters()).includes('cluster-04'), 120_000, 'Thanos Query to see cluster-04 scraped again')
    }
  })

  it('a partial run merges into the record: older failures stay, and a cell is as old as the oldest result it rests on', async () => {
    // a record of the format before checks had their own time, two hours old: a full run's opensearch failure on cluster-03,
    // thanos.clusters failing for cluster-04, a warning about a cluster no longer in the inventory, a check obsctl no longer has
    const twoHours = new Date(Date.now() - 2 * 3600_000).toISOString()
    mkdirSync(path.dirname(recordFile(inv)), {recursive: true})
    writeFileSync(
      recordFile(inv),
      JSON.stringify({
        at: twoHours,
        ok: false,
        components: ['thanos', 'opensearch'],
        summary: {pass: 1, warn: 1, fail: 3, skipped: 0},
        skipped: [],
        checks: [
          {id: 'thanos.clusters', component: 'thanos', result: 'fail', detail: 'no metrics from cluster-04', clusters: ['cluster-04']},
          {id: 'opensearch.health', component: 'opensearch', result: 'pass', detail: 'green'},
          {id: 'opensearch.snapshots', component: 'opensearch', result: 'warn', detail: 'x', clusters: ['cluster-09']},
          {id: 'opensearch.logs', component: 'opensearch', result: 'fail', detail: 'no logs within 15m from cluster-03', clusters: ['cluster-03']},
          {id: 'opensearch.retired', component: 'opensearch', result: 'fail', detail: 'a check of an older obsctl'},
        ],
      }),
    )
    const before = await status()
    expect(row(before, 'cluster-04').validation).toMatchObject({result: 'fail', at: twoHours, checks: ['thanos.clusters']})
    expect(row(before, 'cluster-03').validation).toMatchObject({result: 'fail', at: twoHours, checks: ['opensearch.logs']})
    expect(before.validation).toMatchObject({failed: ['thanos.clusters', 'opensearch.logs'], summary: {pass: 1, warn: 0, fail: 2, skipped: 0}})

    // only thanos now, every cluster scraped: thanos.clusters passes; the opensearch results stay, two hours old
    const v = await validate(inv, {kubeconfig, component: 'thanos', skip: ['thanos.bucket'], record: true, requestTimeoutMs: 20_000})
    expect(v.ok).toBe(true)
    const s = await status()
    expect(row(s, 'cluster-03').validation).toMatchObject({result: 'fail', at: twoHours, checks: ['opensearch.logs']})
    expect(row(s, 'cluster-03').validation!.ageSeconds).toBeGreaterThanOrEqual(7199)
    // cluster-04's failure is gone, but its pass rests on the two-hour-old opensearch.health too
    expect(row(s, 'cluster-04').validation).toMatchObject({result: 'pass', at: twoHours, checks: []})
    expect(s.validation).toMatchObject({
      ok: false,
      oldestAt: twoHours,
      failed: ['opensearch.logs'],
      summary: {pass: 5, warn: 0, fail: 1, skipped: 1},
      components: ['thanos', 'opensearch'],
    })
    expect(s.validation!.ageSeconds).toBeLessThan(60)
    const text = formatStatus(s)
    expect(text).toMatch(/cluster-03\s+edge\s+.+\s+fail 2h ago\s+\S+$/m)
    expect(text).toMatch(/cluster-04\s+edge\s+.+\s+pass 2h ago\s+\S+$/m)
    expect(text).toMatch(/last validation \d+s ago \(oldest result 2h ago\): 5 passed, 0 warnings, 1 failed \(opensearch\.logs\)$/)
    const checks = (JSON.parse(readFileSync(recordFile(inv), 'utf8')) as ValidationRecord).checks
    expect(checks.map((c) => c.id)).toEqual(['thanos.stores', 'thanos.clusters', 'thanos.replicas', 'thanos.compactor', 'opensearch.health', 'opensearch.logs'])
    expect(checks.filter((c) => c.at === twoHours).map((c) => c.id)).toEqual(['opensearch.health', 'opensearch.logs'])
  })

  it('degraded: a node NotReady, an app out of sync, stale logs, an API server error — each said under the table', async () => {
    const [c1, c2] = [kubes[0]!, kubes[1]!]
    const n = c2.addReadyNode('node-2b')
    internal(c2).update(
      c2.type('nodes'),
      '',
      'node-2b',
      {...n, status: {conditions: [{type: 'Ready', status: 'False', reason: 'KubeletNotReady'}]}},
      {manager: 'kubelet'},
      'status',
    )
    c1.setApplicationStatus('argocd', 'fluent-bit-cluster-03', {sync: 'OutOfSync', health: 'Progressing'})
    const saved = p.opensearch.docs
    p.opensearch.docs = saved.filter((d) => !d.index.startsWith('fluent-bit-cluster-04-'))
    p.opensearch.addLogs('cluster-04', 3, 2 * 3600_000)
    kubes[3]!.failNext(/\/api\/v1\/nodes/, 10, {status: 500})
    try {
      const s = await status()
      expect(s.ok).toBe(false)
      expect(row(s, 'cluster-01').ok).toBe(true)
      expect(row(s, 'cluster-02')).toMatchObject({ok: false, nodes: {ready: 1, total: 2, notReady: ['node-2b']}})
      expect(row(s, 'cluster-03')).toMatchObject({
        ok: false,
        apps: {total: 2, synced: 1, healthy: 1, problems: ['fluent-bit-cluster-03 (OutOfSync/Progressing)']},
      })
      expect(row(s, 'cluster-04')).toMatchObject({ok: false, logs: {fresh: false}})
      expect((row(s, 'cluster-04').logs as {ageSeconds: number}).ageSeconds).toBeGreaterThanOrEqual(7199)
      expect(row(s, 'cluster-04').nodes).toHaveProperty('error')
      const text = formatStatus(s)
      expect(text).toContain('  ✖ cluster-02 nodes: not Ready: node-2b')
      expect(text).toContain('  ✖ cluster-03 apps: fluent-bit-cluster-03 (OutOfSync/Progressing)')
      expect(text).toContain('  ✖ cluster-04 logs: newest line 2h old (stale after 15m)')
      expect(text).toMatch(/ {2}✖ cluster-04 nodes: .+/)
      expect(text).toMatch(/cluster-04\s+edge\s+unknown\s+2\/2 Synced\+Healthy\s+\d+s ago\s+stale 2h ago\s+\S+\s+\S+ \S+ ago\s+DEGRADED/)
      expect(text).toMatch(/3\/4 clusters degraded; /)
      if (process.env.OBSCTL_CAPTURE_DIR) writeFileSync(path.join(process.env.OBSCTL_CAPTURE_DIR, 'status-degraded.txt'), `${text}\n`)
    } finally {
      internal(c2).delete(c2.type('nodes'), '', 'node-2b', {}, false)
      c1.setApplicationStatus('argocd', 'fluent-bit-cluster-03', {sync: 'Synced', health: 'Healthy'})
      p.opensearch.docs = saved
      kubes[3]!.clearFailures()
    }
  })

  it('without OpenSearch credentials the logs cells say which env vars to set; bad thresholds are bad input', async () => {
    const saved = process.env.OBSCTL_OPENSEARCH_PASSWORD
    delete process.env.OBSCTL_OPENSEARCH_PASSWORD
    try {
      const s = await status({prompt: false})
      expect(row(s, 'cluster-01').logs).toEqual({error: expect.stringMatching(/OBSCTL_OPENSEARCH_USER and \$OBSCTL_OPENSEARCH_PASSWORD/)})
      expect(row(s, 'cluster-01').nodes).toMatchObject({ready: 1})
    } finally {
      process.env.OBSCTL_OPENSEARCH_PASSWORD = saved
    }
    await expect(status({metricsStale: 'soon'})).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--metrics-stale soon: expected a duration/),
    })
  })

  it('the built CLI: table and exit 0, --json, exit 1 when degraded, --watch --json streams until Ctrl-C (exit 0)', async () => {
    requireBuild()
    const env = {...p.env, KUBECONFIG: kubeconfig}
    // --pending-deprecation: Node 20 warns of what Node 22 warns at every run, on the path that loads the Kubernetes
    // client: the builtin punycode that node-fetch's URL fallback (tr46) required (DEP0040), now not bundled at all
    // (bin/bundle.mjs slimImports; test/kube-server/bundle.test.ts). Left: node-fetch's url.parse (DEP0169), a warning from Node 24 only, and only for code outside
    // node_modules (an `npm link`ed checkout, not an installed obsctl). Nothing else on stderr.
    const ok = await obsctlAsync(['status', '-c', inv.file], {env: {...env, NODE_OPTIONS: '--pending-deprecation'}})
    expect(
      (ok.stderr.match(/\[DEP\d+\]/g) ?? []).filter((d) => d !== '[DEP0169]'),
      ok.stderr,
    ).toEqual([])
    expect(ok.stderr.replace(/^\(node:\d+\) \[DEP0169\] .*\n(\(Use `node --trace-deprecation .*\n)?/m, '')).toBe('')
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/^CLUSTER +ROLE +NODES/)
    expect(ok.stdout).toMatch(/all 4 clusters ok; last validation/)
    p.opensearch.addLogs('cluster-02', 1, 0)
    kubes[0]!.setApplicationStatus('argocd', 'node-exporter-cluster-02', {sync: 'Synced', health: 'Degraded'})
    try {
      const bad = await obsctlAsync(['status', '-c', inv.file, '--json'], {env})
      expect(bad.status).toBe(1)
      // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
      expect(bad.stderr).toBe('')
      const s = JSON.parse(bad.stdout) as FleetStatus
      expect(s.clusters.filter((c) => !c.ok).map((c) => c.name)).toEqual(['cluster-02'])
      expect(row(s, 'cluster-02').logs).toMatchObject({fresh: true, ageSeconds: expect.any(Number)})
    } finally {
      kubes[0]!.setApplicationStatus('argocd', 'node-exporter-cluster-02', {sync: 'Synced', health: 'Healthy'})
    }

    // --watch --json: one object per line, then SIGINT ends it with exit 0
    const child = spawn(process.execPath, [BIN, 'status', '-c', inv.file, '--watch', '--json', '--interval', '1'], {env: {...process.env, ...env, CI: '1'}})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const deadline = Date.now() + 120_000
    while (out.split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    child.kill('SIGINT')
    // 'close': every frame is read (at 'exit' the last line may still be in the pipe, half a JSON object)
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
    expect(code).toBe(0)
    const frames = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as FleetStatus)
    expect(frames.length).toBeGreaterThanOrEqual(2)
    expect(frames.every((f) => f.clusters.length === 4)).toBe(true)
    expect(Date.parse(frames[1]!.at)).toBeGreaterThan(Date.parse(frames[0]!.at))
  })

  it('--watch in a real terminal: the screen is redrawn in colour, Ctrl-C ends it with exit 0', async () => {
    requireBuild()
    const env = {...p.env, KUBECONFIG: kubeconfig}
    const term = await Terminal.start(`${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} status -c ${JSON.stringify(inv.file)} --watch --interval 1`, {
      cwd: p.dir,
      env: {...env, NO_COLOR: undefined, FORCE_COLOR: undefined},
    })
    try {
      const first = await term.waitFor(/every 1s, (.+?) — Ctrl-C to stop/)
      const at = /every 1s, (.+?) — /.exec(first)![1]!
      expect(first).toMatch(/^CLUSTER +ROLE +NODES/m)
      // a redraw: the screen is cleared and drawn again (one table, a later time), in colour
      const again = await term.waitFor(new RegExp(`every 1s, (?!${at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} — ).+? — Ctrl-C`))
      expect(again.match(/^CLUSTER +ROLE/gm)).toHaveLength(1)
      expect(await term.screen(true)).toContain('\u001b[32mok')
      await term.keys('C-c')
      expect(await term.exitCode()).toBe(0)
    } finally {
      await term.close()
    }
  })
})

describe("a cluster's verdict counts only what was measured", () => {
  const good = (): Pick<ClusterStatus, 'nodes' | 'apps' | 'metrics' | 'logs' | 'certs'> => ({
    nodes: {ready: 2, total: 2, notReady: []},
    apps: {total: 5, synced: 5, healthy: 5, problems: []},
    metrics: {last: '2026-12-05T00:00:00.000Z', ageSeconds: 10, fresh: true},
    logs: {last: '2026-12-05T00:00:00.000Z', ageSeconds: 10, fresh: true},
    certs: {
      soonest: {name: 'apiserver (serving)', where: 'https://127.0.0.1:6443', notAfter: '2027-12-05T00:00:00.000Z', daysLeft: 365, status: 'ok'},
      nodesCheckedAt: null,
      problems: [],
    },
  })

  it('all measured and good: ok', () => {
    expect(clusterOk(good())).toBe(true)
  })

  it('a certificate that could not be measured (the handshake failed, the probe erred, nothing found) is not ok', () => {
    expect(
      clusterOk({...good(), certs: {...(good().certs as object), problems: ['API server certificate: no TLS handshake within 5s']} as ClusterStatus['certs']}),
    ).toBe(false)
    expect(clusterOk({...good(), certs: {error: 'cluster-01 certificates: timed out'}})).toBe(false)
    expect(clusterOk({...good(), certs: {soonest: null, nodesCheckedAt: null, problems: ['kubeconfig client certificate: unreadable']}})).toBe(false)
  })

  it('any other column unmeasured or bad is not ok either', () => {
    expect(clusterOk({...good(), nodes: {error: 'no answer'}})).toBe(false)
    expect(clusterOk({...good(), apps: {total: 0, synced: 0, healthy: 0, problems: []}})).toBe(false)
    expect(clusterOk({...good(), metrics: {last: null, ageSeconds: null, fresh: false}})).toBe(false)
  })
})
