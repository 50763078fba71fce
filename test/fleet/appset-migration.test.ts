/**
 * Migrating a platform from one Application file per component and cluster (what earlier obsctl versions
 * rendered, applied by the root app) to the ApplicationSets deletes no workload: on Kubernetes API test
 * servers (cluster-01 central, cluster-02..04 edges), with the ApplicationSet controller and the application
 * controller's deletion played by test/support/kube/argocd-controllers.ts (shapes and behaviour checked
 * there against argo-cd v3.1.9), the generated Applications adopt the existing ones — same names, same
 * objects (uid) — and every object those deployed is still there. Then `cluster remove` on the new layout
 * cascades: the removed edge's Applications (now carrying the resources finalizer) take what they deployed
 * with them, and the ApplicationSets do not bring them back.
 */
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {removeAppsPhase, removeSecretPhase} from '../../src/lib/fleet/phases.js'
import {CLUSTER_REMOVE_PHASES} from '../../src/lib/flows/cluster-remove.js'
import {runPhases, runReports} from '../../src/lib/engine/index.js'
import {registerEdge} from '../../src/lib/argocd/register.js'
import {APPS, WAVES} from '../../src/lib/gitops/index.js'
import {overlayName} from '../../src/lib/config/model.js'
import type {Cluster} from '../../src/lib/config/schema.js'
import {Kube} from '../../src/lib/kube/index.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {ArgoCdControllers, RESOURCES_FINALIZER, TRACKING_ANNOTATION, trackingId} from '../support/kube/argocd-controllers.js'
import type {Obj} from '../support/kube/store.js'
import {withValues} from '../support/inventory.js'
import {waitFor} from '../support/wait.js'
import {workspace, type Workspace} from './helpers.js'

const NAMES = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']

const crd = (plural: string, kind: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {name: `${plural}.argoproj.io`},
  spec: {
    group: 'argoproj.io',
    names: {kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase()},
    scope: 'Namespaced',
    versions: [{name: 'v1alpha1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
  },
})

describe('per-cluster Applications → ApplicationSets', () => {
  let servers: KubeServer[]
  let ws: Workspace
  let kubeconfig: string
  let central: Kube
  let controllers: ArgoCdControllers
  let clusters: Cluster[]
  /** Application name → the uid it had under the old layout */
  const uids = new Map<string, string>()
  const serverOf = (c: Cluster) => servers[NAMES.indexOf(c.name)]!
  const appsOf = (c: Cluster) => APPS.filter((a) => a.roles.includes(c.role)).map((a) => ({def: a, name: `${a.name}-${c.name}`}))
  /** the workload an Application deployed: a ConfigMap on its cluster, tracked the way Argo CD 3 tracks it */
  const workload = (app: string, namespace: string) => {
    const o = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `${app}-workload`, namespace}}
    return {...o, metadata: {...o.metadata, annotations: {[TRACKING_ANNOTATION]: trackingId(app, o)}}, data: {deployed: app}}
  }

  beforeAll(async () => {
    servers = await startKubeServers(NAMES, {tokenControllerDelayMs: 30})
    ws = await workspace({edit: withValues(Object.fromEntries(servers.map((s) => [`clusters.${s.name}.apiServer`, s.url])))})
    clusters = ws.inv().platform.clusters
    kubeconfig = writeFleetKubeconfig(path.join(ws.dir, 'kubeconfig'), servers)
    central = await Kube.connect({kubeconfig, context: 'cluster-01-context'})
    await central.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
    await central.apply(crd('applications', 'Application'))
    await central.apply(crd('applicationsets', 'ApplicationSet'))
    await waitFor(
      () => {
        try {
          servers[0]!.type('applicationsets.argoproj.io')
          return true
        } catch {
          return false
        }
      },
      60_000,
      'the Argo CD CRDs served',
    )

    // the old layout, as the root app applied it: one Application per component and cluster (no
    // resources finalizer: earlier obsctl versions never rendered one), and what each one deployed
    for (const c of clusters) {
      for (const ns of new Set(APPS.map((a) => a.namespace))) serverOf(c).seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}})
      for (const {def, name} of appsOf(c)) {
        const [app] = servers[0]!.seed({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {
            name,
            namespace: 'argocd',
            annotations: {'argocd.argoproj.io/sync-wave': String(WAVES[def.layer]), [TRACKING_ANNOTATION]: `root-app:argoproj.io/Application:argocd/${name}`},
            labels: {'obsctl.dev/cluster': c.name, 'obsctl.dev/role': c.role, 'obsctl.dev/layer': def.layer},
          },
          spec: {
            project: 'default',
            source: {repoURL: ws.remote, targetRevision: 'main', path: def.path ?? `deploy/overlays/${overlayName(c)}/${def.name}`},
            destination: {server: c.role === 'central' ? 'https://kubernetes.default.svc' : c.apiServer, namespace: def.namespace},
            syncPolicy: {automated: {prune: true, selfHeal: true}},
          },
        })
        uids.set(name, app!.metadata.uid)
        serverOf(c).seed(workload(name, def.namespace))
      }
    }
    // the edges registered with Argo CD by the real registration (labels obsctl.dev/role and obsctl.dev/metrics)
    for (const c of clusters.filter((x) => x.role === 'edge')) {
      const edge = await Kube.connect({kubeconfig, context: `${c.name}-context`})
      await registerEdge(central, edge, c, {timeoutMs: 120_000, intervalMs: 25})
    }
    controllers = new ArgoCdControllers(servers[0]!, servers.slice(1)).start(30)
  })
  afterAll(async () => {
    controllers?.stop()
    await stopKubeServers(servers)
    ws.cleanup()
  })

  const liveApps = () => servers[0]!.listObjects('applications.argoproj.io', 'argocd')
  const workloadsLeft = (c: Cluster) =>
    appsOf(c)
      .filter(({def, name}) => serverOf(c).getObject('configmaps', def.namespace, `${name}-workload`))
      .map(({name}) => name)

  it('the root app applies the rendered argocd/applications/ (ApplicationSets, in-cluster Secret): every Application is adopted, none deleted or recreated', async () => {
    const dir = path.join(ws.gitops, 'argocd', 'applications')
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith('.yaml'))
      .sort()) {
      for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')))
        await central.apply(d.toJS() as Obj & {apiVersion: string; kind: string; metadata: {name: string}})
    }
    const expected = clusters.flatMap((c) => appsOf(c).map((a) => a.name)).sort()
    const owned = () => liveApps().filter((a) => (a.metadata.ownerReferences ?? []).some((r: Obj) => r.kind === 'ApplicationSet' && r.controller))
    await waitFor(() => owned().length === expected.length, 120_000, 'every Application owned by its ApplicationSet')

    // same names, same objects: adopted in place, never deleted and recreated
    expect(
      liveApps()
        .map((a) => a.metadata.name)
        .sort(),
    ).toEqual(expected)
    for (const a of liveApps()) expect(a.metadata.uid, a.metadata.name).toBe(uids.get(a.metadata.name))
    expect(controllers.events.filter((e) => e.action !== 'adopted' && e.action !== 'updated')).toEqual([])
    expect(
      controllers.events
        .filter((e) => e.action === 'adopted')
        .map((e) => e.app)
        .sort(),
    ).toEqual(expected)
    // every object the old Applications deployed is still there
    for (const c of clusters) expect(workloadsLeft(c), c.name).toEqual(appsOf(c).map((a) => a.name))

    // now in the new layout: the resources finalizer, the root app's tracking gone, paths of the new render
    for (const c of clusters) {
      for (const {def, name} of appsOf(c)) {
        const a = servers[0]!.getObject('applications.argoproj.io', 'argocd', name)!
        expect(
          a.metadata.ownerReferences.map((r: Obj) => r.name),
          name,
        ).toEqual([def.name])
        expect(a.metadata.finalizers, name).toEqual([RESOURCES_FINALIZER])
        expect(a.metadata.annotations[TRACKING_ANNOTATION], name).toBeUndefined()
        expect(a.spec.destination.server).toBe(c.role === 'central' ? 'https://kubernetes.default.svc' : c.apiServer)
        const want =
          def.path ??
          (def.perCluster || c.role === 'central' ? `deploy/overlays/${overlayName(c)}/${def.name}` : `deploy/overlays/edge-${c.metrics}/${def.name}`)
        expect(a.spec.source.path, name).toBe(want)
        expect(readdirSync(path.join(ws.gitops, want)).length, want).toBeGreaterThan(0)
      }
    }
  })

  it('cluster remove on the new layout: its Applications cascade (their workloads deleted), the ApplicationSets do not recreate them, the other clusters keep theirs', async () => {
    const gone = clusters.find((c) => c.name === 'cluster-04')!
    expect(workloadsLeft(gone).length).toBeGreaterThan(0)
    // the Argo CD steps of `cluster remove` (its flow's first two phases, through the engine); the later
    // ones (tokens, OpenSearch user, render, kubeconfig, inventory) are covered by cluster.test.ts
    const run = await runPhases([removeAppsPhase({cluster: gone}), removeSecretPhase({cluster: gone})], {
      inv: ws.inv(),
      restart: true,
      kubeconfig,
      clusters: [gone.name],
      renderer: 'silent',
      handleSignals: false,
      command: `cluster remove ${gone.name}`,
    })
    expect(run.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed')).toEqual([])
    expect(run.ok).toBe(true)
    expect(
      runReports<{applications: string[]}>(run, 'remove-apps')
        .flatMap((x) => x.applications)
        .sort(),
    ).toEqual(
      appsOf(gone)
        .map((a) => a.name)
        .sort(),
    )
    expect(CLUSTER_REMOVE_PHASES.slice(0, 2)).toEqual(['remove-apps', 'remove-secret'])
    expect(servers[0]!.listObjects('secrets', 'argocd').filter((x) => x.metadata.labels?.['obsctl.dev/cluster'] === gone.name)).toEqual([])
    // what they deployed went with them (the resources finalizer), before the cluster Secret was deleted
    expect(workloadsLeft(gone)).toEqual([])
    expect(liveApps().filter((a) => a.metadata.name.endsWith(`-${gone.name}`))).toEqual([])
    // one more reconcile of every ApplicationSet: nothing selects the removed cluster any more
    controllers.reconcile()
    expect(liveApps().filter((a) => a.metadata.name.endsWith(`-${gone.name}`))).toEqual([])
    // the others: untouched, same objects
    for (const c of clusters.filter((x) => x !== gone)) {
      expect(workloadsLeft(c), c.name).toEqual(appsOf(c).map((a) => a.name))
      for (const {name} of appsOf(c)) expect(servers[0]!.getObject('applications.argoproj.io', 'argocd', name)?.metadata.uid, name).toBe(uids.get(name))
    }
    expect(controllers.events.filter((e) => e.action === 'error')).toEqual([])
  })
})
