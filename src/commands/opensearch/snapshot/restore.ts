import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../../lib/cli/base.js'
import {serviceFlags} from '../../../lib/cli/service-flags.js'
import {ExitCode} from '../../../lib/errors.js'
import type {RestoreResult} from '../../../lib/opensearch/snapshot-ops.js'
import {secondsFlag} from '../../../lib/cli/seconds-flag.js'

export default class OpenSearchSnapshotRestore extends BaseCommand {
  static override summary = 'Restore indices from a snapshot of s3-snapshots; never over an open index unless told to rename or close.'
  static override description = `POST _snapshot/s3-snapshots/NAME/_restore (without the cluster's global state or aliases), waiting until it is done (--timeout).

Before anything changes, obsctl compares the names the indices would be restored under with the cluster's indices. An open index under such a name is not overwritten: exit 2, unless
  --rename-pattern REGEX --rename-replacement TEXT   restore under other names (OpenSearch's rename: every match of REGEX replaced, $1… for its groups), or
  --close                                            close those indices first; the restore replaces their data with the snapshot's and reopens them. A closed index under such a name is replaced. --dry-run shows each index, the name it gets and what is there now, and changes nothing.

OpenSearch is reached as obsctl validate reaches it (--endpoint opensearch=URL, --ca-file, --request-timeout). Credentials: $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else a prompt on a terminal.`
  static override examples = [
    '<%= config.bin %> opensearch snapshot restore before-upgrade --indices "fluent-bit-cluster-02-*" --rename-pattern "(.+)" --rename-replacement "restored-$1"',
    '<%= config.bin %> opensearch snapshot restore before-upgrade --indices fluent-bit-cluster-02-2026.11.26 --close',
    '<%= config.bin %> opensearch snapshot restore before-upgrade --dry-run --json',
  ]
  static override args = {
    name: Args.string({description: 'The snapshot (obsctl opensearch snapshot list shows them).', required: true}),
  }
  static override flags = {
    indices: Flags.string({summary: "Which of the snapshot's indices (commas, * wildcards, -exclusions; default all)."}),
    'rename-pattern': Flags.string({summary: 'Regular expression over each index name (with --rename-replacement).', dependsOn: ['rename-replacement']}),
    'rename-replacement': Flags.string({summary: "The new name: $1… for the pattern's groups (with --rename-pattern).", dependsOn: ['rename-pattern']}),
    close: Flags.boolean({summary: "Close the open indices the restore would overwrite (their data is replaced by the snapshot's)."}),
    'dry-run': Flags.boolean({summary: 'Show what would be restored under which names; change nothing.'}),
    timeout: secondsFlag('Seconds the restore may take.', 600),
    ...serviceFlags(),
  }

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(OpenSearchSnapshotRestore)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const [{restoreSnapshot, formatRestore}, {serviceAccess}] = await Promise.all([
      import('../../../lib/opensearch/snapshot-ops.js'),
      import('../../../lib/platform/access.js'),
    ])
    const result = await restoreSnapshot(inv, {
      name: args.name,
      indices: flags.indices,
      renamePattern: flags['rename-pattern'],
      renameReplacement: flags['rename-replacement'],
      close: flags.close,
      dryRun: flags['dry-run'],
      timeoutMs: flags.timeout * 1000,
      ...serviceAccess(flags),
    })
    this.out(formatRestore(result))
    if (!result.ok) this.failWith(ExitCode.failed)
    return result
  }
}
