import * as Args from '@oclif/core/args'
import {ChangeCommand, changeFlags} from '../../lib/cli/change-flags.js'
import type {ChangeResult} from '../../lib/fleet/index.js'

export default class ConfigSet extends ChangeCommand {
  static override summary = 'Change one inventory value and roll it out: render, diff, commit, push, sync.'
  static override description = `Lints the edited inventory first (exit 2, nothing written, when it would be invalid: each error with its file:line, those already in the file and away from PATH said to be the file's; a file whose only errors are at PATH is mended by the edit), renders the GitOps repository in dry-run mode and shows the rendered diff, asks (--yes), then writes the inventory (only the value's bytes change; a field not yet in the file is inserted as its own text, every other byte, line ending and byte-order mark kept; the file keeps its mode), renders and commits, pushes (unless --no-push) and waits for Argo CD to sync (unless --no-sync). A value the inventory and the pushed render already have is nothing to change (exit 0; the same command run again), though it still waits for the sync unless --no-sync. --dry-run shows the diff only.`
  static override examples = [
    '<%= config.bin %> config set retention.prometheus 12h --dry-run',
    '<%= config.bin %> config set retention.prometheus 12h --yes',
    '<%= config.bin %> config set replicas.prometheus 2 --yes --no-sync',
    '<%= config.bin %> config set clusters.cluster-02.metrics agent --yes',
  ]
  static override args = {
    path: Args.string({description: 'Dotted path, e.g. retention.prometheus or clusters.cluster-02.metrics.', required: true}),
    value: Args.string({description: 'The new value (YAML: 12h, 2, [a, b]).', required: true}),
  }
  static override flags = {
    ...changeFlags,
  }

  async run(): Promise<ChangeResult> {
    const {args, flags} = await this.parse(ConfigSet)
    const [{configSet, inventoryToSet}, {formatChange}] = await Promise.all([import('../../lib/flows/change-run.js'), import('../../lib/fleet/change.js')])
    // an invalid file is taken when this edit mends it (exit 2 naming the errors it leaves otherwise)
    const inv = this.loadInventory(flags.config, (file, from) => inventoryToSet(file, from, args.path, args.value))
    const r = await configSet(inv, args.path, args.value, this.changeOptions(flags))
    this.out(formatChange(r))
    return r
  }
}
