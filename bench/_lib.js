// Shared helpers for bench/*.js (not a benchmark itself: files starting with "_" are skipped by run-all).
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// CPU time of a child (user+sys): bash's `time` keyword reports it to the millisecond (GNU time, the
// fallback, to 10 ms: too coarse against `node -e 0`'s ~40 ms).
const BASH = existsSync('/bin/bash') ? '/bin/bash' : undefined
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
/** last CPU time (user+sys, ms) measured by timeOnce, when bash or GNU time is installed */
export let lastCpuMs

/**
 * Wall time (ms) of one run of a command; throws if it exits non-zero and that was not expected.
 * With bash (or GNU time) installed, the child's CPU time (user+sys) is kept in `lastCpuMs`: on a busy
 * machine CPU time is the steadier figure.
 */
export function timeOnce(cmd, args, {cwd, env, okCodes = [0]} = {}) {
  const [c, a] = timedCommand(cmd, args)
  const t0 = process.hrtime.bigint()
  const r = spawnSync(c, a, {cwd, env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (!okCodes.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  lastCpuMs = c !== cmd ? cpuOf(r.stderr) : undefined
  return ms
}

/**
 * The command wrapped in bash's `time` (or GNU time), whose last stderr line cpuOf reads; with `rss`, GNU time (when
 * installed), which also says the child's peak resident memory on the line before (rssOf).
 */
function timedCommand(cmd, args, {rss = false} = {}) {
  if (rss && GNU_TIME) return [GNU_TIME, ['-f', 'RSS %M\nCPU %U %S', cmd, ...args]]
  return BASH
    ? [BASH, ['-c', 'TIMEFORMAT="CPU %3U %3S"; time "$@"', 'bench', cmd, ...args]]
    : GNU_TIME
      ? [GNU_TIME, ['-f', 'CPU %U %S', cmd, ...args]]
      : [cmd, args]
}

/** The CPU time (user+sys, ms) timedCommand's wrapper printed last on stderr, else undefined. */
function cpuOf(stderr) {
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr)
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined
}

/** The peak resident memory (MiB) GNU time printed before the CPU line, else undefined. */
function rssOf(stderr) {
  const m = /RSS (\d+)\nCPU [\d.]+ [\d.]+\s*$/.exec(stderr)
  return m ? Number(m[1]) / 1024 : undefined
}

/**
 * One run of a command without blocking this process (a bench whose peer, a test server, lives here): its wall time,
 * CPU time (user+sys, when bash or GNU time is installed), exit status and stdout; with `rss`, its peak resident memory
 * in MiB too (`rssMiB`, when GNU time is installed).
 */
export function timeOnceAsync(cmd, args, {cwd, env, rss = false} = {}) {
  const [c, a] = timedCommand(cmd, args, {rss})
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, {cwd, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => {
      resolve({ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: c !== cmd ? cpuOf(stderr) : undefined, rssMiB: rssOf(stderr), status, stdout, stderr})
    })
  })
}

/**
 * Medians of several commands measured round-robin (each round runs every command once, after one
 * warm-up round), so a change in machine load during the bench affects all of them alike.
 * cases: [{name, cmd, args, opts}] → Map name → median ms
 */
export function timeRoundRobin(cases, runs = 15) {
  const xs = new Map(cases.map((c) => [c.name, []]))
  const cpu = new Map(cases.map((c) => [c.name, []]))
  for (let round = -1; round < runs; round++) {
    for (const c of cases) {
      const ms = timeOnce(c.cmd, c.args, c.opts)
      if (round >= 0) {
        xs.get(c.name).push(ms)
        if (lastCpuMs !== undefined) cpu.get(c.name).push(lastCpuMs)
      }
    }
  }
  const out = new Map([...xs].map(([k, v]) => [k, median(v)]))
  /** medians of CPU time (user+sys), when measurable */
  out.cpu = new Map([...cpu].filter(([, v]) => v.length).map(([k, v]) => [k, median(v)]))
  return out
}

/** Median wall time over `runs` runs (after one warm-up run). */
export function timeMedian(cmd, args, opts = {}) {
  const runs = opts.runs ?? 15
  timeOnce(cmd, args, opts)
  const xs = []
  for (let i = 0; i < runs; i++) xs.push(timeOnce(cmd, args, opts))
  return median(xs)
}

export function formatTable(headers, rows) {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c ?? '')))]
  const w = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** Print a bench result ({title, rows: [{name, value, unit, ratio?, budget?, ok?}]}) as a table. */
export function printResult(res) {
  process.stdout.write(`\n${res.title}\n`)
  process.stdout.write(
    `${formatTable(
      ['BENCH', 'VALUE', 'RATIO', 'BUDGET', 'OK'],
      res.rows.map((r) => [
        r.name,
        `${r.value.toFixed(r.unit === 'ms' ? 0 : 2)} ${r.unit}`,
        r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
        r.budget ?? '',
        r.ok === undefined ? '' : r.ok ? 'yes' : 'OVER',
      ]),
    )}\n`,
  )
}

/** `node bench/x.js` runs the bench on its own; run-all imports it instead. */
export async function runIfMain(metaUrl, fn) {
  if (process.argv[1] && pathToFileURL(process.argv[1]).href === metaUrl) printResult(await fn())
}

/**
 * Modules of the test suite's harness (TypeScript under test/support, shared with the tests), for a bench: each
 * bundled on its own with esbuild into a temporary folder and imported. `import.meta.url` keeps naming the source
 * file, so a module finds the files beside it (sshd.ts its node sandbox).
 */
export async function loadTestSupport(names) {
  const {build} = await import('esbuild')
  const out = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-'))
  try {
    return await Promise.all(
      names.map(async (name) => {
        const src = new URL(`../test/support/${name}.ts`, import.meta.url)
        const outfile = path.join(out, `${name}.mjs`)
        await build({
          entryPoints: [src.pathname],
          outfile,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          logLevel: 'error',
          define: {'import.meta.url': JSON.stringify(src.href)},
          // CommonJS packages bundled in (yaml) require Node's builtins: a require resolving from the source file
          banner: {js: "import {createRequire as __benchRequire} from 'node:module'; const require = __benchRequire(import.meta.url);"},
        })
        return import(pathToFileURL(outfile).href)
      }),
    )
  } finally {
    rmSync(out, {recursive: true, force: true})
  }
}
