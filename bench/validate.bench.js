#!/usr/bin/env node
// Benchmark: `validate all` against its slowest single check (DESIGN.md §6: checks run concurrently, so
// the whole run should take about as long as the slowest check: within 1.3x).
// Peers: the test suite's (test/support, as test/validate/harness.ts starts them): real Prometheus replicas
// scraping one real node-exporter per cluster (prometheus.ts: needs the Debian `prometheus` and
// `prometheus-node-exporter`), the fake Thanos Query/Compactor (thanos-fake.ts) fanning out to them and the
// fake OpenSearch (opensearch-fake.ts). Every request obsctl makes is delayed on purpose through http-fake's
// `latency` (100 ms; the snapshot `_verify` 300 ms, so opensearch.snapshots, the repository, its `_verify` and
// the snapshot policy's `_explain`, is the slowest check at ~500 ms); Prometheus is reached through a
// forwarding http-fake for that delay. Runs the built library (dist/) in-process: first each check alone
// (median over runs), then all of them together. The Kubernetes-based checks (argocd.*, prometheus.replicas,
// fluent-bit.*, alertmanager.*, certificates.expiry) and thanos.bucket (S3) are skipped here; the HTTP checks
// are the ones with network latency to overlap. A check the peers do not answer fails the bench (`bench peers
// answered wrongly`): a check added later is either answered by test/support or skipped, by name.
// Prints one JSON line per measurement ({name, metric, value, unit}) and the table.
// Needs `npm run build`: node bench/validate.bench.js [--runs N]
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadTestSupport, median, printResult} from './_lib.js'

const root = new URL('../', import.meta.url)
const SKIP = [
  'argocd.apps',
  'argocd.clusters',
  'prometheus.replicas',
  'fluent-bit.daemonset',
  'fluent-bit.output',
  'fluent-bit.health',
  'thanos.bucket',
  'alertmanager.cluster',
  'alertmanager.receivers',
  'certificates.expiry',
]

/** The example inventory's platform with the test peers, each request answered after `latency` ms. */
async function peers(clusters, latency) {
  const [{startFake}, {startMetrics}, {startThanosFake}, {startOpenSearchFake}] = await loadTestSupport([
    'http-fake',
    'prometheus',
    'thanos-fake',
    'opensearch-fake',
  ])
  const {ISM_POLICY_ID, SNAPSHOT_REPOSITORY} = await import(new URL('dist/lib/platform/catalogue.js', root).href)
  const central = clusters.find((c) => c.role === 'central').name
  const metrics = await startMetrics({central, clusters: clusters.map((c) => c.name)})
  const started = [metrics]
  const start = async (fake) => (started.push(await fake), started.at(-1))
  try {
    const thanos = await start(
      startThanosFake({
        replicas: metrics.replicas,
        central,
        receive: clusters.some((c) => c.metrics === 'agent'),
        edges: clusters.filter((c) => c.metrics === 'remote-scrape').map((c) => c.name),
      }),
    )
    const opensearch = await start(
      startOpenSearchFake({user: 'bench', password: 'bench', policy: ISM_POLICY_ID, repository: SNAPSHOT_REPOSITORY, bucket: 'opensearch-snapshots'}),
    )
    // Prometheus itself is real: obsctl reaches it through this forwarder, which adds the latency
    const prometheus = await start(
      startFake([
        [
          '*',
          /^\/.*$/,
          async (req) => {
            const res = await fetch(`${metrics.replicas[0].url}${req.path}?${req.query}`, {method: req.method, body: req.body || undefined})
            return {status: res.status, text: await res.text(), headers: {'content-type': res.headers.get('content-type') ?? 'text/plain'}}
          },
        ],
      ]),
    )
    for (const c of clusters) opensearch.addLogs(c.name, 5, 60_000)
    thanos.latency['*'] = latency
    prometheus.latency['*'] = latency
    Object.assign(opensearch.latency, {'*': latency, verify: latency * 3})
    await metrics.settled()
    const endpoints = {prometheus: prometheus.url, 'thanos-query': thanos.url, 'thanos-compactor': thanos.url, opensearch: opensearch.url}
    return {endpoints, env: {OBSCTL_OPENSEARCH_USER: 'bench', OBSCTL_OPENSEARCH_PASSWORD: 'bench'}, close: () => Promise.all(started.map((s) => s.close()))}
  } catch (e) {
    await Promise.all(started.map((s) => s.close()))
    throw e
  }
}

export default async function bench({runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7, emit = () => {}, latency = 100} = {}) {
  const lib = await import(new URL('dist/lib/validate/index.js', root).href)
  const {EXAMPLE_ANSWERS, renderInventoryYaml} = await import(new URL('dist/lib/config/write.js', root).href)
  const {loadInventory} = await import(new URL('dist/lib/config/load.js', root).href)
  const {formatVerdict} = await import(new URL('dist/lib/cli/views/validate.js', root).href)
  const p = await peers(EXAMPLE_ANSWERS.clusters, latency)
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-validate-'))
  try {
    const yaml = renderInventoryYaml(EXAMPLE_ANSWERS).replace(
      /^clusters:/m,
      `endpoints:\n${Object.entries(p.endpoints)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}\n\nclusters:`,
    )
    const file = path.join(dir, 'obsctl.yaml')
    writeFileSync(file, yaml)
    const inv = loadInventory(file)
    Object.assign(process.env, p.env, {CI: '1'})
    const checks = lib.ALL_CHECKS.filter((c) => !SKIP.includes(c.id))
    const time = async (only) => {
      const t0 = performance.now()
      const v = await lib.validate(inv, {checks: only, kubeconfig: path.join(dir, 'none'), requestTimeoutMs: 5000})
      const ms = performance.now() - t0
      if (!v.ok) throw new Error(`bench peers answered wrongly: ${formatVerdict(v)}`)
      return ms
    }
    await time(checks) // warm-up (module loading, first connections)
    const single = new Map(checks.map((c) => [c.id, []]))
    const all = []
    for (let r = 0; r < runs; r++) {
      for (const c of checks) single.get(c.id).push(await time([c]))
      all.push(await time(checks))
    }
    const singles = [...single].map(([id, xs]) => [id, median(xs)]).sort((a, b) => b[1] - a[1])
    const [slowestId, slowest] = singles[0]
    const whole = median(all)
    const ratio = whole / slowest
    emit({name: `validate.single.${slowestId}`, metric: 'wall', value: Math.round(slowest), unit: 'ms'})
    emit({name: 'validate.all', metric: 'wall', value: Math.round(whole), unit: 'ms'})
    emit({name: 'validate.all/slowest', metric: 'ratio', value: Number(ratio.toFixed(3)), unit: 'x'})
    emit({name: 'validate.sum-of-singles', metric: 'wall', value: Math.round(singles.reduce((s, [, ms]) => s + ms, 0)), unit: 'ms'})
    return {
      title: `validate all (${checks.length} HTTP checks, ${latency} ms per request) vs its slowest single check (median of ${runs})`,
      rows: [
        {name: `slowest single check (${slowestId})`, value: slowest, unit: 'ms'},
        {name: 'sum of single checks (if run one by one)', value: singles.reduce((s, [, ms]) => s + ms, 0), unit: 'ms'},
        {name: 'validate all', value: whole, unit: 'ms', ratio, budget: '<= 1.3x slowest', ok: ratio <= 1.3},
      ],
    }
  } finally {
    await p.close()
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  printResult(await bench({emit: (o) => process.stdout.write(`${JSON.stringify(o)}\n`)}))
}
