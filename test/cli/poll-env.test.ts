// OBSCTL_TEST_POLL_MS (test-only, src/lib/poll.ts): caps the interval between two looks of every wait, never
// lengthens one, and a value that is not a whole number of milliseconds from 10 to 10000 is refused (exit 2 naming the
// variable) before the command does anything. The wait's clock is vitest's fake one: no test here waits on time.
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {EXAMPLE_ANSWERS} from '../../src/lib/config/index.js'
import {waitUntil} from '../../src/lib/platform/kube.js'
import {POLL_ENV, pollCap, pollMs} from '../../src/lib/poll.js'
import type {ObsctlError} from '../../src/lib/errors.js'
import {SshConnection} from '../../src/lib/ssh/index.js'
import {inventoryText} from '../gitops/support.js'
import {obsctl, requireBuild, tmpDir} from './helpers.js'

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllEnvs()
})

describe('OBSCTL_TEST_POLL_MS', () => {
  it('unset, each wait keeps its own interval; set, it caps them and never lengthens one', () => {
    vi.stubEnv(POLL_ENV, '')
    expect([pollMs(500), pollMs(3000)]).toEqual([500, 3000])
    vi.stubEnv(POLL_ENV, '100')
    expect([pollMs(50), pollMs(500), pollMs(3000)]).toEqual([50, 100, 100])
    vi.stubEnv(POLL_ENV, '10000')
    expect(pollMs(5000)).toBe(5000)
  })

  it('a wait looks again after the capped interval (waitUntil, 1 s of its own)', async () => {
    vi.useFakeTimers()
    const looks = async (cap: string) => {
      vi.stubEnv(POLL_ENV, cap)
      let n = 0
      const done = waitUntil('the third look', async () => (++n >= 3 ? true : 'not yet'), {timeoutMs: 60_000})
      await vi.advanceTimersByTimeAsync(250)
      const within = n
      await vi.advanceTimersByTimeAsync(2000)
      await done
      return within
    }
    // in 250 ms: one look at the start with its own 1-s interval; three (at 0, 100, 200 ms) capped at 100 ms
    expect(await looks('')).toBe(1)
    expect(await looks('100')).toBe(3)
  })

  it('an SSH connection that fails is tried again after the capped back-off, as many times (a refused loopback port)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.1.52', () => {
        const p = (s.address() as net.AddressInfo).port
        s.close(() => resolve(p))
      })
    })
    // `stopAtFirst`: Ctrl-C (the run's abort signal) as the first retry is announced, so its back-off is never waited out
    const connect = (stopAtFirst = false) => {
      const notices: string[] = []
      const stop = new AbortController()
      const done = SshConnection.connect({
        host: '127.0.1.52',
        port,
        user: 'root',
        knownHostsFile: '/nonexistent/known_hosts',
        onNotice: (l) => {
          notices.push(l)
          if (stopAtFirst) stop.abort()
        },
        signal: stop.signal,
      })
      return {
        notices,
        error: done.then(
          () => undefined,
          (e: unknown) => e as ObsctlError,
        ),
      }
    }
    // unset: the product's own back-off, 0.5 s first
    vi.stubEnv(POLL_ENV, '')
    const own = connect(true)
    expect((await own.error)?.code).toBe('INTERRUPTED')
    expect(own.notices).toHaveLength(1)
    expect(own.notices[0]).toMatch(/connection refused \(ECONNREFUSED\); retrying in 500 ms \(attempt 2\/3\)$/)
    // capped at 100 ms: 0.5 s and 1 s become 0.1 s each; still three attempts
    vi.stubEnv(POLL_ENV, '100')
    const capped = connect()
    expect((await capped.error)?.message).toMatch(/cannot connect: connection refused \(ECONNREFUSED\) \(after 3 attempts\)$/)
    expect(capped.notices.map((n) => / retrying in (\d+) ms \(attempt (\d)\/3\)$/.exec(n)?.slice(1))).toEqual([
      ['100', '2'],
      ['100', '3'],
    ])
  })

  it('a bad value is refused naming the variable (a typo must not make a test quietly slow; 0 would hammer the API servers)', () => {
    for (const v of ['0', '9', '10001', '-5', '1.5', '100ms', 'fast']) {
      expect(() => pollCap({[POLL_ENV]: v}), v).toThrow(`${POLL_ENV}=${v} is not a poll interval`)
      try {
        pollCap({[POLL_ENV]: v})
      } catch (error) {
        expect(error).toMatchObject({exitCode: 2, code: 'BAD_VALUE'})
      }
    }
    expect([pollCap({}), pollCap({[POLL_ENV]: ''}), pollCap({[POLL_ENV]: '10'}), pollCap({[POLL_ENV]: '10000'})]).toEqual([undefined, undefined, 10, 10_000])
  })

  describe('the built CLI', () => {
    let inv: string
    beforeAll(() => {
      requireBuild()
      inv = path.join(tmpDir('obsctl-poll-env-'), 'obsctl.yaml')
      writeFileSync(inv, inventoryText(EXAMPLE_ANSWERS))
    })

    it('exit 2 with a bad value, before the command runs; a good one changes nothing else', async () => {
      const bad = await obsctl(['config', 'validate', '-c', inv, '--json'], {env: {[POLL_ENV]: '0'}})
      expect(bad.status, bad.stderr).toBe(2)
      const e = (JSON.parse(bad.stdout) as {error: {code: string; message: string; hints: string[]}}).error
      expect(e).toMatchObject({code: 'BAD_VALUE'})
      expect(e.message).toContain(`${POLL_ENV}=0 is not a poll interval`)
      expect(e.hints.join('\n')).toContain(`unset ${POLL_ENV}`)
      const good = await obsctl(['config', 'validate', '-c', inv, '--json'], {env: {[POLL_ENV]: '100'}})
      expect(good.status, good.stdout + good.stderr).toBe(0)
      // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
      expect(good.stderr).toBe('')
      JSON.parse(good.stdout)
    })
  })
})
