/**
 * contentMemo (src/lib/derived-cache.ts): results kept by their own input between runs. A run is played here
 * by a new memo over a store kept in a Map (the DerivedCache contract: get an entry's output for exactly this
 * input, set one to be written at exit); the CLI's store on disk is tested in code-cache.test.ts.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {contentMemo, DERIVED_CACHE, type DerivedCache} from '../../src/lib/derived-cache.js'

function store() {
  const files = new Map<string, {input: string; output: string}>()
  const pending: Array<() => void> = []
  const cache: DerivedCache = {
    get: (name, input) => (files.get(name)?.input === input ? files.get(name)!.output : undefined),
    set: (name, input, output) =>
      pending.push(() => {
        const out = typeof output === 'string' ? output : output()
        if (out !== undefined) files.set(name, {input, output: out})
      }),
  }
  /** the process exits: pending entries are written */
  const exit = () => pending.splice(0).forEach((write) => write())
  return {files, cache, exit}
}

/** the entry's keys and results, in the order written */
const stored = (output: string) => Object.entries(JSON.parse(output) as Record<string, string>)

afterEach(() => {
  delete (globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE]
})

describe('contentMemo', () => {
  it('a result is computed once; the next run reads it back, writes nothing when nothing was computed, and computes only new inputs', () => {
    const s = store()
    ;(globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE] = s.cache
    let computed = 0
    const work = (k: string) => () => `yaml of ${k} #${++computed}`

    const first = contentMemo('t')
    expect(first('a', work('a'))).toBe('yaml of a #1')
    expect(first('a', work('a'))).toBe('yaml of a #1')
    expect(first('b', work('b'))).toBe('yaml of b #2')
    s.exit()
    const written = s.files.get('t')!.output

    const second = contentMemo('t')
    expect(second('a', work('a'))).toBe('yaml of a #1')
    expect(second('b', work('b'))).toBe('yaml of b #2')
    s.exit()
    expect(computed).toBe(2)
    expect(s.files.get('t')!.output).toBe(written)

    const third = contentMemo('t')
    expect(third('c', work('c'))).toBe('yaml of c #3')
    s.exit()
    // the earlier keys are kept beside the new one (an inventory edited back and forth)
    expect(new Map(stored(s.files.get('t')!.output))).toEqual(
      new Map([
        ['c', 'yaml of c #3'],
        ['a', 'yaml of a #1'],
        ['b', 'yaml of b #2'],
      ]),
    )
  })

  it('the entry keeps the keys of this run and earlier ones up to twice their number (at least 1,024): it does not grow without end', () => {
    const s = store()
    ;(globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE] = s.cache
    for (let run = 0; run < 5; run++) {
      const memo = contentMemo('t')
      // each run: 1,000 inputs, all new (a value every cluster's text reads was edited)
      for (let i = 0; i < 1000; i++) memo(`${run}/${i}`, () => `out ${run}/${i}`)
      s.exit()
    }
    const kept = stored(s.files.get('t')!.output)
    expect(kept.length).toBe(2000)
    // this run's first, then the newest of the earlier ones
    expect(kept.slice(0, 1000).every(([k]) => k.startsWith('4/'))).toBe(true)
    expect(kept.slice(1000).every(([k]) => k.startsWith('3/'))).toBe(true)
  })

  it('without the cache (OBSCTL_CODE_CACHE=0, tests of dist/lib) results are kept for the process only', () => {
    let computed = 0
    const memo = contentMemo('t')
    memo('a', () => String(++computed))
    memo('a', () => String(++computed))
    expect(computed).toBe(1)
    expect(contentMemo('t')('a', () => String(++computed))).toBe('2')
  })
})
