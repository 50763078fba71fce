/**
 * `-o json|yaml` (`-o json`, `-ojson`, `-o=json`, `--output json`, `--output=json`) as a command line asks for it,
 * before any `--`: the base command's rule for its result and error objects, and the unknown-command hook's,
 * which has no parsed flags to read. Loads nothing.
 */
export function requestedOutput(argv: readonly string[]): 'json' | 'yaml' | undefined {
  const end = argv.indexOf('--')
  const args = end === -1 ? argv : argv.slice(0, end)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const v = a === '-o' || a === '--output' ? args[i + 1] : a.startsWith('--output=') ? a.slice(9) : /^-o=?(json|yaml)$/.exec(a)?.[1]
    if (v === 'json' || v === 'yaml') return v
  }
  return undefined
}

/** --json or `-o json|yaml` before any `--`. */
export function wantsStructuredOutput(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json') || requestedOutput(argv) !== undefined
}
