/**
 * `backup restore` runs `etcdutl snapshot restore` as root with the member's --name, peer URL and --data-dir read from
 * the node's own etcd manifest (src/lib/lifecycle/etcd-node.ts etcdMember, restore.ts). Whatever the manifest holds
 * (a space, `$(…)`), each value is the exact text of the manifest's argument, and one shell word in the command:
 * bash parses the command here with etcdutl as a function printing its arguments, and nothing in the values runs.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {etcdMember} from '../../src/lib/lifecycle/etcd-node.js'
import {etcdutlRestoreCommand} from '../../src/lib/lifecycle/restore.js'
import type {SshConnection} from '../../src/lib/ssh/connection.js'
import {isObsctlError} from '../../src/lib/errors.js'

const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-restore-quoting-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
const INJECTED = path.join(tmp, 'injected')

/** kubeadm's etcd manifest with these arguments */
const manifest = (args: string[]) =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: etcd, namespace: kube-system}',
    'spec:',
    '  containers:',
    '  - command:',
    '    - etcd',
    ...args.map((a) => `    - ${JSON.stringify(a)}`),
    '    image: registry.k8s.io/etcd:3.6.4-0',
    '    name: etcd',
    '',
  ].join('\n')

/** a node whose root shell answers every command with TEXT (the manifest read) */
const nodeAnswering = (text: string) => ({label: 'cp-1', sudo: async () => ({code: 0, stdout: text, stderr: ''})}) as unknown as SshConnection

describe('the etcd member from the manifest, into the restore command', () => {
  const dataDir = `/var/lib/etcd data$(touch ${INJECTED})\`touch ${INJECTED}\``
  const name = `cp 1$(touch ${INJECTED})`
  const peerUrl = 'https://192.0.2.10:2380'

  it('each value is the exact text of its manifest argument (a space kept), and the command hands etcdutl exactly those', async () => {
    const member = await etcdMember(
      nodeAnswering(manifest([`--data-dir=${dataDir}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=x=${peerUrl}`, `--name=${name}`])),
    )
    expect(member).toEqual({name, peerUrl, dataDir})
    const file = '/var/lib/obsctl/20261206T002425Z-cluster-01.db'
    const command = etcdutlRestoreCommand(file, member)
    // etcdutl as a function that prints each argument it gets, one per NUL-terminated record
    const argv = execFileSync('bash', ['-c', `etcdutl() { printf '%s\\0' "$@"; }\n${command}`], {encoding: 'utf8'})
      .split('\0')
      .slice(0, -1)
    expect(argv).toEqual([
      'snapshot',
      'restore',
      file,
      '--data-dir',
      dataDir,
      '--name',
      name,
      '--initial-cluster',
      `${name}=${peerUrl}`,
      '--initial-advertise-peer-urls',
      peerUrl,
    ])
    expect(existsSync(INJECTED)).toBe(false)
  })

  it('kubeadm’s plain manifest reads as before; one without --name is ETCD_MANIFEST, one with a control character in a value too', async () => {
    const plain =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=https://192.0.2.10:2380\n    - --name=cp-1\n    name: etcd\n'
    expect(await etcdMember(nodeAnswering(plain))).toEqual({name: 'cp-1', peerUrl: 'https://192.0.2.10:2380', dataDir: '/var/lib/etcd'})
    expect(await etcdMember(nodeAnswering(plain.replace('    - --data-dir=/var/lib/etcd\n', '')))).toMatchObject({dataDir: '/var/lib/etcd'})
    for (const bad of [
      plain.replace('--name=cp-1', '--other=cp-1'),
      manifest(['--data-dir=/var/lib/etcd\nx', `--initial-advertise-peer-urls=${peerUrl}`, '--name=cp-1']),
    ]) {
      const e = await etcdMember(nodeAnswering(bad)).then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(isObsctlError(e) && e.code, String(e)).toBe('ETCD_MANIFEST')
    }
  })
})
