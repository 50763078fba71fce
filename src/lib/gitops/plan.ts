/**
 * What the repository contains for an inventory: every output path and its bytes.
 * Pure and deterministic: same inventory → same map, in sorted order, no timestamps.
 */
import type {Cluster, Platform} from '../config/schema.js'
import {overlayName} from '../config/model.js'
import {clusterContext, platformContext} from './context.js'
import {loadTemplates, type Template} from './templates.js'

export type Layer = 'infrastructure' | 'operators' | 'observability' | 'applications'

/** Sync waves: Infrastructure → Operators → Observability → Applications (the seed's layers). */
export const WAVES: Record<Layer, number> = {infrastructure: 1, operators: 2, observability: 3, applications: 4}

export interface AppDef {
  /** file name and Application name prefix (<name>-<cluster>) */
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
}

export const APPS: AppDef[] = [
  {name: 'cilium', title: 'Cilium ingress, L2 announcements, LB IP pool', layer: 'infrastructure', roles: ['central', 'edge'], namespace: 'kube-system', serverSideApply: true},
  {name: 'longhorn', title: 'Longhorn storage with S3 backups', layer: 'infrastructure', roles: ['central', 'edge'], namespace: 'longhorn-system', serverSideApply: true},
  {name: 'kube-prometheus-stack', title: 'Prometheus operator, exporters', layer: 'operators', roles: ['central', 'edge'], namespace: 'monitoring', serverSideApply: true, skipDryRun: true},
  {name: 'opensearch-operator', title: 'OpenSearch operator', layer: 'operators', roles: ['central'], namespace: 'logging', serverSideApply: true},
  {name: 'fluent-operator', title: 'Fluent operator', layer: 'operators', roles: ['central', 'edge'], namespace: 'logging', serverSideApply: true},
  {name: 'thanos', title: 'Thanos Query, Store, Compactor, Ruler', layer: 'observability', roles: ['central'], namespace: 'monitoring', skipDryRun: true},
  {name: 'opensearch', title: 'OpenSearch cluster and Dashboards', layer: 'observability', roles: ['central'], namespace: 'logging', skipDryRun: true},
  {name: 'fluent-bit', title: 'Fluent Bit shipping logs to OpenSearch', layer: 'observability', roles: ['central', 'edge'], namespace: 'logging', skipDryRun: true},
  {name: 'grafana-dashboards', title: 'Grafana dashboards', layer: 'applications', roles: ['central'], namespace: 'monitoring', path: 'dashboards'},
]

export interface RenderedFile {
  path: string
  content: string
}

function emit(out: Map<string, string>, file: string, content: string): void {
  if (content.trim() === '') return
  if (out.has(file)) throw new Error(`two templates render ${file}`)
  out.set(file, content)
}

/** Render every file of the repository for the inventory. */
export function renderFiles(p: Platform, templates: Template[] = loadTemplates()): RenderedFile[] {
  const partials = new Map(templates.filter((t) => t.name.startsWith('partials/')).map((t) => [t.name.slice(9).replace(/\.yaml$/, ''), t]))
  const renderPartial = (name: string, data: object) => {
    const t = partials.get(name)
    if (!t) throw new Error(`no partial ${name}`)
    return t.render(data)
  }
  const base = platformContext(p, renderPartial)
  const out = new Map<string, string>()
  const byScope = (scope: string) => templates.filter((t) => t.name.startsWith(`${scope}/`) && t.name !== 'cluster/argocd/applications/application.yaml')
  const appTemplate = templates.find((t) => t.name === 'cluster/argocd/applications/application.yaml')
  if (!appTemplate) throw new Error('template cluster/argocd/applications/application.yaml is missing')

  for (const t of byScope('platform')) emit(out, t.name.slice('platform/'.length), t.render(base))

  for (const c of p.clusters) {
    const ctx = clusterContext(base, c)
    const overlay = overlayName(c)
    const scoped = [...byScope('cluster'), ...byScope(c.role)]
    for (const t of scoped) {
      const rel = t.name.slice(t.name.indexOf('/') + 1).replaceAll('__overlay__', overlay)
      emit(out, rel, t.render(ctx))
    }
    for (const app of APPS) {
      if (!app.roles.includes(c.role)) continue
      const a = {...app, wave: WAVES[app.layer], path: app.path ?? `deploy/overlays/${overlay}/${app.name}`}
      emit(out, `argocd/applications/${c.name}/${app.name}.yaml`, appTemplate.render({...ctx, app: a}))
    }
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, content]) => ({path, content}))
}
