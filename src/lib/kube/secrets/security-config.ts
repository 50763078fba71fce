/** The OpenSearch security plugin's configuration (config.yml, internal_users.yml with bcrypt hashes, roles, mappings). */
import {yaml} from '../../lazy-deps.js'
import {GRAFANA_OPENSEARCH_USER, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import type {Kube} from '../../platform/kube.js'
import {OPENSEARCH_ADMIN_USER, fluentbitPasswordFor, fluentbitUser, liveValue, type SecretValues} from './shared.js'

const META = (type: string) => ({_meta: {type, config_version: 2}})

/** The OpenSearch security plugin's config directory (all files the operator's securityadmin loads). */
export function securityConfigFiles(hashes: SecurityHashes, indexPattern = 'fluent-bit-*'): Record<string, string> {
  const y = (o: unknown) => yaml().stringify(o, {lineWidth: 0})
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
      // not reserved: cluster remove revokes one through the security REST API (reserved users are read-only there)
      ...Object.fromEntries(
        Object.entries(hashes.fluentbit).map(([cluster, hash]) => [
          fluentbitUser(cluster),
          {hash, reserved: false, backend_roles: [], description: `Fluent Bit log shipping from ${cluster} (obsctl secrets apply)`},
        ]),
      ),
      [GRAFANA_OPENSEARCH_USER]: {
        hash: hashes.grafana,
        reserved: true,
        backend_roles: [],
        description: "Grafana's logs datasource, read-only (obsctl secrets apply)",
      },
    }),
    'roles.yml': y({
      ...META('roles'),
      fluentbit_writer: {
        reserved: true,
        description: 'write the daily log indices',
        cluster_permissions: [
          'cluster_monitor',
          'cluster_composite_ops',
          'indices:admin/template/get',
          'indices:admin/template/put',
          'indices:admin/index_template/get',
          'indices:admin/index_template/put',
        ],
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
      fluentbit_writer: {reserved: false, users: Object.keys(hashes.fluentbit).map(fluentbitUser)},
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
  /** cluster name → bcrypt hash of its Fluent Bit user's password (fluentbitUser(cluster)) */
  fluentbit: Record<string, string>
  grafana: string
}

/** The bcrypt cost of the users whose passwords a person chooses or may (admin, grafana): OpenSearch's own default. */
const PERSON_COST = 12

/**
 * The bcrypt cost of each cluster's Fluent Bit user: bcrypt's minimum. Its password is 240 bits of HMAC-SHA256 output
 * (fluentbitPasswordFor), which no work factor makes harder to guess; the plain password is in the edge's Fluent Bit
 * Secret, and its key in central's. At OpenSearch's 12 every hash was ~0.3 s of CPU here (bcryptjs), and
 * central's security config holds one user a cluster, each hashed or compared at every run: ~5 minutes of one core
 * for `secrets apply` over 1,000 clusters; OpenSearch pays the same cost at every Fluent Bit sign-in its cache
 * does not answer. A hash of another cost (written before) is replaced once, not compared.
 */
export const FLUENTBIT_HASH_COST = 4

/**
 * A live hash of a user's password that can stay: of `password`, and of `requiredCost` when one is given (read from the
 * hash, never compared otherwise). A person's user keeps a matching hash of any cost.
 */
async function hashStays(password: string, hash: string | undefined, requiredCost?: number): Promise<boolean> {
  if (typeof hash !== 'string' || !hash) return false
  const bcrypt = (await import('bcryptjs')).default
  if (requiredCost !== undefined && bcrypt.getRounds(hash) !== requiredCost) return false
  return bcrypt.compare(password, hash)
}

/** A Fluent Bit user's live hash that can stay (its password's, of FLUENTBIT_HASH_COST). */
export const fluentbitHashStays = (password: string, hash: string | undefined) => hashStays(password, hash, FLUENTBIT_HASH_COST)

/** bcrypt hashes for the security config, reusing a live hash when it still matches the password. */
export async function securityHashes(kube: Kube, v: SecretValues, clusters: string[]): Promise<SecurityHashes> {
  const bcrypt = (await import('bcryptjs')).default
  const live = await liveValue(kube, NAMESPACES.logging, SECRET_NAMES.opensearchSecurityConfig, 'internal_users.yml')
  let users: Record<string, {hash?: string}> = {}
  try {
    users = (live ? yaml().parse(live) : {}) ?? {}
  } catch {
    users = {}
  }
  // a person's user: a matching hash of any cost stays, a new one is of PERSON_COST
  const personHash = async (user: string, password: string) => {
    const old = users[user]?.hash
    return (await hashStays(password, old)) ? old! : bcrypt.hash(password, PERSON_COST)
  }
  const fluentbitHash = async (cluster: string) => {
    const old = users[fluentbitUser(cluster)]?.hash
    const password = fluentbitPasswordFor(v.fluentbitPassword, cluster)
    return (await fluentbitHashStays(password, old)) ? old! : bcrypt.hash(password, FLUENTBIT_HASH_COST)
  }
  return {
    admin: await personHash(OPENSEARCH_ADMIN_USER, v.opensearchAdminPassword),
    fluentbit: Object.fromEntries(await Promise.all(clusters.map(async (c) => [c, await fluentbitHash(c)] as const))),
    grafana: await personHash(GRAFANA_OPENSEARCH_USER, v.grafanaOpensearchPassword),
  }
}

/**
 * An edge's secrets run (cluster add, secrets apply NAME) puts its own Fluent Bit user into central's
 * security config Secret (internal_users.yml + the fluentbit_writer mapping), keeping every other file and
 * user as they are. Nothing to do when central has no security config yet (central's own run writes it
 * whole) or it already holds a hash of this password. Returns what was done.
 */
export async function ensureFluentbitUser(
  central: Kube,
  cluster: string,
  v: Pick<SecretValues, 'fluentbitPassword'>,
): Promise<'added' | 'updated' | 'unchanged' | 'no-security-config'> {
  const live = await central.get<{
    apiVersion: string
    kind: string
    metadata: {name: string; labels?: Record<string, string>}
    type?: string
    data?: Record<string, string>
  }>('v1', 'Secret', SECRET_NAMES.opensearchSecurityConfig, NAMESPACES.logging)
  if (!live?.data?.['internal_users.yml']) return 'no-security-config'
  const dec = (k: string) => Buffer.from(live.data?.[k] ?? '', 'base64').toString('utf8')
  const users = (yaml().parse(dec('internal_users.yml')) ?? {}) as Record<string, {hash?: string}>
  const mapping = (yaml().parse(dec('roles_mapping.yml') || '{}') ?? {}) as Record<string, {users?: string[]; reserved?: boolean}>
  const bcrypt = (await import('bcryptjs')).default
  const user = fluentbitUser(cluster)
  const password = fluentbitPasswordFor(v.fluentbitPassword, cluster)
  const old = users[user]?.hash
  const mapped = mapping.fluentbit_writer?.users?.includes(user) ?? false
  if (mapped && (await fluentbitHashStays(password, old))) return 'unchanged'
  users[user] = {
    hash: await bcrypt.hash(password, FLUENTBIT_HASH_COST),
    reserved: false,
    backend_roles: [],
    description: `Fluent Bit log shipping from ${cluster} (obsctl secrets apply)`,
  } as {hash: string}
  mapping.fluentbit_writer = {...mapping.fluentbit_writer, reserved: false, users: [...new Set([...(mapping.fluentbit_writer?.users ?? []), user])]}
  const enc = (o: unknown) => Buffer.from(yaml().stringify(o, {lineWidth: 0})).toString('base64')
  // the whole Secret, server-side applied by obsctl (which owns all of it): a partial apply would drop the other files
  await central.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: SECRET_NAMES.opensearchSecurityConfig, namespace: NAMESPACES.logging, labels: live.metadata.labels},
    type: live.type ?? 'Opaque',
    data: {...live.data, 'internal_users.yml': enc(users), 'roles_mapping.yml': enc(mapping)},
  })
  return old ? 'updated' : 'added'
}
