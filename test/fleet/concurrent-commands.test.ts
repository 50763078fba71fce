/**
 * Every other command that edits the inventory or commits the GitOps working copy under the run lock
 * (src/lib/engine/inventory-lock.ts), in two real processes as test/fleet/concurrent-edit.test.ts runs config set,
 * bootstrap and cluster add: render --push, node add, node remove, upgrade kubernetes, cluster remove and rollback.
 * Each is held at `inventory-lock:held` (OBSCTL_TEST_HOLD_AT, src/lib/engine/kill-point.ts) while a config set
 * starts: that one exits LOCKED naming the holder (its pid and its command) and writes nothing; the holder goes on and
 * ends, the lock released; the config set rerun lands beside what the holder wrote, on the file and on the remote (a
 * real bare Git repository). And a stale lock (a dead pid) taken over is announced by each of them.
 *
 * One workspace for the file, the tests in order on it (each asserts from the state it finds). Every address in it is
 * on loopback, and the commands that would need a cluster stop right after the lock at no connection at all: there
 * is no kubeconfig (HOME is the workspace) and no SSH credential without a terminal.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {setInventoryText} from '../../src/lib/config/index.js'
import {obsctl, obsctlAsync, requireBuild, type CliResult} from '../cli/helpers.js'
import {withValues} from '../support/inventory.js'
import {waitFor} from '../support/wait.js'
import {holdAt, jsonError, workspace, type Workspace} from './helpers.js'

const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
let ws: Workspace
let env: Record<string, string | undefined>
let lockFile: string
let holds = 0

beforeAll(async () => {
  requireBuild()
  const sets: Record<string, unknown> = {'ssh.port': 1, 's3.endpoint': 'https://127.0.79.9:1'}
  CLUSTERS.forEach((name, i) => {
    sets[`clusters.${name}.apiServer`] = `https://127.0.79.${i + 1}:1`
    sets[`clusters.${name}.nodes[0].host`] = `127.0.79.${i + 1}`
    sets[`clusters.${name}.loadBalancerIPs`] = [`127.0.80.${10 * i + 10}-127.0.80.${10 * i + 14}`]
  })
  // a second node, so that node remove has one it may remove
  sets['clusters.cluster-03.nodes[1]'] = {host: '127.0.79.8', roles: ['worker'], cpu: '4', memory: '16Gi'}
  ws = await workspace({edit: withValues(sets)})
  lockFile = path.join(ws.dir, '.obsctl', 'lock')
  env = {HOME: ws.dir, KUBECONFIG: undefined, SSH_AUTH_SOCK: undefined, OBSCTL_SSH_PASSWORD: undefined}
})

afterAll(() => ws?.cleanup())

const inventory = () => readFileSync(ws.file, 'utf8')
const remoteHead = () => ws.remoteGit('rev-parse', 'main').trim()
const remoteHas = (file: string, text: string) => ws.remoteGit('show', `main:${file}`).includes(text)
const subjects = (n: number) => ws.remoteGit('log', `-${n}`, '--format=%s', 'main').trim().split('\n')
const run = (args: string[]) => obsctl([...args, '-c', ws.file], {env})

/** A config set (no Argo CD wait) of PATH to VALUE, and the rendered file that shows it. */
interface Edit {
  path: string
  value: string
  file: string
  shows: string
}
const deleteAfter = (days: number): Edit => ({
  path: 'retention.opensearch.deleteAfter',
  value: `${days}d`,
  file: 'deploy/base/opensearch/ism-policy.yaml',
  shows: `${days}d`,
})
const setArgs = (e: Edit, json = false) => ['config', 'set', e.path, e.value, '--yes', '--no-sync', ...(json ? ['--json'] : [])]

/**
 * HOLDER started and held with the run lock; a config set of EDIT started then exits LOCKED, naming the holder's
 * pid and COMMAND, and writes nothing; the holder ends with STATUS and leaves no lock; the config set rerun changes
 * exactly its field in the inventory as the holder left it, and pushes it. The inventory before and after the holder.
 */
async function lockedOut(holder: string[], command: string, status: number, edit: Edit): Promise<{before: string; afterHolder: string; out: string}> {
  const before = inventory()
  const head = remoteHead()
  const h = holdAt(ws, `holder-${++holds}`, 'inventory-lock:held')
  let ended: CliResult | undefined
  const first = obsctlAsync([...holder, '-c', ws.file], {env: {...env, ...h.env}}).then((r) => (ended = r))
  // a holder that ends before it holds the lock fails the test at once, with its output
  await waitFor(() => h.held() || ended !== undefined, 120_000, `${command} to hold the lock`)
  expect(h.held(), ended && ended.stdout + ended.stderr).toBe(true)

  const second = await run(setArgs(edit, true))
  expect(second.status, second.stderr).toBe(1)
  const e = jsonError(second)
  expect(e.code).toBe('LOCKED')
  expect(e.message).toContain(`another obsctl run holds ${lockFile}: pid ${h.pid()} on ${hostname()}`)
  expect(e.message).toContain(`(${command})`)
  expect(inventory()).toBe(before)
  expect(remoteHead()).toBe(head)

  h.go()
  const r1 = await first
  expect(r1.status, r1.stdout + r1.stderr).toBe(status)
  expect(existsSync(lockFile)).toBe(false)
  const afterHolder = inventory()

  const rerun = await run(setArgs(edit))
  expect(rerun.status, rerun.stderr).toBe(0)
  expect(inventory()).toBe(setInventoryText(afterHolder, edit.path, edit.value).after)
  expect(remoteHas(edit.file, edit.shows)).toBe(true)
  return {before, afterHolder, out: r1.stdout + r1.stderr}
}

describe('a config set while another inventory command holds the run lock: LOCKED, naming it; the rerun keeps both', () => {
  it('render --push (of an inventory edited by hand): its commit is pushed, and the config set lands on top', async () => {
    // an edit made in an editor, which render --push then publishes
    writeFileSync(ws.file, setInventoryText(inventory(), 'retention.prometheus', '8h').after)
    const r = await lockedOut(['render', '--push'], 'render --push', 0, deleteAfter(171))
    expect(r.afterHolder).toBe(r.before)
    expect(subjects(2)).toEqual(['obsctl: set retention.opensearch.deleteAfter 180d → 171d', expect.stringMatching(/^obsctl render: update /)])
    expect(remoteHas('deploy/base/thanos/receive.yaml', '--tsdb.retention=8h')).toBe(true)
  })

  it('node add: its node is in the inventory (its preflight then stops: no SSH credential), and the config set beside it', async () => {
    const r = await lockedOut(
      ['node', 'add', 'cluster-02', '--host', '127.0.79.6', '--port', '1'],
      'node add cluster-02 --host 127.0.79.6',
      1,
      deleteAfter(172),
    )
    expect(r.out).toContain('added 127.0.79.6 (worker) to cluster-02')
    expect(r.afterHolder).toBe(
      setInventoryText(r.before, 'clusters.cluster-02.nodes[1]', {host: '127.0.79.6', port: 1, roles: ['worker'], cpu: '4', memory: '16Gi'}).after,
    )
    expect(inventory()).toContain('host: 127.0.79.6')
  })

  it('node remove: it stops at the drain (no kubeconfig), the node kept (the inventory edit is its last step)', async () => {
    const r = await lockedOut(['node', 'remove', 'cluster-03', '127.0.79.8', '--yes'], 'node remove cluster-03 127.0.79.8', 2, deleteAfter(173))
    expect(r.out).toContain('cannot read kubeconfig')
    expect(r.afterHolder).toBe(r.before)
  })

  it('upgrade kubernetes: it stops at its preflight (no kubeconfig), versions.kubernetes kept', async () => {
    const r = await lockedOut(['upgrade', 'kubernetes', '1.35', '--yes'], 'upgrade kubernetes 1.35', 2, deleteAfter(174))
    expect(r.out).toContain('cannot read kubeconfig')
    expect(r.afterHolder).toBe(r.before)
  })

  it('cluster remove: it stops at its first step (no kubeconfig), the cluster kept', async () => {
    const r = await lockedOut(['cluster', 'remove', 'cluster-04', '--yes'], 'cluster remove cluster-04', 1, deleteAfter(175))
    expect(r.out).toMatch(/remove-apps +cluster-04 +failed/)
    expect(r.afterHolder).toBe(r.before)
  })

  it('rollback: the last change is reverted in the file and on the remote, and the config set lands on top of the rollback', async () => {
    // the last change on the remote is the config set the test before made
    const last = /^obsctl: set retention\.opensearch\.deleteAfter (\S+) → (\S+)$/.exec(subjects(1)[0]!)
    expect(last, subjects(1)[0]).not.toBeNull()
    const raw: Edit = {path: 'retention.thanos.raw', value: '41d', file: 'deploy/base/thanos/compactor.yaml', shows: 'retention.resolution-raw=41d'}
    const r = await lockedOut(['rollback', '--yes', '--no-sync'], 'rollback', 0, raw)
    expect(r.afterHolder).toBe(setInventoryText(r.before, 'retention.opensearch.deleteAfter', last![1]).after)
    expect(subjects(2)).toEqual(['obsctl: set retention.thanos.raw 30d → 41d', expect.stringMatching(/^obsctl: rollback to /)])
    expect(remoteHas('deploy/base/opensearch/ism-policy.yaml', last![1]!)).toBe(true)
  })
})

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
  await new Promise((r) => child.on('close', r))
  return child.pid!
}

describe('a stale run lock (its pid dead) is taken over, and said so', () => {
  const cases: [string, string[], number][] = [
    ['node add', ['node', 'add', 'cluster-02', '--host', '127.0.79.7', '--port', '1'], 1],
    ['node remove', ['node', 'remove', 'cluster-03', '127.0.79.8', '--yes'], 2],
    ['upgrade kubernetes', ['upgrade', 'kubernetes', '1.35', '--yes'], 2],
    ['render', ['render'], 0],
  ]
  it.each(cases)('%s', async (_name, args, status) => {
    const dead = await deadPid()
    mkdirSync(path.dirname(lockFile), {recursive: true})
    writeFileSync(lockFile, `${JSON.stringify({pid: dead, startedAt: '2026-01-01T00:00:00.000Z', command: 'config set', host: hostname()})}\n`, {mode: 0o600})
    const r = await run(args)
    expect(r.status, r.stdout + r.stderr).toBe(status)
    expect(r.stderr).toContain(`taking over a stale lock ${lockFile} left by pid ${dead} (started 2026-01-01T00:00:00.000Z), which is no longer running`)
    expect(existsSync(lockFile)).toBe(false)
  })
})
