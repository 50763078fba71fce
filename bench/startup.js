// Start-up time of the CLI vs bare `node -e 0` (DESIGN.md §6): --help/--version within 2.5x,
// commands that do not talk to Kubernetes (config validate, plan) within 3x. Medians of 15 runs,
// measured round-robin; also CPU time (user+sys, via GNU time when installed), steadier on a busy
// machine. The budgets apply to wall time. BENCH_RUNS=N changes the number of runs.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runIfMain, timeOnce, timeRoundRobin} from './_lib.js'

const BIN = path.join(import.meta.dirname, '..', 'bin', 'run.js')

export default async function bench() {
  const runs = Number(process.env.BENCH_RUNS ?? 15)
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-'))
  const env = {CI: '1', OBSCTL_CONFIG: path.join(dir, 'obsctl.yaml')}
  timeOnce(process.execPath, [BIN, 'init', '--example'], {env})
  const node = process.execPath
  const cases = [
    ['obsctl --help', ['--help'], 2.5],
    ['obsctl --version', ['--version'], 2.5],
    ['obsctl config validate (example)', ['config', 'validate'], 3],
    ['obsctl plan (example)', ['plan'], 3],
  ]
  const medians = timeRoundRobin(
    [{name: 'node -e 0', cmd: node, args: ['-e', '0'], opts: {env}}, ...cases.map(([name, args]) => ({name, cmd: node, args: [BIN, ...args], opts: {env}}))],
    runs,
  )
  const base = medians.get('node -e 0')
  const rows = [{name: 'node -e 0', value: base, unit: 'ms', ratio: 1}]
  for (const [name, , budget] of cases) {
    const ms = medians.get(name)
    rows.push({name, value: ms, unit: 'ms', ratio: ms / base, budget: `${budget}x`, ok: ms / base <= budget})
  }
  const cpuBase = medians.cpu.get('node -e 0')
  if (cpuBase) {
    rows.push({name: 'cpu: node -e 0', value: cpuBase, unit: 'ms', ratio: 1})
    for (const [name, , budget] of cases) {
      const ms = medians.cpu.get(name)
      rows.push({name: `cpu: ${name}`, value: ms, unit: 'ms', ratio: ms / cpuBase, budget: `${budget}x`})
    }
  }
  return {title: `start-up (median of ${runs} runs each, ${process.version})`, rows}
}

await runIfMain(import.meta.url, bench)
