import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import {ExitCode} from '../../lib/errors.js'
import type {SnapshotResult} from '../../lib/opensearch/snapshot.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class OpenSearchSnapshot extends BaseCommand {
  static override summary = 'Take an OpenSearch snapshot now, to the S3 snapshot repository (s3-snapshots).'
  static override description = `Snapshots the log indices (default fluent-bit-*, without the cluster's global state) to the repository s3-snapshots that the OpenSearch operator registers from the rendered OpenSearchCluster; the daily snapshots of the snapshot management policy fluent-bit-snapshots go there too (it deletes only its own: an on-demand snapshot stays until it is deleted through the snapshot API, DELETE _snapshot/s3-snapshots/NAME). The repository must exist first (obsctl validate opensearch shows it).

--indices is checked against the live indices first (GET _cat/indices/PATTERN): a pattern, or a part of a comma list, that matches no index is exit 2 and nothing is taken (OpenSearch would take an empty snapshot and call it SUCCESS); when obsctl cannot list the indices it is exit 1. A snapshot that holds no index all the same (its indices deleted in between) is a failure (exit 1).

Without --wait the snapshot is started and keeps running in OpenSearch; obsctl says how to follow it. With --wait obsctl polls it every second, with progress on stderr, until it is SUCCESS (exit 0), PARTIAL or FAILED (exit 1, with each shard failure's reason), or --timeout passes (exit 1; the snapshot keeps running).

OpenSearch is reached as obsctl validate reaches it (--endpoint opensearch=URL, --ca-file, --request-timeout; --via-api-server only with an --endpoint opensearch override, since the API server proxy drops basic auth). Credentials: $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else a prompt on a terminal.`
  static override examples = [
    '<%= config.bin %> opensearch snapshot',
    '<%= config.bin %> opensearch snapshot --wait --timeout 1800',
    '<%= config.bin %> opensearch snapshot --name before-upgrade --indices "fluent-bit-cluster-02-*" --wait --json',
    '<%= config.bin %> opensearch snapshot --endpoint opensearch=https://192.168.101.194:9200 --ca-file ./opensearch-ca.pem',
  ]
  static override flags = {
    name: Flags.string({summary: 'Snapshot name (lowercase; default obsctl-<UTC yyyymmdd-hhmmss>).'}),
    indices: Flags.string({summary: 'Index pattern to snapshot (commas, * wildcards, -exclusions).', default: 'fluent-bit-*'}),
    wait: Flags.boolean({summary: 'Follow the snapshot until it ends (or --timeout passes).'}),
    timeout: secondsFlag('Seconds --wait follows the snapshot.', 600),
    ...serviceFlags(),
  }

  async run(): Promise<SnapshotResult> {
    const parsed = await this.parse(OpenSearchSnapshot)
    const {flags} = parsed
    this.requireWith(parsed, 'timeout', 'wait', 'it is how long --wait follows the snapshot, and without --wait obsctl only starts it')
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    // an incident tool: not held back by an inventory finding about the clusters (docs/inventory.md)
    const inv = this.loadInventory(flags.config)
    const [{createSnapshot, formatSnapshot}, {serviceAccess}] = await Promise.all([
      import('../../lib/opensearch/index.js'),
      import('../../lib/platform/access.js'),
    ])
    const result = await createSnapshot(inv, {
      name: flags.name,
      indices: flags.indices,
      wait: flags.wait,
      timeoutMs: flags.timeout * 1000,
      ...serviceAccess(flags),
      onProgress: (line) => this.note(line),
    })
    this.out(formatSnapshot(result))
    if (!result.ok) this.failWith(ExitCode.failed)
    return result
  }
}
