import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import {endDryRun} from '../../lib/engine/format.js'
import {ICONS} from '../../lib/checks/render.js'
import {s3Setup, type S3SetupReport} from '../../lib/s3/index.js'
import {DAY, secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class S3Setup extends BaseCommand {
  static override summary = "Create the inventory's buckets on the S3 (MinIO) endpoint, with lifecycle expiry and versioning where asked."
  static override description = `Runs the buckets phase of bootstrap (journal, lock, logs in .obsctl/ beside the inventory), rechecking every bucket on the server. Idempotent: a bucket that exists is reported as "exists", a rule already in place as "unchanged". Credentials come from the env vars named by s3.accessKeyEnv / s3.secretKeyEnv (default OBSCTL_S3_ACCESS_KEY / OBSCTL_S3_SECRET_KEY), or a prompt on a terminal; never from the command line. A server that does not implement lifecycle or versioning gets a warning naming the feature.`
  static override examples = [
    'OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=… <%= config.bin %> s3 setup',
    '<%= config.bin %> s3 setup --ca-file ./minio-ca.pem --json',
    '<%= config.bin %> s3 setup --dry-run',
  ]
  static override flags = {
    'ca-file': Flags.string({
      summary: 'PEM CA bundle to trust for the S3 endpoint, added to the system roots (else s3.caFile). TLS verification is never turned off.',
    }),
    'dry-run': Flags.boolean({summary: 'Touch nothing: print what would be done.'}),
    timeout: secondsFlag('Seconds to wait for each S3 request.', 15, DAY),
  }

  async run(): Promise<S3SetupReport> {
    const {flags} = await this.parse(S3Setup)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const report = await s3Setup(inv, {
      caFile: flags['ca-file'],
      dryRun: flags['dry-run'],
      timeoutSeconds: flags.timeout,
      // a dry run's report is the plan itself: no progress lines besides it
      renderer: this.jsonEnabled() || flags['dry-run'] ? 'silent' : 'auto',
    })
    this.out(formatReport(report))
    for (const w of report.warnings) this.note(`${ICONS.warn} warning: ${w}`)
    return report
  }
}

function formatReport(r: S3SetupReport): string {
  const head = `S3 endpoint ${r.endpoint} (region ${r.region}${r.caFile ? `, CA ${r.caFile}` : ''})`
  if (r.dryRun) return endDryRun([head, ...r.buckets.map((b) => `  ${b.name} (${b.use}): would ${b.plan}`)])
  const rows = r.buckets.map((b) => [
    b.name,
    b.use,
    b.bucket,
    b.expireDays ? `${b.lifecycle} (expire ${b.expireDays}d)` : b.lifecycle,
    b.versioning ? b.versioningState : `${b.versioningState} (not asked)`,
  ])
  return [head, table(['BUCKET', 'HOLDS', 'STATE', 'LIFECYCLE', 'VERSIONING'], rows)].join('\n')
}
