import {centralCluster, NAMESPACES} from '../../config/model.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext, TaskIO} from '../../engine/types.js'
import {ObsctlError, inputError} from '../../errors.js'
import {ARGOCD_PASSWORD_ENV, INITIAL_ADMIN_SECRET, requireCredentialRoute, waitUntil} from '../../platform/index.js'
import {kubeForCluster} from '../run.js'
import {http} from './common.js'
import {ARGOCD_NEW_PASSWORD_ENV, type RotatePhaseOptions, type RotateReport} from './model.js'

/** Argo CD: the admin password's bcrypt hash in argocd-secret (read live by argocd-server), verified through its session API. */
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
  if (!given) throw new ObsctlError('no new value for the Argo CD admin password', {code: 'ROTATE_NO_VALUE'})
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
  const fromEnv = process.env[ARGOCD_PASSWORD_ENV]
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
  let consumer = `${NAMESPACES.argocd}/${ARGOCD_SECRET} admin.password (bcrypt) and admin.passwordMtime, read live by argocd-server`
  if (await session(given.value)) {
    consumer = 'argocd already accepts it'
    log(consumer)
  } else {
    if (!(await session(oldPw)))
      throw inputError(
        `Argo CD refuses the current admin password (${oldFrom}): nothing was changed`,
        [`export ${ARGOCD_PASSWORD_ENV}=… with the current admin password`],
        'ROTATE_OLD_REFUSED',
      )
    const r = await rotateAdminPassword(kube, given.value)
    killPoint('rotate:consumer-changed')
    log(
      `${central.name}: ${NAMESPACES.argocd}/${ARGOCD_SECRET}: new admin.password hash, admin.passwordMtime ${r.passwordMtime}${r.initialDeleted ? `; ${INITIAL_ADMIN_SECRET} deleted` : ''}`,
    )
  }
  const verified = {newAccepted: false, oldRefused: false}
  await waitUntil(
    'argocd to accept the new admin password and refuse the old one',
    async () => {
      verified.newAccepted = await session(given.value)
      verified.oldRefused = verified.newAccepted && !(await session(oldPw))
      return verified.newAccepted && verified.oldRefused
        ? true
        : `argocd: new password ${verified.newAccepted ? 'accepted, old one still accepted' : 'refused'}`
    },
    {timeoutMs, intervalMs: o.pollMs ?? 1000, signal: ctx.signal, onProgress: log},
  )
  log('verified: argocd accepts the new admin password and refuses the old one')
  return {
    credential: 'argocd',
    user: 'admin',
    source: given.source,
    resumed: false,
    secrets: [{cluster: central.name, namespace: NAMESPACES.argocd, name: ARGOCD_SECRET, key: 'admin.password'}],
    consumer,
    restarted: [],
    verified,
  }
}
