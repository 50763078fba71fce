/**
 * The backup flows (issue 15): `backup create` snapshots etcd on every cluster (one task each, in
 * parallel), then uploads obsctl's own files and the manifest that marks the backup complete;
 * `backup restore` is the one restore phase, for one single-control-plane cluster.
 */
import type {BackupEtcdOptions, BackupStateOptions} from '../lifecycle/backup.js'
import type {RestoreEtcdOptions} from '../lifecycle/restore.js'
import type {FlowOptions} from './registry.js'

export const BACKUP_CREATE_PHASES = ['backup-etcd', 'backup-state'] as const
export type BackupCreatePhase = (typeof BACKUP_CREATE_PHASES)[number]

export const BACKUP_RESTORE_PHASES = ['restore-etcd'] as const
export type BackupRestorePhase = (typeof BACKUP_RESTORE_PHASES)[number]

/** `backup restore --abandon`: the one phase that gives an interrupted restore up. */
export const BACKUP_ABANDON_PHASES = ['restore-abandon'] as const

export function backupCreatePhaseOptions(o: BackupStateOptions): FlowOptions<BackupCreatePhase> {
  const etcd: BackupEtcdOptions = {id: o.id, secret: o.secret, caFile: o.caFile, timeoutSeconds: o.timeoutSeconds, credentials: o.credentials}
  return {'backup-etcd': etcd, 'backup-state': o}
}

export function backupRestorePhaseOptions(o: RestoreEtcdOptions): FlowOptions<BackupRestorePhase> {
  return {'restore-etcd': o}
}
