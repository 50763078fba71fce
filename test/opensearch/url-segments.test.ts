/**
 * Names obsctl puts in an OpenSearch URL path are one segment each (encodeURIComponent), but a segment that is `.` or
 * `..` is resolved away by the URL parser every HTTP client uses (WHATWG URL; `%2e` too): `--name .` made
 * `PUT _snapshot/<repository>/?wait_for_completion=false`, the repository's own settings, with the snapshot's body.
 * Such a snapshot name or index part is refused before OpenSearch is contacted (exit 2), here against the OpenSearch
 * fake, whose request log shows nothing was sent.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {badIndexPattern, createSnapshot, deleteSnapshot, restoreSnapshot, snapshotNameProblem} from '../../src/lib/opensearch/index.js'
import {writeInventory} from '../s3/harness.js'
import type {OpenSearchFake} from '../support/opensearch-fake.js'
import {DEAD, OS_PASSWORD, OS_USER, endpointsYaml} from '../validate/harness.js'
import {rejection} from '../support/errors.js'
import {platformTls, startPlatformOpenSearch} from '../support/platform-tls.js'

let fake: OpenSearchFake
let dir: string
let inv: LoadedInventory

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-os-segments-'))
  const tls = await platformTls(dir)
  fake = await startPlatformOpenSearch(tls, {user: OS_USER, password: OS_PASSWORD})
  fake.addLogs('cluster-01', 1, 60_000)
  ;({inv} = writeInventory(dir, DEAD, endpointsYaml({opensearch: fake.url})))
  Object.assign(process.env, {OBSCTL_OPENSEARCH_USER: OS_USER, OBSCTL_OPENSEARCH_PASSWORD: OS_PASSWORD, CI: '1'})
})

afterAll(async () => {
  await fake?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('. and .. as a snapshot name or an index part', () => {
  it('URL resolution is why: the path loses the segment', () => {
    expect(new URL('https://os.lab/_snapshot/obsctl-s3/.').pathname).toBe('/_snapshot/obsctl-s3/')
    expect(new URL(`https://os.lab/_snapshot/obsctl-s3/${encodeURIComponent('..')}`).pathname).toBe('/_snapshot/')
    expect(new URL('https://os.lab/_snapshot/obsctl-s3/%2e').pathname).toBe('/_snapshot/obsctl-s3/')
  })

  it.each(['.', '..'])('snapshot name %j: refused by the name rule', (name) => expect(snapshotNameProblem(name)).toMatch(/URL path cannot carry/))
  it.each(['.', '..', 'fluent-bit-*,..', 'fluent-bit-*,-.'])('--indices %j: refused', (p) => expect(badIndexPattern(p)).toBe(true))
  it.each(['.hidden-*', 'fluent-bit-*', 'a.b'])('--indices %j: taken', (p) => expect(badIndexPattern(p)).toBe(false))

  it('snapshot --name ., restore .., delete ., --indices ..: exit 2, and OpenSearch got no request', async () => {
    const before = fake.requests.length
    for (const call of [
      () => createSnapshot(inv, {name: '.', requestTimeoutMs: 20_000}),
      () => createSnapshot(inv, {name: 'ok-name', indices: '..', requestTimeoutMs: 20_000}),
      () => restoreSnapshot(inv, {name: '..', requestTimeoutMs: 20_000}),
      () => deleteSnapshot(inv, {name: '.', requestTimeoutMs: 20_000}),
    ]) {
      const e = await rejection(call())
      expect(e.exitCode, e.message).toBe(2)
      expect(e.code).toMatch(/^BAD_(SNAPSHOT_NAME|INDICES)$/)
    }
    expect(fake.requests.slice(before)).toEqual([])
  })
})
