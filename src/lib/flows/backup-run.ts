/**
 * `obsctl backup create|restore`: the backup flows (./backup.ts) as engine runs (`backup list` runs no
 * flow: ../lifecycle/backup-store.ts). The encryption secret comes from the env var the inventory
 * (backup.keyEnv) or --key-env names, and the S3 credentials from theirs, both resolved before the
 * progress display and kept in memory only.
 */
import type {LoadedInventory} from '../config/load.js'
import {findCluster, firstControlPlane, nodeLogin, selectClusters, unknownClusterError} from '../config/model.js'
import type * as Engine from '../engine/index.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import {inputError} from '../errors.js'
import type {S3Credentials} from '../platform/s3.js'
import type {BackupEtcdReport, BackupStateReport} from '../lifecycle/backup.js'
import {backupBucket, backupCredentials, checkBackupId, newBackupId} from '../lifecycle/backup-store.js'
import {backupSecret} from '../lifecycle/envelope.js'
import {refuseMultiControlPlane, type RestoreAbandonReport, type RestoreEtcdReport} from '../lifecycle/restore.js'

export interface BackupRunOptions {
  /** --cluster (default: every cluster) */
  clusters?: string[]
  /** --key-env: the env var with the encryption secret (else backup.keyEnv) */
  keyEnv?: string
  /** --ca-file for S3 */
  caFile?: string
  timeoutSeconds?: number
  dryRun?: boolean
  renderer?: RendererChoice
  onEvent?: RunEventSink
  ssh?: RunSsh
  handleSignals?: boolean
  /** resolved already (tests); else env vars or a prompt */
  credentials?: S3Credentials
  /** the id of the new backup (default: now) */
  id?: string
  /** --concurrency: clusters at once (default: all) */
  concurrency?: number
}

export interface BackupCreateResult {
  id: string
  bucket: string
  dryRun: boolean
  ok: boolean
  exitCode: number
  clusters: BackupEtcdReport[]
  state?: BackupStateReport
  plan?: {phase: string; target: string; description: string}[]
  run: RunResult
}

/** The env var holding the backup key: --key-env (a variable's name, checked also for a dry run), else backup.keyEnv. */
function keyEnvOf(inv: LoadedInventory, o: BackupRunOptions): string {
  if (o.keyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.keyEnv))
    throw inputError(
      `--key-env ${JSON.stringify(o.keyEnv)}: expected an environment variable's name (A-Z, 0-9, _), not its value`,
      ['--key-env NAME, e.g. --key-env OBSCTL_BACKUP_KEY (its value is the secret)'],
      'BAD_FLAGS',
    )
  return o.keyEnv ?? inv.platform.backup.keyEnv
}

export async function backupCreate(inv: LoadedInventory, o: BackupRunOptions = {}): Promise<BackupCreateResult> {
  // an unknown --cluster is bad input (exit 2) before anything runs
  selectClusters(inv.platform, o.clusters, '--cluster')
  const keyEnv = keyEnvOf(inv, o)
  // bad input first: nothing is touched without a key to encrypt with
  // a dry run needs no key, but one set badly (blank, a line end, too short) is refused as the real run would refuse it
  if (o.dryRun && process.env[keyEnv]) backupSecret(keyEnv)
  const secret = o.dryRun ? '' : backupSecret(keyEnv)
  const creds = o.dryRun ? undefined : await backupCredentials(inv, o.credentials)
  const id = o.id ?? newBackupId()
  const [{buildPhases}, {BACKUP_CREATE_PHASES, backupCreatePhaseOptions}, {runReports}] = await Promise.all([
    import('./registry.js'),
    import('./backup.js'),
    import('../engine/index.js'),
  ])
  const phases = await buildPhases(
    BACKUP_CREATE_PHASES,
    backupCreatePhaseOptions({
      id,
      secret,
      keyEnv,
      caFile: o.caFile,
      timeoutSeconds: o.timeoutSeconds,
      credentials: creds,
      knownHostsFile: o.ssh?.knownHostsFile,
    }),
  )
  const {run, plan} = await runBackupPhases(inv, phases, o, {clusters: o.clusters, command: `backup create ${id}`})
  return {
    id,
    bucket: backupBucket(inv.platform),
    dryRun: Boolean(o.dryRun),
    ok: run.ok,
    exitCode: run.exitCode,
    clusters: runReports<BackupEtcdReport>(run, 'backup-etcd'),
    state: runReports<BackupStateReport>(run, 'backup-state')[0],
    plan,
    run,
  }
}

export interface BackupRestoreResult {
  id: string
  cluster: string
  dryRun: boolean
  ok: boolean
  exitCode: number
  cancelled?: boolean
  restored?: RestoreEtcdReport
  plan?: {phase: string; target: string; description: string}[]
  run?: RunResult
}

export async function backupRestore(
  inv: LoadedInventory,
  id: string,
  cluster: string,
  o: BackupRunOptions & {podTimeoutMs?: number; pollMs?: number; confirm?: (q: string) => Promise<boolean>} = {},
): Promise<BackupRestoreResult> {
  checkBackupId(id)
  const c = findCluster(inv.platform, cluster)
  if (!c) throw unknownClusterError(inv.platform, cluster, '--cluster')
  refuseMultiControlPlane(c)
  const keyEnv = keyEnvOf(inv, o)
  const secret = o.dryRun ? '' : backupSecret(keyEnv, {restore: true})
  const creds = o.dryRun ? undefined : await backupCredentials(inv, o.credentials)
  if (!o.dryRun && o.confirm) {
    const q = `restore etcd of ${cluster} from backup ${id}: its control plane stops, and everything written to the cluster since ${id} is lost (the current data dir is kept beside it). Go ahead?`
    if (!(await o.confirm(q))) return {id, cluster, dryRun: false, ok: false, exitCode: 1, cancelled: true}
  }
  const [{buildPhases}, {BACKUP_RESTORE_PHASES, backupRestorePhaseOptions}, {runReports}] = await Promise.all([
    import('./registry.js'),
    import('./backup.js'),
    import('../engine/index.js'),
  ])
  const phases = await buildPhases(
    BACKUP_RESTORE_PHASES,
    backupRestorePhaseOptions({
      id,
      secret,
      caFile: o.caFile,
      timeoutSeconds: o.timeoutSeconds,
      credentials: creds,
      podTimeoutMs: o.podTimeoutMs,
      pollMs: o.pollMs,
    }),
  )
  const {run, plan} = await runBackupPhases(inv, phases, o, {clusters: [cluster], command: `backup restore ${id} --cluster ${cluster}`})
  return {
    id,
    cluster,
    dryRun: Boolean(o.dryRun),
    ok: run.ok,
    exitCode: run.exitCode,
    restored: runReports<RestoreEtcdReport>(run, 'restore-etcd')[0],
    plan,
    run,
  }
}

export interface BackupAbandonResult {
  cluster: string
  dryRun: boolean
  ok: boolean
  exitCode: number
  /** the question was answered no (a library caller's confirm; the command's own ends with exit 1 instead) */
  cancelled?: boolean
  /** what the node's restore record said, what is where, what was removed and what to do next */
  abandoned?: RestoreAbandonReport
  plan?: {phase: string; target: string; description: string}[]
  run?: RunResult
}

/**
 * `backup restore --abandon --cluster C`: give up the interrupted restore the node's record is about. Asks first
 * (o.confirm; the command passes none with --yes), as the other commands that remove what a rerun needs do.
 */
export async function backupRestoreAbandon(
  inv: LoadedInventory,
  cluster: string,
  o: BackupRunOptions & {confirm?: (q: string) => Promise<boolean>} = {},
): Promise<BackupAbandonResult> {
  const c = findCluster(inv.platform, cluster)
  if (!c) throw unknownClusterError(inv.platform, cluster, '--cluster')
  if (!o.dryRun && o.confirm) {
    const q = `give up the restore in progress on ${cluster} (${nodeLogin(inv.platform, firstControlPlane(c))}), if there is one: its record and its snapshot copy are removed from the node, so rerunning that restore can no longer finish it, nor tell which data dir was etcd's before it (no data dir is moved or deleted; the report says where they are). Go ahead?`
    if (!(await o.confirm(q))) return {cluster, dryRun: false, ok: false, exitCode: 1, cancelled: true}
  }
  const [{buildPhases}, {BACKUP_ABANDON_PHASES}, {runReports}] = await Promise.all([
    import('./registry.js'),
    import('./backup.js'),
    import('../engine/index.js'),
  ])
  const {run, plan} = await runBackupPhases(inv, await buildPhases(BACKUP_ABANDON_PHASES, {'restore-abandon': {}}), o, {
    clusters: [cluster],
    command: `backup restore --abandon --cluster ${cluster}`,
  })
  return {
    cluster,
    dryRun: Boolean(o.dryRun),
    ok: run.ok,
    exitCode: run.exitCode,
    abandoned: runReports<RestoreAbandonReport>(run, 'restore-abandon')[0],
    plan,
    run,
  }
}

/** A backup command's phases run with the options every backup command shares; with --dry-run, its plan. */
async function runBackupPhases(
  inv: LoadedInventory,
  phases: Parameters<typeof Engine.runPhases>[0],
  o: BackupRunOptions,
  on: {clusters?: string[]; command: string},
): Promise<{run: RunResult; plan?: {phase: string; target: string; description: string}[]}> {
  const {runPhases} = await import('../engine/index.js')
  const run = await runPhases(phases, {
    inv,
    dryRun: o.dryRun,
    restart: true,
    clusters: on.clusters,
    concurrency: o.concurrency,
    ssh: o.ssh,
    renderer: o.renderer,
    onEvent: o.onEvent,
    handleSignals: o.handleSignals,
    command: on.command,
  })
  const plan = o.dryRun ? run.phases.flatMap((p) => p.tasks.map((t) => ({phase: p.name, target: t.target, description: t.description ?? ''}))) : undefined
  return {run, plan}
}
