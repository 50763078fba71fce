/**
 * What keeps secrets out of a diagnosis archive: every known secret value (the env vars the inventory
 * names, the values of the Secrets obsctl manages and Argo CD's cluster Secrets, kubeadm's bootstrap tokens,
 * the credentials in the kubeconfig) and token-shaped text (bearer tokens, JWTs, basic auth in URLs and
 * headers, private keys) are replaced by [REDACTED] in everything that goes into it; then the redaction of
 * task logs and traces runs over it too, with the same marker (redactText, the one copy of those patterns:
 * secret-named assignments, query parameters such as a presigned URL's X-Amz-Signature, flags such as
 * kubeadm's `--token X`, quoted values under secret-named keys, header-like `x-api-key: …`, GitHub/GitLab/Slack
 * token formats, YAML block scalars under secret-named keys, env entries whose name says they are secret).
 * Values are held in memory only.
 */
import {redactText} from '../config/validators.js'
import {yaml} from '../lazy-deps.js'

export const REDACTED = '[REDACTED]'

const PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  // PEM private keys (client-key-data decoded, TLS keys)
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // JWTs (service-account tokens, OIDC): three base64url parts, the first a JSON header ({"…)
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Authorization headers and bearer tokens in any text
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, kind) => `${kind} ${REDACTED}`],
  // basic auth in URLs: scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):([^\s/@]+)@/gi, (_m, scheme, user) => `${scheme}${user}:${REDACTED}@`],
  // key: value / "key": "value" for obvious credential names (token, password, secret…)
  [
    /(["']?(?:password|passwd|secret|token|bearerToken|secret_key|access_key|client-key-data|apiKey|api_key)["']?\s*[:=]\s*)(["']?)([^\s"',}]{4,})\2/gi,
    (_m, key, q) => `${key}${q}${REDACTED}${q}`,
  ],
]

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
    for (const [re, rep] of PATTERNS) out = out.replace(re, rep as string)
    // what every task log and trace goes through (one set of patterns): not the environment's values, which
    // add() was given by name
    return redactText(out, {}, REDACTED)
  }
}
