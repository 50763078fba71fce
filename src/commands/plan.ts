import * as Flags from '@oclif/core/flags'
import {BaseCommand, outputFlag} from '../lib/cli/base.js'
import {formatPlan} from '../lib/engine/format.js'
import {planPhases, type PlanResult} from '../lib/engine/plan.js'
import {bootstrapPhaseOptions, selectBootstrap} from '../lib/flows/bootstrap.js'
import {buildPhases} from '../lib/flows/registry.js'

export default class Plan extends BaseCommand {
  static override readOnly = true
  static override summary = 'Show every phase for every target: done / pending / failed / interrupted / changed since, and what it would do.'
  static override description = 'Reads .obsctl/state.json beside the inventory and asks each phase what it would do. Contacts no remote system.'
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan --phase nodes --phase kubeconfig',
    '<%= config.bin %> plan -c lab/obsctl.yaml --json',
  ]
  static override flags = {
    output: outputFlag(),
    phase: Flags.string({char: 'p', summary: 'Only this phase (repeatable).', multiple: true}),
  }

  async run(): Promise<PlanResult> {
    const {flags} = await this.parse(Plan)
    const inv = this.loadInventory(flags.config)
    const phases = await buildPhases(selectBootstrap({only: flags.phase}), bootstrapPhaseOptions({kubeconfig: flags.kubeconfig}))
    const plan = await planPhases(phases, {inv, kubeconfig: flags.kubeconfig})
    this.out(formatPlan(plan))
    return plan
  }
}
