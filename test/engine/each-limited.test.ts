/**
 * eachLimited (src/lib/async.ts): the one bounded pool — the engine's tasks off a terminal, the check runner, Argo CD's
 * manifests. Driven by promises the test settles itself, never by timers.
 */
import {describe, expect, it} from 'vitest'
import {eachLimited} from '../../src/lib/async.js'

/** A pool's calls as they start, each settled by the test: `started` in order, `settle(i)` / `fail(i)` one of them. */
function controlled() {
  const started: number[] = []
  const pending = new Map<number, {resolve(): void; reject(e: Error): void}>()
  const fn = (_: string, i: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(i)
      pending.set(i, {resolve, reject})
    })
  const turn = () => new Promise((r) => setImmediate(r))
  return {
    started,
    fn,
    settle: async (i: number) => (pending.get(i)!.resolve(), turn()),
    fail: async (i: number, e: Error) => (pending.get(i)!.reject(e), turn()),
  }
}

describe('eachLimited', () => {
  it('starts at most `width` at once, in the items’ order, the next as one settles', async () => {
    const c = controlled()
    let done = false
    const all = eachLimited(['a', 'b', 'c', 'd', 'e'], 2, c.fn).then(() => (done = true))
    expect(c.started).toEqual([0, 1])
    await c.settle(1)
    expect(c.started).toEqual([0, 1, 2])
    await c.settle(0)
    await c.settle(2)
    expect(c.started).toEqual([0, 1, 2, 3, 4])
    await c.settle(3)
    expect(done).toBe(false)
    await c.settle(4)
    await all
    expect(done).toBe(true)
  })

  it('all at once when the width is unset or 0; nothing to do settles at once', async () => {
    for (const width of [undefined, 0]) {
      const c = controlled()
      const all = eachLimited(['a', 'b', 'c'], width, c.fn)
      expect(c.started).toEqual([0, 1, 2])
      for (const i of [2, 0, 1]) await c.settle(i)
      await all
    }
    let called = false
    await eachLimited([], 3, async () => void (called = true))
    expect(called).toBe(false)
  })

  it('after a rejection starts no other item, waits for those running, then rejects with the first rejection', async () => {
    const c = controlled()
    let outcome: unknown
    const all = eachLimited(['a', 'b', 'c', 'd'], 2, c.fn).catch((e: unknown) => (outcome = e))
    await c.fail(0, new Error('first'))
    expect(c.started).toEqual([0, 1])
    // item 1 still runs: nothing settled yet
    expect(outcome).toBeUndefined()
    await c.fail(1, new Error('second'))
    await all
    expect((outcome as Error).message).toBe('first')
    expect(c.started).toEqual([0, 1])
  })
})
