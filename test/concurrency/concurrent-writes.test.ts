/**
 * Two processes writing the same file at once keep both writes (../../src/lib/file-lock.ts): the validation and
 * certificates records, a kubeconfig merged from two inventories, a known_hosts shared by two. Each pair is two real
 * node processes running the built modules (fixtures/writer.mjs), released together by a barrier file; the writer's
 * read hook makes both read the file before either writes whenever no lock is held (what always lost one of the
 * writes before), so the outcome does not depend on timing. And the lock itself: a stale lock of a dead process is
 * taken over, kubectl's empty lock is waited for (and taken over only when old), a live holder is waited for.
 *
 * The lock file is kubectl's convention, checked against client-go tools/clientcmd/loader.go (`lockFile`:
 * `<file>.lock` opened O_CREATE|O_EXCL with mode 0, closed empty, `os.Remove`d by unlockFile; ModifyConfig locks
 * each file of the chain in sorted order and returns the error, "file exists", when one is held).
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, loadInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {withFileLock} from '../../src/lib/file-lock.js'
import {recordFile} from '../../src/lib/validate/record.js'
import {certsRecordFile} from '../../src/lib/lifecycle/certs.js'
import {adminConf} from '../kube/fixtures.js'
import {requireDist} from '../engine/helpers.js'
import {which} from '../support/peers.js'
import {runProcess} from '../cli/helpers.js'
import {waitFor} from '../support/wait.js'

const KUBECTL = which('kubectl')
const WRITER = path.join(import.meta.dirname, 'fixtures/writer.mjs')
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})
beforeAll(() => requireDist())

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'obsctl-concurrent-'))
  dirs.push(d)
  return d
}

function inventory(dir: string, prefix = ''): string {
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS).replaceAll('cluster-0', `${prefix}cluster-0`))
  return file
}

interface Child {
  done: Promise<{ok: boolean; code?: string; message?: string; stderr: string}>
}

function writer(kind: string, target: string, sync: string, me: string, other: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [WRITER, kind, path.resolve(target), sync, me, other, path.join(sync, 'go'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, ...env},
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  return {
    done: new Promise((resolve) =>
      child.on('close', () => {
        const last = out.trim().split('\n').pop() ?? ''
        resolve({...(last.startsWith('{') ? JSON.parse(last) : {ok: false, message: `no result: ${out}`}), stderr: err})
      }),
    ),
  }
}

/** Start a and b, let both load, release them together; both must succeed. */
async function race(kind: string, target: string, a: string[], b: string[]): Promise<void> {
  const sync = tmp()
  const pa = writer(kind, target, sync, 'a', 'b', a)
  const pb = writer(kind, target, sync, 'b', 'a', b)
  await waitFor(() => existsSync(path.join(sync, 'a.ready')) && existsSync(path.join(sync, 'b.ready')), 120_000, 'both writers loaded')
  writeFileSync(path.join(sync, 'go'), '')
  const [ra, rb] = await Promise.all([pa.done, pb.done])
  expect(ra, ra.stderr).toMatchObject({ok: true})
  expect(rb, rb.stderr).toMatchObject({ok: true})
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
  await new Promise((r) => child.on('close', r))
  return child.pid!
}

describe('two processes writing one file at once keep both writes', () => {
  it('the validation record: two validate runs with different checks both stay recorded, over a stale lock of a killed run', async () => {
    const file = inventory(tmp())
    const rec = recordFile(loadInventory(file))
    mkdirSync(path.dirname(rec), {recursive: true})
    // left by a run killed while it held the lock: both writers find it, one takes it over
    writeFileSync(`${rec}.lock`, JSON.stringify({pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'obsctl validate'}))
    await race('validation', rec, [file, 'thanos.stores'], [file, 'argocd.apps'])
    const ids = (JSON.parse(readFileSync(rec, 'utf8')) as {checks: {id: string}[]}).checks.map((c) => c.id).sort()
    expect(ids).toEqual(['argocd.apps', 'thanos.stores'].sort())
    // the stale lock was taken over, and the writers' own locks removed
    expect(readdirSync(path.dirname(rec)).filter((n) => n.includes('.lock'))).toEqual([])
  })

  it('the certificates record: two checks of different clusters ending together both stay recorded', async () => {
    const file = inventory(tmp())
    const rec = certsRecordFile(loadInventory(file))
    await race('certs', rec, [file, 'cluster-01'], [file, 'cluster-02'])
    expect(Object.keys((JSON.parse(readFileSync(rec, 'utf8')) as {clusters: object}).clusters).sort()).toEqual(['cluster-01', 'cluster-02'])
    expect(existsSync(`${rec}.lock`)).toBe(false)
  })

  it('a kubeconfig: merges from two inventories into one file both keep their context', async () => {
    const d = tmp()
    const i1 = inventory(path.join(d, 'i1'))
    const i2 = inventory(path.join(d, 'i2'), 'dc2-')
    writeFileSync(path.join(d, 'a.conf'), adminConf('a'))
    writeFileSync(path.join(d, 'b.conf'), adminConf('b'))
    const kc = path.join(d, 'kube', 'config')
    mkdirSync(path.dirname(kc))
    writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n', {mode: 0o600})
    await race('kubeconfig', kc, [i1, 'cluster-01', path.join(d, 'a.conf')], [i2, 'dc2-cluster-01', path.join(d, 'b.conf')])
    const doc = YAML.parse(readFileSync(kc, 'utf8')) as {contexts: {name: string}[]; users: {name: string}[]}
    expect(doc.contexts.map((c) => c.name).sort()).toEqual(['cluster-01-context', 'dc2-cluster-01-context'])
    expect(doc.users.map((c) => c.name).sort()).toEqual(['cluster-01-admin', 'dc2-cluster-01-admin'])
    expect(existsSync(`${kc}.lock`)).toBe(false)
  })

  it('known_hosts: first connections to two hosts from two processes both record their key, appended', async () => {
    const d = tmp()
    const kh = path.join(d, 'known_hosts')
    // a line written by someone else, without its newline: kept, and ended before the next line
    writeFileSync(kh, '[10.0.0.9]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', {mode: 0o644})
    await race('known-hosts', kh, ['10.0.0.1', '2222'], ['10.0.0.2', '2222'])
    const lines = readFileSync(kh, 'utf8').split('\n')
    expect(lines[0]).toMatch(/^\[10\.0\.0\.9\]:22 ssh-ed25519 /)
    expect(
      lines
        .slice(1, 3)
        .map((l) => l.split(' ')[0])
        .sort(),
    ).toEqual(['[10.0.0.1]:2222', '[10.0.0.2]:2222'])
    expect(lines[3]).toBe('')
    expect(existsSync(`${kh}.lock`)).toBe(false)
  })

  it('known_hosts: two first connections to ONE host presenting different keys: the second is refused as changed', async () => {
    const d = tmp()
    const kh = path.join(d, 'known_hosts')
    const sync = tmp()
    const pa = writer('known-hosts', kh, sync, 'a', 'b', ['10.0.0.1', '22'])
    const pb = writer('known-hosts', kh, sync, 'b', 'a', ['10.0.0.1', '22'])
    await waitFor(() => existsSync(path.join(sync, 'a.ready')) && existsSync(path.join(sync, 'b.ready')), 120_000, 'both writers loaded')
    writeFileSync(path.join(sync, 'go'), '')
    const results = await Promise.all([pa.done, pb.done])
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    expect(results.find((r) => !r.ok)).toMatchObject({code: 'SSH_HOSTKEY_CHANGED'})
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1)
  })
})

describe('the lock file', () => {
  it('a live holder (another process) is waited for, then the second takes it', async () => {
    const d = tmp()
    const target = path.join(d, 'file')
    const sync = tmp()
    const a = writer('hold', target, sync, 'a', 'b', [])
    const b = writer('hold', target, sync, 'b', 'a', [])
    await waitFor(() => existsSync(path.join(sync, 'a.ready')) && existsSync(path.join(sync, 'b.ready')), 120_000, 'both loaded')
    writeFileSync(path.join(sync, 'go'), '')
    // one holds it; the other says it waits, naming the holder
    await waitFor(() => ['a', 'b'].some((w) => existsSync(path.join(sync, `${w}.holding`))), 60_000, 'one holder')
    const [holder, waiter] = existsSync(path.join(sync, 'a.holding')) ? ['a', 'b'] : ['b', 'a']
    // (its content, not only the file: writeFileSync creates it empty, then writes)
    await waitFor(
      () => existsSync(path.join(sync, `${waiter}.waiting`)) && readFileSync(path.join(sync, `${waiter}.waiting`), 'utf8') !== '',
      60_000,
      'the other waiting',
    )
    expect(readFileSync(path.join(sync, `${waiter}.waiting`), 'utf8')).toMatch(/^pid \d+ on /)
    expect(existsSync(path.join(sync, `${waiter}.holding`))).toBe(false)
    expect(JSON.parse(readFileSync(`${target}.lock`, 'utf8'))).toMatchObject({host: hostname()})
    writeFileSync(path.join(sync, 'release'), '')
    const [ra, rb] = await Promise.all([a.done, b.done])
    expect([ra.ok, rb.ok]).toEqual([true, true])
    expect(existsSync(path.join(sync, `${holder}.holding`)) && existsSync(path.join(sync, `${waiter}.holding`))).toBe(true)
    expect(existsSync(`${target}.lock`)).toBe(false)
  })

  it("a dead process's lock is taken over at once; kubectl's empty lock is waited for while fresh, taken over when old", async () => {
    const d = tmp()
    const lock = path.join(d, 'config.lock')
    writeFileSync(lock, JSON.stringify({pid: await deadPid(), host: hostname(), startedAt: 'x', command: 'obsctl'}))
    expect(await withFileLock(lock, () => readFileSync(lock, 'utf8'))).toContain(`"pid":${process.pid}`)
    expect(existsSync(lock)).toBe(false)

    // kubectl's: empty, mode 0
    writeFileSync(lock, '', {mode: 0})
    const waits: string[] = []
    const err = await withFileLock(lock, () => 'never', {timeoutMs: 300, onWait: (h) => waits.push(h)}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'FILE_LOCKED'})
    expect(String((err as Error).message)).toContain(`${lock} is held by a process that does not say who it is`)
    expect(waits).toHaveLength(1)
    expect(existsSync(lock)).toBe(true)
    const old = new Date(Date.now() - 10 * 60_000)
    utimesSync(lock, old, old)
    expect(await withFileLock(lock, () => 'ran')).toBe('ran')
    expect(existsSync(lock)).toBe(false)
  })

  it('a process killed while it takes over a stale lock leaves its takeover file: the next writer judges that file by its pid, as the lock, and goes on at once', async () => {
    const d = tmp()
    const target = path.join(d, 'file')
    const lock = `${target}.lock`
    writeFileSync(lock, JSON.stringify({pid: await deadPid(), host: hostname(), startedAt: 'x', command: 'obsctl'}))
    const sync = tmp()
    // killed with its takeover file made, the stale lock not yet removed
    const killed = writer('hold', target, sync, 'a', 'b', [], {OBSCTL_TEST_KILL_AT: 'file-lock:takeover'})
    await waitFor(() => existsSync(path.join(sync, 'a.ready')), 120_000, 'the writer loaded')
    writeFileSync(path.join(sync, 'go'), '')
    expect(await killed.done).toMatchObject({ok: false, message: 'no result: '})
    expect(readdirSync(d).sort()).toEqual(['file.lock', expect.stringMatching(/^file\.lock\.takeover-[0-9a-f]{16}$/)])

    // the next writer takes the lock at once (its wait for a live holder is 10 s here: the 30 s default was spent before)
    expect(await withFileLock(lock, () => readFileSync(lock, 'utf8'), {timeoutMs: 10_000})).toContain(`"pid":${process.pid}`)
    expect(readdirSync(d)).toEqual([])
  })

  it('a lock of another host (a shared home folder) counts as held; the lock is removed when the work throws', async () => {
    const d = tmp()
    const lock = path.join(d, 'f.lock')
    writeFileSync(lock, JSON.stringify({pid: 1, host: `not-${hostname()}`, startedAt: 'x', command: 'obsctl'}))
    await expect(withFileLock(lock, () => 'never', {timeoutMs: 200})).rejects.toMatchObject({code: 'FILE_LOCKED'})
    rmSync(lock)
    await expect(
      withFileLock(lock, () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(existsSync(lock)).toBe(false)
  })

  it.skipIf(!KUBECTL)('real kubectl (config set-context) stops while obsctl holds a kubeconfig, and writes once it is released', async () => {
    const d = tmp()
    const kc = path.join(d, 'config')
    const empty = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n'
    writeFileSync(kc, empty, {mode: 0o600})
    const sync = tmp()
    const holder = writer('hold', kc, sync, 'a', 'b', [])
    await waitFor(() => existsSync(path.join(sync, 'a.ready')), 120_000, 'holder loaded')
    writeFileSync(path.join(sync, 'go'), '')
    await waitFor(() => existsSync(path.join(sync, 'a.holding')), 60_000, 'obsctl holding the lock')
    const kubectl = (args: string[]) => runProcess(KUBECTL!, ['config', ...args, '--kubeconfig', kc], {env: {...process.env, HOME: d}})
    const refused = await kubectl(['set-context', 'from-kubectl', '--cluster=x'])
    expect(refused.status).toBe(1)
    expect(refused.stderr).toContain(`open ${kc}.lock: file exists`)
    expect(readFileSync(kc, 'utf8')).toBe(empty)
    writeFileSync(path.join(sync, 'release'), '')
    expect(await holder.done).toMatchObject({ok: true})
    expect(existsSync(`${kc}.lock`)).toBe(false)
    expect((await kubectl(['set-context', 'from-kubectl', '--cluster=x'])).status).toBe(0)
    expect(existsSync(`${kc}.lock`)).toBe(false)
  })
})
