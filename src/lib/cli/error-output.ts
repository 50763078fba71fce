/**
 * How an obsctl error leaves: redacted, then under --json (or -o json|yaml) the error object on stdout, else
 * `Error: message` and one `→ hint` line per hint on stderr (on a terminal, fitted to its width: ../wrap.ts fitTerminal). The base command's catch prints every command's
 * error with it, and the unknown-command hook (which runs before any command) its own.
 */
import type {Command} from '@oclif/core/command'
import {ExitCode, fromFsError, isObsctlError, ObsctlError} from '../errors.js'
import {redactDeep} from '../config/validators.js'
import {stderrView, writeFully} from '../stdio.js'
import {paint} from '../style.js'
import {fitTerminal, stripColor} from '../wrap.js'

/** A value the user typed (a URL with a password, a --token) is never echoed back, whatever code built the message. */
export function redactError(e: ObsctlError): ObsctlError {
  return new ObsctlError(redactDeep(e.message), {
    exitCode: e.exitCode,
    code: e.code,
    hints: redactDeep(e.hints),
    details: redactDeep(e.details),
    cause: e.cause,
  })
}

/**
 * Print `e` (redacted) as the output mode asks; `extra` lines (a stack trace) follow the hints in the human form.
 * Both are written whole before this returns, so that an exit right after loses nothing.
 */
export async function printError(e: ObsctlError, o: {json: boolean; extra?: string[]}): Promise<void> {
  const r = redactError(e)
  if (o.json) {
    // oclif exits as soon as the command returns: a pipe whose reader is slower than us holds 64 KiB, and the rest would be lost
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(r.toJSON(), null, 2)}\n`, () => resolve()))
    return
  }
  // straight to fd 2: a progress renderer still holding process.stderr (listr2 buffers it while it draws)
  // must not swallow the verdict when the run stops under it (Ctrl-C at a prompt)
  const c = paint(stderrView)
  const lines = [`${c.red.bold('Error:')} ${r.message}`, ...r.hints.map((h) => `  ${c.cyan('→')} ${h}`)]
  // on a terminal fitted to its width at spaces, continuation lines under the text (`Error: `, `→ `): the terminal's own
  // wrap cut words at its edge; a pipe gets each line whole (scripts read it); a stack trace (extra) as it is
  const text = [fitTerminal(lines.join('\n'), stderrView), ...(o.extra ?? [])].join('\n')
  // (and the cursor a renderer may have hidden is shown again)
  // (an error's own output that cannot be written has nowhere else to go)
  try {
    writeFully(2, `${stderrView.isTTY ? '\u001b[?25h' : ''}${text}\n`)
  } catch {}
}

/**
 * A parse error as exit 2 naming the flag: oclif writes "Parsing --interval \n\tExpected an integer but
 * received: abc\nSee more help with --help"; we say "--interval: expected an integer but received: abc". A flag is
 * named as it is typed, `--host` (oclif's "Missing required flag host", for every flag of every command).
 */
export function usageError(err: Error, id: string | undefined): ObsctlError {
  // on a terminal oclif dims its flag-validation lines (`\e[2mMissing required flag host\n\e[22m`): read without colour
  const typed = (err as {parse?: {input?: {argv?: unknown}}}).parse?.input?.argv
  const text = dropUnusedMultipleNote(stripColor(err.message), Array.isArray(typed) ? typed.map(String) : process.argv)
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with --help$/.test(l))
    // oclif's flag-constraint errors: "The following error occurred:" / "Missing required flag cluster"
    .filter((l) => !/^The following errors? occurred:$/.test(l))
    .map((l) => l.replace(/^Missing required flag (\S+)$/, 'missing required flag --$1'))
  let message = lines.join('\n')
  const m = /^Parsing (--[\w-]+)\s*\n?(.*)$/s.exec(message)
  if (m) message = `${m[1]}: ${m[2]!.charAt(0).toLowerCase()}${m[2]!.slice(1)}`
  return new ObsctlError(message, {exitCode: ExitCode.badInput, code: 'BAD_FLAGS', hints: [`obsctl ${id?.replaceAll(':', ' ') ?? ''} --help`]})
}

/**
 * oclif's missing-argument error ends with a note for every flag that takes several values ("Note: --endpoint allows
 * multiple values. Because of this you need to provide all arguments before providing that flag." and how to use
 * `--`), whether or not that flag was typed: `obsctl cluster remove` alone spoke of --endpoint. Kept only when one of
 * those flags is among the words the parser was given (the error's own `parse.input.argv`; else the process's).
 */
function dropUnusedMultipleNote(message: string, argv: string[]): string {
  const m = /\n*Note: ((?:--[\w-]+(?:, )?)+) allows? multiple values\.[^\n]*(?:\nAlternatively, you can use "--"[^\n]*)?/.exec(message)
  if (!m) return message
  const typed = m[1]!.split(', ').some((flag) => argv.some((a) => a === flag || a.startsWith(`${flag}=`)))
  return typed ? message : message.slice(0, m.index) + message.slice(m.index + m[0].length)
}

/** oclif's flag/argument parse errors (CLIParseError and subclasses carry a `parse` field). */
export function isParseError(err: Error): boolean {
  for (let p = Object.getPrototypeOf(err); p; p = Object.getPrototypeOf(p)) if (p.constructor?.name === 'CLIParseError') return true
  return false
}

/**
 * The end of a command obsctl takes from oclif's plugins (help, autocomplete: no BaseCommand) on an error: printed
 * as every obsctl error is (printError: redacted, so `obsctl help URL` never quotes the URL's password back; the
 * error object on stdout under --json or -o json|yaml), bad input (a parse error, oclif's "Command … not found") exit 2. `hints`: what to run (default: the command's --help).
 */
export async function endWithError(cmd: Command, err: Error & {oclif?: {exit?: number}; code?: unknown}, hints?: string[]): Promise<never> {
  // an exit the command asked for (oclif's ExitError), or oclif's exit 0
  if (err.code === 'EEXIT' || err.oclif?.exit === 0) throw err
  const bad = err.oclif?.exit === ExitCode.badInput
  const e = isObsctlError(err)
    ? err
    : isParseError(err)
      ? usageError(err, cmd.id)
      : (fromFsError(err) ??
        new ObsctlError(err.message, {
          exitCode: bad ? ExitCode.badInput : ExitCode.failed,
          code: bad ? 'BAD_ARGS' : 'FAILED',
          hints: hints ?? [`obsctl ${cmd.id?.replaceAll(':', ' ') ?? ''} --help`],
        }))
  // under --json (which these commands do not take: oclif's parse refuses it) the error object on stdout, as every
  // obsctl command's: a script that asked for JSON gets JSON
  const {wantsStructuredOutput} = await import('./output-format.js')
  await printError(e, {json: wantsStructuredOutput(cmd.argv)})
  return cmd.exit(e.exitCode)
}
