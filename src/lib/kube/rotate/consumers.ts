/**
 * Step 3, the consumers made to use a new password: Grafana through its API, an OpenSearch internal user
 * through the security API and the hash in the security config Secret the operator loads.
 */
import {yaml} from '../../lazy-deps.js'
import {NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import {PASSWORD_ENV} from '../../config/passwords.js'
import {ObsctlError} from '../../errors.js'
import type {HttpClient, Kube} from '../../platform/index.js'
import {OPENSEARCH_ADMIN_USER, decoded, isManaged, type SecretObject} from '../secrets/catalogue.js'
import {ensureFluentbitUser} from '../secrets/security-config.js'
import {basic, writeSecretKeys} from './common.js'
import type {CredentialSpec} from './model.js'

/** Grafana: the admin changes its own password (PUT /api/user/password, old and new in the body). */
export async function grafanaChange(h: HttpClient, spec: CredentialSpec, oldPw: string, newPw: string): Promise<string> {
  const res = await h.request('grafana', '/api/user/password', {
    method: 'PUT',
    headers: {authorization: basic(spec.user, oldPw), 'content-type': 'application/json'},
    body: JSON.stringify({oldPassword: oldPw, newPassword: newPw, confirmNew: newPw}),
  })
  if (res.status === 200) return "Grafana's API (PUT /api/user/password)"
  const why = (() => {
    try {
      return (JSON.parse(res.body) as {message?: string}).message ?? `HTTP ${res.status}`
    } catch {
      return `HTTP ${res.status}`
    }
  })()
  if (res.status === 401) {
    throw new ObsctlError(
      `Grafana refuses the admin password in ${spec.secret.namespace}/${spec.secret.name} (${why}): it was changed in Grafana, not through obsctl`,
      {
        code: 'ROTATE_OLD_REFUSED',
        hints: [`put Grafana's current admin password in the Secret first (obsctl secrets apply with $${PASSWORD_ENV[spec.kind]}), then rotate`],
      },
    )
  }
  throw new ObsctlError(`Grafana did not change the admin password: ${why}`, {code: 'ROTATE_CONSUMER'})
}

/**
 * OpenSearch: the user's password through the security API, keeping its other attributes; the user's
 * hash in the security config Secret the operator loads, so a reload does not bring the old one back.
 * A cluster's Fluent Bit user (`fluentbit`: its cluster and the new key) goes there as secrets apply puts it.
 */
export async function opensearchChange(
  h: HttpClient,
  kube: Kube,
  user: string,
  adminPw: string,
  newPw: string,
  log: (l: string) => void,
  fluentbit?: {cluster: string; key: string},
): Promise<string> {
  const auth = {authorization: basic(OPENSEARCH_ADMIN_USER, adminPw), 'content-type': 'application/json'}
  const parts: string[] = []

  // the security config Secret (bcrypt hash, as secrets apply writes it)
  const cfg = await kube.get<SecretObject>('v1', 'Secret', SECRET_NAMES.opensearchSecurityConfig, NAMESPACES.logging)
  const usersYaml = decoded(cfg?.data?.['internal_users.yml'])
  if (cfg && usersYaml && isManaged(cfg) && fluentbit) {
    const done = await ensureFluentbitUser(kube, fluentbit.cluster, {fluentbitPassword: fluentbit.key})
    log(`${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}: the hash of ${user} is the new password's (${done})`)
    parts.push('the security config Secret')
  } else if (cfg && usersYaml && isManaged(cfg)) {
    const bcrypt = (await import('bcryptjs')).default
    const users = (yaml().parse(usersYaml) ?? {}) as Record<string, {hash?: string}>
    if (!users[user])
      throw new ObsctlError(`user ${user} is not in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}`, {
        code: 'ROTATE_CONSUMER',
        hints: ['obsctl secrets apply writes it'],
      })
    if (!users[user]!.hash || !(await bcrypt.compare(newPw, users[user]!.hash!))) {
      users[user] = {...users[user], hash: await bcrypt.hash(newPw, 12)}
      await writeSecretKeys(kube, cfg, {'internal_users.yml': yaml().stringify(users, {lineWidth: 0})})
    }
    log(`${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}: the hash of ${user} is the new password's`)
    parts.push('the security config Secret')
  } else {
    log(
      `${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig} is ${cfg ? 'not obsctl’s' : 'missing'}: left alone (your own security config must get the new hash of ${user})`,
    )
  }

  const path = `/_plugins/_security/api/internalusers/${encodeURIComponent(user)}`
  // 401 at either request: the admin password is refused (the caller tells a resumed admin rotation that took
  // effect, the operator having loaded the new hash between two requests, from a wrong password)
  const adminRefused = () =>
    new ObsctlError(`OpenSearch refuses the admin password in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin}`, {
      code: 'ROTATE_OLD_REFUSED',
      hints: ['obsctl secrets rotate opensearch first, or put the current admin password in the Secret'],
    })
  const got = await h.request('opensearch', path, {headers: auth})
  if (got.status === 401) throw adminRefused()
  if (got.status === 404 && fluentbit)
    throw new ObsctlError(`OpenSearch has no user ${user}`, {
      code: 'ROTATE_CONSUMER',
      hints: [`obsctl secrets apply ${fluentbit.cluster} creates it (the operator loads it from ${SECRET_NAMES.opensearchSecurityConfig})`],
    })
  if (got.status !== 200) throw new ObsctlError(`opensearch: GET ${path} answered HTTP ${got.status}: ${got.body.slice(0, 200)}`, {code: 'ROTATE_CONSUMER'})
  const current = ((JSON.parse(got.body) as Record<string, Record<string, unknown>>)[user] ?? {}) as {
    backend_roles?: unknown
    attributes?: unknown
    description?: unknown
    opendistro_security_roles?: unknown
  }
  const body = {
    password: newPw,
    backend_roles: current.backend_roles ?? [],
    attributes: current.attributes ?? {},
    ...(current.description ? {description: current.description} : {}),
    ...(current.opendistro_security_roles ? {opendistro_security_roles: current.opendistro_security_roles} : {}),
  }
  const put = await h.request('opensearch', path, {method: 'PUT', headers: auth, body: JSON.stringify(body)})
  if (put.status === 200 || put.status === 201) {
    parts.unshift('the security API (PUT _plugins/_security/api/internalusers)')
  } else if (put.status === 401) {
    throw adminRefused()
  } else if (put.status === 403 && /reserved/i.test(put.body)) {
    // a reserved user changes only through the security config the operator loads (securityadmin)
    log(`the security API does not change the reserved user ${user}: the operator's reload of ${SECRET_NAMES.opensearchSecurityConfig} does`)
    if (!parts.length)
      throw new ObsctlError(
        `OpenSearch user ${user} is reserved and ${SECRET_NAMES.opensearchSecurityConfig} is not obsctl's: nothing obsctl can change makes the new password take effect`,
        {code: 'ROTATE_CONSUMER'},
      )
    parts.push('(reserved user: effective when the operator loads it)')
  } else {
    throw new ObsctlError(`opensearch: PUT ${path} answered HTTP ${put.status}: ${put.body.slice(0, 200)}`, {code: 'ROTATE_CONSUMER'})
  }
  return parts.join(' and ')
}
