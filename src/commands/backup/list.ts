import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import type {BackupListResult} from '../../lib/lifecycle/backup-store.js'
import {DAY, secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class BackupList extends BaseCommand {
  static override readOnly = true
  static override summary = 'List the backups in the backups bucket (newest first).'
  static override description = `Lists s3.buckets.backups under _obsctl/: each backup's id, when it was made, the clusters whose etcd snapshot it holds, its size and whether it is complete (its manifest was written last). Reads no secret but the S3 credentials; nothing is decrypted.`
  static override examples = ['<%= config.bin %> backup list', '<%= config.bin %> backup list --json']
  static override flags = {
    'ca-file': Flags.string({summary: 'CA bundle for the S3 endpoint (else s3.caFile).'}),
    timeout: secondsFlag('Seconds one S3 request may take.', 60, DAY),
  }

  async run(): Promise<BackupListResult> {
    const {flags} = await this.parse(BackupList)
    const inv = this.loadInventory(flags.config)
    const {backupList} = await import('../../lib/lifecycle/backup-store.js')
    const r = await backupList(inv, {caFile: flags['ca-file'], timeoutSeconds: flags.timeout})
    if (r.backups.length === 0) this.out(`no backups in s3://${r.bucket}/${r.prefix} (obsctl backup create)`)
    else
      this.out(
        table(
          ['ID', 'CREATED', 'CLUSTERS', 'SIZE', 'COMPLETE'],
          r.backups.map((b) => [b.id, b.createdAt ?? '?', b.clusters.join(',') || '-', `${Math.ceil(b.bytes / 1024)} KiB`, b.complete ? 'yes' : 'no']),
        ),
      )
    return r
  }
}
