/**
 * `obsctl autocomplete script SHELL` (hidden): what a shell's start-up file loads. bash/zsh/PowerShell:
 * @oclif/plugin-autocomplete's line that sources its cached functions; fish: the completions themselves.
 */
import {Args, type Interfaces} from '@oclif/core'
import Script from '@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'
import {fishCompletion} from '../../lib/cli/completion-fish.js'
import {withoutStdin, type ArgOutput, type FlagOutput} from '../../lib/cli/base.js'

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

  /** an argument only from the command line, also when the plugin's run() parses (lib/cli/base.ts withoutStdin) */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    return super.parse(withoutStdin(options), argv)
  }

  /** its errors (a shell it does not know) printed as obsctl's are: redacted, exit 2 */
  protected override async catch(err: Error): Promise<never> {
    const {endWithError} = await import('../../lib/cli/error-output.js')
    return endWithError(this, err)
  }
}
