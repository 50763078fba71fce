/**
 * Alert matchers as amtool and Alertmanager write them: `name=value`, `name!=value`, `name=~regex`,
 * `name!~regex`, the value bare or double-quoted (Go-style escapes `\"`, `\\`, `\n`), several at once in
 * braces (`{a="b", c=~"d"}`), and — as `amtool silence add` does — a first argument without an operator
 * meaning `alertname=<it>`. Grammar checked against Alertmanager v0.25 pkg/labels/parse.go (the classic
 * parser: label names `[a-zA-Z_:][a-zA-Z0-9_:]*`, regexes anchored) and cli/silence_add.go (the bare
 * alertname); the API's matcher object {name, value, isRegex, isEqual} against api/v2/openapi.yaml.
 */
import {inputError} from '../errors.js'
import type {AmMatcher} from '../platform/alertmanager.js'

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface Matcher {
  name: string
  op: MatchOp
  value: string
}

const LABEL_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const HINT = 'matchers as amtool writes them: alertname=NodeDown severity!=info \'job=~"node.*"\' (quote the whole argument in the shell)'

/** The value of a matcher: bare (trimmed), or double-quoted with `\"`, `\\`, `\n`, `\t` escapes. */
function unquote(raw: string, whole: string): string {
  const v = raw.trim()
  if (!v.startsWith('"')) {
    if (v.includes('"')) throw inputError(`matcher ${whole}: a value with a double quote must be quoted as a whole, e.g. name="a\\"b"`, [HINT], 'BAD_MATCHER')
    return v
  }
  let out = ''
  for (let i = 1; i < v.length; i++) {
    const ch = v[i]!
    if (ch === '"') {
      if (i !== v.length - 1) throw inputError(`matcher ${whole}: text after the closing quote`, [HINT], 'BAD_MATCHER')
      return out
    }
    if (ch === '\\') {
      const n = v[++i]
      if (n === undefined) break
      const esc: Record<string, string> = {'"': '"', '\\': '\\', n: '\n', t: '\t'}
      if (!(n in esc)) throw inputError(`matcher ${whole}: unknown escape \\${n}`, [HINT], 'BAD_MATCHER')
      out += esc[n]
    } else out += ch
  }
  throw inputError(`matcher ${whole}: unterminated quoted value`, [HINT], 'BAD_MATCHER')
}

/** One `name OP value`. */
export function parseMatcher(text: string): Matcher {
  const m = /^\s*([^=!~\s]*)\s*(=~|!~|!=|=)(.*)$/s.exec(text)
  if (!m) throw inputError(`matcher ${JSON.stringify(text)}: expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX`, [HINT], 'BAD_MATCHER')
  // the three groups take part in every match, and the second is one of the four operators the pattern lists
  const name = m[1] ?? ''
  const op = m[2] as MatchOp
  const rest = m[3] ?? ''
  if (!LABEL_NAME.test(name))
    throw inputError(
      `matcher ${JSON.stringify(text)}: ${name ? `"${name}" is not a label name` : 'no label name before the operator'} (letters, digits, _ and :, not starting with a digit)`,
      [HINT],
      'BAD_MATCHER',
    )
  const value = unquote(rest, text)
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(`^(?:${value})$`)
    } catch (e) {
      throw inputError(`matcher ${JSON.stringify(text)}: invalid regular expression: ${(e as Error).message}`, [HINT], 'BAD_MATCHER')
    }
  }
  return {name, op, value}
}

/** Split `a="x,y", b=c` on the commas outside quotes. */
function splitList(s: string): string[] {
  const parts: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    if (quoted && ch === '\\') {
      cur += ch + (s[i + 1] ?? '')
      i++
      continue
    }
    if (ch === '"') quoted = !quoted
    if (ch === ',' && !quoted) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  return parts.map((p) => p.trim()).filter(Boolean)
}

/**
 * The matchers of a command line: each argument one matcher or a `{…}` list; a first argument that has
 * no operator is the alert name (amtool's shorthand).
 */
export function parseMatchers(args: string[]): Matcher[] {
  const out: Matcher[] = []
  for (const [i, arg] of args.entries()) {
    const a = arg.trim()
    if (a.startsWith('{')) {
      if (!a.endsWith('}')) throw inputError(`matcher list ${arg}: missing the closing }`, [HINT], 'BAD_MATCHER')
      out.push(...splitList(a.slice(1, -1)).map(parseMatcher))
    } else if (i === 0 && !/[=!~]/.test(a) && LABEL_NAME.test(a)) out.push({name: 'alertname', op: '=', value: a})
    else out.push(parseMatcher(a))
  }
  return out
}

/** Go's regexp full match of the empty string, approximated with the JS engine (anchored as Alertmanager anchors). */
function matchesEmpty(m: Matcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === ''
    case '!=':
      return m.value !== ''
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test('')
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test('')
  }
}

/**
 * Alertmanager refuses a silence whose matchers all match the empty string (it would silence every
 * alert: silence.go validateSilence "at least one matcher must not match the empty string"); obsctl
 * says so before sending it, with the fix.
 */
export function checkSilenceMatchers(ms: Matcher[]): void {
  if (ms.length === 0) throw inputError('no matcher: a silence needs at least one, e.g. alertname=NodeDown', [HINT], 'NO_MATCHER')
  if (ms.every(matchesEmpty)) {
    throw inputError(
      `matchers ${ms.map(formatMatcher).join(' ')} match every alert (each matches an empty label): Alertmanager refuses such a silence`,
      ['add a matcher that names something, e.g. alertname=NodeDown or cluster=cluster-02'],
      'BROAD_MATCHER',
    )
  }
}

/** `name="value"` with the value quoted as Alertmanager prints it (also the API's filter syntax). */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`
}

export function toApiMatcher(m: Matcher): AmMatcher {
  return {name: m.name, value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~'}
}

export function fromApiMatcher(m: AmMatcher): Matcher {
  const equal = m.isEqual ?? true
  return {name: m.name, value: m.value, op: m.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!='}
}
