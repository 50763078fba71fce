/**
 * `obsctl secrets rotate grafana|opensearch|fluent-bit` (the `rotate` phase): a credential rotation that takes
 * effect. `secrets apply` only writes Secrets, and their consumers do not all read them again: Grafana with
 * persistent storage keeps the admin password of its database, OpenSearch keeps its internal users in its
 * security index, Fluent Bit and OpenSearch Dashboards read their credentials when they start. So per credential:
 *
 *   1. the new value: its env var (the one `secrets apply` reads) or generated; checked against the consumer's rules
 *   2. the central Secret gets the new value and keeps the old one under `<key>-previous` until step 6
 *      (a run that stops half-way is finished by the next one, which finds the pending pair there)
 *   3. the consumer is made to use it: Grafana through its API (PUT /api/user/password as admin);
 *      an OpenSearch internal user through the security API (PUT _plugins/_security/api/internalusers/NAME)
 *      and in the security config Secret the operator loads (its bcrypt hash), so a reload keeps it; a user
 *      the REST API refuses to change (reserved) takes effect when the operator loads that config
 *   4. the other clusters' copies (Fluent Bit's Secret is in every cluster), then a rollout restart of what
 *      reads the credential only at start (the pod template annotation kubectl rollout restart sets), waited for
 *
 * Fluent Bit is one OpenSearch user per cluster (fluentbitUser: fluentbit-CLUSTER) whose password is derived
 * from a key (fluentbitPasswordFor; the key is $OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD, kept only in central's
 * Secret as per-cluster-key). Rotating it rotates the key: the pair (old key, new key) is pending in central's
 * Secret, and steps 3–5 are done per cluster with the passwords both keys derive for it.
 *   5. verified: the new value is accepted and the old one refused by the consumer itself (a probe that cannot
 *      answer either way is a failure, never a pass)
 *   6. the old value is dropped from the Secret
 *
 * Values live only in memory and in the Secrets: never in argv, logs, the journal or reports.
 */
import YAML from 'yaml'
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {PASSWORD_ENV, passwordProblem, type PasswordKind} from '../config/passwords.js'
import type {Phase, RunContext, TaskIO} from '../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {ARGOCD_PASSWORD_ENV, INITIAL_ADMIN_SECRET, openPlatform, rolloutStatus, waitUntil, type HttpClient, type Kube, type KubeObject, type PlatformOptions, type ServiceKey} from '../platform/index.js'
import {kubeForCluster} from './run.js'
import {FLUENTBIT_KEY_ENTRY, GRAFANA_ADMIN_USER, MANAGED_BY, OPENSEARCH_ADMIN_USER, decoded, fluentbitPasswordFor, fluentbitUser, isManaged, type SecretObject} from './secrets/catalogue.js'
import {ensureFluentbitUser} from './secrets/security-config.js'
import {generatePassword} from './secrets/values.js'

export const ROTATABLE = ['grafana', 'opensearch', 'fluent-bit', 'argocd'] as const
export type Rotatable = (typeof ROTATABLE)[number]
/** the credentials whose plain value lives in a Secret obsctl writes */
type SecretBacked = Exclude<Rotatable, 'argocd'>

/** The new Argo CD admin password (Argo CD keeps only its bcrypt hash; $OBSCTL_ARGOCD_PASSWORD is the current one). */
export const ARGOCD_NEW_PASSWORD_ENV = 'OBSCTL_ARGOCD_NEW_PASSWORD'
const TITLES: Record<Rotatable, string> = {grafana: 'Grafana admin password', opensearch: 'OpenSearch admin password', 'fluent-bit': 'Fluent Bit OpenSearch password', argocd: 'Argo CD admin password'}

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

export interface Workload {
  apiVersion: string
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet'
  namespace: string
  name: string
}

interface CredentialSpec {
  id: SecretBacked
  title: string
  kind: PasswordKind
  user: string
  /** where the value lives */
  secret: {namespace: string; name: string; key: string}
  /** a copy in every cluster (else the central cluster's only) */
  everyCluster: boolean
  /** the service that checks it */
  service: ServiceKey
  /** the OpenSearch internal user it is */
  opensearchUser?: string
  /** what reads it only at start, per cluster */
  restarts(p: Platform, c: Cluster): Workload[]
}

const deployment = (namespace: string, name: string): Workload => ({apiVersion: 'apps/v1', kind: 'Deployment', namespace, name})
const isCentral = (p: Platform, c: Cluster) => c.name === centralCluster(p).name

export const CREDENTIALS: Record<SecretBacked, CredentialSpec> = {
  grafana: {
    id: 'grafana',
    title: 'Grafana admin password',
    kind: 'grafanaAdmin',
    user: GRAFANA_ADMIN_USER,
    secret: {namespace: NAMESPACES.monitoring, name: SECRET_NAMES.grafanaAdmin, key: 'admin-password'},
    everyCluster: false,
    service: 'grafana',
    // Grafana reads the Secret only to create the admin of an empty database: its API is what counts
    restarts: () => [],
  },
  opensearch: {
    id: 'opensearch',
    title: 'OpenSearch admin password',
    kind: 'opensearchAdmin',
    user: OPENSEARCH_ADMIN_USER,
    secret: {namespace: NAMESPACES.logging, name: SECRET_NAMES.opensearchAdmin, key: 'password'},
    everyCluster: false,
    service: 'opensearch',
    opensearchUser: OPENSEARCH_ADMIN_USER,
    // OpenSearch Dashboards (the operator's Deployment <cluster>-dashboards) reads it from the Secret at start
    restarts: (p, c) => (isCentral(p, c) ? [deployment(NAMESPACES.logging, 'opensearch-cluster-dashboards')] : []),
  },
  'fluent-bit': {
    id: 'fluent-bit',
    title: 'Fluent Bit OpenSearch password',
    kind: 'fluentbitOpensearch',
    // one user per cluster, its password derived from the key central's Secret keeps (rotateFluentbit)
    user: fluentbitUser('CLUSTER'),
    secret: {namespace: NAMESPACES.logging, name: SECRET_NAMES.fluentbitOpensearch, key: FLUENTBIT_KEY_ENTRY},
    everyCluster: true,
    service: 'opensearch',
    // the Fluent operator copies the ClusterOutput's secretKeyRef values into the configuration it renders
    // (at its start and on changes of its resources, not of Secrets); Fluent Bit reads that configuration
    restarts: () => [deployment(NAMESPACES.logging, 'fluent-operator'), {apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: NAMESPACES.logging, name: 'fluent-bit'}],
  },
}

/** A new value, held in memory for one run. */
export interface NewValue {
  value: string
  /** `$ENV` or `generated` (never the value) */
  source: string
}

/** Parse the credential names (bad input names the choices). */
export function parseRotatable(names: string[]): Rotatable[] {
  if (names.length === 0) throw inputError('name what to rotate', [`one or more of: ${ROTATABLE.join(', ')}`], 'BAD_ARGS')
  const bad = names.filter((n) => !(ROTATABLE as readonly string[]).includes(n))
  if (bad.length) throw inputError(`cannot rotate ${bad.join(', ')}`, [`one or more of: ${ROTATABLE.join(', ')}`], 'BAD_ARGS')
  return ROTATABLE.filter((r) => names.includes(r))
}

/** Where each new value comes from, checked against the consumer's rules (names only: for dry runs). */
export function rotationSources(ids: Rotatable[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const id of ids) {
    const name = id === 'argocd' ? ARGOCD_NEW_PASSWORD_ENV : PASSWORD_ENV[CREDENTIALS[id].kind]
    const v = env[name]
    if (v) {
      const problem = id === 'argocd' ? argocdProblem(v) : passwordProblem(CREDENTIALS[id].kind, v)
      if (problem) throw inputError(`$${name} (${TITLES[id]}) ${problem}`, [`export ${name}=… with a password that passes`, `or unset it: obsctl generates one`], 'WEAK_PASSWORD')
      out[id] = `$${name}`
    } else out[id] = 'generated'
  }
  return out
}

/** Argo CD hashes with bcrypt (72 bytes at most); obsctl asks for 8 characters, as `argocd password` does. */
function argocdProblem(v: string): string | undefined {
  if (v.length < 8) return `has ${v.length} character(s); at least 8`
  if (Buffer.byteLength(v) > 72) return 'is longer than the 72 bytes bcrypt reads'
  return undefined
}

/** The new values: the env var `secrets apply` reads ($OBSCTL_ARGOCD_NEW_PASSWORD for Argo CD), else generated. */
export async function resolveRotationValues(ids: Rotatable[], env: NodeJS.ProcessEnv = process.env): Promise<Partial<Record<Rotatable, NewValue>>> {
  const sources = rotationSources(ids, env)
  const out: Partial<Record<Rotatable, NewValue>> = {}
  for (const id of ids) {
    const name = id === 'argocd' ? ARGOCD_NEW_PASSWORD_ENV : PASSWORD_ENV[CREDENTIALS[id].kind]
    // Argo CD's is typed by people: its own generator's unambiguous alphabet
    const generated = () => (id === 'argocd' ? import('../argocd/password.js').then((m) => m.generatePassword()) : Promise.resolve(generatePassword()))
    out[id] = {source: sources[id]!, value: sources[id] === 'generated' ? await generated() : env[name]!}
  }
  return out
}

export interface RotatePhaseOptions {
  credentials: Rotatable[]
  /** resolved before the run; in memory only */
  values: Partial<Record<Rotatable, NewValue>>
  /** rollouts and verification, seconds (default 300) */
  timeoutSeconds?: number
  /** how Grafana and OpenSearch are reached (as validate reaches them) */
  access?: Pick<PlatformOptions, 'endpoints' | 'viaApiServer' | 'caFile' | 'requestTimeoutMs'>
  /** between verification probes (default 1 s) */
  pollMs?: number
}

export interface RotateReport {
  credential: Rotatable
  user: string
  /** `$ENV`, `generated`, or `pending in the Secret` (a rotation an earlier run started, finished now) */
  source: string
  resumed: boolean
  /** the Secrets that hold it now */
  secrets: {cluster: string; namespace: string; name: string; key: string}[]
  /** how the consumer was made to use it */
  consumer: string
  restarted: {cluster: string; kind: string; namespace: string; name: string; restartedAt: string}[]
  verified: {newAccepted: boolean; oldRefused: boolean}
  /** Fluent Bit: each cluster's own OpenSearch user, verified one by one */
  users?: {cluster: string; user: string; newAccepted: boolean; oldRefused: boolean}[]
}

interface Target {
  id: Rotatable
  title: string
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const previousKey = (key: string) => `${key}-previous`

async function http(ctx: RunContext, o: RotatePhaseOptions): Promise<HttpClient> {
  return ctx.resources.getOrCreate(
    'rotate:http',
    async () => openPlatform(ctx.inv, {...o.access, kubeconfig: ctx.kubeconfig, need: {opensearch: false, s3: false}}),
    (opened) => opened.close(),
  ).then((opened) => opened.ctx.http)
}

function requireBasicAuth(h: HttpClient, service: ServiceKey): void {
  if (h.where(service).startsWith('API server proxy')) {
    throw inputError(`${service} needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)`, [`pass --endpoint ${service}=URL as well (an override wins over --via-api-server)`], 'ROTATE_VIA_PROXY')
  }
}

/** Does the consumer accept this password? true / false; anything else (no answer, 5xx) cannot be measured: an error. */
async function accepts(h: HttpClient, service: ServiceKey, user: string, password: string): Promise<boolean> {
  const path = service === 'grafana' ? '/api/user' : '/_plugins/_security/authinfo'
  const res = await h.request(service, path, {headers: {authorization: basic(user, password)}})
  if (res.status === 200) return true
  if (res.status === 401 || res.status === 403) return false
  throw new ObsctlError(`${service}: GET ${path} as ${user} answered HTTP ${res.status}: cannot tell whether the password is accepted`, {code: 'ROTATE_UNMEASURABLE'})
}

async function readSecret(kube: Kube, s: CredentialSpec['secret'], cluster: string): Promise<SecretObject> {
  const live = await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace)
  if (!live) throw inputError(`Secret ${s.namespace}/${s.name} is not in ${cluster}`, ['obsctl secrets apply creates it'], 'ROTATE_NO_SECRET')
  return live
}

/** Apply a Secret with these plain values for some keys (the others as they are), obsctl's label kept. */
async function writeSecretKeys(kube: Kube, live: SecretObject, values: Record<string, string>): Promise<void> {
  const data = {...(live.data ?? {})}
  for (const [k, v] of Object.entries(values)) data[k] = Buffer.from(v, 'utf8').toString('base64')
  await kube.apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: live.metadata.name, namespace: live.metadata.namespace, labels: {...live.metadata.labels, ...MANAGED_BY}}, type: live.type ?? 'Opaque', data} as SecretObject)
}

/** Grafana: the admin changes its own password (PUT /api/user/password, old and new in the body). */
async function grafanaChange(h: HttpClient, spec: CredentialSpec, oldPw: string, newPw: string): Promise<string> {
  const res = await h.request('grafana', '/api/user/password', {method: 'PUT', headers: {authorization: basic(spec.user, oldPw), 'content-type': 'application/json'}, body: JSON.stringify({oldPassword: oldPw, newPassword: newPw, confirmNew: newPw})})
  if (res.status === 200) return "Grafana's API (PUT /api/user/password)"
  const why = (() => {
    try {
      return (JSON.parse(res.body) as {message?: string}).message ?? `HTTP ${res.status}`
    } catch {
      return `HTTP ${res.status}`
    }
  })()
  if (res.status === 401) {
    throw new ObsctlError(`Grafana refuses the admin password in ${spec.secret.namespace}/${spec.secret.name} (${why}): it was changed in Grafana, not through obsctl`, {
      code: 'ROTATE_OLD_REFUSED',
      hints: [`put Grafana's current admin password in the Secret first (obsctl secrets apply with $${PASSWORD_ENV[spec.kind]}), then rotate`],
    })
  }
  throw new ObsctlError(`Grafana did not change the admin password: ${why}`, {code: 'ROTATE_CONSUMER'})
}

/**
 * OpenSearch: the user's password through the security API, keeping its other attributes; the user's
 * hash in the security config Secret the operator loads, so a reload does not bring the old one back.
 * A cluster's Fluent Bit user (`fluentbit`: its cluster and the new key) goes there as secrets apply puts it.
 */
async function opensearchChange(h: HttpClient, kube: Kube, user: string, adminPw: string, newPw: string, log: (l: string) => void, fluentbit?: {cluster: string; key: string}): Promise<string> {
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
    const users = (YAML.parse(usersYaml) ?? {}) as Record<string, {hash?: string}>
    if (!users[user]) throw new ObsctlError(`user ${user} is not in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}`, {code: 'ROTATE_CONSUMER', hints: ['obsctl secrets apply writes it']})
    if (!users[user]!.hash || !(await bcrypt.compare(newPw, users[user]!.hash!))) {
      users[user] = {...users[user], hash: await bcrypt.hash(newPw, 12)}
      await writeSecretKeys(kube, cfg, {'internal_users.yml': YAML.stringify(users, {lineWidth: 0})})
    }
    log(`${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}: the hash of ${user} is the new password's`)
    parts.push('the security config Secret')
  } else {
    log(`${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig} is ${cfg ? 'not obsctl’s' : 'missing'}: left alone (your own security config must get the new hash of ${user})`)
  }

  const path = `/_plugins/_security/api/internalusers/${encodeURIComponent(user)}`
  const got = await h.request('opensearch', path, {headers: auth})
  if (got.status === 401) throw new ObsctlError(`OpenSearch refuses the admin password in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin}`, {code: 'ROTATE_OLD_REFUSED', hints: ['obsctl secrets rotate opensearch first, or put the current admin password in the Secret']})
  if (got.status === 404 && fluentbit) throw new ObsctlError(`OpenSearch has no user ${user}`, {code: 'ROTATE_CONSUMER', hints: [`obsctl secrets apply ${fluentbit.cluster} creates it (the operator loads it from ${SECRET_NAMES.opensearchSecurityConfig})`]})
  if (got.status !== 200) throw new ObsctlError(`opensearch: GET ${path} answered HTTP ${got.status}: ${got.body.slice(0, 200)}`, {code: 'ROTATE_CONSUMER'})
  const current = ((JSON.parse(got.body) as Record<string, Record<string, unknown>>)[user] ?? {}) as {backend_roles?: unknown; attributes?: unknown; description?: unknown; opendistro_security_roles?: unknown}
  const body = {password: newPw, backend_roles: current.backend_roles ?? [], attributes: current.attributes ?? {}, ...(current.description ? {description: current.description} : {}), ...(current.opendistro_security_roles ? {opendistro_security_roles: current.opendistro_security_roles} : {})}
  const put = await h.request('opensearch', path, {method: 'PUT', headers: auth, body: JSON.stringify(body)})
  if (put.status === 200 || put.status === 201) {
    parts.unshift('the security API (PUT _plugins/_security/api/internalusers)')
  } else if (put.status === 403 && /reserved/i.test(put.body)) {
    // a reserved user changes only through the security config the operator loads (securityadmin)
    log(`the security API does not change the reserved user ${user}: the operator's reload of ${SECRET_NAMES.opensearchSecurityConfig} does`)
    if (!parts.length) throw new ObsctlError(`OpenSearch user ${user} is reserved and ${SECRET_NAMES.opensearchSecurityConfig} is not obsctl's: nothing obsctl can change makes the new password take effect`, {code: 'ROTATE_CONSUMER'})
    parts.push("(reserved user: effective when the operator loads it)")
  } else {
    throw new ObsctlError(`opensearch: PUT ${path} answered HTTP ${put.status}: ${put.body.slice(0, 200)}`, {code: 'ROTATE_CONSUMER'})
  }
  return parts.join(' and ')
}

async function restart(kube: Kube, w: Workload, at: string, timeoutMs: number, signal: AbortSignal, log: (l: string) => void): Promise<void> {
  const live = await kube.get<KubeObject>(w.apiVersion, w.kind, w.name, w.namespace)
  if (!live) throw new ObsctlError(`${w.kind} ${w.namespace}/${w.name} is not in ${kube.context}: it reads the credential only at start, and cannot be restarted`, {code: 'ROTATE_NO_WORKLOAD', hints: ['is the platform synced? obsctl status shows it']})
  await kube.mergePatch({apiVersion: w.apiVersion, kind: w.kind, metadata: {name: w.name, namespace: w.namespace}, spec: {template: {metadata: {annotations: {[RESTARTED_AT]: at}}}}})
  log(`${kube.context}: ${w.kind} ${w.namespace}/${w.name}: rollout restart (${RESTARTED_AT}=${at})`)
  await waitUntil(
    `the rollout of ${w.kind} ${w.namespace}/${w.name} on ${kube.context}`,
    async () => {
      const o = await kube.get<KubeObject>(w.apiVersion, w.kind, w.name, w.namespace)
      return o ? rolloutStatus(o) : `${w.kind} ${w.namespace}/${w.name}: gone`
    },
    {timeoutMs, signal, onProgress: log},
  )
}

/** Steps 1–2: the pair (old, new) in central's Secret, pending until verified (or the pair an earlier run left there). */
async function pendingPair(ck: Kube, central: string, o: RotatePhaseOptions, spec: CredentialSpec, log: (l: string) => void): Promise<{oldPw: string; newPw: string; source: string; resumed: boolean}> {
  const live = await readSecret(ck, spec.secret, central)
  const prevKey = previousKey(spec.secret.key)
  const pendingOld = decoded(live.data?.[prevKey])
  const inSecret = decoded(live.data?.[spec.secret.key])
  let oldPw: string
  let newPw: string
  let source: string
  const given = o.values[spec.id]
  if (pendingOld !== undefined && inSecret) {
    oldPw = pendingOld
    newPw = inSecret
    source = 'pending in the Secret'
    log(`${spec.secret.namespace}/${spec.secret.name} holds a rotation an earlier run did not finish: finishing it${given && given.value !== newPw ? ` (${given.source} waits: rerun to rotate again)` : ''}`)
  } else {
    if (!inSecret) throw inputError(`Secret ${spec.secret.namespace}/${spec.secret.name} on ${central} has no ${spec.secret.key}`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')
    if (!given) throw new ObsctlError(`no new value for ${spec.title}`, {code: 'ROTATE_NO_VALUE'})
    if (given.value === inSecret) throw inputError(`${given.source} (${spec.title}) is the current value: a rotation needs a new one`, [`export ${PASSWORD_ENV[spec.kind]}=… with another password, or unset it: obsctl generates one`], 'ROTATE_SAME_VALUE')
    oldPw = inSecret
    newPw = given.value
    source = given.source
    await writeSecretKeys(ck, live, {[spec.secret.key]: newPw, [prevKey]: oldPw})
    log(`${central}: ${spec.secret.namespace}/${spec.secret.name}: new ${spec.secret.key} (${source}); the old one kept as ${prevKey} until verified`)
  }
  return {oldPw, newPw, source, resumed: source === 'pending in the Secret'}
}

async function rotateOne(ctx: RunContext, o: RotatePhaseOptions, spec: CredentialSpec, io: TaskIO): Promise<RotateReport> {
  const log = (l: string) => io.log(l)
  const p = ctx.platform
  const central = centralCluster(p)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  requireBasicAuth(h, spec.service)
  const ck = await kubeForCluster(ctx, central.name)
  const prevKey = previousKey(spec.secret.key)
  const {oldPw, newPw, source, resumed} = await pendingPair(ck, central.name, o, spec, log)

  // 3: the consumer
  let consumer: string
  if (await accepts(h, spec.service, spec.user, newPw)) {
    consumer = `${spec.service} already accepts it`
    log(consumer)
  } else if (spec.service === 'grafana') {
    consumer = await grafanaChange(h, spec, oldPw, newPw)
    log(`Grafana: the admin password changed through ${consumer}`)
  } else {
    const adminPw = spec.id === 'opensearch' ? oldPw : decoded((await readSecret(ck, CREDENTIALS.opensearch.secret, central.name)).data?.password)
    if (!adminPw) throw inputError(`Secret ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin} has no password`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')
    try {
      consumer = await opensearchChange(h, ck, spec.opensearchUser!, adminPw, newPw, log)
    } catch (e) {
      // the admin's own rotation, resumed: the operator can load the new hash while this run works (the old
      // password refused from then on), which is the rotation taking effect, not a failure
      if (!(spec.id === 'opensearch' && e instanceof ObsctlError && e.code === 'ROTATE_OLD_REFUSED' && (await accepts(h, spec.service, spec.user, newPw)))) throw e
      consumer = `the security config Secret (${SECRET_NAMES.opensearchSecurityConfig}), loaded by the operator`
    }
    log(`OpenSearch user ${spec.opensearchUser}: ${consumer}`)
  }

  // 4: the other clusters' copies and the restarts; one cluster's failure does not stop the others
  const failures: string[] = []
  const secrets: RotateReport['secrets'] = [{cluster: central.name, ...spec.secret}]
  const restarted: RotateReport['restarted'] = []
  const clusters = spec.everyCluster ? p.clusters : [central]
  for (const c of clusters) {
    try {
      const kube = c.name === central.name ? ck : await kubeForCluster(ctx, c.name)
      if (c.name !== central.name) {
        const s = await readSecret(kube, spec.secret, c.name)
        if (decoded(s.data?.[spec.secret.key]) !== newPw) await writeSecretKeys(kube, s, {[spec.secret.key]: newPw})
        secrets.push({cluster: c.name, ...spec.secret})
        log(`${c.name}: ${spec.secret.namespace}/${spec.secret.name}: new ${spec.secret.key}`)
      }
      for (const w of spec.restarts(p, c)) {
        const at = new Date().toISOString()
        await restart(kube, w, at, timeoutMs, ctx.signal, log)
        restarted.push({cluster: c.name, kind: w.kind, namespace: w.namespace, name: w.name, restartedAt: at})
      }
    } catch (e) {
      if (e instanceof ObsctlError && e.exitCode === 130) throw e
      failures.push(`${c.name}: ${errorMessage(e)}`)
      log(`✖ ${c.name}: ${errorMessage(e)}`)
    }
  }

  // 5: verified by the consumer itself
  const verified = {newAccepted: false, oldRefused: false}
  await waitUntil(
    `${spec.service} to accept the new ${spec.title} and refuse the old one`,
    async () => {
      verified.newAccepted = await accepts(h, spec.service, spec.user, newPw)
      // the old one is tried only once the new one works: fewer failed logins for the consumer to count
      verified.oldRefused = verified.newAccepted && !(await accepts(h, spec.service, spec.user, oldPw))
      if (verified.newAccepted && verified.oldRefused) return true
      return `${spec.service}: new password ${verified.newAccepted ? 'accepted, old one still accepted' : 'refused'}`
    },
    {timeoutMs, intervalMs: o.pollMs ?? 1000, signal: ctx.signal, onProgress: log},
  )
  log(`verified: ${spec.service} accepts the new ${spec.title} and refuses the old one`)
  if (failures.length > 0) {
    throw new ObsctlError(`${spec.title}: rotated and verified, but not every cluster follows: ${failures.join('; ')}`, {code: 'ROTATE_PARTIAL', hints: [`the old value stays in ${spec.secret.namespace}/${spec.secret.name} as ${prevKey}: rerun obsctl secrets rotate ${spec.id} to finish`]})
  }

  // 6: the old value leaves the Secret
  await ck.mergePatch({apiVersion: 'v1', kind: 'Secret', metadata: {name: spec.secret.name, namespace: spec.secret.namespace}, data: {[prevKey]: null}})
  return {credential: spec.id, user: spec.user, source, resumed, secrets, consumer, restarted, verified}
}

/**
 * Fluent Bit: the key rotates (pending in central's Secret as per-cluster-key / per-cluster-key-previous);
 * per cluster, its user fluentbit-CLUSTER gets the password the new key derives: in OpenSearch (security
 * API and the security config's hash), in that cluster's Secret, then Fluent Bit restarted. Verified per
 * user: the password the new key derives is accepted, the one the old key derives refused.
 */
async function rotateFluentbit(ctx: RunContext, o: RotatePhaseOptions, io: TaskIO): Promise<RotateReport> {
  const spec = CREDENTIALS['fluent-bit']
  const log = (l: string) => io.log(l)
  const p = ctx.platform
  const central = centralCluster(p)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  requireBasicAuth(h, 'opensearch')
  const ck = await kubeForCluster(ctx, central.name)
  const prevKey = previousKey(spec.secret.key)
  const {oldPw: oldKey, newPw: newKey, source, resumed} = await pendingPair(ck, central.name, o, spec, log)
  const adminPw = decoded((await readSecret(ck, CREDENTIALS.opensearch.secret, central.name)).data?.password)
  if (!adminPw) throw inputError(`Secret ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin} has no password`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')

  // 3–4 per cluster: its user in OpenSearch, its Secret, its restarts; one cluster's failure does not stop the others
  const failures: string[] = []
  const consumers = new Set<string>()
  const secrets: RotateReport['secrets'] = [{cluster: central.name, ...spec.secret}]
  const restarted: RotateReport['restarted'] = []
  const changed: {cluster: string; user: string; newPw: string; oldPw: string}[] = []
  for (const c of p.clusters) {
    const user = fluentbitUser(c.name)
    const newPw = fluentbitPasswordFor(newKey, c.name)
    const oldPw = fluentbitPasswordFor(oldKey, c.name)
    try {
      if (await accepts(h, 'opensearch', user, newPw)) {
        consumers.add('opensearch already accepts it')
        log(`OpenSearch user ${user}: already accepts its new password`)
      } else {
        const how = await opensearchChange(h, ck, user, adminPw, newPw, log, {cluster: c.name, key: newKey})
        consumers.add(how)
        log(`OpenSearch user ${user}: ${how}`)
      }
      const kube = c.name === central.name ? ck : await kubeForCluster(ctx, c.name)
      const s = await readSecret(kube, spec.secret, c.name)
      if (decoded(s.data?.username) !== user || decoded(s.data?.password) !== newPw) await writeSecretKeys(kube, s, {username: user, password: newPw})
      secrets.push({cluster: c.name, ...spec.secret, key: 'password'})
      log(`${c.name}: ${spec.secret.namespace}/${spec.secret.name}: username ${user}, the password the new key derives for it`)
      for (const w of spec.restarts(p, c)) {
        const at = new Date().toISOString()
        await restart(kube, w, at, timeoutMs, ctx.signal, log)
        restarted.push({cluster: c.name, kind: w.kind, namespace: w.namespace, name: w.name, restartedAt: at})
      }
      changed.push({cluster: c.name, user, newPw, oldPw})
    } catch (e) {
      if (e instanceof ObsctlError && e.exitCode === 130) throw e
      failures.push(`${c.name}: ${errorMessage(e)}`)
      log(`✖ ${c.name}: ${errorMessage(e)}`)
    }
  }

  // 5: verified per user by OpenSearch itself (a user once verified is not asked again: fewer failed logins)
  const users: NonNullable<RotateReport['users']> = changed.map((u) => ({cluster: u.cluster, user: u.user, newAccepted: false, oldRefused: false}))
  await waitUntil(
    "OpenSearch to accept each cluster's new Fluent Bit password and refuse the old one",
    async () => {
      const waiting: string[] = []
      for (const [i, u] of changed.entries()) {
        const v = users[i]!
        if (v.newAccepted && v.oldRefused) continue
        v.newAccepted = await accepts(h, 'opensearch', u.user, u.newPw)
        v.oldRefused = v.newAccepted && !(await accepts(h, 'opensearch', u.user, u.oldPw))
        if (!(v.newAccepted && v.oldRefused)) waiting.push(`${u.user}: new password ${v.newAccepted ? 'accepted, old one still accepted' : 'refused'}`)
      }
      return waiting.length === 0 ? true : `opensearch: ${waiting.join('; ')}`
    },
    {timeoutMs, intervalMs: o.pollMs ?? 1000, signal: ctx.signal, onProgress: log},
  )
  if (users.length) log(`verified: OpenSearch accepts the new password of ${users.map((u) => u.user).join(', ')} and refuses the old one`)
  if (failures.length > 0) {
    throw new ObsctlError(`${spec.title}: not every cluster follows: ${failures.join('; ')}`, {code: 'ROTATE_PARTIAL', hints: [`the old key stays in ${spec.secret.namespace}/${spec.secret.name} on ${central.name} as ${prevKey}: rerun obsctl secrets rotate fluent-bit to finish`]})
  }

  // 6: the old key leaves central's Secret
  await ck.mergePatch({apiVersion: 'v1', kind: 'Secret', metadata: {name: spec.secret.name, namespace: spec.secret.namespace}, data: {[prevKey]: null}})
  const verified = {newAccepted: users.every((u) => u.newAccepted), oldRefused: users.every((u) => u.oldRefused)}
  return {credential: 'fluent-bit', user: users.map((u) => u.user).join(', '), source, resumed, secrets, consumer: [...consumers].join('; '), restarted, verified, users}
}

/** Argo CD: the admin password's bcrypt hash in argocd-secret (read live by argocd-server), verified through its session API. */
async function rotateArgocd(ctx: RunContext, o: RotatePhaseOptions, io: TaskIO): Promise<RotateReport> {
  const log = (l: string) => io.log(l)
  const central = centralCluster(ctx.platform)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  const kube = await kubeForCluster(ctx, central.name)
  const {readInitialPassword, rotateAdminPassword, ARGOCD_SECRET} = await import('../argocd/password.js')
  const given = o.values.argocd
  if (!given) throw new ObsctlError('no new value for the Argo CD admin password', {code: 'ROTATE_NO_VALUE'})
  const session = async (password: string): Promise<boolean> => {
    const res = await h.request('argocd', '/api/v1/session', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({username: 'admin', password})})
    if (res.status === 200) return true
    if (res.status === 401) return false
    throw new ObsctlError(`argocd: POST /api/v1/session answered HTTP ${res.status}: cannot tell whether the password is accepted`, {code: 'ROTATE_UNMEASURABLE'})
  }
  const fromEnv = process.env[ARGOCD_PASSWORD_ENV]
  const oldPw = fromEnv || (await readInitialPassword(kube))
  const oldFrom = fromEnv ? `$${ARGOCD_PASSWORD_ENV}` : `${NAMESPACES.argocd}/${INITIAL_ADMIN_SECRET}`
  if (!oldPw) throw inputError(`the current Argo CD admin password is needed to prove it is refused afterwards, and ${INITIAL_ADMIN_SECRET} is gone`, [`export ${ARGOCD_PASSWORD_ENV}=… (the current one)`], 'ROTATE_NO_OLD')
  if (oldPw === given.value) throw inputError(`${given.source} (Argo CD admin password) is the current value: a rotation needs a new one`, [`export ${ARGOCD_NEW_PASSWORD_ENV}=… with another password, or unset it: obsctl generates one`], 'ROTATE_SAME_VALUE')
  let consumer = `${NAMESPACES.argocd}/${ARGOCD_SECRET} admin.password (bcrypt) and admin.passwordMtime, read live by argocd-server`
  if (await session(given.value)) {
    consumer = 'argocd already accepts it'
    log(consumer)
  } else {
    if (!(await session(oldPw))) throw inputError(`Argo CD refuses the current admin password (${oldFrom}): nothing was changed`, [`export ${ARGOCD_PASSWORD_ENV}=… with the current admin password`], 'ROTATE_OLD_REFUSED')
    const r = await rotateAdminPassword(kube, given.value)
    log(`${central.name}: ${NAMESPACES.argocd}/${ARGOCD_SECRET}: new admin.password hash, admin.passwordMtime ${r.passwordMtime}${r.initialDeleted ? `; ${INITIAL_ADMIN_SECRET} deleted` : ''}`)
  }
  const verified = {newAccepted: false, oldRefused: false}
  await waitUntil(
    'argocd to accept the new admin password and refuse the old one',
    async () => {
      verified.newAccepted = await session(given.value)
      verified.oldRefused = verified.newAccepted && !(await session(oldPw))
      return verified.newAccepted && verified.oldRefused ? true : `argocd: new password ${verified.newAccepted ? 'accepted, old one still accepted' : 'refused'}`
    },
    {timeoutMs, intervalMs: o.pollMs ?? 1000, signal: ctx.signal, onProgress: log},
  )
  log('verified: argocd accepts the new admin password and refuses the old one')
  return {credential: 'argocd', user: 'admin', source: given.source, resumed: false, secrets: [{cluster: central.name, namespace: NAMESPACES.argocd, name: ARGOCD_SECRET, key: 'admin.password'}], consumer, restarted: [], verified}
}

export function describeRotation(p: Platform, id: Rotatable, source: string): string {
  if (id === 'argocd') {
    return `${TITLES.argocd} (user admin), new value ${source}${source === 'generated' ? ' (shown once)' : ''}: its bcrypt hash in ${NAMESPACES.argocd}/argocd-secret on ${centralCluster(p).name} (admin.password, admin.passwordMtime; Argo CD reads it live), ${INITIAL_ADMIN_SECRET} deleted; then verify through POST /api/v1/session that the new password is accepted and the old one ($${ARGOCD_PASSWORD_ENV}, else ${INITIAL_ADMIN_SECRET}) refused`
  }
  const spec = CREDENTIALS[id]
  const clusters = spec.everyCluster ? p.clusters : [centralCluster(p)]
  const restarts = clusters.flatMap((c) => spec.restarts(p, c).map((w) => `${c.name} ${w.kind} ${w.namespace}/${w.name}`))
  if (id === 'fluent-bit') {
    const central = centralCluster(p).name
    return `${spec.title}s (one OpenSearch user per cluster: ${clusters.map((c) => fluentbitUser(c.name)).join(', ')}), new key ${source}: ${spec.secret.key} in Secret ${spec.secret.namespace}/${spec.secret.name} on ${central} (the old key kept as ${previousKey(spec.secret.key)} until verified); per cluster, the password the new key derives for its user through the security API (PUT _plugins/_security/api/internalusers/fluentbit-CLUSTER) and its hash in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}, then in Secret ${spec.secret.namespace}/${spec.secret.name} on ${clusters.map((c) => c.name).join(', ')}${restarts.length ? `; rollout restart of ${restarts.join(', ')}` : ''}; then verify each user's new password is accepted and old one refused`
  }
  const how = spec.service === 'grafana' ? "Grafana's API (PUT /api/user/password)" : `the security API (PUT _plugins/_security/api/internalusers/${spec.opensearchUser}) and the hash in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}`
  return `${spec.title} (user ${spec.user}), new value ${source}: Secret ${spec.secret.namespace}/${spec.secret.name} on ${clusters.map((c) => c.name).join(', ')}; consumer through ${how}${restarts.length ? `; rollout restart of ${restarts.join(', ')}` : ''}; then verify the new password is accepted and the old one refused`
}

export function rotatePhase(o: RotatePhaseOptions): Phase<Target, RotateReport> {
  return {
    name: 'rotate',
    title: 'Credential rotation',
    // one at a time: rotating Fluent Bit's password uses the admin password an OpenSearch rotation changes
    concurrency: 1,
    targets: () => ROTATABLE.filter((id) => o.credentials.includes(id)).map((id) => ({id, title: TITLES[id]})),
    // which credential and where its value comes from: never the value
    fingerprint: (t) => ({credential: t.id, source: o.values[t.id]?.source ?? null}),
    describe: (t, ctx) => describeRotation(ctx.platform, t.id, o.values[t.id]?.source ?? 'generated'),
    async run(t, ctx, io) {
      const r = t.id === 'argocd' ? await rotateArgocd(ctx, o, io) : t.id === 'fluent-bit' ? await rotateFluentbit(ctx, o, io) : await rotateOne(ctx, o, CREDENTIALS[t.id], io)
      return {summary: `${TITLES[t.id]}: ${r.resumed ? 'finished the pending rotation' : `rotated (${r.source})`}; ${r.secrets.length} Secret(s), ${r.restarted.length} restart(s); verified`, report: r}
    },
  }
}
