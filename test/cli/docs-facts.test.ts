/**
 * The hand-written documentation (README, CONTRIBUTING, docs/*.md; docs/commands.md is generated from the
 * commands' help and checked by commands-doc.test.ts) names commands, flags, environment variables and error
 * codes by hand. Each must exist:
 * - every `obsctl …` command line in inline code or a code block names a command of the manifest
 *   (oclif.manifest.json, the commands' own definitions), and each `--flag` / `-x` on it is one of that
 *   command's flags (its global ones included: -c, --kubeconfig, -y, --verbose, --json, -h);
 * - every OBSCTL_* variable the pages name is one obsctl reads (src/; a test harness's in test/), and every
 *   one src reads that a user sets is named by some page;
 * - every error code written as inline code (`CERTS_NOT_SERVED`) or as `"code": "…"` in a JSON block is a
 *   code src gives.
 * Pages are read with a Markdown lexer (marked), so only what a reader sees as code is taken for code.
 * A failure lists every drift as `file:line: what`.
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {Token, Tokens} from 'marked'
import {describe, expect, it} from 'vitest'
import {BOOTSTRAP_USER_PHASES} from '../../src/lib/flows/bootstrap.js'
import {markdownPages, ROOT, shellSegments, walkMarkdown} from './helpers.js'

interface ManifestFlag {
  char?: string
  type: 'boolean' | 'option'
  allowNo?: boolean
  aliases?: string[]
  options?: string[]
}
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {flags: Record<string, ManifestFlag>; args?: Record<string, {name: string; options?: string[]}>}>
}
const commands = manifest.commands
/** A topic (`secrets`, `opensearch:snapshot`): the start of some command's id. */
const topics = new Set(Object.keys(commands).flatMap((id) => id.split(':').map((_, i, parts) => parts.slice(0, i).join(':'))))
/** What the bare `obsctl` takes: --help, -h, --version. */
const ROOT_FLAGS: Record<string, ManifestFlag> = {help: {type: 'boolean', char: 'h'}, version: {type: 'boolean'}}

/**
 * What reads like a command in the pages but is none, each with why. An entry no page uses any more fails the
 * test, so the list cannot outlive its reason.
 */
const NOT_COMMANDS: {text: RegExp; why: string}[] = [
  {text: /^obsctl cluster help$/, why: 'docs/output.md shows a misplaced `help` word, which the unknown-command prompt turns into `obsctl help cluster`'},
  {text: /^obsctl bootsrap$/, why: 'docs/output.md shows the misspelt command that obsctl refuses (UNKNOWN_COMMAND)'},
  {text: /^obsctl platform CA \(<domain>\)$/, why: "the platform CA certificate's subject (CN), not a command"},
  {text: /^diff -U$/, why: "GNU diff's -U, which `diff --context` is named after (docs/kubeconfig.md)"},
]

/**
 * OBSCTL_* names that are not variables obsctl reads, each with why. Each must still occur in src.
 */
const NOT_READ: Record<string, string> = {
  OBSCTL_RESULT: "the install script's last output line (`OBSCTL_RESULT=installed changes=N`), which obsctl parses",
  OBSCTL_TIMEOUT: 'the error code src/lib/platform/s3.ts gives its own request timeout, not an environment variable',
  OBSCTL_SMTP_PASSWORD: "an example name for an alert receiver's authPasswordEnv: the inventory chooses the variable",
  OBSCTL_PAGERDUTY_ROUTING_KEY: "an example name for an alert receiver's routingKeyEnv: the inventory chooses the variable",
}

/** Programs an inline `obsctl … | x` pipes into; any other word after `|` in inline code is an alternative. */
const PIPE_TARGETS = new Set(['less', 'jq', 'grep', 'head', 'tail', 'tee', 'wc', 'sort', 'xargs', 'sed', 'awk', 'cat', 'column', 'yq'])

function srcFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), {recursive: true, encoding: 'utf8'})
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f}`)
}

/** A source file's code: its comments blanked (lines kept, for file:line), so a name a comment mentions is not taken for one the code uses. */
function code(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|\s)\/\/.*$/gm, '$1')
}

interface Found {
  where: string
  name: string
}

/**
 * The OBSCTL_* variables a set of files reads (`env.X`, `process.env.X`, `env['X']`, or with `names` the name
 * as a string of its own: `ENV_SSH_PASSWORD = 'OBSCTL_SSH_PASSWORD'`), and where.
 */
function envReads(files: string[], names: boolean): Found[] {
  const read = names ? /\benv(?:\.|\[['"])(OBSCTL_[A-Z0-9_]+)|['"`](OBSCTL_[A-Z0-9_]+)['"`]/g : /\benv(?:\.|\[['"])(OBSCTL_[A-Z0-9_]+)/g
  const out: Found[] = []
  for (const f of files) {
    code(f)
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(read)) out.push({where: `${f}:${i + 1}`, name: (m[1] ?? m[2])!})
      })
  }
  return out
}

const src = srcFiles('src')
const srcText = src.map(code).join('\n')
const srcEnv = envReads(src, true)
/** A test harness's variables (OBSCTL_CAPTURE_DIR): read from the environment in test/. */
const testEnv = envReads(srcFiles('test'), false)
/** Every SHOUTING_SNAKE string of src: the error codes (`code: 'CERTS_NOT_SERVED'`, inputError(…, 'S3_REGION')) among them. */
const srcStrings = new Set([...srcText.matchAll(/['"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"`]/g)].map((m) => m[1]!))
/** Codes src builds from a prefix (`FS_${err.code}`): a page's `FS_*`. */
const srcPrefixes = new Set([...srcText.matchAll(/`([A-Z][A-Z0-9_]*_)\$\{/g)].map((m) => m[1]!))
/** Other names src uses: its exported constants (CONTRIBUTING names `BOOTSTRAP_PHASES`), object keys (a Secret's `AWS_ACCESS_KEY_ID`). */
const srcNames = new Set([...srcText.matchAll(/\bexport const ([A-Z][A-Z0-9_]+)\b|^\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+):\s/gm)].map((m) => (m[1] ?? m[2])!))
const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z][A-Z0-9_]*_\*$/

interface Facts {
  commands: number
  /** flags, and values of flags and arguments that take a fixed set */
  flags: number
  envNames: number
  codes: number
  drift: string[]
  notCommandsUsed: Set<RegExp>
  docEnv: Set<string>
}

/** A placeholder for a value or a command (NAME, <cluster>, …, C], MATCHER...): nothing to check. */
const placeholder = (w: string) => /[<>…]|^\.\.\.$/.test(w) || /^[A-Z][A-Z0-9_]*(\.\.\.)?$/.test(w)
/** A word without the synopsis marks around it: `[--json]` is `--json`, `PATTERN]...` is `PATTERN`. */
const bare = (w: string) => (/^(\.\.\.|…)$/.test(w) ? w : w.replace(/^[[({]+/, '').replace(/(\.\.\.|…|[\])},])+$/, ''))

/**
 * A command line's words without quotes and the longest command id or topic they start with (`cluster add`:
 * `cluster:add`), with the index of the first word after it.
 */
function commandWords(words: string[]): {ws: string[]; id: string; i: number} {
  const ws = words.map(bare).filter((w) => w !== '')
  let id = ''
  let i = 0
  for (; i < ws.length && !ws[i]!.startsWith('-'); i++) {
    const next = id ? `${id}:${ws[i]}` : ws[i]!
    if (!(next in commands) && !topics.has(next)) break
    id = next
  }
  return {ws, id, i}
}

/**
 * Check one `obsctl` command's words (after `obsctl`) against the manifest; the command id it names is
 * returned (undefined: none), and whether its words ended right after the id (for `a|b` alternatives).
 */
function checkCommand(words: string[], at: string, text: string, facts: Facts): {id?: string; endsAtId: boolean} {
  const {ws, id, i} = commandWords(words)
  const first = ws[i]
  if (!id) {
    if (first === undefined || first.startsWith('-')) return checkFlags('', ROOT_FLAGS, ws.slice(i), at, facts, ws.length === i)
    if (placeholder(first) || first.endsWith(':')) return {endsAtId: false} // `obsctl <command>`, a commit subject `obsctl: …`
    facts.commands++
    facts.drift.push(`${at}: \`${text}\`: obsctl has no command \`${first}\``)
    return {endsAtId: false}
  }
  facts.commands++
  if (!(id in commands)) {
    // a topic: `obsctl secrets`, `obsctl node <command>`; a word after it must be one of its commands
    if (first !== undefined && !first.startsWith('-') && !placeholder(first))
      facts.drift.push(`${at}: \`${text}\`: obsctl has no command \`${[...id.split(':'), first].join(' ')}\``)
    return {id, endsAtId: false}
  }
  return checkFlags(id, commands[id]!.flags, ws.slice(i), at, facts, i === ws.length)
}

/**
 * Check a command's words after its id: each flag is one of its flags, a value of a flag with a fixed set of
 * values (`--phase nodes`, `-o yaml`) is one of them, and with `args` so is a positional argument that has
 * one (`validate thanos`). Placeholders (`--phase P`) are no values.
 */
function checkFlags(
  id: string,
  flags: Record<string, ManifestFlag>,
  rest: string[],
  at: string,
  facts: Facts,
  endsAtId: boolean,
  args = true,
): {id: string; endsAtId: boolean} {
  const byName = new Map<string, ManifestFlag>()
  const byChar = new Map<string, ManifestFlag>()
  for (const [name, f] of Object.entries({...flags, help: ROOT_FLAGS.help!})) {
    byName.set(name, f)
    if (f.allowNo) byName.set(`no-${name}`, {...f, type: 'boolean'})
    for (const a of f.aliases ?? []) byName.set(a, f)
    if (f.char) byChar.set(f.char, f)
  }
  const cmd = `obsctl${id ? ` ${id.replaceAll(':', ' ')}` : ''}`
  const value = (v: string | undefined, options: string[] | undefined, what: string) => {
    if (v === undefined || !options || placeholder(v) || v === '') return
    facts.flags++
    if (!options.includes(v)) facts.drift.push(`${at}: \`${cmd}\`: ${v} is no value of ${what} (${options.join(', ')})`)
  }
  const positional = Object.values(commands[id]?.args ?? {})
  let argIndex = 0
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j]!
    if (w === '--') break
    let f: ManifestFlag | undefined
    let shown = w
    if (w.startsWith('--')) {
      const name = w.slice(2).split('=')[0]!
      if (placeholder(name)) continue
      facts.flags++
      f = byName.get(name)
      if (!f) facts.drift.push(`${at}: \`${cmd}\` has no flag --${name}`)
      shown = `--${name}`
    } else if (/^-[a-zA-Z]+$/.test(w)) {
      for (const c of w.slice(1)) {
        facts.flags++
        f = byChar.get(c)
        if (!f) facts.drift.push(`${at}: \`${cmd}\` has no flag -${c}`)
      }
    } else {
      if (args) value(w, positional[argIndex++]?.options, `its argument ${positional[argIndex - 1]?.name ?? ''}`)
      continue
    }
    if (f?.type !== 'option') continue
    // its value, which may start with `-`
    if (w.includes('=')) value(w.slice(w.indexOf('=') + 1), f.options, shown)
    else value(rest[++j], f.options, shown)
  }
  return {id, endsAtId}
}

/** The words of a segment that runs obsctl (after `$ ` / `→ `, `VAR=… `, sudo/npx/env), else undefined. */
function obsctlWords(words: string[]): string[] | undefined {
  let k = 0
  while (k < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k]!) || ['$', '→', 'sudo', 'npx', 'env', 'time', 'exec'].includes(words[k]!))) k++
  return words[k] === 'obsctl' ? words.slice(k + 1) : undefined
}

/**
 * Every obsctl command of one shell line. Inline code is a command only when it starts with one: `obsctl …`,
 * or a command's own words with flags (`config set --no-sync`, bareCommand); else it is a message that names
 * obsctl, or another program. Inline code reads `a | b` as alternatives (`obsctl certs check|renew`).
 */
function checkLine(line: string, at: string, inline: boolean, facts: Facts): void {
  const text = line.trim()
  const skip = NOT_COMMANDS.find((e) => e.text.test(text))
  if (skip) {
    facts.notCommandsUsed.add(skip.text)
    return
  }
  const startsWithObsctl = /^([$→]\s+)?([A-Za-z_][A-Za-z0-9_]*=\S*\s+)*obsctl(\s|$)/.test(text)
  if (!inline && !/(^|[\s;&|(])obsctl(\s|$)/.test(line)) return
  let segments: string[][]
  try {
    segments = shellSegments(line)
  } catch {
    // output that names obsctl (an apostrophe is no quote there); a command must be a shell line
    if (startsWithObsctl) facts.drift.push(`${at}: \`${text}\`: not readable as a shell line (an unclosed quote)`)
    return
  }
  let prev: {id?: string; endsAtId: boolean} | undefined
  if (inline && !startsWithObsctl) {
    prev = bareCommand(segments[0] ?? [], at, facts)
    if (!prev) return
    segments = segments.slice(1)
  }
  for (const seg of segments) {
    const words = obsctlWords(seg)
    if (words) {
      prev = checkCommand(words, at, text, facts)
      continue
    }
    const [w0 = ''] = seg.map(bare)
    if (!inline || !prev?.id || PIPE_TARGETS.has(w0)) {
      prev = undefined
      continue
    }
    // an alternative in a synopsis: `… --all | --phase P`, `obsctl node add | remove`, `grafana|s3 [--dry-run]`
    if (w0.startsWith('-')) prev = checkFlags(prev.id, commands[prev.id]?.flags ?? {}, seg.map(bare), at, facts, false, false)
    else if (prev.endsAtId) {
      const sibling = [...prev.id.split(':').slice(0, -1), w0].join(' ')
      prev = checkCommand(sibling.split(' ').concat(seg.slice(1)), at, text, facts)
    } else prev = checkFlags(prev.id, commands[prev.id]?.flags ?? {}, seg.slice(1).map(bare), at, facts, false, false)
  }
}

/**
 * Inline code that names a command without `obsctl` (`config set --no-sync`, `bootstrap --phase root-app`):
 * its flags are checked when its words are a whole command id with flags after it. Words that are only a
 * topic (`node -e 0`, `argocd app get --refresh`: other programs) or no command are left alone (undefined).
 */
function bareCommand(words: string[], at: string, facts: Facts): {id: string; endsAtId: boolean} | undefined {
  const {ws, id, i} = commandWords(words)
  if (!(id in commands) || !ws.slice(i).some((w) => w.startsWith('-'))) return undefined
  facts.commands++
  return checkFlags(id, commands[id]!.flags, ws.slice(i), at, facts, false)
}

/**
 * A page's line of a token: the first line at or after `from` that holds `needle`'s first line (in a table
 * cell as written there, `|` escaped), or for a code block (`exact`) that is its opening fence.
 */
function lineOf(lines: string[], needle: string, from: number, exact = false): number {
  const first = needle.split('\n')[0]!.trim()
  const found = [first, first.replaceAll('|', '\\|')]
    .map((n) => lines.findIndex((l, k) => k >= from && (exact ? l.trim() === n : l.includes(n))))
    .filter((i) => i >= 0)
  return found.length ? Math.min(...found) : from
}

/** The facts of one page (its path, for `file:line`, and its text); its drift in the order of its lines. */
function readPage(page: string, text: string, all: Facts): void {
  const facts: Facts = {...all, drift: []}
  readFacts(page, text, facts)
  const line = (d: string) => Number(/^[^:]+:(\d+):/.exec(d)![1])
  all.drift.push(...facts.drift.sort((a, b) => line(a) - line(b)))
  for (const k of ['commands', 'flags', 'envNames', 'codes'] as const) all[k] = facts[k]
}

function readFacts(page: string, text: string, facts: Facts): void {
  const lines = text.split('\n')
  // environment variables: anywhere on the page, prose and code alike
  lines.forEach((l, i) => {
    for (const m of l.matchAll(/\bOBSCTL_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      facts.envNames++
      facts.docEnv.add(m[0])
      if (!srcEnv.some((r) => r.name === m[0]) && !testEnv.some((r) => r.name === m[0]) && !(m[0] in NOT_READ))
        facts.drift.push(`${page}:${i + 1}: ${m[0]} is not read anywhere in src/`)
    }
  })
  const checkCode = (name: string, at: string) => {
    if (name.startsWith('OBSCTL_')) return // an environment variable: above
    facts.codes++
    const known = name.endsWith('_*')
      ? [...srcStrings, ...srcPrefixes].some((s) => s.startsWith(name.slice(0, -1)))
      : srcStrings.has(name) || srcNames.has(name) || envLike.has(name)
    if (!known) facts.drift.push(`${at}: \`${name}\` is no error code of src/ (nor a name it uses)`)
  }
  let cursor = 0
  walkMarkdown(text, (t: Token) => {
    if (t.type === 'codespan') {
      const span = t as Tokens.Codespan
      cursor = lineOf(lines, span.raw, cursor)
      const at = `${page}:${cursor + 1}`
      if (CODE.test(span.text)) checkCode(span.text, at)
      else checkLine(span.text, at, true, facts)
    } else if (t.type === 'code') {
      const block = t as Tokens.Code
      const start = lineOf(lines, block.raw, cursor, true)
      const fenced = /^\s*(```|~~~)/.test(block.raw)
      const body = block.text.split('\n')
      for (let k = 0; k < body.length; k++) {
        const at = `${page}:${start + (fenced ? 1 : 0) + k + 1}`
        let line = body[k]!
        // a continued line (`\` at its end) is one command with the next
        while (line.endsWith('\\') && k + 1 < body.length) line = `${line.slice(0, -1)} ${body[++k]!}`
        // "``` text" closes no block (a closing fence has nothing after it): the prose after it reads as code
        if (fenced && /^\s*(```|~~~)/.test(line)) facts.drift.push(`${at}: a fence with text after it does not close the code block`)
        if (block.lang !== 'yaml' && block.lang !== 'ts') checkLine(line.replace(/^\s*\$\s+/, ''), at, false, facts)
        for (const m of line.matchAll(/"code":\s*"([^"]+)"/g)) checkCode(m[1]!, at)
      }
      cursor = start + body.length + (fenced ? 2 : 0) // past its closing fence
    }
  })
}

/** Names the pages use as environment variables of other programs (`NODE_EXTRA_CA_CERTS=FILE`, `$KUBECONFIG`). */
const envLike = new Set<string>()
const pages = markdownPages()
for (const p of pages)
  for (const m of readFileSync(path.join(ROOT, p), 'utf8').matchAll(/(?:\$\{?|\benv `)([A-Z][A-Z0-9_]+)\b|\b([A-Z][A-Z0-9_]+)=/g)) envLike.add((m[1] ?? m[2])!)

const noFacts = (): Facts => ({commands: 0, flags: 0, envNames: 0, codes: 0, drift: [], notCommandsUsed: new Set(), docEnv: new Set()})

function readAll(): Facts {
  const facts = noFacts()
  for (const p of pages) readPage(p, readFileSync(path.join(ROOT, p), 'utf8'), facts)
  return facts
}

/** A page with one drift of each kind, and the same facts written right (which must pass). */
const PROBE = [
  '# `obsctl certs check|renue`', // 1
  '',
  'Run `obsctl certs check --cluster C --frobnicate | grep x`, then `bootstrap --all | --phase P | --form P`', // 3
  'with `OBSCTL_S3_ACCESS_KEY` and `OBSCTL_S3_ACESS_KEY` set; it fails with `CERTS_NOT_SERVED` or `CERTS_NOT_SERVD`.', // 4
  '`obsctl node add | delete`, `obsctl secrets rotate grafana|s3 [--dry-run]`, `obsctl … --json | jq`,', // 5
  '`obsctl state show [--phase P]... [--json]`, `obsctl: set retention.prometheus 6h → 8h`, `obsctl validate thanoss`,', // 6
  '`bootstrap --phase nodes --from certz`, `plan -o xml`, `obsctl validate [thanos|all] --wait`.', // 7
  '',
  '```console', // 9
  '$ OBSCTL_X=… obsctl config set a.b c --no-push -cz x.yaml', // 10
  '$ kubectl get pods | obsctl nope', // 11
  '$ obsctl upgrade kubernetes 1.35 \\', // 12
  '    --cluster cluster-02 --drain 900', // 13
  '{"error": {"code": "S3_CLOCK_SKEW", "exitCode": 1}}', // 14
  '``` Then', // 15
  '```', // 16
].join('\n')

describe('what the documentation names exists', () => {
  const facts = readAll()

  it('reads commands, flags, variables and codes from the pages, and sees each kind of drift at its line', () => {
    expect(pages).toContain('docs/s3.md')
    expect(pages).not.toContain('docs/commands.md')
    // a drift of each kind the reader must see, at its line
    const probe = noFacts()
    readPage('probe.md', PROBE, probe)
    expect(probe.drift).toEqual([
      'probe.md:1: `obsctl certs check|renue`: obsctl has no command `certs renue`',
      'probe.md:3: `obsctl certs check` has no flag --frobnicate',
      'probe.md:3: `obsctl bootstrap` has no flag --form',
      'probe.md:4: OBSCTL_S3_ACESS_KEY is not read anywhere in src/',
      'probe.md:4: `CERTS_NOT_SERVD` is no error code of src/ (nor a name it uses)',
      'probe.md:5: `obsctl node add | delete`: obsctl has no command `node delete`',
      'probe.md:6: `obsctl validate`: thanoss is no value of its argument component (prometheus, thanos, opensearch, fluent-bit, argocd, alertmanager, certificates, all)',
      `probe.md:7: \`obsctl bootstrap\`: certz is no value of --from (${BOOTSTRAP_USER_PHASES.join(', ')})`,
      'probe.md:7: `obsctl plan`: xml is no value of -o (json, yaml)',
      'probe.md:10: OBSCTL_X is not read anywhere in src/',
      'probe.md:10: `obsctl config set` has no flag -z',
      'probe.md:11: `kubectl get pods | obsctl nope`: obsctl has no command `nope`',
      'probe.md:12: `obsctl upgrade kubernetes` has no flag --drain',
      'probe.md:14: `S3_CLOCK_SKEW` is no error code of src/ (nor a name it uses)',
      'probe.md:15: a fence with text after it does not close the code block',
    ])
    expect(probe.commands).toBe(15)
    expect(facts.commands).toBeGreaterThan(250)
    expect(facts.flags).toBeGreaterThan(200)
    expect(facts.envNames).toBeGreaterThan(80)
    expect(facts.codes).toBeGreaterThan(50)
  })

  it('every command, flag, OBSCTL_* variable and error code the pages name exists', () => {
    expect(facts.drift).toEqual([])
  })

  it('every OBSCTL_* variable src reads for the user is documented (test-only OBSCTL_TEST_* aside)', () => {
    const undocumented = srcEnv
      .filter((r) => !r.name.startsWith('OBSCTL_TEST_') && !(r.name in NOT_READ) && !facts.docEnv.has(r.name))
      .map((r) => `${r.where}: ${r.name} is read here but no page of docs/, README or CONTRIBUTING names it`)
    expect(undocumented).toEqual([])
  })

  it('every exception is still needed: its text is on a page, its name in src', () => {
    expect(NOT_COMMANDS.filter((e) => !facts.notCommandsUsed.has(e.text)).map((e) => `${e.text}: ${e.why}`)).toEqual([])
    expect(Object.keys(NOT_READ).filter((n) => !srcText.includes(n) || (!facts.docEnv.has(n) && !srcEnv.some((r) => r.name === n)))).toEqual([])
  })
})
