/**
 * What keeps secrets out of a diagnosis archive: every known secret value (the env vars the inventory
 * names, the values of the Secrets obsctl manages and Argo CD's cluster Secrets, kubeadm's bootstrap tokens,
 * the credentials in the kubeconfig) is replaced by [REDACTED] in everything that goes into it; then the redaction
 * of messages, task logs and traces runs over it, with the same marker and a URL's user kept (redactText, the one
 * copy of the patterns for what has no known value: bearer and basic tokens, JWTs, PEM private keys, a URL's
 * password, secret-named assignments, query parameters such as a presigned URL's X-Amz-Signature, flags such as
 * kubeadm's `--token X`, values under secret-named keys quoted or not, header-like `x-api-key: …`, GitHub/GitLab/Slack
 * token formats, YAML block scalars under secret-named keys, env entries whose name says they are secret).
 * Values are held in memory only.
 */
import {redactText} from '../config/validators.js'
import {yaml} from '../lazy-deps.js'

export const REDACTED = '[REDACTED]'

/** keys whose values are credentials (in Secrets' files, kubeconfigs, Argo CD cluster configs) */
export const SECRET_KEY = /pass|secret|token|key|credential|auth|cert.*data|private/i
/** keys of Secrets obsctl manages that hold no secret (names, addresses, public certificates) */
export const PUBLIC_KEYS = new Set([
  'username',
  'admin-user',
  'name',
  'server',
  'namespace',
  'project',
  'url',
  'type',
  'ca.crt',
  'tls.crt',
  'AWS_ENDPOINTS',
  'VIRTUAL_HOSTED_STYLE',
  'AWS_CERT',
])

/** The first four UTF-16 code units of `s` from `at` as one number (every value is at least 4 long): Scrubber's index key. */
function head4(s: string, at: number): number {
  return (((s.charCodeAt(at) * 31 + s.charCodeAt(at + 1)) * 31 + s.charCodeAt(at + 2)) * 31 + s.charCodeAt(at + 3)) | 0
}

export class Scrubber {
  private readonly values = new Set<string>()
  /** the values by their first four characters (head4), longest first: the candidates at a position of a text */
  private index: Map<number, string[]> | undefined

  /** A secret value; its base64 form too (Secrets and kubeconfigs carry it encoded). Very short values are ignored. */
  add(value: string | undefined): void {
    if (!value) return
    const v = value.trim()
    if (v.length < 4) return
    this.values.add(v)
    this.values.add(Buffer.from(v).toString('base64'))
    // a multi-line value (a file in a Secret): each line that is long enough on its own, and each leaf of its YAML/JSON
    if (v.includes('\n')) {
      for (const line of v.split('\n')) if (line.trim().length >= 16 && !/^-----/.test(line.trim())) this.values.add(line.trim())
    }
    this.leaves(v)
    this.index = undefined
  }

  private leaves(v: string): void {
    if (!/^[\s{[]|:\s/.test(v)) return
    let doc: unknown
    try {
      doc = v.trimStart().startsWith('{') ? JSON.parse(v) : yaml().parse(v)
    } catch {
      return
    }
    // only the leaves under a credential-like key (objstore.yml's secret_key, a cluster config's bearerToken):
    // a bucket name or an endpoint in the same file is no secret, and hiding it would hide what support needs
    const walk = (x: unknown, key: string): void => {
      if (typeof x === 'string') {
        if (SECRET_KEY.test(key) && x.length >= 4 && x !== v) this.add(x)
      } else if (Array.isArray(x)) x.forEach((y) => walk(y, key))
      else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, k)
    }
    walk(doc, '')
  }

  get size(): number {
    return this.values.size
  }

  /**
   * Every occurrence of every known value is replaced, and values that overlap in the text go as one [REDACTED]. One
   * pass over the text, looking up the values that start with the four characters at each position: a fleet's
   * kubeconfig holds ~30,000 values (each cluster's admin key, line by line), and a search per value took ~6 ms for
   * each entry of the archive (~2 minutes for 20,000 entries), as long as the search per value took for one.
   */
  scrub(text: string): string {
    if (!this.index) {
      this.index = new Map()
      for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
        const k = head4(v, 0)
        const same = this.index.get(k)
        if (same) same.push(v)
        else this.index.set(k, [v])
      }
    }
    // [from, to) spans of the text to replace, merged where they overlap or touch
    const spans: number[] = []
    for (let i = 0; i + 4 <= text.length; i++) {
      const candidates = this.index.get(head4(text, i))
      if (!candidates) continue
      const v = candidates.find((c) => text.startsWith(c, i))
      if (v === undefined) continue
      const end = i + v.length
      if (spans.length && i <= spans[spans.length - 1]!) spans[spans.length - 1] = Math.max(spans[spans.length - 1]!, end)
      else spans.push(i, end)
    }
    let out = text
    if (spans.length) {
      const parts: string[] = []
      let at = 0
      for (let k = 0; k < spans.length; k += 2) {
        parts.push(text.slice(at, spans[k]), REDACTED)
        at = spans[k + 1]!
      }
      parts.push(text.slice(at))
      out = parts.join('')
    }
    // what every message, task log and trace goes through (one set of patterns), a URL's user kept for support:
    // not the environment's values, which add() was given by name
    return redactText(out, {}, REDACTED, {urlUser: true})
  }
}
