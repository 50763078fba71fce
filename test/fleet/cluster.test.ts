/**
 * cluster add / remove against Kubernetes API test servers (cluster-01 central, cluster-02..04 edges,
 * cluster-05 the one added) and a bare Git remote. The add runs the phases from `kubeconfig` on
 * (admin.conf from a file): preflight and nodes need sshd nodes, covered by the nodes tests.
 */
import {withValues} from '../support/inventory.js'
import {APPLICATION_CRD, appSets, generateApplications} from '../support/kube/argocd-controllers.js'
import {renderFiles} from '../../src/lib/gitops/render.js'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {addCluster, type AddOptions} from '../../src/lib/flows/cluster-add-run.js'
import {removeCluster} from '../../src/lib/flows/cluster-remove-run.js'
import {configSet} from '../../src/lib/flows/change-run.js'
import {clusterSecretName} from '../../src/lib/argocd/register.js'
import {Kube} from '../../src/lib/kube/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {workspace, type Workspace} from './helpers.js'
import {startOpenSearchFake, type OpenSearchFake} from '../support/opensearch-fake.js'
import {rejection} from '../support/errors.js'
import {obsctl, requireBuild} from '../cli/helpers.js'
import {platformTls} from '../support/platform-tls.js'
import {fluentbitPasswordFor, securityConfigFiles} from '../../src/lib/kube/secrets/index.js'
import bcrypt from 'bcryptjs'
import {request} from 'node:https'

/** the status the edge's API server answers a bearer token with (401: revoked) */
function tokenStatus(server: KubeServer, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL('/api/v1/namespaces/kube-system/secrets', server.url)
    const req = request(u, {ca: server.caPem, headers: {authorization: `Bearer ${token}`}}, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

const NAMES = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04', 'cluster-05']

const applicationCrd = APPLICATION_CRD

describe('cluster add / remove', () => {
  let servers: KubeServer[]
  let ws: Workspace
  let kubeconfig: string
  let adminConf: string
  let central: Kube
  let inventoryBefore: string
  let kubeconfigBefore: string
  let opensearch: OpenSearchFake

  beforeAll(async () => {
    vi.stubEnv('OBSCTL_S3_ACCESS_KEY', 'test-access-key')
    vi.stubEnv('OBSCTL_S3_SECRET_KEY', 'test-secret-key-0123456789')
    vi.stubEnv('OBSCTL_OPENSEARCH_ADMIN_PASSWORD', 'Root-Pw-for-tests-1')
    vi.stubEnv('OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD', 'Fluent-Pw-for-tests-1')
    vi.stubEnv('OBSCTL_GRAFANA_ADMIN_PASSWORD', 'Grafana-Pw-for-tests-1')
    vi.stubEnv('OBSCTL_OPENSEARCH_USER', 'admin')
    vi.stubEnv('OBSCTL_OPENSEARCH_PASSWORD', 'Root-Pw-for-tests-1')
    servers = await startKubeServers(NAMES, {tokenControllerDelayMs: 30})
    ws = await workspace({
      edit: withValues(Object.fromEntries(servers.slice(0, 4).map((s) => [`clusters.${s.name}.apiServer`, s.url]))),
    })
    // OpenSearch gets the admin password: https from the platform CA beside the inventory
    const tls = await platformTls(ws.dir)
    opensearch = await startOpenSearchFake({
      user: 'admin',
      password: 'Root-Pw-for-tests-1',
      policy: 'fluent-bit-logs',
      repository: 'snapshots',
      bucket: 'opensearch-snapshots',
      tls: {cert: tls.cert, key: tls.key},
    })
    kubeconfig = writeFleetKubeconfig(path.join(ws.dir, 'kubeconfig'), servers.slice(0, 4))
    adminConf = servers[4]!.writeKubeconfig(path.join(ws.dir, 'admin-05.conf'))
    central = await Kube.connect({kubeconfig, context: 'cluster-01-context'})
    for (const ns of ['argocd', 'monitoring']) await central.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}})
    await central.apply(applicationCrd)
    // central's security config as secrets apply wrote it for the four clusters (cluster add puts the new edge's user in)
    await central.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}})
    const files = securityConfigFiles({admin: 'h-admin', grafana: 'h-grafana', fluentbit: Object.fromEntries(NAMES.slice(0, 4).map((n) => [n, `h-${n}`]))})
    await central.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'opensearch-security-config', namespace: 'logging', labels: {'app.kubernetes.io/managed-by': 'obsctl'}},
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    })
    inventoryBefore = readFileSync(ws.file, 'utf8')
    kubeconfigBefore = readFileSync(kubeconfig, 'utf8')
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await stopKubeServers(servers)
    await opensearch.close()
    ws.cleanup()
  })

  const addOptions = (over: Partial<AddOptions> = {}): AddOptions => ({
    cluster: {name: 'cluster-05', role: 'edge', metrics: 'remote-scrape', hosts: ['192.168.101.199'], cpu: '4', memory: '16Gi', apiServer: servers[4]!.url},
    yes: true,
    from: 'kubeconfig',
    phases: ['kubeconfig', 'render', 'register', 'secrets'],
    kubeconfig,
    renderer: 'silent',
    fromFiles: {'cluster-05': adminConf},
    intervalMs: 25,
    handleSignals: false,
    ...over,
  })

  it('add --dry-run writes nothing and lists the tasks for the new cluster only', async () => {
    const r = await addCluster(ws.inv(), addOptions({dryRun: true}))
    expect(r.inventory.changed).toBe(true)
    expect(r.inventory.added).toContain('name: cluster-05')
    expect(r.inventory.added).toMatch(/cpu: "?4"?\n\s+memory: 16Gi$/)
    expect(readFileSync(ws.file, 'utf8')).toBe(inventoryBefore)
    const tasks = r.run!.phases.flatMap((p) => p.tasks.map((t) => `${p.name}/${t.target}`))
    expect(tasks).toContain('kubeconfig/cluster-05')
    expect(tasks).toContain('register/cluster-05')
    expect(tasks.filter((t) => /cluster-0[234]/.test(t))).toEqual([])
  })

  it('add: inventory appended (the rest byte for byte), kubeconfig merged, overlay + Applications committed and pushed, registered with Argo CD', async () => {
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const r = await addCluster(ws.inv(), addOptions())
    expect(r.run!.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed')).toEqual([])
    expect(r.ok).toBe(true)
    const inv = readFileSync(ws.file, 'utf8')
    expect(inv.startsWith(inventoryBefore.trimEnd())).toBe(true)
    expect(inv).toContain('name: cluster-05')
    // kubeconfig
    const kc = parse(readFileSync(kubeconfig, 'utf8'))
    expect(kc.contexts.map((c: {name: string}) => c.name)).toContain('cluster-05-context')
    // Git: one commit on the remote naming the cluster, with its own overlay: Cilium and Longhorn (its
    // Applications come from the ApplicationSets, which select its registration Secret)
    expect(ws.remoteGit('rev-parse', 'main').trim()).not.toBe(head)
    expect(ws.remoteGit('log', '-1', '--format=%B', 'main')).toMatch(/^Obsctl-Command: cluster add cluster-05$/m)
    // a rollback over it is refused, naming the command that undoes it (nothing changes: checked before any work)
    const {rollback: rollbackOver} = await import('../../src/lib/flows/rollback.js')
    const refused = await rejection(rollbackOver(ws.inv(), {to: head, yes: true, kubeconfig, sync: false, renderer: 'silent'}))
    expect(refused.code).toBe('NOT_REVERTABLE')
    expect(refused.message).toContain('undo it with obsctl cluster remove cluster-05')
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main')).toContain('add cluster-05')
    const tree = ws.remoteGit('ls-tree', '-r', '--name-only', 'main')
    expect(
      tree
        .split('\n')
        .filter((f) => f.includes('cluster-05'))
        .sort(),
    ).toEqual(['deploy/overlays/cluster-05-edge/cilium/kustomization.yaml', 'deploy/overlays/cluster-05-edge/longhorn/kustomization.yaml'])
    expect(tree).toContain('argocd/applications/kube-prometheus-stack.yaml')
    // Argo CD: the cluster Secret on central, argocd-manager on the edge, the scrape Secret
    const secret = servers[0]!.getObject('secrets', 'argocd', clusterSecretName(servers[4]!.url))
    expect(secret?.metadata.labels).toMatchObject({
      'obsctl.dev/cluster': 'cluster-05',
      'obsctl.dev/role': 'edge',
      'obsctl.dev/metrics': 'remote-scrape',
      'argocd.argoproj.io/secret-type': 'cluster',
    })
    expect(servers[4]!.getObject('serviceaccounts', 'kube-system', 'argocd-manager')).toBeTruthy()
    // its own OpenSearch user: in its Secret, and (hash and writer mapping) in central's security config
    const fb = servers[4]!.getObject('secrets', 'logging', 'fluentbit-opensearch-credentials')!
    const dec = (b: string) => Buffer.from(b, 'base64').toString('utf8')
    expect(dec(fb.data.username)).toBe('fluentbit-cluster-05')
    expect(dec(fb.data.password)).toBe(fluentbitPasswordFor('Fluent-Pw-for-tests-1', 'cluster-05'))
    expect(fb.data['per-cluster-key']).toBeUndefined()
    const sec = servers[0]!.getObject('secrets', 'logging', 'opensearch-security-config')!
    const users = parse(dec(sec.data['internal_users.yml']))
    expect(bcrypt.compareSync(fluentbitPasswordFor('Fluent-Pw-for-tests-1', 'cluster-05'), users['fluentbit-cluster-05'].hash)).toBe(true)
    expect(users['fluentbit-cluster-02'].hash).toBe('h-cluster-02')
    expect(parse(dec(sec.data['roles_mapping.yml'])).fluentbit_writer.users).toContain('fluentbit-cluster-05')
    expect(Object.keys(sec.data).sort()).toEqual(Object.keys(securityConfigFiles({admin: '', grafana: '', fluentbit: {}})).sort())
    expect(servers[0]!.getObject('secrets', 'monitoring', 'obsctl-scrape-cluster-05')).toBeTruthy()
    // its Secrets (S3 credentials for Thanos/Longhorn, Fluent Bit's OpenSearch user) on the new edge only
    expect(servers[4]!.listObjects('secrets', 'monitoring').length + servers[4]!.listObjects('secrets', 'logging').length).toBeGreaterThan(0)
    expect(servers[1]!.listObjects('secrets', 'logging')).toEqual([])
    // nothing registered for the other edges
    expect(servers[1]!.getObject('serviceaccounts', 'kube-system', 'argocd-manager')).toBeFalsy()
  })

  it('add again with the same flags resumes: no second inventory edit, no new commit, every task skipped or rechecked', async () => {
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const inv = readFileSync(ws.file, 'utf8')
    const r = await addCluster(ws.inv(), addOptions({push: false}))
    expect(r.ok).toBe(true)
    expect(r.inventory.changed).toBe(false)
    expect(readFileSync(ws.file, 'utf8')).toBe(inv)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
    expect(r.run!.phases.flatMap((p) => p.tasks).every((t) => t.status === 'unchanged' || t.status === 'in-state')).toBe(true)
  })

  it('add with other settings for an existing name exits 2 and writes nothing', async () => {
    const inv = readFileSync(ws.file, 'utf8')
    const e = await addCluster(ws.inv(), addOptions({cluster: {...addOptions().cluster, metrics: 'agent'}})).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ObsctlError)
    expect((e as ObsctlError).exitCode).toBe(2)
    expect((e as ObsctlError).code).toBe('EXISTS')
    expect(readFileSync(ws.file, 'utf8')).toBe(inv)
  })

  it('add resumed at sync: Argo CD is asked to refresh and must report the pushed commit before the sync phase judges the Applications', async () => {
    await central.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name: 'root-app', namespace: 'argocd'},
      spec: {project: 'default', source: {repoURL: ws.remote, path: 'argocd/applications'}, destination: {server: 'https://kubernetes.default.svc'}},
    })
    servers[0]!.setApplicationStatus('argocd', 'root-app', {sync: 'Synced', health: 'Healthy', revision: 'old'})
    const head = ws.remoteGit('rev-parse', 'main').trim()
    let refreshed = false
    const timer = setInterval(() => {
      if (servers[0]!.getObject('applications.argoproj.io', 'argocd', 'root-app')?.metadata.annotations?.['argocd.argoproj.io/refresh']) {
        clearInterval(timer)
        refreshed = true
        servers[0]!.setApplicationStatus('argocd', 'root-app', {sync: 'Synced', health: 'Healthy', revision: head})
      }
    }, 20)
    const r = await addCluster(ws.inv(), addOptions({from: 'sync', phases: ['sync'], timeoutSeconds: 120}))
    clearInterval(timer)
    expect(r.phases).toEqual(['argocd-refresh', 'sync'])
    expect(r.ok).toBe(true)
    expect(refreshed).toBe(true)
    await central.delete({apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {name: 'root-app', namespace: 'argocd'}})
  })

  it("config set of an edge's metrics mode relabels its Argo CD cluster Secret once pushed (the ApplicationSets select on the label), with --no-sync too", async () => {
    const secret = () => servers[0]!.getObject('secrets', 'argocd', clusterSecretName(servers[4]!.url))
    expect(secret()?.metadata.labels['obsctl.dev/metrics']).toBe('remote-scrape')
    const start = ws.remoteGit('rev-parse', 'main').trim()
    const r = await configSet(ws.inv(), 'clusters.cluster-05.metrics', 'agent', {yes: true, kubeconfig, sync: false, renderer: 'silent'})
    expect(r.push?.commit).toBe(ws.remoteGit('rev-parse', 'main').trim())
    expect(secret()?.metadata.labels).toMatchObject({'obsctl.dev/cluster': 'cluster-05', 'obsctl.dev/role': 'edge', 'obsctl.dev/metrics': 'agent'})
    // and what Argo CD makes of it: the rendered ApplicationSets, given the live Secret (argo-cd's cluster
    // generator as test/support/kube/argocd-controllers.ts plays it), generate the agent-mode Applications
    expect(overlaysGenerated()).toEqual(['edge-agent'])
    // a change that relabels nothing does not contact the clusters when not syncing
    const n = servers[0]!.requestLog.length
    await configSet(ws.inv(), 'retention.prometheus', '7h', {yes: true, kubeconfig, sync: false, renderer: 'silent'})
    await configSet(ws.inv(), 'retention.prometheus', '6h', {yes: true, kubeconfig, sync: false, renderer: 'silent'})
    expect(servers[0]!.requestLog.length).toBe(n)
    // a rollback past the change with --no-sync relabels too (the change flow's cluster-labels phase alone)
    const {rollback} = await import('../../src/lib/flows/rollback.js')
    const back = await rollback(ws.inv(), {to: start, yes: true, kubeconfig, sync: false, renderer: 'silent'})
    expect(back.push?.commit).toBe(ws.remoteGit('rev-parse', 'main').trim())
    const edge = (parse(readFileSync(ws.file, 'utf8')) as {clusters: {name: string; metrics?: string}[]}).clusters.find((c) => c.name === 'cluster-05')
    expect(edge?.metrics).toBe('remote-scrape')
    expect(secret()?.metadata.labels['obsctl.dev/metrics']).toBe('remote-scrape')
    expect(overlaysGenerated()).toEqual(['edge-remote-scrape'])

    /** the shared edge overlays the Applications generated for cluster-05 from its live Secret point at */
    function overlaysGenerated(): string[] {
      const files = renderFiles(ws.inv().platform)
      const apps = appSets(files).flatMap((set) => generateApplications(set, [secret()!]))
      expect(apps.length).toBeGreaterThan(0)
      const overlays = apps.map((a) => /^deploy\/overlays\/(edge-[a-z-]+)\//.exec(a.spec.source.path as string)?.[1]).filter((o) => o !== undefined)
      return [...new Set(overlays)].sort()
    }
  })

  it('remove refuses the central cluster and, without a terminal, asks for --yes (exit 2)', async () => {
    await expect(removeCluster(ws.inv(), 'cluster-01', {yes: true, kubeconfig})).rejects.toMatchObject({exitCode: 2, code: 'CENTRAL'})
    await expect(removeCluster(ws.inv(), 'cluster-05', {kubeconfig})).rejects.toMatchObject({exitCode: 2, code: 'NO_TTY'})
    expect(readFileSync(ws.file, 'utf8')).toContain('name: cluster-05')
  })

  it('remove: its Applications, cluster and scrape Secrets, rendered files (commit + push), kubeconfig entries, then the inventory', async () => {
    const app = (name: string, cluster: string, server: string) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name, namespace: 'argocd', labels: {'obsctl.dev/cluster': cluster}},
      spec: {destination: {server, namespace: 'monitoring'}, source: {repoURL: ws.remote, path: 'x'}, project: 'default'},
    })
    await central.apply(app('kube-prometheus-stack-cluster-05', 'cluster-05', servers[4]!.url))
    await central.apply(app('fluent-bit-cluster-05', 'cluster-05', servers[4]!.url))
    await central.apply({...app('unlabelled', 'x', servers[4]!.url), metadata: {name: 'unlabelled', namespace: 'argocd'}})
    await central.apply(app('kube-prometheus-stack-cluster-02', 'cluster-02', servers[1]!.url))

    // what the removal must revoke: the edge's Argo CD token works now, and OpenSearch knows its user
    const argoToken = Buffer.from(servers[4]!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token, 'base64').toString('utf8')
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(200)
    opensearch.users['fluentbit-cluster-05'] = {backend_roles: []}
    opensearch.users['fluentbit-cluster-02'] = {backend_roles: []}

    // where OpenSearch is (the fake): as the command's --endpoint opensearch=URL gives it (the service flags, as validate
    // has them; endpoints.opensearch in the inventory is read by the same openPlatform, tested with validate)
    const access = {endpoints: {opensearch: opensearch.url}}
    const r = await removeCluster(ws.inv(), 'cluster-05', {yes: true, kubeconfig, access, renderer: 'silent', handleSignals: false})
    // the Argo CD token is revoked on the edge (its ServiceAccount and token Secret gone: the API server answers 401)
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(401)
    expect(servers[4]!.getObject('serviceaccounts', 'kube-system', 'argocd-manager')).toBeFalsy()
    expect(r.report.tokens?.unreachable).toBeUndefined()
    expect(r.report.tokens?.deleted).toContain('Secret kube-system/argocd-manager-long-lived-token')
    // its OpenSearch user is deleted through the security API and gone from the security config; the others stay
    expect(opensearch.users['fluentbit-cluster-05']).toBeUndefined()
    expect(opensearch.users['fluentbit-cluster-02']).toBeDefined()
    expect(opensearch.requests.some((q) => q.method === 'DELETE' && q.path === '/_plugins/_security/api/internalusers/fluentbit-cluster-05')).toBe(true)
    expect(r.report.opensearch).toEqual({user: 'fluentbit-cluster-05', deleted: true, securityConfig: true})
    const decode = (b: string) => Buffer.from(b, 'base64').toString('utf8')
    const sec = servers[0]!.getObject('secrets', 'logging', 'opensearch-security-config')!
    expect(parse(decode(sec.data['internal_users.yml']))['fluentbit-cluster-05']).toBeUndefined()
    expect(parse(decode(sec.data['internal_users.yml']))['fluentbit-cluster-02'].hash).toBe('h-cluster-02')
    expect(parse(decode(sec.data['roles_mapping.yml'])).fluentbit_writer.users).not.toContain('fluentbit-cluster-05')
    expect(r.run!.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed')).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.report.applications.sort()).toEqual(['fluent-bit-cluster-05', 'kube-prometheus-stack-cluster-05', 'unlabelled'])
    const left = (await central.list('argoproj.io/v1alpha1', 'Application', {namespace: 'argocd'})).map((a) => a.metadata.name)
    expect(left).toEqual(['kube-prometheus-stack-cluster-02'])
    expect(servers[0]!.getObject('secrets', 'argocd', clusterSecretName(servers[4]!.url))).toBeFalsy()
    expect(servers[0]!.getObject('secrets', 'monitoring', 'obsctl-scrape-cluster-05')).toBeFalsy()
    // Git
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: remove cluster cluster-05')
    const tree = ws.remoteGit('ls-tree', '-r', '--name-only', 'main')
    expect(tree).not.toContain('cluster-05')
    expect(r.report.render!.removed.sort()).toEqual([
      'deploy/overlays/cluster-05-edge/cilium/kustomization.yaml',
      'deploy/overlays/cluster-05-edge/longhorn/kustomization.yaml',
    ])
    // kubeconfig: its entries gone, the rest as before the add
    const kc = readFileSync(kubeconfig, 'utf8')
    expect(kc).not.toContain('cluster-05')
    expect(parse(kc)).toEqual(parse(kubeconfigBefore))
    // inventory: back to the bytes it had before the add
    expect(readFileSync(ws.file, 'utf8')).toBe(inventoryBefore)
    // rerun: nothing to remove
    const again = await removeCluster(ws.inv(), 'cluster-05', {yes: true, kubeconfig})
    expect(again.absent).toBe(true)
  })

  it('config set then syncs: waits until every Application on central is Synced and Healthy', async () => {
    // Argo CD (played by the test) reports the old revision as Synced until it sees the new commit
    const app = 'kube-prometheus-stack-cluster-02'
    servers[0]!.setApplicationStatus('argocd', app, {sync: 'Synced', health: 'Healthy', revision: 'old'})
    const timer = setInterval(() => {
      const live = servers[0]!.getObject('applications.argoproj.io', 'argocd', app)
      if (live?.metadata.annotations?.['argocd.argoproj.io/refresh']) {
        clearInterval(timer)
        const head = ws.remoteGit('rev-parse', 'main').trim()
        servers[0]!.setApplicationStatus('argocd', app, {sync: 'OutOfSync', health: 'Healthy', revision: head})
        setTimeout(() => servers[0]!.setApplicationStatus('argocd', app, {sync: 'Synced', health: 'Healthy', revision: head}), 150)
      }
    }, 20)
    const r = await configSet(ws.inv(), 'retention.prometheus', '10h', {yes: true, kubeconfig, intervalMs: 25, timeoutSeconds: 120, renderer: 'silent'})
    clearInterval(timer)
    expect(r.sync?.ok).toBe(true)
    expect(servers[0]!.getObject('applications.argoproj.io', 'argocd', app)?.status.sync.revision).toBe(r.push!.commit)
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: set retention.prometheus 6h → 10h')
  })

  it('rollback of that config set pushes the revert and waits until Argo CD has seen it and every Application is Synced and Healthy', async () => {
    const app = 'kube-prometheus-stack-cluster-02'
    const changed = ws.remoteGit('rev-parse', 'main').trim()
    const seen: string[] = []
    const timer = setInterval(() => {
      const live = servers[0]!.getObject('applications.argoproj.io', 'argocd', app)
      const head = ws.remoteGit('rev-parse', 'main').trim()
      if (head !== changed && live?.metadata.annotations?.['argocd.argoproj.io/refresh'] && !seen.includes(head)) {
        seen.push(head)
        servers[0]!.setApplicationStatus('argocd', app, {sync: 'OutOfSync', health: 'Progressing', revision: head})
        setTimeout(() => servers[0]!.setApplicationStatus('argocd', app, {sync: 'Synced', health: 'Healthy', revision: head}), 150)
      }
    }, 20)
    const {rollback} = await import('../../src/lib/flows/rollback.js')
    const r = await rollback(ws.inv(), {yes: true, kubeconfig, intervalMs: 25, timeoutSeconds: 120, renderer: 'silent'})
    clearInterval(timer)
    expect(r.reverted.map((c) => c.sha)).toEqual([changed])
    expect(r.sync?.ok).toBe(true)
    expect(servers[0]!.getObject('applications.argoproj.io', 'argocd', app)?.status.sync.revision).toBe(r.push!.commit)
    expect(readFileSync(ws.file, 'utf8')).toMatch(/prometheus: 6h/)
    expect(ws.remoteGit('rev-parse', 'main^{tree}').trim()).toBe(ws.remoteGit('rev-parse', `${changed}~1^{tree}`).trim())
  })
  let invBeforeReadd = ''
  let kcBeforeReadd = ''
  it('add after its remove starts from nothing: the removal made the journal forget the cluster, so its kubeconfig, register and secrets tasks run again', async () => {
    invBeforeReadd = readFileSync(ws.file, 'utf8')
    kcBeforeReadd = readFileSync(kubeconfig, 'utf8')
    const add = await addCluster(ws.inv(), addOptions())
    expect(add.ok).toBe(true)
    // live-checked, never taken from the journal (its Secrets on the edge were left there by the removal: in state)
    expect(Object.fromEntries(add.run!.phases.flatMap((p) => p.tasks.map((t) => [`${p.name}/${t.target}`, t.status])))).toEqual({
      'kubeconfig/cluster-05': 'done',
      'render/platform': 'done',
      'register/cluster-05': 'done',
      'secrets/cluster-05': 'in-state',
    })
    expect(parse(readFileSync(kubeconfig, 'utf8')).contexts.map((c: {name: string}) => c.name)).toContain('cluster-05-context')
    expect(servers[0]!.getObject('secrets', 'argocd', clusterSecretName(servers[4]!.url))).toBeTruthy()
    expect(servers[4]!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')).toBeTruthy()
  })

  it('remove killed (SIGKILL) once its kubeconfig entries were gone, the inventory still naming it, and its rerun once the journal forgot the cluster: the next run finishes (the first run had revoked its tokens)', async () => {
    requireBuild()
    const invBefore = invBeforeReadd
    const kcBefore = kcBeforeReadd
    const argoToken = Buffer.from(servers[4]!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token, 'base64').toString('utf8')
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(200)
    opensearch.users['fluentbit-cluster-05'] = {backend_roles: []}
    const args = ['cluster', 'remove', 'cluster-05', '--yes', '-c', ws.file, '--kubeconfig', kubeconfig, '--endpoint', `opensearch=${opensearch.url}`]
    const state = () =>
      (JSON.parse(readFileSync(path.join(ws.dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {status: string; runId?: string}>}).tasks

    const killed = await obsctl(args, {env: {OBSCTL_TEST_KILL_AT: 'remove-kubeconfig:after-run'}})
    expect(killed.status, killed.stderr).toBeNull()
    // its tokens revoked, its files out of Git, its kubeconfig entries gone: but the inventory still names it
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(401)
    expect(ws.remoteGit('ls-tree', '-r', '--name-only', 'main')).not.toContain('cluster-05')
    expect(readFileSync(kubeconfig, 'utf8')).not.toContain('cluster-05')
    expect(readFileSync(ws.file, 'utf8')).toContain('name: cluster-05')
    expect(state()['remove-kubeconfig/cluster-05']?.status).toBe('running')
    const revokedBy = state()['revoke-edge-tokens/cluster-05']!.runId

    // its rerun killed in the last step, once the journal forgot the cluster and before the inventory edit
    const second = await obsctl(args, {env: {OBSCTL_TEST_KILL_AT: 'remove-inventory:log'}})
    expect(second.status, second.stderr).toBeNull()
    expect(readFileSync(ws.file, 'utf8')).toContain('name: cluster-05')
    expect(Object.keys(state()).filter((k) => /^(kubeconfig|register|secrets)\/cluster-05$/.test(k))).toEqual([])

    const again = await obsctl([...args, '--json'])
    expect(again.status, again.stderr + again.stdout.slice(0, 2000)).toBe(0)
    const out = JSON.parse(again.stdout) as {ok: boolean; report: {tokens?: {deleted: string[]; unreachable?: string; byEarlierRun?: string}}}
    expect(out.ok).toBe(true)
    // not reachable any more, and not to be: the run that removed its kubeconfig entries had revoked them
    expect(out.report.tokens).toMatchObject({
      deleted: expect.arrayContaining(['Secret kube-system/argocd-manager-long-lived-token']),
      byEarlierRun: revokedBy,
    })
    expect(out.report.tokens!.unreachable).toBeUndefined()
    expect(readFileSync(ws.file, 'utf8')).toBe(invBefore)
    expect(parse(readFileSync(kubeconfig, 'utf8'))).toEqual(parse(kcBefore))
    expect(opensearch.users['fluentbit-cluster-05']).toBeUndefined()
    expect(state()['remove-inventory/cluster-05']?.status).toBe('done')
  })

  it("remove stopped by Ctrl-C between two steps, twice: once its kubeconfig entries were gone, then in a rerun that took the first run's revoke: the third run finishes (the first run had revoked its tokens)", async () => {
    requireBuild()
    const invBefore = readFileSync(ws.file, 'utf8')
    const kcBefore = readFileSync(kubeconfig, 'utf8')
    expect((await addCluster(ws.inv(), addOptions())).ok).toBe(true)
    const argoToken = Buffer.from(servers[4]!.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')!.data.token, 'base64').toString('utf8')
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(200)
    opensearch.users['fluentbit-cluster-05'] = {backend_roles: []}
    const args = ['cluster', 'remove', 'cluster-05', '--yes', '-c', ws.file, '--kubeconfig', kubeconfig, '--endpoint', `opensearch=${opensearch.url}`]
    type Journal = {
      tasks: Record<string, {status: string; runId?: string; report?: {byEarlierRun?: string}}>
      phaseRuns?: Record<string, {runId: string; status: string}>
    }
    const journal = () => JSON.parse(readFileSync(path.join(ws.dir, '.obsctl', 'state.json'), 'utf8')) as Journal
    const sigint = {OBSCTL_TEST_KILL_SIGNAL: 'SIGINT'}

    // Ctrl-C just after the kubeconfig entries' removal was recorded done: no record of that run is left unfinished
    const first = await obsctl(args, {env: {...sigint, OBSCTL_TEST_KILL_AT: 'remove-kubeconfig:recorded'}})
    expect(first.status, first.stderr).toBe(130)
    expect(await tokenStatus(servers[4]!, argoToken)).toBe(401)
    expect(readFileSync(kubeconfig, 'utf8')).not.toContain('cluster-05')
    expect(readFileSync(ws.file, 'utf8')).toContain('name: cluster-05')
    const firstRun = journal().tasks['revoke-edge-tokens/cluster-05']!.runId!
    expect(journal().tasks['remove-kubeconfig/cluster-05']).toMatchObject({status: 'done', runId: firstRun})
    expect(journal().phaseRuns?.['remove-kubeconfig']).toMatchObject({runId: firstRun, status: 'interrupted'})

    // its rerun takes that revoke from the journal (the edge has no context now), then Ctrl-C before the next step
    const second = await obsctl(args, {env: {...sigint, OBSCTL_TEST_KILL_AT: 'revoke-edge-tokens:recorded'}})
    expect(second.status, second.stderr).toBe(130)
    expect(journal().tasks['revoke-edge-tokens/cluster-05']).toMatchObject({status: 'done', report: {byEarlierRun: firstRun}})
    expect(journal().tasks['revoke-edge-tokens/cluster-05']!.runId).not.toBe(firstRun)
    expect(journal().tasks['remove-kubeconfig/cluster-05']!.runId).toBe(firstRun)

    // the third run: the revoke is still the first run's (it removed the entries), not an unreachable edge's failure
    const third = await obsctl([...args, '--json'])
    expect(third.status, third.stderr + third.stdout.slice(0, 2000)).toBe(0)
    const out = JSON.parse(third.stdout) as {ok: boolean; report: {tokens?: {deleted: string[]; unreachable?: string; byEarlierRun?: string}}}
    expect(out.report.tokens).toMatchObject({deleted: expect.arrayContaining(['Secret kube-system/argocd-manager-long-lived-token']), byEarlierRun: firstRun})
    expect(out.report.tokens!.unreachable).toBeUndefined()
    expect(readFileSync(ws.file, 'utf8')).toBe(invBefore)
    expect(parse(readFileSync(kubeconfig, 'utf8'))).toEqual(parse(kcBefore))
    expect(opensearch.users['fluentbit-cluster-05']).toBeUndefined()
    expect(journal().tasks['remove-inventory/cluster-05']?.status).toBe('done')
  })
})
