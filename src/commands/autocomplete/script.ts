/**
 * `obsctl autocomplete script SHELL` (hidden): what a shell's start-up file loads. bash/zsh/PowerShell:
 * @oclif/plugin-autocomplete's line that sources its cached functions; fish: the completions themselves.
 */
import {Args} from '@oclif/core'
import Script from '@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'
import {fishCompletion} from '../../lib/cli/completion-fish.js'

export default class AutocompleteScript extends Script {
  static override args = {
    shell: Args.string({description: 'Shell type', options: ['bash', 'zsh', 'fish', 'powershell'], required: false}),
  }

  override async run(): Promise<void> {
    const {args} = await this.parse(AutocompleteScript)
    if ((args.shell ?? this.config.shell) !== 'fish') return super.run()
    const topics = Object.fromEntries(this.config.topics.map((t) => [t.name, t.description]))
    process.stdout.write(fishCompletion(this.config.bin, this.config.commands, topics))
  }

  /** its errors (a shell it does not know) printed as obsctl's are: redacted, exit 2 */
  protected override async catch(err: Error): Promise<never> {
    const {endWithError} = await import('../../lib/cli/error-output.js')
    return endWithError(this, err)
  }
}
