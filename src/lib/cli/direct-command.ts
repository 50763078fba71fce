/**
 * A command run without oclif's runner (issue 18: start-up budgets). oclif's `execute` loads its whole runtime, reads
 * and parses the 196 KB manifest, builds every command's and topic's entry, reads the user's theme and plugins files,
 * and loads its configuration twice (once in `execute`, again in `Command.run`): ~6–7 ms of CPU before any command
 * runs (paired, `config validate` 0.89x without it). For an exact command line that needs none of it, bin/run.js asks
 * `directCommand` here which command that is (from dist/command-index.json, the manifest's ids written at build time,
 * bin/command-index.mjs) and src/direct.ts runs it as oclif's `Command.run` would, with the configuration
 * `directConfig` gives: what a command of this CLI reads of it.
 *
 * Anything else goes through oclif as before: no arguments (the root help), a help flag anywhere before `--`, `help`
 * and `autocomplete` (they read the whole command list), an id written with colons, a command line that names no
 * command (a topic: its help; a typo: the unknown-command hook), DEBUG or OBSCTL_DEBUG set (oclif's own traces), a
 * user theme or user plugins file (oclif reads both), an index that is not this build's, or package.json naming hooks
 * or plugins. OBSCTL_DIRECT_RUN=0 turns it off (test/cli/direct-run.test.ts runs each case both ways and compares).
 */
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {debuglog} from 'node:util'

// the code cache's: NODE_DEBUG=obsctl-code-cache also says which runner a command line took
const debug = debuglog('obsctl-code-cache')

/** dist/command-index.json: each command id with its file (relative to the package) and what decides where its id ends. */
export interface CommandIndex {
  /** the package version the manifest was made for */
  version: string
  commands: Record<string, {file: string; args: string[]; strict: boolean}>
}

/** What of package.json decides the runner (oclif's `pjson`). */
export interface PackageJson {
  name: string
  version: string
  oclif: {
    bin?: string
    binAliases?: string[]
    dirname?: string
    topicSeparator?: string
    additionalHelpFlags?: string[]
    hooks?: Record<string, unknown>
    plugins?: string[]
    flexibleTaxonomy?: boolean
    commands?: unknown
    theme?: unknown
  }
}

export interface DirectCommand {
  /** the package's folder */
  root: string
  id: string
  /** the command's module, absolute */
  file: string
  /** the arguments after the command's words */
  argv: string[]
  pjson: PackageJson
  index: CommandIndex
}

/** Commands that read what only oclif's configuration has: every command and topic (help, the completion scripts). */
const NEEDS_OCLIF = /^(help|autocomplete)(:|$)/
/** The one hook obsctl has runs only for a command line that names no command, which never runs directly. */
const DIRECT_HOOKS = new Set(['command_not_found'])

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** oclif's `scopedEnvVar` for this CLI: `OBSCTL_<KEY>`. */
function scopedKey(bin: string, key: string): string {
  return `${bin.replaceAll('@', '').replaceAll(/[/-]/g, '_')}_${key}`.toUpperCase()
}

/** The user's files oclif reads at every start: the theme and the user plugins' package.json (oclif's `dir()`). */
export function oclifUserFiles(pjson: PackageJson, env: NodeJS.ProcessEnv = process.env): string[] {
  const bin = pjson.oclif.bin ?? pjson.name
  const dirname = pjson.oclif.dirname ?? pjson.name
  const home = env.HOME || os.homedir() || os.tmpdir()
  const dir = (category: 'config' | 'data') =>
    path.join(env[`XDG_${category.toUpperCase()}_HOME`] || path.join(home, category === 'data' ? '.local/share' : '.config'), dirname)
  return [
    path.join(env[scopedKey(bin, 'CONFIG_DIR')] || dir('config'), 'theme.json'),
    path.join(env[scopedKey(bin, 'DATA_DIR')] || dir('data'), 'package.json'),
  ]
}

/**
 * The command id oclif would take from these arguments (its space-separated ids: the longest run of words that
 * starts a known id; a word that starts none ends the id only where it cannot belong to it — a flag, `a=b`, or after
 * a command that takes arguments — else oclif takes it into the id, which then names no command).
 */
export function commandIdOf(argv: readonly string[], index: CommandIndex): {id: string; words: number} | undefined {
  const prefixes = new Set<string>()
  for (const id of Object.keys(index.commands)) {
    const parts = id.split(':')
    for (let i = 1; i <= parts.length; i++) prefixes.add(parts.slice(0, i).join(':'))
  }
  const words: string[] = []
  for (const arg of argv) {
    if (prefixes.has([...words, arg].join(':'))) {
      words.push(arg)
      continue
    }
    const current = index.commands[words.join(':')]
    if (arg.startsWith('-') || arg.includes('=') || (current && (!current.strict || current.args.length > 0))) break
    words.push(arg)
  }
  const id = words.join(':')
  return index.commands[id] ? {id, words: words.length} : undefined
}

/** The command to run directly, or undefined: oclif's runner (see the top of this file for when). `root`: the package's folder. */
export function directCommand(argv: readonly string[], root: string, env: NodeJS.ProcessEnv = process.env): DirectCommand | undefined {
  const found = findDirect(argv, root, env)
  if (found) debug('runner: %s directly', found.id)
  else debug("runner: oclif's")
  return found
}

function findDirect(argv: readonly string[], root: string, env: NodeJS.ProcessEnv): DirectCommand | undefined {
  if (env.OBSCTL_DIRECT_RUN === '0' || env.DEBUG || env.OBSCTL_DEBUG === '1' || env.OBSCTL_DEBUG === 'true') return undefined
  if (argv.length === 0 || argv[0]!.includes(':') || process.platform === 'win32') return undefined
  const pjson = readJson<PackageJson>(path.join(root, 'package.json'))
  const index = readJson<CommandIndex>(path.join(root, 'dist', 'command-index.json'))
  if (!pjson?.oclif || !index?.commands || index.version !== pjson.version) return undefined
  const o = pjson.oclif
  if (o.topicSeparator !== ' ' || o.flexibleTaxonomy || typeof o.commands !== 'string' || o.theme || o.plugins?.length) return undefined
  if (Object.keys(o.hooks ?? {}).some((event) => !DIRECT_HOOKS.has(event))) return undefined
  const helpFlags = new Set(['--help', ...(o.additionalHelpFlags ?? [])])
  const end = argv.indexOf('--')
  if ((end === -1 ? argv : argv.slice(0, end)).some((a) => helpFlags.has(a))) return undefined
  const found = commandIdOf(argv, index)
  if (!found || NEEDS_OCLIF.test(found.id)) return undefined
  if (oclifUserFiles(pjson, env).some((f) => existsSync(f))) return undefined
  return {root, id: found.id, file: path.join(root, index.commands[found.id]!.file), argv: argv.slice(found.words), pjson, index}
}

/**
 * The configuration a directly run command gets: what oclif's Command, its parser and obsctl's commands read of it
 * (the binary's name, the user agent, scoped environment variables, hooks — none run here —, the command ids for the
 * deprecation check's id lookup). Read in @oclif/core 4's lib/command.js, lib/help/util.js and lib/config/config.js.
 */
export function directConfig(d: DirectCommand): Record<string, unknown> {
  const {pjson, index} = d
  const bin = pjson.oclif.bin ?? pjson.name
  const scopedEnvVarKeys = (k: string) => [bin, ...(pjson.oclif.binAliases ?? [])].map((b) => scopedKey(b, k))
  const scopedEnvVar = (k: string) => {
    const key = scopedEnvVarKeys(k).find((n) => process.env[n])
    return key === undefined ? undefined : process.env[key]
  }
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  return {
    root: d.root,
    name: pjson.name,
    version: pjson.version,
    pjson,
    bin,
    dirname: pjson.oclif.dirname ?? pjson.name,
    platform: process.platform,
    arch,
    userAgent: `${pjson.name}/${pjson.version} ${process.platform}-${arch} node-${process.version}`,
    topicSeparator: ' ',
    flexibleTaxonomy: false,
    isSingleCommandCLI: false,
    commandIDs: Object.keys(index.commands),
    findCommand: (id: string) => {
      const c = index.commands[id]
      return c && {id, strict: c.strict, args: Object.fromEntries(c.args.map((a) => [a, {name: a}]))}
    },
    scopedEnvVarKeys,
    scopedEnvVarKey: (k: string) => scopedKey(bin, k),
    scopedEnvVar,
    scopedEnvVarTrue: (k: string) => ['1', 'true'].includes(scopedEnvVar(k) ?? ''),
    runHook: async () => ({successes: [], failures: []}),
  }
}
