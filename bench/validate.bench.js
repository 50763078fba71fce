#!/usr/bin/env node
// Benchmark: `validate all` against its slowest single check (DESIGN.md §6: checks run concurrently, so
// the whole run should take about as long as the slowest check: within 1.3x).
// Peers: small loopback fakes of Prometheus, Thanos Query/Compactor and OpenSearch answering the documented
// shapes, each request delayed on purpose (100 ms; the snapshot `_verify` 300 ms, so opensearch.snapshots,
// the repository, its `_verify` and the snapshot policy's `_explain`, is the slowest check at ~500 ms). Runs
// the built library (dist/) in-process: first each check alone (median over runs), then all of them together.
// The Kubernetes-based checks (argocd.*, prometheus.replicas, fluent-bit.*, alertmanager.*, certificates.expiry)
// and thanos.bucket (S3) are skipped here: they need the TypeScript test servers; the HTTP checks are the ones
// with network latency to overlap. A check the fakes do not answer fails the bench (`bench peers answered
// wrongly`): a check added later is either answered here or skipped, by name.
// Prints one JSON line per measurement ({name, metric, value, unit}) and the table.
// Needs `npm run build`: node bench/validate.bench.js [--runs N]
import {createServer} from 'node:http'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {median, printResult} from './_lib.js'

const root = new URL('../', import.meta.url)
const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
// the example's edges with `metrics: remote-scrape`: each has its own Prometheus (and sidecar) on central
const SCRAPED_EDGES = ['cluster-03', 'cluster-04']
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

function serve(routes, latency) {
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://x')
    req.resume()
    req.on('end', () => {
      const r = routes.find(([m, re]) => (m === '*' || m === req.method) && re.test(u.pathname))
      const delay = r?.[3] ?? latency
      setTimeout(() => {
        if (!r) return res.writeHead(404).end('not found')
        const out = r[2](u)
        res.writeHead(200, {'content-type': typeof out === 'string' ? 'text/plain' : 'application/json'})
        res.end(typeof out === 'string' ? out : JSON.stringify(out))
      }, delay)
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r)))}),
    ),
  )
}

const ok = (data) => ({status: 'success', data})
const store = (name, labels) => ({
  name,
  lastCheck: new Date().toISOString(),
  lastError: null,
  labelSets: labels ? [labels] : [],
  minTime: 0,
  maxTime: Date.now(),
})
const vec = (metrics) => ok({resultType: 'vector', result: metrics.map((metric) => ({metric, value: [Date.now() / 1000, '1']}))})

async function peers(latency) {
  const prometheus = await serve(
    [
      [
        'GET',
        /^\/api\/v1\/targets$/,
        () =>
          ok({
            activeTargets: CLUSTERS.map((cluster, i) => ({
              labels: {job: 'node-exporter', instance: `10.0.0.${i}:9100`, cluster},
              scrapePool: 'node-exporter',
              lastError: '',
              health: 'up',
            })),
            droppedTargets: [],
          }),
      ],
    ],
    latency,
  )
  const thanos = await serve(
    [
      [
        'GET',
        /^\/api\/v1\/stores$/,
        () =>
          ok({
            sidecar: [
              store('a:10901', {cluster: 'cluster-01', prometheus_replica: 'prometheus-0'}),
              store('b:10901', {cluster: 'cluster-01', prometheus_replica: 'prometheus-1'}),
              ...SCRAPED_EDGES.map((cluster, i) => store(`e${i}:10901`, {cluster, prometheus_replica: `prometheus-edge-${cluster}-0`})),
            ],
            store: [store('s:10901')],
            rule: [store('r:10901')],
            receive: [store('rcv:10901')],
          }),
      ],
      [
        'GET',
        /^\/api\/v1\/query$/,
        (u) =>
          /prometheus_replica/.test(u.searchParams.get('query'))
            ? vec([{prometheus_replica: 'prometheus-0'}, {prometheus_replica: 'prometheus-1'}])
            : vec(CLUSTERS.map((cluster) => ({cluster}))),
      ],
      ['GET', /^\/metrics$/, () => 'thanos_compact_halted 0\n'],
      // Thanos Query's targets API: every sidecar's targets, labelled with its external labels (the edges' own jobs)
      [
        'GET',
        /^\/api\/v1\/targets$/,
        () =>
          ok({
            activeTargets: SCRAPED_EDGES.map((cluster) => ({labels: {job: 'kubelet', cluster}, scrapePool: 'kubelet', lastError: '', health: 'up'})),
            droppedTargets: [],
          }),
      ],
    ],
    latency,
  )
  const opensearch = await serve(
    [
      ['GET', /^\/_cluster\/health$/, () => ({cluster_name: 'opensearch', status: 'green', number_of_nodes: 6, number_of_data_nodes: 3, unassigned_shards: 0})],
      ['GET', /^\/_snapshot\/[^/]+$/, (u) => ({[u.pathname.split('/')[2]]: {type: 's3', settings: {bucket: 'opensearch-snapshots'}}})],
      ['POST', /^\/_snapshot\/[^/]+\/_verify$/, () => ({nodes: {a: {name: 'opensearch-cluster-masters-0'}}}), latency * 3],
      ['GET', /^\/_plugins\/_ism\/policies\/[^/]+$/, () => ({_id: 'p', policy: {}})],
      // snapshot management: GET _plugins/_sm/policies/<name>/_explain
      [
        'GET',
        /^\/_plugins\/_sm\/policies\/[^/]+\/_explain$/,
        (u) => ({policies: [{name: u.pathname.split('/')[4], enabled: true, creation: {latest_execution: {status: 'SUCCESS'}}}]}),
      ],
      ['GET', /^\/_plugins\/_ism\/explain\/[^/]+$/, () => ({total_managed_indices: 0})],
      ['*', /^\/[^_][^/]*\/_count$/, () => ({count: 7})],
    ],
    latency,
  )
  return {prometheus, thanos, opensearch, close: () => Promise.all([prometheus.close(), thanos.close(), opensearch.close()])}
}

export default async function bench({runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7, emit = () => {}, latency = 100} = {}) {
  const lib = await import(new URL('dist/lib/validate/index.js', root).href)
  const {EXAMPLE_ANSWERS, renderInventoryYaml} = await import(new URL('dist/lib/config/write.js', root).href)
  const {loadInventory} = await import(new URL('dist/lib/config/load.js', root).href)
  const {formatVerdict} = await import(new URL('dist/lib/cli/views/validate.js', root).href)
  const p = await peers(latency)
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-validate-'))
  try {
    const endpoints = {prometheus: p.prometheus.url, 'thanos-query': p.thanos.url, 'thanos-compactor': p.thanos.url, opensearch: p.opensearch.url}
    const yaml = renderInventoryYaml(EXAMPLE_ANSWERS).replace(
      /^clusters:/m,
      `endpoints:\n${Object.entries(endpoints)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}\n\nclusters:`,
    )
    const file = path.join(dir, 'obsctl.yaml')
    writeFileSync(file, yaml)
    const inv = loadInventory(file)
    Object.assign(process.env, {OBSCTL_OPENSEARCH_USER: 'bench', OBSCTL_OPENSEARCH_PASSWORD: 'bench', CI: '1'})
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
