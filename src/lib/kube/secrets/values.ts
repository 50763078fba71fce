/** Values: env vars, a prompt on a terminal, the cluster (a rerun keeps what is there), or generated. */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {nodeCrypto} from '../../hash.js'
import {receiverSecrets, type ReceiverSecret} from '../../config/alerting.js'
import {formatPath, formatPosition, type LoadedInventory} from '../../config/load.js'
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import {canPrompt, prompter} from '../../prompt.js'
import {fsReason, inputError} from '../../errors.js'
import {PASSWORD_ENV, passwordProblem, type PasswordKind} from '../../config/passwords.js'
import {SERVICES} from '../../platform/catalogue.js'
import type {Kube} from '../../platform/kube.js'
import {ENV, FLUENTBIT_KEY_ENTRY, FLUENTBIT_OPENSEARCH_USER, liveValue, type SecretValues} from './catalogue.js'
import {resolveTls} from './tls.js'
import {envValue} from '../../env.js'
import {secretName, secretSetting} from '../../config/validators.js'

export interface ResolveOptions {
  /** --generate-passwords: generate OpenSearch/Grafana passwords that are neither set nor in the cluster */
  generate?: boolean
  /** --opensearch-ca-file (else $OBSCTL_OPENSEARCH_CA_FILE, else the ca.crt of the central opensearch-http-tls: the platform CA when obsctl manages it) */
  opensearchCaFile?: string
  /** S3 credentials already resolved */
  s3?: SecretValues['s3']
  /** the central cluster, to keep the values a previous run stored */
  central?: () => Promise<Kube>
}

export function generatePassword(): string {
  // 192 random bits; drawn again until it has every character class OpenSearch's rules ask for
  for (;;) {
    const pw = nodeCrypto().randomBytes(24).toString('base64url')
    if ((['opensearchAdmin', 'fluentbitOpensearch', 'grafanaOpensearch'] as const).every((k) => passwordProblem(k, pw) === undefined)) return pw
  }
}

function readPem(file: string, what: string, hint: string): string {
  let pem: string
  try {
    pem = readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read ${what} ${file}: ${fsReason(error)}`, [hint], 'SECRETS_CA_FILE')
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw inputError(`${what} ${file} holds no PEM certificate`, [hint], 'SECRETS_CA_FILE')
  return pem
}

/** The PEM of the S3 endpoint's private CA (s3.caFile, relative to the inventory), which the S3 Secrets carry. */
export function readS3Ca(inv: LoadedInventory): string | undefined {
  const f = inv.platform.s3.caFile
  return f ? readPem(path.resolve(inv.dir, f), 'the S3 CA file (s3.caFile)', 'fix s3.caFile in the inventory') : undefined
}

/**
 * Resolve every value once per run. Passwords: env var, else the value already in the cluster (a rerun
 * keeps it), else generated (--generate-passwords), else a prompt on a terminal, else exit 2 naming the
 * env var and the flag.
 */
export async function resolveSecretValues(inv: LoadedInventory, opts: ResolveOptions = {}): Promise<SecretValues> {
  const p = inv.platform
  let s3 = opts.s3
  if (!s3) {
    const {resolveCredentials} = await import('../../platform/s3.js')
    s3 = await resolveCredentials(p)
  }
  const alerting = alertingValues(inv)
  const kube = opts.central ? await opts.central() : undefined
  const generated: string[] = []
  const sources: Record<string, string> = {s3: `$${p.s3.accessKeyEnv}/$${p.s3.secretKeyEnv}`}
  const missing: {what: string; env: string}[] = []

  const password = async (what: string, kind: PasswordKind, live: () => Promise<string | undefined>): Promise<string> => {
    const env = PASSWORD_ENV[kind]
    const fromEnv = envValue(env, {secret: true})
    if (fromEnv) {
      // checked before anything is applied: the consumer (OpenSearch, Grafana) would refuse it later
      const problem = passwordProblem(kind, fromEnv)
      if (problem)
        throw inputError(
          `$${env} (${what}) ${problem}`,
          [`export ${env}=… with a password that passes`, 'or unset it and pass --generate-passwords'],
          'WEAK_PASSWORD',
        )
      sources[what] = `$${env}`
      return fromEnv
    }
    const existing = await live()
    if (existing) {
      sources[what] = 'cluster (kept)'
      return existing
    }
    if (opts.generate) {
      generated.push(what)
      sources[what] = 'generated'
      return generatePassword()
    }
    if (canPrompt()) {
      sources[what] = 'prompt'
      return prompter([`export ${env}=…`, '--generate-passwords']).password({
        message: `${what} (not set in $${env})`,
        validate: (x) => {
          const problem = passwordProblem(kind, x)
          return problem ? `it ${problem}` : true
        },
      })
    }
    missing.push({what, env})
    return ''
  }
  const central = centralCluster(p)
  const opensearchAdminPassword = await password('OpenSearch admin password', 'opensearchAdmin', () =>
    liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'password'),
  )
  const fluentbitPassword = await password('Fluent Bit OpenSearch password', 'fluentbitOpensearch', () => liveFluentbitKey(kube))
  const grafanaAdminPassword = await password('Grafana admin password', 'grafanaAdmin', () =>
    liveValue(kube, NAMESPACES.monitoring, SECRET_NAMES.grafanaAdmin, 'admin-password'),
  )
  // a machine credential (Grafana's datasource): env, else the cluster's, else generated without asking
  let grafanaOpensearchPassword = envValue(ENV.grafanaOpensearchPassword, {secret: true})
  const grafanaOsProblem = grafanaOpensearchPassword ? passwordProblem('grafanaOpensearch', grafanaOpensearchPassword) : undefined
  if (grafanaOsProblem)
    throw inputError(
      `$${ENV.grafanaOpensearchPassword} (Grafana OpenSearch password) ${grafanaOsProblem}`,
      [`export ${ENV.grafanaOpensearchPassword}=… with a password that passes, or unset it (obsctl generates one)`],
      'WEAK_PASSWORD',
    )
  if (grafanaOpensearchPassword) sources['Grafana OpenSearch password'] = `$${ENV.grafanaOpensearchPassword}`
  else {
    grafanaOpensearchPassword = await liveValue(kube, NAMESPACES.monitoring, SECRET_NAMES.grafanaOpensearch, 'password')
    sources['Grafana OpenSearch password'] = grafanaOpensearchPassword ? 'cluster (kept)' : 'generated (a machine credential: nobody types it)'
    grafanaOpensearchPassword ??= generatePassword()
  }
  if (missing.length > 0) {
    throw inputError(
      `${missing.map((m) => m.what).join(', ')}: not set, and obsctl does not prompt without a terminal (or with CI set)`,
      [`export ${missing.map((m) => `${m.env}=…`).join(' ')}`, 'or pass --generate-passwords (add --show-generated to print them once)'],
      'SECRETS_MISSING',
    )
  }

  // the central TLS Secrets (only with the central cluster at hand: a user's own Secret must be seen to be kept)
  const {tls, platformCa} = kube ? await resolveTls(inv, kube) : {tls: undefined, platformCa: undefined}
  for (const t of tls ?? []) {
    sources[`${t.namespace}/${t.name}`] =
      t.origin === 'kept' ? 'cluster (yours, left alone)' : t.origin === 'reused' ? 'cluster (reused)' : `new from the platform CA: ${t.reason}`
  }
  if (platformCa) sources.platformCa = `${platformCa.file}${platformCa.created ? ' (created in this run)' : ''}`

  const caHint = `--opensearch-ca-file PATH (or $${ENV.opensearchCaFile}): the PEM CA that signed the central OpenSearch HTTP certificate`
  const caFile = opts.opensearchCaFile ?? envValue(ENV.opensearchCaFile)
  const osTls = tls?.find((t) => t.name === SECRET_NAMES.opensearchHttpTls && t.namespace === SERVICES.opensearch.namespace)
  let opensearchCa: string | undefined
  if (caFile) {
    opensearchCa = readPem(path.resolve(caFile), 'the OpenSearch CA file', caHint)
    sources.opensearchCa = caFile
  } else if (osTls?.material) {
    // obsctl manages the central certificate: Fluent Bit trusts what this run leaves there
    opensearchCa = osTls.material.ca
    sources.opensearchCa = 'the platform CA (.obsctl/pki/ca.crt)'
  } else {
    opensearchCa = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchHttpTls, 'ca.crt')
    if (opensearchCa) sources.opensearchCa = `${NAMESPACES.logging}/${SECRET_NAMES.opensearchHttpTls} on ${central.name}`
  }
  // the CA the central ingresses (Thanos Receive among them) serve a certificate from: what this run
  // leaves in monitoring/obsctl-ingress-tls (the platform CA when obsctl manages it), else its live ca.crt
  const ingressTls = tls?.find((t) => t.name === SECRET_NAMES.ingressTls && t.namespace === NAMESPACES.monitoring)
  let ingressCa = ingressTls?.material?.ca
  if (ingressCa) sources.ingressCa = 'the platform CA (.obsctl/pki/ca.crt)'
  else {
    ingressCa = await liveValue(kube, NAMESPACES.monitoring, SECRET_NAMES.ingressTls, 'ca.crt')
    if (ingressCa) sources.ingressCa = `${NAMESPACES.monitoring}/${SECRET_NAMES.ingressTls} on ${central.name}`
  }
  const s3Ca = readS3Ca(inv)
  for (const r of receiverSecrets(p.alerting)) sources[`alerting ${r.key}`] = `$${r.env}`
  return {
    s3,
    opensearchAdminPassword,
    fluentbitPassword,
    grafanaAdminPassword,
    grafanaOpensearchPassword,
    alerting,
    opensearchCa,
    s3Ca,
    ingressCa,
    tls,
    platformCa,
    generated,
    sources,
  }
}

/**
 * Why a receiver's URL must not go into the Secret, or undefined. Alertmanager posts every alert to it, so a credential
 * in it goes wherever the URL says: a Slack incoming-webhook URL is itself the credential (its path is the token) and
 * Slack serves it only over https; a webhook URL's user and password become a Basic Authorization header (Go's
 * net/http), which plain http carries in cleartext. A webhook over http without them stays allowed (an in-cluster
 * receiver) unless its path or query carries what reads as a credential (credentialInUrl).
 */
export function receiverUrlRefusal(r: Pick<ReceiverSecret, 'kind' | 'field' | 'receiver'>, value: string): {why: string; fix: string} | undefined {
  if (r.field !== 'webhookUrlEnv' && r.field !== 'urlEnv') return undefined
  let u: URL
  try {
    u = new URL(value)
  } catch {
    return {why: 'is not a URL', fix: `export it as the receiver's https:// URL`}
  }
  if (u.protocol === 'https:') return undefined
  if (r.field === 'webhookUrlEnv')
    return {
      why: `is not an https:// URL (receiver ${r.receiver}): a Slack webhook URL is the credential itself, and Alertmanager would post it with every alert in cleartext`,
      fix: 'export the https://hooks.slack.com/services/… URL Slack gave you',
    }
  if (u.protocol !== 'http:') return {why: `is not an http(s) URL (receiver ${r.receiver})`, fix: "export the receiver's https:// URL"}
  if (u.username || u.password)
    return {
      why: `is plain http with a user and password in it (receiver ${r.receiver}): Alertmanager would send them as a Basic Authorization header in cleartext with every alert`,
      fix: "export the receiver's https:// URL",
    }
  const carried = credentialInUrl(u)
  if (carried)
    return {
      why: `is plain http with what looks like a credential in its ${carried} (receiver ${r.receiver}): Alertmanager would send it in cleartext with every alert`,
      fix: "export the receiver's https:// URL (a receiver that takes no credential: its URL without that part)",
    }
  return undefined
}

/**
 * Where a URL carries what reads as a credential, or undefined: a query parameter whose name says so (`token`,
 * `apiKey`, `sig`…, as secret names are read everywhere) or a path segment or query value that `config set` would
 * withhold as credential-shaped (a long run of letters and digits, a password-like word). Plain names (`/hook`,
 * `/api/v1/alerts`, `?cluster=cluster-01`) are not.
 */
function credentialInUrl(u: URL): 'path' | 'query' | undefined {
  for (const [key, value] of u.searchParams) if (secretName(key) || secretSetting('', value)) return 'query'
  for (const segment of u.pathname.split('/')) {
    let text = segment
    try {
      text = decodeURIComponent(segment)
    } catch {
      // a stray % stays as typed
    }
    if (secretSetting('', text)) return 'path'
  }
  return undefined
}

/**
 * The alert receivers' values from the env vars the inventory names (alerting.receivers[].*Env). Only from
 * the environment: a missing one is bad input naming the inventory field (file:line) that names it.
 */
export function alertingValues(inv: LoadedInventory): Record<string, string> {
  const out: Record<string, string> = {}
  const missing: string[] = []
  for (const r of receiverSecrets(inv.platform.alerting)) {
    const value = envValue(r.env, {secret: true})
    if (value) {
      const refused = receiverUrlRefusal(r, value)
      if (refused)
        throw inputError(`${formatPosition(inv.positionOf(r.at))}: ${formatPath(r.at)}: $${r.env} ${refused.why}`, [refused.fix], 'ALERTING_PLAIN_HTTP')
      out[r.key] = value
    } else missing.push(`${formatPosition(inv.positionOf(r.at))}: ${formatPath(r.at)}: $${r.env} is not set (receiver ${r.receiver}, ${r.kind})`)
  }
  if (missing.length > 0) {
    throw inputError(
      `alert receivers need env vars that are not set:\n${missing.join('\n')}`,
      [
        `export ${[
          ...new Set(
            receiverSecrets(inv.platform.alerting)
              .filter((r) => !process.env[r.env])
              .map((r) => r.env),
          ),
        ]
          .map((e) => `${e}=…`)
          .join(' ')}`,
        'the values go into the Secret monitoring/alertmanager-receivers, never into Git, argv or logs',
      ],
      'ALERTING_ENV_MISSING',
    )
  }
  return out
}

/** The Fluent Bit derivation key central keeps; from an earlier version's shared user, its password (the same env var). */
async function liveFluentbitKey(kube: Kube | undefined): Promise<string | undefined> {
  const key = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.fluentbitOpensearch, FLUENTBIT_KEY_ENTRY)
  if (key) return key
  const user = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.fluentbitOpensearch, 'username')
  return user === FLUENTBIT_OPENSEARCH_USER ? liveValue(kube, NAMESPACES.logging, SECRET_NAMES.fluentbitOpensearch, 'password') : undefined
}
