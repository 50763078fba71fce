/**
 * `backup create|list|restore` against sandbox control planes (real sshd) and a real s3rver: etcdctl
 * `snapshot save` copies the node's etcd data file while the etcd static pod's manifest is in place,
 * etcdutl `snapshot status|restore` read and lay out snapshots (../support/node-sandbox/shim-certs-etcd.sh).
 * Outcomes: the objects in the bucket decrypt (with the key, and only with it) to exactly the bytes of the
 * node's etcd data and of obsctl's files; a restore puts the snapshot back as etcd's data dir with the old
 * one kept; no secret in any node command line, log or journal.
 *
 * Shapes checked against upstream: etcdctl `snapshot save FILE` with --endpoints/--cacert/--cert/--key
 * (etcd-io/etcd etcdctl/README.md), `etcdutl snapshot status FILE -w json` printing
 * {"hash","revision","totalKey","totalSize"} and `etcdutl snapshot restore FILE --data-dir --name
 * --initial-cluster --initial-advertise-peer-urls` refusing an existing data dir (etcdutl/README.md,
 * etcdutl/snapshot/v3_snapshot.go); `etcdctl endpoint health` printing "… is healthy: successfully
 * committed proposal".
 */
import {cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Client} from 'minio'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import YAML from 'yaml'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import type {RunEvent} from '../../src/lib/engine/index.js'
import {renderFiles} from '../../src/lib/gitops/plan.js'
import {decrypt} from '../../src/lib/lifecycle/envelope.js'
import {backupCreate, backupRestore, type BackupAbandonResult, type BackupRestoreResult} from '../../src/lib/flows/backup-run.js'
import {backupList} from '../../src/lib/lifecycle/backup-store.js'
import {BIN, obsctl, requireBuild} from '../cli/helpers.js'
import {Terminal} from '../support/tmux.js'
import {ACCESS_KEY, SECRET_KEY, startS3rver, type S3Peer} from '../s3/harness.js'
import {connectNode, startSandbox, sandboxInventory, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {SshConnection} from '../../src/lib/ssh/index.js'
import {claimSnapshotDir, markRestoreCopy} from '../../src/lib/lifecycle/etcd-node.js'
import {waitFor} from '../support/wait.js'
import {tasksAtOnce} from '../support/run-events.js'
import {platformOf} from '../gitops/support.js'
import type {PreflightReport} from '../../src/lib/nodes/preflight.js'
import {nodeBytes, onNode, seedControlPlane, writeBytes} from './helpers.js'

const BACKUP_KEY = 'obsctl-test-backup-secret-7Qm2'
const BUCKET = 'longhorn-backups'
let sb: Sandbox
let s3: S3Peer
let minio: Client
let dir: string
let inv: LoadedInventory
const dbs: Buffer[] = []
const quiet = {renderer: 'silent' as const, handleSignals: false, ssh: {attempts: 2, backoffMs: 200}}
const savedEnv = {...process.env}

async function object(key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of await minio.getObject(BUCKET, key)) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const o of minio.listObjectsV2(BUCKET, prefix, true)) if ((o as {name?: string}).name) out.push((o as {name: string}).name)
  return out.sort()
}

function allText(root: string): string {
  return readdirSync(root, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n')
}

beforeAll(async () => {
  ;[sb, s3] = await Promise.all([startSandbox(3, {firstIp: 181}), startS3rver()])
  dbs.push(
    ...(await Promise.all([seedControlPlane(sb, sb.nodes[0]!, {marker: 'PLAINTEXT-ONE'}), seedControlPlane(sb, sb.nodes[1]!, {marker: 'PLAINTEXT-TWO'})])),
  )
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-backup-'))
  // cluster-01 and cluster-02 have one control plane each
  const text = sandboxInventory(sb, [[0], [1]]).replace('endpoint: https://s3.sandbox.test', `endpoint: ${s3.url}`)
  writeFileSync(path.join(dir, 'obsctl.yaml'), text)
  mkdirSync(path.join(dir, '.obsctl', 'pki'), {recursive: true, mode: 0o700})
  writeFileSync(path.join(dir, '.obsctl', 'pki', 'ca.crt'), 'platform CA certificate (test)\n')
  writeFileSync(path.join(dir, '.obsctl', 'pki', 'ca.key'), 'platform CA key (test)\n', {mode: 0o600})
  inv = loadInventory(path.join(dir, 'obsctl.yaml'))
  minio = new Client({endPoint: '127.0.0.1', port: s3.port, useSSL: false, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, pathStyle: true})
  await minio.makeBucket(BUCKET)
  Object.assign(process.env, {OBSCTL_S3_ACCESS_KEY: ACCESS_KEY, OBSCTL_S3_SECRET_KEY: SECRET_KEY, OBSCTL_BACKUP_KEY: BACKUP_KEY, CI: '1'})
}, 240_000)

afterAll(async () => {
  process.env = {...savedEnv}
  await Promise.all([sb?.stop(), s3?.close()])
})

let id = ''

describe('backup create', () => {
  it('refuses to start without the encryption key (exit 2, names the variable); nothing is uploaded', async () => {
    delete process.env.OBSCTL_BACKUP_KEY
    try {
      await expect(backupCreate(inv, quiet)).rejects.toMatchObject({
        exitCode: 2,
        code: 'BACKUP_KEY_MISSING',
        message: expect.stringContaining('OBSCTL_BACKUP_KEY'),
      })
      process.env.OBSCTL_BACKUP_KEY = 'short'
      await expect(backupCreate(inv, quiet)).rejects.toMatchObject({exitCode: 2, code: 'BACKUP_KEY_WEAK'})
    } finally {
      process.env.OBSCTL_BACKUP_KEY = BACKUP_KEY
    }
    expect(await keys('_obsctl/')).toEqual([])
    expect(sb.nodes[0]!.calls()).toEqual([])
  })

  it('snapshots every cluster (one at a time: --concurrency 1), and the objects decrypt to exactly the snapshots and files that went in', async () => {
    const events: RunEvent[] = []
    const r = await backupCreate(inv, {...quiet, concurrency: 1, onEvent: (e) => events.push(e)})
    expect(tasksAtOnce(events, 'backup-etcd')).toEqual({most: 1, started: 2})
    expect(r.ok, JSON.stringify(r.run.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
    id = r.id
    expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/)
    expect(await keys(`_obsctl/${id}/`)).toEqual(
      ['cluster-01.etcd.db.enc', 'cluster-01.etcd.json', 'cluster-02.etcd.db.enc', 'cluster-02.etcd.json', 'manifest.json', 'obsctl-state.enc'].map(
        (n) => `_obsctl/${id}/${n}`,
      ),
    )
    for (const [i, c] of ['cluster-01', 'cluster-02'].entries()) {
      const name = `_obsctl/${id}/${c}.etcd.db.enc`
      const blob = await object(name)
      // encrypted before upload: the plaintext is not in the object
      expect(blob.includes(Buffer.from(`PLAINTEXT-${i === 0 ? 'ONE' : 'TWO'}`))).toBe(false)
      expect((await decrypt(blob, BACKUP_KEY, name)).equals(dbs[i]!)).toBe(true)
      // the wrong key, or the object under another name, does not decrypt
      await expect(decrypt(blob, 'another-secret-of-some-length', name)).rejects.toMatchObject({code: 'BACKUP_DECRYPT'})
      await expect(decrypt(blob, BACKUP_KEY, `_obsctl/${id}/cluster-0${2 - i}.etcd.db.enc`)).rejects.toMatchObject({code: 'BACKUP_DECRYPT'})
      const meta = JSON.parse((await object(`_obsctl/${id}/${c}.etcd.json`)).toString())
      expect(meta).toMatchObject({cluster: c, host: sb.nodes[i]!.ip, size: dbs[i]!.length, etcd: {totalSize: dbs[i]!.length}})
      expect(meta.sha256).toBe((await import('node:crypto')).createHash('sha256').update(dbs[i]!).digest('hex'))
      // the snapshot was taken with etcdctl over kubeadm's client certificate, and does not stay on the node
      const calls = sb.nodes[i]!.calls().map((x) => x.line)
      expect(calls.some((l) => /^etcdctl .*--cacert=\/etc\/kubernetes\/pki\/etcd\/ca\.crt .*snapshot save \/var\/lib\/obsctl\/backup\//.test(l))).toBe(true)
      expect(calls.some((l) => l.startsWith('etcdutl snapshot status'))).toBe(true)
      expect(onNode(sb.nodes[i]!, 'ls -A /var/lib/obsctl/backup').trim()).toBe('')
    }
    const stateName = `_obsctl/${id}/obsctl-state.enc`
    const state = JSON.parse((await decrypt(await object(stateName), BACKUP_KEY, stateName)).toString()) as {
      files: {path: string; mode: number; data: string}[]
    }
    const byPath = Object.fromEntries(state.files.map((f) => [f.path, Buffer.from(f.data, 'base64').toString()]))
    expect(Object.keys(byPath).sort()).toEqual(['.obsctl/known_hosts', '.obsctl/pki/ca.crt', '.obsctl/pki/ca.key', 'obsctl.yaml'])
    for (const [p, text] of Object.entries(byPath)) expect(text, p).toBe(readFileSync(path.join(dir, p), 'utf8'))
    expect(state.files.find((f) => f.path === '.obsctl/pki/ca.key')!.mode).toBe(0o600)
    const manifest = JSON.parse((await object(`_obsctl/${id}/manifest.json`)).toString())
    expect(manifest).toMatchObject({
      id,
      clusters: ['cluster-01', 'cluster-02'],
      keyEnv: 'OBSCTL_BACKUP_KEY',
      encryption: {cipher: 'aes-256-gcm', kdf: 'scrypt'},
    })

    // no secret in any command line on the nodes, in the logs or in the journal
    const secrets = [BACKUP_KEY, SECRET_KEY]
    const nodeCalls = sb.nodes.flatMap((n) => n.calls().map((c) => c.line)).join('\n')
    const local = allText(path.join(dir, '.obsctl', 'logs')) + readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')
    for (const s of secrets) {
      expect(nodeCalls).not.toContain(s)
      expect(local).not.toContain(s)
      expect(JSON.stringify(r)).not.toContain(s)
    }
  }, 240_000)

  it('backup list shows it, complete, with its clusters', async () => {
    const l = await backupList(inv)
    expect(l.bucket).toBe(BUCKET)
    expect(l.backups).toEqual([
      expect.objectContaining({id, complete: true, clusters: ['cluster-01', 'cluster-02'], files: expect.arrayContaining(['obsctl.yaml'])}),
    ])
  })

  it('the CLI: --dry-run touches nothing; list --json is an object; the key is never on the command line', async () => {
    requireBuild()
    sb.nodes[0]!.clearCalls()
    const dry = await obsctl(['backup', 'create', '-c', inv.file, '--dry-run', '--cluster', 'cluster-01'], {env: {OBSCTL_BACKUP_KEY: undefined}})
    expect(dry.status, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/backup-etcd cluster-01: would run: ssh .+: etcdctl snapshot save/)
    expect(sb.nodes[0]!.calls()).toEqual([])
    const list = await obsctl(['backup', 'list', '-c', inv.file, '--json'])
    expect(list.status, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).backups[0].id).toBe(id)
    const human = await obsctl(['backup', 'list', '-c', inv.file])
    expect(human.stdout).toMatch(new RegExp(`^${id}\\s+\\S+\\s+cluster-01,cluster-02\\s+\\d+ KiB\\s+yes$`, 'm'))
    const noKey = await obsctl(['backup', 'create', '-c', inv.file], {env: {OBSCTL_BACKUP_KEY: undefined}})
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toMatch(/OBSCTL_BACKUP_KEY is not set/)
  }, 180_000)
  it('two runs started in the same second (two copies of the inventory) make two backups that share no file; a run whose id another run holds on the node stops', async () => {
    // a second operator's copy of the inventory, told apart by a comment
    const dir2 = mkdtempSync(path.join(os.tmpdir(), 'obsctl-backup-copy-'))
    cpSync(path.join(dir, '.obsctl', 'pki'), path.join(dir2, '.obsctl', 'pki'), {recursive: true})
    writeFileSync(path.join(dir2, 'obsctl.yaml'), `${readFileSync(inv.file, 'utf8')}# the second operator's copy\n`)
    const inv2 = loadInventory(path.join(dir2, 'obsctl.yaml'))
    // both ids are made within the same second: this machine's clock held at the start of one
    vi.useFakeTimers({toFake: ['Date'], now: Math.floor(Date.now() / 1000) * 1000, shouldAdvanceTime: true})
    let runs: Awaited<ReturnType<typeof backupCreate>>[]
    try {
      runs = await Promise.all([backupCreate(inv, {...quiet, clusters: ['cluster-02']}), backupCreate(inv2, {...quiet, clusters: ['cluster-02']})])
    } finally {
      vi.useRealTimers()
    }
    for (const r of runs) expect(r.ok, JSON.stringify(r.run.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
    const [a, b] = runs.map((r) => r.id) as [string, string]
    expect(a.slice(0, 16)).toBe(b.slice(0, 16))
    expect(a).not.toBe(b)
    for (const [r, file] of [
      [a, inv.file],
      [b, inv2.file],
    ] as const) {
      expect(await keys(`_obsctl/${r}/`)).toEqual(
        ['cluster-02.etcd.db.enc', 'cluster-02.etcd.json', 'manifest.json', 'obsctl-state.enc'].map((n) => `_obsctl/${r}/${n}`),
      )
      const snap = `_obsctl/${r}/cluster-02.etcd.db.enc`
      expect((await decrypt(await object(snap), BACKUP_KEY, snap)).equals(dbs[1]!)).toBe(true)
      // each backup holds its own run's inventory
      const stateName = `_obsctl/${r}/obsctl-state.enc`
      const state = JSON.parse((await decrypt(await object(stateName), BACKUP_KEY, stateName)).toString()) as {files: {path: string; data: string}[]}
      expect(Buffer.from(state.files.find((f) => f.path === 'obsctl.yaml')!.data, 'base64').toString()).toBe(readFileSync(file, 'utf8'))
    }
    expect(onNode(sb.nodes[1]!, 'ls -A /var/lib/obsctl/backup').trim()).toBe('')

    // a run of an id whose folder on the node another run holds (running, or interrupted) stops, and leaves it as it was
    const held = '20260101T000000Z-0a0b0c'
    writeBytes(sb.nodes[1]!, `/var/lib/obsctl/backup/${held}/cluster-02.db`, Buffer.from('the other run snapshot\n'))
    const r = await backupCreate(inv, {...quiet, clusters: ['cluster-02'], id: held})
    expect(r.ok).toBe(false)
    expect(r.run.phases[0]!.tasks[0]!.failure).toMatchObject({code: 'BACKUP_ID_IN_USE', hints: [expect.stringContaining(`/var/lib/obsctl/backup/${held}`)]})
    expect(onNode(sb.nodes[1]!, `cat /var/lib/obsctl/backup/${held}/cluster-02.db && rm -r /var/lib/obsctl/backup/${held}`)).toBe('the other run snapshot\n')
    expect(await keys(`_obsctl/${held}/`)).toEqual([])
  }, 120_000)
})

describe('backup create stopped on a node', () => {
  const BACKUP_DIR = '/var/lib/obsctl/backup'
  const RESTORE_DIR = '/var/lib/obsctl/restore'
  const ls = (node: SandboxNode, d: string) => onNode(node, `ls -A ${d} 2>/dev/null; true`).split('\n').filter(Boolean).sort()
  /** The node's sshd process a marker names (session=<pid>.<start>) is gone: that connection has ended. */
  const sessionGone = async (node: SandboxNode, marker: string) => {
    const m = /^session=(\d+)\.(\d+)$/m.exec(onNode(node, `cat ${marker}`))
    expect(m, marker).toBeTruthy()
    await waitFor(() => onNode(node, `awk '{print $22}' /proc/${m![1]}/stat 2>/dev/null; true`).trim() !== m![2], 60_000, `the session of ${marker} to end`)
  }
  const connect = async (node: SandboxNode) => connectNode(sb, node, {knownHostsFile: path.join(dir, '.obsctl', 'known_hosts')})

  it.each(['SIGINT', 'SIGTERM'])(
    'stopped by %s with the snapshot taken on the node: the folder is removed all the same, and the output says so',
    async (sig) => {
      requireBuild()
      const node = sb.nodes[0]!
      node.clearCalls()
      const r = await obsctl(['backup', 'create', '-c', inv.file, '--cluster', 'cluster-01'], {
        env: {OBSCTL_TEST_KILL_AT: 'backup-etcd:snapshot-taken', OBSCTL_TEST_KILL_SIGNAL: sig},
      })
      expect(r.status, r.stderr).toBe(130)
      // the snapshot was taken in the run's folder …
      const taken = node.calls().find((c) => c.line.startsWith('etcdctl '))?.line ?? ''
      const folder = /snapshot save (\/var\/lib\/obsctl\/backup\/\S+)\/cluster-01\.db/.exec(taken)?.[1]
      expect(folder, taken).toBeDefined()
      // … and is gone, which the run says (its progress and the task's interruption)
      expect(ls(node, BACKUP_DIR)).toEqual([])
      expect(r.stderr).toContain(`backup-etcd cluster-01: removed ${folder} (the snapshot) from root@`)
      expect(r.stderr).toMatch(new RegExp(`backup-etcd cluster-01: interrupted.*removed ${folder} \\(the snapshot\\)`))
    },
    60_000,
  )

  it('killed (SIGKILL) with the snapshot on the node: the next backup create there removes it and a killed restore’s copy no record names, never what runs still going have there', async () => {
    requireBuild()
    const node = sb.nodes[0]!
    // another backup, still going (its connection open), has its folder on the node
    const live = await connect(node)
    const going = await claimSnapshotDir(live, '20260101T000000Z-0a0a0a', 'run-still-going')
    writeBytes(node, `${going.dir}/cluster-01.db`, Buffer.from('the snapshot of a backup still going\n'))

    const killed = await obsctl(['backup', 'create', '-c', inv.file, '--cluster', 'cluster-01'], {env: {OBSCTL_TEST_KILL_AT: 'backup-etcd:snapshot-taken'}})
    expect(killed.status, killed.stderr).toBeNull()
    const left = ls(node, BACKUP_DIR).filter((d) => d !== '20260101T000000Z-0a0a0a')
    expect(left).toHaveLength(1)
    const folder = `${BACKUP_DIR}/${left[0]}`
    expect(ls(node, folder)).toEqual(['.obsctl-run', 'cluster-01.db'])
    // the killed run's own claim kept the live one's
    expect(ls(node, going.dir)).toEqual(['.obsctl-run', 'cluster-01.db'])
    await sessionGone(node, `${folder}/.obsctl-run`)
    const killedRun = (JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {runId: string; status: string}>})
      .tasks['backup-etcd/cluster-01']!
    expect(killedRun.status).toBe('running')

    // restores' snapshot copies: one a killed restore placed before its record (its run gone), one the node's record
    // names (a restore to resume), one a restore still going is placing
    const copy = (id: string) => `${RESTORE_DIR}/${id}-cluster-01.db`
    const dead = await connect(node)
    await markRestoreCopy(dead, copy('20260102T000000Z-0b0b0b'), 'run-restore-killed')
    await markRestoreCopy(dead, copy('20260103T000000Z-0c0c0c'), 'run-restore-to-resume')
    dead.close()
    await markRestoreCopy(live, copy('20260104T000000Z-0d0d0d'), 'run-restore-going')
    for (const id of ['20260102T000000Z-0b0b0b', '20260103T000000Z-0c0c0c', '20260104T000000Z-0d0d0d']) writeBytes(node, copy(id), Buffer.from(`copy ${id}\n`))
    writeBytes(node, `${RESTORE_DIR}/in-progress`, Buffer.from('id=20260103T000000Z-0c0c0c\nrun=run-restore-to-resume\n'))
    await sessionGone(node, `${copy('20260102T000000Z-0b0b0b')}.run`)
    // folders without a marker (an earlier obsctl's): two days old, and new; a name obsctl does not make
    onNode(
      node,
      `mkdir -p ${BACKUP_DIR}/20251201T000000Z/ ${BACKUP_DIR}/20251202T000000Z-0e0e0e ${BACKUP_DIR}/notes && touch -d '2 days ago' ${BACKUP_DIR}/20251201T000000Z ${BACKUP_DIR}/notes`,
    )

    const r = await backupCreate(inv, {...quiet, clusters: ['cluster-01']})
    expect(r.ok, JSON.stringify(r.run.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
    const removed = r.clusters[0]!.leftoversRemoved
    expect([...removed].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      {path: `${BACKUP_DIR}/20251201T000000Z`},
      {path: folder, run: expect.any(String), since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)},
      {path: copy('20260102T000000Z-0b0b0b'), run: 'run-restore-killed', since: expect.any(String)},
    ])
    // the run the folder's marker names is the killed one (the journal has it running)
    expect(removed.find((x) => x.path === folder)!.run).toBe(killedRun.runId)
    expect(readFileSync(r.run.phases[0]!.tasks[0]!.logFile!, 'utf8')).toContain(`removed 3 things runs no longer running left on root@`)
    expect(ls(node, BACKUP_DIR)).toEqual(['20251202T000000Z-0e0e0e', '20260101T000000Z-0a0a0a', 'notes'])
    expect(ls(node, going.dir)).toEqual(['.obsctl-run', 'cluster-01.db'])
    expect(ls(node, RESTORE_DIR)).toEqual(
      [
        '20260103T000000Z-0c0c0c-cluster-01.db',
        '20260103T000000Z-0c0c0c-cluster-01.db.run',
        '20260104T000000Z-0d0d0d-cluster-01.db',
        '20260104T000000Z-0d0d0d-cluster-01.db.run',
        'in-progress',
      ].sort(),
    )

    // the backup and the restore that were going end (their connection closes): the next run removes theirs
    live.close()
    await sessionGone(node, `${going.dir}/.obsctl-run`)
    const again = await backupCreate(inv, {...quiet, clusters: ['cluster-01']})
    expect(again.ok).toBe(true)
    expect(again.clusters[0]!.leftoversRemoved.map((x) => x.path).sort()).toEqual([going.dir, copy('20260104T000000Z-0d0d0d')])
    expect(ls(node, BACKUP_DIR)).toEqual(['20251202T000000Z-0e0e0e', 'notes'])
    // the record's copy stays as long as the record does
    expect(ls(node, RESTORE_DIR)).toEqual(['20260103T000000Z-0c0c0c-cluster-01.db', '20260103T000000Z-0c0c0c-cluster-01.db.run', 'in-progress'])
    onNode(node, `rm -r ${RESTORE_DIR}/* ${BACKUP_DIR}/*`)
  }, 120_000)
})

describe('backup restore', () => {
  it('puts the snapshot back as etcd’s data dir (the old one kept) and etcd answers healthy', async () => {
    const node = sb.nodes[0]!
    // the cluster moved on after the backup
    const later = Buffer.from('etcd data written after the backup\n')
    writeBytes(node, '/var/lib/etcd/member/snap/db', later)
    node.clearCalls()
    const r = await backupRestore(inv, id, 'cluster-01', {...quiet, pollMs: 100})
    expect(r.ok, JSON.stringify(r.run?.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
    expect(nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(dbs[0]!)).toBe(true)
    expect(r.restored!.previousDataDir).toMatch(new RegExp(`^/var/lib/etcd\\.before-restore-${id}-`))
    expect(nodeBytes(node, `${r.restored!.previousDataDir}/member/snap/db`).equals(later)).toBe(true)
    expect(node.file('/var/lib/etcd/member/restored-as')?.trim()).toBe(`${node.hostname} ${node.hostname}=https://${node.ip}:2380`)
    for (const pod of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'])
      expect(node.file(`/etc/kubernetes/manifests/${pod}.yaml`), pod).toBeDefined()
    const lines = node.calls().map((c) => c.line)
    const restore = lines.findIndex((l) => l.startsWith('etcdutl snapshot restore'))
    expect(restore).toBeGreaterThan(0)
    // etcd was answering neither during the restore (its manifest was parked) … and healthy after
    expect(lines.slice(restore).some((l) => /^etcdctl .*endpoint health/.test(l))).toBe(true)
    expect(r.restored).toMatchObject({cluster: 'cluster-01', id})
    expect(onNode(node, 'ls -A /var/lib/obsctl/restore').trim()).toBe('')
    expect(lines.join('\n')).not.toContain(BACKUP_KEY)
  }, 240_000)

  it('killed (SIGKILL) with the data dir moved aside, and again once etcd was restored: the reruns finish without restoring twice, and the data dir as it was is the one kept and named', async () => {
    requireBuild()
    const node = sb.nodes[0]!
    // the cluster moved on after the backup
    const later = Buffer.from('etcd data written after the backup, before the killed restore\n')
    writeBytes(node, '/var/lib/etcd/member/snap/db', later)
    node.clearCalls()
    const args = ['backup', 'restore', id, '--cluster', 'cluster-01', '--yes', '-c', inv.file, '--pod-timeout', '60']
    const parked = () => onNode(node, 'ls /etc/kubernetes/obsctl-parked-manifests 2>/dev/null || true').split('\n').filter(Boolean).sort()
    const restores = () => node.calls().filter((c) => c.line.startsWith('etcdutl snapshot restore')).length
    const journal = () =>
      (JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {status: string}>}).tasks['restore-etcd/cluster-01']
        ?.status
    const all = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']

    // 1. killed with the control plane stopped and the data dir moved aside, nothing restored yet
    const first = await obsctl(args, {env: {OBSCTL_TEST_KILL_AT: 'restore-etcd:data-dir-aside'}})
    expect(first.status, first.stderr).toBeNull()
    expect(parked()).toEqual(all)
    expect(onNode(node, '[ -e /var/lib/etcd ] && echo there || echo gone').trim()).toBe('gone')
    expect(restores()).toBe(0)
    expect(journal()).toBe('running')

    // 2. the rerun killed once etcdutl restored the snapshot, the pods still stopped
    const second = await obsctl(args, {env: {OBSCTL_TEST_KILL_AT: 'restore-etcd:restored'}})
    expect(second.status, second.stderr).toBeNull()
    expect(restores()).toBe(1)
    expect(nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(dbs[0]!)).toBe(true)
    expect(parked()).toEqual(all)

    // 3. the rerun finishes: the pods start on the restored data, which is not restored again
    const third = await obsctl([...args, '--json'])
    expect(third.status, third.stderr + third.stdout.slice(0, 2000)).toBe(0)
    const out = JSON.parse(third.stdout) as BackupRestoreResult
    expect(out.ok).toBe(true)
    expect(restores()).toBe(1)
    expect(nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(dbs[0]!)).toBe(true)
    expect(parked()).toEqual([])
    for (const pod of all) expect(node.file(`/etc/kubernetes/manifests/${pod}`), pod).toBeDefined()
    expect(node.calls().some((c) => /^etcdctl .*endpoint health/.test(c.line))).toBe(true)
    // the data dir as it was when the first run stopped etcd: kept, and the one the report names
    expect(out.restored!.previousDataDir).toMatch(new RegExp(`^/var/lib/etcd\\.before-restore-${id}-`))
    expect(nodeBytes(node, `${out.restored!.previousDataDir}/member/snap/db`).equals(later)).toBe(true)
    expect(onNode(node, 'ls -A /var/lib/obsctl/restore').trim()).toBe('')
    expect(journal()).toBe('done')
  }, 240_000)

  it('after a restore given up (killed, its record left), restoring another backup stops and names --abandon; --abandon reports what is where, removes the record and keeps every data dir', async () => {
    requireBuild()
    const node = sb.nodes[0]!
    const args = ['backup', 'restore', id, '--cluster', 'cluster-01', '--yes', '-c', inv.file, '--pod-timeout', '60']
    const killed = await obsctl(args, {env: {OBSCTL_TEST_KILL_AT: 'restore-etcd:data-dir-aside'}})
    expect(killed.status, killed.stderr).toBeNull()
    const state = () => onNode(node, 'ls -d /var/lib/etcd* /etc/kubernetes/obsctl-parked-manifests/* 2>/dev/null; true')
    const before = state()
    expect(before).toContain('/etc/kubernetes/obsctl-parked-manifests/etcd.yaml')
    const previous = onNode(node, "sed -n 's/^previous=//p' /var/lib/obsctl/restore/in-progress").trim()
    expect(before).toContain(previous)

    // another backup's restore stops before the node changes or anything is downloaded
    const other = '20261201T030000Z-0a0b0c'
    const r = await backupRestore(inv, other, 'cluster-01', quiet)
    expect(r.run?.phases[0]!.tasks[0]!.failure).toMatchObject({
      code: 'RESTORE_OTHER_IN_PROGRESS',
      exitCode: 2,
      message: expect.stringContaining(`unfinished restore of backup ${id}`),
      hints: [
        expect.stringContaining(`obsctl backup restore ${id} --cluster cluster-01`),
        expect.stringContaining('obsctl backup restore --abandon --cluster cluster-01'),
      ],
    })
    expect(state()).toBe(before)

    // misuse: exit 2, naming the flag
    const both = await obsctl(['backup', 'restore', id, '--abandon', '--cluster', 'cluster-01', '-c', inv.file])
    expect(both.status).toBe(2)
    expect(both.stderr).toMatch(/--abandon .*takes no backup id/)
    const none = await obsctl(['backup', 'restore', '--cluster', 'cluster-01', '-c', inv.file])
    expect(none.status).toBe(2)
    expect(none.stderr).toMatch(/--abandon/)

    // it asks first, as every command that removes what a rerun needs does: without a terminal it needs --yes (exit 2,
    // naming it), and a "no" at the terminal ends it (exit 1); either way the record and the copy stay
    const restoreDir = () => onNode(node, 'ls -A /var/lib/obsctl/restore').trim()
    const recorded = restoreDir()
    expect(recorded).toContain('in-progress')
    const noTty = await obsctl(['backup', 'restore', '--abandon', '--cluster', 'cluster-01', '-c', inv.file, '--json'])
    expect(noTty.status, noTty.stderr + noTty.stdout).toBe(2)
    expect(noTty.stdout + noTty.stderr).toMatch(/--yes/)
    expect(restoreDir()).toBe(recorded)
    const term = await Terminal.start(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} backup restore --abandon --cluster cluster-01 -c ${inv.file}`,
      {
        cwd: dir,
      },
    )
    try {
      // the node as every message writes it (user@host, ../../src/lib/ssh-login.ts), not the inventory's name or host alone
      const login = `root@[${node.ip}]:${node.port}`.replace(/[[\].]/g, '\\$&')
      await term.waitFor(/\(y\/N\)/)
      expect(await term.screen()).toMatch(new RegExp(`give up the restore in progress on cluster-01 \\(${login}\\), if there is one: .*\\(y/N\\)`, 's'))
      await term.type('n')
      await term.keys('Enter')
      expect(await term.exitCode()).toBe(1)
      expect(await term.screen()).toMatch(/declined/)
    } finally {
      await term.close()
    }
    expect(restoreDir()).toBe(recorded)
    expect(state()).toBe(before)

    const a = await obsctl(['backup', 'restore', '--abandon', '--cluster', 'cluster-01', '-c', inv.file, '--yes', '--json'])
    expect(a.status, a.stderr + a.stdout.slice(0, 2000)).toBe(0)
    const out = JSON.parse(a.stdout) as BackupAbandonResult
    expect(out.abandoned).toMatchObject({
      cluster: 'cluster-01',
      record: {id, previous},
      previousExists: true,
      dataDirExists: false,
      removed: [`/var/lib/obsctl/restore/${id}-cluster-01.db`, '/var/lib/obsctl/restore/in-progress'],
      next: [
        `to go back to the data dir as it was before that restore: mv ${previous} /var/lib/etcd`,
        expect.stringContaining('the control plane is stopped'),
        expect.stringContaining('the kept data dirs stay until you remove them'),
      ],
    })
    expect(out.abandoned!.parkedManifests).toHaveLength(4)
    expect(out.abandoned!.keptDataDirs).toContain(previous)
    // no data dir moved or deleted: only the record and the snapshot copy are gone
    expect(state()).toBe(before)
    expect(onNode(node, 'ls -A /var/lib/obsctl/restore').trim()).toBe('')
    // the other backup's restore goes past the record now (and stops at the backup, which does not exist)
    const again = await backupRestore(inv, other, 'cluster-01', quiet)
    expect(again.run?.phases[0]!.tasks[0]!.failure).toMatchObject({code: 'BACKUP_NOT_FOUND'})
    // the node as it was before the killed restore, for the tests after this one
    onNode(node, `mv ${previous} /var/lib/etcd && mv /etc/kubernetes/obsctl-parked-manifests/*.yaml /etc/kubernetes/manifests/`)
  }, 120_000)

  it('killed while it uploads its snapshot copy (as root): node preflight names the file it left, the next restore removes it first and says so, never a live connection’s', async () => {
    requireBuild()
    const node = sb.nodes[0]!
    const R = '/var/lib/obsctl/restore'
    const uploads = () =>
      onNode(node, `ls -A ${R} 2>/dev/null; true`)
        .split('\n')
        .filter((n) => n.startsWith('.obsctl-upload-'))
    const killed = await obsctl(['backup', 'restore', id, '--cluster', 'cluster-01', '--yes', '-c', inv.file], {
      env: {OBSCTL_TEST_KILL_AT: 'ssh-upload:written'},
    })
    expect(killed.status, killed.stderr).toBeNull()
    // the whole snapshot, in plaintext, in the upload's file beside the copy it was to become, named after the
    // killed run's connection (its sshd process on the node)
    const [left] = uploads()
    const m = /^\.obsctl-upload-(\d+)\.(\d+)-[0-9a-f]{16}-(.+)$/.exec(left ?? '')
    expect(m?.[3], onNode(node, `ls -A ${R}`)).toBe(`${id}-cluster-01.db`)
    expect(nodeBytes(node, `${R}/${left}`).equals(dbs[0]!)).toBe(true)
    await waitFor(() => onNode(node, `awk '{print $22}' /proc/${m![1]}/stat 2>/dev/null; true`).trim() !== m![2], 60_000, 'the killed run’s connection to end')
    // another restore's upload, its connection still open
    const live = await SshConnection.connect({
      host: node.ip,
      port: node.port,
      user: 'root',
      knownHostsFile: path.join(dir, '.obsctl', 'known_hosts'),
      privateKey: readFileSync(sb.clientKey),
    })
    const liveUpload = `.obsctl-upload-${await live.session()}-0123456789abcdef-20260105T000000Z-0d0d0d-cluster-01.db`
    writeBytes(node, `${R}/${liveUpload}`, Buffer.from('a restore still uploading\n'))

    // node preflight (it connects to every node anyway) names it, and the command that removes it
    const preflightCheck = async () => {
      const pre = await obsctl(['node', 'preflight', 'cluster-01', '-c', inv.file, '--json'])
      return (JSON.parse(pre.stdout) as PreflightReport).checks.find((c) => c.id === 'leftovers' && c.host === node.ip)
    }
    const warned = await preflightCheck()
    expect(warned).toMatchObject({
      status: 'warn',
      title: 'Leftovers of obsctl runs',
      detail: expect.stringContaining(`${R}/${left}`),
      hint: 'the next obsctl backup create --cluster cluster-01 (or backup restore --cluster cluster-01) removes them',
    })
    expect(warned!.detail).not.toContain(liveUpload)

    // the rerun removes it before it places its own copy
    const r = await backupRestore(inv, id, 'cluster-01', {...quiet, pollMs: 100})
    expect(r.ok, JSON.stringify(r.run?.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
    expect(r.restored!.leftoversRemoved).toEqual([{path: `${R}/${left}`, since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)}])
    expect(readFileSync(r.run!.phases[0]!.tasks[0]!.logFile!, 'utf8')).toContain(
      `removed what a run no longer running left on root@[${node.ip}]:${node.port}: ${R}/${left}`,
    )
    expect(r.run!.phases[0]!.tasks[0]!.summary).toContain('removed 1 left by runs no longer running')
    expect(uploads()).toEqual([liveUpload])
    live.close()
    onNode(node, `rm ${R}/${liveUpload}`)
    expect(await preflightCheck()).toMatchObject({status: 'pass', detail: 'none'})
  }, 240_000)

  it('the wrong key stops before anything on the node changes', async () => {
    const node = sb.nodes[1]!
    node.clearCalls()
    process.env.OBSCTL_BACKUP_KEY = 'not-the-key-the-backup-was-made-with'
    try {
      const r = await backupRestore(inv, id, 'cluster-02', quiet)
      expect(r.ok).toBe(false)
      expect(r.run?.phases[0]!.tasks[0]!.failure).toMatchObject({code: 'BACKUP_DECRYPT'})
    } finally {
      process.env.OBSCTL_BACKUP_KEY = BACKUP_KEY
    }
    expect(node.calls()).toEqual([])
    expect(nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(dbs[1]!)).toBe(true)
  }, 120_000)

  it('refuses a cluster with several control planes (exit 2) and an unknown backup', async () => {
    // cluster-01 with a second control-plane node
    const text = sandboxInventory(sb, [[0, 2], [1]])
      .replace('endpoint: https://s3.sandbox.test', `endpoint: ${s3.url}`)
      .replace('roles: [worker]', 'roles: [control-plane, worker]')
    const multiDir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-backup-multi-'))
    writeFileSync(path.join(multiDir, 'obsctl.yaml'), text)
    const multi = loadInventory(path.join(multiDir, 'obsctl.yaml'))
    expect(multi.platform.clusters[0]!.nodes.filter((n) => n.roles.includes('control-plane'))).toHaveLength(2)
    await expect(backupRestore(multi, id, 'cluster-01', quiet)).rejects.toMatchObject({
      exitCode: 2,
      code: 'RESTORE_MULTI_CP',
      hints: [expect.stringContaining('docs/backup.md')],
    })
    const r = await backupRestore(inv, '20200101T000000Z', 'cluster-02', quiet)
    expect(r.run?.phases[0]!.tasks[0]!.failure).toMatchObject({code: 'BACKUP_NOT_FOUND', exitCode: 2})
    await expect(backupRestore(inv, 'latest', 'cluster-02', quiet)).rejects.toMatchObject({exitCode: 2, code: 'BAD_BACKUP_ID'})
  }, 120_000)
})

describe('Longhorn volume backups', () => {
  it('a RecurringJob backs every volume up to the backups bucket on the inventory’s schedule', () => {
    const p = platformOf()
    p.backup.volumes = {schedule: '30 1 * * *', retain: 14}
    const files = renderFiles(p)
    const c = p.clusters[1]!
    const base = `deploy/overlays/${c.name}-${c.role}/longhorn/`
    // one RecurringJob every cluster's Longhorn overlay includes (deploy/base/longhorn)
    const job = files.find((f) => f.path === 'deploy/base/longhorn/recurring-job.yaml')
    expect(
      job,
      files
        .map((f) => f.path)
        .filter((x) => x.includes('longhorn'))
        .join(', '),
    ).toBeDefined()
    expect(YAML.parse(job!.content)).toEqual({
      apiVersion: 'longhorn.io/v1beta2',
      kind: 'RecurringJob',
      metadata: {name: 'obsctl-backup', namespace: 'longhorn-system'},
      spec: {
        name: 'obsctl-backup',
        task: 'backup',
        cron: '30 1 * * *',
        retain: 14,
        concurrency: 2,
        groups: ['default'],
        labels: {'app.kubernetes.io/managed-by': 'obsctl'},
      },
    })
    expect(files.find((f) => f.path === 'deploy/base/longhorn/kustomization.yaml')!.content).toMatch(/resources:\n {2}- recurring-job\.yaml/)
    const k = YAML.parse(files.find((f) => f.path === `${base}kustomization.yaml`)!.content) as {
      resources: string[]
      helmCharts: {valuesInline: {defaultBackupStore: {backupTarget: string}}}[]
    }
    expect(k.resources).toContain('../../../base/longhorn')
    // its backup target is the cluster's folder in the backups bucket (values inline in its kustomization)
    expect(k.helmCharts[0]!.valuesInline.defaultBackupStore.backupTarget).toContain(`s3://${p.s3.buckets.backups.name}@`)
  })
})
