#!/usr/bin/env node
// `npm test`'s first step: the build and the three lint checks at once (each is one process and mostly one
// core; in a row they took ~70 s of the suite's budget, side by side on two cores about half of that).
// Each one's output is held and printed under its name: the build's when it ends, the lint checks' after it.
// The exit status is 1 if any failed. The same steps one by one: npm run build, npm run lint.
//
// The lint checks run under `nice`: side by side at the same priority the build, the longest of the four and
// the one the tests wait for, took 66 s instead of ~30 s alone; now it keeps a core and they take what is left.
// With `--then CMD ARGS…` (npm test: `--then vitest run`), CMD starts as soon as the build has succeeded, while
// the lint checks finish beside it, and has the terminal; the lint checks' output comes after CMD ends. The exit
// status is then CMD's if everything else passed, else 1; a failed build runs nothing.
import {spawn} from 'node:child_process'
import path from 'node:path'

const LINTS = ['lint:eslint', 'lint:format', 'lint:deps']
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const at = process.argv.indexOf('--then')
const then = at >= 0 ? process.argv.slice(at + 1) : []
if (at >= 0 && then.length === 0) {
  process.stderr.write('bin/build-and-lint.mjs: --then needs a command, e.g. --then vitest run\n')
  process.exit(2)
}

/**
 * One npm script, its output held; resolves to {step, code, report} (the report: the line and the output).
 * `lowPriority`: under `nice` (where there is one), so that the build, which everything after waits for, keeps
 * a core while the lint checks take what it leaves.
 */
function step(name, lowPriority = false) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const [cmd, args] = lowPriority && process.platform !== 'win32' ? ['nice', ['-n', '10', npm]] : [npm, []]
    const child = spawn(cmd, [...args, 'run', '--silent', name], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', (error) => resolve({step: name, code: 1, report: `── npm run ${name}: FAILED (${error.message})\n`}))
    child.on('close', (code, signal) => {
      const s = ((Date.now() - t0) / 1000).toFixed(1)
      const report = `── npm run ${name}: ${code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${s} s\n${out.trim() ? `${out.trimEnd()}\n` : ''}`
      resolve({step: name, code: code ?? 1, report})
    })
  })
}

/** CMD with the terminal's stdio (a local bin such as vitest is found as npm scripts find it); its exit code. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const bin = path.join(process.cwd(), 'node_modules', '.bin')
    const env = {...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`}
    const child = spawn(cmd, args, {stdio: 'inherit', env})
    child.on('error', (error) => {
      process.stderr.write(`${cmd}: ${error.message}\n`)
      resolve(1)
    })
    child.on('close', (code) => resolve(code ?? 1))
  })
}

const lints = LINTS.map((name) => step(name, true))
const build = await step('build')
process.stdout.write(build.report)
let thenCode = 0
if (build.code === 0 && then.length) thenCode = await run(then[0], then.slice(1))
const results = [build, ...(await Promise.all(lints))]
for (const r of results.slice(1)) process.stdout.write(r.report)
const failed = results.filter((r) => r.code !== 0).map((r) => r.step)
if (failed.length) {
  process.stderr.write(`failed: ${failed.join(', ')}${build.code !== 0 && then.length ? ` (${then.join(' ')} not run)` : ''}\n`)
  process.exit(1)
}
process.exit(thenCode)
