/**
 * The steps of `cluster remove` that take the cluster's credentials back: its OpenSearch user
 * (revoke-opensearch-user) and the tokens Argo CD and Prometheus used on it (revoke-edge-tokens).
 */
import {yaml} from '../lazy-deps.js'
import {NAMESPACES} from '../config/model.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError} from '../errors.js'
import {centralKube, target, type RemovalOptions} from './removal.js'

export interface RevokeOpensearchReport {
  user: string
  /** the security API deleted it now (false: it was gone already) */
  deleted: boolean
  /** it was also taken out of central's opensearch-security-config Secret (so securityadmin does not bring it back) */
  securityConfig: boolean
}

/** A network failure reaching a host (as opposed to an answer from it). */
function unreachable(e: unknown): string | undefined {
  const code = (e as {code?: unknown}).code
  return code === 'KUBE_UNREACHABLE' || code === 'KUBE_TIMEOUT' ? (e as Error).message : undefined
}

/**
 * Revoke the cluster's own OpenSearch user (fluentbit-NAME): DELETE _plugins/_security/api/internalusers/NAME
 * through the platform's OpenSearch access (admin credentials from $OBSCTL_OPENSEARCH_USER/PASSWORD, else
 * central's opensearch-admin-credentials Secret obsctl manages), then take it out of the security config
 * Secret, and check that OpenSearch no longer knows it.
 */
export function revokeOpensearchUserPhase({cluster: c, access}: RemovalOptions): Phase<Target, RevokeOpensearchReport> {
  return {
    name: 'revoke-opensearch-user',
    kubeconfig: 'read',
    title: 'Revoke its OpenSearch user',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `delete the OpenSearch internal user fluentbit-${c.name} (security API) and drop it from the security config Secret`,
    async run(_t, ctx, io) {
      const {fluentbitUser, liveValue, OPENSEARCH_ADMIN_USER} = await import('../kube/secrets/index.js')
      const {SECRET_NAMES} = await import('../config/model.js')
      const {openPlatform} = await import('../platform/access.js')
      const {os, osError} = await import('../platform/opensearch.js')
      const user = fluentbitUser(c.name)
      const central = await centralKube(ctx)
      const opened = await openPlatform(ctx.inv, {...access, kubeconfig: ctx.kubeconfig, need: {opensearch: true, s3: false}, prompt: false})
      try {
        if ('missing' in opened.ctx.opensearch) {
          const password = await liveValue(central, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'password')
          if (password)
            opened.ctx.opensearch = {
              user: (await liveValue(central, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'username')) ?? OPENSEARCH_ADMIN_USER,
              password,
            }
        }
        const at = `_plugins/_security/api/internalusers/${encodeURIComponent(user)}`
        const res = await os(opened.ctx, `/${at}`, {method: 'DELETE'})
        if (res.status !== 200 && res.status !== 404) {
          throw new ObsctlError(
            `OpenSearch refused to delete user ${user}: ${res.status} ${osError(res)}${/reserved|read-only/i.test(res.body) ? ' (a reserved user: secrets apply with this version makes it deletable)' : ''}`,
            {
              code: 'OPENSEARCH_REVOKE',
              hints: [
                'check that the credentials have the security REST API (all_access / security_rest_api_access)',
                `rerun: obsctl cluster remove ${c.name}`,
              ],
            },
          )
        }
        const deleted = res.status === 200
        io.log(deleted ? `deleted OpenSearch user ${user}` : `OpenSearch user ${user} was not there`)
        // the security config Secret is what the operator's securityadmin loads: the user must not come back from it
        let securityConfig = false
        const secret = await central.get<{
          apiVersion: string
          kind: string
          metadata: {name: string; namespace?: string; labels?: Record<string, string>}
          type?: string
          data?: Record<string, string>
        }>('v1', 'Secret', SECRET_NAMES.opensearchSecurityConfig, NAMESPACES.logging)
        if (secret?.data) {
          const dec = (k: string) => (secret.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined)
          const users = yaml().parse(dec('internal_users.yml') ?? '{}') as Record<string, unknown> | null
          const mapping = yaml().parse(dec('roles_mapping.yml') ?? '{}') as Record<string, {users?: string[]}> | null
          const patch: Record<string, string> = {}
          if (users && user in users) {
            delete users[user]
            patch['internal_users.yml'] = yaml().stringify(users, {lineWidth: 0})
          }
          for (const role of Object.values(mapping ?? {})) {
            if (Array.isArray(role?.users) && role.users.includes(user)) {
              role.users = role.users.filter((u) => u !== user)
              patch['roles_mapping.yml'] = yaml().stringify(mapping, {lineWidth: 0})
            }
          }
          if (Object.keys(patch).length > 0) {
            // server-side apply of the whole Secret (obsctl owns all of it: a partial apply would drop the other files)
            const data = {...secret.data, ...Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))}
            await central.apply({
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: {name: SECRET_NAMES.opensearchSecurityConfig, namespace: NAMESPACES.logging, labels: secret.metadata.labels},
              type: secret.type ?? 'Opaque',
              data,
            })
            io.log(`removed ${user} from ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig} (${Object.keys(patch).join(', ')})`)
            securityConfig = true
          }
        }
        // measured, not assumed: OpenSearch must answer 404 for the user now
        const check = await os(opened.ctx, `/${at}`)
        if (check.status !== 404)
          throw new ObsctlError(`OpenSearch still knows user ${user} after the delete (GET answered ${check.status})`, {
            code: 'OPENSEARCH_REVOKE',
            hints: [`rerun: obsctl cluster remove ${c.name}`],
          })
        return {
          summary: `${user} ${deleted ? 'revoked' : 'already gone'}${securityConfig ? ', dropped from the security config' : ''}`,
          report: {user, deleted, securityConfig},
        }
      } finally {
        opened.close()
      }
    },
  }
}

export interface RevokeTokensReport {
  /** kube-system objects deleted on the edge (token Secrets, ServiceAccounts, bindings) */
  deleted: string[]
  /** the edge could not be reached: its tokens were NOT revoked (the reason) */
  unreachable?: string
  /**
   * the run that did this step before (its id): an interrupted removal's, which went on to remove the edge's kubeconfig
   * entries, so this run cannot reach the edge; its `deleted` and `unreachable` are that run's
   */
  byEarlierRun?: string
}

/** The removal records earlierRevoke reads: remove-inventory's forgetting keeps them. */
export const REVOKE_EVIDENCE = ['revoke-edge-tokens', 'remove-kubeconfig', 'remove-inventory'] as const

/**
 * A removal that an earlier run took past this step and on to the kubeconfig entries (then stopped: killed, Ctrl-C, a
 * failure) leaves the edge without a context, and nothing to reach it with: that run's outcome stands. Only when the
 * journal says so — the run that revoked (or found the edge unreachable) went on to remove the entries, and no run that did
 * this step since finished the removal (a finished removal's records are an earlier life's of a cluster added again
 * since). The run that revoked is the one this step's record names: its own, or, for a rerun that took the outcome
 * from it (byEarlierRun) and stopped before its own removal of the entries, the earlier one. The cluster's own records
 * decide, not the phases' runs (RunJournal.lastRun): those are per phase, across clusters, and the removal's end is
 * remove-inventory's task done, which a run stopped between two steps never reached.
 */
function earlierRevoke(ctx: RunContext, cluster: string): RevokeTokensReport | undefined {
  const revoked = ctx.journal?.before('revoke-edge-tokens', cluster)
  const kubeconfig = ctx.journal?.before('remove-kubeconfig', cluster)
  const finished = ctx.journal?.before('remove-inventory', cluster)
  if (revoked?.status !== 'done' || !revoked.runId) return undefined
  const r = (revoked.report ?? {}) as Partial<RevokeTokensReport>
  // a run that itself took it from an earlier one names the run that did the step
  const doneBy = r.byEarlierRun ?? revoked.runId
  const runs = [revoked.runId, doneBy]
  if (!kubeconfig?.runId || !runs.includes(kubeconfig.runId)) return undefined
  if (finished?.runId && runs.includes(finished.runId) && finished.status === 'done') return undefined
  return {deleted: r.deleted ?? [], ...(r.unreachable ? {unreachable: r.unreachable} : {}), byEarlierRun: doneBy}
}

/**
 * Revoke the edge's Argo CD and scrape tokens on the edge itself: delete the long-lived token Secrets,
 * the ServiceAccounts (which also invalidates any bound token) and their ClusterRoleBindings. The central
 * cluster Secret that held the token is deleted by remove-secret. An edge that cannot be reached is
 * reported as not revoked (the removal of a dead cluster goes on; its summary says so).
 */
export function revokeEdgeTokensPhase({cluster: c}: RemovalOptions): Phase<Target, RevokeTokensReport> {
  return {
    name: 'revoke-edge-tokens',
    kubeconfig: 'read',
    title: 'Revoke its Argo CD and scrape tokens on the edge',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `delete kube-system ServiceAccounts argocd-manager and obsctl-scrape, their token Secrets and bindings on ${c.name}`,
    async run(_t, ctx, io) {
      const {MANAGER, SCRAPE} = await import('../argocd/register.js')
      const {kubeForCluster} = await import('../kube/run.js')
      const objects = [
        {apiVersion: 'v1', kind: 'Secret', metadata: {name: MANAGER.tokenSecret, namespace: MANAGER.namespace}},
        {apiVersion: 'v1', kind: 'Secret', metadata: {name: SCRAPE.tokenSecret, namespace: SCRAPE.namespace}},
        {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: MANAGER.serviceAccount, namespace: MANAGER.namespace}},
        {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: SCRAPE.serviceAccount, namespace: SCRAPE.namespace}},
        {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: {name: MANAGER.clusterRoleBinding}},
        {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: {name: SCRAPE.clusterRoleBinding}},
      ]
      const deleted: string[] = []
      try {
        const edge = await kubeForCluster(ctx, c.name)
        for (const o of objects) {
          if (await edge.delete(o)) {
            const key = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`
            io.log(`deleted ${key}`)
            deleted.push(key)
          }
        }
      } catch (e) {
        const earlier = (e as {code?: unknown}).code === 'KUBE_CONTEXT' ? earlierRevoke(ctx, c.name) : undefined
        if (earlier) {
          const what = earlier.unreachable
            ? `found ${c.name} unreachable (${earlier.unreachable}): its tokens were NOT revoked`
            : `revoked its tokens${earlier.deleted.length ? ` (${earlier.deleted.join(', ')})` : ''}`
          io.log(`${c.name} has no kubeconfig context any more: the interrupted run ${earlier.byEarlierRun} ${what}, then removed its kubeconfig entries`)
          return {summary: `${earlier.unreachable ? 'NOT revoked' : 'revoked'} by the interrupted run ${earlier.byEarlierRun}`, report: earlier}
        }
        const why = unreachable(e)
        if (!why) throw e
        io.log(`${c.name} is unreachable (${why}): its tokens were NOT revoked; they stop working when its nodes are reset (--reset-nodes)`)
        return {summary: `NOT revoked: ${c.name} unreachable`, report: {deleted, unreachable: why}}
      }
      return {summary: deleted.length ? `deleted ${deleted.length} object(s)` : 'no tokens left', report: {deleted}}
    },
  }
}
