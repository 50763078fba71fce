/**
 * An unknown command (`obsctl bootsrap`): on a terminal, @oclif/plugin-not-found asks "Did you mean
 * bootstrap?" and runs it on yes; without one (scripts, CI) the closest command is named in the error.
 * Either way an unknown command is bad input: exit 2, like every other usage error of obsctl.
 *
 * oclif reads the words of a command that takes no arguments as part of its name, so `obsctl plan extra`
 * arrives here as the command "plan extra": that is `plan` given an argument it does not take, and it is run
 * as such (its own parse refuses the argument: exit 2 naming it, the JSON error object under --json).
 * Under --json (or -o json|yaml) an unknown command's error is that object on stdout too.
 */
import type {Hook} from '@oclif/core'
import {toConfiguredId} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import {closest} from 'fastest-levenshtein'
import {ExitCode, ObsctlError} from '../lib/errors.js'
import {wantsStructuredOutput} from '../lib/cli/output-format.js'

const hook: Hook.CommandNotFound = async function (opts) {
  const words = opts.id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const id = words.slice(0, n).join(':')
    if (!opts.config.findCommand(id)) continue
    // a command that also has subcommands (opensearch snapshot): the next word is more likely a mistyped one
    if (opts.config.commandIDs.some((c) => c.startsWith(`${id}:`))) break
    return opts.config.runCommand(id, [...words.slice(n), ...(opts.argv ?? [])])
  }

  const help = `${opts.config.bin} help`
  const json = wantsStructuredOutput([...words, ...(opts.argv ?? [])])
  if (!json && process.stdin.isTTY && process.stdout.isTTY) {
    // the plugin ends with exit 127 (a shell's "command not found"); obsctl's usage errors are exit 2
    const error = ((message: string | Error) => this.error(message, {exit: ExitCode.badInput})) as typeof this.error
    return notFound.call({...this, error}, opts)
  }
  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const suggestion = ids.length > 0 ? closest(opts.id, ids) : undefined
  // what was typed is quoted back: never a credential in it (a URL's password pasted where a command goes)
  const {redactText} = await import('../lib/config/validators.js')
  const typed = toConfiguredId(redactText(opts.id, {}), opts.config)
  const hint = suggestion ? ` Did you mean "${opts.config.bin} ${toConfiguredId(suggestion, opts.config)}"?` : ''
  const message = `"${typed}" is not an ${opts.config.bin} command.${hint} Run "${help}" for the list of commands.`
  if (json) {
    const e = new ObsctlError(message, {exitCode: ExitCode.badInput, code: 'UNKNOWN_COMMAND', hints: [help]})
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(e.toJSON(), null, 2)}\n`, () => resolve()))
    this.exit(ExitCode.badInput)
  }
  this.error(message, {exit: ExitCode.badInput})
}

export default hook
