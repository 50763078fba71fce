/**
 * The backups in S3 (issue 15): names, ids and what the objects hold (the layout is in ./backup.ts),
 * the S3 session of a run, upload, download, listing, and reading a backup back (decrypted, checked).
 * `obsctl backup list` is here: it reads the bucket and runs no phase.
 */
import {randomBytes} from 'node:crypto'
import type {Readable} from 'node:stream'
import type {LoadedInventory} from '../config/load.js'
import type {Platform} from '../config/schema.js'
import type {RunContext} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {sha256} from '../hash.js'
import type {S3Credentials, S3Session} from '../platform/s3.js'
import {decrypt, ENVELOPE} from './envelope.js'

export const BACKUP_PREFIX = '_obsctl/'

export const backupBucket = (p: Platform) => p.s3.buckets.backups.name
export const objectKey = (id: string, name: string) => `${BACKUP_PREFIX}${id}/${name}`
export const snapshotName = (cluster: string) => `${cluster}.etcd.db`

/**
 * 20261202T115300Z-3f9a1c: the second it was made (sortable, safe in an object name) and 24 random bits, so two runs
 * started in the same second (two operators, a cron job and a person) never get one id and never share files, on the
 * nodes or in the bucket.
 */
export function newBackupId(at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

/** A backup id as newBackupId makes it, or without the random part (the ids of backups made before it had one). */
export function checkBackupId(id: string): string {
  if (!/^\d{8}T\d{6}Z(-[0-9a-f]{6})?$/.test(id))
    throw inputError(
      `backup id ${id}: expected an id such as 20261202T115300Z-3f9a1c (or 20261202T115300Z)`,
      ['obsctl backup list shows the ids'],
      'BAD_BACKUP_ID',
    )
  return id
}

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

/** The backup commands' flags for the S3 connection (named in its errors' hints). */
const BACKUP_S3_FLAGS = {caFile: true, timeout: '--timeout'} as const

export function backupS3(ctx: RunContext, o: BackupS3Options): Promise<S3Session> {
  return ctx.resources.getOrCreate<S3Session>(
    'backup.s3',
    async () =>
      (await import('../s3/phases.js')).connectS3(ctx.inv, {
        caFile: o.caFile,
        timeoutSeconds: o.timeoutSeconds ?? 600,
        credentials: o.credentials,
        flags: BACKUP_S3_FLAGS,
        signal: ctx.signal,
      }),
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
    if (!(await c.bucketExists(bucket)))
      throw inputError(`bucket ${bucket} does not exist`, ['obsctl s3 setup creates it (s3.buckets.backups)'], 'S3_NO_BUCKET')
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

/** One file of obsctl-state.enc. */
export interface StateFileEntry {
  /** relative to the inventory's folder (absolute when outside it) */
  path: string
  mode: number
  data: string
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
      const clusters = objs
        .map((x) => /\/([^/]+)\.etcd\.json$/.exec(x.name)?.[1])
        .filter((x): x is string => Boolean(x))
        .sort()
      return {
        id,
        createdAt: man?.createdAt ?? objs.map((x) => x.lastModified).sort()[0],
        complete: Boolean(man),
        clusters,
        files: man?.files ?? [],
        bytes: objs.reduce((a, x) => a + x.size, 0),
      }
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
export async function readSnapshot(
  session: S3Session,
  p: Platform,
  id: string,
  cluster: string,
  secret: string,
): Promise<{meta: EtcdSnapshotMeta; data: Buffer}> {
  const bucket = backupBucket(p)
  const have = await listObjects(session, bucket, objectKey(id, ''))
  if (have.length === 0) throw inputError(`no backup ${id} in s3://${bucket}/${BACKUP_PREFIX}`, ['obsctl backup list shows the backups'], 'BACKUP_NOT_FOUND')
  const metaKey = objectKey(id, `${cluster}.etcd.json`)
  if (!have.some((x) => x.name === metaKey))
    throw inputError(`backup ${id} has no etcd snapshot of ${cluster}`, ['obsctl backup list shows which clusters each backup holds'], 'BACKUP_NO_CLUSTER')
  const meta = JSON.parse((await getObject(session, bucket, metaKey)).toString('utf8')) as EtcdSnapshotMeta
  const encName = objectKey(id, `${snapshotName(cluster)}.enc`)
  const data = await decrypt(await getObject(session, bucket, encName), secret, encName)
  if (sha256(data) !== meta.sha256) throw new ObsctlError(`the snapshot in ${encName} does not match its recorded sha256`, {code: 'CHECKSUM'})
  return {meta, data}
}

/** The S3 keys: given (tests, or resolved by the caller), else the env vars the inventory names or a prompt. */
export async function backupCredentials(inv: LoadedInventory, given?: S3Credentials): Promise<S3Credentials> {
  return given ?? (await import('../platform/s3.js')).resolveCredentials(inv.platform)
}

export interface BackupListOptions {
  /** --ca-file for S3 */
  caFile?: string
  timeoutSeconds?: number
  /** resolved already (tests); else env vars or a prompt */
  credentials?: S3Credentials
}

export interface BackupListResult {
  bucket: string
  prefix: string
  backups: BackupEntry[]
}

/** `obsctl backup list`: the backups in the bucket, newest first, complete or not. */
export async function backupList(inv: LoadedInventory, o: BackupListOptions = {}): Promise<BackupListResult> {
  const {connectS3} = await import('../s3/phases.js')
  const session = await connectS3(inv, {
    caFile: o.caFile,
    timeoutSeconds: o.timeoutSeconds,
    credentials: await backupCredentials(inv, o.credentials),
    flags: BACKUP_S3_FLAGS,
  })
  try {
    const bucket = backupBucket(inv.platform)
    const objects = await listObjects(session, bucket, BACKUP_PREFIX)
    const manifests = new Map<string, BackupManifest>()
    for (const m of objects.filter((x) => x.name.endsWith('/manifest.json'))) {
      const man = JSON.parse((await getObject(session, bucket, m.name)).toString('utf8')) as BackupManifest
      manifests.set(man.id, man)
    }
    return {bucket, prefix: BACKUP_PREFIX, backups: groupBackups(objects, manifests)}
  } finally {
    session.close()
  }
}
