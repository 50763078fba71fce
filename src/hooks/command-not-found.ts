/**
 * An unknown command (`obsctl bootsrap`) is bad input: exit 2, like every other usage error of obsctl. The closest
 * command is found in what was typed, redacted (a URL's password pasted where a command goes is never quoted
 * back: redactInput, as every error is), and named in obsctl's own words:
 * - without a terminal (scripts, CI) or under --json / -o json|yaml: the error `"bootsrap" is not an obsctl
 *   command. Did you mean "obsctl bootstrap"?` with `→ obsctl help`, printed as every obsctl error is
 *   (src/lib/cli/error-output.ts), or the error object on stdout;
 * - on a terminal: the same words as a question through obsctl's prompt (src/lib/prompt.ts, as every question of
 *   obsctl; no timer: it waits for the answer). Yes runs the suggestion with the arguments as they were typed,
 *   never the redacted ones; no ends with the error (exit 2); Ctrl-C with exit 130.
 *
 * oclif reads the words of a command that takes no arguments as part of its name, so `obsctl plan extra`
 * arrives here as the command "plan extra": that is `plan` given an argument it does not take, and it is run
 * as such (its own parse refuses the argument: exit 2 naming it, the JSON error object under --json).
 */
import type {Hook, Interfaces} from '@oclif/core'
import {toConfiguredId} from '@oclif/core'
import {distance} from 'fastest-levenshtein'
import {ExitCode, isPromptExit, ObsctlError, promptInterruptedError} from '../lib/errors.js'
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
  const [{redactInput}, {printError}] = await Promise.all([import('../lib/config/validators.js'), import('../lib/cli/error-output.js')])
  const json = wantsStructuredOutput([...words, ...rest])
  const bin = opts.config.bin
  const suggestion = suggest(redactInput(opts.id), words, opts.config)
  const meant = suggestion && ` Did you mean "${bin} ${redactInput(suggestion.shown)}"?`
  // the message quotes what was typed whole (a URL's ':' kept), redacted when printed (printError) or asked
  const unknown = (hint = '') =>
    new ObsctlError(`"${words.join(' ')}" is not an ${bin} command.${hint}`, {exitCode: ExitCode.badInput, code: 'UNKNOWN_COMMAND', hints: [`${bin} help`]})

  if (suggestion && !json && process.stdout.isTTY && (await mayAsk())) {
    const {prompter} = await import('../lib/prompt.js')
    let yes: boolean | undefined
    try {
      yes = await prompter().confirm({message: redactInput(unknown(meant).message), default: true})
    } catch (error) {
      if (!isPromptExit(error)) throw error
    }
    if (yes) return opts.config.runCommand(suggestion.id, suggestion.argv(rest))
    await printError(yes === undefined ? promptInterruptedError([`${bin} help`]) : unknown(), {json})
    this.exit(yes === undefined ? ExitCode.interrupted : ExitCode.badInput)
  }
  await printError(unknown(meant), {json})
  this.exit(ExitCode.badInput)
}

/** May obsctl ask here? As everywhere (src/lib/prompt.ts canPrompt: a terminal on stdin, CI not set), with the terminal's prompter. */
async function mayAsk(): Promise<boolean> {
  const [{canPrompt, usePrompter}, {terminalPrompter}] = await Promise.all([import('../lib/prompt.js'), import('../lib/cli/terminal-prompter.js')])
  usePrompter(terminalPrompter)
  return canPrompt()
}

interface Suggestion {
  /** the command's id */
  id: string
  /** the command as the user would type it (not yet redacted) */
  shown: string
  /** its arguments on yes: the words typed after the suggestion's, then the rest (flags), as typed */
  argv(rest: string[]): string[]
}

/**
 * The command closest to the (redacted) id among the visible ones and their aliases, when one is close enough to be
 * a typo (else none: the error without a question); a word `help` among those
 * typed asks for help on the others (`obsctl cluster help`: `obsctl help cluster`).
 */
function suggest(redactedId: string, words: string[], config: Interfaces.Config): Suggestion | undefined {
  if (words.includes('help')) {
    const topic = words.filter((w) => w !== 'help')
    return {id: 'help', shown: ['help', ...topic].join(' '), argv: () => topic}
  }
  const visible = config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  // each command against as many of the typed words as it has, and only one close enough to be a typo of them (at
  // most two edits, or a third of their length): the closest command to a pasted URL (`state show`) was suggested,
  // yes by default, and Enter ran it
  const typedParts = redactedId.split(':')
  let id: string | undefined
  let best = Number.POSITIVE_INFINITY
  for (const c of ids) {
    const head = typedParts.slice(0, c.split(':').length).join(':')
    const d = distance(head, c)
    if (d < best && d <= Math.max(2, Math.floor(head.length / 3))) [id, best] = [c, d]
  }
  if (id === undefined) return undefined
  const n = id.split(':').length
  return {id, shown: toConfiguredId(id, config), argv: (rest) => [...words.slice(n), ...rest]}
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
