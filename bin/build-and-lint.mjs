#!/usr/bin/env node
// `npm test`'s first step: the build and the three lint checks at once (each is one process and mostly one
// core; in a row they took ~70 s of the suite's budget, side by side on two cores about half of that).
// Each one's output is printed when it ends, under its name; the exit status is 1 if any failed.
// The same steps one by one: npm run build, npm run lint.
import {spawn} from 'node:child_process'

const STEPS = ['build', 'lint:eslint', 'lint:format', 'lint:deps']
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const results = await Promise.all(
  STEPS.map(
    (step) =>
      new Promise((resolve) => {
        const t0 = Date.now()
        const child = spawn(npm, ['run', '--silent', step], {stdio: ['ignore', 'pipe', 'pipe']})
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.stderr.on('data', (d) => (out += d))
        child.on('error', (error) => {
          process.stdout.write(`── npm run ${step}: FAILED (${error.message})\n`)
          resolve({step, code: 1})
        })
        child.on('close', (code, signal) => {
          const s = ((Date.now() - t0) / 1000).toFixed(1)
          process.stdout.write(
            `── npm run ${step}: ${code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${s} s\n${out.trim() ? `${out.trimEnd()}\n` : ''}`,
          )
          resolve({step, code: code ?? 1})
        })
      }),
  ),
)
const failed = results.filter((r) => r.code !== 0).map((r) => r.step)
if (failed.length) {
  process.stderr.write(`failed: ${failed.join(', ')}\n`)
  process.exit(1)
}
