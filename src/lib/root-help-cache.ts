/**
 * `obsctl --help`, `obsctl -h` and `obsctl` alone (the root help) answered from the derived-result cache (issue 18:
 * `--help` ≤ 2x of `node -e 0`). Drawing it loads oclif, reads and parses its 196 KB manifest and lays out every
 * topic and command, ~40 ms of CPU over Node's own start, to print the same text again; bin/run.js now prints the
 * text the last run printed when nothing it was drawn from has changed, before the CLI's bundle loads.
 *
 * What the text is drawn from, and so what must be the same for it to be printed again:
 * - this build of obsctl on this Node (the store is the code cache's folder: one per obsctl version, bundle hash,
 *   Node version and architecture, ./code-cache.ts), and its package.json and oclif.manifest.json (size, mtime, inode);
 * - that the arguments ask for it: none, `--help` or `-h` alone (oclif draws the same text for each: they share it);
 * - the environment, whole but for the shell's own bookkeeping (PWD, OLDPWD, SHLVL, `_`): the colour decision
 *   alone reads FORCE_COLOR, NO_COLOR, TERM, COLORTERM, CI and the name of every variable (a CI vendor's), the
 *   width OCLIF_COLUMNS, the theme's place XDG_CONFIG_HOME and OBSCTL_CONFIG_DIR. It is kept as a sha256, never
 *   as values (a token in the environment stays out of the cache folder);
 * - whether stdout is a terminal, and its width;
 * - the files the help class names as it draws (oclif's user theme, theme.json, and the user plugins' package.json,
 *   present or not).
 * Anything else is a new draw, whose text replaces the entry. With DEBUG set (oclif's own trace on stderr) nothing
 * is read or kept, and a run that warned (a process warning: oclif's about its manifest or a plugin) or did not
 * exit 0 keeps nothing: the text alone would drop what it said on stderr.
 *
 * bin/run.js asks `cachedRootHelp` first; on a miss it has stdout's writes recorded, and the help class calls
 * `rootHelpDrawn` when the root help is complete (the entry is written at exit with the code cache's, 0600). The
 * two sides are different copies of this module (dist/code-cache.cjs and the bundle): they meet at a global.
 */
import path from 'node:path'
import {debuglog} from 'node:util'
import {derivedCache} from './derived-cache.js'
import {fileStamp} from './file-stamp.js'
import {sha256} from './hash.js'

const NAME = 'root-help'
// the code cache's: NODE_DEBUG=obsctl-code-cache says whether the text was printed from the cache, and why not
const debug = debuglog('obsctl-code-cache')
const DRAWN = Symbol.for('obsctl.root-help')
/** set by the shell at every prompt or directory change; the root help reads none of them */
const SHELL_BOOKKEEPING = new Set(['PWD', 'OLDPWD', 'SHLVL', '_'])

interface Entry {
  /** path → signature (inode, size, mtime; `-` for absent), when the text was drawn */
  files: Record<string, string>
  text: string
}

type Drawn = (files: string[]) => void

/** The arguments of the root help: none, or a help flag alone (`--help`, or `-h`: package.json additionalHelpFlags). */
function isRootHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))
}

function inputOf(env: NodeJS.ProcessEnv): string {
  const entries = Object.entries(env)
    .filter(([k]) => !SHELL_BOOKKEEPING.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const out = process.stdout
  return `${JSON.stringify({env: sha256(JSON.stringify(entries)), stdout: out.isTTY ? out.columns : 'not a terminal'})}\n`
}

/**
 * The root help's text as the last run drew it for exactly these inputs, or undefined (then, with the cache in use,
 * stdout's writes are recorded from now on for `rootHelpDrawn`). `root`: the package's folder.
 */
export function cachedRootHelp(argv: readonly string[], root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cache = derivedCache()
  if (!cache || !isRootHelp(argv) || env.DEBUG) return undefined
  const input = inputOf(env)
  const hit = cache.get(NAME, input)
  let changed: string | undefined
  if (hit !== undefined) {
    try {
      const entry = JSON.parse(hit) as Entry
      changed = Object.keys(entry.files).find((file) => fileStamp(file) !== entry.files[file])
      if (!changed) {
        debug('root help: from cache')
        return entry.text
      }
    } catch {}
  }
  debug('root help: drawn%s', changed ? ` (${changed} changed)` : '')
  record(input, root, cache)
  return undefined
}

/** Records what this run writes to stdout, and keeps it when the help class says the root help was drawn. */
function record(input: string, root: string, cache: NonNullable<ReturnType<typeof derivedCache>>): void {
  const out = process.stdout
  const write = out.write
  const chunks: string[] = []
  out.write = function recorded(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof out.write
  let warned = false
  process.on('warning', () => {
    warned = true
  })
  const drawn: Drawn = (files) => {
    const all = [path.join(root, 'package.json'), path.join(root, 'oclif.manifest.json'), ...files]
    const entry: Entry = {files: Object.fromEntries(all.map((f) => [f, fileStamp(f)])), text: ''}
    // at exit, with the code cache's writes: by then the text is complete and the exit code known
    cache.set(NAME, input, () => {
      if (warned || (process.exitCode ?? 0) !== 0) return undefined
      entry.text = chunks.join('')
      return JSON.stringify(entry)
    })
  }
  ;(globalThis as {[DRAWN]?: Drawn})[DRAWN] = drawn
}

/**
 * Said by the help class once the root help is drawn, with the user's files it was drawn from beyond the package's
 * (the theme, the plugins' package.json): without a recording run (tests, a command's help) it does nothing.
 */
export function rootHelpDrawn(files: string[]): void {
  const drawn = (globalThis as {[DRAWN]?: Drawn})[DRAWN]
  delete (globalThis as {[DRAWN]?: Drawn})[DRAWN]
  drawn?.(files)
}
