/**
 * `obsctl opensearch snapshot list|restore|delete` against the OpenSearch fake. The fake keeps the shapes of
 * OpenSearch 2.x's snapshot API as documented (checked with the search tool against docs.opensearch.org: Get
 * Snapshot, Delete Snapshot, Restore Snapshot — rename_pattern/rename_replacement, "if open indexes with the
 * same name … already exist you must close, delete, or rename them" — Close Index; and the
 * snapshot_restore_exception text of OpenSearch's RestoreService): see test/support/opensearch-fake.ts.
 * Outcomes asserted: what the fake holds after each command (snapshots, indices and their documents, closed
 * indices, the restore request as sent), exit codes and messages of the built binary.
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {
  createSnapshot,
  deleteSnapshot,
  formatDelete,
  formatRestore,
  listSnapshots,
  matchesPattern,
  renamedIndex,
  restoreSnapshot,
  type RestoreOptions,
} from '../../src/lib/opensearch/index.js'
import {SNAPSHOT_REPOSITORY} from '../../src/lib/platform/catalogue.js'
import {BIN, requireBuild} from '../cli/helpers.js'
import {writeInventory} from '../s3/harness.js'
import type {OpenSearchFake} from '../support/opensearch-fake.js'
import {CLUSTERS, DEAD, OS_PASSWORD, OS_USER, endpointsYaml} from '../validate/harness.js'
import {rejection} from '../support/errors.js'
import {platformTls, startPlatformOpenSearch} from '../support/platform-tls.js'

let fake: OpenSearchFake
let dir: string
let file: string
let inv: LoadedInventory
const creds = {OBSCTL_OPENSEARCH_USER: OS_USER, OBSCTL_OPENSEARCH_PASSWORD: OS_PASSWORD}
const access = {requestTimeoutMs: 20_000}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-snapops-'))
  // https from the platform CA beside the inventory (obsctl sends OpenSearch credentials over verified https only)
  const tls = await platformTls(dir)
  fake = await startPlatformOpenSearch(tls, {user: OS_USER, password: OS_PASSWORD})
  ;({file, inv} = writeInventory(dir, DEAD, endpointsYaml({opensearch: fake.url})))
  Object.assign(process.env, creds, {CI: '1'})
})

afterAll(async () => {
  await fake?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** a fresh world per test: indices with documents, one snapshot of them all (SUCCESS) */
beforeEach(async () => {
  fake.docs = []
  fake.snapshots = {}
  fake.closed.clear()
  fake.restoreRequests = []
  for (const c of CLUSTERS) fake.addLogs(c, 3, 60_000)
  await createSnapshot(inv, {...access, name: 'base', wait: true, pollMs: 20})
})

const idx = (cluster: string) => fake.docs.find((d) => d.index.startsWith(`fluent-bit-${cluster}-`))!.index
const count = (index: string) => fake.docs.filter((d) => d.index === index).length
const restore = (o: Partial<RestoreOptions> = {}) => restoreSnapshot(inv, {...access, name: 'base', ...o})

describe('patterns and renames', () => {
  it('index patterns: commas, wildcards, exclusions in order', () => {
    expect(matchesPattern('fluent-bit-*', 'fluent-bit-cluster-01-2026.01.01')).toBe(true)
    expect(matchesPattern('fluent-bit-*,-fluent-bit-cluster-01-*', 'fluent-bit-cluster-01-2026.01.01')).toBe(false)
    expect(matchesPattern('a,b', 'b')).toBe(true)
    expect(matchesPattern('a*', 'ba')).toBe(false)
  })

  it('renames every match with $N groups, as OpenSearch (Matcher.replaceAll) does', () => {
    expect(renamedIndex('fluent-bit-x', /(.+)/, 'restored-$1')).toBe('restored-fluent-bit-x')
    expect(renamedIndex('fluent-bit-x', /fluent-bit-/, 'old-')).toBe('old-x')
    expect(renamedIndex('fluent-bit-x', undefined, undefined)).toBe('fluent-bit-x')
  })
})

describe('list', () => {
  it('lists every snapshot of s3-snapshots with its state and indices', async () => {
    fake.nextSnapshot = {polls: 1000}
    await createSnapshot(inv, {...access, name: 'running'})
    const r = await listSnapshots(inv, access)
    expect(r.repository).toBe('s3-snapshots')
    expect(r.snapshots.map((s) => [s.name, s.state])).toEqual([
      ['base', 'SUCCESS'],
      ['running', 'IN_PROGRESS'],
    ])
    expect(r.snapshots[0]!.indices).toHaveLength(CLUSTERS.length)
    expect(r.snapshots[0]!.shards).toEqual({total: CLUSTERS.length, successful: CLUSTERS.length, failed: 0})
    expect(fake.requests.some((q) => q.method === 'GET' && q.path === '/_snapshot/s3-snapshots/_all')).toBe(true)
  })
})

describe('restore', () => {
  it('refuses to overwrite open indices: exit 2 naming --rename-pattern and --close, nothing sent that changes the cluster', async () => {
    const before = fake.requests.length
    const e = await rejection(restore())
    expect(e).toMatchObject({exitCode: 2, code: 'RESTORE_WOULD_OVERWRITE'})
    expect(e.message).toMatch(new RegExp(`^restoring snapshot base would overwrite ${CLUSTERS.length} open indices: fluent-bit-cluster-01-`))
    expect(e.hints.join('\n')).toMatch(/--rename-pattern REGEX --rename-replacement TEXT/)
    expect(e.hints.join('\n')).toMatch(/--close/)
    expect(fake.restoreRequests).toHaveLength(0)
    expect(fake.closed.size).toBe(0)
    expect(fake.requests.slice(before).every((q) => q.method === 'GET')).toBe(true)
  })

  it('--rename-pattern/--rename-replacement: restored beside the originals, with the snapshot’s documents', async () => {
    const original = idx('cluster-02')
    fake.addLogs('cluster-02', 5, 60_000) // written after the snapshot
    const r = await restore({indices: 'fluent-bit-cluster-02-*', renamePattern: '(.+)', renameReplacement: 'restored-$1'})
    expect(r).toMatchObject({ok: true, dryRun: false, closed: [], shards: {total: 1, successful: 1, failed: 0}, restoredIndices: [`restored-${original}`]})
    expect(r.indices).toEqual([{from: original, to: `restored-${original}`, existing: 'none'}])
    expect(count(`restored-${original}`)).toBe(3) // the snapshot's documents
    expect(count(original)).toBe(8) // the live index untouched
    expect(fake.restoreRequests[0]!.body).toEqual({
      indices: original,
      include_global_state: false,
      include_aliases: false,
      ignore_unavailable: false,
      rename_pattern: '(.+)',
      rename_replacement: 'restored-$1',
    })
  })

  it('a shard OpenSearch could not restore: not ok, the index missing from what was restored', async () => {
    const original = idx('cluster-04')
    fake.failRestoreOf.add(`again-${original}`)
    try {
      const r = await restore({indices: original, renamePattern: '(.+)', renameReplacement: 'again-$1'})
      expect(r).toMatchObject({ok: false, shards: {total: 1, successful: 0, failed: 1}, restoredIndices: []})
    } finally {
      fake.failRestoreOf.clear()
    }
  })

  it('--close: closes the open index first; the restore brings back the snapshot’s data and reopens it', async () => {
    const original = idx('cluster-03')
    fake.addLogs('cluster-03', 4, 60_000)
    expect(count(original)).toBe(7)
    const r = await restore({indices: original, close: true})
    expect(r).toMatchObject({ok: true, closed: [original], restoredIndices: [original]})
    expect(r.indices).toEqual([{from: original, to: original, existing: 'open'}])
    expect(fake.requests.some((q) => q.method === 'POST' && q.path === `/${original}/_close`)).toBe(true)
    expect(count(original)).toBe(3)
    expect(fake.closed.has(original)).toBe(false)
  })

  it('a closed index is replaced without --close', async () => {
    const original = idx('cluster-01')
    fake.closed.add(original)
    const r = await restore({indices: original})
    expect(r).toMatchObject({ok: true, closed: [], indices: [{from: original, to: original, existing: 'closed'}]})
    expect(fake.closed.has(original)).toBe(false)
  })

  it('--dry-run shows the plan (and the conflict --close would resolve) and changes nothing', async () => {
    const r = await restore({close: true, dryRun: true})
    expect(r.dryRun).toBe(true)
    expect(r.indices.every((i) => i.existing === 'open' && i.to === i.from)).toBe(true)
    expect(fake.restoreRequests).toHaveLength(0)
    expect(fake.closed.size).toBe(0)
    // the human view ends as every dry run's does
    expect(formatRestore(r).split('\n').slice(-2)).toEqual(['', 'dry run: nothing was changed'])
  })

  it('bad input: a missing snapshot, a lone --rename-pattern, a bad regex, --indices matching nothing, two indices renamed to one name (exit 2)', async () => {
    expect(await rejection(restore({name: 'nope'}))).toMatchObject({exitCode: 2, code: 'SNAPSHOT_MISSING', message: 'snapshot nope is not in s3-snapshots'})
    expect(await rejection(restore({renamePattern: '(.+)'}))).toMatchObject({exitCode: 2, code: 'BAD_RENAME'})
    expect(await rejection(restore({renamePattern: '(', renameReplacement: 'x'}))).toMatchObject({exitCode: 2, code: 'BAD_RENAME'})
    expect(await rejection(restore({indices: 'other-*'}))).toMatchObject({exitCode: 2, code: 'BAD_INDICES'})
    expect(await rejection(restore({renamePattern: '.+', renameReplacement: 'same'}))).toMatchObject({exitCode: 2, code: 'BAD_RENAME'})
    expect(fake.restoreRequests).toHaveLength(0)
  })

  it('a snapshot still running cannot be restored', async () => {
    fake.nextSnapshot = {polls: 1000}
    await createSnapshot(inv, {...access, name: 'busy'})
    const e = await rejection(restore({name: 'busy', renamePattern: '(.+)', renameReplacement: 'r-$1'}))
    expect(e).toMatchObject({code: 'SNAPSHOT_NOT_RESTORABLE', exitCode: 1})
  })

  it('OpenSearch’s own refusal (an index opened meanwhile) is reported, with how to reopen what obsctl closed', async () => {
    // the fake is asked to refuse: an index of the same name appears open between the check and the restore
    const original = idx('cluster-04')
    const orig = fake.restoreRequests.push.bind(fake.restoreRequests)
    fake.restoreRequests.push = (...x) => {
      fake.closed.delete(original)
      return orig(...x)
    }
    try {
      const e = await rejection(restore({indices: original, close: true}))
      expect(e.code).toBe('SNAPSHOT_RESTORE')
      expect(e.message).toMatch(
        /snapshot_restore_exception: .*cannot restore index \[fluent-bit-cluster-04-.*\] because an open index with same name already exists/,
      )
      expect(e.hints[0]).toMatch(new RegExp(`POST /${original}/_open`))
    } finally {
      fake.restoreRequests.push = orig
    }
  })
})

describe('delete', () => {
  it('deletes through DELETE _snapshot/<repo>/<name>; the snapshot is gone from the list', async () => {
    const dry = await deleteSnapshot(inv, {...access, name: 'base', dryRun: true})
    expect(dry).toMatchObject({dryRun: true, deleted: false, state: 'SUCCESS'})
    expect(formatDelete(dry).split('\n').slice(-2)).toEqual(['', 'dry run: nothing was changed'])
    expect(fake.snapshots[SNAPSHOT_REPOSITORY]!.base).toBeDefined()
    const r = await deleteSnapshot(inv, {...access, name: 'base'})
    expect(r).toMatchObject({dryRun: false, deleted: true, repository: 's3-snapshots', name: 'base'})
    expect(fake.snapshots[SNAPSHOT_REPOSITORY]!.base).toBeUndefined()
    expect(fake.requests.some((q) => q.method === 'DELETE' && q.path === '/_snapshot/s3-snapshots/base')).toBe(true)
    expect((await listSnapshots(inv, access)).snapshots).toEqual([])
    // the same command again (a retry after a timeout, a CI rerun): it is not there, so nothing to delete — exit 0, no DELETE sent
    const deletes = () => fake.requests.filter((q) => q.method === 'DELETE').length
    const sent = deletes()
    const dryAgain = await deleteSnapshot(inv, {...access, name: 'base', dryRun: true})
    expect(dryAgain).toMatchObject({dryRun: true, deleted: false, absent: true})
    const again = await deleteSnapshot(inv, {...access, name: 'base'})
    expect(again).toMatchObject({dryRun: false, deleted: false, absent: true, repository: 's3-snapshots', name: 'base', indices: []})
    expect(formatDelete(again)).toBe('snapshot base is not in s3-snapshots: nothing to delete (obsctl opensearch snapshot list shows the snapshots there)')
    expect(deletes()).toBe(sent)
  })
})

describe('obsctl opensearch snapshot list|restore|delete (built binary)', () => {
  beforeAll(() => requireBuild())

  function run(args: string[]): Promise<{status: number; stdout: string; stderr: string}> {
    const all: Record<string, string | undefined> = {...process.env, CI: '1', NO_COLOR: '1', OBSCTL_CONFIG: undefined, ...creds}
    for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k]
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, 'opensearch', 'snapshot', ...args, '-c', file],
        {env: all as NodeJS.ProcessEnv, timeout: 60_000},
        (err, stdout, stderr) => resolve({status: err ? ((err as {code?: number}).code ?? 1) : 0, stdout, stderr}),
      )
    })
  }

  it('list --json: an object with the snapshots', async () => {
    const r = await run(['list', '--json'])
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {repository: string; snapshots: {name: string; state: string}[]}
    expect(out).toMatchObject({repository: 's3-snapshots', snapshots: [{name: 'base', state: 'SUCCESS'}]})
  })

  it('restore over open indices: exit 2 naming the flags; with a rename: exit 0 and the indices are there', async () => {
    const refused = await run(['restore', 'base'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/would overwrite \d open indices/)
    expect(refused.stderr).toMatch(/--rename-pattern/)
    expect(refused.stderr).toMatch(/--close/)
    const ok = await run([
      'restore',
      'base',
      '--indices',
      'fluent-bit-cluster-01-*',
      '--rename-pattern',
      'fluent-bit-',
      '--rename-replacement',
      'restored-',
      '--json',
    ])
    expect(ok.status, ok.stderr).toBe(0)
    const out = JSON.parse(ok.stdout) as {restoredIndices: string[]}
    expect(out.restoredIndices).toEqual([idx('cluster-01').replace('fluent-bit-', 'restored-')])
    expect(count(out.restoredIndices[0]!)).toBe(3)
  })

  it('delete: gone from OpenSearch; run again, it is not there: nothing to delete (exit 0)', async () => {
    const r = await run(['delete', 'base'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^✔ deleted snapshot base/)
    expect(fake.snapshots[SNAPSHOT_REPOSITORY]!.base).toBeUndefined()
    const again = await run(['delete', 'base'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toBe('snapshot base is not in s3-snapshots: nothing to delete (obsctl opensearch snapshot list shows the snapshots there)\n')
    const json = await run(['delete', 'base', '--json'])
    expect(json.status).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({deleted: false, absent: true, name: 'base'})
  })

  it('the create command still works beside its subcommands', async () => {
    const r = await run(['--name', 'still-works', '--wait', '--json'])
    expect(r.status, r.stderr).toBe(0)
    expect(fake.snapshots[SNAPSHOT_REPOSITORY]!['still-works']).toBeDefined()
  })
})
