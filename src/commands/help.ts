/**
 * `obsctl help [COMMAND]`: oclif's help command (@oclif/plugin-help), bundled with the CLI so that it uses
 * the same @oclif/core as the runner (bin/bundle.mjs) — the same help `obsctl COMMAND --help` and `-h` print.
 * Its errors (`obsctl help bootsrap`: no such command) are printed as obsctl's are: redacted, exit 2.
 */
import {commands} from '@oclif/plugin-help'

export default class HelpCommand extends commands.help {
  static override summary = 'Show help for obsctl, a topic or a command (the same as COMMAND --help or -h).'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help cluster', '<%= config.bin %> help cluster add']

  protected override async catch(err: Error): Promise<never> {
    const {endWithError} = await import('../lib/cli/error-output.js')
    return endWithError(this, err, [`${this.config.bin} help`])
  }
}
