/** The `register` phase / `cluster register`: three edges on their own test servers, central on a fourth. */
import {request} from 'node:https'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {clusterRegister, clusterSecretName, fnv32a, registerPhase, type RegisterReport} from '../../src/lib/argocd/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import type {RunEvent} from '../../src/lib/engine/index.js'
import {tasksAtOnce} from '../support/run-events.js'
import {runContext, startFleet, taskIO, type Fleet} from './harness.js'

const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')

/** GET a path on a test server as a bearer token, trusting the server's CA: the HTTP status. */
function statusAs(url: string, caPem: string, token: string, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${p}`, {ca: caPem, headers: {authorization: `Bearer ${token}`}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('register', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet()
  })
  afterAll(async () => {
    await fleet.stop()
  })

  it('Argo CD names cluster Secrets cluster-<host>-<fnv32a(server)>', () => {
    // FNV-1a 32 reference values
    expect(fnv32a('')).toBe(0x811c9dc5)
    expect(fnv32a('a')).toBe(0xe40c292c)
    expect(fnv32a('foobar')).toBe(0xbf9cf968)
    expect(clusterSecretName('https://192.168.101.196:6443')).toBe('cluster-192.168.101.196-2005904090')
    expect(clusterSecretName('https://K8S.Example.com')).toMatch(/^cluster-k8s\.example\.com-\d+$/)
  })

  it('without Argo CD on central it says so and touches no edge', async () => {
    const err = await clusterRegister(fleet.inv, {
      renderer: 'silent',
      handleSignals: false,
      kubeconfig: fleet.kubeconfig,
      intervalMs: 25,
      clusters: ['cluster-02'],
    }).catch((e) => e)
    expect(err).toMatchObject({exitCode: 1, code: 'ARGOCD_MISSING'})
    expect(err.message).toBe('Argo CD is not installed on cluster-01-context: namespace argocd does not exist')
    expect(fleet.byName['cluster-02']!.getObject('serviceaccounts', 'kube-system', 'argocd-manager')).toBeUndefined()
    fleet.central.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
  })

  it('registers all three edges through the engine: every object, the cluster Secret format, the scrape Secret', async () => {
    const reports: RegisterReport[] = []
    const r = await clusterRegister(fleet.inv, {renderer: 'silent', handleSignals: false, kubeconfig: fleet.kubeconfig, intervalMs: 25})
    reports.push(...r.register)
    expect(r.run.ok).toBe(true)
    expect(reports.map((x) => x.cluster).sort()).toEqual(['cluster-02', 'cluster-03', 'cluster-04'])

    for (const name of ['cluster-02', 'cluster-03', 'cluster-04']) {
      const edge = fleet.byName[name]!
      const c = fleet.inv.platform.clusters.find((x) => x.name === name)!
      // what `argocd cluster add` creates
      expect(edge.getObject('serviceaccounts', 'kube-system', 'argocd-manager')).toBeTruthy()
      const role = edge.getObject('clusterroles.rbac.authorization.k8s.io', undefined, 'argocd-manager-role')!
      expect(role.rules).toEqual([
        {apiGroups: ['*'], resources: ['*'], verbs: ['*']},
        {nonResourceURLs: ['*'], verbs: ['*']},
      ])
      const binding = edge.getObject('clusterrolebindings.rbac.authorization.k8s.io', undefined, 'argocd-manager-role-binding')!
      expect(binding.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'argocd-manager-role'})
      expect(binding.subjects).toEqual([{kind: 'ServiceAccount', name: 'argocd-manager', namespace: 'kube-system'}])
      const tokenSecret = edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!
      expect(tokenSecret.type).toBe('kubernetes.io/service-account-token')
      expect(tokenSecret.metadata.annotations['kubernetes.io/service-account.name']).toBe('argocd-manager')
      const token = unb64(tokenSecret.data.token)
      expect(token.split('.')).toHaveLength(3)

      // the declarative cluster Secret on central, exactly
      const secret = fleet.central.getObject('secrets', 'argocd', clusterSecretName(edge.url))!
      expect(secret.metadata.name).toBe(`cluster-127.0.0.1-${fnv32a(edge.url)}`)
      expect(secret.metadata.labels).toMatchObject({'argocd.argoproj.io/secret-type': 'cluster', 'obsctl.dev/cluster': name, 'obsctl.dev/role': 'edge'})
      expect(Object.keys(secret.data).sort()).toEqual(['config', 'name', 'server'])
      expect(unb64(secret.data.name)).toBe(name)
      expect(unb64(secret.data.server)).toBe(c.apiServer)
      expect(JSON.parse(unb64(secret.data.config))).toEqual({
        bearerToken: token,
        tlsClientConfig: {insecure: false, caData: Buffer.from(edge.caPem).toString('base64')},
      })
      // the token really is argocd-manager's and works against the edge with the CA Argo CD gets
      expect(await statusAs(edge.url, edge.caPem, token, '/api/v1/namespaces/kube-system/pods')).toBe(200)

      const rep = reports.find((x) => x.cluster === name)!
      expect(rep.clusterSecret).toBe(`argocd/${secret.metadata.name}`)
      if (c.metrics === 'agent') {
        expect(rep.scrapeSecret).toBeUndefined()
        expect(fleet.central.getObject('secrets', 'monitoring', `obsctl-scrape-${name}`)).toBeUndefined()
        expect(edge.getObject('serviceaccounts', 'kube-system', 'obsctl-scrape')).toBeUndefined()
        continue
      }
      // remote-scrape: a ServiceAccount with only what scraping needs, its token + CA on central
      const scrapeRole = edge.getObject('clusterroles.rbac.authorization.k8s.io', undefined, 'obsctl-scrape')!
      expect(scrapeRole.rules).toEqual([
        {apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch']},
        {apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get']},
      ])
      expect(edge.getObject('roles.rbac.authorization.k8s.io', 'monitoring', 'obsctl-scrape')!.rules).toEqual([
        {apiGroups: [''], resources: ['pods', 'services'], verbs: ['list', 'watch']},
        {apiGroups: [''], resources: ['pods/proxy', 'services/proxy'], verbs: ['get']},
      ])
      // Fluent Bit's metrics (scrape-jobs-fluent-bit): its pods and their proxy, in logging only
      expect(edge.getObject('roles.rbac.authorization.k8s.io', 'logging', 'obsctl-scrape')!.rules).toEqual([
        {apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch']},
        {apiGroups: [''], resources: ['pods/proxy'], verbs: ['get']},
      ])
      const copy = fleet.central.getObject('secrets', 'monitoring', `obsctl-scrape-${name}`)!
      expect(Object.keys(copy.data).sort()).toEqual(['ca.crt', 'token'])
      expect(unb64(copy.data['ca.crt'])).toBe(edge.caPem)
      const scrapeToken = unb64(copy.data.token)
      expect(scrapeToken).toBe(unb64(edge.getObject('secrets', 'kube-system', 'obsctl-scrape-long-lived-token')!.data.token))
      expect(rep.scrapeSecret).toBe(`monitoring/obsctl-scrape-${name}`)
      // RBAC on the edge: nodes yes, anything else no
      expect(await statusAs(edge.url, edge.caPem, scrapeToken, '/api/v1/nodes')).toBe(200)
      expect(await statusAs(edge.url, edge.caPem, scrapeToken, '/api/v1/namespaces/kube-system/secrets')).toBe(403)
      expect(await statusAs(edge.url, edge.caPem, scrapeToken, '/api/v1/namespaces/kube-system/pods')).toBe(403)
      expect(await statusAs(edge.url, edge.caPem, scrapeToken, '/api/v1/namespaces/logging/pods')).toBe(200)
      expect(await statusAs(edge.url, edge.caPem, scrapeToken, '/api/v1/nodes/n1')).toBe(403)
    }
    // central is Argo CD's in-cluster: no Secret for it
    expect(fleet.central.listObjects('secrets', 'argocd').filter((s) => s.metadata.labels?.['obsctl.dev/cluster'] === 'cluster-01')).toEqual([])
    expect(fleet.central.listObjects('secrets', 'argocd').filter((s) => s.metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster')).toHaveLength(3)
  })

  it('--concurrency 1: one edge at a time, every edge still registered', async () => {
    const events: RunEvent[] = []
    const r = await clusterRegister(fleet.inv, {
      renderer: 'silent',
      handleSignals: false,
      kubeconfig: fleet.kubeconfig,
      intervalMs: 25,
      concurrency: 1,
      onEvent: (e) => events.push(e),
    })
    expect(r.run.ok).toBe(true)
    // (without it the three overlap: each waits on its edge's token controller)
    expect(tasksAtOnce(events, 'register')).toEqual({most: 1, started: 3})
  })

  it('idempotent: the live check says done, and a rerun keeps the tokens', async () => {
    const {ctx, resources} = runContext(fleet)
    const phase = registerPhase({intervalMs: 25})
    try {
      const targets = await phase.targets(ctx)
      expect(targets.map((t) => t.id)).toEqual(['cluster-02', 'cluster-03', 'cluster-04'])
      for (const t of targets) expect(await phase.isDone!(t, ctx, taskIO([]))).toBe(true)
      const before = fleet.byName['cluster-03']!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token
      expect((await phase.run(targets[1]!, ctx, taskIO([]))).summary).toBe(
        `cluster Secret argocd/${clusterSecretName(fleet.byName['cluster-03']!.url)}, scrape Secret monitoring/obsctl-scrape-cluster-03`,
      )
      expect(fleet.byName['cluster-03']!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token).toBe(before)
    } finally {
      await resources.closeAll()
    }
  })

  it('--rotate-tokens replaces both tokens and the copies on central, and the old tokens are refused (401) while the new ones work', async () => {
    const edge = fleet.byName['cluster-04']!
    const ca = edge.kubeconfigEntry().caPem
    const old = unb64(edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token)
    const oldScrape = unb64(edge.getObject('secrets', 'kube-system', 'obsctl-scrape-long-lived-token')!.data.token)
    // before: both tokens authenticate (argocd-manager may list namespaces, as Argo CD does)
    expect(await statusAs(edge.url, ca, old, '/api/v1/namespaces')).toBe(200)
    // the scrape account authenticates (what it may do is RBAC's business: 200 or 403, never 401)
    expect(await statusAs(edge.url, ca, oldScrape, '/api/v1/namespaces')).not.toBe(401)
    const r = await clusterRegister(fleet.inv, {
      renderer: 'silent',
      handleSignals: false,
      kubeconfig: fleet.kubeconfig,
      intervalMs: 25,
      clusters: ['cluster-04'],
      rotateTokens: true,
    })
    expect(r.register).toHaveLength(1)
    expect(r.register[0]!.rotated).toEqual(['Secret kube-system/argocd-manager-long-lived-token', 'Secret kube-system/obsctl-scrape-long-lived-token'])
    const now = unb64(edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token)
    expect(now).not.toBe(old)
    const cfg = JSON.parse(unb64(fleet.central.getObject('secrets', 'argocd', clusterSecretName(edge.url))!.data.config))
    expect(cfg.bearerToken).toBe(now)
    const nowScrape = unb64(fleet.central.getObject('secrets', 'monitoring', 'obsctl-scrape-cluster-04')!.data.token)
    expect(nowScrape).not.toBe(oldScrape)
    // the Secrets were recreated under the same names: the old tokens no longer match the server's copy
    expect(await statusAs(edge.url, ca, old, '/api/v1/namespaces')).toBe(401)
    expect(await statusAs(edge.url, ca, oldScrape, '/api/v1/namespaces')).toBe(401)
    expect(await statusAs(edge.url, ca, now, '/api/v1/namespaces')).toBe(200)
    expect(await statusAs(edge.url, ca, nowScrape, '/api/v1/namespaces')).not.toBe(401)
  })

  it('rejects the central cluster and unknown names with exit 2', async () => {
    const {edgesToRegister} = await import('../../src/lib/argocd/index.js')
    expect(() => edgesToRegister(fleet.inv.platform, ['cluster-01'])).toThrow(expect.objectContaining({exitCode: 2, code: 'NOT_EDGE'}))
    expect(() => edgesToRegister(fleet.inv.platform, ['cluster-09'])).toThrow(expect.objectContaining({exitCode: 2, code: 'UNKNOWN_CLUSTER'}))
  })

  it('403 on an edge names the missing permission', async () => {
    const edge = fleet.byName['cluster-02']!
    const limited = edge.addUser({name: 'no-rbac', rules: [{verbs: ['*'], resources: ['serviceaccounts', 'secrets']}]})
    const kc = path.join(fleet.dir, 'limited.kubeconfig')
    // central and the other edges as admin, cluster-02 as a user that may not touch RBAC
    const {writeKubeconfigFile} = await import('../support/kube/kubeconfig.js')
    writeKubeconfigFile(kc, [fleet.central.kubeconfigEntry(), edge.kubeconfigEntry({user: limited.name, userEntryName: 'cluster-02-admin'})])
    const err = await clusterRegister(fleet.inv, {
      renderer: 'silent',
      handleSignals: false,
      kubeconfig: kc,
      intervalMs: 25,
      clusters: ['cluster-02'],
      rotateTokens: true,
    }).catch((e) => e)
    expect(err).toBeInstanceOf(ObsctlError)
    expect(err).toMatchObject({exitCode: 1, code: 'KUBE_FORBIDDEN'})
    expect(err.message).toMatch(/apply ClusterRole argocd-manager-role on cluster-02-context: forbidden: .*clusterroles/)
  })

  it('interrupted during a rotation (exit 130): the request in flight is cancelled, nothing half-done; the rerun rotates', async () => {
    const edge = fleet.byName['cluster-03']!
    const before = edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token
    const ac = new AbortController()
    const {ctx, resources} = runContext(fleet, ac.signal)
    const rotate = registerPhase({rotateTokens: true, intervalMs: 25})
    const [, t] = await rotate.targets(ctx)
    const lines: string[] = []
    const io = taskIO(lines, ac.signal)
    io.log = (l) => {
      lines.push(l)
      if (/deleting Secret/.test(l)) ac.abort()
    }
    const err = await rotate.run(t!, ctx, io).catch((e) => e)
    expect(err).toMatchObject({exitCode: 130, code: 'INTERRUPTED'})
    await resources.closeAll()
    // Ctrl-C came before the DELETE went out: it was cancelled, so the old token Secret is still there
    expect(edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token).toBe(before)
    const again = runContext(fleet)
    try {
      await rotate.run(t!, again.ctx, taskIO([]))
      const check = runContext(fleet) // without --rotate-tokens: is it registered and working?
      expect(await registerPhase({intervalMs: 25}).isDone!(t!, check.ctx, taskIO([]))).toBe(true)
      await check.resources.closeAll()
      const now = edge.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token
      expect(now).toBeTruthy()
      expect(now).not.toBe(before)
    } finally {
      await again.resources.closeAll()
    }
  })
})
