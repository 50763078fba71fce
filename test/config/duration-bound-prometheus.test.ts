/**
 * The longest duration obsctl lets into the inventory (src/lib/config/units.ts durationRangeError: 64-bit nanoseconds,
 * read from prometheus/common's ParseDuration) put to the real Prometheus (the Debian package, a test peer): its
 * `--storage.tsdb.retention.time` takes the last nanosecond obsctl accepts and refuses the next one, "duration out of
 * range", exit 2 at start — the stop obsctl's bound spares a user.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {durationRangeError} from '../../src/lib/config/units.js'
import {which} from '../support/peers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-duration-bound-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Prometheus started with RETENTION: 'refused' (its flag parser's message) or 'started' (it got past its flags). */
function prometheusWith(retention: string): Promise<{verdict: 'refused' | 'started'; output: string}> {
  const config = path.join(dir, 'prometheus.yml')
  writeFileSync(config, 'global: {}\n')
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, retention)}`,
      '--web.listen-address=127.0.0.1:0',
      `--storage.tsdb.retention.time=${retention}`,
    ],
    {stdio: ['ignore', 'pipe', 'pipe']},
  )
  let output = ''
  return new Promise((resolve) => {
    const seen = (d: Buffer) => {
      output += String(d)
      // the first line a Prometheus that parsed its flags writes
      if (output.includes('Starting Prometheus')) {
        child.kill('SIGKILL')
        resolve({verdict: 'started', output})
      }
    }
    child.stdout.on('data', seen)
    child.stderr.on('data', seen)
    child.on('close', () => resolve({verdict: 'refused', output}))
  })
}

describe.runIf(which('prometheus'))('the duration bound, against the real Prometheus', () => {
  it.each([
    ['106751d23h47m16s854ms', 'started'],
    ['106751d23h47m16s855ms', 'refused'],
    ['106752d', 'refused'],
  ] as const)('retention %s: obsctl and Prometheus agree (%s)', async (retention, expected) => {
    expect(durationRangeError(retention) === undefined ? 'started' : 'refused').toBe(expected)
    const r = await prometheusWith(retention)
    expect(r.verdict, r.output).toBe(expected)
    if (expected === 'refused') expect(r.output).toContain('duration out of range')
  })
})
