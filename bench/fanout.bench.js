#!/usr/bin/env node
// Benchmark: the `nodes` phase (node install: preflight, upload, run install-k8s.sh, verify Ready) over
// 1, 5 and 20 sandboxed sshd nodes (test/support/sshd.ts: one real sshd per 127.0.1.x node, system
// commands as recording shims), each node its own single-node cluster, all at once. Two scenarios:
//   - "slow steps": package installs, kubeadm and Cilium sleep 1 s each in the shims, like a real machine
//     waiting on its network and disk: this is what the budget is about (obsctl's own fan-out);
//   - "cpu-bound": no sleeps, so every sandboxed node's shell work competes for THIS machine's CPUs
//     (real nodes each have their own): reported for information, it measures the sandbox, not obsctl.
// Also reports obsctl's own CPU time per run (ssh2 crypto, rendering, engine).
// Budget (DESIGN.md §6): wall time ~ the slowest node, not the sum: 20 nodes within 1.5x of 1 node.
// Prints one JSON line per measurement ({name, metric, value, unit}) and the table.
// Needs root (mount namespaces) and `npm run build`: node bench/fanout.bench.js [--runs N]
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os, {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {loadTestSupport, median, printResult} from './_lib.js'

const root = new URL('../', import.meta.url)
const SIZES = [1, 5, 20]

async function installOnce(harness, n, firstIp, slowSeconds) {
  const {startSandbox, sandboxInventory} = harness
  const {loadInventory} = await import(new URL('dist/lib/config/index.js', root).href)
  const {runNodeInstall} = await import(new URL('dist/lib/nodes/index.js', root).href)
  const sb = await startSandbox(
    Array.from({length: n}, () => ({slowSeconds})),
    {firstIp},
  )
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-inv-'))
  try {
    const file = path.join(dir, 'obsctl.yaml')
    writeFileSync(
      file,
      sandboxInventory(
        sb,
        sb.nodes.map((_, i) => [i]),
      ),
    )
    const inv = loadInventory(file)
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 60})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    const cpu = process.cpuUsage(cpu0)
    const cpuMs = (cpu.user + cpu.system) / 1000
    if (!r.ok) throw new Error(`install over ${n} nodes failed: ${JSON.stringify(r.phases.flatMap((p) => p.tasks).filter((t) => t.status !== 'done'))}`)
    const slowest = Math.max(...r.phases.flatMap((p) => p.tasks).map((t) => t.durationMs ?? 0))
    return {ms, slowest, cpuMs}
  } finally {
    await sb.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

export default async function bench({runs = 3, emit = () => {}} = {}) {
  if (process.getuid?.() !== 0) throw new Error('fanout bench needs root (sshd in mount namespaces)')
  const [harness] = await loadTestSupport(['sshd'])
  await installOnce(harness, 1, 201, 0) // warm-up (module loading, first ssh2 import)
  const rows = []
  for (const [scenario, slow] of [
    ['slow steps', 1],
    ['cpu-bound', 0],
  ]) {
    const m = new Map(SIZES.map((n) => [n, {wall: [], slowest: [], cpu: []}]))
    for (let round = 0; round < runs; round++) {
      for (const n of SIZES) {
        const r = await installOnce(harness, n, 201, slow)
        m.get(n).wall.push(r.ms)
        m.get(n).slowest.push(r.slowest)
        m.get(n).cpu.push(r.cpuMs)
      }
    }
    const base = median(m.get(1).wall)
    for (const n of SIZES) {
      const value = median(m.get(n).wall)
      const ratio = value / base
      const row = {name: `${scenario}: nodes phase, ${n} node${n === 1 ? '' : 's'}`, value, unit: 'ms', ratio}
      if (n === 20 && slow) Object.assign(row, {budget: '≤ 1.5x of 1 node', ok: ratio <= 1.5})
      rows.push(row)
      rows.push({name: `${scenario}: obsctl CPU, ${n} node${n === 1 ? '' : 's'}`, value: median(m.get(n).cpu), unit: 'ms'})
      // issue 18: < 25 ms of obsctl CPU per node (here with ssh2's crypto and the install script's upload)
      const perNode = median(m.get(n).cpu) / n
      rows.push({
        name: `${scenario}: obsctl CPU per node, ${n} node${n === 1 ? '' : 's'}`,
        value: perNode,
        unit: 'ms',
        ...(n === 20 && slow ? {budget: '< 25 ms', ok: perNode < 25} : {}),
      })
      // the engine's share: wall time of the phase over its slowest node (1.0 = pure fan-out, no queueing);
      // issue 18: ≤ 1.05x (bench/engine.bench.js measures the engine alone)
      const overSlowest = value / median(m.get(n).slowest)
      rows.push({
        name: `${scenario}: wall / slowest node, ${n} node${n === 1 ? '' : 's'}`,
        value: overSlowest,
        unit: 'x',
        ...(n === 20 && slow ? {budget: '≤ 1.05x', ok: overSlowest <= 1.05} : {}),
      })
      const key = `fanout-${scenario.replace(/\W+/g, '-')}-${n}`
      emit({name: key, metric: 'wall_time_median', value: Math.round(value), unit: 'ms'})
      emit({name: key, metric: 'slowest_node_median', value: Math.round(median(m.get(n).slowest)), unit: 'ms'})
      emit({name: key, metric: 'ratio_vs_1_node', value: Number(ratio.toFixed(2)), unit: 'x'})
      emit({name: key, metric: 'obsctl_cpu_median', value: Math.round(median(m.get(n).cpu)), unit: 'ms'})
      emit({name: key, metric: 'wall_over_slowest_node', value: Number(overSlowest.toFixed(3)), unit: 'x'})
    }
  }
  return {title: `node install fan-out (median of ${runs} runs; sandboxed sshd nodes on 127.0.1.x; ${os.cpus().length} CPUs here)`, rows}
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const i = process.argv.indexOf('--runs')
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3
  const res = await bench({runs, emit: (o) => process.stdout.write(`${JSON.stringify(o)}\n`)})
  printResult(res)
}
