/**
 * An unknown command (`obsctl bootsrap`): on a terminal, @oclif/plugin-not-found asks "Did you mean
 * bootstrap?" and runs it on yes; without one (scripts, CI) the closest command is named in the error.
 * Either way an unknown command is bad input: exit 2, like every other usage error of obsctl.
 */
import type {Hook} from '@oclif/core'
import {toConfiguredId} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import {closest} from 'fastest-levenshtein'
import {ExitCode} from '../lib/errors.js'

const hook: Hook.CommandNotFound = async function (opts) {
  const help = `${opts.config.bin} help`
  if (process.stdin.isTTY && process.stdout.isTTY) {
    // the plugin ends with exit 127 (a shell's "command not found"); obsctl's usage errors are exit 2
    const error = ((message: string | Error) => this.error(message, {exit: ExitCode.badInput})) as typeof this.error
    return notFound.call({...this, error}, opts)
  }
  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const suggestion = ids.length > 0 ? closest(opts.id, ids) : undefined
  const typed = toConfiguredId(opts.id, opts.config)
  const hint = suggestion ? ` Did you mean "${opts.config.bin} ${toConfiguredId(suggestion, opts.config)}"?` : ''
  this.error(`"${typed}" is not an ${opts.config.bin} command.${hint} Run "${help}" for the list of commands.`, {exit: ExitCode.badInput})
}

export default hook
