import {BaseCommand} from '../../../lib/cli/base.js'
import {serviceFlags} from '../../../lib/cli/service-flags.js'
import type {SnapshotListResult} from '../../../lib/opensearch/snapshot-ops.js'

export default class OpenSearchSnapshotList extends BaseCommand {
  static override summary = 'List the snapshots in the S3 snapshot repository (s3-snapshots): name, state, indices, shards, start.'
  static override description = `GET _snapshot/s3-snapshots/_all: the on-demand snapshots (obsctl opensearch snapshot) and the daily ones of the snapshot management policy fluent-bit-snapshots, oldest first.

OpenSearch is reached as obsctl validate reaches it (--endpoint opensearch=URL, --ca-file, --request-timeout). Credentials: $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else a prompt on a terminal.`
  static override examples = [
    '<%= config.bin %> opensearch snapshot list',
    '<%= config.bin %> opensearch snapshot list --json',
    '<%= config.bin %> opensearch snapshot list --endpoint opensearch=https://192.168.101.194:9200 --ca-file ./opensearch-ca.pem',
  ]
  static override flags = {...serviceFlags()}

  async run(): Promise<SnapshotListResult> {
    const {flags} = await this.parse(OpenSearchSnapshotList)
    const inv = this.loadInventory(flags.config)
    const [{listSnapshots, formatSnapshotList}, {serviceAccess}] = await Promise.all([
      import('../../../lib/opensearch/snapshot-ops.js'),
      import('../../../lib/platform/access.js'),
    ])
    const result = await listSnapshots(inv, {
      ...serviceAccess(flags),
    })
    this.out(formatSnapshotList(result))
    return result
  }
}
