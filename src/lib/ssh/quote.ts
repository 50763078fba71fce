/** Shell quoting for commands run over SSH: its own module, so that code which only renders a command (the install script) does not load the SSH client. */

/** Single-quote for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}
