import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand} from '../lib/cli/base.js'
import type {RollbackResult} from '../lib/gitops/rollback.js'
import {secondsFlag} from '../lib/cli/seconds-flag.js'

export default class Rollback extends BaseCommand {
  static override summary = "Undo obsctl's last change (or every change after a commit): git revert, inventory restored, push, sync."
  static override description = `Reverts the last commit obsctl made in the GitOps repository (config set, upgrade chart, render, an earlier rollback), or with --to COMMIT every commit after COMMIT, with git revert; puts the inventory back to the text that went with it (kept in .obsctl/inventory/, named by the commits' Obsctl-Inventory trailers); commits "obsctl: rollback to …", pushes (unless --no-push) and waits for Argo CD to sync (unless --no-sync). Refuses (exit 2, nothing changed) when the branch has commits obsctl did not make after that point (it lists them), when a reverted commit added or removed a cluster, when the inventory was edited since the last render, or when the inventory it would restore is one obsctl config validate rejects. --dry-run lists the commits, the inventory diff and the files. Rolling back a rollback redoes the change, so a plain rollback run again reverts the first; --to COMMIT run again finds the branch at that commit's tree and the inventory that went with it and does nothing (exit 0; it still waits for the sync unless --no-sync).`
  static override examples = [
    '<%= config.bin %> rollback --dry-run',
    '<%= config.bin %> rollback --yes',
    '<%= config.bin %> rollback --to 3f2a9c1 --yes --no-sync',
  ]
  static override flags = {
    to: Flags.string({summary: 'Revert every commit after this one (a SHA or ref on the branch).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be reverted; change nothing.'}),
    push: Flags.boolean({summary: 'Push the revert commit (--no-push: commit only).', default: true, allowNo: true}),
    sync: Flags.boolean({summary: 'Wait for the Applications to be Synced and Healthy (--no-sync: do not).', default: true, allowNo: true}),
    timeout: secondsFlag('Seconds to wait for the sync.', 900),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<RollbackResult> {
    const {flags} = await this.parse(Rollback)
    const inv = this.loadInventory(flags.config)
    const [{rollback}, {formatRollback}] = await Promise.all([import('../lib/flows/rollback.js'), import('../lib/gitops/rollback.js')])
    const r = await rollback(inv, {
      to: flags.to,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      push: flags.push,
      allowOvercommit: flags['allow-overcommit'],
      sync: flags.sync,
      kubeconfig: flags.kubeconfig,
      timeoutSeconds: flags.timeout,
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
      onPlan: (t) => this.out(t),
      confirm: (message) => this.confirm(message),
    })
    this.out(formatRollback(r))
    return r
  }
}
