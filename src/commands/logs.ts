import * as Flags from '@oclif/core/flags'
import {BaseCommand, outputFlag} from '../lib/cli/base.js'
import type {LogsResult} from '../lib/engine/show-logs.js'
import {countFlag, MAX_LINES} from '../lib/cli/count-flag.js'

export default class Logs extends BaseCommand {
  static override readOnly = true
  static override summary = "Show a run's task logs (the latest run unless --run names one)."
  static override description = `Each task of a run (bootstrap, node install, cluster add, upgrade …) writes its log to .obsctl/logs/<run>/<phase>/<target>.log: the commands it ran and what they printed, progress, and the error. This prints them, one block per task, redacted (URL credentials, Authorization values, the values of secret-named environment variables). obsctl state show prints the folder; a failed run's summary names it; --verbose prints the failed tasks' last lines under the summary.

--run takes a run id (or its unique beginning) as obsctl state show and --json results give it. Exit 0, also when no run has left logs yet (dry runs write none); 2 for an unknown --run.`
  static override examples = [
    '<%= config.bin %> logs',
    '<%= config.bin %> logs --phase nodes --tail 50',
    '<%= config.bin %> logs --target cluster-01',
    '<%= config.bin %> logs --json',
  ]
  static override flags = {
    output: outputFlag(),
    run: Flags.string({summary: 'The run id (or its unique beginning); default: the latest run.'}),
    phase: Flags.string({char: 'p', summary: 'Only this phase (repeatable).', multiple: true}),
    target: Flags.string({char: 't', summary: 'Only this target, e.g. cluster-01 or cluster-01/192.168.101.194 (repeatable).', multiple: true}),
    tail: countFlag('Only the last N lines of each log (at most 1000000).', {max: MAX_LINES}),
  }

  async run(): Promise<LogsResult> {
    const {flags} = await this.parse(Logs)
    const inv = this.loadInventory(flags.config)
    // a --phase obsctl does not have (nor the journal names) is bad input, as for state show; the registry loads only then
    if (flags.phase?.length) {
      const [{requireKnownPhases}, {REGISTERED_PHASES}] = await Promise.all([import('../lib/engine/plan.js'), import('../lib/flows/registry.js')])
      requireKnownPhases(inv, flags.phase, REGISTERED_PHASES)
    }
    const [{showLogs}, {formatLogs}] = await Promise.all([import('../lib/engine/show-logs.js'), import('../lib/cli/views/logs.js')])
    const result = showLogs(inv, {run: flags.run, phases: flags.phase, targets: flags.target, tail: flags.tail})
    this.out(formatLogs(result))
    return result
  }
}
