/**
 * `obsctl opensearch snapshot` against the OpenSearch fake (documented _snapshot responses, basic auth):
 * the create request, following a snapshot to SUCCESS / FAILED / PARTIAL / --timeout, the repository
 * and name errors, credentials, and the built binary's --json output and exit codes. The index pattern is
 * checked against the live indices first (GET _cat/indices/<pattern> as OpenSearch 2.x's RestIndicesAction
 * answers it: strictExpand, a missing concrete name 404, a wildcard matching nothing no row).
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {
  createSnapshot,
  defaultSnapshotName,
  formatSnapshot,
  snapshotNameProblem,
  type SnapshotOptions,
  type SnapshotResult,
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

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-snapshot-'))
  // https from the platform CA beside the inventory (obsctl sends OpenSearch credentials over verified https only)
  const tls = await platformTls(dir)
  fake = await startPlatformOpenSearch(tls, {user: OS_USER, password: OS_PASSWORD})
  for (const c of CLUSTERS) fake.addLogs(c, 3, 60_000)
  fake.addLogs('cluster-01', 1, 3 * 86_400_000) // an older daily index as well
  ;({file, inv} = writeInventory(dir, DEAD, endpointsYaml({opensearch: fake.url})))
  Object.assign(process.env, creds, {CI: '1'})
})

afterAll(async () => {
  await fake?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

beforeEach(() => {
  fake.nextSnapshot = {}
})

const snap = (o: SnapshotOptions = {}) => createSnapshot(inv, {requestTimeoutMs: 20_000, pollMs: 20, ...o})
const inFake = (name: string) => fake.snapshots[SNAPSHOT_REPOSITORY]?.[name]

describe('names', () => {
  it('defaults to obsctl-<UTC yyyymmdd-hhmmss>', () => {
    expect(defaultSnapshotName(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)))).toBe('obsctl-20250102-030405')
  })

  it('knows what OpenSearch refuses', () => {
    expect(snapshotNameProblem('before-upgrade.2')).toBeUndefined()
    expect(snapshotNameProblem('a_b')).toBeUndefined()
    for (const bad of ['', 'Upper', '_x', '-x', 'a b', 'a\tb', 'a\\b', 'a/b', 'a*b', 'a?b', 'a"b', 'a<b', 'a>b', 'a|b', 'a,b', 'a#b']) {
      expect(snapshotNameProblem(bad), bad).toBeTypeOf('string')
    }
  })
})

describe('opensearch snapshot (lib against the OpenSearch fake)', () => {
  it('starts a snapshot of fluent-bit-* without the global state, and says how to follow it', async () => {
    fake.nextSnapshot = {polls: 3}
    const r = await snap({now: () => new Date(Date.UTC(2025, 5, 30, 23, 59, 1))})
    expect(r).toMatchObject({
      ok: true,
      repository: 's3-snapshots',
      name: 'obsctl-20250630-235901',
      indices: 'fluent-bit-*',
      state: 'IN_PROGRESS',
      waited: false,
      timedOut: false,
    })
    const s = inFake('obsctl-20250630-235901')!
    expect(s.request).toEqual({indices: 'fluent-bit-*', ignore_unavailable: true, include_global_state: false})
    expect(s.indices).toHaveLength(5)
    expect(s.indices.every((i) => i.startsWith('fluent-bit-cluster-0'))).toBe(true)
    // wait_for_completion=false: the snapshot still runs (one GET of three used up by obsctl)
    expect(s.pollsLeft).toBe(2)
    expect(r.snapshotIndices).toEqual(s.indices)
    expect(r.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(r.follow).toBe(`GET ${fake.url}/_snapshot/s3-snapshots/obsctl-20250630-235901`)
    expect(formatSnapshot(r)).toMatch(
      /^✔ snapshot obsctl-20250630-235901 of fluent-bit-\* in s3-snapshots: started \(IN_PROGRESS since .*\)\n {2}→ follow it: GET https:\/\/127\.0\.0\.1:\d+\/_snapshot\/s3-snapshots\/obsctl-20250630-235901/,
    )
  })

  it('--wait follows it to SUCCESS, with progress lines', async () => {
    fake.nextSnapshot = {polls: 3}
    const lines: string[] = []
    const r = await snap({name: 'wait-ok', indices: 'fluent-bit-cluster-02-*', wait: true, onProgress: (l) => lines.push(l)})
    expect(r).toMatchObject({ok: true, state: 'SUCCESS', waited: true, timedOut: false, failures: []})
    expect(r.snapshotIndices).toEqual([expect.stringMatching(/^fluent-bit-cluster-02-\d{4}\.\d\d\.\d\d$/)])
    expect(r.shards).toEqual({total: 1, successful: 1, failed: 0})
    expect(Date.parse(r.endedAt!)).toBeGreaterThan(Date.parse(r.startedAt!))
    expect(inFake('wait-ok')!.request.indices).toBe('fluent-bit-cluster-02-*')
    expect(lines[0]).toMatch(/waiting for snapshot wait-ok in s3-snapshots \(up to 600s/)
    expect(lines.some((l) => /wait-ok: IN_PROGRESS/.test(l))).toBe(true)
    expect(formatSnapshot(r)).toMatch(/^✔ snapshot wait-ok of fluent-bit-cluster-02-\* in s3-snapshots: SUCCESS, 1\/1 shards, 1 index in \d+\.\ds$/)
  })

  it('--wait on a FAILED snapshot: not ok, with the shard failures’ reasons', async () => {
    fake.nextSnapshot = {polls: 1, state: 'FAILED', reason: 'IOException[Unable to upload object [indices/x/0/__abc] using a single upload]'}
    const r = await snap({name: 'wait-failed', wait: true})
    expect(r.ok).toBe(false)
    expect(r.state).toBe('FAILED')
    expect(r.shards).toEqual({total: 5, successful: 0, failed: 5})
    expect(r.failures).toHaveLength(5)
    expect(r.failures[0]).toEqual({
      index: expect.stringMatching(/^fluent-bit-/),
      shard: 0,
      node: 'node3id',
      reason: 'IOException[Unable to upload object [indices/x/0/__abc] using a single upload]',
    })
    expect(r.reason).toMatch(/^Indices don't have primary shards/)
    const text = formatSnapshot(r)
    expect(text.split('\n')[0]).toMatch(/^✖ snapshot wait-failed of fluent-bit-\* in s3-snapshots: FAILED, 0\/5 shards \(5 failed\), 5 indices/)
    expect(text).toContain('  ✖ fluent-bit-cluster-01-')
    expect(text).toContain('Unable to upload object')
  })

  it('--wait on a PARTIAL snapshot: not ok, naming the failed shard', async () => {
    fake.nextSnapshot = {state: 'PARTIAL', reason: 'NodeDisconnectedException[opensearch-data-2]'}
    const r = await snap({name: 'wait-partial', wait: true})
    expect(r).toMatchObject({ok: false, state: 'PARTIAL', shards: {total: 5, successful: 4, failed: 1}})
    expect(r.failures.map((f) => f.reason)).toEqual(['NodeDisconnectedException[opensearch-data-2]'])
  })

  it('--timeout: not ok, and the snapshot keeps running in OpenSearch', async () => {
    fake.nextSnapshot = {polls: 10_000}
    const r = await snap({name: 'wait-timeout', wait: true, timeoutMs: 2000})
    expect(r).toMatchObject({ok: false, state: 'IN_PROGRESS', waited: true, timedOut: true})
    expect(inFake('wait-timeout')!.gets).toBeGreaterThan(2)
    expect(formatSnapshot(r)).toMatch(
      /still IN_PROGRESS when --timeout passed; it keeps running in OpenSearch\n {2}→ follow it: GET .*\/_snapshot\/s3-snapshots\/wait-timeout$/,
    )
  })

  it('the same command again (a retry): that snapshot is reported and followed, no second one; other indices under the name are exit 2', async () => {
    fake.nextSnapshot = {polls: 2}
    const first = await snap({name: 'twice', indices: 'fluent-bit-cluster-02-*'})
    expect(first).toMatchObject({ok: true, state: 'IN_PROGRESS'})
    expect(first.existing).toBeUndefined()
    const taken = inFake('twice')!
    // run again while it runs, with --wait: it follows that snapshot to the end
    const again = await snap({name: 'twice', indices: 'fluent-bit-cluster-02-*', wait: true})
    expect(again).toMatchObject({ok: true, existing: true, state: 'SUCCESS', snapshotIndices: first.snapshotIndices, startedAt: first.startedAt})
    expect(inFake('twice')).toBe(taken)
    expect(formatSnapshot(again)).toMatch(
      /^✔ snapshot twice of fluent-bit-cluster-02-\* in s3-snapshots: SUCCESS, .*; it was there already \(the same name and indices\): not taken again$/,
    )
    // and once more, done
    expect(await snap({name: 'twice', indices: 'fluent-bit-cluster-02-*'})).toMatchObject({ok: true, existing: true, state: 'SUCCESS'})
    // the name holds a snapshot of other indices than these select: another snapshot, refused
    const e = await rejection(snap({name: 'twice'}))
    expect(e).toMatchObject({code: 'SNAPSHOT_EXISTS', exitCode: 2})
    expect(e.message).toMatch(/^snapshot twice already exists in s3-snapshots, of other indices than fluent-bit-\* selects now \(fluent-bit-cluster-02-/)
    expect(e.hints[0]).toMatch(/--name NAME/)
    expect(inFake('twice')).toBe(taken)
  })

  it('a missing repository fails before creating anything, pointing at the setup Job and validate', async () => {
    const saved = fake.repositories[SNAPSHOT_REPOSITORY]!
    delete fake.repositories[SNAPSHOT_REPOSITORY]
    try {
      const e = await rejection(snap({name: 'no-repo'}))
      expect(e.code).toBe('SNAPSHOT_REPOSITORY_MISSING')
      expect(e.exitCode).toBe(1)
      expect(e.message).toBe('the snapshot repository s3-snapshots is not registered in OpenSearch (repository_missing_exception: [s3-snapshots] missing)')
      expect(e.hints.join('\n')).toMatch(
        /the OpenSearch operator registers it from the OpenSearchCluster of the rendered GitOps repo \(spec\.general\.snapshotRepositories\)/,
      )
      expect(e.hints.join('\n')).toMatch(/obsctl validate opensearch .*opensearch\.snapshots/)
    } finally {
      fake.repositories[SNAPSHOT_REPOSITORY] = saved
    }
    expect(inFake('no-repo')).toBeUndefined()
  })

  it('a bad --name or --indices exits 2 naming the flag, before any request', async () => {
    const before = fake.requests.length
    for (const name of ['Before-Upgrade', '_x', '-x', 'a b', 'a/b', 'a,b', 'a#b', 'a*']) {
      const e = await rejection(snap({name}))
      expect(e.exitCode, name).toBe(2)
      expect(e.code).toBe('BAD_SNAPSHOT_NAME')
      expect(e.message).toMatch(/^--name ".*" is not a valid snapshot name: /)
    }
    const e = await rejection(snap({indices: 'fluent-bit-* other'}))
    expect(e).toMatchObject({exitCode: 2, code: 'BAD_INDICES'})
    expect(e.message).toMatch(/^--indices/)
    expect(fake.requests.length).toBe(before)
  })

  it('a pattern that matches no index (a typo, or logs not there yet) is exit 2 naming it, and no snapshot is taken', async () => {
    const creates = () => fake.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/_snapshot/')).length
    const before = creates()
    for (const [indices, message] of [
      ['fluent-bit-cluster-99-*', '--indices fluent-bit-cluster-99-* matches no index in OpenSearch: nothing to snapshot'],
      ['fluent-bit-*,-fluent-bit-cluster-0*', '--indices fluent-bit-*,-fluent-bit-cluster-0* matches no index in OpenSearch: nothing to snapshot'],
      // a concrete name: OpenSearch's own 404 names it
      [
        'fluent-bit-cluster-02-2020.01.01',
        '--indices fluent-bit-cluster-02-2020.01.01 matches no index in OpenSearch (index_not_found_exception: no such index [fluent-bit-cluster-02-2020.01.01]): nothing to snapshot',
      ],
      // one part of a list: the snapshot would leave it out silently
      [
        'fluent-bit-cluster-02-*,fluent-bit-cluster-99-*',
        '--indices fluent-bit-cluster-02-*,fluent-bit-cluster-99-*: fluent-bit-cluster-99-* matches no index in OpenSearch; the snapshot would leave it out',
      ],
    ] as const) {
      const e = await rejection(snap({name: 'no-match', indices, wait: true}))
      expect(e, indices).toMatchObject({exitCode: 2, code: 'SNAPSHOT_NO_INDICES', message})
      expect(e.hints.join('\n')).toContain('GET _cat/indices/fluent-bit-*?v lists them')
    }
    expect(inFake('no-match')).toBeUndefined()
    expect(creates()).toBe(before)
  })

  it('exclusions are resolved as OpenSearch resolves them: what is left is snapshotted', async () => {
    const r = await snap({name: 'all-but-01', indices: 'fluent-bit-*,-fluent-bit-cluster-01-*', wait: true})
    expect(r).toMatchObject({ok: true, state: 'SUCCESS'})
    expect(r.snapshotIndices).toHaveLength(3)
    expect(r.snapshotIndices.some((i) => i.startsWith('fluent-bit-cluster-01-'))).toBe(false)
  })

  it('when it cannot check the pattern (no permission to list indices): exit 1, and no snapshot is taken', async () => {
    fake.users.snapper = {password: 'Snapper-pw-1', denied: ['indices:monitor/settings/get']}
    process.env.OBSCTL_OPENSEARCH_USER = 'snapper'
    process.env.OBSCTL_OPENSEARCH_PASSWORD = 'Snapper-pw-1'
    try {
      const e = await rejection(snap({name: 'unchecked', wait: true}))
      expect(e).toMatchObject({exitCode: 1, code: 'SNAPSHOT_INDICES_CHECK'})
      expect(e.message).toBe(
        'could not check which indices --indices fluent-bit-* matches, so no snapshot was started: HTTP 403: security_exception: no permissions for [indices:monitor/settings/get] and User [name=snapper, backend_roles=[], requestedTenant=null]',
      )
      expect(e.hints[0]).toMatch(/indices:monitor\/settings\/get/)
    } finally {
      Object.assign(process.env, creds)
      delete fake.users.snapper
    }
    expect(inFake('unchecked')).toBeUndefined()
  })

  it('a snapshot that holds no index when it is taken (the indices deleted after the check) is a failure, not SUCCESS', async () => {
    // ISM deletes the matched index between obsctl's check and the snapshot request
    const saved = fake.docs
    fake.before['snapshot-create'] = () => {
      fake.docs = saved.filter((d) => !d.index.startsWith('fluent-bit-cluster-04-'))
    }
    try {
      const r = await snap({name: 'emptied', indices: 'fluent-bit-cluster-04-*', wait: true})
      expect(inFake('emptied')!.indices).toEqual([])
      expect(r).toMatchObject({ok: false, state: 'SUCCESS', snapshotIndices: [], shards: {total: 0, successful: 0, failed: 0}})
      expect(formatSnapshot(r)).toBe(
        [
          '✖ snapshot emptied of fluent-bit-cluster-04-* in s3-snapshots: SUCCESS, but it holds no index: nothing was saved',
          '  the indices fluent-bit-cluster-04-* matched when obsctl checked them were gone when OpenSearch took it (deleted in between?)',
          '  → delete it (obsctl opensearch snapshot delete emptied) and take another',
        ].join('\n'),
      )
    } finally {
      delete fake.before['snapshot-create']
      fake.docs = saved
    }
  })

  it('without credentials and without a terminal: exit 2 naming the env vars', async () => {
    delete process.env.OBSCTL_OPENSEARCH_USER
    delete process.env.OBSCTL_OPENSEARCH_PASSWORD
    try {
      const e = await rejection(snap({name: 'no-creds'}))
      expect(e.exitCode).toBe(2)
      expect(e.message).toMatch(/\$OBSCTL_OPENSEARCH_USER and \$OBSCTL_OPENSEARCH_PASSWORD/)
      expect(e.hints[0]).toMatch(/export OBSCTL_OPENSEARCH_USER=… OBSCTL_OPENSEARCH_PASSWORD=…/)
    } finally {
      Object.assign(process.env, creds)
    }
    expect(inFake('no-creds')).toBeUndefined()
  })

  it('wrong credentials: OpenSearch’s 401 is named', async () => {
    process.env.OBSCTL_OPENSEARCH_PASSWORD = 'not-the-password'
    try {
      const e = await rejection(snap({name: 'bad-creds'}))
      expect(e.message).toBe('opensearch rejected the credentials (HTTP 401)')
    } finally {
      Object.assign(process.env, creds)
    }
  })

  it('--via-api-server: the same clear error as validate, unless --endpoint opensearch overrides it', async () => {
    const e = await rejection(snap({name: 'via-proxy', viaApiServer: true}))
    expect(e).toMatchObject({exitCode: 2, message: 'OpenSearch needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)'})
    expect(e.hints[0]).toMatch(/--endpoint opensearch=/)
    const r = await snap({name: 'via-proxy', viaApiServer: true, endpoints: {opensearch: fake.url}, wait: true})
    expect(r.state).toBe('SUCCESS')
  })
})

describe('obsctl opensearch snapshot (built binary)', () => {
  beforeAll(() => requireBuild())

  function run(args: string[], env: Record<string, string | undefined> = {}): Promise<{status: number; stdout: string; stderr: string}> {
    const all: Record<string, string | undefined> = {...process.env, CI: '1', NO_COLOR: '1', OBSCTL_CONFIG: undefined, ...creds, ...env}
    for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k]
    // async: the fake answers from this process
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, 'opensearch', 'snapshot', '-c', file, ...args],
        {env: all as NodeJS.ProcessEnv, timeout: 30_000},
        (err, stdout, stderr) => resolve({status: err ? ((err as {code?: number}).code ?? 1) : 0, stdout, stderr}),
      )
    })
  }

  it('--wait --json: the result object, exit 0 on SUCCESS', async () => {
    fake.nextSnapshot = {polls: 1}
    const r = await run(['--name', 'bin-ok', '--wait', '--json'])
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as SnapshotResult
    expect(out).toMatchObject({
      ok: true,
      repository: 's3-snapshots',
      name: 'bin-ok',
      indices: 'fluent-bit-*',
      state: 'SUCCESS',
      waited: true,
      timedOut: false,
      shards: {total: 5, successful: 5, failed: 0},
      failures: [],
    })
    expect(out.snapshotIndices).toHaveLength(5)
    expect(r.stderr).toBe('') // no progress lines under --json
    expect(inFake('bin-ok')!.request.include_global_state).toBe(false)
    // the same command again: exit 0, that snapshot, said to be there already
    const taken = inFake('bin-ok')
    const again = await run(['--name', 'bin-ok', '--wait', '--json'])
    expect(again.status, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ok: true, name: 'bin-ok', state: 'SUCCESS', existing: true, startedAt: out.startedAt})
    expect(inFake('bin-ok')).toBe(taken)
  })

  it('human output: one summary line on stdout, progress on stderr; no secret anywhere', async () => {
    fake.nextSnapshot = {polls: 1}
    const r = await run(['--name', 'bin-human', '--indices', 'fluent-bit-cluster-03-*', '--wait'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^✔ snapshot bin-human of fluent-bit-cluster-03-\* in s3-snapshots: SUCCESS, 1\/1 shards, 1 index in \d+\.\ds\n$/)
    expect(r.stderr).toMatch(/… waiting for snapshot bin-human in s3-snapshots/)
    expect(r.stdout + r.stderr).not.toContain(OS_PASSWORD)
  })

  it('FAILED: exit 1, the --json result carries the reasons', async () => {
    fake.nextSnapshot = {state: 'FAILED', reason: 'RepositoryException[[s3-snapshots] could not write]'}
    const r = await run(['--name', 'bin-failed', '--wait', '--json'])
    expect(r.status).toBe(1)
    const out = JSON.parse(r.stdout) as SnapshotResult
    expect(out).toMatchObject({ok: false, state: 'FAILED', shards: {failed: 5}})
    expect(out.failures[0]!.reason).toBe('RepositoryException[[s3-snapshots] could not write]')
  })

  it('bad input: exit 2 with the error object under --json; an existing name too', async () => {
    const bad = await run(['--name', 'Bad Name', '--json'])
    expect(bad.status).toBe(2)
    expect(JSON.parse(bad.stdout)).toMatchObject({error: {code: 'BAD_SNAPSHOT_NAME', exitCode: 2}})
    const dup = await run(['--name', 'bin-ok', '--indices', 'fluent-bit-cluster-02-*'])
    expect(dup.status).toBe(2)
    expect(dup.stderr).toMatch(
      /^Error: snapshot bin-ok already exists in s3-snapshots, of other indices than fluent-bit-cluster-02-\* selects now .*\n {2}→ --name NAME/,
    )
  })

  it('a typo in --indices: exit 2 naming the pattern, no "✔ … SUCCESS, 0 indices"; --json has the error object', async () => {
    const r = await run(['--name', 'bin-typo', '--indices', 'fluent-bit-cluster-99-*', '--wait'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^Error: --indices fluent-bit-cluster-99-\* matches no index in OpenSearch: nothing to snapshot\n/)
    const json = await run(['--name', 'bin-typo', '--indices', 'fluent-bit-cluster-99-*', '--json'])
    expect(json.status).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'SNAPSHOT_NO_INDICES', exitCode: 2}})
    expect(inFake('bin-typo')).toBeUndefined()
  })

  it('no credentials, no terminal: exit 2 naming the env vars', async () => {
    const r = await run(['--name', 'bin-nocreds'], {OBSCTL_OPENSEARCH_USER: undefined, OBSCTL_OPENSEARCH_PASSWORD: undefined})
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/OBSCTL_OPENSEARCH_USER and \$OBSCTL_OPENSEARCH_PASSWORD/)
  })
})
