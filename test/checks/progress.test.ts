/**
 * The one progress line of every wait (src/lib/progress.ts): elapsed of the limit and the names still
 * pending; repeated only on change or heartbeat. Then the waits that use it: validate --wait's check
 * runner and kube waitUntil (the Argo CD sync wait is in test/argocd/rootapp-sync.test.ts).
 */
import {describe, expect, it} from 'vitest'
import {formatDuration, waitLine, waitReporter} from '../../src/lib/progress.js'
import {fail, pass, runChecks, type CheckDef} from '../../src/lib/checks/index.js'
import {waitUntil} from '../../src/lib/platform/kube.js'

describe('the progress line', () => {
  it('durations as people read them', () => {
    expect([0, 999, 40_000, 72_000, 600_000, 3_900_000, 7_200_000].map(formatDuration)).toEqual(['0s', '0s', '40s', '1m12s', '10m', '1h5m', '2h'])
  })

  it('state · elapsed of limit · waiting for: names (a long list cut)', () => {
    expect(waitLine({state: '4/6 Synced and Healthy', elapsedMs: 72_000, timeoutMs: 600_000, pending: ['thanos-edge-1', 'opensearch']})).toBe(
      '4/6 Synced and Healthy · 1m12s of 10m · waiting for: thanos-edge-1, opensearch',
    )
    expect(waitLine({state: 'x', elapsedMs: 0, timeoutMs: 1000})).toBe('x · 0s of 1s')
    expect(waitLine({state: 'x', elapsedMs: 0, timeoutMs: 1000, pending: ['a', 'b', 'c'], maxNames: 2})).toBe('x · 0s of 1s · waiting for: a, b and 1 more')
  })

  it('a reporter passes a line on when the state changes, else once per heartbeat', () => {
    let now = 1000
    const lines: string[] = []
    const r = waitReporter((l) => lines.push(l), {timeoutMs: 60_000, heartbeatMs: 10_000, now: () => now})
    r({state: '0/2 ready', pending: ['a', 'b']})
    now += 2000
    r({state: '0/2 ready', pending: ['a', 'b']})
    now += 2000
    r({state: '1/2 ready', pending: ['b']})
    now += 11_000
    r({state: '1/2 ready', pending: ['b']})
    expect(lines).toEqual(['0/2 ready · 0s of 1m · waiting for: a, b', '1/2 ready · 4s of 1m · waiting for: b', '1/2 ready · 15s of 1m · waiting for: b'])
  })
})

describe('a burst of changes', () => {
  it('minGapMs: one line for changes closer than the gap, the next once it has passed', () => {
    let now = 0
    const lines: string[] = []
    const r = waitReporter((l) => lines.push(l), {timeoutMs: 60_000, minGapMs: 1000, now: () => now})
    for (let i = 1; i <= 10; i++) {
      r({state: `0/10 pass`, pending: Array.from({length: i}, (_, k) => `c${k}`)})
      now += 50
    }
    expect(lines).toHaveLength(1)
    now = 1000
    r({state: '1/10 pass', pending: ['c1']})
    expect(lines).toHaveLength(2)
    expect(lines[1]).toBe('1/10 pass · 1s of 1m · waiting for: c1')
  })

  it('validate --wait: twelve checks failing at once make at most a line a second, not one per new failure', async () => {
    const defs: CheckDef<object>[] = Array.from({length: 12}, (_, i) => ({id: `c.${i}`, title: `c${i}`, run: async () => fail('down')}))
    const lines: string[] = []
    const started = Date.now()
    await runChecks(defs, {}, {wait: true, waitTimeoutMs: 1500, intervalMs: 10, onWaiting: (l) => lines.push(l)})
    const seconds = Math.ceil((Date.now() - started) / 1000)
    expect(lines.length).toBeGreaterThanOrEqual(1)
    // one line at the start, then at most one per second that passed
    expect(lines.length).toBeLessThanOrEqual(seconds + 1)
  })
})

describe('waits that report it', () => {
  it('validate --wait (the check runner): which checks still fail, how long of how long', async () => {
    let tries = 0
    const defs: CheckDef<object>[] = [
      {id: 'a.ok', title: 'a', run: async () => pass('fine')},
      {id: 'b.slow', title: 'b', run: async () => (++tries >= 3 ? pass('now fine') : fail('not yet'))},
    ]
    const lines: string[] = []
    const out = await runChecks(defs, {}, {wait: true, waitTimeoutMs: 60_000, intervalMs: 10, onWaiting: (l) => lines.push(l), heartbeatMs: 0})
    expect(out.map((o) => o.status)).toEqual(['pass', 'pass'])
    expect(lines.length).toBeGreaterThanOrEqual(1)
    for (const l of lines) expect(l).toMatch(/^[01]\/2 checks pass · \d+s of 1m · waiting for: b\.slow$/)
  })

  it('no wait: no progress line', async () => {
    const lines: string[] = []
    await runChecks([{id: 'x', title: 'x', run: async () => fail('no')}], {}, {onWaiting: (l) => lines.push(l)})
    expect(lines).toEqual([])
  })

  it('no wait, onRunning (plain validate on a terminal): which checks still run, on a ticker, until they are done', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const defs: CheckDef<object>[] = [
      {id: 'a.fast', title: 'a', run: async () => pass('fine')},
      {
        id: 'b.slow',
        title: 'b',
        run: async () => {
          await gate
          return pass('fine too')
        },
      },
    ]
    const lines: string[] = []
    // b.slow answers once a line has said that only it is still running
    const onRunning = (l: string) => {
      lines.push(l)
      if (!l.includes('a.fast')) release()
    }
    const out = await runChecks(defs, {}, {timeoutMs: 60_000, tickMs: 10, heartbeatMs: 0, onRunning})
    expect(out.map((o) => o.status)).toEqual(['pass', 'pass'])
    for (const l of lines) expect(l).toMatch(/^[01]\/2 checks done · \d+s of 1m · waiting for: (a\.fast, )?b\.slow$/)
    expect(lines.at(-1)).toMatch(/^1\/2 checks done · \d+s of 1m · waiting for: b\.slow$/)
  })

  it('kube waitUntil: a state and the pending names, elapsed and limit; the timeout names them', async () => {
    const lines: string[] = []
    const err = await waitUntil('the CRDs', async () => ({state: '1/3 CRDs Established', pending: ['b.example', 'c.example']}), {
      timeoutMs: 300,
      intervalMs: 50,
      onProgress: (l) => lines.push(l),
    }).catch((e) => e)
    expect(lines[0]).toBe('1/3 CRDs Established · 0s of 0s · waiting for: b.example, c.example')
    expect(err).toMatchObject({code: 'TIMEOUT'})
    expect(err.message).toBe('timed out after 0s waiting for the CRDs: 1/3 CRDs Established; waiting for b.example, c.example')
  })
})
