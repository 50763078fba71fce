/**
 * .obsctl/validation.json merges runs: a run replaces the checks it ran and keeps the others, each with its own time;
 * a record of the old format (no time per check) still reads; what the inventory or obsctl no longer has is dropped.
 */
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {loadInventory} from '../../src/lib/config/load.js'
import {lastValidation, recordFile, recordVerdict, type ValidationRecord} from '../../src/lib/validate/record.js'
import type {CheckOutcome, Component, Verdict} from '../../src/lib/validate/types.js'
import {tmpInventory} from '../engine/helpers.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

function outcome(id: string, result: CheckOutcome['result'], clusters?: string[]): CheckOutcome {
  const component = id.split('.')[0] as Component
  return {id, component, title: id, result, detail: `${id} ${result}`, durationMs: 1, attempts: 1, ...(clusters ? {clusters} : {})}
}

function verdict(checks: CheckOutcome[], components: Component[], skipped: string[] = []): Verdict {
  const n = (r: string) => checks.filter((c) => c.result === r).length
  return {
    ok: n('fail') === 0,
    components,
    summary: {pass: n('pass'), warn: n('warn'), fail: n('fail'), skipped: skipped.length},
    checks,
    skipped,
    durationMs: 1,
  }
}

const T0 = new Date('2025-03-01T10:00:00.000Z')
const T1 = new Date('2025-03-01T12:00:00.000Z')

function fixture() {
  const t = tmpInventory()
  dirs.push(t.dir)
  return t
}

const onDisk = (inv: Parameters<typeof recordFile>[0]) => JSON.parse(readFileSync(recordFile(inv), 'utf8')) as ValidationRecord

describe('the validation record merges runs', () => {
  it('a partial run replaces the checks it ran and keeps the others, each with the time it was made', async () => {
    const {inv} = fixture()
    await recordVerdict(
      inv,
      verdict(
        [outcome('argocd.apps', 'fail'), outcome('thanos.stores', 'pass'), outcome('thanos.clusters', 'fail', ['cluster-04'])],
        ['argocd', 'thanos'],
        ['thanos.bucket'],
      ),
      T0,
    )
    await recordVerdict(inv, verdict([outcome('argocd.apps', 'pass')], ['argocd']), T1)

    const rec = lastValidation(inv)!
    expect(rec.at).toBe(T1.toISOString())
    expect(rec.checks.map((c) => [c.id, c.result, c.at])).toEqual([
      ['argocd.apps', 'pass', T1.toISOString()],
      ['thanos.stores', 'pass', T0.toISOString()],
      ['thanos.clusters', 'fail', T0.toISOString()],
    ])
    // the failed thanos check is not forgotten: the merged record fails
    expect(rec).toMatchObject({ok: false, components: ['argocd', 'thanos'], summary: {pass: 2, warn: 0, fail: 1, skipped: 1}, skipped: ['thanos.bucket']})
    // the file says the same (the e2e reads it)
    expect(onDisk(inv)).toEqual(rec)

    // a later run that measures the skipped check takes it off the skipped list
    await recordVerdict(inv, verdict([outcome('thanos.bucket', 'pass'), outcome('thanos.clusters', 'pass')], ['thanos']), T1)
    expect(lastValidation(inv)).toMatchObject({ok: true, skipped: [], summary: {pass: 4, warn: 0, fail: 0, skipped: 0}})
  })

  it('reads a record of the old format (one time for the record, none per check) as if every check was made then', async () => {
    const {inv} = fixture()
    const old = {
      at: T0.toISOString(),
      ok: false,
      components: ['thanos'],
      summary: {pass: 1, warn: 0, fail: 1, skipped: 0},
      skipped: [],
      checks: [
        {id: 'thanos.stores', component: 'thanos', result: 'pass', detail: 'ok'},
        {id: 'thanos.clusters', component: 'thanos', result: 'fail', detail: 'no metrics from cluster-04', clusters: ['cluster-04']},
      ],
    }
    mkdirSync(path.dirname(recordFile(inv)), {recursive: true})
    writeFileSync(recordFile(inv), JSON.stringify(old))
    expect(lastValidation(inv)!.checks.map((c) => [c.id, c.at])).toEqual([
      ['thanos.stores', T0.toISOString()],
      ['thanos.clusters', T0.toISOString()],
    ])
    // merged into: the old checks keep the old record's time
    await recordVerdict(inv, verdict([outcome('thanos.stores', 'warn')], ['thanos']), T1)
    expect(onDisk(inv).checks.map((c) => [c.id, c.result, c.at])).toEqual([
      ['thanos.stores', 'warn', T1.toISOString()],
      ['thanos.clusters', 'fail', T0.toISOString()],
    ])
  })

  it("drops a removed cluster's checks and checks obsctl no longer has, when read and when merged", async () => {
    const {inv, file} = fixture()
    await recordVerdict(
      inv,
      verdict(
        [
          outcome('thanos.clusters', 'fail', ['cluster-04']),
          outcome('prometheus.edges', 'fail', ['cluster-03', 'cluster-04']),
          outcome('thanos.stores', 'pass'),
        ],
        ['thanos', 'prometheus'],
      ),
      T0,
    )
    // a check id from an older obsctl, kept in the file
    const rec = onDisk(inv)
    rec.checks.push({id: 'thanos.renamed', component: 'thanos', result: 'fail', detail: 'gone', at: T0.toISOString()})
    writeFileSync(recordFile(inv), JSON.stringify(rec))

    // cluster-04 removed from the inventory
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n')
    const from = lines.findIndex((l) => l.includes('- name: cluster-04'))
    writeFileSync(file, lines.slice(0, from).join('\n') + '\n')
    const after = loadInventory(file)
    expect(after.platform.clusters.map((c) => c.name)).toEqual(['cluster-01', 'cluster-02', 'cluster-03'])

    const read = lastValidation(after)!
    expect(read.checks.map((c) => [c.id, c.result, c.clusters])).toEqual([
      ['prometheus.edges', 'fail', ['cluster-03']],
      ['thanos.stores', 'pass', undefined],
    ])
    expect(read).toMatchObject({ok: false, components: ['prometheus', 'thanos'], summary: {pass: 1, warn: 0, fail: 1, skipped: 0}})

    // the next run writes the pruned record
    await recordVerdict(after, verdict([outcome('prometheus.edges', 'pass')], ['prometheus']), T1)
    expect(onDisk(after).checks.map((c) => c.id)).toEqual(['prometheus.edges', 'thanos.stores'])
    expect(onDisk(after).ok).toBe(true)

    // a record with nothing left for the inventory is no record
    writeFileSync(
      recordFile(after),
      JSON.stringify({at: T0.toISOString(), checks: [{id: 'thanos.clusters', component: 'thanos', result: 'fail', detail: 'x', clusters: ['cluster-04']}]}),
    )
    expect(lastValidation(after)).toBeUndefined()
  })
})
