/**
 * The `restore-etcd` phase (issue 15): one single-control-plane cluster from a backup (./backup.ts).
 * The snapshot is decrypted and checked here, placed on the node and checked there, the control-plane
 * static pods are stopped (./static-pods.ts), etcd's data dir is moved aside (kept), `etcdutl snapshot
 * restore` runs with the member's name and peer URL from kubeadm's manifest, the pods start again and
 * etcd must answer healthy. A cluster with several control planes is refused: see docs/backup.md.
 */
import {controlPlaneNodes, firstControlPlane, nodeName} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {killPoint} from '../engine/kill-point.js'
import {runClusters} from '../engine/options.js'
import type {Phase} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {clusterOf, type ClusterTarget} from './backup.js'
import {backupS3, objectKey, readSnapshot, snapshotName, type BackupS3Options} from './backup-store.js'
import {connOf, etcdMember, pushRootFile, remoteSha256, requireTools, waitEtcdHealthy} from './etcd-node.js'
import {rootStep} from '../nodes/lock.js'
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
      `download and decrypt ${objectKey(o.id, `${snapshotName(t.cluster)}.enc`)}; on ${firstControlPlane(clusterOf(ctx, t.cluster)).host}: stop ${CONTROL_PLANE_PODS.join(', ')} (manifests out of /etc/kubernetes/manifests), move the etcd data dir aside, etcdutl snapshot restore, start them again, wait for etcd to be healthy`,
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      refuseMultiControlPlane(c)
      const node = firstControlPlane(c)
      const log = (l: string) => io.log(l)
      const wait = {timeoutMs: o.podTimeoutMs, intervalMs: o.pollMs, signal: ctx.signal, log}
      const {meta, data} = await readSnapshot(await backupS3(ctx, o), ctx.platform, o.id, c.name, o.secret)
      io.log(`snapshot of ${meta.createdAt}: ${meta.size} bytes, revision ${meta.etcd.revision ?? '?'}, sha256 checked`)
      const conn = await connOf(ctx, node)
      await requireTools(conn, ['etcdutl', 'etcdctl'], ctx.signal)
      const file = `/var/lib/obsctl/restore/${o.id}-${c.name}.db`
      await pushRootFile(conn, file, data, ctx.signal)
      const onNode = await remoteSha256(conn, file, ctx.signal)
      if (onNode !== meta.sha256)
        throw new ObsctlError(`the snapshot placed on ${conn.label} has sha256 ${onNode}, expected ${meta.sha256}`, {code: 'CHECKSUM'})
      const member = await etcdMember(conn, ctx.signal)
      // stop: the API server first (it writes to etcd), etcd last
      const before = new Map<ControlPlanePod, string[]>()
      for (const p of CONTROL_PLANE_PODS) {
        before.set(p, await runningContainers(conn, p, ctx.signal))
        await stopStaticPod(conn, p, wait)
      }
      // kept, never deleted: named after this run, so a rerun or a second restore keeps every earlier one too
      const aside = `${member.dataDir}.before-restore-${o.id}-${ctx.runId}`
      await rootStep(conn, `if [ -e ${member.dataDir} ]; then mv ${member.dataDir} ${aside}; fi`, 'moving the etcd data dir aside', {signal: ctx.signal})
      io.log(`the data dir as it was: ${aside}`)
      killPoint('restore-etcd:data-dir-aside')
      await rootStep(
        conn,
        `etcdutl snapshot restore ${file} --data-dir ${member.dataDir} --name ${member.name} --initial-cluster ${member.name}=${member.peerUrl} --initial-advertise-peer-urls ${member.peerUrl}`,
        'etcdutl snapshot restore',
        {
          log,
          signal: ctx.signal,
          code: 'ETCD_RESTORE',
          hints: [
            `the pods are stopped and the old data is in ${aside}: fix the cause and rerun, or move it back and start the pods (mv /etc/kubernetes/obsctl-parked-manifests/*.yaml /etc/kubernetes/manifests/)`,
          ],
        },
      )
      killPoint('restore-etcd:restored')
      // start: etcd first
      for (const p of [...CONTROL_PLANE_PODS].reverse()) await startStaticPod(conn, p, before.get(p) ?? [], wait)
      await waitEtcdHealthy(conn, wait)
      await rootStep(conn, `rm -f ${file}`, `removing ${file}`, {signal: ctx.signal})
      return {
        summary: `restored ${o.id} (revision ${meta.etcd.revision ?? '?'}) on ${nodeName(node)}; previous data in ${aside}`,
        report: {id: o.id, cluster: c.name, node: nodeName(node), revision: meta.etcd.revision, sha256: meta.sha256, previousDataDir: aside},
      }
    },
  }
}
