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
// Benches run one after another (never in parallel, so they do not compete for the CPU).
// `node bench/run-all.js [name...]` runs only the named ones (e.g. `startup`).
import {readdirSync} from 'node:fs'
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
for (const f of files) {
  const mod = await import(pathToFileURL(path.join(dir, f)).href)
  if (typeof mod.default !== 'function') {
    process.stdout.write(`\n${f}: no default export; skipped (see the convention at the top of run-all.js)\n`)
    continue
  }
  try {
    const res = await mod.default()
    printResult(res)
    over += res.rows.filter((r) => r.ok === false).length
  } catch (e) {
    process.stdout.write(`\n${f}: failed: ${e.message}\n`)
    process.exitCode = 1
  }
}
process.stdout.write(`\n${files.length} bench file(s); ${over} figure(s) over budget\n`)
