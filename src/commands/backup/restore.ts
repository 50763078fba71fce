import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {formatRunSummary} from '../../lib/engine/index.js'
import type {BackupRestoreResult} from '../../lib/flows/backup-run.js'
import {DAY, secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class BackupRestore extends BaseCommand {
  static override summary = "Restore a single-control-plane cluster's etcd from a backup."
  static override description = `Downloads the cluster's snapshot of backup ID, decrypts it (the secret from backup.keyEnv or --key-env) and
checks its sha256; on the control-plane node: places it, stops kube-apiserver, kube-controller-manager,
kube-scheduler and etcd (their manifests moved out of /etc/kubernetes/manifests), moves the etcd data dir aside
(kept as <data-dir>.before-restore-ID-RUN), runs etcdutl snapshot restore with the member's name and peer URL from
kubeadm's etcd manifest, starts the pods again and waits until etcd answers healthy.
Interrupted, rerun it: it finishes (the data dir is moved aside once, a finished etcdutl restore is not repeated).
A cluster with several control-plane nodes is refused (exit 2): see docs/backup.md. Asks first (--yes).`
  static override examples = [
    '<%= config.bin %> backup restore 20261202T115300Z-3f9a1c --cluster cluster-02 --dry-run',
    '<%= config.bin %> backup restore 20261202T115300Z-3f9a1c --cluster cluster-02 --yes',
  ]
  static override args = {id: Args.string({description: 'The backup id (obsctl backup list), e.g. 20261202T115300Z-3f9a1c.', required: true})}
  static override flags = {
    cluster: Flags.string({summary: 'The cluster to restore.', required: true}),
    'key-env': Flags.string({summary: 'Env var holding the encryption secret (else backup.keyEnv).'}),
    'ca-file': Flags.string({summary: 'CA bundle for the S3 endpoint (else s3.caFile).'}),
    timeout: secondsFlag('Seconds one S3 request may take.', 600, DAY),
    'pod-timeout': secondsFlag('Seconds each static pod may take to stop or start, and etcd to be healthy.', 300),
    'dry-run': Flags.boolean({summary: 'Print what would be done; touch nothing.'}),
    'known-hosts': Flags.string({summary: 'known_hosts file for the nodes (else ssh.knownHosts, else .obsctl/known_hosts).'}),
  }

  async run(): Promise<BackupRestoreResult> {
    const {args, flags} = await this.parse(BackupRestore)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const {backupRestore} = await import('../../lib/flows/backup-run.js')
    const r = await backupRestore(inv, args.id, flags.cluster, {
      keyEnv: flags['key-env'],
      caFile: flags['ca-file'],
      timeoutSeconds: flags.timeout,
      podTimeoutMs: flags['pod-timeout'] * 1000,
      dryRun: flags['dry-run'],
      ssh: {knownHostsFile: flags['known-hosts']},
      renderer: this.renderer(),
      confirm: flags.yes ? undefined : (q) => this.confirm(q),
    })
    if (r.plan) this.out(r.plan.map((p) => `${p.phase} ${p.target}: would ${p.description}`).join('\n'))
    else if (r.run) this.out(formatRunSummary(r.run))
    if (!r.ok) this.failWith(r.exitCode)
    return r
  }
}
