/**
 * `obsctl autocomplete [bash|zsh|fish|powershell]`: shell completion. bash, zsh and PowerShell are
 * @oclif/plugin-autocomplete's (it writes the completion functions into obsctl's cache folder and prints
 * how to load them); fish is made here (src/lib/cli/completion-fish.ts), which the plugin does not cover.
 */
import {Args, type Interfaces} from '@oclif/core'
import Index from '@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'
import {withoutStdin, type ArgOutput, type FlagOutput} from '../../lib/cli/base.js'

export default class Autocomplete extends Index {
  static override summary = 'Print how to set up shell completion for bash, zsh, fish or PowerShell.'
  static override description =
    "bash and zsh complete from functions written into obsctl's cache folder (built by this command); fish from a script printed by `obsctl autocomplete script fish`."
  static override args = {
    shell: Args.string({description: 'Shell type (else the shell you run).', options: ['bash', 'zsh', 'fish', 'powershell'], required: false}),
  }
  static override examples = [
    '<%= config.bin %> autocomplete bash',
    '<%= config.bin %> autocomplete zsh',
    '<%= config.bin %> autocomplete fish',
    '<%= config.bin %> autocomplete --refresh-cache',
  ]

  override async run(): Promise<void> {
    const {args} = await this.parse(Autocomplete)
    if ((args.shell ?? this.config.shell) !== 'fish') return super.run()
    const bin = this.config.bin
    this.log(`Setup for ${bin} completion in fish:

1) Write the completions where fish looks for them:

  mkdir -p ~/.config/fish/completions && ${bin} autocomplete script fish > ~/.config/fish/completions/${bin}.fish

2) Start a new fish (or run: source ~/.config/fish/completions/${bin}.fish), then:

  ${bin} <TAB>                  # command completion
  ${bin} command --<TAB>        # flag completion

Run step 1 again after upgrading ${bin}.`)
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
