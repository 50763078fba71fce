/**
 * Every dry run says what a task would do in the same words as bootstrap's task list and `obsctl plan`:
 * `would run: DESCRIPTION`. The day-2 commands printed `would ${description}`, which read `would ssh …`,
 * `would argocd-manager ServiceAccount…`, `would server-side apply …`, `would render …: would add 88`.
 * The built CLI in a pipe, on the example inventory: a dry run contacts nothing.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {adminConf} from '../kube/fixtures.js'
import {obsctl, tmpDir} from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = tmpDir('obsctl-dry-words-')
  expect((await obsctl(['init', '--example', '-c', path.join(dir, 'obsctl.yaml')])).status).toBe(0)
  // node remove needs a node that is not the cluster's first control plane: cluster-02 with a worker
  const example = readFileSync(path.join(dir, 'obsctl.yaml'), 'utf8')
  const first = '      - host: 192.168.101.196\n        roles: [control-plane, worker]\n        cpu: "4"\n        memory: 16Gi\n'
  expect(example).toContain(first)
  writeFileSync(
    path.join(dir, 'two-nodes.yaml'),
    example.replace(first, `${first}      - host: 192.168.101.200\n        roles: [worker]\n        cpu: "4"\n        memory: 16Gi\n`),
  )
  writeFileSync(path.join(dir, 'cluster-02.conf'), adminConf('c2', 'https://192.168.101.196:6443'))
  // the $KUBECONFIG of the runs: there, with no cluster yet (a dry run refuses one that does not exist where the real
  // run would read it, as the real run does)
  writeFileSync(path.join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n', {mode: 0o600})
})

const taskLines = (stdout: string) => stdout.split('\n').filter((l) => /: would /.test(l))

describe('dry runs: "would run:" as in bootstrap and plan', () => {
  it.each([
    [
      'cluster add',
      ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--dry-run'],
      /^ {2}cluster-05\/192\.168\.101\.199: would run: ssh bsh@192\.168\.101\.199: OS\/arch/m,
    ],
    ['node add', ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--dry-run'], /^nodes cluster-02\/192\.168\.101\.200: would run: ssh bsh@/m],
    ['cluster register', ['cluster', 'register', '--dry-run'], /^cluster-02: would run: argocd-manager ServiceAccount/m],
    // backup create said `would ssh 192.168.101.194: etcdctl snapshot save, …`
    ['backup create', ['backup', 'create', '--dry-run'], /^backup-etcd cluster-01: would run: ssh bsh@192\.168\.101\.194: etcdctl snapshot save/m],
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

/**
 * Every dry run's human output ends with the one closing line cluster add and bootstrap print (engine/format.ts
 * endDryRun): node add, cluster register, certs renew … printed their "would run" lines and stopped, which reads
 * the same as a run cut short. --json stays one JSON object on stdout, `dryRun: true` at its top. The example inventory's
 * nodes (192.168.101.x) are never reached: a dry run contacts nothing (kubeconfig merge reads --from-file).
 */
describe('every dry run ends with "dry run: nothing was changed"', () => {
  const CLOSING = 'dry run: nothing was changed'
  it.each([
    ['node add', ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--dry-run']],
    ['node remove', ['node', 'remove', 'cluster-02', '192.168.101.200', '--dry-run', '-c', 'two-nodes.yaml']],
    ['cluster register', ['cluster', 'register', '--dry-run']],
    ['cluster remove', ['cluster', 'remove', 'cluster-04', '--dry-run']],
    ['upgrade kubernetes', ['upgrade', 'kubernetes', '1.35', '--dry-run']],
    ['argocd install', ['argocd', 'install', '--dry-run']],
    ['certs renew', ['certs', 'renew', '--dry-run']],
    ['backup create', ['backup', 'create', '--dry-run']],
    ['backup restore', ['backup', 'restore', '20260101T000000Z', '--cluster', 'cluster-02', '--dry-run']],
    ['backup restore --abandon', ['backup', 'restore', '--abandon', '--cluster', 'cluster-02', '--dry-run']],
    ['secrets rotate', ['secrets', 'rotate', 'grafana', '--dry-run']],
    ['secrets apply', ['secrets', 'apply', '--dry-run']],
    ['s3 setup', ['s3', 'setup', '--dry-run']],
    ['render', ['render', '--dry-run']],
    ['kubeconfig merge', ['kubeconfig', 'merge', 'cluster-02', '--from-file', 'cluster-02=cluster-02.conf', '--dry-run']],
    ['cluster add', ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--dry-run']],
    ['bootstrap', ['bootstrap', '--all', '--dry-run']],
  ])('%s', async (_name, args) => {
    const env = {OBSCTL_BACKUP_KEY: 'dry-run-words-test-key-0123456789abcdef', KUBECONFIG: path.join(dir, 'kubeconfig')}
    const r = await obsctl(args, {cwd: dir, env})
    expect(r.status, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.at(-1)).toBe(CLOSING)
    // after a blank line, and said once
    expect(lines.at(-2)).toBe('')
    expect(lines.filter((l) => l.includes('dry run'))).toEqual([CLOSING])
    const j = await obsctl([...args, '--json'], {cwd: dir, env})
    expect(j.status, j.stderr).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts runs these dry runs no more): nothing on stderr, no credential
    expect(j.stderr).toBe('')
    expect(j.stdout).not.toContain(env.OBSCTL_BACKUP_KEY)
    // at the top of the result, as every command says it (cluster register, argocd install and bootstrap had it only
    // inside `run`); inside `run` too where there is one
    const o = JSON.parse(j.stdout) as {dryRun?: boolean; run?: {dryRun?: boolean}}
    expect(o.dryRun).toBe(true)
    if (o.run) expect(o.run.dryRun).toBe(true)
    expect(j.stdout).not.toContain(CLOSING)
  })
})

/**
 * A node's SSH login is named one way wherever a plan says it (src/lib/ssh-login.ts sshLogin, as SSH errors and traces name
 * it): the dry runs wrote `ssh 192.168.101.194` (preflight, certs, backup, resets), `ssh bsh@192.168.101.194` (the
 * install) and `bsh@192.168.101.194:22` (the kubeconfig step).
 */
it('every dry run names a node ssh bsh@HOST, never ssh HOST nor bsh@HOST:22', async () => {
  const env = {OBSCTL_BACKUP_KEY: 'dry-run-words-test-key-0123456789abcdef', KUBECONFIG: path.join(dir, 'kubeconfig')}
  const runs = [
    ['bootstrap', '--all', '--dry-run'],
    ['certs', 'renew', '--dry-run'],
    ['backup', 'create', '--dry-run'],
    ['backup', 'restore', '--abandon', '--cluster', 'cluster-02', '--dry-run'],
    ['backup', 'restore', '20260101T000000Z', '--cluster', 'cluster-02', '--dry-run'],
    ['node', 'remove', 'cluster-02', '192.168.101.200', '--dry-run', '-c', 'two-nodes.yaml'],
    ['cluster', 'remove', 'cluster-04', '--reset-nodes', '--dry-run'],
  ]
  let text = ''
  for (const args of runs) {
    const r = await obsctl(args, {cwd: dir, env})
    expect(r.status, r.stderr).toBe(0)
    text += r.stdout
  }
  // each kind of step that reaches a node: preflight, install, kubeconfig, certs, etcd backup and restore, restore record, resets
  for (const said of [
    /ssh bsh@192\.168\.101\.194: OS\/arch/,
    /ssh bsh@192\.168\.101\.194: upload install-k8s\.sh/,
    /read \/etc\/kubernetes\/admin\.conf on bsh@192\.168\.101\.194 \(sudo\)/,
    /ssh bsh@192\.168\.101\.196: kubeadm certs renew all/,
    /ssh bsh@192\.168\.101\.194: etcdctl snapshot save/,
    /ssh bsh@192\.168\.101\.196: read \/var\/lib\/obsctl/,
    /; ssh bsh@192\.168\.101\.196: stop kube-apiserver/,
    /ssh bsh@192\.168\.101\.200: sudo kubeadm reset -f/,
    /ssh bsh@192\.168\.101\.198: sudo kubeadm reset -f/,
  ])
    expect(text).toMatch(said)
  expect(text).not.toMatch(/ssh 192\.168/)
  expect(text).not.toMatch(/@192\.168\.101\.\d+:22\b/)
})
