/** argocd.*: every Application Synced and Healthy; every edge registered with a Successful connection. */
import {centralCluster, edgeClusters} from '../../config/model.js'
import {APPLICATION, ARGOCD_PASSWORD_ENV, INITIAL_ADMIN_SECRET, NAMESPACES, okJson, requireCredentialRoute, type KubeObject} from '../../platform/index.js'
import type {Check, ValidateContext} from '../types.js'
import {LIST_MAX} from '../../words.js'
import {clustersOf, fail, list, pass, warn} from './util.js'
import {envValue} from '../../env.js'

interface Application extends KubeObject {
  status?: {
    sync?: {status?: string}
    health?: {status?: string; message?: string}
    conditions?: {type: string; message?: string}[]
    operationState?: {phase?: string; message?: string}
  }
}

const apps: Check = {
  id: 'argocd.apps',
  component: 'argocd',
  title: 'Every Argo CD Application is Synced and Healthy',
  async run(ctx) {
    const kube = await ctx.kube(centralCluster(ctx.platform).name)
    const items = await kube.list<Application>(APPLICATION.apiVersion, APPLICATION.kind, {namespace: NAMESPACES.argocd})
    if (items.length === 0) return fail('no Applications in the argocd namespace', 'apply the root application: obsctl bootstrap --phase root-app')
    const failing = items.filter((a) => a.status?.sync?.status !== 'Synced' || a.status?.health?.status !== 'Healthy')
    const bad = failing
      .map((a) => {
        const st = a.status ?? {}
        const why = st.health?.message ?? st.conditions?.[0]?.message ?? st.operationState?.message
        return `${a.metadata.name} (${st.sync?.status ?? 'Unknown'}/${st.health?.status ?? 'Unknown'}${why ? `: ${why}` : ''})`
      })
      .sort()
    if (bad.length)
      return fail(
        `${bad.length}/${items.length} not Synced and Healthy: ${list(bad, 6)}`,
        'argocd app get <name> shows the failing resources; out of sync after a manual change: argocd app sync <name>',
        [...new Set(failing.map((a) => a.metadata.labels?.['obsctl.dev/cluster'] ?? centralCluster(ctx.platform).name))],
      )
    return pass(`${items.length} Applications Synced and Healthy`)
  },
}

interface ArgoCluster {
  name?: string
  server?: string
  connectionState?: {status?: string; message?: string}
  info?: {connectionState?: {status?: string; message?: string}}
}

async function adminPassword(ctx: ValidateContext): Promise<string> {
  const env = envValue(ARGOCD_PASSWORD_ENV, {secret: true})
  if (env) return env
  const kube = await ctx.kube(centralCluster(ctx.platform).name)
  const s = await kube.get<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', INITIAL_ADMIN_SECRET, NAMESPACES.argocd)
  const b64 = s?.data?.password
  if (!b64) throw new Error(`no admin password: set $${ARGOCD_PASSWORD_ENV} (the Secret ${NAMESPACES.argocd}/${INITIAL_ADMIN_SECRET} is gone)`)
  return Buffer.from(b64, 'base64').toString('utf8')
}

const clusters: Check = {
  id: 'argocd.clusters',
  component: 'argocd',
  title: 'Every edge is registered with Argo CD and its connection is Successful',
  async run(ctx) {
    const kube = await ctx.kube(centralCluster(ctx.platform).name)
    const secrets = await kube.list<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', {
      namespace: NAMESPACES.argocd,
      labelSelector: 'argocd.argoproj.io/secret-type=cluster',
    })
    const registered = new Map<string, string>()
    for (const s of secrets) {
      const name = s.metadata.labels?.['obsctl.dev/cluster'] ?? (s.data?.name ? Buffer.from(s.data.name, 'base64').toString() : s.metadata.name)
      registered.set(name, s.data?.server ? Buffer.from(s.data.server, 'base64').toString() : '')
    }
    const edges = edgeClusters(ctx.platform)
    const unregistered = edges.filter((e) => !registered.has(e.name)).map((e) => e.name)
    if (unregistered.length) {
      // the edges by name while a command line can hold them; else every edge (one registered already is applied again as
      // it is, its token kept)
      const which = unregistered.length <= LIST_MAX ? ` ${unregistered.join(' ')}` : ` (every edge; ${unregistered.length} are not registered)`
      return fail(`not registered: ${list(unregistered)}`, `obsctl cluster register${which}`, unregistered)
    }
    if (edges.length === 0) return pass('no edge clusters')
    // the admin password (in the session request's body) and the session token (a cookie: an API server proxy would
    // strip an Authorization header) go to Argo CD only over verified https: with --via-api-server and no
    // --endpoint argocd=https://…, the API server's proxy would carry them without verifying argocd-server's
    // certificate (platform/http.ts credentialRefusal). Refused before the password is read: the check fails, naming the flag.
    requireCredentialRoute(ctx.http, 'argocd')
    const password = await adminPassword(ctx)
    const session = okJson<{token: string}>(
      await ctx.http.request('argocd', '/api/v1/session', {
        method: 'POST',
        body: JSON.stringify({username: 'admin', password}),
        headers: {'content-type': 'application/json'},
      }),
      'argocd',
    )
    const list1 =
      okJson<{items?: ArgoCluster[]}>(await ctx.http.request('argocd', '/api/v1/clusters', {headers: {cookie: `argocd.token=${session.token}`}}), 'argocd')
        .items ?? []
    const failed: string[] = []
    const unknown: string[] = []
    for (const e of edges) {
      const server = registered.get(e.name)
      const item = list1.find((c) => c.name === e.name || (server && c.server === server))
      const st = item?.info?.connectionState ?? item?.connectionState
      if (!item) failed.push(`${e.name}: not in Argo CD's cluster list`)
      else if (st?.status === 'Failed') failed.push(`${e.name}: Failed${st.message ? ` (${st.message})` : ''}`)
      else if (st?.status !== 'Successful') unknown.push(`${e.name}: ${st?.status ?? 'Unknown'}`)
    }
    if (failed.length)
      return fail(
        list(failed),
        'Argo CD cannot reach the edge API server with the argocd-manager token: check the address (clusters[].apiServer) and rerun obsctl cluster register',
        clustersOf(failed),
      )
    if (unknown.length)
      return warn(list(unknown), 'Argo CD reports Unknown until an Application targets the cluster; sync the edge Applications', clustersOf(unknown))
    return pass(`${edges.length} edges Successful`)
  },
}

export const argocdChecks: Check[] = [apps, clusters]
