/**
 * What every rotation shares: the HTTP client to the consumers, whether a consumer accepts a password,
 * reading and writing the Secrets' keys, a rollout restart waited for, and steps 1–2 (the pending pair).
 */
import {randomBytes} from 'node:crypto'
import {PASSWORD_ENV} from '../../config/passwords.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext} from '../../engine/types.js'
import {ObsctlError, inputError} from '../../errors.js'
import {openPlatform, rolloutStatus, waitUntil, type HttpClient, type Kube, type KubeObject, type ServiceKey} from '../../platform/index.js'
import {MANAGED_BY, decoded, type SecretObject} from '../secrets/catalogue.js'
import {RESTARTED_AT, ROTATION, type CredentialSpec, type OperatorWorkload, type RotatePhaseOptions, type RotateReport, type Workload} from './model.js'

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
export const previousKey = (key: string) => `${key}-previous`
/** the id of the pending rotation, beside its old value (not a secret: random, it only tells one rotation from another) */
export const rotationKey = (key: string) => `${key}-rotation`

export async function http(ctx: RunContext, o: RotatePhaseOptions): Promise<HttpClient> {
  return ctx.resources
    .getOrCreate(
      'rotate:http',
      async () => openPlatform(ctx.inv, {...o.access, kubeconfig: ctx.kubeconfig, need: {opensearch: false, s3: false}}),
      (opened) => opened.close(),
    )
    .then((opened) => opened.ctx.http)
}

/**
 * Does the consumer accept this password? 200: yes; 401: no. 403 is an authenticated user the path is not allowed
 * to (Grafana's /api/user and OpenSearch's authinfo answer every signed-in user): the password was accepted, so an
 * old password answered 403 is NOT refused. Anything else (no answer, 5xx) cannot be measured: an error.
 */
export async function accepts(h: HttpClient, service: ServiceKey, user: string, password: string): Promise<boolean> {
  const path = service === 'grafana' ? '/api/user' : '/_plugins/_security/authinfo'
  const res = await h.request(service, path, {headers: {authorization: basic(user, password)}})
  if (res.status === 200 || res.status === 403) return true
  if (res.status === 401) return false
  throw new ObsctlError(`${service}: GET ${path} as ${user} answered HTTP ${res.status}: cannot tell whether the password is accepted`, {
    code: 'ROTATE_UNMEASURABLE',
  })
}

export async function readSecret(kube: Kube, s: {namespace: string; name: string}, cluster: string): Promise<SecretObject> {
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

/** How a run restarts what reads a credential only at start. */
export interface RestartRun {
  /**
   * the rotation this restart is for (its id in central's Secret, written by pendingPairOf below): it goes on the pod
   * template beside the restart time, so that a rerun finishing the same rotation waits for that rollout instead
   * of restarting again (an OpenSearch node pool rolls one pod at a time, minutes per node)
   */
  rotation?: string
  /** a Secret of this cluster was written in this run: its workloads restart whatever an earlier run did */
  secretsChanged: boolean
  timeoutMs: number
  signal: AbortSignal
  log: (l: string) => void
  /** between rollout checks (default 1 s) */
  intervalMs?: number
}

/**
 * Restart each workload (a rollout restart, or through its operator's resource) and wait for its rollout. One
 * that an earlier run restarted for this same rotation (its pod template carries the rotation's id), in a
 * cluster whose Secrets this run did not change, is not restarted again: its rollout is waited for (an
 * interrupted run may have left it half-way), and it is reported as restarted by that run.
 */
export async function restartAll(kube: Kube, cluster: string, workloads: (Workload | OperatorWorkload)[], o: RestartRun): Promise<Restarted[]> {
  const out: Restarted[] = []
  for (const w of workloads) out.push({cluster, kind: w.kind, namespace: w.namespace, name: w.name, ...(await restart(kube, w, o))})
  return out
}

type Restarted = RotateReport['restarted'][number]

/** the restart time to use: an earlier run's for this rotation (its annotations), else now */
function restartMark(annotations: Record<string, string> | undefined, o: RestartRun): {restartedAt: string; byEarlierRun?: true} {
  const earlier = annotations?.[RESTARTED_AT]
  if (o.rotation && !o.secretsChanged && earlier && annotations[ROTATION] === o.rotation) return {restartedAt: earlier, byEarlierRun: true}
  return {restartedAt: new Date().toISOString()}
}

/**
 * A rollout restart (the annotation `kubectl rollout restart` sets on the pod template), waited for. What an
 * operator owns (`statefulSet`: Prometheus, ThanosRuler) gets it on its custom resource's
 * spec.podMetadata.annotations instead (the operator copies it into its StatefulSet's pod template and rolls it;
 * patching the StatefulSet itself would be undone by the operator), and that StatefulSet is waited for until its
 * pod template carries it and its rollout is done.
 */
async function restart(kube: Kube, w: Workload | OperatorWorkload, o: RestartRun): Promise<{restartedAt: string; byEarlierRun?: true}> {
  const operated = 'statefulSet' in w
  const live = await kube.get<PodTemplated & {spec?: {podMetadata?: {annotations?: Record<string, string>}}}>(w.apiVersion, w.kind, w.name, w.namespace)
  if (!live)
    throw new ObsctlError(`${w.kind} ${w.namespace}/${w.name} is not in ${kube.context}: it reads the credential only at start, and cannot be restarted`, {
      code: 'ROTATE_NO_WORKLOAD',
      hints: ['is the platform synced? obsctl status shows it'],
    })
  const mark = restartMark(operated ? live.spec?.podMetadata?.annotations : live.spec?.template?.metadata?.annotations, o)
  const at = mark.restartedAt
  const subject = `${kube.context}: ${w.kind} ${w.namespace}/${w.name}`
  if (mark.byEarlierRun) {
    o.log(`${subject}: restarted for this rotation by an earlier run (${RESTARTED_AT}=${at}): not again`)
  } else {
    const annotations = {[RESTARTED_AT]: at, ...(o.rotation ? {[ROTATION]: o.rotation} : {})}
    await kube.mergePatch({
      apiVersion: w.apiVersion,
      kind: w.kind,
      metadata: {name: w.name, namespace: w.namespace},
      spec: operated ? {podMetadata: {annotations}} : {template: {metadata: {annotations}}},
    })
    o.log(`${subject}: ${operated ? 'restart through spec.podMetadata.annotations' : 'rollout restart'} (${RESTARTED_AT}=${at})`)
  }
  // what rolls: the workload itself, or the StatefulSet the operator makes of its resource
  const rolls = operated
    ? {apiVersion: 'apps/v1', kind: 'StatefulSet', name: w.statefulSet, title: `StatefulSet ${w.namespace}/${w.statefulSet} (${w.kind} ${w.name})`}
    : {apiVersion: w.apiVersion, kind: w.kind, name: w.name, title: `${w.kind} ${w.namespace}/${w.name}`}
  await waitUntil(
    `the rollout of ${rolls.title} on ${kube.context}`,
    async () => {
      const x = await kube.get<PodTemplated>(rolls.apiVersion, rolls.kind, rolls.name, w.namespace)
      if (!x) return operated ? `StatefulSet ${w.namespace}/${w.statefulSet}: not there` : `${w.kind} ${w.namespace}/${w.name}: gone`
      if (operated && x.spec?.template?.metadata?.annotations?.[RESTARTED_AT] !== at)
        return `StatefulSet ${w.namespace}/${w.statefulSet}: waiting for the operator to put ${RESTARTED_AT}=${at} in its pod template`
      return rolloutStatus(x)
    },
    {timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, signal: o.signal, onProgress: o.log},
  )
  return mark
}

type PodTemplated = KubeObject & {spec?: {template?: {metadata?: {annotations?: Record<string, string>}}}}

/**
 * How one credential's value sits in central's reference Secret: read from a key's text, written (with the
 * old value kept beside it until verified), compared. A password is the key's text itself; the S3 key pair
 * is read from (and written into) objstore.yml.
 */
export interface PendingCodec<T> {
  title: string
  secret: CredentialSpec['secret']
  /** the value a key's text holds (undefined: none) */
  read(text: string | undefined): T | undefined
  /** the Secret keys (plain values) for the new value, the old one kept under previousKey(secret.key) */
  write(next: T, old: T): Record<string, string>
  same(a: T, b: T): boolean
  /** bad input: the given value is the current one */
  sameValueHints: string[]
  /** bad input (else an internal error): no new value was given and none is pending */
  noValueHints?: string[]
}

/**
 * Steps 1–2: the pair (old, new) in central's Secret, pending until verified (or the pair an earlier run left
 * there). `check` runs on a new value before anything is written (a failure leaves everything as it was).
 */
export async function pendingPairOf<T>(
  ck: Kube,
  central: string,
  codec: PendingCodec<T>,
  given: {value: T; source: string} | undefined,
  log: (l: string) => void,
  check?: (next: T) => Promise<void>,
): Promise<{oldValue: T; newValue: T; source: string; resumed: boolean; rotation?: string}> {
  const s = codec.secret
  const live = await readSecret(ck, s, central)
  const prevKey = previousKey(s.key)
  const pendingOld = codec.read(decoded(live.data?.[prevKey]))
  const inSecret = codec.read(decoded(live.data?.[s.key]))
  if (pendingOld !== undefined && inSecret !== undefined) {
    log(
      `${s.namespace}/${s.name} holds a rotation an earlier run did not finish: finishing it${given && !codec.same(given.value, inSecret) ? ` (${given.source} waits: rerun to rotate again)` : ''}`,
    )
    // a rotation an older obsctl started has no id: everything is restarted again
    return {
      oldValue: pendingOld,
      newValue: inSecret,
      source: 'pending in the Secret',
      resumed: true,
      rotation: decoded(live.data?.[rotationKey(s.key)]) || undefined,
    }
  }
  if (inSecret === undefined)
    throw inputError(`Secret ${s.namespace}/${s.name} on ${central} has no ${s.key}`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')
  if (!given) {
    if (codec.noValueHints) throw inputError(`no new value for ${codec.title}`, codec.noValueHints, 'ROTATE_NO_VALUE')
    throw new ObsctlError(`no new value for ${codec.title}`, {code: 'ROTATE_NO_VALUE'})
  }
  if (codec.same(given.value, inSecret))
    throw inputError(`${given.source} (${codec.title}) is the current value: a rotation needs a new one`, codec.sameValueHints, 'ROTATE_SAME_VALUE')
  await check?.(given.value)
  const rotation = randomBytes(12).toString('base64url')
  await writeSecretKeys(ck, live, {...codec.write(given.value, inSecret), [rotationKey(s.key)]: rotation})
  log(`${central}: ${s.namespace}/${s.name}: new ${s.key} (${given.source}); the old one kept as ${prevKey} until verified (rotation ${rotation})`)
  killPoint('rotate:pending-written')
  return {oldValue: inSecret, newValue: given.value, source: given.source, resumed: false, rotation}
}

/** Step 6: the old value and the rotation's id leave central's Secret. */
export async function finishPending(ck: Kube, secret: {namespace: string; name: string; key: string}): Promise<void> {
  await ck.mergePatch({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: secret.name, namespace: secret.namespace},
    data: {[previousKey(secret.key)]: null, [rotationKey(secret.key)]: null},
  })
}

/** Steps 1–2 for a password kept as the plain text of one Secret key. */
export async function pendingPair(
  ck: Kube,
  central: string,
  o: RotatePhaseOptions,
  spec: CredentialSpec,
  log: (l: string) => void,
): Promise<{oldPw: string; newPw: string; source: string; resumed: boolean; rotation?: string}> {
  const codec: PendingCodec<string> = {
    title: spec.title,
    secret: spec.secret,
    read: (text) => text || undefined,
    write: (next, old) => ({[spec.secret.key]: next, [previousKey(spec.secret.key)]: old}),
    same: (a, b) => a === b,
    sameValueHints: [`export ${PASSWORD_ENV[spec.kind]}=… with another password, or unset it: obsctl generates one`],
  }
  const r = await pendingPairOf(ck, central, codec, o.values[spec.id], log)
  return {oldPw: r.oldValue, newPw: r.newValue, source: r.source, resumed: r.resumed, rotation: r.rotation}
}
