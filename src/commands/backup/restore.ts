import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldRunLines} from '../../lib/engine/format.js'
import type {BackupAbandonResult, BackupRestoreResult} from '../../lib/flows/backup-run.js'
import {inputError} from '../../lib/errors.js'
import type {RestoreAbandonReport} from '../../lib/lifecycle/restore.js'
import {DAY, secondsFlag} from '../../lib/cli/seconds-flag.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'

export default class BackupRestore extends BaseCommand {
  static override summary = "Restore a single-control-plane cluster's etcd from a backup."
  static override description = `Downloads the cluster's snapshot of backup ID, decrypts it (the secret from backup.keyEnv or --key-env) and checks its sha256; on the control-plane node: places it, stops kube-apiserver, kube-controller-manager, kube-scheduler and etcd (their manifests moved out of /etc/kubernetes/manifests), moves the etcd data dir aside (kept as <data-dir>.before-restore-ID-RUN), runs etcdutl snapshot restore with the member's name and peer URL from kubeadm's etcd manifest, starts the pods again and waits until etcd answers healthy.

Interrupted, rerun it: it finishes (the data dir is moved aside once, a finished etcdutl restore is not repeated).

A cluster with several control-plane nodes is refused (exit 2): see docs/backup.md. Asks first (--yes).

A restore of another backup than the one an interrupted restore was restoring stops (exit 2) until that one is finished (rerun it) or given up: --abandon --cluster C says what the node's restore record holds and where the data dirs and parked manifests are, removes the record and that restore's snapshot copy, and moves or deletes no data dir. It asks first too (--yes; without a terminal it needs --yes).`
  static override examples = [
    '<%= config.bin %> backup restore 20261202T115300Z-3f9a1c --cluster cluster-02 --dry-run',
    '<%= config.bin %> backup restore 20261202T115300Z-3f9a1c --cluster cluster-02 --yes',
    '<%= config.bin %> backup restore --abandon --cluster cluster-02 --yes --json',
  ]
  static override args = {id: Args.string({description: 'The backup id (obsctl backup list), e.g. 20261202T115300Z-3f9a1c (none with --abandon).'})}
  static override flags = {
    cluster: Flags.string({summary: 'The cluster to restore.', required: true}),
    abandon: Flags.boolean({
      summary:
        "Give up the cluster's interrupted restore: report it, remove its record and snapshot copy; no data dir is moved or deleted. Asks first (--yes).",
    }),
    'key-env': Flags.string({summary: 'Env var holding the encryption secret (else backup.keyEnv).'}),
    'ca-file': Flags.string({summary: 'CA bundle for the S3 endpoint (else s3.caFile).'}),
    timeout: secondsFlag('Seconds one S3 request may take.', 600, DAY),
    'pod-timeout': secondsFlag('Seconds each static pod may take to stop or start, and etcd to be healthy.', 300),
    'dry-run': Flags.boolean({summary: 'Print what would be done; touch nothing.'}),
    'known-hosts': knownHostsFlag(),
  }

  async run(): Promise<BackupRestoreResult | BackupAbandonResult> {
    const {args, flags} = await this.parse(BackupRestore)
    if (flags.abandon && args.id !== undefined)
      throw inputError(
        `--abandon gives up the restore in progress on the node, whichever backup it restores: it takes no backup id (got ${args.id})`,
        [`obsctl backup restore --abandon --cluster ${flags.cluster}`],
        'BAD_FLAGS',
      )
    if (!flags.abandon && args.id === undefined)
      throw inputError(
        'backup restore needs the id of the backup to restore',
        ['obsctl backup list shows the ids', 'or --abandon gives up an interrupted restore instead'],
        'BAD_FLAGS',
      )
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const {backupRestore, backupRestoreAbandon} = await import('../../lib/flows/backup-run.js')
    if (flags.abandon) {
      const a = await backupRestoreAbandon(inv, flags.cluster, {
        dryRun: flags['dry-run'],
        ssh: {knownHostsFile: flags['known-hosts']},
        renderer: this.renderer(),
        confirm: flags.yes ? undefined : (q) => this.confirm(q),
      })
      if (a.plan && a.run) this.out(endDryRun(wouldRunLines(a.run)))
      else if (a.run) this.out(formatRunSummary(a.run))
      if (a.abandoned) this.out(formatAbandoned(a.abandoned))
      if (!a.ok) this.failWith(a.exitCode)
      return a
    }
    const r = await backupRestore(inv, args.id!, flags.cluster, {
      keyEnv: flags['key-env'],
      caFile: flags['ca-file'],
      timeoutSeconds: flags.timeout,
      podTimeoutMs: flags['pod-timeout'] * 1000,
      dryRun: flags['dry-run'],
      ssh: {knownHostsFile: flags['known-hosts']},
      renderer: this.renderer(),
      confirm: flags.yes ? undefined : (q) => this.confirm(q),
    })
    if (r.plan && r.run) this.out(endDryRun(wouldRunLines(r.run)))
    else if (r.run) this.out(formatRunSummary(r.run))
    if (!r.ok) this.failWith(r.exitCode)
    return r
  }
}

/** What --abandon found on the node and what is left to do, one fact a line. */
function formatAbandoned(r: RestoreAbandonReport): string {
  const rec = r.record
  const lines = rec
    ? [
        `restore record on ${r.node}: backup ${rec.id ?? '?'}, run ${rec.run ?? '?'}, since ${rec.since ?? '?'}${rec.restored ? `, etcdutl restored ${rec.restored}` : ''}`,
        `the data dir as it was before it: ${rec.previous ?? '?'} (${r.previousExists ? 'there' : 'not there'})`,
      ]
    : [`no restore record on ${r.node}`]
  lines.push(`etcd's data dir ${r.dataDir}: ${r.dataDirExists ? 'there' : 'not there'}`)
  for (const k of r.keptDataDirs) lines.push(`kept: ${k}`)
  if (r.parkedManifests.length > 0) lines.push(`parked (control plane stopped): ${r.parkedManifests.join(' ')}`)
  for (const x of r.removed) lines.push(`removed: ${x}`)
  for (const n of r.next) lines.push(`next: ${n}`)
  return lines.join('\n')
}
