/**
 * The rotation of a credential whose plain value is one Secret key (Grafana's and OpenSearch's admin
 * passwords): steps 1–6 of ../rotate.ts for one value.
 */
import {ICONS} from '../../checks/render.js'
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext, TaskIO} from '../../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../../errors.js'
import {requireCredentialRoute, waitUntil} from '../../platform/index.js'
import {kubeForCluster} from '../run.js'
import {decoded} from '../secrets/catalogue.js'
import {accepts, finishPending, http, pendingPair, previousKey, readSecret, restartAll, writeSecretKeys} from './common.js'
import {grafanaChange, opensearchChange} from './consumers.js'
import {CREDENTIALS, type CredentialSpec, type RotatePhaseOptions, type RotateReport} from './model.js'
import {pollMs} from '../../poll.js'

export async function rotateOne(ctx: RunContext, o: RotatePhaseOptions, spec: CredentialSpec, io: TaskIO): Promise<RotateReport> {
  const log = (l: string) => io.log(l)
  const p = ctx.platform
  const central = centralCluster(p)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  requireCredentialRoute(h, spec.service)
  const ck = await kubeForCluster(ctx, central.name)
  const prevKey = previousKey(spec.secret.key)
  const {oldPw, newPw, source, resumed, rotation} = await pendingPair(ck, central.name, o, spec, log)

  // 3: the consumer
  let consumer: string
  if (await accepts(h, spec.service, spec.user, newPw)) {
    consumer = `${spec.service} already accepts it`
    log(consumer)
  } else if (spec.service === 'grafana') {
    consumer = await grafanaChange(h, spec, oldPw, newPw)
    log(`Grafana: the admin password changed through ${consumer}`)
    killPoint('rotate:consumer-changed')
  } else {
    const adminPw = spec.id === 'opensearch' ? oldPw : decoded((await readSecret(ck, CREDENTIALS.opensearch.secret, central.name)).data?.password)
    if (!adminPw)
      throw inputError(`Secret ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin} has no password`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')
    try {
      consumer = await opensearchChange(h, ck, spec.opensearchUser!, adminPw, newPw, log)
    } catch (e) {
      // the admin's own rotation, resumed: the operator can load the new hash while this run works (the old
      // password refused from then on), which is the rotation taking effect, not a failure
      if (!(spec.id === 'opensearch' && e instanceof ObsctlError && e.code === 'ROTATE_OLD_REFUSED' && (await accepts(h, spec.service, spec.user, newPw))))
        throw e
      consumer = `the security config Secret (${SECRET_NAMES.opensearchSecurityConfig}), loaded by the operator`
    }
    log(`OpenSearch user ${spec.opensearchUser}: ${consumer}`)
    killPoint('rotate:consumer-changed')
  }

  // 4: the other clusters' copies and the restarts; one cluster's failure does not stop the others
  const failures: string[] = []
  const secrets: RotateReport['secrets'] = [{cluster: central.name, ...spec.secret}]
  const restarted: RotateReport['restarted'] = []
  const clusters = spec.everyCluster ? p.clusters : [central]
  for (const c of clusters) {
    try {
      const kube = c.name === central.name ? ck : await kubeForCluster(ctx, c.name)
      // central's copy is the one step 2 wrote (with a new rotation id when it changed)
      let secretsChanged = false
      if (c.name !== central.name) {
        const s = await readSecret(kube, spec.secret, c.name)
        secretsChanged = decoded(s.data?.[spec.secret.key]) !== newPw
        if (secretsChanged) await writeSecretKeys(kube, s, {[spec.secret.key]: newPw})
        secrets.push({cluster: c.name, ...spec.secret})
        log(`${c.name}: ${spec.secret.namespace}/${spec.secret.name}: new ${spec.secret.key}`)
      }
      const run = {rotation, secretsChanged, timeoutMs, signal: ctx.signal, log, intervalMs: o.pollMs}
      restarted.push(...(await restartAll(kube, c.name, spec.restarts(p, c), run)))
    } catch (e) {
      if (e instanceof ObsctlError && e.exitCode === 130) throw e
      failures.push(`${c.name}: ${errorMessage(e)}`)
      log(`${ICONS.fail} ${c.name}: ${errorMessage(e)}`)
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
    {timeoutMs, intervalMs: o.pollMs ?? pollMs(1000), signal: ctx.signal, onProgress: log},
  )
  log(`verified: ${spec.service} accepts the new ${spec.title} and refuses the old one`)
  if (failures.length > 0) {
    throw new ObsctlError(`${spec.title}: rotated and verified, but not every cluster follows: ${failures.join('; ')}`, {
      code: 'ROTATE_PARTIAL',
      hints: [`the old value stays in ${spec.secret.namespace}/${spec.secret.name} as ${prevKey}: rerun obsctl secrets rotate ${spec.id} to finish`],
    })
  }

  // 6: the old value leaves the Secret
  await finishPending(ck, spec.secret)
  return {credential: spec.id, user: spec.user, source, resumed, secrets, consumer, restarted, verified}
}
