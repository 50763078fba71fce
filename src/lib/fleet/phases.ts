/**
 * The day-2 phases (factories, registered in ../flows/registry.ts): `argocd-refresh` (cluster add,
 * change) and the steps of `cluster remove` in order — remove-apps, remove-secret, remove-render,
 * remove-kubeconfig, reset-nodes, remove-inventory. Each returns its report; `removeCluster` reads them
 * from the run result. Every step checks before it acts, so a rerun after a failure finishes the job.
 */
import YAML from 'yaml'
import {centralCluster, kubeContextName, NAMESPACES, nodeName} from '../config/model.js'
import {removeClusterFromInventory} from '../config/edit.js'
import type {Cluster} from '../config/schema.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {ObsctlError} from '../errors.js'

export interface RefreshPhaseOptions {
  timeoutSeconds?: number
  intervalMs?: number
}

/** Refresh the Applications that track the repository and wait until Argo CD has seen the working copy's HEAD. */
export function refreshPhase(o: RefreshPhaseOptions = {}): Phase<Target, {revision: string}> {
  return {
    name: 'argocd-refresh',
    title: 'Argo CD sees the pushed commit',
    targets: () => [{id: 'applications', title: 'Applications tracking the GitOps repository'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => 'annotate the Applications of the GitOps repository with argocd.argoproj.io/refresh and wait until they report the pushed commit',
    async run(_t, ctx, io) {
      const {git} = await import('../gitops/index.js')
      const {gitDir} = await import('../config/model.js')
      const {waitForRevision} = await import('./change.js')
      const head = await git(gitDir(ctx.platform, ctx.inv.dir), ['rev-parse', '--verify', '-q', 'HEAD'])
      if (head.exitCode !== 0) return {summary: 'no commit in the working copy yet'}
      const sha = head.stdout.trim()
      const t = o.timeoutSeconds
      await waitForRevision(ctx.inv, sha, {kubeconfig: ctx.kubeconfig, timeoutMs: (t !== undefined && t > 0 ? t : 900) * 1000, intervalMs: o.intervalMs, onNotice: io.log})
      return {summary: `Argo CD is at ${sha.slice(0, 12)}`, report: {revision: sha}}
    },
  }
}

/** What every removal step is given: the cluster as the inventory had it when the removal started. */
export interface RemovalOptions {
  cluster: Cluster
  /** push the render commit (default true) */
  push?: boolean
  /** remove rendered files even when edited by hand */
  force?: boolean
}

const APP = {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'} as const
const LABEL = 'obsctl.dev/cluster'
const target = (c: Cluster): Target => ({id: c.name, cluster: c.name})

async function centralKube(ctx: RunContext) {
  const {kubeForCluster} = await import('../kube/run.js')
  return kubeForCluster(ctx, centralCluster(ctx.platform).name)
}

/** The cluster's Applications: labelled obsctl.dev/cluster=NAME, or with its API server as destination. */
async function clusterApps(ctx: RunContext, c: Cluster) {
  const kube = await centralKube(ctx)
  const apps = await kube.list(APP.apiVersion, APP.kind, {namespace: NAMESPACES.argocd})
  return {
    kube,
    apps: apps.filter((a) => {
      const dest = (a.spec as {destination?: {server?: string; name?: string}} | undefined)?.destination ?? {}
      return a.metadata.labels?.[LABEL] === c.name || dest.server === c.apiServer || dest.name === c.name
    }),
  }
}

/** How long `remove-apps` waits for Argo CD to delete what the Applications deployed (their resources finalizer). */
export const APP_DELETION_TIMEOUT_MS = 15 * 60_000

export function removeAppsPhase({cluster: c}: RemovalOptions): Phase<Target, {applications: string[]}> {
  return {
    name: 'remove-apps',
    title: 'Delete its Argo CD Applications (and what they deployed)',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `drop the ApplicationSet labels (obsctl.dev/role, obsctl.dev/metrics) from its cluster Secret, then delete the Applications in argocd on ${centralCluster(ctx.platform).name} labelled ${LABEL}=${c.name} or with destination ${c.apiServer}; their resources finalizer has Argo CD delete what they deployed`,
    async run(_t, ctx, io) {
      const {LABELS, clusterSecretName} = await import('../argocd/register.js')
      const {waitUntil} = await import('../kube/index.js')
      const kube = await centralKube(ctx)
      // 1. the ApplicationSets would generate its Applications again while its Secret carries the labels
      //    they select on: drop them first (the Secret itself stays until remove-secret, so Argo CD can still
      //    reach the cluster to delete what the Applications deployed)
      const name = clusterSecretName(c.apiServer)
      const secret = await kube.get<{apiVersion: string; kind: string; type?: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>}; data?: Record<string, string>}>('v1', 'Secret', name, NAMESPACES.argocd)
      if (secret && (secret.metadata.labels?.[LABELS.role] !== undefined || secret.metadata.labels?.[LABELS.metrics] !== undefined)) {
        const labels = {...secret.metadata.labels}
        delete labels[LABELS.role]
        delete labels[LABELS.metrics]
        await kube.apply({apiVersion: 'v1', kind: 'Secret', type: secret.type, metadata: {name, namespace: NAMESPACES.argocd, labels}, data: secret.data})
        io.log(`Secret ${NAMESPACES.argocd}/${name}: dropped ${LABELS.role} and ${LABELS.metrics}, the ApplicationSets no longer generate its Applications`)
      }
      // 2. delete them; each carries resources-finalizer.argocd.argoproj.io, so Argo CD deletes what it
      //    deployed before the Application goes away
      const {apps} = await clusterApps(ctx, c)
      const deleted: string[] = []
      for (const a of apps) {
        if (await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})) {
          const cascade = (a.metadata as {finalizers?: string[]}).finalizers?.some((f) => f.startsWith('resources-finalizer.argocd.argoproj.io')) ?? false
          io.log(`deleted Application ${a.metadata.name}${cascade ? ' (Argo CD deletes what it deployed)' : ' (no resources finalizer: what it deployed stays)'}`)
          deleted.push(a.metadata.name)
        }
      }
      // 3. wait until Argo CD has finished: an Application with a finalizer is gone only after its resources
      if (apps.length > 0) {
        await waitUntil(
          `Argo CD to delete the Applications of ${c.name} and what they deployed`,
          async () => {
            const left = (await clusterApps(ctx, c)).apps
            // one generated again by an ApplicationSet that had not seen the relabelled Secret yet: delete it again
            for (const a of left) if (!(a.metadata as {deletionTimestamp?: string}).deletionTimestamp) await kube.delete({...APP, metadata: {name: a.metadata.name, namespace: NAMESPACES.argocd}})
            return left.length === 0 ? true : `still there: ${left.map((a) => a.metadata.name).join(', ')}`
          },
          {timeoutMs: APP_DELETION_TIMEOUT_MS, intervalMs: 1000, signal: ctx.signal, onProgress: io.log},
        )
      }
      return {summary: apps.length ? `deleted ${apps.length} Application(s)` : 'no Applications left', report: {applications: deleted}}
    },
  }
}

export function removeSecretPhase({cluster: c}: RemovalOptions): Phase<Target, {secrets: string[]}> {
  return {
    name: 'remove-secret',
    title: 'Delete its Argo CD cluster Secret',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `delete Secrets labelled ${LABEL}=${c.name} in argocd (cluster Secret for ${c.apiServer}) and monitoring (obsctl-scrape-${c.name}) on ${centralCluster(ctx.platform).name}`,
    async run(_t, ctx, io) {
      const {clusterSecretName} = await import('../argocd/register.js')
      const {SECRET_NAMES} = await import('../config/model.js')
      const kube = await centralKube(ctx)
      const wanted = new Map<string, {name: string; namespace: string}>()
      wanted.set(`${NAMESPACES.argocd}/${clusterSecretName(c.apiServer)}`, {name: clusterSecretName(c.apiServer), namespace: NAMESPACES.argocd})
      wanted.set(`${NAMESPACES.monitoring}/${SECRET_NAMES.scrape(c.name)}`, {name: SECRET_NAMES.scrape(c.name), namespace: NAMESPACES.monitoring})
      for (const ns of [NAMESPACES.argocd, NAMESPACES.monitoring]) {
        for (const s of await kube.list('v1', 'Secret', {namespace: ns, labelSelector: `${LABEL}=${c.name}`})) wanted.set(`${ns}/${s.metadata.name}`, {name: s.metadata.name, namespace: ns})
      }
      const deleted: string[] = []
      for (const [key, m] of wanted) {
        if (await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: m})) {
          io.log(`deleted Secret ${key}`)
          deleted.push(key)
        }
      }
      return {summary: deleted.length ? `deleted ${deleted.length} Secret(s)` : 'no Secrets left', report: {secrets: deleted}}
    },
  }
}

export interface RemoveRenderReport {
  commit: string | null
  pushed: boolean
  removed: string[]
  changed: string[]
}

export function removeRenderPhase({cluster: c, push, force}: RemovalOptions): Phase<Target, RemoveRenderReport> {
  return {
    name: 'remove-render',
    title: 'Render the GitOps repository without it (commit + push)',
    targets: () => [{id: 'platform', title: 'GitOps repository'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `render without ${c.name} (its overlay and Applications removed), commit${push === false ? '' : ' and push'}`,
    async run(_t, ctx, io) {
      const next = (await removeClusterFromInventory(ctx.inv, c.name, {dryRun: true})).inventory
      const {changeMessage, previewRender, renderCommitPush} = await import('./change.js')
      const preview = await previewRender(next, {force: Boolean(force)})
      const r = await renderCommitPush(next, changeMessage(`remove cluster ${c.name}`, preview), {push: push !== false, force: Boolean(force), command: `cluster remove ${c.name}`, before: ctx.inv.text})
      for (const f of r.files.removed) io.log(`removed ${f}`)
      for (const f of r.files.changed) io.log(`changed ${f}`)
      return {
        summary: `${r.files.removed.length} removed, ${r.files.changed.length} changed${r.commit ? `, commit ${r.commit.sha.slice(0, 12)}` : ''}${r.push ? ', pushed' : ''}`,
        report: {commit: r.commit?.sha ?? null, pushed: Boolean(r.push), removed: r.files.removed, changed: r.files.changed},
      }
    },
  }
}

export interface RemoveKubeconfigReport {
  file: string
  removed: string[]
  scrubbedBackups?: string[]
}

export function removeKubeconfigPhase({cluster: c}: RemovalOptions): Phase<Target, RemoveKubeconfigReport> {
  return {
    name: 'remove-kubeconfig',
    title: 'Remove its kubeconfig entries',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `remove cluster ${c.name}, user ${c.name}-admin, context ${kubeContextName(c)} from the kubeconfig and from its earlier obsctl backups (no backup keeps its credentials)`,
    async run(_t, ctx, io) {
      const {removeFromKubeconfigs} = await import('../kube/index.js')
      // every $KUBECONFIG file that holds the entries (a later file's copy would otherwise show through)
      const r = await removeFromKubeconfigs(ctx.kubeconfig, c, {fallbackContext: kubeContextName(centralCluster(ctx.platform))})
      const file = r.file
      for (const e of r.removed) io.log(`removed ${e}`)
      const scrubbed = r.scrubbedBackups?.length ? `; its credentials also removed from ${r.scrubbedBackups.length} earlier backup(s)` : ''
      return {summary: `${r.changed ? `${file}: removed ${r.removed.join(', ')}` : `${file}: no entries left`}${scrubbed}`, report: {file, removed: r.removed, scrubbedBackups: r.scrubbedBackups}}
    },
  }
}

export function resetNodesPhase({cluster: c}: RemovalOptions): Phase<Target & {host: string}, {host: string}> {
  return {
    name: 'reset-nodes',
    title: 'kubeadm reset on its nodes',
    targets: () => c.nodes.map((n) => ({id: `${c.name}/${n.host}`, title: `${c.name}/${nodeName(n)}`, cluster: c.name, host: n.host})),
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (t) => `ssh ${t.host}: sudo kubeadm reset -f`,
    async run(t, ctx, io) {
      const {sshPool} = await import('../ssh/pool.js')
      const node = c.nodes.find((n) => n.host === t.host)!
      const conn = await (await sshPool(ctx)).get(node)
      const r = await conn.sudo('kubeadm reset -f', {signal: io.signal})
      for (const l of `${r.stdout}\n${r.stderr}`.split('\n').filter(Boolean)) io.log(l)
      if (r.code !== 0) throw new ObsctlError(`kubeadm reset -f on ${t.host} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`, {code: 'RESET_FAILED'})
      return {summary: 'kubeadm reset -f done', report: {host: t.host}}
    },
  }
}

export function removeInventoryPhase({cluster: c}: RemovalOptions): Phase<Target, {inventory: true}> {
  return {
    name: 'remove-inventory',
    title: 'Remove it from the inventory',
    targets: () => [target(c)],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) => `remove ${c.name} from ${ctx.inv.file} (comments and order of the rest kept)`,
    async run(_t, ctx) {
      await removeClusterFromInventory(ctx.inv, c.name)
      return {summary: `removed from ${ctx.inv.file}`, report: {inventory: true}}
    },
  }
}

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
export function revokeOpensearchUserPhase({cluster: c}: RemovalOptions): Phase<Target, RevokeOpensearchReport> {
  return {
    name: 'revoke-opensearch-user',
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
      const opened = await openPlatform(ctx.inv, {kubeconfig: ctx.kubeconfig, need: {opensearch: true, s3: false}, prompt: false})
      try {
        if ('missing' in opened.ctx.opensearch) {
          const password = await liveValue(central, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'password')
          if (password) opened.ctx.opensearch = {user: (await liveValue(central, NAMESPACES.logging, SECRET_NAMES.opensearchAdmin, 'username')) ?? OPENSEARCH_ADMIN_USER, password}
        }
        const at = `_plugins/_security/api/internalusers/${encodeURIComponent(user)}`
        const res = await os(opened.ctx, `/${at}`, {method: 'DELETE'})
        if (res.status !== 200 && res.status !== 404) {
          throw new ObsctlError(`OpenSearch refused to delete user ${user}: ${res.status} ${osError(res)}${/reserved|read-only/i.test(res.body) ? ' (a reserved user: secrets apply with this version makes it deletable)' : ''}`, {
            code: 'OPENSEARCH_REVOKE',
            hints: ['check that the credentials have the security REST API (all_access / security_rest_api_access)', `rerun: obsctl cluster remove ${c.name}`],
          })
        }
        const deleted = res.status === 200
        io.log(deleted ? `deleted OpenSearch user ${user}` : `OpenSearch user ${user} was not there`)
        // the security config Secret is what the operator's securityadmin loads: the user must not come back from it
        let securityConfig = false
        const secret = await central.get<{apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>}; type?: string; data?: Record<string, string>}>('v1', 'Secret', SECRET_NAMES.opensearchSecurityConfig, NAMESPACES.logging)
        if (secret?.data) {
          const dec = (k: string) => (secret.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined)
          const users = YAML.parse(dec('internal_users.yml') ?? '{}') as Record<string, unknown> | null
          const mapping = YAML.parse(dec('roles_mapping.yml') ?? '{}') as Record<string, {users?: string[]}> | null
          const patch: Record<string, string> = {}
          if (users && user in users) {
            delete users[user]
            patch['internal_users.yml'] = YAML.stringify(users, {lineWidth: 0})
          }
          for (const role of Object.values(mapping ?? {})) {
            if (Array.isArray(role?.users) && role.users.includes(user)) {
              role.users = role.users.filter((u) => u !== user)
              patch['roles_mapping.yml'] = YAML.stringify(mapping, {lineWidth: 0})
            }
          }
          if (Object.keys(patch).length > 0) {
            // server-side apply of the whole Secret (obsctl owns all of it: a partial apply would drop the other files)
            const data = {...secret.data, ...Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))}
            await central.apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: SECRET_NAMES.opensearchSecurityConfig, namespace: NAMESPACES.logging, labels: secret.metadata.labels}, type: secret.type ?? 'Opaque', data})
            io.log(`removed ${user} from ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig} (${Object.keys(patch).join(', ')})`)
            securityConfig = true
          }
        }
        // measured, not assumed: OpenSearch must answer 404 for the user now
        const check = await os(opened.ctx, `/${at}`)
        if (check.status !== 404) throw new ObsctlError(`OpenSearch still knows user ${user} after the delete (GET answered ${check.status})`, {code: 'OPENSEARCH_REVOKE', hints: [`rerun: obsctl cluster remove ${c.name}`]})
        return {summary: `${user} ${deleted ? 'revoked' : 'already gone'}${securityConfig ? ', dropped from the security config' : ''}`, report: {user, deleted, securityConfig}}
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
        const why = unreachable(e)
        if (!why) throw e
        io.log(`${c.name} is unreachable (${why}): its tokens were NOT revoked; they stop working when its nodes are reset (--reset-nodes)`)
        return {summary: `NOT revoked: ${c.name} unreachable`, report: {deleted, unreachable: why}}
      }
      return {summary: deleted.length ? `deleted ${deleted.length} object(s)` : 'no tokens left', report: {deleted}}
    },
  }
}
