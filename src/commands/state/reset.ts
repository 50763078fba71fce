import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {requireInteractive} from '../../lib/prompt.js'
import {requireKnownPhases, resetState, type StateResetResult} from '../../lib/engine/plan.js'
import {REGISTERED_PHASES as PHASE_NAMES} from '../../lib/flows/registry.js'

export default class StateReset extends BaseCommand {
  static override summary = 'Forget what the journal says was done (all, or some phases), so the next run re-checks and redoes it.'
  static override description =
    'Tasks stay idempotent against the live systems, so resetting costs time, never correctness. Asks for confirmation unless --yes.'
  static override examples = ['<%= config.bin %> state reset --phase nodes --yes', '<%= config.bin %> state reset --yes --json']
  static override flags = {
    phase: Flags.string({char: 'p', summary: 'Only this phase (repeatable).', multiple: true}),
  }

  async run(): Promise<StateResetResult> {
    const {flags} = await this.parse(StateReset)
    const inv = this.loadInventory(flags.config)
    requireKnownPhases(inv, flags.phase, PHASE_NAMES)
    const what = flags.phase?.length ? `the state of phase(s) ${flags.phase.join(', ')}` : 'the whole run state'
    if (!flags.yes) {
      requireInteractive(`resetting ${what}`, ['pass --yes to confirm'])
      await this.confirm(`Forget ${what}?`) // no: exit 1, nothing reset
    }
    const result = resetState(inv, {phases: flags.phase, onNotice: (m) => this.note(m)})
    if (result.movedAside) this.out(`${result.problem}; moved it aside to ${result.movedAside}; ${result.stateFile} starts empty`)
    else this.out(`reset ${what}: ${result.removed} task record(s) removed from ${result.stateFile}`)
    return result
  }
}
