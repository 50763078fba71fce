/**
 * Two obsctl processes on one inventory never lose an edit: a command that edits the inventory or commits the
 * GitOps working copy holds `.obsctl/lock` from before it writes until after its commit and push, and under the
 * lock the inventory must still be the text it planned from. Real processes (the built CLI), lined up with the
 * test hold point (OBSCTL_TEST_HOLD_AT, src/lib/engine/kill-point.ts): one is held at an exact place while the
 * other starts, so nothing depends on timing. The remote is a real bare Git repository.
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {obsctl, obsctlAsync, requireBuild} from '../cli/helpers.js'
import {waitFor} from '../support/wait.js'
import {holdAt, jsonError, workspace, type Workspace} from './helpers.js'

beforeAll(() => requireBuild())

let ws: Workspace | undefined
afterEach(() => {
  ws?.cleanup()
  ws = undefined
})

const setRaw = (ws: Workspace) => ['config', 'set', 'retention.thanos.raw', '41d', '--yes', '--no-sync', '-c', ws.file]
const setDelete = (ws: Workspace, json = false) => [
  'config',
  'set',
  'retention.opensearch.deleteAfter',
  '171d',
  '--yes',
  '--no-sync',
  '-c',
  ws.file,
  ...(json ? ['--json'] : []),
]
const remoteHas = (ws: Workspace, file: string, text: string) => ws.remoteGit('show', `main:${file}`).includes(text)
const RAW = 'deploy/base/thanos/compactor.yaml'
const DELETE = 'deploy/base/opensearch/ism-policy.yaml'

describe('two config set at once', () => {
  it('the second, started while the first holds the lock, exits LOCKED and changes nothing; the first lands in the file and on the remote; the rerun keeps both', async () => {
    ws = await workspace()
    const original = readFileSync(ws.file, 'utf8')
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const a = holdAt(ws, 'a', 'inventory-lock:held')
    const first = obsctlAsync(setRaw(ws), {env: a.env})
    await waitFor(a.held, 120_000, 'the first config set to hold the lock')

    const second = await obsctl(setDelete(ws, true))
    expect(second.status, second.stderr).toBe(1)
    const e = jsonError(second)
    expect(e.code).toBe('LOCKED')
    expect(e.message).toMatch(/another obsctl run holds .*\.obsctl\/lock: pid \d+ .*\(config set\)/)
    // nothing of it anywhere (and the first has not written yet: it is held)
    expect(readFileSync(ws.file, 'utf8')).toBe(original)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)

    a.go()
    const r1 = await first
    expect(r1.status, r1.stderr).toBe(0)
    const afterFirst = readFileSync(ws.file, 'utf8')
    expect(afterFirst).toMatch(/raw: 41d/)
    expect(afterFirst).not.toMatch(/deleteAfter: 171d/)
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d')).toBe(true)
    expect(existsSync(path.join(ws.dir, '.obsctl', 'lock'))).toBe(false)

    const rerun = await obsctl(setDelete(ws))
    expect(rerun.status, rerun.stderr).toBe(0)
    const both = readFileSync(ws.file, 'utf8')
    expect(both).toMatch(/raw: 41d/)
    expect(both).toMatch(/deleteAfter: 171d/)
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d')).toBe(true)
    expect(remoteHas(ws, DELETE, '171d')).toBe(true)
    expect(ws.remoteGit('log', '--format=%s', 'main').split('\n').slice(0, 2)).toEqual([
      'obsctl: set retention.opensearch.deleteAfter 180d → 171d',
      'obsctl: set retention.thanos.raw 30d → 41d',
    ])
  })

  it('one that read the inventory before the other wrote it refuses (CONCURRENT_EDIT) instead of overwriting that edit; its rerun keeps both', async () => {
    ws = await workspace()
    const b = holdAt(ws, 'b', 'inventory-lock:before')
    // the second has read the inventory, planned and rendered its diff, and waits before taking the lock
    const second = obsctlAsync(setDelete(ws, true), {env: b.env})
    await waitFor(b.held, 120_000, 'the second config set to have planned')
    const r1 = await obsctl(setRaw(ws))
    expect(r1.status, r1.stderr).toBe(0)
    const afterFirst = readFileSync(ws.file, 'utf8')
    const head = ws.remoteGit('rev-parse', 'main').trim()

    b.go()
    const r2 = await second
    expect(r2.status, r2.stderr).toBe(1)
    const e = jsonError(r2)
    expect(e.code).toBe('CONCURRENT_EDIT')
    expect(e.message).toContain(`${ws.file} changed since config set read it`)
    expect(e.hints.join('\n')).toMatch(/rerun config set/)
    // the first's edit is intact, in the file and on the remote; the second wrote and pushed nothing
    expect(readFileSync(ws.file, 'utf8')).toBe(afterFirst)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d')).toBe(true)

    const rerun = await obsctl(setDelete(ws))
    expect(rerun.status, rerun.stderr).toBe(0)
    expect(readFileSync(ws.file, 'utf8')).toMatch(/raw: 41d[\s\S]*deleteAfter: 171d/)
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d') && remoteHas(ws, DELETE, '171d')).toBe(true)
  })
})

describe('bootstrap while a config set edits', () => {
  it('a bootstrap that read the inventory before a config set wrote it refuses (CONCURRENT_EDIT): it never pushes the older render back', async () => {
    ws = await workspace()
    const b = holdAt(ws, 'boot', 'inventory-lock:before')
    // bootstrap has read the inventory and planned its render phase, and waits before taking the lock
    const boot = obsctlAsync(['bootstrap', '--phase', 'render', '--yes', '--json', '-c', ws.file], {env: b.env})
    await waitFor(b.held, 120_000, 'bootstrap to have planned')
    const r1 = await obsctl(setRaw(ws))
    expect(r1.status, r1.stderr).toBe(0)
    const head = ws.remoteGit('rev-parse', 'main').trim()
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d')).toBe(true)

    b.go()
    const r2 = await boot
    expect(r2.status, r2.stderr).toBe(1)
    expect(jsonError(r2).code).toBe('CONCURRENT_EDIT')
    // the render of the inventory it had read (raw 30d) was not committed over the config set's
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
    expect(remoteHas(ws, RAW, 'retention.resolution-raw=41d')).toBe(true)
  })
})

describe('two cluster add at once', () => {
  // the nodes are unreachable loopback addresses (port 1: connection refused): each run edits the inventory,
  // then fails its preflight; what is asserted is the inventory
  const add = (ws: Workspace, name: string, host: string, json = false) => [
    'cluster',
    'add',
    name,
    '--host',
    host,
    '--port',
    '1',
    '--yes',
    '-c',
    ws.file,
    ...(json ? ['--json'] : []),
  ]
  // OBSCTL_TEST_POLL_MS (test-only, src/lib/poll.ts): each refused connection is tried again as often, 0.1 s apart
  // instead of after 0.5 s and 1 s
  const env = {OBSCTL_SSH_PASSWORD: 'x', OBSCTL_TEST_POLL_MS: '100'}

  it('the second, started while the first holds the lock, exits LOCKED and adds nothing; the rerun adds it beside the first', async () => {
    ws = await workspace()
    const original = readFileSync(ws.file, 'utf8')
    const a = holdAt(ws, 'a', 'inventory-lock:held')
    const first = obsctlAsync(add(ws, 'cluster-05', '127.0.0.5'), {env: {...env, ...a.env}})
    await waitFor(a.held, 120_000, 'the first cluster add to hold the lock')

    const second = await obsctl(add(ws, 'cluster-06', '127.0.0.6', true), {env})
    expect(second.status, second.stderr).toBe(1)
    expect(jsonError(second).code).toBe('LOCKED')
    expect(second.stdout + second.stderr).not.toContain('added cluster-06')
    expect(readFileSync(ws.file, 'utf8')).toBe(original)

    a.go()
    const r1 = await first
    // the preflight fails (nothing listens there); the inventory edit is done and kept
    expect(r1.status, r1.stderr).toBe(1)
    expect(r1.stderr + r1.stdout).toContain('added cluster-05')
    const afterFirst = readFileSync(ws.file, 'utf8')
    expect(afterFirst).toContain('- name: cluster-05')
    expect(afterFirst).not.toContain('cluster-06')

    const rerun = await obsctl(add(ws, 'cluster-06', '127.0.0.6'), {env})
    expect(rerun.status, rerun.stderr).toBe(1)
    const both = readFileSync(ws.file, 'utf8')
    expect(both).toContain('- name: cluster-05')
    expect(both).toContain('- name: cluster-06')
  })

  it('one that planned before the other wrote refuses (CONCURRENT_EDIT) and adds nothing', async () => {
    ws = await workspace()
    const b = holdAt(ws, 'b', 'inventory-lock:before')
    const second = obsctlAsync(add(ws, 'cluster-06', '127.0.0.6', true), {env: {...env, ...b.env}})
    await waitFor(b.held, 120_000, 'the second cluster add to have planned')
    const r1 = await obsctl(add(ws, 'cluster-05', '127.0.0.5'), {env})
    expect(r1.status, r1.stderr).toBe(1)
    const afterFirst = readFileSync(ws.file, 'utf8')
    expect(afterFirst).toContain('- name: cluster-05')

    b.go()
    const r2 = await second
    expect(r2.status, r2.stderr).toBe(1)
    expect(jsonError(r2).code).toBe('CONCURRENT_EDIT')
    expect(readFileSync(ws.file, 'utf8')).toBe(afterFirst)
  })
})
