/**
 * Field validators of the inventory, on maintained libraries where one exists: ipaddr.js for IP
 * literals and CIDRs, semver for versions, WHATWG URL for URLs. Each returns an error message (the
 * reason, phrased for a user) or undefined when the value is fine.
 */
import type ipaddr from 'ipaddr.js'
// ipaddr.js and semver's two functions (not its index: ranges, comparators and every other function) load at
// their first use (../lazy-deps.ts): an inventory read from the derived-result cache is not validated again
import {ipaddr as ipaddrLib, semverCompare, semverValid} from '../lazy-deps.js'
import {CREDENTIAL_SERVICES, isCredentialService} from '../platform/catalogue.js'

export type IpFamily = 'ipv4' | 'ipv6'

/** An inclusive range of addresses of one family, as integers (for overlap checks). */
export interface AddressRange {
  family: IpFamily
  start: bigint
  end: bigint
  /** as written, for messages */
  text: string
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function toBigInt(a: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let n = 0n
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b)
  return n
}

/** Go's net.ParseIP (since Go 1.17, so Kubernetes and kubeadm) rejects IPv4 octets with leading zeros; ipaddr.js would read them as octal. */
function hasLeadingZero(v4: string): boolean {
  return v4.split('.').some((o) => o.length > 1 && o.startsWith('0'))
}

/** An IPv4 (four decimal parts) or IPv6 literal; undefined when it is not one. */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const {IPv4, IPv6} = ipaddrLib()
  if (IPv4.isValidFourPartDecimal(text)) return hasLeadingZero(text) ? undefined : IPv4.parse(text)
  if (text.includes(':') && IPv6.isValid(text) && !text.includes('%')) return IPv6.parse(text)
  return undefined
}

/** Does it look like someone meant an IPv4 address (only digits and dots)? */
export function looksLikeIpv4(text: string): boolean {
  return /^[0-9.]+$/.test(text)
}

export function ipError(text: string): string | undefined {
  if (parseIp(text)) return undefined
  return `"${text}" is not an IPv4 or IPv6 address (IPv4: four decimal parts 0-255 without leading zeros, e.g. 192.168.101.194)`
}

/** A CIDR as a range; undefined when malformed. */
export function parseCidr(text: string): AddressRange | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const addr = parseIp(text.slice(0, slash))
  const bitsText = text.slice(slash + 1)
  if (!addr || !/^\d{1,3}$/.test(bitsText)) return undefined
  const bits = Number(bitsText)
  const width = addr.kind() === 'ipv4' ? 32 : 128
  if (bits > width) return undefined
  const hostBits = BigInt(width - bits)
  const base = (toBigInt(addr) >> hostBits) << hostBits
  return {family: addr.kind(), start: base, end: base + (1n << hostBits) - 1n, text}
}

export function cidrError(text: string): string | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return `"${text}" is not a CIDR: expected ADDRESS/PREFIX such as 10.244.0.0/16`
  const addr = text.slice(0, slash)
  if (!parseIp(addr)) return `"${text}" is not a CIDR: ${ipError(addr)}`
  if (!parseCidr(text)) return `"${text}" is not a CIDR: the prefix length must be 0-${parseIp(addr)!.kind() === 'ipv4' ? 32 : 128}`
  return undefined
}

/** A Cilium LB pool entry: an address, a CIDR, or START-STOP (same family, START <= STOP). */
export function parseLbEntry(text: string): AddressRange | string {
  if (text.includes('/')) return parseCidr(text) ?? cidrError(text)!
  // IP literals never contain '-', so a dash means START-STOP
  const dash = text.indexOf('-')
  if (dash >= 0) {
    const [a, b] = [text.slice(0, dash), text.slice(dash + 1)]
    const start = parseIp(a)
    const stop = parseIp(b)
    if (!start) return `"${text}": ${ipError(a)}`
    if (!stop) return `"${text}": ${ipError(b)}`
    if (start.kind() !== stop.kind()) return `"${text}" mixes IPv4 and IPv6`
    const [s, e] = [toBigInt(start), toBigInt(stop)]
    if (s > e) return `"${text}" is written backwards: the start ${a} is after the stop ${b}`
    return {family: start.kind(), start: s, end: e, text}
  }
  const one = parseIp(text)
  if (!one) return ipError(text)!
  const n = toBigInt(one)
  return {family: one.kind(), start: n, end: n, text}
}

export function addressRange(text: string): AddressRange | undefined {
  const a = parseIp(text)
  if (!a) return undefined
  const n = toBigInt(a)
  return {family: a.kind(), start: n, end: n, text}
}

export function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end
}

/** RFC 1123 label as Kubernetes checks it (IsDNS1123Label): lower-case alphanumerics and '-', at most 63. */
export function dnsLabelError(text: string): string | undefined {
  if (text.length > 63) return `"${text}" is longer than 63 characters (a DNS label)`
  if (!DNS_LABEL.test(text))
    return `"${text}" is not a DNS label: lower-case letters a-z, digits and '-', starting and ending with a letter or digit (e.g. cluster-01)`
  return undefined
}

/** RFC 1123 subdomain as Kubernetes checks it (IsDNS1123Subdomain): dot-separated labels, at most 253 in all. */
export function dnsSubdomainError(text: string): string | undefined {
  if (text.length > 253) return `"${text}" is longer than 253 characters`
  if (text === '') return 'empty name'
  for (const label of text.split('.')) {
    if (label === '') return `"${text}" has an empty label (two dots in a row, or a dot at the start or end)`
    if (label.length > 63) return `"${text}": the label "${label}" is longer than 63 characters`
    if (!DNS_LABEL.test(label))
      return `"${text}": the label "${label}" may hold only lower-case letters a-z, digits and '-', starting and ending with a letter or digit`
  }
  return undefined
}

/** A node address: an IP literal, or a host name (RFC 1123; upper case allowed, DNS is case-insensitive). */
export function hostError(text: string): string | undefined {
  if (parseIp(text)) return undefined
  if (looksLikeIpv4(text) || text.includes(':')) return ipError(text)
  return dnsSubdomainError(text.toLowerCase())
}

/**
 * One spelling per host, to tell whether two entries name one machine: a host name in lower case (DNS names are
 * case-insensitive, RFC 4343: Node1.lab is node1.lab), an address in ipaddr.js's normal form (FD00:0::1 is fd00::1,
 * and an IPv4-mapped ::ffff:192.0.2.1 is 192.0.2.1).
 */
export function hostKey(host: string): string {
  const ip = parseIp(host)
  if (!ip) return host.toLowerCase()
  return (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip).toNormalizedString()
}

/**
 * A URL as one key whatever its spelling: scheme, then the host as hostKey compares hosts (any case; an IP address in
 * its normal form, an IPv6 one in brackets), the port unless it is the scheme's default, the path without a lone trailing '/'. A text that is
 * no URL is its own key.
 */
export function urlKey(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${urlHost(hostKey(bareHost(u.hostname)))}${u.port ? `:${u.port}` : ''}${u.pathname.replace(/\/$/, '')}`
  } catch {
    return url
  }
}

/** Where a credential embedded in a URL must go instead (the inventory field or environment variable). */
export interface CredentialHint {
  /** e.g. "set git.tokenEnv to the name of an env var holding the token" */
  fix: string
}

/** The URL without its password/user part, for messages (the secret is never echoed). */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text)
    if (u.username || u.password) {
      u.username = ''
      u.password = ''
    }
    return u.toString()
  } catch {
    return text.replace(/\/\/[^/@]*@/, '//')
  }
}

/** Names of environment variables whose values are secrets (passwords, tokens, keys). */
const SECRET_ENV = /PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|ACCESS_KEY|CREDENTIAL/i

/**
 * Names of secret values in a text: query parameters (`?token=`, `X-Amz-Signature=`), shell assignments
 * (`DB_PASSWORD=… cmd`, `export API_TOKEN=…`) and command-line flags (`--token …`, `--certificate-key …`).
 */
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|SIGNATURE|APIKEY|(^|[_-])(KEY|PASS)$|[_-]KEY[_-]DATA$/i

/**
 * Secret-looking names whose value is public: kubeadm's `--discovery-token-ca-cert-hash` (a CA's public key pin), and
 * names of where a secret is rather than the secret (`tokenEnv`, a `…_TOKEN_FILE` variable, `secretName`, `secretKeyRef`).
 */
const PUBLIC_NAME = /ca-cert-hash$|(env|file|path|ref|name)$/i

/** A name (a key, a variable, a flag, a query parameter) whose value is a secret. */
export const secretName = (name: string) => SECRET_NAME.test(name) && !PUBLIC_NAME.test(name)
/** In `key: value` forms the bare name `key` is a Secret's key (`secretKeyRef: {key: password}`), not a secret. */
const secretField = (name: string) => secretName(name) && name.toLowerCase() !== 'key'

/**
 * Token formats recognisable on their own: GitHub (`ghp_…`, `github_pat_…`), GitLab (`glpat-…`), Slack (`xoxb-…`), JWTs
 * (service-account and OIDC tokens: three base64url parts, the first a JSON header, `eyJ…`).
 */
const TOKEN_SHAPE =
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abposr]-[\w-]{10,}|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)/g

/**
 * A PEM private key, whole (a kubeconfig's client-key-data decoded, a TLS key, an SSH key). A header without its end
 * is not searched past the next header: each one searched to the end of the text made many of them quadratic.
 */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:(?!-----BEGIN )[\s\S])*?-----END [A-Z ]*PRIVATE KEY-----/g

/**
 * A value that stands for one, in a hint or example: `…`, `...`, `***`, `[REDACTED]`, `<token>` (also
 * `<token with repo read access>`, of which the patterns see only `<token`; kubeadm's `<value withheld>`), `$VAR`,
 * `${VAR}` (never a secret itself).
 */
// (\u2026: …; regex literals are written in ASCII, bin/bundle.mjs asciiBundle)
const PLACEHOLDER = /^(\u2026|\.\.\.|\*+|\[REDACTED\]|<.*|\$\{?[A-Za-z_]\w*\}?)$/

/**
 * A text (a task log, a request trace) as it may be shown: every URL without its user and password
 * (redactUrl), `Authorization:` values and bearer tokens masked, the value of every secret-named
 * assignment, query parameter or flag (`TOKEN=…`, `?password=…`, `--token …`, `--certificate-key …`, also at the
 * start of a line; `password: …`, `token = …` unquoted too) masked, token formats (GitHub, GitLab, Slack, JWTs), PEM private
 * keys, and the value of every secret-named environment variable (`*PASSWORD*`, `*TOKEN*`, `*_KEY`…, at least 4
 * characters) replaced. `mask` is what stands in for a value (`***`; a diagnosis archive uses its own marker, and
 * keeps a URL's user: `o.urlUser`, `https://minio:[REDACTED]@host`). The one set of these patterns: messages, task
 * logs, traces and diagnosis archives all go through it.
 */
export function redactText(text: string, env: NodeJS.ProcessEnv = process.env, mask = '***', o: {urlUser?: boolean} = {}): string {
  let out = text.replace(PRIVATE_KEY, mask)
  // a URL: its scheme starts at the first word start of its run of scheme characters (the lookbehind), as the first match
  // there would; tried from every word start of a run like `a-b-c-…` or `a.b.c…`, each attempt scanned the rest of the
  // run (quadratic: minutes for a log line of a few hundred KB)
  out = out.replace(/\b(?=[a-z])(?<!\b[a-z][a-z0-9+.-]*?)[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (u) => {
    const userinfo = /\/\/([^/@\s]*)@/.exec(u)?.[1]
    if (userinfo === undefined) return u
    // a password already masked (or a placeholder in a hint) is kept, with the user it belongs to
    const at = userinfo.indexOf(':')
    const pw = at >= 0 ? userinfo.slice(at + 1) : undefined
    if (pw !== undefined && (pw === mask || PLACEHOLDER.test(pw))) return u
    // the user kept where asked (a user alone may be a token: https://ghp_…@github.com, dropped)
    if (o.urlUser && pw !== undefined) return u.replace(`//${userinfo}@`, () => `//${userinfo.slice(0, at)}:${mask}@`)
    return redactUrl(u)
  })
  out = out.replace(TOKEN_SHAPE, mask)
  // an env entry whose name says it is a secret, in JSON or flow YAML: {"name": "DB_PASS", "value": "…"}
  out = out.replace(
    /((["']?)name\2\s*:\s*(["']?)([\w.-]+)\3\s*,\s*(["']?)value\5\s*:\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,}]+)/g,
    (m, head: string, _q1: string, _q2: string, name: string, _q3: string, v: string) =>
      secretName(name) && !PLACEHOLDER.test(unquote(v)) ? `${head}${requote(v, mask)}` : m,
  )
  // a quoted value under a secret-named key, spaces and all (JSON, YAML): "password": "correct horse battery"
  out = out.replace(/(?<![\w./-])(["']?)([A-Za-z_][\w.-]*)\1(\s*:\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*')/g, (m, q: string, k: string, sep: string, v: string) =>
    secretField(k) && !PLACEHOLDER.test(unquote(v)) ? `${q}${k}${q}${sep}${requote(v, mask)}` : m,
  )
  // an unquoted value under a secret-named key (YAML, flow JSON, `key = value` config): password: hunter2, token = abc
  out = out.replace(
    /(?<![\w./-])(["']?)([A-Za-z_][\w.-]*)\1([ \t]*[:=][ \t]*)([^\s"',}{[|>&;][^\s"',}]{3,})/g,
    (m, q: string, k: string, sep: string, v: string) =>
      secretField(k) && !PLACEHOLDER.test(v) && !v.startsWith(mask) && !/^\[REDACTED\]/.test(v) ? `${q}${k}${q}${sep}${mask}` : m,
  )
  // a header-like name (with a dash) whose value follows a colon: x-api-key: …, Private-Token: …, X-Vault-Token: …
  out = out.replace(/(^|[\s{,])([A-Za-z][\w]*(?:-\w+)+)(\s*:[ \t]*)([^\s"',}]+)/gm, (m, pre: string, k: string, sep: string, v: string) =>
    secretField(k) && !PLACEHOLDER.test(v) && !/^[|>]/.test(v) ? `${pre}${k}${sep}${mask}` : m,
  )
  // key=value: the key starts at its run's first letter or underscore (the lookbehind), as the first match there would;
  // tried from every position of a run of word characters, each attempt scanned the rest of the run: quadratic, minutes
  // for a log line of a few hundred KB without an equals sign (a later start in a run ends where the first did, so it
  // can only fail as the first did)
  out = out.replace(/(?=[A-Za-z_])(?<![A-Za-z_][\w.-]*?)([A-Za-z_][\w.-]*)=('[^']*'|"[^"]*"|[^\s&'";]+)/g, (m, k: string, v: string) =>
    secretName(k) && !PLACEHOLDER.test(v) ? `${k}=${mask}` : m,
  )
  out = out.replace(/(^|\s)(--?[A-Za-z][\w-]*)(\s+)('[^']*'|"[^"]*"|[^\s'"-][^\s'"]*)/gm, (m, pre: string, f: string, sp: string, v: string) =>
    secretName(f) && !PLACEHOLDER.test(v) ? `${pre}${f}${sp}${mask}` : m,
  )
  out = out.replace(
    /(authorization\s*[:=]\s*)(\S+(\s+\S+)?)/gi,
    (_, k: string, v: string) => `${k}${/^(bearer|basic)$/i.test(v.split(/\s+/)[0]!) ? `${v.split(/\s+/)[0]} ` : ''}${mask}`,
  )
  out = out.replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${mask}`)
  if (out.includes('\n')) out = redactYamlLines(out, mask)
  // the names first, then the values of the secret-named ones only: each value of process.env is read from the
  // process's environment, so reading them all was half of the redaction of a task log line (31 -> 15 us a line, 35 variables)
  const secrets: string[] = []
  for (const k of Object.keys(env)) {
    if (!SECRET_ENV.test(k)) continue
    const v = env[k]
    if (v && v.length >= 4) secrets.push(v)
  }
  secrets.sort((a, b) => b.length - a.length)
  for (const sec of secrets) out = out.split(sec).join(mask)
  return out
}

const unquote = (v: string) => (/^(["']).*\1$/s.test(v) ? v.slice(1, -1) : v)
const requote = (v: string, mask: string) => (/^["']/.test(v) ? `${v[0]}${mask}${v[0]}` : mask)

/**
 * What only whole lines of YAML show: a block scalar under a secret-named key (`password: |`, `token: >-`, its value
 * on the lines below, more indented) and a block-style env entry whose name says it is a secret (`- name: DB_PASS`
 * with `value: …` at the same indentation on the next line).
 */
function redactYamlLines(text: string, mask: string): string {
  const lines = text.split('\n')
  let blockCol = -1
  let envCol = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const indent = line.length - line.trimStart().length
    if (blockCol >= 0) {
      if (line.trim() === '') continue
      if (indent > blockCol) {
        lines[i] = `${line.slice(0, indent)}${mask}`
        continue
      }
      blockCol = -1
    }
    // the column of the key: after a list item's dash
    const m = /^(\s*(?:-\s+)?)(["']?)([A-Za-z_][\w.-]*)\2\s*:(.*)$/.exec(line)
    if (!m) {
      envCol = -1
      continue
    }
    const col = m[1]!.length
    const [key, rest] = [m[3]!, m[4]!.trim()]
    if (envCol === col && key === 'value' && rest !== '' && !/^[|>]/.test(rest)) {
      if (!PLACEHOLDER.test(unquote(rest))) lines[i] = `${line.slice(0, line.length - m[4]!.length)} ${requote(rest, mask)}`
      envCol = -1
      continue
    }
    envCol = key === 'name' && secretName(unquote(rest)) ? col : -1
    if (/^[|>][0-9+-]*(\s+#.*)?$/.test(rest) && secretField(key)) blockCol = col
  }
  return lines.join('\n')
}

/**
 * What the user typed (a command's argument, an unknown command's words) as obsctl may quote it back in a message
 * or a result: through redactText without the environment's values, as an error's message is (redactDeep), so a
 * URL with a password or a `TOKEN=…` pasted where a name goes is never echoed whole, while a name stays as typed.
 */
export function redactInput(text: string): string {
  return redactText(text, {})
}

/**
 * A word typed where a name goes (`cluster remove NAME` of one not in the inventory) as obsctl may quote it back:
 * through redactInput (a URL's password, a token, `TOKEN=…` masked), and `***` whole when it is credential-shaped by
 * the rule config set withholds a value by (secretSetting: a pasted API key, a hex secret, `P4ss!word`), which
 * redactInput alone lets through. A name as names are (`cluster-05`, `edge-lab7`) stays as typed.
 */
export function redactArgument(text: string): string {
  const redacted = redactInput(text)
  return redacted === text && secretSetting('', text) ? '***' : redacted
}

/**
 * Whether a value set at an inventory path (`obsctl config set PATH VALUE`, and the value it replaces) is withheld
 * from what obsctl prints and commits (shown as `***`), because a commit message stays in Git's history for good:
 * - the path names a secret, as redactText reads names (a segment such as `password`, `token`, `apiKey`; names of
 *   where a secret is, `tokenEnv`, `secretKeyEnv`, `sshKeyFile`, are shown);
 * - redactText masks something in the value on its own (a GitHub/GitLab/Slack token, a JWT, a URL's password,
 *   `Bearer …`, `TOKEN=…`, a PEM private key);
 * - the value is credential-shaped: a run of 20 or more letters and digits mixing both (an API key, a base64 or hex
 *   secret), or one word of 8 or more characters with letters, digits and a symbol that names, host names,
 *   versions, durations, sizes, address ranges and e-mail addresses do not have (`P4ss!word`, `hunter2@home`).
 * What remains is shown: versions, host names, URLs without a password, numbers, durations, names.
 */
export function secretSetting(path: string, value: string): boolean {
  if (path.split('.').some((segment) => secretName(segment))) return true
  if (redactInput(value) !== value) return true
  for (const run of value.match(/[A-Za-z0-9]{20,}/g) ?? []) if (/\d/.test(run) && /[A-Za-z]/.test(run)) return true
  if (!/^\S{8,}$/.test(value) || !/\d/.test(value) || !/[A-Za-z]/.test(value) || value.includes('://')) return false
  const email = /^[\w.+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(value)
  return /[^A-Za-z0-9._:/+,=~@-]/.test(value) || (value.includes('@') && !email)
}

/**
 * Every string in a value (an error's message, hints and details) with each of `secrets` shown as `***`: a value
 * secretSetting withholds, wherever a message of the edit quotes it (`config set PATH VALUE would make…`, a field's
 * rule quoting the value, a hint). One of fewer than 4 characters only where it stands alone (quoted, or a whole
 * word between spaces), so a word that merely contains it stays readable.
 */
export function withholdDeep<T>(value: T, secrets: readonly string[]): T {
  return mapStrings(value, (text) => {
    let out = text
    for (const secret of secrets.filter(Boolean)) {
      if (secret.length >= 4) out = out.split(secret).join('***')
      else {
        const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        out = out.replace(new RegExp(`(^|[\\s"'])${escaped}(?=$|[\\s"',;:])`, 'g'), '$1***')
      }
    }
    return out
  })
}

/** Every string in a value (strings, arrays, plain objects; anything else as it is) through `f`. */
function mapStrings<T>(value: T, f: (text: string) => string): T {
  if (typeof value === 'string') return f(value) as T
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f)) as T
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)])) as T
  return value
}

/**
 * Every string in a value (an error's message, hints and details) through redactInput: what a message quotes of
 * the user's input (a URL with a password, `--token X`) is masked, while words that merely equal a short
 * credential (an access key `minio`) stay readable.
 */
export function redactDeep<T>(value: T): T {
  return mapStrings(value, redactInput)
}

/**
 * An http(s) URL: parses (WHATWG URL), has a host, and carries no user or password — a credential in a
 * URL ends up in Git, .git/config, state, logs and rendered files. `credentialFix` says where it goes.
 */
export function httpUrlError(text: string, credentialFix: string): string | undefined {
  // the WHATWG parser drops tabs and newlines inside a URL and trims spaces: "https://x\ny" would be taken for
  // https://xy and written to the inventory with the newline
  if (/\s/.test(text)) return `${JSON.stringify(text.replace(/\/\/[^/@]*@/, '//…@'))} is not a URL: it holds a space, tab or newline`
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return `"${text.replace(/\/\/[^/@]*@/, '//…@')}" is not a URL: expected http(s)://HOST[:PORT][/PATH]`
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${redactUrl(text)}": expected an http:// or https:// URL, not ${u.protocol}`
  if (u.username || u.password) return `the URL carries a credential (user:password@ before the host); credentials never go in the inventory: ${credentialFix}`
  const host = bareHost(u.hostname)
  const hostProblem = hostError(host)
  if (hostProblem) return `"${redactUrl(text)}": ${hostProblem}`
  return undefined
}

/**
 * Why this URL cannot be a service's endpoint although it is a fine URL: obsctl sends the service a credential
 * (platform/catalogue.ts CREDENTIAL_SERVICES) and the URL is plain http, which would carry it in cleartext.
 * The inventory's `endpoints.NAME` (schema) and `--endpoint NAME=URL` (platform/access.ts) both refuse it.
 */
export function plainHttpCredentialError(service: string, url: string): string | undefined {
  if (!isCredentialService(service) || !/^http:\/\//i.test(url)) return undefined
  return `plain http is refused for ${service}: obsctl sends it ${CREDENTIAL_SERVICES[service]}, which http:// would carry in cleartext; use its https:// URL (--ca-file or the platform CA for a private CA)`
}

/**
 * A cluster's API server URL (clusters[].apiServer, `cluster add --api-server`): an https URL. `cluster register` puts it
 * in the Argo CD cluster Secret beside the argocd-manager bearer token, which Argo CD (client-go) sends on every
 * request — over http:// in cleartext, to a server nobody verified — and `kubeconfig merge` writes it beside the admin
 * credentials into the kubeconfig kubectl uses. (obsctl's own client refuses an http:// server in the kubeconfig:
 * ../platform/kube.ts refuseUnverified.) kube-apiserver serves only https (kubeadm: port 6443), so no cluster needs it.
 */
export function apiServerUrlError(text: string): string | undefined {
  const e = httpUrlError(text, 'the API server URL carries no credentials: obsctl reads them from the kubeconfig')
  if (e) return e
  if (!/^http:\/\//i.test(text)) {
    // no port: kubeadm would bind 6443 (apiServerPort's default) while every client (kubectl, Argo CD, Prometheus) reads https:// as 443
    if (!/^https:\/\/(\[[^\]]*\]|[^/?#[\]]*):\d+(?:[/?#]|$)/i.test(text.replace(/^https:\/\/[^/?#@]*@/i, 'https://')))
      return `"${text}" names no port: the install binds the API server to the URL's port, and kubectl, Argo CD and Prometheus would take an https URL without one as 443; write the port, e.g. ${text.replace(/\/+$/, '')}:6443 (kubeadm's usual)`
    return undefined
  }
  return `"${text}": plain http is refused for an API server: Argo CD sends the cluster's bearer token to it (the cluster Secret obsctl registers), and kubectl the credentials of the kubeconfig obsctl merges, which http:// would carry in cleartext to a server nobody verified; use ${text.replace(/^http:/i, 'https:')} (kube-apiserver serves https only)`
}

/** A host as a URL names it: an IPv6 address in brackets (https://[fd00::1]:6443), anything else as it is. */
export const urlHost = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host)

/** A host standing alone (a URL's hostname without an IPv6 address's brackets: fd00::1), the inverse of urlHost. */
export const bareHost = (host: string) => host.replace(/^\[(.*)\]$/, '$1')

/** The host of a URL, standing alone (bareHost): https://[fd00::1]:6443 → fd00::1. */
export const hostOfUrl = (url: string) => bareHost(new URL(url).hostname)

/** A character of a refused value, named so a user can find it (`a newline`, `the character "%"`). */
function named(ch: string): string {
  const names: Record<string, string> = {'\n': 'a newline', '\r': 'a carriage return', '\t': 'a tab', ' ': 'a space'}
  return names[ch] ?? (/\p{Cc}/u.test(ch) ? `the control character ${JSON.stringify(ch)}` : `the character ${JSON.stringify(ch)}`)
}

/**
 * Text that Argo CD would read as its own: the ApplicationSets obsctl renders use Go templates (goTemplate: true), and
 * every field of their template (repoURL, targetRevision) is a template, so `{{ … }}` there is not the value.
 */
const GO_TEMPLATE = /\{\{|\}\}/

/**
 * An HTTP(S) proxy of the nodes (ssh.proxy.http, .https): http(s)://HOST[:PORT], as curl, apt, Go and containerd use a
 * proxy: a path, query or fragment is not used by any of them, and the URL goes into containerd's systemd drop-in
 * (Environment="HTTP_PROXY=…"), where `"`, `\` and `%` (a percent-encoded path) are systemd's own syntax.
 */
export function proxyUrlError(text: string, credentialFix: string): string | undefined {
  const e = httpUrlError(text, credentialFix)
  if (e) return e
  if (!/^https?:\/\/[^/?#]+\/?$/i.test(text))
    return `"${redactUrl(text)}" is not a proxy address: a proxy is http(s)://HOST[:PORT] (no path, query or fragment, which no client sends to a proxy), e.g. http://proxy.lab:3128`
  return undefined
}

/**
 * NO_PROXY of the nodes (ssh.proxy.noProxy): hosts, .domains, *, addresses, CIDRs and HOST:PORT, separated by commas
 * (spaces after a comma are fine: curl and Go trim them). The list goes into the nodes' environment and into
 * containerd's systemd drop-in (Environment="NO_PROXY=…"), where a newline would start a directive of its own, and
 * `"`, `\` and `%` are systemd's syntax: any other character is refused, as no host name or address holds one.
 */
export function noProxyError(text: string): string | undefined {
  const bad = /[^A-Za-z0-9.,:/*_[\] -]/u.exec(text)
  if (bad)
    return `${JSON.stringify(text)} is not a no-proxy list: ${named(bad[0])} is in no host name or address (hosts, .domains, addresses and CIDRs separated by commas, e.g. 10.0.0.0/8,.lab,localhost); the list goes into the nodes' environment and containerd's systemd unit`
  if (text.split(',').every((p) => p.trim() === ''))
    return 'empty no-proxy list: name the hosts, .domains, addresses or CIDRs the nodes reach without the proxy, or remove noProxy'
  return undefined
}

/**
 * An S3 region (s3.region): the name S3 clients sign every request for (AWS Signature V4's credential scope
 * DATE/REGION/s3/aws4_request, sent in the Authorization header) and that Longhorn's backup target carries as the
 * host of a URL (s3://BUCKET@REGION/PATH). So never empty, and never a space, a control character, or one of
 * / @ : ? # % \ (each would end or change that scope or that URL's host); every S3 service's region names are far
 * inside that (us-east-1, MinIO's letters, digits, - and _).
 */
export function s3RegionError(text: string): string | undefined {
  const bad = /[\s\p{Cc}/@:?#%\\]/u.exec(text)
  if (text !== '' && !bad) return undefined
  return `${JSON.stringify(text)} is not an S3 region name${bad ? ` (${named(bad[0])})` : ''}, e.g. us-east-1: it is signed into every S3 request (SigV4's DATE/REGION/s3 scope) and is the host of Longhorn's backup target s3://BUCKET@REGION/`
}

/**
 * A Git branch name as `git check-ref-format --branch` takes it (refs.c check_refname_component, and a branch never
 * starts with '-', which git would read as an option), and without `{{`/`}}`: the branch is the targetRevision of
 * the Argo CD ApplicationSets, whose Go templates would read it.
 */
export function gitBranchError(text: string): string | undefined {
  const refused = (problem: string) => `${JSON.stringify(text)} is not a Git branch name: ${problem} (git check-ref-format --branch; e.g. main)`
  if (text === '') return refused('it is empty')
  if (text.startsWith('-')) return refused("it starts with '-' (git would read it as an option)")
  if (text === 'HEAD') return refused('git reserves the name HEAD')
  const bad = /[\p{Cc} ~^:?*[\\]/u.exec(text)
  if (bad) return refused(`${named(bad[0])} is not allowed in a branch name (nor a space, a control character, ~ ^ : ? * [ or \\)`)
  if (text.includes('..') || text.includes('@{')) return refused(`it holds ${text.includes('..') ? "'..'" : "'@{'"}`)
  if (text.startsWith('/') || text.endsWith('/') || text.includes('//')) return refused("it starts or ends with '/' or holds '//'")
  if (text.endsWith('.') || text.split('/').some((c) => c.startsWith('.') || c.endsWith('.lock')))
    return refused("it ends with '.', or a part of it starts with '.' or ends with '.lock'")
  if (GO_TEMPLATE.test(text)) return refused("it holds '{{' or '}}', which the Argo CD ApplicationSets (Go templates) would read as a template")
  return undefined
}

/**
 * A Git remote: https://, http://, ssh://, git:// or scp-like user@host:path. An https remote never
 * carries user or token; an ssh remote names its user (git@; noSshUserError) but never a password.
 * Never git's `<transport>::<address>` (a remote helper: `ext::` runs a command, `fd::` talks over a file descriptor),
 * never a control character (nor, but in a local path, a space), never `{{`/`}}` (Argo CD's ApplicationSet templates),
 * never scp-like with the host in brackets, which git reads and Argo CD does not (bracketedRemoteError).
 */
export function gitRemoteError(text: string): string | undefined {
  // git's transport_get: a run of RFC 3986 unreserved characters, then "::", names a remote helper git-remote-<name>
  const helper = /^([A-Za-z0-9._~-]+)::/.exec(text)
  if (helper)
    return `"${text.slice(0, helper[0].length)}…" is git's syntax for a remote helper (git-remote-${helper[1]}: ext:: runs a command, fd:: talks over a file descriptor), not a repository address: use https://HOST/PATH.git, ssh://git@HOST/PATH.git or git@HOST:PATH.git`
  const ws = /[\s\p{Cc}]/u.exec(text)
  const local = text.startsWith('/') || text.startsWith('./') || text.startsWith('../')
  if (ws && (!local || /\p{Cc}/u.test(ws[0]))) return `${JSON.stringify(text.replace(/\/\/[^/@]*@/, '//…@'))} is not a Git remote: it holds ${named(ws[0])}`
  if (GO_TEMPLATE.test(text))
    return `"${redactUrl(text)}" holds '{{' or '}}': the remote is the repoURL of the Argo CD ApplicationSets, whose Go templates would read it as a template`
  if (/^(https?|ssh|git|file):\/\//.test(text)) {
    let u: URL
    try {
      u = new URL(text)
    } catch {
      return `"${text.replace(/\/\/[^/@]*@/, '//…@')}" is not a URL`
    }
    if ((u.protocol === 'http:' || u.protocol === 'https:') && (u.username || u.password))
      return 'the remote carries a credential (user:token@ before the host); it would end up in .git/config, the Argo CD Applications and logs: set git.private: true and git.tokenEnv to the name of an env var holding the token'
    if (u.password) return 'the ssh remote carries a password; use a key: set git.private: true and git.sshKeyFile'
    if (u.protocol !== 'file:' && !u.hostname) return `"${redactUrl(text)}" has no host`
    // ssh would read it as an option (-oProxyCommand=…): git blocks it ("strange hostname"), the inventory refuses it first
    if (u.hostname.startsWith('-')) return `"${redactUrl(text)}": the host starts with '-', which ssh would read as an option`
    if (u.protocol === 'ssh:' && !u.username) return noSshUserError(text, text.replace(/^ssh:\/\//i, 'ssh://git@'))
    return undefined
  }
  const notRemote = `"${text}" is not a Git remote: expected https://HOST/PATH.git, ssh://git@HOST/PATH.git or git@HOST:PATH.git`
  const scp = scpLikeRemote(text)
  if (scp) {
    // a ':' in the user is a password ([user:secret@host]:path): never repeated
    if (scp.user?.includes(':')) return 'the ssh remote carries a password; use a key: set git.private: true and git.sshKeyFile'
    if (scp.user === '' || /[@\s]/.test(scp.user ?? '') || !scp.host || !scp.path) return notRemote
    // brackets anywhere else before the path: an unbalanced '[' is part of git's host ("[fd00::1" is the host "[fd00")
    if (!scp.bracketed && /[[\]]/.test(text.slice(0, text.indexOf(':')))) {
      const unbalanced = text.includes('[') && !text.includes(']')
      return `"${text}": ${unbalanced ? `a '[' without its ']' (git would connect to the host "${scp.host}")` : "a '[' or ']' out of place"}: an IPv6 host goes in brackets in a URL, ssh://git@[ADDRESS]/PATH.git`
    }
    // an IPv6 host written bare: git splits it at its first ':' (git@fd00::1:x is the host fd00, the path ":1:x")
    if (!scp.bracketed && scp.path.startsWith(':'))
      return `"${text}": git reads the host "${scp.host}" and the path "${scp.path}": an IPv6 host goes in brackets in a URL, ssh://git@[ADDRESS]/PATH.git`
    const port = /^[^:]*:(\d+)$/.exec(scp.host)
    if (port) return `"${text}": port ${port[1]} is out of range (1-65535)`
    const hostProblem = scp.host.includes(':') ? (parseIp(scp.host)?.kind() === 'ipv6' ? undefined : ipError(scp.host)) : hostError(scp.host)
    if (hostProblem) return `"${text}": ${hostProblem}`
    if (scp.port === 0) return `"${text}": port 0 is out of range (1-65535)`
    if (scp.bracketed) return bracketedRemoteError(text, scp)
    if (scp.user === undefined) return noSshUserError(text, `git@${text}`)
    // go-git (Argo CD) reads 1-5 digits and ':' after the host's ':' as a port (internal/url scpLikeUrlRegExp:
    // `host:(?:(?P<port>[0-9]{1,5}):)?path`); git reads them as the start of the path
    const goPort = /^(\d{1,5}):(.*)$/.exec(scp.path)
    if (goPort)
      return `"${text}": git reads the path "${scp.path}" on ${scp.host}, but Argo CD (go-git) reads ${goPort[1]} as an ssh port and the path "${goPort[2]}": write ssh://${scp.user}@${scp.host}:${goPort[1]}/${goPort[2]!.replace(/^\//, '')} for that port`
    return undefined
  }
  if (local) return undefined // a local path (tests, mirrors)
  return notRemote
}

/**
 * An ssh remote without `user@` (`git.lab:platform/gitops.git`, `ssh://git.lab/…`): git logs in as the local user or
 * ~/.ssh/config's, but git.remote is Argo CD's repoURL too, and Argo CD takes an address for ssh, and its login name,
 * only from `USER@` (util/git IsSSHURL: `^(ssh://)?([^/:]*?)@[^@]+$`): without one it would offer the deploy key as
 * no user, or read the address as neither ssh nor https.
 */
function noSshUserError(text: string, instead: string): string {
  return `"${text}" names no ssh user: git would log in as yours, but Argo CD reads git.remote (its repoURL) as ssh only with USER@ and logs in as that user: write ${instead} (git is the user GitHub, GitLab and Gitea expect)`
}

/**
 * A bracketed scp-like remote that git reads (connect.c: `[host]:path`, `user@[host]:path`, `[user@host:port]:path`)
 * is refused anyway: git.remote is Argo CD's repoURL too, and Argo CD reads it with go-git, whose scp-like syntax has
 * no brackets (its host ends at the first ':', and it has no port there), so it would connect elsewhere. The message
 * names the address both read the same: the URL ssh://[user@]HOST[:PORT]/PATH (an IPv6 host in brackets), or plain
 * [user@]host:path when brackets were only around a name or an IPv4 address.
 */
function bracketedRemoteError(text: string, scp: ScpRemote): string {
  // no user: Argo CD needs one too (noSshUserError), so the address named has git@
  const user = `${scp.user ?? 'git'}@`
  const instead =
    scp.port === undefined && !scp.host.includes(':')
      ? `${user}${scp.host}:${scp.path}`
      : `ssh://${user}${scp.host.includes(':') ? `[${scp.host}]` : scp.host}${scp.port === undefined ? '' : `:${scp.port}`}/${scp.path.replace(/^\//, '')}`
  // an scp-like path starts in the ssh user's home, a URL's at the server's root (Git hosting reads both the same)
  const home =
    instead.startsWith('ssh://') && !scp.path.startsWith('/')
      ? ` (a URL's path starts at the server's root, where ${JSON.stringify(scp.path)} started in the ssh user's home: for a plain ssh server, give the full path)`
      : ''
  const named = scp.user === undefined ? ' (with the ssh user Argo CD needs: git is the one GitHub, GitLab and Gitea expect)' : ''
  return `"${text}": git reads it as ssh to ${scp.host}${scp.port === undefined ? '' : ` port ${scp.port}`}, but Argo CD reads git.remote (its repoURL) with go-git, whose scp-like syntax has no brackets, and would connect elsewhere: write ${instead}${named}${home}`
}

export interface ScpRemote {
  user?: string
  /** as git hands it to ssh: without brackets (fd00::1) */
  host: string
  /** git's `[user@host:port]:path` only */
  port?: number
  path: string
  /** written with brackets around the host: `[host]:path`, `user@[host]:path`, `[user@host:port]:path` */
  bracketed?: true
}

/** A URL as git tells one from a path (url.c is_url): a scheme, then "://". */
export function isGitUrl(text: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9+.-]*:\/\//.test(text)
}

/**
 * A Git remote in scp-like syntax, [user@]host:path, split as git reads it: an address that is not a URL is ssh when
 * it holds a colon and no slash before the first one (url.c url_is_local_not_ssh; git-clone(1), GIT URLS), with or
 * without user@ — `git.lab:platform/gitops.git` is the host git.lab. Anything else (`./a:b`, `/srv/a:b`) is a local
 * path: undefined. (Only `git clone` first looks for a local folder of that name; ls-remote, fetch and push, which
 * obsctl runs, do not.) The user is what precedes the first '@' (the inventory check refuses any other '@').
 *
 * The host may be in brackets (connect.c host_end): `git@[fd00::1]:path`, `[::1]:path`, `[user@host:port]:path`.
 * Git takes them off (the host is fd00::1, never "[fd00") and reads a port after the first ':' inside them when
 * only digits follow, below 65536 (get_host_and_port), so `[fd00:22]:x` is the host fd00 on port 22, as git reads
 * it. Other brackets (`[fd00::1` unbalanced, `a[b]:c`) are split as above: git's host then holds the bracket.
 * test/gitops/remote-location.test.ts holds this to `git fetch-pack --diag-url`.
 */
export function scpLikeRemote(text: string): ScpRemote | undefined {
  if (isGitUrl(text)) return undefined
  const colon = text.indexOf(':')
  const slash = text.indexOf('/')
  if (colon < 0 || (slash >= 0 && slash < colon)) return undefined
  const bracketed = /^(?:([^@[\]]*)@)?\[([^[\]]*)\]:/.exec(text)
  if (bracketed) {
    const inside = `${bracketed[1] === undefined ? '' : `${bracketed[1]}@`}${bracketed[2]}`
    const sep = inside.indexOf(':')
    const digits = sep < 0 ? '' : inside.slice(sep + 1)
    const port = /^\d+$/.test(digits) && Number(digits) < 65536 ? Number(digits) : undefined
    const login = port === undefined ? inside : inside.slice(0, sep)
    const at = login.indexOf('@')
    return {
      ...(at < 0 ? {} : {user: login.slice(0, at)}),
      host: login.slice(at + 1),
      ...(port === undefined ? {} : {port}),
      path: text.slice(bracketed[0].length),
      bracketed: true,
    }
  }
  const login = text.slice(0, colon)
  const at = login.indexOf('@')
  return {user: at < 0 ? undefined : login.slice(0, at), host: login.slice(at + 1), path: text.slice(colon + 1)}
}

/** A semantic version (strict: MAJOR.MINOR.PATCH[-pre][+build], no leading v). */
export function semverError(text: string, example: string): string | undefined {
  if (semverValid()(text) && !/\s/.test(text) && !text.startsWith('v') && !text.startsWith('=')) return undefined
  return `${JSON.stringify(text)} is not a semantic version MAJOR.MINOR.PATCH (e.g. ${example})`
}

/** A release tag vMAJOR.MINOR.PATCH (Argo CD, Thanos). */
export function vTagError(text: string, example: string): string | undefined {
  if (text.startsWith('v') && semverError(text.slice(1), example) === undefined) return undefined
  return `"${text}" is not a release tag vMAJOR.MINOR.PATCH (e.g. ${example})`
}

/** semver comparison; both must be valid. */
export function compareVersions(a: string, b: string): number {
  return semverCompare()(a.replace(/^v/, ''), b.replace(/^v/, ''))
}
