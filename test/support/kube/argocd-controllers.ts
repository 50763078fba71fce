/**
 * The two Argo CD behaviours the fleet tests depend on, played in-process on Kubernetes API test servers
 * (the objects go through the server's own store and write path, so watches, finalizers and
 * resourceVersions behave as for any other writer):
 *
 * - the ApplicationSet controller, cluster generator with goTemplate: for each ApplicationSet in argocd,
 *   the cluster Secrets (label argocd.argoproj.io/secret-type=cluster) its selector matches give the
 *   params `name`, `nameNormalized`, `server`, `metadata.labels`, `metadata.annotations` and `values`
 *   (rendered with those params); the template, every string rendered, is the Application. Created, or
 *   updated in place the way createOrUpdateInCluster does it: spec, labels, annotations (except the
 *   preserved argocd.argoproj.io/refresh) and finalizers replaced from the generated Application, and the
 *   ApplicationSet set as controller owner — an existing Application of the same name without an owner is
 *   adopted (same object, same uid); one controlled by another owner is an error. applicationsSync
 *   create-update/create-only never delete. Checked against argo-cd v3.1.9
 *   applicationset/controllers/applicationset_controller.go (createOrUpdateInCluster, deleteInCluster) and
 *   applicationset/generators/cluster.go (params, appendTemplatedValues).
 * - the application controller's deletion of an Application that carries
 *   resources-finalizer.argocd.argoproj.io: every object on its destination cluster whose tracking
 *   annotation argocd.argoproj.io/tracking-id is `<app>:<group>/<kind>:<namespace>/<name>` (Argo CD 3's
 *   default annotation tracking) is deleted, then the finalizer is removed. Without the finalizer Argo
 *   CD deletes nothing (non-cascading).
 *
 * - the application controller's fetch (`fetchRevisions`): which commit each Application reports in status.sync.revision.
 *
 * The Go template subset: `{{ .a.b }}` and `{{ index .a.b "key" }}`, with missingkey=error (an unknown
 * key throws); anything else throws rather than rendering something Argo CD would not.
 */

/** Argo CD's Application CRD as the fleet tests install it (names as argo-cd v3.1.9's; schema left open: the tests write the Applications obsctl renders, which test/upstream checks against the real CRD). */
export const APPLICATION_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {name: 'applications.argoproj.io'},
  spec: {
    group: 'argoproj.io',
    names: {kind: 'Application', listKind: 'ApplicationList', plural: 'applications', singular: 'application', shortNames: ['app']},
    scope: 'Namespaced',
    versions: [{name: 'v1alpha1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
  },
}
import type {KubeServer} from './server.js'
import {controllerOptions} from './controllers.js'
import type {Obj} from './store.js'
import {parse as parseYaml} from 'yaml'
import type {LoadedInventory} from '../../../src/lib/config/load.js'
import {APPS, type RenderedFile} from '../../../src/lib/gitops/index.js'
import {clusterSecretObject} from '../../../src/lib/argocd/register.js'

export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io'
export const TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id'
const ARGOCD = 'argocd'
const IN_CLUSTER = 'https://kubernetes.default.svc'
const PRESERVED_ANNOTATIONS = ['argocd.argoproj.io/refresh', 'notified.notifications.argoproj.io']

type Selector = {matchLabels?: Record<string, string>; matchExpressions?: {key: string; operator: string; values?: string[]}[]}

export function matchesSelector(labels: Record<string, string> = {}, sel: Selector = {}): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key)
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(labels[e.key]!))) return false
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(labels[e.key]!)) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) throw new Error(`selector operator ${e.operator} is not valid`)
  }
  return true
}

function lookup(params: Obj, path: string, expr: string): unknown {
  let cur: unknown = params
  for (const seg of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg))
      throw new Error(`template: ${expr}: map has no entry for key "${seg}" (missingkey=error)`)
    cur = (cur as Obj)[seg]
  }
  return cur
}

/** Render the Go template expressions of one string. */
export function renderGoTemplate(s: string, params: Obj): string {
  return s.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    const index = /^index\s+(\.[\w.]*)\s+"([^"]*)"$/.exec(expr)
    if (index) {
      const m = lookup(params, index[1]!, expr)
      if (m === null || typeof m !== 'object' || !Object.hasOwn(m, index[2]!))
        throw new Error(`template: ${expr}: map has no entry for key "${index[2]}" (missingkey=error)`)
      return String((m as Obj)[index[2]!])
    }
    if (/^\.[\w.]*$/.test(expr)) return String(lookup(params, expr, expr))
    throw new Error(`template: unsupported expression {{ ${expr} }} in the test ApplicationSet controller`)
  })
}

function renderDeep<T>(v: T, params: Obj): T {
  if (typeof v === 'string') return renderGoTemplate(v, params) as T
  if (Array.isArray(v)) return v.map((x) => renderDeep(x, params)) as T
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderDeep(x, params)])) as T
  return v
}

const unb64 = (s?: string) => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'))

/** generators/cluster.go: a name as a DNS-1123 subdomain (lower case, [^a-z0-9-.] → -). */
const normalize = (name: string) => name.toLowerCase().replace(/[^a-z0-9-.]/g, '-')

/** The cluster Secrets Argo CD would hold: one per edge as `cluster register` writes it, and the rendered in-cluster one. */
export function clusterSecrets(inv: LoadedInventory, files: RenderedFile[]): Obj[] {
  const inCluster = parseYaml(files.find((f) => f.path === 'argocd/applications/in-cluster.yaml')!.content) as Obj
  const data = Object.fromEntries(Object.entries(inCluster.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
  const edges = inv.platform.clusters.filter((c) => c.role === 'edge').map((c) => clusterSecretObject(c, 'token-not-used', '-----BEGIN CERTIFICATE-----\n'))
  return [{...inCluster, stringData: undefined, data}, ...edges]
}

/** The rendered ApplicationSets, one per component. */
export const appSets = (files: RenderedFile[]): Obj[] =>
  APPS.map((a) => parseYaml(files.find((f) => f.path === `argocd/applications/${a.name}.yaml`)!.content) as Obj)

/** The Applications an ApplicationSet generates from the cluster Secrets (cluster generators only). */
export function generateApplications(appset: Obj, clusterSecrets: Obj[]): Obj[] {
  if (appset.spec?.goTemplate !== true) throw new Error(`ApplicationSet ${appset.metadata.name}: the test controller plays goTemplate only`)
  const out: Obj[] = []
  for (const g of appset.spec.generators ?? []) {
    if (!g.clusters) throw new Error(`ApplicationSet ${appset.metadata.name}: the test controller plays the cluster generator only`)
    for (const s of clusterSecrets) {
      if (!matchesSelector(s.metadata.labels, g.clusters.selector)) continue
      const name = unb64(s.data?.name)
      const params: Obj = {
        name,
        nameNormalized: normalize(name),
        server: unb64(s.data?.server),
        metadata: {labels: s.metadata.labels ?? {}, annotations: s.metadata.annotations ?? {}},
      }
      const values = g.clusters.values as Record<string, string> | undefined
      if (values) params.values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, renderGoTemplate(v, params)]))
      const t = renderDeep(appset.spec.template, params)
      out.push({apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {...t.metadata, namespace: appset.metadata.namespace}, spec: t.spec})
    }
  }
  return out
}

export interface AppSetEvent {
  appset: string
  app: string
  action: 'created' | 'updated' | 'adopted' | 'deleted' | 'error'
  message?: string
}

/**
 * Plays the ApplicationSet controller and the application controller's deletion on `central`, with the
 * other servers as destinations (by their URL; in-cluster is `central`). Reconciles every `everyMs`.
 */
export class ArgoCdControllers {
  readonly events: AppSetEvent[] = []
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly central: KubeServer,
    private readonly destinations: KubeServer[] = [],
  ) {}

  start(everyMs = 50): this {
    this.timer = setInterval(() => {
      try {
        this.reconcile()
      } catch (error) {
        this.events.push({appset: '', app: '', action: 'error', message: (error as Error).message})
      }
    }, everyMs)
    return this
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private destination(server: string): KubeServer | undefined {
    if (server === IN_CLUSTER) return this.central
    return [this.central, ...this.destinations].find((s) => s.url === server)
  }

  reconcile(): void {
    const c = this.central
    let appsets: Obj[]
    try {
      appsets = c.listObjects('applicationsets.argoproj.io', ARGOCD)
    } catch {
      appsets = [] // the CRD is not installed (yet)
    }
    const secrets = c.listObjects('secrets', ARGOCD).filter((s) => s.metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster')
    const appType = c.type('applications.argoproj.io')
    const opts = {...controllerOptions(), manager: 'argocd-applicationset-controller'}
    for (const appset of appsets) {
      if (appset.metadata.deletionTimestamp) continue
      let generated: Obj[]
      try {
        generated = generateApplications(appset, secrets)
      } catch (error) {
        this.events.push({appset: appset.metadata.name, app: '', action: 'error', message: (error as Error).message})
        continue
      }
      const owner = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'ApplicationSet',
        name: appset.metadata.name,
        uid: appset.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      }
      for (const app of generated) {
        const found = c.getObject('applications.argoproj.io', ARGOCD, app.metadata.name)
        if (!found) {
          c.objects.create(appType, ARGOCD, {...app, metadata: {...app.metadata, ownerReferences: [owner]}}, opts)
          this.events.push({appset: appset.metadata.name, app: app.metadata.name, action: 'created'})
          continue
        }
        const controller = (found.metadata.ownerReferences ?? []).find((r: Obj) => r.controller)
        if (controller && controller.uid !== appset.metadata.uid) {
          this.events.push({
            appset: appset.metadata.name,
            app: app.metadata.name,
            action: 'error',
            message: `Object ${app.metadata.name} is already owned by another ${controller.kind} controller ${controller.name}`,
          })
          continue
        }
        const annotations = {...(app.metadata.annotations ?? {})}
        for (const k of PRESERVED_ANNOTATIONS) if (found.metadata.annotations?.[k] !== undefined) annotations[k] = found.metadata.annotations[k]
        const next = structuredClone(found)
        next.spec = app.spec
        next.metadata.labels = app.metadata.labels
        next.metadata.annotations = annotations
        next.metadata.finalizers = app.metadata.finalizers
        next.metadata.ownerReferences = [...(found.metadata.ownerReferences ?? []).filter((r: Obj) => r.uid !== appset.metadata.uid), owner]
        const before = found.metadata.resourceVersion
        const written = c.objects.update(appType, ARGOCD, app.metadata.name, next, opts)
        if (written.metadata.resourceVersion !== before)
          this.events.push({appset: appset.metadata.name, app: app.metadata.name, action: controller ? 'updated' : 'adopted'})
      }
      // deleteInCluster runs only when the policy allows deletion (sync, create-delete)
      const policy = appset.spec.syncPolicy?.applicationsSync ?? 'sync'
      if (policy === 'sync' || policy === 'create-delete') {
        const wanted = new Set(generated.map((a) => a.metadata.name))
        for (const a of c.listObjects('applications.argoproj.io', ARGOCD)) {
          if (wanted.has(a.metadata.name) || !(a.metadata.ownerReferences ?? []).some((r: Obj) => r.controller && r.uid === appset.metadata.uid)) continue
          c.objects.delete(appType, ARGOCD, a.metadata.name, {}, false)
          this.events.push({appset: appset.metadata.name, app: a.metadata.name, action: 'deleted'})
        }
      }
    }
    this.finalizeDeletedApps()
  }

  /** Applications being deleted: with the resources finalizer, their tracked objects go first. */
  private finalizeDeletedApps(): void {
    const c = this.central
    const appType = c.type('applications.argoproj.io')
    for (const app of c.listObjects('applications.argoproj.io', ARGOCD)) {
      if (!app.metadata.deletionTimestamp || !(app.metadata.finalizers ?? []).includes(RESOURCES_FINALIZER)) continue
      const dest = this.destination(app.spec?.destination?.server)
      if (!dest) continue // Argo CD cannot reach the cluster: the Application stays Terminating
      const prefix = `${app.metadata.name}:`
      for (const kind of TRACKED_KINDS) {
        let list: Obj[]
        try {
          list = dest.listObjects(kind)
        } catch {
          continue
        }
        for (const o of list) {
          if (!String(o.metadata.annotations?.[TRACKING_ANNOTATION] ?? '').startsWith(prefix)) continue
          dest.objects.delete(dest.type(kind), o.metadata.namespace ?? '', o.metadata.name, {}, false)
        }
      }
      const next = structuredClone(app)
      next.metadata.finalizers = (app.metadata.finalizers ?? []).filter((f: string) => f !== RESOURCES_FINALIZER)
      c.objects.update(appType, ARGOCD, app.metadata.name, next, {...controllerOptions(), manager: 'argocd-application-controller'})
    }
  }
}

/** The kinds the tests deploy as workloads (the deletion looks for tracked objects of these). */
export const TRACKED_KINDS = ['deployments', 'daemonsets', 'statefulsets', 'configmaps', 'services']

/** The annotation Argo CD 3 puts on what an Application deployed. */
export function trackingId(app: string, o: {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}}): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''
  return `${app}:${group}/${o.kind}:${o.metadata.namespace ?? ''}/${o.metadata.name}`
}

/** Argo CD's refresh annotation: set to ask for a refresh (what `argocd app get --refresh` does), removed by the controller once done. */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh'

export interface RevisionMove {
  app: string
  /** the revision it reported before (undefined: a new Application) */
  from?: string
  to: string
}

/**
 * The application controller's fetch, as argo-cd v3.1.9 does it: a new Application (no status.sync.revision yet) is
 * compared at once, at the branch head; one that has a revision sees a newer commit only when refreshed — the
 * argocd.argoproj.io/refresh annotation, which the controller removes once it has refreshed
 * (pkg/apis/application/v1alpha1/application_annotations.go: "Removed by application controller after app is
 * refreshed") — or at its periodic reconciliation (timeout.reconciliation, 180 s by default: longer than any test
 * waits, so not played). Each Application gets `status` (sync/health) at the revision it fetched; what moved is returned.
 */
export function fetchRevisions(central: KubeServer, branchHead: string, status: {sync: string; health: string}): RevisionMove[] {
  type App = {
    metadata: {namespace: string; name: string; annotations?: Record<string, string>}
    status?: {health?: {status?: string}; sync?: {status?: string; revision?: string}}
  }
  let apps: App[]
  try {
    apps = central.listObjects('applications.argoproj.io', ARGOCD) as App[]
  } catch {
    return [] // the CRD is not installed yet
  }
  const appType = central.type('applications.argoproj.io')
  const moves: RevisionMove[] = []
  for (const a of apps) {
    const had = a.status?.sync?.revision
    const refresh = a.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined
    const revision = had === undefined || refresh ? branchHead : had
    if (refresh) {
      const next = structuredClone(a)
      delete next.metadata.annotations![REFRESH_ANNOTATION]
      central.objects.update(appType, ARGOCD, a.metadata.name, next as Obj, {...controllerOptions(), manager: 'argocd-application-controller'})
    }
    if (had !== revision) moves.push({app: a.metadata.name, from: had, to: revision})
    if (refresh || had !== revision || a.status?.sync?.status !== status.sync || a.status?.health?.status !== status.health)
      central.setApplicationStatus(ARGOCD, a.metadata.name, {...status, revision})
  }
  return moves
}
