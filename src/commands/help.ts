/**
 * `obsctl help [COMMAND]`: oclif's help command (@oclif/plugin-help), bundled with the CLI so that it uses
 * the same @oclif/core as the runner (bin/bundle.js) — the same help `obsctl COMMAND --help` and `-h` print.
 */
import {commands} from '@oclif/plugin-help'

export default commands.help
