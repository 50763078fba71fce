/**
 * Argo CD's admin password: its bcrypt hash in argocd-secret (read live by argocd-server), verified through its
 * session API. Argo CD keeps only the hash, so the new value is recorded first, pending, in a Secret of obsctl's
 * beside it (PENDING_SECRET: the new value, the old one and where the new one came from), before the hash
 * changes: a run stopped at any point after that (a kill, a failed verification) is finished by the next
 * `secrets rotate argocd`, which finds the pair there — and a generated password, shown only at the end of a run,
 * is never lost. The Secret goes once the rotation is verified; a generated password's only once the flow has it
 * in its result (dropPendingArgocd), so the run that shows it is the one that drops it.
 */
import {centralCluster, NAMESPACES} from '../../config/model.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext, TaskIO} from '../../engine/types.js'
import {ObsctlError, inputError} from '../../errors.js'
import {ARGOCD_PASSWORD_ENV, INITIAL_ADMIN_SECRET, requireCredentialRoute, waitUntil, type Kube} from '../../platform/index.js'
import {kubeForCluster} from '../run.js'
import {MANAGED_BY, decoded, type SecretObject} from '../secrets/catalogue.js'
import {http} from './common.js'
import {ARGOCD_NEW_PASSWORD_ENV, type RotatePhaseOptions, type RotateReport} from './model.js'
import {envValue} from '../../env.js'
import {pollMs} from '../../poll.js'

/** The pending rotation of the Argo CD admin password (plain values, as the initial admin secret holds one), while it runs. */
export const PENDING_SECRET = 'obsctl-admin-password-rotation'

const PENDING_SOURCE = 'pending in the Secret'

interface Pending {
  newPw: string
  oldPw: string
  /** where the new value came from: `generated` or `$OBSCTL_ARGOCD_NEW_PASSWORD` */
  source: string
}

export async function readPending(kube: Kube): Promise<Pending | undefined> {
  const s = await kube.get<SecretObject>('v1', 'Secret', PENDING_SECRET, NAMESPACES.argocd)
  const newPw = decoded(s?.data?.password)
  const oldPw = decoded(s?.data?.['password-previous'])
  return newPw && oldPw ? {newPw, oldPw, source: decoded(s?.data?.source) ?? 'generated'} : undefined
}

async function writePending(kube: Kube, p: Pending): Promise<void> {
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64')
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: PENDING_SECRET, namespace: NAMESPACES.argocd, labels: {...MANAGED_BY}},
    type: 'Opaque',
    data: {password: b64(p.newPw), 'password-previous': b64(p.oldPw), source: b64(p.source)},
  } as SecretObject)
}

/** The pending Secret goes: once the rotation is verified, or for a generated password once the flow has it in its result. */
export async function dropPendingArgocd(kube: Kube): Promise<void> {
  await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: {name: PENDING_SECRET, namespace: NAMESPACES.argocd}})
}

export async function rotateArgocd(ctx: RunContext, o: RotatePhaseOptions, io: TaskIO): Promise<RotateReport> {
  const log = (l: string) => io.log(l)
  const central = centralCluster(ctx.platform)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  // the old and new passwords go to Argo CD's session API: over verified https only (not plain http, not the API server's proxy)
  requireCredentialRoute(h, 'argocd')
  const kube = await kubeForCluster(ctx, central.name)
  const {readInitialPassword, rotateAdminPassword, ARGOCD_SECRET} = await import('../../argocd/password.js')
  const given = o.values.argocd
  const session = async (password: string): Promise<boolean> => {
    const res = await h.request('argocd', '/api/v1/session', {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({username: 'admin', password}),
    })
    if (res.status === 200) return true
    if (res.status === 401) return false
    throw new ObsctlError(`argocd: POST /api/v1/session answered HTTP ${res.status}: cannot tell whether the password is accepted`, {
      code: 'ROTATE_UNMEASURABLE',
    })
  }

  // 1–2: the pending pair an earlier run left, else a new one, recorded before anything changes in Argo CD
  let pending = await readPending(kube)
  const resumed = pending !== undefined
  if (pending) {
    const waits = given && given.source !== 'generated' && given.value !== pending.newPw ? ` (${given.source} waits: rerun to rotate again)` : ''
    log(`${NAMESPACES.argocd}/${PENDING_SECRET} holds a rotation an earlier run did not finish: finishing it${waits}`)
  } else {
    if (!given) throw new ObsctlError('no new value for the Argo CD admin password', {code: 'ROTATE_NO_VALUE'})
    const fromEnv = envValue(ARGOCD_PASSWORD_ENV, {secret: true})
    const oldPw = fromEnv || (await readInitialPassword(kube))
    const oldFrom = fromEnv ? `$${ARGOCD_PASSWORD_ENV}` : `${NAMESPACES.argocd}/${INITIAL_ADMIN_SECRET}`
    if (!oldPw)
      throw inputError(
        `the current Argo CD admin password is needed to prove it is refused afterwards, and ${INITIAL_ADMIN_SECRET} is gone`,
        [`export ${ARGOCD_PASSWORD_ENV}=… (the current one)`],
        'ROTATE_NO_OLD',
      )
    if (oldPw === given.value)
      throw inputError(
        `${given.source} (Argo CD admin password) is the current value: a rotation needs a new one`,
        [`export ${ARGOCD_NEW_PASSWORD_ENV}=… with another password, or unset it: obsctl generates one`],
        'ROTATE_SAME_VALUE',
      )
    if (!(await session(given.value)) && !(await session(oldPw)))
      throw inputError(
        `Argo CD refuses the current admin password (${oldFrom}): nothing was changed`,
        [`export ${ARGOCD_PASSWORD_ENV}=… with the current admin password`],
        'ROTATE_OLD_REFUSED',
      )
    pending = {newPw: given.value, oldPw, source: given.source}
    await writePending(kube, pending)
    log(`${central.name}: ${NAMESPACES.argocd}/${PENDING_SECRET}: the new admin password (${given.source}) and the old one, until verified`)
    killPoint('rotate:pending-written')
  }
  const {newPw, oldPw} = pending

  // 3: the hash Argo CD reads; the initial secret goes (also when a killed run changed the hash but did not delete it)
  let consumer = `${NAMESPACES.argocd}/${ARGOCD_SECRET} admin.password (bcrypt) and admin.passwordMtime, read live by argocd-server`
  if (await session(newPw)) {
    consumer = 'argocd already accepts it'
    log(consumer)
    if (await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: {name: INITIAL_ADMIN_SECRET, namespace: NAMESPACES.argocd}}))
      log(`${central.name}: ${NAMESPACES.argocd}/${INITIAL_ADMIN_SECRET} deleted`)
  } else {
    const r = await rotateAdminPassword(kube, newPw)
    killPoint('rotate:consumer-changed')
    log(
      `${central.name}: ${NAMESPACES.argocd}/${ARGOCD_SECRET}: new admin.password hash, admin.passwordMtime ${r.passwordMtime}${r.initialDeleted ? `; ${INITIAL_ADMIN_SECRET} deleted` : ''}`,
    )
  }

  // 5: verified by Argo CD itself
  const verified = {newAccepted: false, oldRefused: false}
  await waitUntil(
    'argocd to accept the new admin password and refuse the old one',
    async () => {
      verified.newAccepted = await session(newPw)
      verified.oldRefused = verified.newAccepted && !(await session(oldPw))
      return verified.newAccepted && verified.oldRefused
        ? true
        : `argocd: new password ${verified.newAccepted ? 'accepted, old one still accepted' : 'refused'}`
    },
    {timeoutMs, intervalMs: o.pollMs ?? pollMs(1000), signal: ctx.signal, onProgress: log},
  )
  log('verified: argocd accepts the new admin password and refuses the old one')

  // 6: a value the user gave leaves the cluster now; a generated one is shown once by the flow, which then drops it
  if (pending.source === 'generated') o.onGenerated?.(newPw)
  else await dropPendingArgocd(kube)
  return {
    credential: 'argocd',
    user: 'admin',
    source: resumed ? PENDING_SOURCE : pending.source,
    resumed,
    secrets: [{cluster: central.name, namespace: NAMESPACES.argocd, name: ARGOCD_SECRET, key: 'admin.password'}],
    consumer,
    restarted: [],
    verified,
  }
}
