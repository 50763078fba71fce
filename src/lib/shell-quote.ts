/**
 * Shell quoting (POSIX sh), a leaf module below every layer: for commands obsctl runs (over SSH, on the nodes) and for
 * the commands its hints print for the user to paste. Its own module, so that code which only renders a command (the
 * install script) does not load the SSH client.
 */

/** Single-quote for POSIX sh: always one word, whatever it holds. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

/**
 * One shell word as a hint prints it for pasting: bare when every character means only itself to a shell (letters,
 * digits and `_ @ % + = : , . / -`: `main`, `/srv/lab/gitops`, `root@192.0.2.7`), so ordinary hints keep their look;
 * else single-quoted (`'/home/me/my lab/gitops'`), which a shell reads back as exactly the text.
 */
export function shWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : shQuote(s)
}
