/**
 * How an obsctl error leaves: redacted, then under --json (or -o json|yaml) the error object on stdout, else
 * `Error: message` and one `→ hint` line per hint on stderr. The base command's catch prints every command's
 * error with it, and the unknown-command hook (which runs before any command) its own.
 */
import {writeSync} from 'node:fs'
import {ObsctlError} from '../errors.js'
import {redactDeep} from '../config/validators.js'
import {paint} from '../style.js'

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
  const c = paint(process.stderr)
  const lines = [`${c.red.bold('Error:')} ${r.message}`, ...r.hints.map((h) => `  ${c.cyan('→')} ${h}`), ...(o.extra ?? [])]
  // (and the cursor a renderer may have hidden is shown again)
  writeFully(2, `${process.stderr.isTTY ? '\u001b[?25h' : ''}${lines.join('\n')}\n`)
}

/**
 * All of `text` on file descriptor `fd` before the process exits: Node opens a stdio pipe non-blocking, so a
 * reader slower than us takes 64 KiB, then the write answers EAGAIN (or takes part of the text), and an error's
 * end, its hints, would be lost. A reader that went away (EPIPE) ends it.
 */
function writeFully(fd: number, text: string): void {
  let rest = Buffer.from(text)
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
    }
  }
}
