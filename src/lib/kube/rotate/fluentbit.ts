import {ICONS} from '../../checks/render.js'
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext, TaskIO} from '../../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../../errors.js'
import {requireCredentialRoute, waitUntil} from '../../platform/index.js'
import {kubeForCluster} from '../run.js'
import {decoded, fluentbitPasswordFor, fluentbitUser} from '../secrets/catalogue.js'
import {accepts, finishPending, http, pendingPair, previousKey, readSecret, restartAll, writeSecretKeys} from './common.js'
import {opensearchChange} from './consumers.js'
import {CREDENTIALS, type RotatePhaseOptions, type RotateReport} from './model.js'
import {pollMs} from '../../poll.js'

/**
 * Fluent Bit: the key rotates (pending in central's Secret as per-cluster-key / per-cluster-key-previous);
 * per cluster, its user fluentbit-CLUSTER gets the password the new key derives: in OpenSearch (security
 * API and the security config's hash), in that cluster's Secret, then Fluent Bit restarted. Verified per
 * user: the password the new key derives is accepted, the one the old key derives refused.
 */
export async function rotateFluentbit(ctx: RunContext, o: RotatePhaseOptions, io: TaskIO): Promise<RotateReport> {
  const spec = CREDENTIALS['fluent-bit']
  const log = (l: string) => io.log(l)
  const p = ctx.platform
  const central = centralCluster(p)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  requireCredentialRoute(h, 'opensearch')
  const ck = await kubeForCluster(ctx, central.name)
  const prevKey = previousKey(spec.secret.key)
  const {oldPw: oldKey, newPw: newKey, source, resumed, rotation} = await pendingPair(ck, central.name, o, spec, log)
  const adminPw = decoded((await readSecret(ck, CREDENTIALS.opensearch.secret, central.name)).data?.password)
  if (!adminPw)
    throw inputError(`Secret ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin} has no password`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')

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
        killPoint('rotate:consumer-changed')
      }
      const kube = c.name === central.name ? ck : await kubeForCluster(ctx, c.name)
      const s = await readSecret(kube, spec.secret, c.name)
      const secretsChanged = decoded(s.data?.username) !== user || decoded(s.data?.password) !== newPw
      if (secretsChanged) await writeSecretKeys(kube, s, {username: user, password: newPw})
      secrets.push({cluster: c.name, ...spec.secret, key: 'password'})
      log(`${c.name}: ${spec.secret.namespace}/${spec.secret.name}: username ${user}, the password the new key derives for it`)
      const run = {rotation, secretsChanged, timeoutMs, signal: ctx.signal, log, intervalMs: o.pollMs}
      restarted.push(...(await restartAll(kube, c.name, spec.restarts(p, c), run)))
      changed.push({cluster: c.name, user, newPw, oldPw})
    } catch (e) {
      if (e instanceof ObsctlError && e.exitCode === 130) throw e
      failures.push(`${c.name}: ${errorMessage(e)}`)
      log(`${ICONS.fail} ${c.name}: ${errorMessage(e)}`)
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
    {timeoutMs, intervalMs: o.pollMs ?? pollMs(1000), signal: ctx.signal, onProgress: log},
  )
  if (users.length) log(`verified: OpenSearch accepts the new password of ${users.map((u) => u.user).join(', ')} and refuses the old one`)
  if (failures.length > 0) {
    throw new ObsctlError(`${spec.title}: not every cluster follows: ${failures.join('; ')}`, {
      code: 'ROTATE_PARTIAL',
      hints: [
        `the old key stays in ${spec.secret.namespace}/${spec.secret.name} on ${central.name} as ${prevKey}: rerun obsctl secrets rotate fluent-bit to finish`,
      ],
    })
  }

  // 6: the old key leaves central's Secret
  await finishPending(ck, spec.secret)
  const verified = {newAccepted: users.every((u) => u.newAccepted), oldRefused: users.every((u) => u.oldRefused)}
  return {
    credential: 'fluent-bit',
    user: users.map((u) => u.user).join(', '),
    source,
    resumed,
    secrets,
    consumer: [...consumers].join('; '),
    restarted,
    verified,
    users,
  }
}
