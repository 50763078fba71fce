import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {concurrencyFlag} from '../../lib/cli/count-flag.js'
import {table} from '../../lib/cli/format.js'
import {endDryRun} from '../../lib/engine/format.js'
import {secretsApply, type SecretsApplyReport} from '../../lib/kube/secrets-apply.js'

export default class SecretsApply extends BaseCommand {
  static override summary =
    'Create or update the credentials and TLS Secrets the GitOps repo references (S3, OpenSearch, Grafana, Longhorn, Fluent Bit, Alertmanager receivers, ingress TLS); never in Git.'
  static override description = `Server-side apply (field manager obsctl) with the merged kubeconfig (each cluster's context: clusters[].context, else <cluster>-context); namespaces are created when missing. Values stay in memory, never on disk, in state or in logs (the one exception: the platform CA's key, .obsctl/pki/ca.key, mode 0600):
  S3 keys           the env vars named by s3.accessKeyEnv / s3.secretKeyEnv (default OBSCTL_S3_ACCESS_KEY / OBSCTL_S3_SECRET_KEY), else a prompt
  passwords         OBSCTL_OPENSEARCH_ADMIN_PASSWORD, OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD, OBSCTL_GRAFANA_ADMIN_PASSWORD;
                    else the value already in the cluster (a rerun keeps it); else generated with --generate-passwords; else a prompt
  Grafana→OpenSearch OBSCTL_GRAFANA_OPENSEARCH_PASSWORD (read-only user grafana), else the cluster's, else generated (never asked)
  alert receivers   only the env vars alerting.receivers[] names (monitoring/alertmanager-receivers); an unset one is exit 2 with file:line
  TLS (central)     logging/opensearch-http-tls and obsctl-ingress-tls (monitoring, logging): certificates issued from the platform CA
                    in .obsctl/pki beside the inventory (created on first need; ca.key is mode 0600), reused while still valid
                    for 30 days and every host; a TLS Secret without the label app.kubernetes.io/managed-by=obsctl is yours and is kept
  OpenSearch CA     --opensearch-ca-file or OBSCTL_OPENSEARCH_CA_FILE, else the platform CA when obsctl manages logging/opensearch-http-tls,
                    else ca.crt of your logging/opensearch-http-tls on the central cluster Runs the secrets phase of bootstrap (journal, lock, logs in .obsctl/ beside the inventory); a Secret that already holds the wanted values is not written.`
  static override examples = [
    'OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=… <%= config.bin %> secrets apply --generate-passwords --show-generated',
    '<%= config.bin %> secrets apply --opensearch-ca-file ./opensearch-ca.pem cluster-02',
    '<%= config.bin %> secrets apply --dry-run',
    '<%= config.bin %> secrets apply --concurrency 20',
  ]
  static override strict = false
  static override args = {
    cluster: Args.string({description: 'Clusters to apply to (default: all).'}),
  }
  static override flags = {
    'generate-passwords': Flags.boolean({
      summary: 'Generate the OpenSearch and Grafana passwords that are neither set in the environment nor already in the cluster.',
    }),
    'show-generated': Flags.boolean({summary: 'Print the passwords generated in this run, once (with --generate-passwords).'}),
    'opensearch-ca-file': Flags.string({summary: "PEM CA of the central OpenSearch's HTTP certificate, for Fluent Bit (else $OBSCTL_OPENSEARCH_CA_FILE)."}),
    'dry-run': Flags.boolean({summary: 'Touch nothing (no Secret, no CA): list the Secrets and keys each cluster would get.'}),
    concurrency: concurrencyFlag('Clusters'),
  }

  async run(): Promise<SecretsApplyReport> {
    const {argv, flags} = await this.parse(SecretsApply)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const report = await secretsApply(inv, {
      kubeconfig: flags.kubeconfig,
      clusters: argv as string[],
      generatePasswords: flags['generate-passwords'],
      showGenerated: flags['show-generated'],
      opensearchCaFile: flags['opensearch-ca-file'],
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      renderer: this.renderer(),
    })
    this.out(formatReport(report))
    if (report.platformCa?.created)
      this.note(
        `created the platform CA ${report.platformCa.file} (its key beside it, mode 0600): the central ingresses and OpenSearch serve certificates from it; give ca.crt to the browsers and clients that should trust them`,
      )
    if (report.generated.length > 0 && !report.generatedPasswords)
      this.note(`generated: ${report.generated.join(', ')} (read them from the cluster, or rerun a fresh install with --show-generated)`)
    return report
  }
}

/** Long key lists (the security config's nine files) are shortened on screen; --json has them all. */
function keyList(keys: string[]): string {
  return keys.length > 4 ? `${keys.length} keys (${keys.slice(0, 2).join(', ')}, …)` : keys.join(', ')
}

function formatReport(r: SecretsApplyReport): string {
  const rows: string[][] = []
  for (const c of r.clusters) {
    if ('plan' in c) for (const s of c.plan) rows.push([c.cluster, `${s.namespace}/${s.name}`, keyList(s.keys), 'would apply'])
    else for (const s of c.secrets) rows.push([c.cluster, `${s.namespace}/${s.name}`, keyList(s.keys), s.action])
  }
  const lines = [table(['CLUSTER', 'SECRET', 'KEYS', 'ACTION'], rows)]
  if (r.generatedPasswords) {
    lines.push('', 'Generated passwords (shown once; they are stored only in the clusters):')
    for (const [k, v] of Object.entries(r.generatedPasswords)) lines.push(`  ${k}: ${v}`)
  }
  return r.dryRun ? endDryRun(lines) : lines.join('\n')
}
