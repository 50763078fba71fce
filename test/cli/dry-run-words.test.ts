/**
 * Every dry run says what a task would do in the same words as bootstrap's task list and `obsctl plan`:
 * `would run: DESCRIPTION`. The day-2 commands printed `would ${description}`, which read `would ssh …`,
 * `would argocd-manager ServiceAccount…`, `would server-side apply …`, `would render …: would add 88`.
 * The built CLI in a pipe, on the example inventory: a dry run contacts nothing.
 */
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {obsctl, tmpDir} from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = tmpDir('obsctl-dry-words-')
  expect((await obsctl(['init', '--example', '-c', path.join(dir, 'obsctl.yaml')])).status).toBe(0)
})

const taskLines = (stdout: string) => stdout.split('\n').filter((l) => /: would /.test(l))

describe('dry runs: "would run:" as in bootstrap and plan', () => {
  it.each([
    [
      'cluster add',
      ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--dry-run'],
      /^ {2}cluster-05\/192\.168\.101\.199: would run: ssh 192\.168\.101\.199: /m,
    ],
    ['node add', ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--dry-run'], /^nodes cluster-02\/192\.168\.101\.200: would run: ssh bsh@/m],
    ['cluster register', ['cluster', 'register', '--dry-run'], /^cluster-02: would run: argocd-manager ServiceAccount/m],
    // backup create said `would ssh 192.168.101.194: etcdctl snapshot save, …`
    ['backup create', ['backup', 'create', '--dry-run'], /^backup-etcd cluster-01: would run: ssh 192\.168\.101\.194: etcdctl snapshot save/m],
    [
      'backup restore',
      ['backup', 'restore', '20260101T000000Z', '--cluster', 'cluster-02', '--dry-run'],
      /^restore-etcd cluster-02: would run: download and decrypt /m,
    ],
  ])('%s', async (_name, args, shape) => {
    // (backup create refuses to plan without its key; a dry run reads nothing with it)
    const r = await obsctl(args, {cwd: dir, env: {OBSCTL_BACKUP_KEY: 'dry-run-words-test-key-0123456789abcdef'}})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(shape)
    const lines = taskLines(r.stdout)
    expect(lines.length).toBeGreaterThan(0)
    for (const l of lines) expect(l).toMatch(/: would run: /)
  })
})

describe('cluster add --dry-run', () => {
  it('ends as bootstrap --dry-run does, "dry run: nothing was changed"; validate "would run: every check", not "run every check"', async () => {
    const r = await obsctl(['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--dry-run'], {cwd: dir})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^ {2}platform: would run: every check of obsctl validate all /m)
    expect(r.stdout).not.toMatch(/would run: run /)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('dry run: nothing was changed')
  })
})
