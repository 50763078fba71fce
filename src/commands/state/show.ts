import * as Flags from '@oclif/core/flags'
import {BaseCommand, outputFlag} from '../../lib/cli/base.js'
import {formatState} from '../../lib/engine/format.js'
import {requireKnownPhases, showState, type StateShowResult} from '../../lib/engine/plan.js'

export default class StateShow extends BaseCommand {
  static override readOnly = true
  static override summary = "Show the run journal (.obsctl/state.json): each task's status, time and error, and each phase's latest run."
  static override examples = ['<%= config.bin %> state show', '<%= config.bin %> state show --phase nodes --json']
  static override flags = {
    output: outputFlag(),
    phase: Flags.string({char: 'p', summary: 'Only this phase (repeatable).', multiple: true}),
  }

  async run(): Promise<StateShowResult> {
    const {flags} = await this.parse(StateShow)
    const inv = this.loadInventory(flags.config)
    // the flows' registry loads only to check a --phase (state show without one is a start-up budget path)
    if (flags.phase?.length) requireKnownPhases(inv, flags.phase, (await import('../../lib/flows/registry.js')).REGISTERED_PHASES)
    const result = showState(inv, {phases: flags.phase})
    this.out(formatState(result))
    return result
  }
}
