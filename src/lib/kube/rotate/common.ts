/**
 * What every rotation shares: the HTTP client to the consumers, whether a consumer accepts a password,
 * reading and writing the Secrets' keys, a rollout restart waited for, and steps 1–2 (the pending pair).
 */
import {PASSWORD_ENV} from '../../config/passwords.js'
import type {RunContext} from '../../engine/types.js'
import {ObsctlError, inputError} from '../../errors.js'
import {openPlatform, rolloutStatus, waitUntil, type HttpClient, type Kube, type KubeObject, type ServiceKey} from '../../platform/index.js'
import {MANAGED_BY, decoded, type SecretObject} from '../secrets/catalogue.js'
import {RESTARTED_AT, type CredentialSpec, type RotatePhaseOptions, type Workload} from './model.js'

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
export const previousKey = (key: string) => `${key}-previous`

export async function http(ctx: RunContext, o: RotatePhaseOptions): Promise<HttpClient> {
  return ctx.resources
    .getOrCreate(
      'rotate:http',
      async () => openPlatform(ctx.inv, {...o.access, kubeconfig: ctx.kubeconfig, need: {opensearch: false, s3: false}}),
      (opened) => opened.close(),
    )
    .then((opened) => opened.ctx.http)
}

export function requireBasicAuth(h: HttpClient, service: ServiceKey): void {
  if (h.where(service).startsWith('API server proxy')) {
    throw inputError(
      `${service} needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)`,
      [`pass --endpoint ${service}=URL as well (an override wins over --via-api-server)`],
      'ROTATE_VIA_PROXY',
    )
  }
}

/** Does the consumer accept this password? true / false; anything else (no answer, 5xx) cannot be measured: an error. */
export async function accepts(h: HttpClient, service: ServiceKey, user: string, password: string): Promise<boolean> {
  const path = service === 'grafana' ? '/api/user' : '/_plugins/_security/authinfo'
  const res = await h.request(service, path, {headers: {authorization: basic(user, password)}})
  if (res.status === 200) return true
  if (res.status === 401 || res.status === 403) return false
  throw new ObsctlError(`${service}: GET ${path} as ${user} answered HTTP ${res.status}: cannot tell whether the password is accepted`, {
    code: 'ROTATE_UNMEASURABLE',
  })
}

export async function readSecret(kube: Kube, s: CredentialSpec['secret'], cluster: string): Promise<SecretObject> {
  const live = await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace)
  if (!live) throw inputError(`Secret ${s.namespace}/${s.name} is not in ${cluster}`, ['obsctl secrets apply creates it'], 'ROTATE_NO_SECRET')
  return live
}

/** Apply a Secret with these plain values for some keys (the others as they are), obsctl's label kept. */
export async function writeSecretKeys(kube: Kube, live: SecretObject, values: Record<string, string>): Promise<void> {
  const data = {...(live.data ?? {})}
  for (const [k, v] of Object.entries(values)) data[k] = Buffer.from(v, 'utf8').toString('base64')
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: live.metadata.name, namespace: live.metadata.namespace, labels: {...live.metadata.labels, ...MANAGED_BY}},
    type: live.type ?? 'Opaque',
    data,
  } as SecretObject)
}

export async function restart(kube: Kube, w: Workload, at: string, timeoutMs: number, signal: AbortSignal, log: (l: string) => void): Promise<void> {
  const live = await kube.get<KubeObject>(w.apiVersion, w.kind, w.name, w.namespace)
  if (!live)
    throw new ObsctlError(`${w.kind} ${w.namespace}/${w.name} is not in ${kube.context}: it reads the credential only at start, and cannot be restarted`, {
      code: 'ROTATE_NO_WORKLOAD',
      hints: ['is the platform synced? obsctl status shows it'],
    })
  await kube.mergePatch({
    apiVersion: w.apiVersion,
    kind: w.kind,
    metadata: {name: w.name, namespace: w.namespace},
    spec: {template: {metadata: {annotations: {[RESTARTED_AT]: at}}}},
  })
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
export async function pendingPair(
  ck: Kube,
  central: string,
  o: RotatePhaseOptions,
  spec: CredentialSpec,
  log: (l: string) => void,
): Promise<{oldPw: string; newPw: string; source: string; resumed: boolean}> {
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
    log(
      `${spec.secret.namespace}/${spec.secret.name} holds a rotation an earlier run did not finish: finishing it${given && given.value !== newPw ? ` (${given.source} waits: rerun to rotate again)` : ''}`,
    )
  } else {
    if (!inSecret)
      throw inputError(
        `Secret ${spec.secret.namespace}/${spec.secret.name} on ${central} has no ${spec.secret.key}`,
        ['obsctl secrets apply writes it'],
        'ROTATE_NO_SECRET',
      )
    if (!given) throw new ObsctlError(`no new value for ${spec.title}`, {code: 'ROTATE_NO_VALUE'})
    if (given.value === inSecret)
      throw inputError(
        `${given.source} (${spec.title}) is the current value: a rotation needs a new one`,
        [`export ${PASSWORD_ENV[spec.kind]}=… with another password, or unset it: obsctl generates one`],
        'ROTATE_SAME_VALUE',
      )
    oldPw = inSecret
    newPw = given.value
    source = given.source
    await writeSecretKeys(ck, live, {[spec.secret.key]: newPw, [prevKey]: oldPw})
    log(`${central}: ${spec.secret.namespace}/${spec.secret.name}: new ${spec.secret.key} (${source}); the old one kept as ${prevKey} until verified`)
  }
  return {oldPw, newPw, source, resumed: source === 'pending in the Secret'}
}
