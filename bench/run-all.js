#!/usr/bin/env node
// Runs every benchmark in bench/ and prints one table each (`npm run bench` builds first).
//
// Convention for bench files (DESIGN.md §6: benchmarks report ratios against budgets; they are not tests):
//   - one file per topic: bench/<topic>.js (files starting with "_" are helpers and are skipped);
//   - `export default async function bench()` returning
//       {title: string, rows: [{name, value: number, unit: 'ms' | 's' | 'x' | ..., ratio?: number, budget?: string, ok?: boolean}]}
//   - measure the built CLI/dist (never src via a TS loader), use medians over several runs, temp dirs, and
//     loopback peers only; end with `await runIfMain(import.meta.url, bench)` (from ./_lib.js) so that
//     `node bench/<topic>.js` runs it alone.
//   - a plain script without a default export is also accepted: it is run as `node bench/<file>` and each
//     stdout line that is a JSON object {name, value, unit, budget_ms?} becomes a row (other lines are shown).
// Benches run one after another (never in parallel, so they do not compete for the CPU).
// `node bench/run-all.js [name...]` runs only the named ones (e.g. `startup`).
import {spawnSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {printResult} from './_lib.js'

const dir = import.meta.dirname
const only = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.js') && !f.startsWith('_') && f !== 'run-all.js')
  .filter((f) => only.length === 0 || only.includes(f.replace(/(\.bench)?\.js$/, '')))
  .sort()

let over = 0
const failed = []
for (const f of files) {
  const file = path.join(dir, f)
  try {
    const res = /^export default /m.test(readFileSync(file, 'utf8')) ? await (await import(pathToFileURL(file).href)).default() : runScript(f, file)
    printResult(res)
    over += res.rows.filter((r) => r.ok === false).length
  } catch (e) {
    process.stdout.write(`\n${f}: failed: ${e.message}\n`)
    failed.push(f)
    process.exitCode = 1
  }
}
// a bench that could not measure is a failure, never a pass: said in the summary as well as above
process.stdout.write(
  `\n${files.length} bench file(s); ${over} figure(s) over budget${failed.length ? `; ${failed.length} could not measure: ${failed.join(', ')}` : ''}\n`,
)

/** A bench written as a plain script: run it, turn its JSON lines into rows. */
function runScript(f, file) {
  const r = spawnSync(process.execPath, [file], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (r.status !== 0) throw new Error(`exited ${r.status}`)
  const rows = []
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    let o
    try {
      o = JSON.parse(line)
    } catch {
      process.stdout.write(`${line}\n`)
      continue
    }
    if (o && typeof o.value === 'number') {
      rows.push({
        name: o.name ?? f,
        value: o.value,
        unit: o.unit ?? '',
        budget: o.budget_ms === undefined ? undefined : `${o.budget_ms} ms`,
        ok: o.budget_ms === undefined ? undefined : o.value <= o.budget_ms,
      })
    }
  }
  return {title: f, rows}
}
