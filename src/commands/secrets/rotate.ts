import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import {endDryRun} from '../../lib/engine/format.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import type {SecretsRotateResult} from '../../lib/flows/rotate-run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class SecretsRotate extends BaseCommand {
  static override summary = 'Rotate a credential so that it takes effect: Secret, consumer, restarts, then verified (new accepted, old refused).'
  static override description = `Credentials: grafana (Grafana admin), opensearch (OpenSearch admin), fluent-bit (Fluent Bit's OpenSearch user, in every cluster), argocd (Argo CD admin), s3 (the S3 key pair of Thanos, OpenSearch snapshots and Longhorn backups).

The new value comes from the env var secrets apply reads (OBSCTL_GRAFANA_ADMIN_PASSWORD, OBSCTL_OPENSEARCH_ADMIN_PASSWORD, OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD), else it is generated; it is never in argv, logs or the journal. Read a generated one from its Secret.

Argo CD keeps only a bcrypt hash (argocd-secret, read live by argocd-server): its new value comes from OBSCTL_ARGOCD_NEW_PASSWORD, else it is generated and shown once; the current one from OBSCTL_ARGOCD_PASSWORD, else argocd-initial-admin-secret (deleted by the rotation). Both are kept pending in argocd/obsctl-admin-password-rotation until verified (a generated one until shown), so a stopped run's rerun finishes the rotation and shows the password.

Per credential: the central Secret gets the new value (the old one kept beside it until the end, so a run that stops is finished by the next); the consumer is made to use it (Grafana's API; OpenSearch's security API and the security config Secret the operator loads); the other clusters' copies; a rollout restart of what reads it only at start (OpenSearch Dashboards; the Fluent operator and Fluent Bit), waited for (a run finishing a pending rotation waits for what an earlier run restarted for it instead of restarting it again); then verified against the consumer: the new password is accepted and the old one refused, or exit 1.

A rerun after a run that stopped (killed, interrupted, failed) finishes it: a credential that run rotated and verified is not rotated again (byEarlierRun, "(earlier run)"), whatever the rerun names; after a run that finished, every credential named is rotated again.

S3: obsctl cannot create keys in MinIO (its admin API is encrypted), so create the new pair there (mc admin user svcacct add ALIAS USER) and export it as the inventory's S3 env vars (s3.accessKeyEnv / s3.secretKeyEnv, default OBSCTL_S3_ACCESS_KEY / OBSCTL_S3_SECRET_KEY); the old pair is read from monitoring/thanos-objstore. The new pair must list the inventory's buckets before anything changes; then every S3 Secret of every cluster gets it (thanos-objstore, opensearch-s3-keystore, longhorn-backup-credentials), Thanos Store/Compactor/Receive, the Prometheus and ThanosRuler pods (through spec.podMetadata.annotations) and the OpenSearch nodes are restarted, OpenSearch verifies its snapshot repository, and S3 must refuse the old pair: remove it (mc admin user svcacct rm ALIAS OLD_ACCESS_KEY_ID) and rerun, which finishes the pending rotation.

Grafana and OpenSearch are reached as obsctl validate reaches them (--endpoint grafana=URL / opensearch=URL, --ca-file, --request-timeout). The current passwords are read from the Secrets.`
  static override examples = [
    '<%= config.bin %> secrets rotate grafana',
    'OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD=… <%= config.bin %> secrets rotate fluent-bit --json',
    '<%= config.bin %> secrets rotate opensearch fluent-bit --dry-run',
    'OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=… <%= config.bin %> secrets rotate s3 --dry-run',
  ]
  static override strict = false
  static override args = {
    credential: Args.string({description: 'What to rotate: grafana, opensearch, fluent-bit, argocd, s3 (one or more).', required: true}),
  }
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Contact nothing: say where each new value comes from and what would be done.'}),
    timeout: secondsFlag('Seconds for each rollout restart and for the verification.', 300),
    ...serviceFlags(),
  }

  async run(): Promise<SecretsRotateResult> {
    const {argv, flags} = await this.parse(SecretsRotate)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const [{secretsRotate}, {serviceAccess}] = await Promise.all([import('../../lib/flows/rotate-run.js'), import('../../lib/platform/access.js')])
    const result = await secretsRotate(inv, {
      credentials: argv as string[],
      kubeconfig: flags.kubeconfig,
      dryRun: flags['dry-run'],
      timeoutSeconds: flags.timeout,
      access: serviceAccess(flags),
      renderer: this.renderer(),
    })
    if (result.dryRun) this.out(endDryRun(result.plan!.map((p) => `${p.credential}: ${p.steps}`)))
    else {
      this.out(
        table(
          ['CREDENTIAL', 'NEW VALUE', 'CONSUMER', 'SECRETS', 'RESTARTED', 'VERIFIED'],
          result.rotated.map((r) => [
            `${r.credential}${r.byEarlierRun ? ' (earlier run)' : ''}`,
            r.source,
            r.consumer,
            [...new Set(r.secrets.map((s) => s.cluster))].join(', '),
            r.restarted.map((w) => `${w.cluster} ${w.kind.toLowerCase()}/${w.name}${w.byEarlierRun ? ' (earlier run)' : ''}`).join(', ') || '-',
            `new accepted, old refused${r.repository ? `; OpenSearch verified ${r.repository.name}` : ''}`,
          ]),
        ),
      )
      if (result.generatedPasswords)
        this.out(`new Argo CD admin password (shown once: Argo CD keeps only its hash; store it now): ${result.generatedPasswords.argocd}`)
      if (result.rotated.some((r) => r.source === 'generated' && r.credential !== 'argocd'))
        this.note('generated values are only in the Secrets: kubectl -n NAMESPACE get secret NAME -o jsonpath=... reads them')
    }
    return result
  }
}
