/**
 * Backups on day 2 (issue 15): an etcd snapshot of each cluster and obsctl's own files, encrypted
 * client-side (./envelope.ts) and kept in the inventory's backups bucket (s3.buckets.backups, the one
 * Longhorn backs volumes up to) under `_obsctl/<id>/` — a prefix no cluster folder of Longhorn's
 * (`<cluster>/`, a DNS label) can have:
 *
 *   _obsctl/<id>/<cluster>.etcd.db.enc   the snapshot, encrypted
 *   _obsctl/<id>/<cluster>.etcd.json     what it is (node, size, sha256 of the snapshot, etcd revision): no secret
 *   _obsctl/<id>/obsctl-state.enc        inventory, .obsctl/pki/*, known_hosts (JSON of the files), encrypted
 *   _obsctl/<id>/manifest.json           written last: the backup is complete
 *
 * Phases (registered in ../flows/registry.ts): `backup-etcd` (one task per cluster: `etcdctl snapshot
 * save` on its first control-plane node over SSH, `etcdutl snapshot status` and sha256sum there, copied
 * over SFTP and checked against that sha256, encrypted, uploaded), `backup-state` (the obsctl files and
 * the manifest); `restore-etcd` is in ./restore.ts, the node side in ./etcd-node.ts.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {findCluster, firstControlPlane, nodeName, obsctlDir} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import type {S3Credentials, S3Session} from '../s3/client.js'
import {decrypt, encrypt, ENVELOPE} from './envelope.js'
import {WORK_DIR, connOf, fetchRootFile, takeSnapshot} from './etcd-node.js'
import {rootRun} from './static-pods.js'

export const BACKUP_PREFIX = '_obsctl/'

export const backupBucket = (p: Platform) => p.s3.buckets.backups.name
export const objectKey = (id: string, name: string) => `${BACKUP_PREFIX}${id}/${name}`
export const snapshotName = (cluster: string) => `${cluster}.etcd.db`

/** 20261202T115300Z: sortable, safe in an object name. */
export function newBackupId(at = new Date()): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

export function checkBackupId(id: string): string {
  if (!/^\d{8}T\d{6}Z$/.test(id)) throw inputError(`backup id ${id}: expected an id such as 20261202T115300Z`, ['obsctl backup list shows the ids'], 'BAD_BACKUP_ID')
  return id
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

export interface EtcdSnapshotMeta {
  id: string
  cluster: string
  node: string
  host: string
  createdAt: string
  /** bytes of the snapshot (before encryption) */
  size: number
  sha256: string
  /** `etcdutl snapshot status -w json` */
  etcd: {hash?: number; revision?: number; totalKey?: number; totalSize?: number; version?: string}
  encryption: typeof ENVELOPE
}

export interface BackupManifest {
  id: string
  createdAt: string
  clusters: string[]
  files: string[]
  keyEnv: string
  encryption: typeof ENVELOPE
}

// ---------------------------------------------------------------------------------------------
// S3

/** Options every backup phase shares: where S3 is and the secrets resolved before the run (memory only). */
export interface BackupS3Options {
  /** --ca-file (else s3.caFile) */
  caFile?: string
  /** per S3 request (default 600 s: snapshots are large) */
  timeoutSeconds?: number
  /** resolved by the command; else env vars or a prompt */
  credentials?: S3Credentials
  /** the backup encryption secret (from the env var; never journaled) */
  secret: string
}

export function backupS3(ctx: RunContext, o: BackupS3Options): Promise<S3Session> {
  return ctx.resources.getOrCreate<S3Session>(
    'backup.s3',
    async () => (await import('../s3/phases.js')).connectS3(ctx.inv, {caFile: o.caFile, timeoutSeconds: o.timeoutSeconds ?? 600, credentials: o.credentials, signal: ctx.signal}),
    (s) => s.close(),
  )
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export async function putObject(session: S3Session, bucket: string, key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
  await session.call(`upload s3://${bucket}/${key}`, (c) => c.putObject(bucket, key, body, body.length, {'Content-Type': contentType}))
}

export async function getObject(session: S3Session, bucket: string, key: string): Promise<Buffer> {
  return session.call(`download s3://${bucket}/${key}`, async (c) => readAll(await c.getObject(bucket, key)))
}

export interface ObjectInfo {
  name: string
  size: number
  lastModified?: string
}

export async function listObjects(session: S3Session, bucket: string, prefix: string): Promise<ObjectInfo[]> {
  return session.call(`list s3://${bucket}/${prefix}`, async (c) => {
    if (!(await c.bucketExists(bucket))) throw inputError(`bucket ${bucket} does not exist`, ['obsctl s3 setup creates it (s3.buckets.backups)'], 'S3_NO_BUCKET')
    const out: ObjectInfo[] = []
    await new Promise<void>((resolve, reject) => {
      const s = c.listObjectsV2(bucket, prefix, true)
      s.on('data', (i: {name?: string; size?: number; lastModified?: Date}) => {
        if (i.name) out.push({name: i.name, size: i.size ?? 0, lastModified: i.lastModified?.toISOString()})
      })
      s.on('error', reject)
      s.on('end', () => resolve())
    })
    return out
  })
}

// ---------------------------------------------------------------------------------------------
// backup-etcd

export interface ClusterTarget extends Target {
  cluster: string
}

export interface BackupEtcdOptions extends BackupS3Options {
  /** the backup's id (newBackupId), shared by the phases of one `backup create` */
  id: string
}

export interface BackupEtcdReport {
  id: string
  cluster: string
  node: string
  object: string
  size: number
  sha256: string
  revision?: number
}

export function clusterOf(ctx: RunContext, name: string): Cluster {
  const c = findCluster(ctx.platform, name)
  if (!c) throw inputError(`cluster ${name} is not in the inventory`, [`clusters: ${ctx.platform.clusters.map((x) => x.name).join(', ')}`], 'UNKNOWN_CLUSTER')
  return c
}

export function backupEtcdPhase(o: BackupEtcdOptions): Phase<ClusterTarget, BackupEtcdReport> {
  return {
    name: 'backup-etcd',
    title: 'etcd snapshot of every cluster, encrypted, to S3',
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${nodeName(firstControlPlane(c))})`})),
    fingerprint: (t, ctx) => ({id: o.id, cluster: t.cluster, bucket: backupBucket(ctx.platform), endpoint: ctx.platform.s3.endpoint}),
    async prepare(_t, ctx) {
      await (await import('../ssh/pool.js')).prepareSsh(ctx)
      await backupS3(ctx, o)
    },
    describe: (t, ctx) =>
      `ssh ${firstControlPlane(clusterOf(ctx, t.cluster)).host}: etcdctl snapshot save, etcdutl snapshot status, sha256sum; copy it here, check the sha256, encrypt (AES-256-GCM), upload s3://${backupBucket(ctx.platform)}/${objectKey(o.id, `${snapshotName(t.cluster)}.enc`)}`,
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      const node = firstControlPlane(c)
      const conn = await connOf(ctx, node)
      const file = `${WORK_DIR}/${o.id}-${c.name}.db`
      const log = (l: string) => io.log(l)
      const snap = await takeSnapshot(conn, file, log, ctx.signal)
      const data = await fetchRootFile(conn, file, ctx.signal)
      const got = sha256(data)
      if (got !== snap.sha256) throw new ObsctlError(`the snapshot copied from ${conn.label} has sha256 ${got}, the node's file ${snap.sha256}`, {code: 'CHECKSUM', hints: ['rerun obsctl backup create; the transfer was damaged']})
      io.log(`copied ${data.length} bytes; sha256 ${got} matches the node's`)
      const session = await backupS3(ctx, o)
      const bucket = backupBucket(ctx.platform)
      const encName = objectKey(o.id, `${snapshotName(c.name)}.enc`)
      await putObject(session, bucket, encName, await encrypt(data, o.secret, encName))
      const meta: EtcdSnapshotMeta = {id: o.id, cluster: c.name, node: nodeName(node), host: node.host, createdAt: new Date().toISOString(), size: data.length, sha256: got, etcd: snap.etcd, encryption: ENVELOPE}
      await putObject(session, bucket, objectKey(o.id, `${c.name}.etcd.json`), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`), 'application/json')
      io.log(`uploaded s3://${bucket}/${encName}`)
      // the plaintext snapshot does not stay on the node
      await rootRun(conn, `rm -f ${file}`, `removing ${file}`, {signal: ctx.signal})
      return {summary: `${data.length} bytes, revision ${snap.etcd.revision ?? '?'}, sha256 ${got.slice(0, 12)}… → s3://${bucket}/${encName}`, report: {id: o.id, cluster: c.name, node: nodeName(node), object: encName, size: data.length, sha256: got, revision: snap.etcd.revision}}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// backup-state

export interface BackupStateOptions extends BackupS3Options {
  id: string
  /** the env var the secret came from (recorded in the manifest: its name, never its value) */
  keyEnv: string
  /** a --known-hosts file of this run */
  knownHostsFile?: string
}

export interface BackupStateReport {
  id: string
  files: string[]
  clusters: string[]
  manifest: string
}

interface StateFileEntry {
  /** relative to the inventory's folder (absolute when outside it) */
  path: string
  mode: number
  data: string
}

/** obsctl's side of the platform: the inventory, .obsctl/pki/*, known_hosts. */
export function stateFiles(ctx: Pick<RunContext, 'inv' | 'platform'>, knownHostsFile?: string): {file: string; rel: string}[] {
  const dir = ctx.inv.dir
  const rel = (f: string) => (path.relative(dir, f).startsWith('..') ? f : path.relative(dir, f))
  const out = [ctx.inv.file]
  const pki = path.join(obsctlDir(dir), 'pki')
  if (existsSync(pki)) for (const f of readdirSync(pki).sort()) if (statSync(path.join(pki, f)).isFile()) out.push(path.join(pki, f))
  const kh = knownHostsFile ?? (ctx.platform.ssh.knownHosts ? path.resolve(dir, ctx.platform.ssh.knownHosts) : path.join(obsctlDir(dir), 'known_hosts'))
  if (existsSync(kh)) out.push(kh)
  return out.map((f) => ({file: f, rel: rel(f)}))
}

export function backupStatePhase(o: BackupStateOptions): Phase<Target, BackupStateReport> {
  return {
    name: 'backup-state',
    title: "obsctl's files (inventory, platform CA, known_hosts), encrypted, and the backup manifest",
    targets: () => [{id: 'platform', title: 'inventory, .obsctl/pki, known_hosts'}],
    fingerprint: (_t, ctx) => ({id: o.id, bucket: backupBucket(ctx.platform), endpoint: ctx.platform.s3.endpoint}),
    prepare: async (_t, ctx) => void (await backupS3(ctx, o)),
    describe: (_t, ctx) => `encrypt ${stateFiles(ctx, o.knownHostsFile).map((f) => f.rel).join(', ')} into s3://${backupBucket(ctx.platform)}/${objectKey(o.id, 'obsctl-state.enc')}; write ${objectKey(o.id, 'manifest.json')}`,
    async run(_t, ctx, io) {
      const files = stateFiles(ctx, o.knownHostsFile)
      const entries: StateFileEntry[] = files.map((f) => ({path: f.rel, mode: statSync(f.file).mode & 0o777, data: readFileSync(f.file).toString('base64')}))
      const session = await backupS3(ctx, o)
      const bucket = backupBucket(ctx.platform)
      const name = objectKey(o.id, 'obsctl-state.enc')
      await putObject(session, bucket, name, await encrypt(Buffer.from(JSON.stringify({files: entries})), o.secret, name))
      io.log(`uploaded ${files.length} files to s3://${bucket}/${name}`)
      // the clusters whose snapshot is there (a cluster limited out of this run, or failed, is not listed)
      const objects = await listObjects(session, bucket, objectKey(o.id, ''))
      const clusters = objects.map((x) => /\/([^/]+)\.etcd\.json$/.exec(x.name)?.[1]).filter((x): x is string => Boolean(x)).sort()
      const manifest: BackupManifest = {id: o.id, createdAt: new Date().toISOString(), clusters, files: files.map((f) => f.rel), keyEnv: o.keyEnv, encryption: ENVELOPE}
      const mName = objectKey(o.id, 'manifest.json')
      await putObject(session, bucket, mName, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'application/json')
      return {summary: `${files.length} files; manifest ${mName} (clusters: ${clusters.join(', ') || 'none'})`, report: {id: o.id, files: manifest.files, clusters, manifest: mName}}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// list and read back

export interface BackupEntry {
  id: string
  createdAt?: string
  /** manifest.json is there: every phase of `backup create` finished */
  complete: boolean
  clusters: string[]
  files: string[]
  bytes: number
}

export function groupBackups(objects: ObjectInfo[], manifests: Map<string, BackupManifest>): BackupEntry[] {
  const by = new Map<string, ObjectInfo[]>()
  for (const o of objects) {
    const m = new RegExp(`^${BACKUP_PREFIX}([^/]+)/`).exec(o.name)
    if (!m) continue
    by.set(m[1]!, [...(by.get(m[1]!) ?? []), o])
  }
  return [...by.entries()]
    .map(([id, objs]) => {
      const man = manifests.get(id)
      const clusters = objs.map((x) => /\/([^/]+)\.etcd\.json$/.exec(x.name)?.[1]).filter((x): x is string => Boolean(x)).sort()
      return {id, createdAt: man?.createdAt ?? objs.map((x) => x.lastModified).sort()[0], complete: Boolean(man), clusters, files: man?.files ?? [], bytes: objs.reduce((a, x) => a + x.size, 0)}
    })
    .sort((a, b) => (a.id < b.id ? 1 : -1))
}

/** The obsctl files of a backup, decrypted (for a rebuild of obsctl's side; also what the tests compare). */
export async function readStateFiles(session: S3Session, p: Platform, id: string, secret: string): Promise<{path: string; mode: number; data: Buffer}[]> {
  const name = objectKey(id, 'obsctl-state.enc')
  const plain = await decrypt(await getObject(session, backupBucket(p), name), secret, name)
  return (JSON.parse(plain.toString('utf8')) as {files: StateFileEntry[]}).files.map((f) => ({path: f.path, mode: f.mode, data: Buffer.from(f.data, 'base64')}))
}

/** A cluster's snapshot in a backup, decrypted and checked against its recorded sha256. */
export async function readSnapshot(session: S3Session, p: Platform, id: string, cluster: string, secret: string): Promise<{meta: EtcdSnapshotMeta; data: Buffer}> {
  const bucket = backupBucket(p)
  const have = await listObjects(session, bucket, objectKey(id, ''))
  if (have.length === 0) throw inputError(`no backup ${id} in s3://${bucket}/${BACKUP_PREFIX}`, ['obsctl backup list shows the backups'], 'BACKUP_NOT_FOUND')
  const metaKey = objectKey(id, `${cluster}.etcd.json`)
  if (!have.some((x) => x.name === metaKey)) throw inputError(`backup ${id} has no etcd snapshot of ${cluster}`, ['obsctl backup list shows which clusters each backup holds'], 'BACKUP_NO_CLUSTER')
  const meta = JSON.parse((await getObject(session, bucket, metaKey)).toString('utf8')) as EtcdSnapshotMeta
  const encName = objectKey(id, `${snapshotName(cluster)}.enc`)
  const data = await decrypt(await getObject(session, bucket, encName), secret, encName)
  if (sha256(data) !== meta.sha256) throw new ObsctlError(`the snapshot in ${encName} does not match its recorded sha256`, {code: 'CHECKSUM'})
  return {meta, data}
}
