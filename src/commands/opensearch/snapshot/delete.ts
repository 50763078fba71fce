import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../../lib/cli/base.js'
import {serviceFlags} from '../../../lib/cli/service-flags.js'
import type {DeleteResult} from '../../../lib/opensearch/snapshot-ops.js'

export default class OpenSearchSnapshotDelete extends BaseCommand {
  static override summary = 'Delete a snapshot of s3-snapshots through the snapshot API (never in the bucket).'
  static override description = `DELETE _snapshot/s3-snapshots/NAME: OpenSearch removes the files only that snapshot uses and updates the repository's index; deleting objects in the bucket directly would corrupt the repository. A name that is not there is nothing to delete: exit 0, saying so (deleted: false, absent: true), as the same command run again after it deleted the snapshot finds it.

OpenSearch is reached as obsctl validate reaches it (--endpoint opensearch=URL, --ca-file, --request-timeout). Credentials: $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else a prompt on a terminal.`
  static override examples = [
    '<%= config.bin %> opensearch snapshot delete before-upgrade',
    '<%= config.bin %> opensearch snapshot delete before-upgrade --dry-run --json',
  ]
  static override args = {
    name: Args.string({description: 'The snapshot (obsctl opensearch snapshot list shows them).', required: true}),
  }
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Check the snapshot is there and say what would be deleted; delete nothing.'}),
    ...serviceFlags(),
  }

  async run(): Promise<DeleteResult> {
    const {args, flags} = await this.parse(OpenSearchSnapshotDelete)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const [{deleteSnapshot, formatDelete}, {serviceAccess}] = await Promise.all([
      import('../../../lib/opensearch/snapshot-ops.js'),
      import('../../../lib/platform/access.js'),
    ])
    const result = await deleteSnapshot(inv, {
      name: args.name,
      dryRun: flags['dry-run'],
      ...serviceAccess(flags),
    })
    this.out(formatDelete(result))
    return result
  }
}
