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
 * the manifest); `restore-etcd` is in ./restore.ts, the node side in ./etcd-node.ts, the objects and
 * their reading back in ./backup-store.ts.
 */
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {findCluster, firstControlPlane, nodeLogin, nodeName, obsctlDir} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ExitCode, ObsctlError, errorMessage, inputError} from '../errors.js'
import {
  backupBucket,
  backupS3,
  listObjects,
  objectKey,
  putObject,
  snapshotName,
  type BackupManifest,
  type BackupS3Options,
  type EtcdSnapshotMeta,
  type StateFileEntry,
} from './backup-store.js'
import {knownHostsPath} from '../config/files.js'
import {sha256} from '../hash.js'
import {encrypt, ENVELOPE} from './envelope.js'
import {claimSnapshotDir, connOf, fetchRootFile, requireTools, rootCleanup, takeSnapshot} from './etcd-node.js'
import {leftoversLine, sweepHome, type Leftover} from '../nodes/leftovers.js'
import {killPointHandled} from '../engine/kill-point.js'
import {shQuote} from '../shell-quote.js'

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
  /** what runs that are no longer running had left on the node, removed by this one (claimSnapshotDir) */
  leftoversRemoved: Leftover[]
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
      `ssh ${nodeLogin(ctx.platform, firstControlPlane(clusterOf(ctx, t.cluster)))}: etcdctl snapshot save, etcdutl snapshot status, sha256sum; copy it here, check the sha256, encrypt (AES-256-GCM), upload s3://${backupBucket(ctx.platform)}/${objectKey(o.id, `${snapshotName(t.cluster)}.enc`)}`,
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      const node = firstControlPlane(c)
      const conn = await connOf(ctx, node)
      const log = (l: string) => io.log(l)
      await requireTools(conn, ['etcdctl', 'etcdutl'], ctx.signal)
      // what killed runs left on the node goes first (a transfer file; then, with the claim, a snapshot folder, a
      // restore's copy no record names or its upload file): nothing of this run's is on the node before the claim
      const home = await sweepHome(conn, ctx.signal)
      const claimed = await claimSnapshotDir(conn, o.id, ctx.runId, ctx.signal)
      const {dir} = claimed
      const removed = [...claimed.removed, ...home]
      if (removed.length > 0) io.log(leftoversLine(removed, conn.label))
      const file = `${dir}/${c.name}.db`
      // the plaintext snapshot does not stay on the node, also when a step fails or the run is interrupted
      const removeSnapshot = () => rootCleanup(ctx, node, conn, `rm -rf ${shQuote(dir)}`, `removing ${dir}`)
      let snap: Awaited<ReturnType<typeof takeSnapshot>>
      let data: Buffer
      try {
        snap = await takeSnapshot(conn, file, log, ctx.signal)
        await killPointHandled('backup-etcd:snapshot-taken')
        data = await fetchRootFile(conn, file, ctx.signal)
      } catch (error) {
        const outcome = await removeSnapshot().then(
          () => `removed ${dir} (the snapshot) from ${conn.label}`,
          (e: unknown) =>
            `could not remove ${dir} (the snapshot) from ${conn.label}: ${errorMessage(e)}; the next obsctl backup create on ${nodeName(node)} removes it`,
        )
        io.log(outcome)
        if (!ctx.signal.aborted) throw error
        // interrupted: the run's output says what stays on the node
        throw new ObsctlError(`${errorMessage(error)}; ${outcome}`, {exitCode: ExitCode.interrupted, code: 'INTERRUPTED', cause: error})
      }
      await removeSnapshot()
      const got = sha256(data)
      if (got !== snap.sha256)
        throw new ObsctlError(`the snapshot copied from ${conn.label} has sha256 ${got}, the node's file ${snap.sha256}`, {
          code: 'CHECKSUM',
          hints: ['rerun obsctl backup create; the transfer was damaged'],
        })
      io.log(`copied ${data.length} bytes; sha256 ${got} matches the node's`)
      const session = await backupS3(ctx, o)
      const bucket = backupBucket(ctx.platform)
      const encName = objectKey(o.id, `${snapshotName(c.name)}.enc`)
      await putObject(session, bucket, encName, await encrypt(data, o.secret, encName))
      const meta: EtcdSnapshotMeta = {
        id: o.id,
        cluster: c.name,
        node: nodeName(node),
        host: node.host,
        createdAt: new Date().toISOString(),
        size: data.length,
        sha256: got,
        etcd: snap.etcd,
        encryption: ENVELOPE,
      }
      await putObject(session, bucket, objectKey(o.id, `${c.name}.etcd.json`), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`), 'application/json')
      io.log(`uploaded s3://${bucket}/${encName}`)
      const swept = removed.length > 0 ? `; removed ${removed.length} left by runs no longer running` : ''
      return {
        summary: `${data.length} bytes, revision ${snap.etcd.revision ?? '?'}, sha256 ${got.slice(0, 12)}… → s3://${bucket}/${encName}${swept}`,
        report: {
          id: o.id,
          cluster: c.name,
          node: nodeName(node),
          object: encName,
          size: data.length,
          sha256: got,
          revision: snap.etcd.revision,
          leftoversRemoved: removed,
        },
      }
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

/** obsctl's side of the platform: the inventory, .obsctl/pki/*, known_hosts. */
export function stateFiles(ctx: Pick<RunContext, 'inv' | 'platform'>, knownHostsFile?: string): {file: string; rel: string}[] {
  const dir = ctx.inv.dir
  const rel = (f: string) => (path.relative(dir, f).startsWith('..') ? f : path.relative(dir, f))
  const out = [ctx.inv.file]
  const pki = path.join(obsctlDir(dir), 'pki')
  if (existsSync(pki)) for (const f of readdirSync(pki).sort()) if (statSync(path.join(pki, f)).isFile()) out.push(path.join(pki, f))
  const kh = knownHostsPath(dir, ctx.platform.ssh.knownHosts, knownHostsFile)
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
    describe: (_t, ctx) =>
      `encrypt ${stateFiles(ctx, o.knownHostsFile)
        .map((f) => f.rel)
        .join(', ')} into s3://${backupBucket(ctx.platform)}/${objectKey(o.id, 'obsctl-state.enc')}; write ${objectKey(o.id, 'manifest.json')}`,
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
      const clusters = objects
        .map((x) => /\/([^/]+)\.etcd\.json$/.exec(x.name)?.[1])
        .filter((x): x is string => Boolean(x))
        .sort()
      const manifest: BackupManifest = {
        id: o.id,
        createdAt: new Date().toISOString(),
        clusters,
        files: files.map((f) => f.rel),
        keyEnv: o.keyEnv,
        encryption: ENVELOPE,
      }
      const mName = objectKey(o.id, 'manifest.json')
      await putObject(session, bucket, mName, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'application/json')
      return {
        summary: `${files.length} files; manifest ${mName} (clusters: ${clusters.join(', ') || 'none'})`,
        report: {id: o.id, files: manifest.files, clusters, manifest: mName},
      }
    },
  }
}
