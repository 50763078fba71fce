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

export class Scrubber {
  private readonly values = new Set<string>()
  private ordered: string[] | undefined

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
    this.ordered = undefined
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

  scrub(text: string): string {
    this.ordered ??= [...this.values].sort((a, b) => b.length - a.length)
    let out = text
    for (const v of this.ordered) if (out.includes(v)) out = out.split(v).join(REDACTED)
    // what every message, task log and trace goes through (one set of patterns), a URL's user kept for support:
    // not the environment's values, which add() was given by name
    return redactText(out, {}, REDACTED, {urlUser: true})
  }
}
