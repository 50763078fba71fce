#!/usr/bin/env node
// Benchmark (issue 18): the commands that talk to every cluster, over a fleet of BENCH_CLUSTERS (1,000) clusters.
// One Kubernetes API test server (test/support/kube, the suite's own, on loopback) behind a kubeconfig context per
// cluster, with one Ready node; the inventory of bench/fleet.bench.js. Each command is a whole process (CPU: user +
// sys, bash's `time`; wall), a first run and one more (BENCH_RUNS for the median of more), with what each found, so that a figure of a
// run that measured nothing is not taken for a fast one: `status` (every cluster's nodes and certificates measured),
// `validate certificates` and `validate fluent-bit --via-api-server` (each check's result), `secrets apply` (every
// cluster done), `cluster register` (every edge registered) and `diagnose` (every cluster reachable), and `diagnose` again
// over a failing fleet (20 pods with logs a cluster), with its peak memory (GNU time, when installed).
// The whole runs in a network namespace of its own (`unshare -rn`, loopback up): the inventory's service and node
// addresses are not this machine's, and nothing may reach them; without user namespaces the bench cannot measure.
// Figures are for comparison between builds (alternate them), not budgets: the test server shares the machine.
// Run after `npm run build`: node bench/fleet-live.bench.js
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fleetInventory} from './fleet.bench.js'
import {loadTestSupport, median, runIfMain, timeOnceAsync} from './_lib.js'

const BIN = path.join(import.meta.dirname, '..', 'bin', 'run.js')
const INSIDE = 'OBSCTL_BENCH_NETNS'

export default async function bench() {
  if (process.env[INSIDE] !== '1') return inNetworkNamespace()
  const n = Number(process.env.BENCH_CLUSTERS ?? 1000)
  const runs = Number(process.env.BENCH_RUNS ?? 1)
  const [{startKubeServer}, {writeKubeconfigFile}] = await loadTestSupport(['kube/index', 'kube/kubeconfig'])
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-fleet-live-'))
  const kube = await startKubeServer({name: 'fleet'})
  try {
    kube.addReadyNode('node-1')
    // what cluster register needs on the central cluster
    for (const name of ['argocd', 'monitoring']) kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name}})
    const inv = path.join(dir, 'obsctl.yaml')
    writeFileSync(inv, await fleetInventory(n))
    const width = Math.max(2, String(n).length)
    const names = Array.from({length: n}, (_, i) => `cluster-${String(i + 1).padStart(width, '0')}`)
    const kubeconfig = writeKubeconfigFile(
      path.join(dir, 'kubeconfig'),
      names.map((clusterName) => kube.kubeconfigEntry({clusterName})),
    )
    const env = {
      CI: '1',
      NO_COLOR: '1',
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      OBSCTL_CONFIG: inv,
      KUBECONFIG: kubeconfig,
      OBSCTL_S3_ACCESS_KEY: 'AKIABENCHFLEET',
      OBSCTL_S3_SECRET_KEY: 'bench-fleet-secret-key-0123456789',
    }
    const edges = n - 1
    // every cluster is this one server: a command that reads all of a cluster's objects (diagnose: its Secrets, pods,
    // events) reads the whole fleet's from each, so it runs before the commands that write each cluster's objects
    const cases = [
      ['status', ['status', '--json'], (j) => found(j.clusters.filter((c) => !c.nodes.error && !c.certs.error).length, n, 'clusters measured')],
      ['validate certificates', ['validate', 'certificates', '--json'], (j) => checks(j)],
      ['validate fluent-bit --via-api-server', ['validate', 'fluent-bit', '--via-api-server', '--json'], (j) => checks(j)],
      [
        'diagnose',
        ['diagnose', '--json', '--out', path.join(dir, 'diagnose.tar.gz')],
        (j) => found(j.clusters.filter((c) => c.reachable).length, n, 'clusters collected'),
        () => rmSync(path.join(dir, 'diagnose.tar.gz'), {force: true}),
      ],
      // a fleet-wide failure, as when a bad Fluent Bit configuration reaches every edge: each cluster has 20 pods that are
      // not Ready, each with a log of 100 lines (~200 bytes each): ~400 KB of logs a cluster, 400 MB over 1,000, and
      // its peak memory is the figure that matters
      [
        `diagnose, every cluster failing (${FAILING_PODS} pods with logs)`,
        ['diagnose', '--json', '--out', path.join(dir, 'diagnose.tar.gz')],
        (j) => found(j.clusters.filter((c) => c.reachable && c.notReadyPods === FAILING_PODS).length, n, 'clusters collected with every pod'),
        () => rmSync(path.join(dir, 'diagnose.tar.gz'), {force: true}),
        () => failingPods(kube),
      ],
      ['secrets apply', ['secrets', 'apply', '--yes', '--generate-passwords', '--json'], (j) => tasks(j.run, n, 'clusters')],
      // a run that finds every edge registered in the journal reports none
      ['cluster register', ['cluster', 'register', '--yes', '--json'], (j) => tasks(j.run, edges, 'edges')],
    ]
    // each command twice or more: the first run does the work (and fills the code cache: ~0.1-0.3 s of compiling in
    // its figure); the later ones find it done (the phases' tasks in the journal) or, for the read-only commands, do it
    // again. A command that fails (exit 2, a crash, no JSON) fails the bench.
    const rows = []
    for (const [name, args, what, after, before] of cases) {
      before?.()
      const again = {cpu: [], wall: [], rss: [], said: ''}
      for (let i = 0; i <= runs; i++) {
        const r = await timeOnceAsync(process.execPath, [BIN, ...args], {env, rss: true})
        after?.()
        let j
        try {
          j = JSON.parse(r.stdout)
        } catch {
          throw new Error(`obsctl ${args.join(' ')} exited ${r.status} without JSON: ${r.stderr.slice(-400)}`)
        }
        if (r.status === 2 || j.error) throw new Error(`obsctl ${args.join(' ')}: ${j.error?.message ?? `exit ${r.status}`}`)
        if (i === 0) {
          rows.push({name: `cpu: ${name}, first (${what(j)})`, value: r.cpuMs / 1000, unit: 's'}, {name: `wall: ${name}, first`, value: r.ms / 1000, unit: 's'})
          if (r.rssMiB !== undefined) rows.push({name: `peak memory: ${name}, first`, value: r.rssMiB, unit: 'MiB'})
          continue
        }
        again.said = what(j)
        again.wall.push(r.ms)
        again.cpu.push(r.cpuMs)
        if (r.rssMiB !== undefined) again.rss.push(r.rssMiB)
      }
      rows.push({name: `cpu: ${name}, again (${again.said})`, value: median(again.cpu) / 1000, unit: 's'})
      rows.push({name: `wall: ${name}, again`, value: median(again.wall) / 1000, unit: 's'})
      if (again.rss.length) rows.push({name: `peak memory: ${name}, again`, value: median(again.rss), unit: 'MiB'})
    }
    return {title: `commands over ${n} clusters (one loopback API test server, a network namespace of its own; ${runs} run(s) each)`, rows}
  } finally {
    await kube.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

const FAILING_PODS = 20

/** FAILING_PODS pods in `logging` that are not Ready (no status: Pending), each with a log of 100 lines */
function failingPods(kube) {
  kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}})
  for (let p = 0; p < FAILING_PODS; p++) {
    const name = `fluent-bit-${String(p).padStart(2, '0')}`
    kube.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name, namespace: 'logging', labels: {app: 'fluent-bit'}},
      spec: {containers: [{name: 'fluent-bit', image: 'x'}]},
    })
    const lines = Array.from(
      {length: 100},
      (_, i) =>
        `[2026/12/06 10:00:${String(i % 60).padStart(2, '0')}] [error] [output:opensearch:opensearch.0] HTTP status=401 URI=/_bulk, pod ${name} attempt ${i}: could not flush chunk 1-1733479200.${i}.flb, retrying in 10s`,
    )
    kube.setPodLog('logging', name, 'fluent-bit', lines.join('\n'))
  }
}

/** "999/999 edges registered", or the shortfall said plainly */
function found(have, want, what) {
  return have === want ? `${have}/${want} ${what}` : `ONLY ${have}/${want} ${what}`
}

/** a phase run's tasks by status: "999 edges: 999 done" or "999 edges: 999 in-state" */
function tasks(run, want, what) {
  const all = run.phases.flatMap((p) => p.tasks)
  const counts = new Map()
  for (const t of all) counts.set(t.status, (counts.get(t.status) ?? 0) + 1)
  const by = [...counts].map(([status, k]) => `${k} ${status}`)
  return `${all.length === want ? '' : `ONLY `}${all.length}/${want} ${what}: ${by.join(', ')}`
}

/** each check's result, e.g. "certificates.expiry pass" */
function checks(j) {
  return j.checks.map((c) => `${c.id} ${c.result}`).join(', ')
}

/** This bench again, as a child in a network namespace of its own with loopback up; its result read back as JSON. */
function inNetworkNamespace() {
  const can = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up'], {encoding: 'utf8'})
  if (can.error || can.status !== 0)
    throw new Error(`needs a network namespace of its own (unshare -rn: user namespaces; ip): ${can.error?.message ?? can.stderr.trim()}`)
  const script = 'ip link set lo up && exec "$0" "$1" --result-json'
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', script, process.execPath, import.meta.filename], {
    env: {...process.env, [INSIDE]: '1'},
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.status !== 0) throw new Error(`the bench in its network namespace failed (exit ${r.status}; its error above)`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

if (process.argv.includes('--result-json')) {
  const res = await bench()
  process.stdout.write(`${JSON.stringify(res)}\n`)
} else {
  await runIfMain(import.meta.url, bench)
}
