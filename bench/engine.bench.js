#!/usr/bin/env node
// Benchmark (issue 18): the engine's own overhead for one phase over 20 nodes. The phase's tasks do no
// work of their own: each waits (a timer, as a real task waits on its node over SSH) 2 s + 10 ms × its
// index and logs a few lines, so whatever the run costs beyond the slowest task is the engine's: the
// journal (state.json written as each task ends), one log file per task, the lock, events, the fan-out.
//   - wall time of runPhases over the slowest task's own time: budget ≤ 1.05x;
//   - obsctl's CPU time (user+sys, process.cpuUsage over the run) per node: budget < 25 ms.
// In-process on the built library (dist/), median of BENCH_RUNS (7) runs after one warm-up run (which
// loads the modules: a CLI pays that at start-up, bench/startup.js measures it).
// Run after `npm run build`: node bench/engine.bench.js
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {median, runIfMain} from './_lib.js'

const dist = new URL('../dist/', import.meta.url)
const NODES = 20

function waitingPhase(n, durations) {
  return {
    name: 'bench-wait',
    title: 'wait on every node',
    targets: () => Array.from({length: n}, (_, i) => ({id: `node-${String(i + 1).padStart(2, '0')}`, title: `node ${i + 1}`})),
    fingerprint: (t) => ({node: t.id}),
    describe: (t) => `wait on ${t.id}`,
    async run(t, _ctx, io) {
      const i = Number(t.id.slice(5)) - 1
      const t0 = process.hrtime.bigint()
      io.log(`${t.id}: connecting`)
      await sleep(2000 + 10 * i)
      io.log(`${t.id}: done`)
      durations.push(Number(process.hrtime.bigint() - t0) / 1e6)
      return {summary: `${t.id} waited`}
    },
  }
}

export default async function bench() {
  const runs = Number(process.env.BENCH_RUNS ?? 7)
  const {EXAMPLE_ANSWERS, renderInventoryYaml} = await import(new URL('lib/config/index.js', dist).href)
  const {loadInventory} = await import(new URL('lib/config/load.js', dist).href)
  const {runPhases} = await import(new URL('lib/engine/index.js', dist).href)
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-engine-'))
  try {
    const file = path.join(dir, 'obsctl.yaml')
    writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS))
    const inv = loadInventory(file)
    const ratios = []
    const cpuPerNode = []
    const overMs = []
    for (let round = -1; round < runs; round++) {
      const durations = []
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      // --restart: every round runs every task (the journal of the previous round would skip them)
      const r = await runPhases([waitingPhase(NODES, durations)], {inv, restart: true, renderer: 'silent', handleSignals: false, command: 'bench'})
      const wall = Number(process.hrtime.bigint() - t0) / 1e6
      const cpu = process.cpuUsage(c0)
      if (!r.ok || durations.length !== NODES) throw new Error(`engine bench: the run failed (${durations.length}/${NODES} tasks ran)`)
      if (round < 0) continue
      const slowest = Math.max(...durations)
      ratios.push(wall / slowest)
      overMs.push(wall - slowest)
      cpuPerNode.push((cpu.user + cpu.system) / 1000 / NODES)
    }
    const ratio = median(ratios)
    const cpu = median(cpuPerNode)
    return {
      title: `engine overhead, one phase over ${NODES} nodes (tasks wait 2.00-2.19 s; median of ${runs} runs, in-process)`,
      rows: [
        {name: `wall / slowest task, ${NODES} nodes`, value: ratio, unit: 'x', budget: '≤ 1.05x', ok: ratio <= 1.05},
        {name: `wall - slowest task, ${NODES} nodes`, value: median(overMs), unit: 'ms'},
        {name: `obsctl CPU per node, ${NODES} nodes`, value: cpu, unit: 'ms', budget: '< 25 ms', ok: cpu < 25},
      ],
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

await runIfMain(import.meta.url, bench)
