/**
 * Files in `.obsctl/` that obsctl rewrites — the run journal (state.json), the validation record (validation.json),
 * the certificate record (certs.json) — keep the keys this version does not know, as a newer obsctl may write them:
 * an older version's zod schema stripped unknown keys, so saving the journal dropped a newer field (as `phaseRuns`
 * would have been dropped by a version before it). Each file is written as a newer obsctl could leave it, rewritten by
 * this version (in-process, and the journal by the built CLI's `state reset`), and read back: the unknown keys are
 * there, the file still 0600. A record this version writes anew is its own (the old run's extra keys go with it).
 */
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, loadInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {StateStore, stateFileSchema} from '../../src/lib/engine/state.js'
import {recordCerts, certsRecordFile} from '../../src/lib/lifecycle/certs.js'
import {recordFile, recordVerdict} from '../../src/lib/validate/record.js'
import type {Verdict} from '../../src/lib/validate/types.js'
import {obsctl, requireBuild} from '../cli/helpers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
beforeAll(() => requireBuild())

function inventory() {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-unknown-keys-'))
  dirs.push(dir)
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS))
  mkdirSync(path.join(dir, '.obsctl'), {mode: 0o700})
  return {dir, file, stateDir: path.join(dir, '.obsctl'), state: path.join(dir, '.obsctl', 'state.json')}
}

const T0 = '2026-01-01T00:00:00.000Z'
const T1 = '2026-01-01T00:00:01.000Z'
const record = (phase: string, target: string) => ({phase, target, status: 'done', fingerprint: 'f', startedAt: T0, endedAt: T1, summary: 'ok'})
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const mode = (f: string) => statSync(f).mode & 0o777

describe('the run journal keeps keys a newer obsctl wrote', () => {
  it('at the top, in a task record, its failure and a phase run: through a put in-process and `state reset --phase` of the built CLI', async () => {
    const t = inventory()
    writeFileSync(
      t.state,
      JSON.stringify({
        version: 1,
        inventory: t.file,
        updatedAt: T0,
        futureTop: {nested: [1, 'two']},
        tasks: {
          'buckets/thanos-metrics': {
            ...record('buckets', 'thanos-metrics'),
            status: 'failed',
            failure: {message: 'm', exitCode: 1, hints: [], futureFailureKey: true},
            futureRecordKey: 'kept',
          },
          'nodes/cluster-01/192.168.101.194': {...record('nodes', 'cluster-01/192.168.101.194'), futureRecordKey: 'kept too'},
          'render/gitops': {...record('render', 'gitops'), futureRecordKey: 'of the old run'},
        },
        phaseRuns: {buckets: {runId: 'r1', status: 'failed', startedAt: T0, endedAt: T1, futurePhaseRunKey: 3}},
      }),
      {mode: 0o600},
    )

    // this version writes one record anew (render ran again) and saves the file
    const store = StateStore.load(t.stateDir, t.file)
    store.put({phase: 'render', target: 'gitops', status: 'done', fingerprint: 'g', startedAt: T1, endedAt: T1})
    let saved = readJson(t.state)
    expect(saved.futureTop).toEqual({nested: [1, 'two']})
    expect(saved.tasks['buckets/thanos-metrics']).toMatchObject({futureRecordKey: 'kept', failure: {futureFailureKey: true}})
    expect(saved.tasks['nodes/cluster-01/192.168.101.194'].futureRecordKey).toBe('kept too')
    expect(saved.phaseRuns.buckets.futurePhaseRunKey).toBe(3)
    // the record written anew is this version's: the old run's extra key does not describe it
    expect(saved.tasks['render/gitops']).toEqual({phase: 'render', target: 'gitops', status: 'done', fingerprint: 'g', startedAt: T1, endedAt: T1})
    expect(mode(t.state)).toBe(0o600)

    // the built CLI rewrites it too
    const r = await obsctl(['state', 'reset', '--phase', 'render', '--yes', '-c', t.file])
    expect(r.status, r.stderr).toBe(0)
    saved = readJson(t.state)
    expect(saved.tasks['render/gitops']).toBeUndefined()
    expect(saved.futureTop).toEqual({nested: [1, 'two']})
    expect(saved.tasks['buckets/thanos-metrics']).toMatchObject({futureRecordKey: 'kept', failure: {futureFailureKey: true}})
    expect(saved.tasks['nodes/cluster-01/192.168.101.194'].futureRecordKey).toBe('kept too')
    expect(saved.phaseRuns.buckets.futurePhaseRunKey).toBe(3)
    expect(mode(t.state)).toBe(0o600)
    // and reads it as this version's journal (the extra keys are no problem for state show)
    const show = await obsctl(['state', 'show', '--json', '-c', t.file])
    expect(show.status, show.stderr).toBe(0)
  })

  it("the journal's schema only checks: what it returns is what it was given (load keeps the file's JSON as parsed)", () => {
    const journal = {
      version: 1,
      inventory: '/srv/obsctl.yaml',
      updatedAt: T1,
      futureTop: {nested: [1, 'two']},
      tasks: {
        'buckets/thanos-metrics': {
          ...record('buckets', 'thanos-metrics'),
          status: 'failed',
          failure: {message: 'm', code: 'X', exitCode: 1, hints: ['h'], future: 1},
        },
        'nodes/a': {phase: 'nodes', target: 'a', status: 'pending'},
        'render/gitops': {...record('render', 'gitops'), durationMs: 3, report: {files: 2}, error: 'old form', runId: 'r1', logFile: 'l', futureRecordKey: 'x'},
      },
      phaseRuns: {
        buckets: {runId: 'r1', status: 'failed', startedAt: T0, endedAt: T1, futurePhaseRunKey: 3},
        nodes: {runId: 'r2', status: 'running', startedAt: T1},
      },
    }
    expect(stateFileSchema().parse(structuredClone(journal))).toStrictEqual(journal)
    expect(stateFileSchema().parse({version: 1, tasks: {}})).toStrictEqual({version: 1, tasks: {}})
  })
})

describe('validation.json and certs.json keep keys a newer obsctl wrote', () => {
  it('validation.json: at the top and on a check the run did not replace', async () => {
    const t = inventory()
    const inv = loadInventory(t.file)
    const check = (id: string, extra: object = {}) => ({id, component: id.split('.')[0], result: 'pass', detail: 'ok', at: T0, ...extra})
    writeFileSync(
      recordFile(inv),
      JSON.stringify({
        at: T0,
        ok: true,
        components: ['argocd'],
        summary: {pass: 2, warn: 0, fail: 0, skipped: 0},
        skipped: [],
        checks: [check('argocd.apps', {futureCheckKey: 'kept'}), check('argocd.clusters', {futureCheckKey: 'of the old run'})],
        futureTop: 'kept',
      }),
      {mode: 0o600},
    )
    const ran = {id: 'argocd.clusters', component: 'argocd', title: 'clusters', result: 'warn', detail: 'now', durationMs: 1, attempts: 1}
    await recordVerdict(inv, {
      ok: true,
      components: ['argocd'],
      summary: {pass: 0, warn: 1, fail: 0, skipped: 0},
      skipped: [],
      durationMs: 1,
      checks: [ran],
    } as Verdict)
    const saved = readJson(recordFile(inv))
    expect(saved.futureTop).toBe('kept')
    expect(saved.checks.find((c: {id: string}) => c.id === 'argocd.apps').futureCheckKey).toBe('kept')
    expect(saved.checks.find((c: {id: string}) => c.id === 'argocd.clusters')).not.toHaveProperty('futureCheckKey')
    expect(mode(recordFile(inv))).toBe(0o600)
  })

  it('certs.json: at the top and on a cluster the check did not cover', async () => {
    const t = inventory()
    const inv = loadInventory(t.file)
    writeFileSync(
      certsRecordFile(inv),
      JSON.stringify({at: T0, futureTop: [1], clusters: {'cluster-01': {status: 'ok', futureClusterKey: 'kept'}, 'cluster-02': {status: 'ok'}}}),
      {mode: 0o600},
    )
    await recordCerts(inv, [{cluster: 'cluster-02', status: 'warn', nodes: [], kubeconfig: {} as never}])
    const saved = readJson(certsRecordFile(inv))
    expect(saved.futureTop).toEqual([1])
    expect(saved.clusters['cluster-01']).toEqual({status: 'ok', futureClusterKey: 'kept'})
    expect(saved.clusters['cluster-02']).toEqual({status: 'warn'})
    expect(mode(certsRecordFile(inv))).toBe(0o600)
  })
})
