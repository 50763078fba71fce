/**
 * kubeconfig merge over real SSH: four sandbox nodes (real sshd on 127.0.1.x, see test/support/sshd.ts),
 * each with a kubeadm-style /etc/kubernetes/admin.conf; the merged file is read by the real kubectl.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'
import {loadInventory} from '../../src/lib/config/load.js'
import {kubeconfigMerge} from '../../src/lib/kube/merge.js'
import {isObsctlError} from '../../src/lib/errors.js'
import type {RunEvent} from '../../src/lib/engine/index.js'
import {tasksAtOnce} from '../support/run-events.js'
import {startSandbox, sandboxInventory, type Sandbox} from '../support/sshd.js'
import {adminConf, fakeB64, filesContaining} from './fixtures.js'

const KUBECTL = '/usr/bin/kubectl'
const EXISTING = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${fakeB64('mine-ca')}
    server: https://mine.example:6443
  name: mine
contexts:
- context:
    cluster: mine
    user: me
  name: mine
current-context: mine
kind: Config
preferences: {}
users:
- name: me
  user:
    token: ${fakeB64('my-token', 24)}
`

let sb: Sandbox
let dir: string
let invFile: string
const quiet = {renderer: 'silent' as const, extraOptions: {sshAttempts: 1}}

beforeAll(async () => {
  sb = await startSandbox(
    [0, 1, 2, 3].map((i) => ({files: {'/etc/kubernetes/admin.conf': adminConf(`c${i}`, `https://10.9.9.${i}:6443`)}})),
    {firstIp: 71},
  )
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-kcssh-'))
  invFile = path.join(dir, 'obsctl.yaml')
  writeFileSync(invFile, sandboxInventory(sb, [[0], [1], [2], [3]]))
})

afterAll(async () => {
  await sb?.stop()
})

describe('kubeconfig merge over SSH', () => {
  it('merges four admin.conf files into an existing kubeconfig that real kubectl reads', async () => {
    const kc = path.join(dir, 'config')
    writeFileSync(kc, EXISTING, {mode: 0o644})
    const inv = loadInventory(invFile)
    const r = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc})
    expect(r.changed).toBe(true)
    expect(r.clusters.map((c) => c.cluster)).toEqual(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    expect(statSync(kc).mode & 0o777).toBe(0o600)
    const text = readFileSync(kc, 'utf8')
    expect(text.startsWith(EXISTING.slice(0, EXISTING.indexOf('contexts:')))).toBe(true)
    expect(readFileSync(r.backup!, 'utf8')).toBe(EXISTING)

    const contexts = execFileSync(KUBECTL, ['--kubeconfig', kc, 'config', 'get-contexts', '-o', 'name'], {encoding: 'utf8'}).trim().split('\n').sort()
    expect(contexts).toEqual(['cluster-01-context', 'cluster-02-context', 'cluster-03-context', 'cluster-04-context', 'mine'])
    const view = YAML.parse(
      execFileSync(KUBECTL, ['--kubeconfig', kc, 'config', 'view', '--minify', '--raw', '--context', 'cluster-02-context'], {encoding: 'utf8'}),
    )
    expect(view.clusters).toEqual([{name: 'cluster-02', cluster: {'certificate-authority-data': fakeB64('c1-ca'), server: `https://${sb.nodes[1]!.ip}:6443`}}])
    expect(view.users).toEqual([{name: 'cluster-02-admin', user: {'client-certificate-data': fakeB64('c1-cert'), 'client-key-data': fakeB64('c1-key')}}])
    expect(view.contexts).toEqual([{name: 'cluster-02-context', context: {cluster: 'cluster-02', user: 'cluster-02-admin'}}])
    // the user's current context is theirs
    expect(execFileSync(KUBECTL, ['--kubeconfig', kc, 'config', 'current-context'], {encoding: 'utf8'}).trim()).toBe('mine')

    // rerun, one cluster at a time (--concurrency 1): no byte changes, no new backup
    const before = readFileSync(kc)
    const mtime = statSync(kc).mtimeMs
    const events: RunEvent[] = []
    const again = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, concurrency: 1, onEvent: (e) => events.push(e)})
    expect(tasksAtOnce(events, 'kubeconfig')).toEqual({most: 1, started: 4})
    expect(again.changed).toBe(false)
    expect(readFileSync(kc).equals(before)).toBe(true)
    expect(statSync(kc).mtimeMs).toBe(mtime)
    expect(readdirSync(dir).filter((f) => f.startsWith('config.obsctl-backup-')).length).toBe(1)
    // and --dry-run after it plans nothing: no diff
    const dry = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, dryRun: true})
    expect(dry).toMatchObject({dryRun: true, changed: false, diff: ''})
    expect(statSync(kc).mtimeMs).toBe(mtime)
    // no credential in the task logs or the state file
    expect(readdirSync(path.join(dir, '.obsctl', 'logs')).length).toBe(2)
    expect(
      filesContaining(
        path.join(dir, '.obsctl'),
        [0, 1, 2, 3].flatMap((i) => [fakeB64(`c${i}-key`), fakeB64(`c${i}-cert`)]),
      ),
    ).toEqual([])
  })

  it('a re-installed cluster (new CA) is a conflict, exit 2, unless --overwrite; --dry-run masks credentials', async () => {
    const kc = path.join(dir, 'conflict')
    const inv = loadInventory(invFile)
    await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, clusters: ['cluster-03']})
    sb.nodes[2]!.writeFile('/etc/kubernetes/admin.conf', adminConf('c2-reinstalled'))
    const before = readFileSync(kc, 'utf8')
    const err = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, clusters: ['cluster-03']}).catch((e: unknown) => e)
    expect(isObsctlError(err) && err.exitCode).toBe(2)
    expect((err as Error).message).toContain('cluster cluster-03 is already in the file with a different CA')
    expect(readFileSync(kc, 'utf8')).toBe(before)

    const dry = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, clusters: ['cluster-03'], overwrite: true, dryRun: true})
    expect(dry.diff).toContain('+    client-key-data: REDACTED')
    expect(dry.diff).toContain('-    client-key-data: REDACTED')
    expect(dry.diff).not.toContain(fakeB64('c2-reinstalled-key'))
    expect(readFileSync(kc, 'utf8')).toBe(before)

    const forced = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, clusters: ['cluster-03'], overwrite: true})
    expect(forced.changed).toBe(true)
    expect(YAML.parse(readFileSync(kc, 'utf8')).users[0].user['client-key-data']).toBe(fakeB64('c2-reinstalled-key'))
  })

  it('a node without admin.conf fails with a hint; --from-file stands in for it', async () => {
    const kc = path.join(dir, 'missing')
    sb.nodes[3]!.writeFile('/etc/kubernetes/admin.conf', '')
    execFileSync('nsenter', ['-t', String(sb.nodes[3]!.pid()), '-m', 'rm', '-f', '/etc/kubernetes/admin.conf'])
    const inv = loadInventory(invFile)
    const err = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, clusters: ['cluster-04']}).catch((e: unknown) => e)
    expect(isObsctlError(err)).toBe(true)
    expect((err as Error).message).toContain('/etc/kubernetes/admin.conf')
    expect((err as {hints: string[]}).hints.join(' ')).toContain('--from-file cluster-04=PATH')
    const local = path.join(dir, 'c4.conf')
    writeFileSync(local, adminConf('c3'))
    const r = await kubeconfigMerge(inv, {...quiet, kubeconfig: kc, fromFiles: [`cluster-04=${local}`]})
    expect(r.clusters.map((c) => c.cluster)).toEqual(['cluster-04'])
    expect(execFileSync(KUBECTL, ['--kubeconfig', kc, 'config', 'get-contexts', '-o', 'name'], {encoding: 'utf8'}).trim()).toBe('cluster-04-context')
  })
})
