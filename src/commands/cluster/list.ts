import {BaseCommand, outputFlag} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import {listClusters, type ClusterListRow} from '../../lib/fleet/index.js'

export default class ClusterList extends BaseCommand {
  static override readOnly = true
  static override summary = 'List the clusters of the inventory with their role, metrics mode and what has been done.'
  static override examples = ['<%= config.bin %> cluster list', '<%= config.bin %> cluster list --json']

  static override flags = {output: outputFlag()}

  async run(): Promise<{clusters: ClusterListRow[]}> {
    const {flags} = await this.parse(ClusterList)
    const rows = listClusters(this.loadInventory(flags.config))
    this.out(
      table(
        ['NAME', 'ID', 'ROLE', 'METRICS', 'API SERVER', 'NODES', 'DONE', 'FAILED'],
        rows.map((r) => [
          r.name,
          r.id,
          r.role,
          r.metrics ?? '-',
          r.apiServer,
          r.nodes.join(','),
          r.phasesDone.join(',') || '-',
          r.phasesFailed.join(',') || '-',
        ]),
      ),
    )
    return {clusters: rows}
  }
}
