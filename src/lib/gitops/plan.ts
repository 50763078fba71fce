/**
 * What the repository contains for an inventory: every output path and its bytes.
 * Pure and deterministic: same inventory → same map, in sorted order, no timestamps.
 */
import type {Cluster, Platform} from '../config/schema.js'
import {centralCluster, edgeClusters, metricsMode, overlayName} from '../config/model.js'
import {clusterContext, edgeUnitContext, platformContext} from './context.js'
import {loadTemplates, templatesDigest, type Template} from './templates.js'
import {platformMemo} from '../derived-cache.js'
import {sha256} from '../hash.js'

export type Layer = 'infrastructure' | 'operators' | 'observability' | 'applications'

/** Sync waves: Infrastructure → Operators → Observability → Applications (the seed's layers). */
export const WAVES: Record<Layer, number> = {infrastructure: 1, operators: 2, observability: 3, applications: 4}

/** A per-cluster value a shared overlay gets from its ApplicationSet: a JSON patch `add` on one object. */
export interface ClusterPatch {
  group: string
  version: string
  kind: string
  name: string
  /** JSON pointer in the object */
  path: string
  /** the value (YAML flow) for the cluster name expression */
  value: (cluster: string) => string
  /** the object is only in some overlays (kustomize's allowNoTargetMatch) */
  optional?: boolean
}

export interface AppDef {
  /** ApplicationSet (file) name and Application name prefix (<name>-<cluster>) */
  name: string
  title: string
  layer: Layer
  roles: Cluster['role'][]
  namespace: string
  /** path in the repo; default deploy/overlays/<overlay>/<name> */
  path?: string
  /** CRD-heavy charts: server-side apply (CRDs exceed the client-side annotation limit) */
  serverSideApply?: boolean
  /** custom resources whose CRDs another Application installs */
  skipDryRun?: boolean
  /** every cluster has an overlay of its own (deploy/overlays/<cluster>-<role>/<name>); else edges share one per metrics mode */
  perCluster?: boolean
  /** set per cluster by the ApplicationSet in a shared overlay */
  patches?: ClusterPatch[]
}

const FLUENT_BIT_PATCHES: ClusterPatch[] = [
  {
    group: 'fluentbit.fluent.io',
    version: 'v1alpha2',
    kind: 'ClusterFilter',
    name: 'cluster-name',
    path: '/spec/filters/0/recordModifier/records',
    value: (c) => `["cluster ${c}"]`,
  },
  {
    group: 'fluentbit.fluent.io',
    version: 'v1alpha2',
    kind: 'ClusterOutput',
    name: 'opensearch',
    path: '/spec/opensearch/logstashPrefix',
    value: (c) => `"fluent-bit-${c}"`,
  },
]
const AGENT_PATCHES: ClusterPatch[] = [
  {
    group: 'monitoring.coreos.com',
    version: 'v1alpha1',
    kind: 'PrometheusAgent',
    name: 'prometheus-agent',
    path: '/spec/externalLabels',
    value: (c) => `{cluster: "${c}"}`,
    optional: true,
  },
]

export const APPS: AppDef[] = [
  {
    name: 'cilium',
    title: 'Cilium ingress, L2 announcements, LB IP pool',
    layer: 'infrastructure',
    roles: ['central', 'edge'],
    namespace: 'kube-system',
    serverSideApply: true,
    perCluster: true,
  },
  {
    name: 'longhorn',
    title: 'Longhorn storage with S3 backups',
    layer: 'infrastructure',
    roles: ['central', 'edge'],
    namespace: 'longhorn-system',
    serverSideApply: true,
    perCluster: true,
  },
  {
    name: 'kube-prometheus-stack',
    title: 'Prometheus operator, exporters',
    layer: 'operators',
    roles: ['central', 'edge'],
    namespace: 'monitoring',
    serverSideApply: true,
    skipDryRun: true,
    patches: AGENT_PATCHES,
  },
  {name: 'opensearch-operator', title: 'OpenSearch operator', layer: 'operators', roles: ['central'], namespace: 'logging', serverSideApply: true},
  {name: 'fluent-operator', title: 'Fluent operator', layer: 'operators', roles: ['central', 'edge'], namespace: 'logging', serverSideApply: true},
  {name: 'thanos', title: 'Thanos Query, Store, Compactor, Ruler', layer: 'observability', roles: ['central'], namespace: 'monitoring', skipDryRun: true},
  {name: 'opensearch', title: 'OpenSearch cluster and Dashboards', layer: 'observability', roles: ['central'], namespace: 'logging', skipDryRun: true},
  {
    name: 'fluent-bit',
    title: 'Fluent Bit shipping logs to OpenSearch',
    layer: 'observability',
    roles: ['central', 'edge'],
    namespace: 'logging',
    skipDryRun: true,
    patches: FLUENT_BIT_PATCHES,
  },
  {name: 'grafana-dashboards', title: 'Grafana dashboards', layer: 'applications', roles: ['central'], namespace: 'monitoring', path: 'dashboards'},
]

/** An Application an ApplicationSet of the render generates for one cluster of the inventory. */
export interface GeneratedApp {
  /** <component>-<cluster> */
  name: string
  cluster: string
  /** the path in the repository Argo CD reads (the generator's values.path) */
  path: string
  /** the ApplicationSet's file */
  file: string
}

/**
 * The Applications the rendered ApplicationSets generate for the inventory's clusters: the same names and
 * paths as templates/gitops/platform/argocd/applicationset.yaml's generators give (a registered cluster
 * Secret labelled with its role and metrics mode; central through its in-cluster Secret).
 */
export function generatedApplications(p: Platform): GeneratedApp[] {
  const out: GeneratedApp[] = []
  for (const app of APPS) {
    for (const c of p.clusters) {
      if (!app.roles.includes(c.role)) continue
      const path =
        app.path ??
        (app.perCluster || c.role === 'central' ? `deploy/overlays/${overlayName(c)}/${app.name}` : `deploy/overlays/edge-${metricsMode(c)}/${app.name}`)
      out.push({name: `${app.name}-${c.name}`, cluster: c.name, path, file: `argocd/applications/${app.name}.yaml`})
    }
  }
  return out
}

export interface RenderedFile {
  path: string
  content: string
}

/** A rendered file by its sha256 (as the render manifest records it), without its content. */
export interface FileDigest {
  path: string
  hash: string
}

function emit(out: Map<string, string>, file: string, content: string): void {
  if (content.trim() === '') return
  if (out.has(file)) throw new Error(`two templates render ${file}`)
  out.set(file, content)
}

export const APPLICATIONSET_TEMPLATE = 'platform/argocd/applicationset.yaml'

/** The metrics modes of the edges, each rendered once as a shared overlay deploy/overlays/edge-<mode>/. */
export function edgeModes(p: Platform): ('agent' | 'remote-scrape')[] {
  return (['agent', 'remote-scrape'] as const).filter((m) => edgeClusters(p).some((e) => metricsMode(e) === m))
}

/**
 * Render every file of the repository for the inventory. Scopes (top folders of templates/gitops/):
 * platform/ once; cluster/ per cluster (what really differs per cluster: Cilium, Longhorn); central/ for
 * the central cluster; unit/ for the central cluster and once per edge metrics mode; edge/ once per edge
 * metrics mode. The ApplicationSets (one per component) turn the shared overlays into per-cluster
 * Applications, so an added edge adds only its cluster/ files.
 */
export function renderFiles(p: Platform, templates?: Template[]): RenderedFile[] {
  // the default templates' render is kept between runs (render writes it, status and drift compare it)
  return templates ? renderWith(p, templates) : renderedFiles(p, '', () => renderOnce(p)).map((f) => ({...f}))
}

/**
 * The default templates' render as paths and sha256s: all that plan's description of the render phase and its
 * done-check compare with the repository (../render.ts planRender). Kept between runs apart from the files: at
 * 1,000 clusters the files are 8.9 MB to encode and write after every edit, their digests 0.3 MB.
 */
export function renderDigests(p: Platform): FileDigest[] {
  return renderedDigests(p, '', () => renderOnce(p).map((f) => ({path: f.path, hash: sha256(f.content)})))
}

const renderedFiles = platformMemo('rendered-files', templatesDigest)
const renderedDigests = platformMemo('rendered-digests', templatesDigest)

/** one render per inventory and process, whether the digests or the files asked first (`render` asks both) */
const rendered = new WeakMap<Platform, RenderedFile[]>()
function renderOnce(p: Platform): RenderedFile[] {
  let files = rendered.get(p)
  if (!files) rendered.set(p, (files = renderWith(p, loadTemplates())))
  return files
}

function renderWith(p: Platform, templates: Template[]): RenderedFile[] {
  const partials = new Map(templates.filter((t) => t.name.startsWith('partials/')).map((t) => [t.name.slice(9).replace(/\.yaml$/, ''), t]))
  const renderPartial = (name: string, data: object) => {
    const t = partials.get(name)
    if (!t) throw new Error(`no partial ${name}`)
    return t.render(data)
  }
  const base = platformContext(p, renderPartial)
  const out = new Map<string, string>()
  const byScope = (scope: string) => templates.filter((t) => t.name.startsWith(`${scope}/`) && t.name !== APPLICATIONSET_TEMPLATE)
  const appSetTemplate = templates.find((t) => t.name === APPLICATIONSET_TEMPLATE)
  if (!appSetTemplate) throw new Error(`template ${APPLICATIONSET_TEMPLATE} is missing`)
  const scoped = (ts: Template[], overlay: string, ctx: object) => {
    for (const t of ts) emit(out, t.name.slice(t.name.indexOf('/') + 1).replaceAll('__overlay__', overlay), t.render(ctx))
  }

  for (const t of byScope('platform')) emit(out, t.name.slice('platform/'.length), t.render(base))
  for (const c of p.clusters) scoped(byScope('cluster'), overlayName(c), clusterContext(base, c))
  const central = centralCluster(p)
  const centralCtx = clusterContext(base, central)
  scoped([...byScope('unit'), ...byScope('central')], overlayName(central), centralCtx)
  for (const mode of edgeModes(p)) {
    const ctx = edgeUnitContext(base, mode)
    scoped([...byScope('unit'), ...byScope('edge')], ctx.overlay, ctx)
  }
  for (const app of APPS) {
    const a = {...app, wave: WAVES[app.layer], patches: app.patches ?? []}
    emit(out, `argocd/applications/${app.name}.yaml`, appSetTemplate.render({...base, app: a}))
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, content]) => ({path, content}))
}
