import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import type {UnsilenceResult} from '../../lib/alerts/index.js'

export default class AlertsUnsilence extends BaseCommand {
  static override summary = 'End a silence now (expire it in Alertmanager).'
  static override description = `Expires the silence through DELETE /api/v2/silence/ID and reads it back to check it is expired; the alerts it silenced notify again at their next evaluation. A silence that is already expired is left as it is (exit 0); an id Alertmanager does not know is exit 2. obsctl alerts list shows the silences and their ids.

Alertmanager is reached as obsctl alerts list reaches it.`
  static override examples = [
    '<%= config.bin %> alerts unsilence 9a1c52f4-3c4e-4d0c-9a57-0b2f1f0e7b21',
    '<%= config.bin %> alerts unsilence 9a1c52f4-3c4e-4d0c-9a57-0b2f1f0e7b21 --dry-run --json',
  ]
  static override args = {id: Args.string({description: 'the silence id (obsctl alerts list shows it)', required: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Show the silence that would be expired; change nothing.'}),
    ...serviceFlags(),
  }

  async run(): Promise<UnsilenceResult> {
    const {flags, args} = await this.parse(AlertsUnsilence)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    // an incident tool: not held back by an inventory finding about the clusters (docs/inventory.md)
    const inv = this.loadInventory(flags.config)
    const [{unsilence, formatUnsilence}, {serviceAccess}] = await Promise.all([import('../../lib/alerts/index.js'), import('../../lib/platform/access.js')])
    const result = await unsilence(inv, {
      id: args.id,
      dryRun: flags['dry-run'],
      ...serviceAccess(flags),
    })
    this.out(formatUnsilence(result))
    return result
  }
}
