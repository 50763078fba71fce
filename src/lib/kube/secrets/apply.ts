/** Applying one cluster's Secrets (server-side apply, field manager obsctl), and the live check that they match. */
import {timingSafeEqual} from 'node:crypto'
import {yaml} from '../../lazy-deps.js'
import {centralCluster, GRAFANA_OPENSEARCH_USER, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import {inputError} from '../../errors.js'
import {describeObject, type Kube} from '../../platform/kube.js'
import {
  secretShapes,
  fluentbitPasswordFor,
  fluentbitUser,
  MANAGED_BY,
  OPENSEARCH_ADMIN_USER,
  isManaged,
  liveValue,
  wantedSecrets,
  type SecretsContext,
  type WantedSecret,
  type SecretObject,
} from './catalogue.js'
import {fluentbitHashStays, securityHashes} from './security-config.js'
import {TLS_SECRET_TYPE} from './tls.js'

export type SecretAction = 'created' | 'updated' | 'unchanged'

export interface SecretResult {
  namespace: string
  name: string
  keys: string[]
  /** kept: the user's own TLS Secret (without obsctl's label), left alone */
  action: SecretAction | 'kept' | 'would-apply'
}

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
export async function applyClusterSecrets(
  kube: Kube,
  x: Omit<SecretsContext, 'hashes'>,
  log: (line: string) => void = () => undefined,
): Promise<{namespaces: string[]; secrets: SecretResult[]}> {
  const isCentral = x.cluster.name === centralCluster(x.platform).name
  const hashes = isCentral
    ? await securityHashes(
        kube,
        x.values,
        x.platform.clusters.map((c) => c.name),
      )
    : undefined
  const wanted = wantedSecrets({...x, hashes})
  const namespaces = await ensureNamespaces(
    kube,
    wanted.map((s) => s.namespace),
    log,
  )
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
      throw inputError(
        `${describeObject(toObject(s))} on ${kube.context} exists with type ${live.type}, not ${s.type}`,
        [`delete it (kubectl --context ${kube.context} -n ${s.namespace} delete secret ${s.name}) and rerun`],
        'SECRET_TYPE',
      )
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
    const users = ((live ? yaml().parse(live) : {}) ?? {}) as Record<string, {hash?: string}>
    const a = users[OPENSEARCH_ADMIN_USER]?.hash
    const g = users[GRAFANA_OPENSEARCH_USER]?.hash
    if (!a || !g || !(await bcrypt.compare(x.values.opensearchAdminPassword, a)) || !(await bcrypt.compare(x.values.grafanaOpensearchPassword, g))) return false
    const fluentbit: Record<string, string> = {}
    for (const c of x.platform.clusters) {
      const f = users[fluentbitUser(c.name)]?.hash
      if (!(await fluentbitHashStays(fluentbitPasswordFor(x.values.fluentbitPassword, c.name), f))) return false
      fluentbit[c.name] = f!
    }
    hashes = {admin: a, fluentbit, grafana: g}
  }
  for (const s of wantedSecrets({...x, hashes})) {
    if (!secretMatches(await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace), s)) return false
  }
  return true
}
