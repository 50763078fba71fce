import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {ChangeCommand, changeFlags} from '../../lib/cli/change-flags.js'
import type {ChangeResult} from '../../lib/fleet/index.js'

export default class UpgradeChart extends ChangeCommand {
  static override summary = 'Upgrade a Helm chart (versions.charts): render, show the diff, commit, push, sync.'
  static override description = `NAME is a key of versions.charts in the inventory (exit 2 lists them). Sets the version in the inventory, renders the GitOps repository and shows the rendered diff (the kustomization's chart version) before asking (--yes), then commits "obsctl: upgrade NAME OLD → NEW", pushes (unless --no-push) and waits for Argo CD to sync (unless --no-sync). Refuses a version that is not semver, and a downgrade without --allow-downgrade. The version the inventory and the pushed render already have is nothing to change (exit 0; the same command run again), though it still waits for the sync unless --no-sync. --dry-run shows the diff only.`
  static override examples = [
    '<%= config.bin %> upgrade chart kube-prometheus-stack --version 79.0.0 --dry-run',
    '<%= config.bin %> upgrade chart kube-prometheus-stack --version 79.0.0 --yes',
  ]
  static override args = {name: Args.string({description: 'Chart name (a key of versions.charts).', required: true})}
  static override flags = {
    version: Flags.string({summary: 'The chart version to upgrade to (semver, e.g. 79.0.0).', required: true}),
    'allow-downgrade': Flags.boolean({summary: 'Accept a version older than the one in the inventory (a rollback).'}),
    ...changeFlags,
  }

  async run(): Promise<ChangeResult> {
    const {args, flags} = await this.parse(UpgradeChart)
    const inv = this.loadInventory(flags.config)
    const [{upgradeChart}, {formatChange}] = await Promise.all([import('../../lib/flows/change-run.js'), import('../../lib/fleet/change.js')])
    const r = await upgradeChart(inv, args.name, flags.version, {...this.changeOptions(flags), allowDowngrade: flags['allow-downgrade']})
    this.out(formatChange(r))
    return r
  }
}
