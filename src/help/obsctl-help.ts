/**
 * obsctl's help class (package.json `oclif.helpClass`): oclif's Help as it is, except for what it says when there is
 * no such command or topic. oclif answers `--help`, `-h` and a bare topic before any command or hook runs, and its
 * Help threw `Command https://ops:secret@h.test/x not found.`, which oclif printed as typed: a URL's password or a
 * token pasted where a command goes was quoted back. Here that error is printed as every obsctl error is
 * (src/lib/cli/error-output.ts printError: redacted through redactInput, `→ obsctl help`, the error object under
 * --json / -o json|yaml) and obsctl exits 2, as `obsctl help X` and an unknown command do.
 *
 * `obsctl help X` reaches the same class (oclif's help command loads it with loadHelpClass). bin/bundle.mjs bundles
 * this file as an entry (dist/help/, CommonJS) over the runner's @oclif/core help module, which the runner loads for
 * --help anyway; the error path's modules are loaded only on that path.
 */
// both already loaded by the runner (execute requires errors/index at start, main the help module for --help)
import {exit} from '@oclif/core/errors'
import {Help} from '@oclif/core/help'

export default class ObsctlHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const e = error as Error & {code?: unknown; oclif?: {exit?: number}}
      // an exit asked for (oclif's ExitError), or something that is no error object: as it was
      if (!(e instanceof Error) || e.code === 'EEXIT') throw error
      const [{printError}, {ExitCode, ObsctlError}, {wantsStructuredOutput}] = await Promise.all([
        import('../lib/cli/error-output.js'),
        import('../lib/errors.js'),
        import('../lib/cli/output-format.js'),
      ])
      // oclif's `Command X not found.` is exit 2 (bad input); anything else is a failure of its own
      const bad = e.oclif?.exit === ExitCode.badInput
      const shown = new ObsctlError(e.message, {
        exitCode: bad ? ExitCode.badInput : ExitCode.failed,
        code: bad ? 'UNKNOWN_COMMAND' : 'FAILED',
        hints: [`${this.config.bin} help`],
      })
      await printError(shown, {json: wantsStructuredOutput(argv)})
      exit(shown.exitCode)
    }
  }
}
