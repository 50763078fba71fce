import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldRunLines} from '../../lib/engine/format.js'
import type {BackupCreateResult} from '../../lib/flows/backup-run.js'
import {DAY, secondsFlag} from '../../lib/cli/seconds-flag.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'
import {concurrencyFlag} from '../../lib/cli/count-flag.js'

export default class BackupCreate extends BaseCommand {
  static override summary = "Back up every cluster's etcd and obsctl's own files, encrypted, to the backups bucket."
  static override description = `Per cluster, on its first control-plane node over SSH: etcdctl snapshot save, etcdutl snapshot status and sha256sum; the snapshot is copied here over SFTP and checked against that sha256. Then obsctl's side (the inventory, .obsctl/pki and known_hosts) is added. Everything is encrypted here before upload (AES-256-GCM, key derived with scrypt from the secret in the env var named by backup.keyEnv, default OBSCTL_BACKUP_KEY, or --key-env; the secret is never read from the command line) and stored in s3.buckets.backups under _obsctl/<id>/. A manifest written last marks the backup complete. The nodes need etcdctl and etcdutl (etcd release binaries).`
  static override examples = [
    'OBSCTL_BACKUP_KEY="$(openssl rand -base64 32)" <%= config.bin %> backup create --dry-run',
    '<%= config.bin %> backup create',
    '<%= config.bin %> backup create --cluster cluster-02 --json',
    '<%= config.bin %> backup create --concurrency 10',
  ]
  static override flags = {
    cluster: Flags.string({summary: 'Only this cluster (repeatable; default: every cluster).', multiple: true}),
    'key-env': Flags.string({summary: 'Env var holding the encryption secret (else backup.keyEnv).'}),
    'ca-file': Flags.string({summary: 'CA bundle for the S3 endpoint (else s3.caFile).'}),
    timeout: secondsFlag('Seconds one S3 request may take.', 600, DAY),
    'dry-run': Flags.boolean({summary: 'Print what would be done; touch nothing.'}),
    'known-hosts': knownHostsFlag(),
    concurrency: concurrencyFlag('Clusters'),
  }

  async run(): Promise<BackupCreateResult> {
    const {flags} = await this.parse(BackupCreate)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const {backupCreate} = await import('../../lib/flows/backup-run.js')
    const r = await backupCreate(inv, {
      clusters: flags.cluster,
      keyEnv: flags['key-env'],
      caFile: flags['ca-file'],
      timeoutSeconds: flags.timeout,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      ssh: {knownHostsFile: flags['known-hosts']},
      renderer: this.renderer(),
    })
    if (r.plan) this.out(endDryRun(wouldRunLines(r.run)))
    else
      this.out(
        `${formatRunSummary(r.run)}\n${r.ok ? `backup ${r.id} in s3://${r.bucket}/_obsctl/${r.id}/` : `backup ${r.id} is incomplete (no manifest); rerun obsctl backup create`}`,
      )
    if (!r.ok) this.failWith(r.exitCode)
    return r
  }
}
