/**
 * An unknown command (`obsctl bootsrap`): on a terminal, @oclif/plugin-not-found asks "Did you mean
 * bootstrap?" and runs it on yes; without one (scripts, CI) the closest command is named in the error, printed
 * as every obsctl error is (src/lib/cli/error-output.ts: `Error: …` and `→ obsctl help`, or the error object
 * under --json / -o json|yaml). Either way an unknown command is bad input: exit 2, like every other usage
 * error of obsctl, and what was typed is quoted without a credential (a URL's password pasted where a command
 * goes): the plugin is given the redacted id to show and to find its suggestion in.
 *
 * oclif reads the words of a command that takes no arguments as part of its name, so `obsctl plan extra`
 * arrives here as the command "plan extra": that is `plan` given an argument it does not take, and it is run
 * as such (its own parse refuses the argument: exit 2 naming it, the JSON error object under --json).
 */
import type {Hook} from '@oclif/core'
import {toConfiguredId} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import {closest} from 'fastest-levenshtein'
import {ExitCode, ObsctlError} from '../lib/errors.js'
import {wantsStructuredOutput} from '../lib/cli/output-format.js'

const hook: Hook.CommandNotFound = async function (opts) {
  const parts = opts.id.split(':')
  for (let n = parts.length - 1; n > 0; n--) {
    const id = parts.slice(0, n).join(':')
    if (!opts.config.findCommand(id)) continue
    // a command that also has subcommands (opensearch snapshot): the next word is more likely a mistyped one
    if (opts.config.commandIDs.some((c) => c.startsWith(`${id}:`))) break
    return opts.config.runCommand(id, [...parts.slice(n), ...(opts.argv ?? [])])
  }

  const {words, rest} = typed(opts.id, opts.argv ?? [])
  const {redactText} = await import('../lib/config/validators.js')
  const redactedId = redactText(opts.id, {})
  const json = wantsStructuredOutput([...words, ...rest])
  if (!json && process.stdin.isTTY && process.stdout.isTTY) {
    // the plugin ends with exit 127 (a shell's "command not found"); obsctl's usage errors are exit 2
    const error = ((message: string | Error) => this.error(message, {exit: ExitCode.badInput})) as typeof this.error
    // it shows the id it is given and derives the suggested command's arguments from it (the words after the
    // suggestion's): on yes, the suggestion runs with the words as they were typed, never the redacted ones
    const runCommand = (suggestion: string) =>
      opts.config.runCommand(
        suggestion,
        suggestion === 'help' && /help/.test(redactedId) ? words.filter((w) => w !== 'help') : [...words.slice(suggestion.split(':').length), ...rest],
      )
    const config = new Proxy(opts.config, {get: (target, key) => (key === 'runCommand' ? runCommand : Reflect.get(target, key, target))})
    return notFound.call({...this, error, config}, {...opts, id: redactedId})
  }

  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const suggestion = ids.length > 0 ? closest(redactedId, ids) : undefined
  const bin = opts.config.bin
  const hint = suggestion ? ` Did you mean "${bin} ${toConfiguredId(suggestion, opts.config)}"?` : ''
  // printError redacts what is quoted
  const e = new ObsctlError(`"${words.join(' ')}" is not an ${bin} command.${hint}`, {
    exitCode: ExitCode.badInput,
    code: 'UNKNOWN_COMMAND',
    hints: [`${bin} help`],
  })
  const {printError} = await import('../lib/cli/error-output.js')
  await printError(e, {json})
  this.exit(ExitCode.badInput)
}

/**
 * The words oclif joined into `id` (with ':') and the arguments after them, as typed: from the process's
 * arguments when they begin with words that spell the id (a word may hold a ':' itself, as a URL does, and
 * oclif then miscounts the arguments that follow), else the id's parts and oclif's argv.
 */
function typed(id: string, argv: string[]): {words: string[]; rest: string[]} {
  const args = process.argv.slice(2)
  for (let n = 1; n <= args.length; n++) if (args.slice(0, n).join(':') === id) return {words: args.slice(0, n), rest: args.slice(n)}
  return {words: id.split(':'), rest: argv}
}

export default hook
