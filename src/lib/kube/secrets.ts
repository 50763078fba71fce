/**
 * `obsctl secrets apply` (the `secrets` phase): the credentials the rendered GitOps repo references by
 * name (SECRET_NAMES) are created in the clusters directly, never in Git.
 *
 *   central  monitoring  thanos-objstore                   objstore.yml (Thanos S3 config)
 *   central  monitoring  grafana-admin-credentials         admin-user, admin-password
 *   central  logging     opensearch-admin-credentials      username, password
 *   central  logging     opensearch-s3-keystore            s3.client.default.access_key, s3.client.default.secret_key
 *   central  logging     opensearch-security-config        config.yml, internal_users.yml (bcrypt hashes), roles.yml, …
 *   central  logging     opensearch-http-tls               tls.crt, tls.key, ca.crt (kubernetes.io/tls; OpenSearch's HTTP certificate)
 *   central  monitoring  obsctl-ingress-tls                tls.crt, tls.key, ca.crt (kubernetes.io/tls; grafana, thanos-query, thanos-receive)
 *   central  logging     obsctl-ingress-tls                tls.crt, tls.key, ca.crt (kubernetes.io/tls; opensearch-dashboards)
 *   every    longhorn-system longhorn-backup-credentials   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINTS (+ AWS_CERT)
 *   every    logging     fluentbit-opensearch-credentials  username, password (+ ca.crt: the central OpenSearch CA)
 *   central  monitoring  grafana-opensearch-credentials    username, password (+ ca.crt): Grafana's OpenSearch datasource (read-only user grafana)
 *   central  monitoring  alertmanager-receivers            <receiver>.<what>: the URLs, keys and passwords of alerting.receivers (when any)
 *   agent    monitoring  obsctl-platform-ca                ca.crt: the CA of the central ingresses (the Prometheus Agent verifies Thanos Receive)
 *
 * Values live only in memory: from env vars, a prompt on a terminal, the cluster itself (a rerun keeps
 * what is there) or, with --generate-passwords, crypto.randomBytes. Nothing here logs or returns a value.
 * Grafana's OpenSearch password is a machine credential nobody types: env var, else the cluster's, else
 * generated. Alert receivers' values come only from the env vars the inventory names (a missing one is
 * bad input naming the inventory's file:line).
 *
 * The two TLS Secrets hold certificates issued from the platform CA kept beside the inventory
 * (.obsctl/pki/ca.crt and ca.key, mode 0600; see pki.ts), their keys only in memory. A live certificate
 * of obsctl's (label app.kubernetes.io/managed-by=obsctl) that is still right (issued by this CA, more
 * than 30 days left, valid for every wanted host) is reused as it is; any other is replaced. A TLS
 * Secret without that label is the user's own certificate (their PKI): never touched, reported as
 * "kept". Fluent Bit's ca.crt follows what the central OpenSearch serves.
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import {receiverSecrets} from '../config/alerting.js'
import {formatPath, formatPosition, type LoadedInventory} from '../config/load.js'
import {PASSWORD_ENV, passwordProblem, type PasswordKind} from '../config/passwords.js'
import {centralCluster, GRAFANA_OPENSEARCH_USER, metricsMode, NAMESPACES, SECRET_NAMES, serviceHost, serviceUrl} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {canPrompt} from '../cli/prompt.js'
import {fsReason, inputError} from '../errors.js'
import {SERVICES} from '../platform/catalogue.js'
import {describeObject, type Kube, type KubeObject} from '../platform/kube.js'

export const ENV = {
  opensearchAdminPassword: PASSWORD_ENV.opensearchAdmin,
  fluentbitPassword: PASSWORD_ENV.fluentbitOpensearch,
  grafanaAdminPassword: PASSWORD_ENV.grafanaAdmin,
  opensearchCaFile: 'OBSCTL_OPENSEARCH_CA_FILE',
  grafanaOpensearchPassword: PASSWORD_ENV.grafanaOpensearch,
} as const

export const OPENSEARCH_ADMIN_USER = 'admin'
export const FLUENTBIT_OPENSEARCH_USER = 'fluentbit'
export const GRAFANA_ADMIN_USER = 'admin'
export {GRAFANA_OPENSEARCH_USER}
export const MANAGED_BY = {'app.kubernetes.io/managed-by': 'obsctl'}

/** Every value `secrets apply` writes, held in memory for one run. */
export interface SecretValues {
  s3: {accessKey: string; secretKey: string}
  opensearchAdminPassword: string
  fluentbitPassword: string
  grafanaAdminPassword: string
  /** Grafana's OpenSearch datasource (user grafana) */
  grafanaOpensearchPassword: string
  /** alert receivers' values by key of the Secret alertmanager-receivers (config/alerting.ts receiverSecrets) */
  alerting: Record<string, string>
  /** PEM of the CA that signed the central OpenSearch's HTTP certificate (Fluent Bit verifies with it) */
  opensearchCa?: string
  /** PEM of the S3 endpoint's private CA (s3.caFile), for Longhorn's AWS_CERT */
  s3Ca?: string
  /** PEM of the CA of the central ingresses' certificate (the platform CA when obsctl issues it): agent edges trust Thanos Receive with it */
  ingressCa?: string
  /** the central TLS Secrets, one entry per namespace/name (absent: none are written) */
  tls?: TlsResolution[]
  /** the platform CA certificate's file, when this run needed the CA (created: in this run) */
  platformCa?: {file: string; created: boolean}
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
export function securityConfigFiles(hashes: SecurityHashes, indexPattern = 'fluent-bit-*'): Record<string, string> {
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
      [GRAFANA_OPENSEARCH_USER]: {hash: hashes.grafana, reserved: true, backend_roles: [], description: "Grafana's logs datasource, read-only (obsctl secrets apply)"},
    }),
    'roles.yml': y({
      ...META('roles'),
      fluentbit_writer: {
        reserved: true,
        description: 'write the daily log indices',
        cluster_permissions: ['cluster_monitor', 'cluster_composite_ops', 'indices:admin/template/get', 'indices:admin/template/put', 'indices:admin/index_template/get', 'indices:admin/index_template/put'],
        index_permissions: [{index_patterns: [indexPattern], allowed_actions: ['crud', 'create_index', 'indices:admin/mapping/put']}],
      },
      // Grafana's OpenSearch datasource: search, field mappings and the cluster version, nothing that writes
      grafana_reader: {
        reserved: true,
        description: 'read the log indices (Grafana)',
        cluster_permissions: ['cluster_monitor', 'cluster_composite_ops_ro'],
        index_permissions: [{index_patterns: [indexPattern], allowed_actions: ['read', 'indices:admin/mappings/get', 'indices:admin/get']}],
      },
    }),
    'roles_mapping.yml': y({
      ...META('rolesmapping'),
      all_access: {reserved: false, backend_roles: ['admin'], description: 'admin has all access'},
      security_rest_api_access: {reserved: false, backend_roles: ['admin']},
      fluentbit_writer: {reserved: true, users: [FLUENTBIT_OPENSEARCH_USER]},
      grafana_reader: {reserved: true, users: [GRAFANA_OPENSEARCH_USER]},
    }),
    'action_groups.yml': y(META('actiongroups')),
    'tenants.yml': y(META('tenants')),
    'nodes_dn.yml': y(META('nodesdn')),
    'allowlist.yml': y({...META('allowlist'), config: {enabled: false}}),
    'audit.yml': y({...META('audit'), config: {enabled: false}}),
  }
}

/** bcrypt hashes of the OpenSearch internal users obsctl manages */
export interface SecurityHashes {
  admin: string
  fluentbit: string
  grafana: string
}

// ---------------------------------------------------------------------------------------------
// TLS: which certificates the central cluster serves

export const TLS_SECRET_TYPE = 'kubernetes.io/tls'

/** One TLS Secret name, the namespaces it is mounted in (one certificate for all) and its hosts. */
export interface TlsSecretSpec {
  name: string
  namespaces: string[]
  /** subjectAltNames (DNS names, or IP addresses when the inventory's endpoints use them) */
  hosts: string[]
  commonName: string
  purpose: string
}

/** TLS material of one Secret (PEM), in memory only. */
export interface TlsMaterial {
  crt: string
  key: string
  ca: string
}

export interface TlsResolution {
  namespace: string
  name: string
  /** kept: the user's own Secret (no managed-by label), left alone; reused: obsctl's, still right; issued: new this run */
  origin: 'kept' | 'reused' | 'issued'
  /** why a certificate was issued (hosts and dates only) */
  reason?: string
  /** kept: the live Secret's keys (names only) */
  keys?: string[]
  /** reused / issued: what the Secret gets */
  material?: TlsMaterial
}

/** The host part of a URL (IPv6 without brackets). */
function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
}

/** The central ingresses' hosts as the templates render them (`it.host(service)` in gitops/context.ts). */
export const INGRESS_TLS_SERVICES = ['grafana', 'thanos-query', 'thanos-receive', 'opensearch-dashboards'] as const

export function tlsSecretSpecs(p: Platform): TlsSecretSpec[] {
  const central = centralCluster(p)
  const os = SERVICES.opensearch
  const inCluster = [os.name, `${os.name}.${os.namespace}`, `${os.name}.${os.namespace}.svc`, `${os.name}.${os.namespace}.svc.cluster.local`]
  const osHosts = [...inCluster, serviceHost(p, central, 'opensearch'), ...(p.endpoints.opensearch ? [urlHost(p.endpoints.opensearch)] : [])]
  // the wildcard of the central cluster's service hosts (<service>.k8s-cluster-<id>.<domain>)
  const wildcard = serviceHost(p, central, '*')
  const ingressHosts = [wildcard, ...INGRESS_TLS_SERVICES.map((s) => urlHost(serviceUrl(p, central, s)))]
  const uniq = (xs: string[]) => [...new Set(xs)]
  return [
    {name: SECRET_NAMES.opensearchHttpTls, namespaces: [os.namespace], hosts: uniq(osHosts), commonName: os.name, purpose: 'OpenSearch HTTP TLS (certificate from the platform CA)'},
    {
      name: SECRET_NAMES.ingressTls,
      // the namespaces of the central ingresses that name it: thanos-query, thanos-receive, grafana; opensearch-dashboards
      namespaces: [NAMESPACES.monitoring, NAMESPACES.logging],
      hosts: uniq(ingressHosts),
      commonName: wildcard.length <= 64 ? wildcard : SECRET_NAMES.ingressTls,
      purpose: 'TLS of the central ingresses (certificate from the platform CA)',
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// what each cluster gets

export interface SecretsContext {
  platform: Platform
  cluster: Cluster
  values: SecretValues
  /** bcrypt hashes for the security config (reusing live hashes that still match) */
  hashes?: SecurityHashes
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
      out.push({namespace: NAMESPACES.logging, name: SECRET_NAMES.opensearchSecurityConfig, type: opaque, data: securityConfigFiles(x.hashes), purpose: 'OpenSearch security config (admin, fluentbit and grafana users as bcrypt hashes)'})
    }
    // the TLS Secrets obsctl manages (the user's own are not in the list: never written)
    for (const spec of tlsSecretSpecs(p)) {
      for (const namespace of spec.namespaces) {
        const m = v.tls?.find((t) => t.name === spec.name && t.namespace === namespace)?.material
        if (m) out.push({namespace, name: spec.name, type: TLS_SECRET_TYPE, data: {'tls.crt': m.crt, 'tls.key': m.key, 'ca.crt': m.ca}, purpose: spec.purpose})
      }
    }
    const gos: Record<string, string> = {username: GRAFANA_OPENSEARCH_USER, password: v.grafanaOpensearchPassword}
    if (v.opensearchCa) gos['ca.crt'] = v.opensearchCa
    out.push({namespace: NAMESPACES.monitoring, name: SECRET_NAMES.grafanaOpensearch, type: opaque, data: gos, purpose: "Grafana's OpenSearch datasource (read-only user grafana)"})
    const receivers = receiverSecrets(p.alerting)
    if (receivers.length > 0) {
      const data = Object.fromEntries(receivers.map((r) => [r.key, v.alerting[r.key] ?? '']))
      out.push({namespace: NAMESPACES.monitoring, name: SECRET_NAMES.alertmanagerReceivers, type: opaque, data, purpose: `Alertmanager receivers (${[...new Set(receivers.map((r) => r.receiver))].join(', ')})`})
    }
  }
  const longhorn: Record<string, string> = {AWS_ACCESS_KEY_ID: v.s3.accessKey, AWS_SECRET_ACCESS_KEY: v.s3.secretKey, AWS_ENDPOINTS: new URL(p.s3.endpoint).origin}
  if (!p.s3.pathStyle) longhorn.VIRTUAL_HOSTED_STYLE = 'true'
  if (v.s3Ca) longhorn.AWS_CERT = v.s3Ca
  out.push({namespace: NAMESPACES.longhorn, name: SECRET_NAMES.longhornBackup, type: opaque, data: longhorn, purpose: `Longhorn backup target (bucket ${p.s3.buckets.backups.name})`})
  const fb: Record<string, string> = {username: FLUENTBIT_OPENSEARCH_USER, password: v.fluentbitPassword}
  if (v.opensearchCa) fb['ca.crt'] = v.opensearchCa
  out.push({namespace: NAMESPACES.logging, name: SECRET_NAMES.fluentbitOpensearch, type: opaque, data: fb, purpose: 'Fluent Bit output to the central OpenSearch'})
  if (metricsMode(c) === 'agent' && v.ingressCa) {
    // PrometheusAgent remoteWrite tlsConfig.ca.secret (templates/gitops/edge/…/prometheus-agent.yaml)
    out.push({namespace: NAMESPACES.monitoring, name: SECRET_NAMES.platformCa, type: opaque, data: {'ca.crt': v.ingressCa}, purpose: 'CA of the Thanos Receive ingress, for the Prometheus Agent remote write'})
  }
  return out
}

/** Names and keys only: what a cluster gets, for fingerprints, plans and dry runs. */
export function secretShapes(p: Platform, c: Cluster, opts: {opensearchCa?: boolean; s3Ca?: boolean; ingressCa?: boolean} = {}): {namespace: string; name: string; keys: string[]; purpose: string}[] {
  const dummy: SecretValues = {
    s3: {accessKey: '-', secretKey: '-'},
    opensearchAdminPassword: '-',
    fluentbitPassword: '-',
    grafanaAdminPassword: '-',
    grafanaOpensearchPassword: '-',
    alerting: {},
    opensearchCa: opts.opensearchCa ? '-' : undefined,
    s3Ca: opts.s3Ca ? '-' : undefined,
    ingressCa: opts.ingressCa === false ? undefined : '-',
    tls: tlsSecretSpecs(p).flatMap((s) => s.namespaces.map((namespace) => ({namespace, name: s.name, origin: 'issued' as const, material: {crt: '-', key: '-', ca: '-'}}))),
    generated: [],
    sources: {},
  }
  return wantedSecrets({platform: p, cluster: c, values: dummy, hashes: {admin: '-', fluentbit: '-', grafana: '-'}}).map((s) => ({namespace: s.namespace, name: s.name, keys: Object.keys(s.data).sort(), purpose: s.purpose}))
}

// ---------------------------------------------------------------------------------------------
// values: env, prompt, the cluster, or generated

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
    const pw = randomBytes(24).toString('base64url')
    if ((['opensearchAdmin', 'fluentbitOpensearch', 'grafanaOpensearch'] as const).every((k) => passwordProblem(k, pw) === undefined)) return pw
  }
}

const isManaged = (o: KubeObject | undefined) => o?.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by']
const decoded = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined)

/**
 * The central TLS Secrets: the user's own (unlabelled) are kept; obsctl's are reused while still right
 * (pki.ts certificateProblem), else one new certificate per name is issued for all its namespaces.
 * The platform CA is loaded or created only when obsctl manages at least one of them.
 */
export async function resolveTls(inv: LoadedInventory, kube: Kube): Promise<{tls: TlsResolution[]; platformCa?: {file: string; created: boolean}}> {
  const p = inv.platform
  const pki = await import('./pki.js')
  let ca: Promise<Awaited<ReturnType<typeof pki.ensurePlatformCa>>> | undefined
  const platformCa = () => (ca ??= pki.ensurePlatformCa(inv.dir, p.domain))
  const out: TlsResolution[] = []
  for (const spec of tlsSecretSpecs(p)) {
    const mine: {namespace: string; live?: SecretObject}[] = []
    for (const namespace of spec.namespaces) {
      const live = await kube.get<SecretObject>('v1', 'Secret', spec.name, namespace)
      if (live && !isManaged(live)) out.push({namespace, name: spec.name, origin: 'kept', keys: Object.keys(live.data ?? {}).sort()})
      else mine.push({namespace, live})
    }
    if (mine.length === 0) continue
    const theCa = await platformCa()
    let material: TlsMaterial | undefined
    let reason: string | undefined
    for (const {live} of mine) {
      if (!live) continue
      const crt = decoded(live.data?.['tls.crt'])
      const key = decoded(live.data?.['tls.key'])
      const problem = crt && key ? pki.certificateProblem(crt, key, theCa, spec.hosts) : 'no tls.crt and tls.key'
      if (!problem) {
        material = {crt: crt!, key: key!, ca: theCa.certPem}
        break
      }
      reason ??= problem
    }
    const origin = material ? 'reused' : 'issued'
    if (!material) {
      const c = await pki.issueServerCertificate(theCa, {commonName: spec.commonName, hosts: spec.hosts})
      material = {crt: c.certPem, key: c.keyPem, ca: theCa.certPem}
      reason ??= 'none yet'
    }
    for (const {namespace} of mine) out.push({namespace, name: spec.name, origin, material, ...(origin === 'issued' ? {reason} : {})})
  }
  const used = ca ? await ca : undefined
  return {tls: out, platformCa: used ? {file: used.certFile, created: used.created} : undefined}
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
    throw inputError(`cannot read ${what} ${file}: ${fsReason(error)}`, [hint], 'SECRETS_CA_FILE')
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
  const alerting = alertingValues(inv)
  const kube = opts.central ? await opts.central() : undefined
  const generated: string[] = []
  const sources: Record<string, string> = {s3: `$${p.s3.accessKeyEnv}/$${p.s3.secretKeyEnv}`}
  const missing: {what: string; env: string}[] = []

  const password = async (what: string, kind: PasswordKind, live: () => Promise<string | undefined>): Promise<string> => {
    const env = PASSWORD_ENV[kind]
    const fromEnv = process.env[env]
    if (fromEnv) {
      // checked before anything is applied: the consumer (OpenSearch, Grafana) would refuse it later
      const problem = passwordProblem(kind, fromEnv)
      if (problem) throw inputError(`$${env} (${what}) ${problem}`, [`export ${env}=… with a password that passes`, 'or unset it and pass --generate-passwords'], 'WEAK_PASSWORD')
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
      return ask({message: `${what} (not set in $${env})`, mask: '*', validate: (x) => {
        const problem = passwordProblem(kind, x)
        return problem ? `it ${problem}` : true
      }})
    }
    missing.push({what, env})
    return ''
  }
  const central = centralCluster(p)
  const opensearchAdminPassword = await password('OpenSearch admin password', 'opensearchAdmin', () => liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'password'))
  const fluentbitPassword = await password('Fluent Bit OpenSearch password', 'fluentbitOpensearch', () => liveValue(kube, NAMESPACES.logging, SECRET_NAMES.fluentbitOpensearch, 'password'))
  const grafanaAdminPassword = await password('Grafana admin password', 'grafanaAdmin', () => liveValue(kube, NAMESPACES.monitoring, SECRET_NAMES.grafanaAdmin, 'admin-password'))
  // a machine credential (Grafana's datasource): env, else the cluster's, else generated without asking
  let grafanaOpensearchPassword = process.env[ENV.grafanaOpensearchPassword]
  const grafanaOsProblem = grafanaOpensearchPassword ? passwordProblem('grafanaOpensearch', grafanaOpensearchPassword) : undefined
  if (grafanaOsProblem) throw inputError(`$${ENV.grafanaOpensearchPassword} (Grafana OpenSearch password) ${grafanaOsProblem}`, [`export ${ENV.grafanaOpensearchPassword}=… with a password that passes, or unset it (obsctl generates one)`], 'WEAK_PASSWORD')
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
    sources[`${t.namespace}/${t.name}`] = t.origin === 'kept' ? 'cluster (yours, left alone)' : t.origin === 'reused' ? 'cluster (reused)' : `new from the platform CA: ${t.reason}`
  }
  if (platformCa) sources.platformCa = `${platformCa.file}${platformCa.created ? ' (created in this run)' : ''}`

  const caHint = `--opensearch-ca-file PATH (or $${ENV.opensearchCaFile}): the PEM CA that signed the central OpenSearch HTTP certificate`
  const caFile = opts.opensearchCaFile ?? process.env[ENV.opensearchCaFile]
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
  let s3Ca: string | undefined
  if (p.s3.caFile) {
    const f = path.resolve(inv.dir, p.s3.caFile)
    s3Ca = readPem(f, 'the S3 CA file (s3.caFile)', 'fix s3.caFile in the inventory')
  }
  for (const r of receiverSecrets(p.alerting)) sources[`alerting ${r.key}`] = `$${r.env}`
  return {s3, opensearchAdminPassword, fluentbitPassword, grafanaAdminPassword, grafanaOpensearchPassword, alerting, opensearchCa, s3Ca, ingressCa, tls, platformCa, generated, sources}
}

/**
 * The alert receivers' values from the env vars the inventory names (alerting.receivers[].*Env). Only from
 * the environment: a missing one is bad input naming the inventory field (file:line) that names it.
 */
export function alertingValues(inv: LoadedInventory): Record<string, string> {
  const out: Record<string, string> = {}
  const missing: string[] = []
  for (const r of receiverSecrets(inv.platform.alerting)) {
    const value = process.env[r.env]
    if (value) out[r.key] = value
    else missing.push(`${formatPosition(inv.positionOf(r.at))}: ${formatPath(r.at)}: $${r.env} is not set (receiver ${r.receiver}, ${r.kind})`)
  }
  if (missing.length > 0) {
    throw inputError(
      `alert receivers need env vars that are not set:\n${missing.join('\n')}`,
      [`export ${[...new Set(receiverSecrets(inv.platform.alerting).filter((r) => !process.env[r.env]).map((r) => r.env))].map((e) => `${e}=…`).join(' ')}`, 'the values go into the Secret monitoring/alertmanager-receivers, never into Git, argv or logs'],
      'ALERTING_ENV_MISSING',
    )
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// applying

export type SecretAction = 'created' | 'updated' | 'unchanged'

export interface SecretResult {
  namespace: string
  name: string
  keys: string[]
  /** kept: the user's own TLS Secret (without obsctl's label), left alone */
  action: SecretAction | 'kept' | 'would-apply'
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
  if (!isManaged(live)) return false
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
export async function securityHashes(kube: Kube, v: SecretValues): Promise<SecurityHashes> {
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
  return {
    admin: await hashFor(OPENSEARCH_ADMIN_USER, v.opensearchAdminPassword),
    fluentbit: await hashFor(FLUENTBIT_OPENSEARCH_USER, v.fluentbitPassword),
    grafana: await hashFor(GRAFANA_OPENSEARCH_USER, v.grafanaOpensearchPassword),
  }
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
  if (isCentral) {
    for (const t of x.values.tls ?? []) {
      if (t.origin === 'kept') {
        log(`${t.namespace}/${t.name}: kept (no label app.kubernetes.io/managed-by=obsctl: your own certificate, left alone)`)
        results.push({namespace: t.namespace, name: t.name, keys: t.keys ?? [], action: 'kept'})
      } else if (t.origin === 'issued') {
        log(`${t.namespace}/${t.name}: new certificate from the platform CA (${t.reason})`)
      }
    }
  }
  for (const s of wanted) {
    const live = await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace)
    const keys = Object.keys(s.data).sort()
    if (live && s.type === TLS_SECRET_TYPE && !isManaged(live)) {
      // became the user's since values were resolved: theirs wins
      log(`${s.namespace}/${s.name}: kept (no label app.kubernetes.io/managed-by=obsctl: your own certificate, left alone)`)
      results.push({namespace: s.namespace, name: s.name, keys: Object.keys(live.data ?? {}).sort(), action: 'kept'})
      continue
    }
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
  // in the order of the table (a kept TLS Secret where obsctl's would be)
  const rank = new Map(secretShapes(x.platform, x.cluster, {opensearchCa: true, s3Ca: true}).map((s, i) => [`${s.namespace}/${s.name}`, i]))
  const at = (r: SecretResult) => rank.get(`${r.namespace}/${r.name}`) ?? rank.size
  return {namespaces, secrets: results.sort((a, b) => at(a) - at(b))}
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
    const g = users[GRAFANA_OPENSEARCH_USER]?.hash
    if (!a || !f || !g || !(await bcrypt.compare(x.values.opensearchAdminPassword, a)) || !(await bcrypt.compare(x.values.fluentbitPassword, f)) || !(await bcrypt.compare(x.values.grafanaOpensearchPassword, g))) return false
    hashes = {admin: a, fluentbit: f, grafana: g}
  }
  for (const s of wantedSecrets({...x, hashes})) {
    if (!secretMatches(await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace), s)) return false
  }
  return true
}
