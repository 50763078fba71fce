/**
 * `obsctl secrets apply` (the `secrets` phase): the credentials the rendered GitOps repo references by
 * name (SECRET_NAMES) are created in the clusters directly, never in Git.
 *
 *   central  monitoring  thanos-objstore                   objstore.yml (Thanos S3 config)
 *   central  monitoring  grafana-admin-credentials         admin-user, admin-password
 *   central  logging     opensearch-admin-credentials      username, password
 *   central  logging     opensearch-s3-keystore            s3.client.default.access_key, s3.client.default.secret_key
 *   central  logging     opensearch-security-config        config.yml, internal_users.yml (bcrypt hashes), roles.yml, …
 *   every    longhorn-system longhorn-backup-credentials   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINTS (+ AWS_CERT)
 *   every    logging     fluentbit-opensearch-credentials  username, password (+ ca.crt: the central OpenSearch CA)
 *
 * Values live only in memory: from env vars, a prompt on a terminal, the cluster itself (a rerun keeps
 * what is there) or, with --generate-passwords, crypto.randomBytes. Nothing here logs or returns a value.
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {canPrompt} from '../cli/prompt.js'
import {errorMessage, inputError} from '../errors.js'
import {describeObject, type Kube, type KubeObject} from './client.js'

export const ENV = {
  opensearchAdminPassword: 'OBSCTL_OPENSEARCH_ADMIN_PASSWORD',
  fluentbitPassword: 'OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD',
  grafanaAdminPassword: 'OBSCTL_GRAFANA_ADMIN_PASSWORD',
  opensearchCaFile: 'OBSCTL_OPENSEARCH_CA_FILE',
} as const

export const OPENSEARCH_ADMIN_USER = 'admin'
export const FLUENTBIT_OPENSEARCH_USER = 'fluentbit'
export const GRAFANA_ADMIN_USER = 'admin'
export const MANAGED_BY = {'app.kubernetes.io/managed-by': 'obsctl'}

/** Every value `secrets apply` writes, held in memory for one run. */
export interface SecretValues {
  s3: {accessKey: string; secretKey: string}
  opensearchAdminPassword: string
  fluentbitPassword: string
  grafanaAdminPassword: string
  /** PEM of the CA that signed the central OpenSearch's HTTP certificate (Fluent Bit verifies with it) */
  opensearchCa?: string
  /** PEM of the S3 endpoint's private CA (s3.caFile), for Longhorn's AWS_CERT */
  s3Ca?: string
  /** which passwords were generated in this run (names, never values) */
  generated: string[]
  /** where each value came from (names only): env, prompt, cluster, generated */
  sources: Record<string, string>
}

export interface WantedSecret {
  namespace: string
  name: string
  type: string
  /** plain values (base64-encoded only when sent) */
  data: Record<string, string>
  /** one line: what it is for */
  purpose: string
}

// ---------------------------------------------------------------------------------------------
// formats

/** `objstore.yml` as Thanos reads it (type S3; endpoint is host[:port] without scheme). */
export function thanosObjstoreYaml(p: Platform, s3: SecretValues['s3']): string {
  const u = new URL(p.s3.endpoint)
  const config: Record<string, unknown> = {
    bucket: p.s3.buckets.metrics.name,
    endpoint: u.host,
    region: p.s3.region,
    access_key: s3.accessKey,
    secret_key: s3.secretKey,
    insecure: u.protocol === 'http:',
    bucket_lookup_type: p.s3.pathStyle ? 'path' : 'virtual-hosted',
  }
  // a private CA travels in the same Secret (key ca.crt), seen where the Secret is mounted at /etc/thanos
  if (p.s3.caFile) config.http_config = {tls_config: {ca_file: '/etc/thanos/ca.crt'}}
  return YAML.stringify({type: 'S3', config}, {lineWidth: 0})
}

const META = (type: string) => ({_meta: {type, config_version: 2}})

/** The OpenSearch security plugin's config directory (all files the operator's securityadmin loads). */
export function securityConfigFiles(hashes: {admin: string; fluentbit: string}, indexPattern = 'fluent-bit-*'): Record<string, string> {
  const y = (o: unknown) => YAML.stringify(o, {lineWidth: 0})
  return {
    'config.yml': y({
      ...META('config'),
      config: {
        dynamic: {
          http: {anonymous_auth_enabled: false},
          authc: {
            basic_internal_auth_domain: {
              description: 'HTTP basic authentication against the internal user database',
              http_enabled: true,
              transport_enabled: true,
              order: 0,
              http_authenticator: {type: 'basic', challenge: true},
              authentication_backend: {type: 'intern'},
            },
          },
        },
      },
    }),
    'internal_users.yml': y({
      ...META('internalusers'),
      [OPENSEARCH_ADMIN_USER]: {hash: hashes.admin, reserved: true, backend_roles: ['admin'], description: 'admin (obsctl secrets apply)'},
      [FLUENTBIT_OPENSEARCH_USER]: {hash: hashes.fluentbit, reserved: true, backend_roles: [], description: 'Fluent Bit log shipping from every cluster (obsctl secrets apply)'},
    }),
    'roles.yml': y({
      ...META('roles'),
      fluentbit_writer: {
        reserved: true,
        description: 'write the daily log indices',
        cluster_permissions: ['cluster_monitor', 'cluster_composite_ops', 'indices:admin/template/get', 'indices:admin/template/put', 'indices:admin/index_template/get', 'indices:admin/index_template/put'],
        index_permissions: [{index_patterns: [indexPattern], allowed_actions: ['crud', 'create_index', 'indices:admin/mapping/put']}],
      },
    }),
    'roles_mapping.yml': y({
      ...META('rolesmapping'),
      all_access: {reserved: false, backend_roles: ['admin'], description: 'admin has all access'},
      security_rest_api_access: {reserved: false, backend_roles: ['admin']},
      fluentbit_writer: {reserved: true, users: [FLUENTBIT_OPENSEARCH_USER]},
    }),
    'action_groups.yml': y(META('actiongroups')),
    'tenants.yml': y(META('tenants')),
    'nodes_dn.yml': y(META('nodesdn')),
    'allowlist.yml': y({...META('allowlist'), config: {enabled: false}}),
    'audit.yml': y({...META('audit'), config: {enabled: false}}),
  }
}

// ---------------------------------------------------------------------------------------------
// what each cluster gets

export interface SecretsContext {
  platform: Platform
  cluster: Cluster
  values: SecretValues
  /** bcrypt hashes for the security config (reusing live hashes that still match) */
  hashes?: {admin: string; fluentbit: string}
}

export function wantedSecrets(x: SecretsContext): WantedSecret[] {
  const {platform: p, cluster: c, values: v} = x
  const central = centralCluster(p)
  const out: WantedSecret[] = []
  const opaque = 'Opaque'
  if (c.name === central.name) {
    out.push(
      {
        namespace: NAMESPACES.monitoring,
        name: SECRET_NAMES.thanosObjstore,
        type: opaque,
        data: {'objstore.yml': thanosObjstoreYaml(p, v.s3), ...(p.s3.caFile && v.s3Ca ? {'ca.crt': v.s3Ca} : {})},
        purpose: `Thanos object storage (bucket ${p.s3.buckets.metrics.name})`,
      },
      {namespace: NAMESPACES.monitoring, name: SECRET_NAMES.grafanaAdmin, type: opaque, data: {'admin-user': GRAFANA_ADMIN_USER, 'admin-password': v.grafanaAdminPassword}, purpose: 'Grafana admin login'},
      {namespace: NAMESPACES.logging, name: SECRET_NAMES.opensearchAdmin, type: opaque, data: {username: OPENSEARCH_ADMIN_USER, password: v.opensearchAdminPassword}, purpose: 'OpenSearch admin (operator, Dashboards, setup Job)'},
      {
        namespace: NAMESPACES.logging,
        name: SECRET_NAMES.opensearchKeystore,
        type: opaque,
        data: {'s3.client.default.access_key': v.s3.accessKey, 's3.client.default.secret_key': v.s3.secretKey},
        purpose: `OpenSearch keystore: S3 snapshot repository (bucket ${p.s3.buckets.snapshots.name})`,
      },
    )
    if (x.hashes) {
      out.push({namespace: NAMESPACES.logging, name: SECRET_NAMES.opensearchSecurityConfig, type: opaque, data: securityConfigFiles(x.hashes), purpose: 'OpenSearch security config (admin and fluentbit users as bcrypt hashes)'})
    }
  }
  const longhorn: Record<string, string> = {AWS_ACCESS_KEY_ID: v.s3.accessKey, AWS_SECRET_ACCESS_KEY: v.s3.secretKey, AWS_ENDPOINTS: new URL(p.s3.endpoint).origin}
  if (!p.s3.pathStyle) longhorn.VIRTUAL_HOSTED_STYLE = 'true'
  if (v.s3Ca) longhorn.AWS_CERT = v.s3Ca
  out.push({namespace: NAMESPACES.longhorn, name: SECRET_NAMES.longhornBackup, type: opaque, data: longhorn, purpose: `Longhorn backup target (bucket ${p.s3.buckets.backups.name})`})
  const fb: Record<string, string> = {username: FLUENTBIT_OPENSEARCH_USER, password: v.fluentbitPassword}
  if (v.opensearchCa) fb['ca.crt'] = v.opensearchCa
  out.push({namespace: NAMESPACES.logging, name: SECRET_NAMES.fluentbitOpensearch, type: opaque, data: fb, purpose: 'Fluent Bit output to the central OpenSearch'})
  return out
}

/** Names and keys only: what a cluster gets, for fingerprints, plans and dry runs. */
export function secretShapes(p: Platform, c: Cluster, opts: {opensearchCa?: boolean; s3Ca?: boolean} = {}): {namespace: string; name: string; keys: string[]; purpose: string}[] {
  const dummy: SecretValues = {
    s3: {accessKey: '-', secretKey: '-'},
    opensearchAdminPassword: '-',
    fluentbitPassword: '-',
    grafanaAdminPassword: '-',
    opensearchCa: opts.opensearchCa ? '-' : undefined,
    s3Ca: opts.s3Ca ? '-' : undefined,
    generated: [],
    sources: {},
  }
  return wantedSecrets({platform: p, cluster: c, values: dummy, hashes: {admin: '-', fluentbit: '-'}}).map((s) => ({namespace: s.namespace, name: s.name, keys: Object.keys(s.data).sort(), purpose: s.purpose}))
}

// ---------------------------------------------------------------------------------------------
// values: env, prompt, the cluster, or generated

export interface ResolveOptions {
  /** --generate-passwords: generate OpenSearch/Grafana passwords that are neither set nor in the cluster */
  generate?: boolean
  /** --opensearch-ca-file (else $OBSCTL_OPENSEARCH_CA_FILE, else the central opensearch-http-tls ca.crt) */
  opensearchCaFile?: string
  /** S3 credentials already resolved */
  s3?: SecretValues['s3']
  /** the central cluster, to keep the values a previous run stored */
  central?: () => Promise<Kube>
}

export function generatePassword(): string {
  return randomBytes(24).toString('base64url')
}

async function liveValue(kube: Kube | undefined, namespace: string, name: string, key: string): Promise<string | undefined> {
  if (!kube) return undefined
  const s = await kube.get<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', name, namespace)
  const b64 = s?.data?.[key]
  return b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined
}

function readPem(file: string, what: string, hint: string): string {
  let pem: string
  try {
    pem = readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read ${what} ${file}: ${errorMessage(error)}`, [hint], 'SECRETS_CA_FILE')
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw inputError(`${what} ${file} holds no PEM certificate`, [hint], 'SECRETS_CA_FILE')
  return pem
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
    const {resolveCredentials} = await import('../s3/client.js')
    s3 = await resolveCredentials(p)
  }
  const kube = opts.central ? await opts.central() : undefined
  const generated: string[] = []
  const sources: Record<string, string> = {s3: `$${p.s3.accessKeyEnv}/$${p.s3.secretKeyEnv}`}
  const missing: {what: string; env: string}[] = []

  const password = async (what: string, env: string, live: () => Promise<string | undefined>): Promise<string> => {
    const fromEnv = process.env[env]
    if (fromEnv) {
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
      const {password: ask} = await import('@inquirer/prompts')
      sources[what] = 'prompt'
      return ask({message: `${what} (not set in $${env})`, mask: '*', validate: (x) => (x.length >= 8 ? true : 'at least 8 characters')})
    }
    missing.push({what, env})
    return ''
  }
  const central = centralCluster(p)
  const opensearchAdminPassword = await password('OpenSearch admin password', ENV.opensearchAdminPassword, () => liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'password'))
  const fluentbitPassword = await password('Fluent Bit OpenSearch password', ENV.fluentbitPassword, () => liveValue(kube, NAMESPACES.logging, SECRET_NAMES.fluentbitOpensearch, 'password'))
  const grafanaAdminPassword = await password('Grafana admin password', ENV.grafanaAdminPassword, () => liveValue(kube, NAMESPACES.monitoring, SECRET_NAMES.grafanaAdmin, 'admin-password'))
  if (missing.length > 0) {
    throw inputError(
      `${missing.map((m) => m.what).join(', ')}: not set, and obsctl does not prompt without a terminal (or with CI set)`,
      [`export ${missing.map((m) => `${m.env}=…`).join(' ')}`, 'or pass --generate-passwords (add --show-generated to print them once)'],
      'SECRETS_MISSING',
    )
  }

  const caHint = `--opensearch-ca-file PATH (or $${ENV.opensearchCaFile}): the PEM CA that signed the central OpenSearch HTTP certificate`
  const caFile = opts.opensearchCaFile ?? process.env[ENV.opensearchCaFile]
  let opensearchCa: string | undefined
  if (caFile) {
    opensearchCa = readPem(path.resolve(caFile), 'the OpenSearch CA file', caHint)
    sources.opensearchCa = caFile
  } else {
    opensearchCa = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchHttpTls, 'ca.crt')
    if (opensearchCa) sources.opensearchCa = `${NAMESPACES.logging}/${SECRET_NAMES.opensearchHttpTls} on ${central.name}`
  }
  let s3Ca: string | undefined
  if (p.s3.caFile) {
    const f = path.resolve(inv.dir, p.s3.caFile)
    s3Ca = readPem(f, 'the S3 CA file (s3.caFile)', 'fix s3.caFile in the inventory')
  }
  return {s3, opensearchAdminPassword, fluentbitPassword, grafanaAdminPassword, opensearchCa, s3Ca, generated, sources}
}

// ---------------------------------------------------------------------------------------------
// applying

export type SecretAction = 'created' | 'updated' | 'unchanged'

export interface SecretResult {
  namespace: string
  name: string
  keys: string[]
  action: SecretAction | 'would-apply'
}

type SecretObject = KubeObject & {type?: string; data?: Record<string, string>}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The live Secret already holds exactly these keys and values, with our label. */
export function secretMatches(live: SecretObject | undefined, want: WantedSecret): boolean {
  if (!live) return false
  if ((live.type ?? 'Opaque') !== want.type) return false
  if (live.metadata.labels?.['app.kubernetes.io/managed-by'] !== MANAGED_BY['app.kubernetes.io/managed-by']) return false
  const data = live.data ?? {}
  const keys = Object.keys(want.data)
  if (Object.keys(data).length !== keys.length) return false
  return keys.every((k) => data[k] !== undefined && sameBytes(data[k]!, Buffer.from(want.data[k]!, 'utf8').toString('base64')))
}

function toObject(s: WantedSecret): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: s.name, namespace: s.namespace, labels: {...MANAGED_BY}},
    type: s.type,
    data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  }
}

/** bcrypt hashes for the security config, reusing a live hash when it still matches the password. */
export async function securityHashes(kube: Kube, v: SecretValues): Promise<{admin: string; fluentbit: string}> {
  const bcrypt = (await import('bcryptjs')).default
  const live = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchSecurityConfig, 'internal_users.yml')
  let users: Record<string, {hash?: string}> = {}
  try {
    users = (live ? YAML.parse(live) : {}) ?? {}
  } catch {
    users = {}
  }
  const hashFor = async (user: string, password: string) => {
    const old = users[user]?.hash
    if (old && (await bcrypt.compare(password, old))) return old
    return bcrypt.hash(password, 12)
  }
  return {admin: await hashFor(OPENSEARCH_ADMIN_USER, v.opensearchAdminPassword), fluentbit: await hashFor(FLUENTBIT_OPENSEARCH_USER, v.fluentbitPassword)}
}

/** Namespaces the Secrets go to: created when missing (never modified when present). */
export async function ensureNamespaces(kube: Kube, names: string[], log: (line: string) => void): Promise<string[]> {
  const created: string[] = []
  for (const ns of [...new Set(names)]) {
    if (await kube.get('v1', 'Namespace', ns)) continue
    await kube.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns, labels: {...MANAGED_BY}}})
    log(`created namespace ${ns}`)
    created.push(ns)
  }
  return created
}

/** Apply one cluster's Secrets (server-side apply, field manager obsctl); only what differs is sent. */
export async function applyClusterSecrets(kube: Kube, x: Omit<SecretsContext, 'hashes'>, log: (line: string) => void = () => undefined): Promise<{namespaces: string[]; secrets: SecretResult[]}> {
  const isCentral = x.cluster.name === centralCluster(x.platform).name
  const hashes = isCentral ? await securityHashes(kube, x.values) : undefined
  const wanted = wantedSecrets({...x, hashes})
  const namespaces = await ensureNamespaces(kube, wanted.map((s) => s.namespace), log)
  const results: SecretResult[] = []
  for (const s of wanted) {
    const live = await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace)
    const keys = Object.keys(s.data).sort()
    if (secretMatches(live, s)) {
      log(`${s.namespace}/${s.name}: unchanged (keys ${keys.join(', ')})`)
      results.push({namespace: s.namespace, name: s.name, keys, action: 'unchanged'})
      continue
    }
    // a Secret of another type cannot change type in place
    if (live && (live.type ?? 'Opaque') !== s.type) {
      throw inputError(`${describeObject(toObject(s))} on ${kube.context} exists with type ${live.type}, not ${s.type}`, [`delete it (kubectl --context ${kube.context} -n ${s.namespace} delete secret ${s.name}) and rerun`], 'SECRET_TYPE')
    }
    await kube.apply(toObject(s))
    const action: SecretAction = live ? 'updated' : 'created'
    log(`${s.namespace}/${s.name}: ${action} (keys ${keys.join(', ')})`)
    results.push({namespace: s.namespace, name: s.name, keys, action})
  }
  return {namespaces, secrets: results}
}

/** Live check: every Secret of the cluster already matches (no write). */
export async function clusterSecretsMatch(kube: Kube, x: Omit<SecretsContext, 'hashes'>): Promise<boolean> {
  const isCentral = x.cluster.name === centralCluster(x.platform).name
  let hashes: SecretsContext['hashes']
  if (isCentral) {
    // reuse only: a live hash that does not verify means "not done"
    const bcrypt = (await import('bcryptjs')).default
    const live = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchSecurityConfig, 'internal_users.yml')
    const users = ((live ? YAML.parse(live) : {}) ?? {}) as Record<string, {hash?: string}>
    const a = users[OPENSEARCH_ADMIN_USER]?.hash
    const f = users[FLUENTBIT_OPENSEARCH_USER]?.hash
    if (!a || !f || !(await bcrypt.compare(x.values.opensearchAdminPassword, a)) || !(await bcrypt.compare(x.values.fluentbitPassword, f))) return false
    hashes = {admin: a, fluentbit: f}
  }
  for (const s of wantedSecrets({...x, hashes})) {
    if (!secretMatches(await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace), s)) return false
  }
  return true
}
