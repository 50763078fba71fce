/**
 * The `restore-etcd` phase (issue 15): one single-control-plane cluster from a backup (./backup.ts).
 * The snapshot is decrypted and checked here, placed on the node and checked there, the control-plane
 * static pods are stopped (./static-pods.ts), etcd's data dir is moved aside (kept), `etcdutl snapshot
 * restore` runs with the member's name and peer URL from kubeadm's manifest, the pods start again and
 * etcd must answer healthy. A cluster with several control planes is refused: see docs/backup.md.
 *
 * Killed at any point, the rerun finishes it (RESTORE_RECORD below): the data dir as it was is moved aside once
 * and stays the one reported, and a data dir that holds the backup already is not restored again.
 */
import path from 'node:path'
import {controlPlaneNodes, firstControlPlane, nodeLogin, nodeName} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {killPoint} from '../engine/kill-point.js'
import {runClusters} from '../engine/options.js'
import type {Phase} from '../engine/types.js'
import {ExitCode, ObsctlError, inputError} from '../errors.js'
import {shQuote, shWord} from '../shell-quote.js'
import {clusterOf, type ClusterTarget} from './backup.js'
import {backupS3, objectKey, readSnapshot, snapshotName, type BackupS3Options} from './backup-store.js'
import {connOf, etcdMember, markRestoreCopy, pushRootFile, remoteSha256, requireTools, waitEtcdHealthy} from './etcd-node.js'
import {rootStep} from '../nodes/lock.js'
import {RESTORE_RECORD, leftoversLine, sweepLeftovers, type Leftover} from '../nodes/leftovers.js'
import type {SshConnection} from '../ssh/connection.js'
import {CONTROL_PLANE_PODS, runningContainers, startStaticPod, stopStaticPod, type ControlPlanePod} from './static-pods.js'

export interface RestoreEtcdOptions extends BackupS3Options {
  id: string
  /** how long each static pod may take to stop or start, and etcd to answer healthy (default 300 s) */
  podTimeoutMs?: number
  pollMs?: number
}

export interface RestoreEtcdReport {
  id: string
  cluster: string
  node: string
  revision?: number
  sha256: string
  /** the data dir as it was, kept beside it */
  previousDataDir: string
  /** what runs that are no longer running had left on the node, removed by this one before it placed its copy */
  leftoversRemoved: Leftover[]
}

/** A restore of one member from a snapshot is the whole cluster only when etcd has one member. */
export function refuseMultiControlPlane(c: Cluster): void {
  const cps = controlPlaneNodes(c)
  if (cps.length > 1) {
    throw inputError(
      `${c.name} has ${cps.length} control-plane nodes; obsctl backup restore restores single-control-plane clusters only`,
      [
        'a multi-member etcd must be restored on every member from the same snapshot, with all members stopped at once: see docs/backup.md "Several control-plane nodes"',
      ],
      'RESTORE_MULTI_CP',
    )
  }
}

/**
 * What a restore in progress on the node has done, in a file beside its snapshot: `id=` the backup it restores,
 * `run=` and `since=` the run that began it and when, `previous=` the data dir as it was before that run moved it
 * aside, `restored=ID` once etcdutl restored backup ID into the data dir. A rerun after a kill reads it: the data dir
 * it finds then is an interrupted restore's (never "the data dir as it was"), and one that is ID's already only needs
 * its pods started; a restore of another backup stops (RESTORE_OTHER_IN_PROGRESS) until that one is finished or given
 * up (`backup restore --abandon`, restoreAbandonPhase). Removed when the restore ends. The sweep of what killed runs
 * left (../nodes/leftovers.ts) never removes the snapshot copy of the backup it names.
 */
export {RESTORE_RECORD}

/**
 * Where a restore places the snapshot on the node (0600, root's), with `<copy>.run` beside it (markRestoreCopy: the
 * run placing it, written before the copy): a later sweep removes a copy whose run is gone and that no record names.
 */
const restoreCopy = (id: string, cluster: string) => `${path.posix.dirname(RESTORE_RECORD)}/${id}-${cluster}.db`

/** A `key=value` line of the restore record (or of a step's output about it). */
const recordField = (out: string, key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(out)?.[1]?.trim()

/** The restore record's fields (each absent where the record, or a record of an earlier obsctl, lacks it). */
export interface RestoreRecord {
  id?: string
  run?: string
  since?: string
  previous?: string
  restored?: string
}

const readRecord = (out: string): RestoreRecord => ({
  id: recordField(out, 'id'),
  run: recordField(out, 'run'),
  since: recordField(out, 'since'),
  previous: recordField(out, 'previous'),
  restored: recordField(out, 'restored'),
})

async function readRestoreRecord(conn: SshConnection, dataDir: string, signal?: AbortSignal): Promise<RestoreRecord & {exists: boolean; dataDir: boolean}> {
  const out = await rootStep(
    conn,
    `if [ -f ${RESTORE_RECORD} ]; then echo record=yes; cat ${RESTORE_RECORD}; fi; if [ -e ${shQuote(dataDir)} ]; then echo datadir=yes; fi; true`,
    'reading the restore record',
    {signal},
  )
  return {...readRecord(out), exists: recordField(out, 'record') === 'yes', dataDir: recordField(out, 'datadir') === 'yes'}
}

/** A restore of backup ID stops where the node's record is another backup's restore, unfinished. */
function refuseOtherRestore(rec: RestoreRecord, id: string, cluster: string, node: string): void {
  if (!rec.id || rec.id === id) return
  const since = rec.since ? ` since ${rec.since}` : ''
  throw new ObsctlError(
    `${node} has an unfinished restore of backup ${rec.id}${since} (${RESTORE_RECORD}${rec.previous ? `; the data dir as it was: ${rec.previous}` : ''}): not restoring ${id} over it`,
    {
      exitCode: ExitCode.badInput,
      code: 'RESTORE_OTHER_IN_PROGRESS',
      hints: [
        `finish it: obsctl backup restore ${rec.id} --cluster ${cluster}; then restore ${id}`,
        `or give it up: obsctl backup restore --abandon --cluster ${cluster} (says what is where, removes the record, deletes no data dir); then restore ${id}`,
      ],
    },
  )
}

/**
 * Move etcd's data dir aside, once per restore: the first run records where (`previous=` in RESTORE_RECORD, before
 * the move) and moves it there; a rerun after a kill finds that record (and the dir it names) and keeps what is in
 * the data dir now, an interrupted restore's, as `<data-dir>.interrupted-restore-RUN` instead. Nothing is deleted.
 */
async function moveDataDirAside(
  conn: SshConnection,
  id: string,
  dataDir: string,
  aside: string,
  runId: string,
  signal?: AbortSignal,
): Promise<{previous: string; interrupted?: string}> {
  // from the node's etcd manifest: each one shell word
  const [dir, interrupted] = [dataDir, `${dataDir}.interrupted-restore-${runId}`].map(shQuote)
  const tmp = `${RESTORE_RECORD}.tmp`
  const out = await rootStep(
    conn,
    [
      `mkdir -p ${path.posix.dirname(RESTORE_RECORD)} && chmod 700 ${path.posix.dirname(RESTORE_RECORD)}`,
      `prev=$(sed -n 's/^previous=//p' ${RESTORE_RECORD} 2>/dev/null)`,
      `if [ -n "$prev" ] && [ -e "$prev" ]; then`,
      // the record first (without restored=), then the move: a record never names a data dir that is not this backup's
      `  sed '/^restored=/d' ${RESTORE_RECORD} > ${tmp} && mv ${tmp} ${RESTORE_RECORD}`,
      `  if [ -e ${dir} ]; then mv ${dir} ${interrupted} && echo interrupted=${interrupted}; fi`,
      'else',
      `  prev=${shQuote(aside)}`,
      `  printf 'id=%s\\nrun=%s\\nsince=%s\\nprevious=%s\\n' ${shQuote(id)} ${shQuote(runId)} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prev" > ${tmp} && mv ${tmp} ${RESTORE_RECORD}`,
      `  if [ -e ${dir} ]; then mv ${dir} "$prev"; else mkdir -m 700 "$prev"; fi`,
      'fi',
      'echo "previous=$prev"',
    ].join('\n'),
    'moving the etcd data dir aside',
    {signal},
  )
  return {previous: recordField(out, 'previous') ?? aside, interrupted: recordField(out, 'interrupted')}
}

/**
 * `etcdutl snapshot restore` of FILE into the member's data dir, as the member (its name and peer URL): the values come
 * from the node's etcd manifest (etcdMember), so each is one shell word whatever it holds.
 */
export function etcdutlRestoreCommand(file: string, member: {name: string; peerUrl: string; dataDir: string}): string {
  const q = shQuote
  return `etcdutl snapshot restore ${q(file)} --data-dir ${q(member.dataDir)} --name ${q(member.name)} --initial-cluster ${q(`${member.name}=${member.peerUrl}`)} --initial-advertise-peer-urls ${q(member.peerUrl)}`
}

export function restoreEtcdPhase(o: RestoreEtcdOptions): Phase<ClusterTarget, RestoreEtcdReport> {
  return {
    name: 'restore-etcd',
    title: 'Restore etcd from a backup (single control plane)',
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${nodeName(firstControlPlane(c))})`})),
    fingerprint: (t) => ({id: o.id, cluster: t.cluster}),
    async prepare(_t, ctx) {
      await (await import('../ssh/pool.js')).prepareSsh(ctx)
      await backupS3(ctx, o)
    },
    describe: (t, ctx) =>
      `download and decrypt ${objectKey(o.id, `${snapshotName(t.cluster)}.enc`)}; ssh ${nodeLogin(ctx.platform, firstControlPlane(clusterOf(ctx, t.cluster)))}: stop ${CONTROL_PLANE_PODS.join(', ')} (manifests out of /etc/kubernetes/manifests), move the etcd data dir aside, etcdutl snapshot restore, start them again, wait for etcd to be healthy`,
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      refuseMultiControlPlane(c)
      const node = firstControlPlane(c)
      const log = (l: string) => io.log(l)
      const wait = {timeoutMs: o.podTimeoutMs, intervalMs: o.pollMs, signal: ctx.signal, log}
      const conn = await connOf(ctx, node)
      const member = await etcdMember(conn, ctx.signal)
      const rec = await readRestoreRecord(conn, member.dataDir, ctx.signal)
      refuseOtherRestore(rec, o.id, c.name, nodeName(node))
      const {meta, data} = await readSnapshot(await backupS3(ctx, o), ctx.platform, o.id, c.name, o.secret)
      io.log(`snapshot of ${meta.createdAt}: ${meta.size} bytes, revision ${meta.etcd.revision ?? '?'}, sha256 checked`)
      await requireTools(conn, ['etcdutl', 'etcdctl'], ctx.signal)
      // what killed runs left on the node goes first (a restore's copy no record names, its upload file, a snapshot folder)
      const removed = await sweepLeftovers(conn, ctx.signal)
      if (removed.length > 0) io.log(leftoversLine(removed, conn.label))
      const file = restoreCopy(o.id, c.name)
      let previous: string
      const before = new Map<ControlPlanePod, string[]>()
      if (rec.restored === o.id && rec.previous && rec.dataDir) {
        // a run killed after its etcdutl restore: the data dir is this backup's already, only the pods are left
        previous = rec.previous
        io.log(`an interrupted run restored ${o.id} already (the data dir as it was: ${previous}): starting the pods on it`)
      } else {
        await markRestoreCopy(conn, file, ctx.runId, ctx.signal)
        await pushRootFile(conn, file, data, ctx.signal)
        const onNode = await remoteSha256(conn, file, ctx.signal)
        if (onNode !== meta.sha256)
          throw new ObsctlError(`the snapshot placed on ${conn.label} has sha256 ${onNode}, expected ${meta.sha256}`, {code: 'CHECKSUM'})
        // stop: the API server first (it writes to etcd), etcd last
        for (const p of CONTROL_PLANE_PODS) {
          before.set(p, await runningContainers(conn, p, ctx.signal))
          await stopStaticPod(conn, p, wait)
        }
        // kept, never deleted: named after the run that first moved it, so a rerun or a second restore keeps every earlier one too
        const aside = await moveDataDirAside(conn, o.id, member.dataDir, `${member.dataDir}.before-restore-${o.id}-${ctx.runId}`, ctx.runId, ctx.signal)
        previous = aside.previous
        if (aside.interrupted) io.log(`the data dir an interrupted restore left is kept as ${aside.interrupted}`)
        io.log(`the data dir as it was: ${previous}`)
        killPoint('restore-etcd:data-dir-aside')
        await rootStep(
          conn,
          `${etcdutlRestoreCommand(file, member)} && { cat ${RESTORE_RECORD}; printf 'restored=%s\\n' ${shQuote(o.id)}; } > ${RESTORE_RECORD}.tmp && mv ${RESTORE_RECORD}.tmp ${RESTORE_RECORD}`,
          'etcdutl snapshot restore',
          {
            log,
            signal: ctx.signal,
            code: 'ETCD_RESTORE',
            hints: [
              `the pods are stopped and the old data is in ${previous}: fix the cause and rerun, or give the restore up: obsctl backup restore --abandon --cluster ${c.name} (it says how to move the old data back and start the pods)`,
            ],
          },
        )
        killPoint('restore-etcd:restored')
      }
      // start: etcd first (a pod a killed run started already only has to be running)
      for (const p of [...CONTROL_PLANE_PODS].reverse()) await startStaticPod(conn, p, before.get(p) ?? [], wait)
      await waitEtcdHealthy(conn, wait)
      await rootStep(conn, `rm -f ${file} ${file}.run ${RESTORE_RECORD}`, `removing ${file}`, {signal: ctx.signal})
      const swept = removed.length > 0 ? `; removed ${removed.length} left by runs no longer running` : ''
      return {
        summary: `restored ${o.id} (revision ${meta.etcd.revision ?? '?'}) on ${nodeName(node)}; previous data in ${previous}${swept}`,
        report: {
          id: o.id,
          cluster: c.name,
          node: nodeName(node),
          revision: meta.etcd.revision,
          sha256: meta.sha256,
          previousDataDir: previous,
          leftoversRemoved: removed,
        },
      }
    },
  }
}

export interface RestoreAbandonReport {
  cluster: string
  node: string
  /** what the record said; absent: no restore in progress on the node */
  record?: RestoreRecord
  /** the record (and the snapshot copy of its backup) removed; never a data dir */
  removed: string[]
  /** etcd's --data-dir and whether it is there now */
  dataDir: string
  dataDirExists: boolean
  /** the record's previous= (the data dir as it was before that restore) is there */
  previousExists: boolean
  /** the data dirs earlier restores kept beside it (<data-dir>.before-restore-*, .interrupted-restore-*) */
  keptDataDirs: string[]
  /** manifests a restore moved out of /etc/kubernetes/manifests (its control plane is stopped while they are there) */
  parkedManifests: string[]
  /** what to do next, as commands on the node */
  next: string[]
}

const PARKED = '/etc/kubernetes/obsctl-parked-manifests'

/**
 * `backup restore --abandon`: give up the restore the node's record is about, instead of finishing it. Reads the
 * record and what is where (the data dir, the kept ones, parked manifests), removes the record and that restore's
 * snapshot copy, and moves or deletes nothing else: putting a data dir back is the user's call (the report says how).
 */
export function restoreAbandonPhase(): Phase<ClusterTarget, RestoreAbandonReport> {
  return {
    name: 'restore-abandon',
    title: 'Give up an interrupted restore (the record only; no data dir is moved or deleted)',
    targets: (ctx) => runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${nodeName(firstControlPlane(c))})`})),
    fingerprint: (t) => ({cluster: t.cluster}),
    prepare: async (_t, ctx) => (await import('../ssh/pool.js')).prepareSsh(ctx),
    describe: (t, ctx) =>
      `ssh ${nodeLogin(ctx.platform, firstControlPlane(clusterOf(ctx, t.cluster)))}: read ${RESTORE_RECORD}, list the etcd data dirs and ${PARKED}; remove the record and its snapshot copy (no data dir is moved or deleted)`,
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      const node = firstControlPlane(c)
      const conn = await connOf(ctx, node)
      const member = await etcdMember(conn, ctx.signal)
      const d = shQuote(member.dataDir)
      const out = await rootStep(
        conn,
        [
          `if [ -f ${RESTORE_RECORD} ]; then`,
          `  echo record=yes; cat ${RESTORE_RECORD}`,
          `  p=$(sed -n 's/^previous=//p' ${RESTORE_RECORD}); if [ -n "$p" ] && [ -e "$p" ]; then echo previous-exists=yes; fi`,
          `  i=$(sed -n 's/^id=//p' ${RESTORE_RECORD})`,
          `  copy=${path.posix.dirname(RESTORE_RECORD)}/$i-${c.name}.db; if [ -n "$i" ] && [ -e "$copy" ]; then rm -f "$copy" && echo "removed=$copy"; fi; [ -z "$i" ] || rm -f "$copy.run"`,
          `  rm -f ${RESTORE_RECORD} && echo removed=${RESTORE_RECORD}`,
          'fi',
          `if [ -e ${d} ]; then echo datadir=yes; fi`,
          `for x in ${d}.before-restore-* ${d}.interrupted-restore-*; do [ -e "$x" ] && echo "kept=$x"; done`,
          `for x in ${PARKED}/*.yaml; do [ -e "$x" ] && echo "parked=$x"; done`,
          'true',
        ].join('\n'),
        'giving up the restore',
        {signal: ctx.signal},
      )
      const all = (key: string) => [...out.matchAll(new RegExp(`^${key}=(.+)$`, 'gm'))].map((m) => m[1]!.trim())
      const record = recordField(out, 'record') === 'yes' ? readRecord(out) : undefined
      const r: RestoreAbandonReport = {
        cluster: c.name,
        node: nodeName(node),
        record,
        removed: all('removed'),
        dataDir: member.dataDir,
        dataDirExists: recordField(out, 'datadir') === 'yes',
        previousExists: recordField(out, 'previous-exists') === 'yes',
        keptDataDirs: all('kept'),
        parkedManifests: all('parked'),
        next: [],
      }
      if (r.previousExists && record?.previous)
        r.next.push(
          `to go back to the data dir as it was before that restore: ${r.dataDirExists ? `mv ${shWord(member.dataDir)} ${shWord(`${member.dataDir}.abandoned-restore`)} && ` : ''}mv ${shWord(record.previous)} ${shWord(member.dataDir)}`,
        )
      if (r.parkedManifests.length > 0) r.next.push(`the control plane is stopped; to start it: mv ${PARKED}/*.yaml /etc/kubernetes/manifests/`)
      if (r.keptDataDirs.length > 0) r.next.push(`the kept data dirs stay until you remove them: ${r.keptDataDirs.map(shWord).join(' ')}`)
      for (const l of r.next) io.log(l)
      return {
        summary: record
          ? `gave up the restore of ${record.id ?? 'a backup'}${record.since ? ` begun ${record.since}` : ''} on ${r.node}: removed ${r.removed.join(', ')}; no data dir moved or deleted`
          : `no restore in progress on ${r.node}: nothing to give up`,
        report: r,
      }
    },
  }
}
