/**
 * HTTP routing: non-resource endpoints (version, health, discovery, OpenAPI) and the resource REST
 * paths (/api/v1/..., /apis/<group>/<version>/..., namespaced or cluster-scoped, with subresources
 * status, token and proxy), mapped onto ObjectApi and Watches. Authentication and authorization
 * happen in server.ts before route() is called with the parsed request info.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {parse as parseYaml} from 'yaml'
import {aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroup, apiGroupList, apiResourceList, apiVersions, KUBE_VERSION, wantsAggregated} from './discovery.js'
import {groupVersion, type ResourceType, type TypeRegistry} from './kinds.js'
import type {ObjectApi, WriteOptions} from './objects.js'
import type {OpenApi} from './openapi.js'
import {evict} from './eviction.js'
import {decodeProtobuf, isProtobuf} from './protobuf.js'
import {parseSelector} from './selectors.js'
import {ApiError, badRequest, methodNotAllowed, notFoundPath, type StatusBody} from './status.js'
import type {Obj} from './store.js'
import type {Watches} from './watch.js'
import type {Loose} from './store.js'

/** what a URL addresses, before looking anything up (like apiserver's RequestInfo) */
export interface RequestInfo {
  isResource: boolean
  path: string
  verb: string
  group: string
  version: string
  namespace: string
  resource: string
  name: string
  subresource: string
  /** the rest of the path after a proxy subresource, beginning with "/" */
  subPath: string
}

export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname
  const base: RequestInfo = {
    isResource: false,
    path,
    verb: method.toLowerCase(),
    group: '',
    version: '',
    namespace: '',
    resource: '',
    name: '',
    subresource: '',
    subPath: '',
  }
  const segs = path.split('/').filter(Boolean).map(decodeURIComponent)
  let rest: string[]
  if (segs[0] === 'api' && segs.length >= 3) {
    base.version = segs[1]
    rest = segs.slice(2)
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    base.group = segs[1]
    base.version = segs[2]
    rest = segs.slice(3)
  } else return base
  if (rest[0] === 'namespaces' && rest.length > 1) {
    base.namespace = rest[1]
    if (rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') rest = rest.slice(2)
  }
  base.isResource = true
  base.resource = rest[0]
  base.name = rest[1] ?? ''
  base.subresource = rest[2] ?? ''
  if (base.subresource === 'proxy') {
    const raw = path.split('/').filter(Boolean)
    const after = raw.slice(segs.length - rest.length + 3)
    base.subPath = '/' + after.join('/') + (after.length > 0 && path.endsWith('/') ? '/' : '')
  }
  const m = method.toUpperCase()
  if (base.subresource === 'proxy') base.verb = {GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete'}[m] ?? m.toLowerCase()
  else if (m === 'GET' || m === 'HEAD')
    base.verb = base.name ? 'get' : url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' ? 'watch' : 'list'
  else if (m === 'POST') base.verb = 'create'
  else if (m === 'PUT') base.verb = 'update'
  else if (m === 'PATCH') base.verb = 'patch'
  else if (m === 'DELETE') base.verb = base.name ? 'delete' : 'deletecollection'
  return base
}

export interface ProxyRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  user: string
}

export interface ProxyResponse {
  status?: number
  headers?: Record<string, string>
  body?: string | Buffer | object
}

export type ProxyHandler = (req: ProxyRequest) => ProxyResponse | Promise<ProxyResponse>

export interface RouteContext {
  reg: TypeRegistry
  objects: ObjectApi
  watches: Watches
  openapi: OpenApi
  hostPort: string
  aggregatedDiscovery: boolean
  user: string
  tokenRequest(ns: string, sa: string, body: Obj): Obj
  /** what GET /version answers (KubeServer.setVersion changes it, as `kubeadm upgrade apply` does) */
  version?: () => Obj
  findProxy(resource: string, namespace: string, name: string, port: string): ProxyHandler | undefined
  /** the log text set for a pod's container (setPodLog), '' when none */
  podLog(namespace: string, pod: string, container: string): string
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', warnings: string[] = []): void {
  const text = JSON.stringify(body)
  const headers: Record<string, string | string[]> = {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache, private',
  }
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`)
  res.writeHead(code, headers)
  res.end(text)
}

export function sendStatus(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {}
  if (err.details?.retryAfterSeconds) headers['Retry-After'] = String(err.details.retryAfterSeconds)
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  sendJson(res, err.code, err.toStatus())
}

function success(details: Obj): StatusBody {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200}
}

function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  if (isProtobuf(contentType) && raw.length) return decodeProtobuf(raw)
  const text = raw.toString('utf8')
  if (!text.trim()) return undefined
  try {
    return JSON.parse(text)
  } catch {
    if ((contentType ?? '').includes('yaml')) return parseYaml(text)
    throw badRequest(`couldn't get version/kind; json parse error: invalid character in request body`)
  }
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>'
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

/** meta.k8s.io/v1 Table (what `kubectl get` asks for with Accept: ...;as=Table) */
function toTable(t: ResourceType, items: Obj[], rv: string, includeObject: string): Obj {
  const extra =
    t.resource === 'namespaces' ? [{name: 'Status', path: ['status', 'phase']}] : t.resource === 'nodes' ? [{name: 'Status', path: ['__ready']}] : []
  const columnDefinitions = [
    {name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0},
    ...extra.map((c) => ({name: c.name, type: 'string', format: '', description: c.name, priority: 0})),
    {
      name: 'Age',
      type: 'string',
      format: '',
      description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
      priority: 0,
    },
  ]
  const rows = items.map((o) => {
    const extraCells = extra.map((c) => {
      if (c.path[0] === '__ready') return (o.status?.conditions ?? []).some((x: Obj) => x.type === 'Ready' && x.status === 'True') ? 'Ready' : 'NotReady'
      return c.path.reduce((a: Loose, k) => (a == null ? a : a[k]), o) ?? ''
    })
    const row: Obj = {cells: [o.metadata.name, ...extraCells, age(o.metadata.creationTimestamp)]}
    if (includeObject === 'Object') row.object = o
    else if (includeObject !== 'None') row.object = {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata}
    return row
  })
  return {kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {resourceVersion: rv}, columnDefinitions, rows}
}

function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept)
}

function writeOptions(url: URL, req: IncomingMessage): WriteOptions {
  const ua = String(req.headers['user-agent'] ?? '')
  const fromUa = ua.split('/')[0].trim()
  return {
    manager: url.searchParams.get('fieldManager') ?? (fromUa || 'unknown'),
    dryRun: url.searchParams.getAll('dryRun').includes('All'),
    fieldValidation: url.searchParams.get('fieldValidation') ?? 'Warn',
    warnings: [],
  }
}

async function nonResource(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const p = url.pathname.replace(/\/+$/, '') || '/'
  const accept = req.headers.accept
  if (p === '/version') return sendJson(res, 200, ctx.version?.() ?? KUBE_VERSION)
  // the individual checks too (`/readyz/etcd`, `/livez/etcd`), as kube-apiserver serves them
  if (p === '/healthz' || p === '/livez' || p === '/readyz' || /^\/(livez|readyz)\/[\w-]+$/.test(p)) {
    res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'})
    res.end('ok')
    return
  }
  if (p === '/api') {
    if (ctx.aggregatedDiscovery && wantsAggregated(accept)) return sendJson(res, 200, aggregatedDiscovery(ctx.reg, true), AGGREGATED_CONTENT_TYPE)
    return sendJson(res, 200, apiVersions(ctx.hostPort))
  }
  if (p === '/apis') {
    if (ctx.aggregatedDiscovery && wantsAggregated(accept)) return sendJson(res, 200, aggregatedDiscovery(ctx.reg, false), AGGREGATED_CONTENT_TYPE)
    return sendJson(res, 200, apiGroupList(ctx.reg))
  }
  const segs = p.split('/').filter(Boolean)
  if (segs[0] === 'api' && segs.length === 2) {
    const list = apiResourceList(ctx.reg, '', segs[1])
    if (list) return sendJson(res, 200, list)
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const g = apiGroup(ctx.reg, segs[1])
    if (g) return sendJson(res, 200, g)
  }
  if (segs[0] === 'apis' && segs.length === 3) {
    const list = apiResourceList(ctx.reg, segs[1], segs[2])
    if (list) return sendJson(res, 200, list)
  }
  if (p === '/openapi/v3') return sendJson(res, 200, ctx.openapi.root())
  if (p === '/openapi/v2') {
    // an empty Swagger 2.0 document: kubectl finds no schema there, so its client-side
    // validation skips kinds that OpenAPI v3 does not list yet (see openapi.ts)
    if ((accept ?? '').includes('protobuf')) {
      const doc = Buffer.concat([Buffer.from([0x0a, 0x03]), Buffer.from('2.0')])
      res.writeHead(200, {'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': String(doc.length)})
      res.end(doc)
      return
    }
    return sendJson(res, 200, {swagger: '2.0', info: {title: 'Kubernetes', version: 'v1.32.0'}, paths: {}, definitions: {}})
  }
  if (segs[0] === 'openapi' && segs[1] === 'v3') {
    const doc = ctx.openapi.document(segs.slice(2).join('/'))
    if (doc) return sendJson(res, 200, doc)
  }
  throw notFoundPath()
}

export async function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL, info: RequestInfo, body: Buffer): Promise<void> {
  if (!info.isResource) return nonResource(ctx, req, res, url)
  const t = ctx.reg.find(info.group, info.version, info.resource)
  if (!t) throw notFoundPath()
  const namespaced = t.namespaced
  if (!namespaced && info.namespace && !(t.resource === 'namespaces')) throw notFoundPath()
  const ns = t.resource === 'namespaces' ? '' : info.namespace
  const name = info.name
  const method = (req.method ?? 'GET').toUpperCase()
  const q = url.searchParams

  if (info.subresource) {
    if (!t.subresources.includes(info.subresource)) throw notFoundPath()
    if (info.subresource === 'token') {
      if (method !== 'POST') throw methodNotAllowed()
      return sendJson(res, 201, ctx.tokenRequest(ns, name, (decodeBody(body, req.headers['content-type']) ?? {}) as Obj))
    }
    if (info.subresource === 'proxy') return proxy(ctx, req, res, url, t, info, body)
    if (info.subresource === 'eviction') {
      if (method !== 'POST') throw methodNotAllowed()
      const r = evict(ctx.reg, ctx.objects, ns, name, (decodeBody(body, req.headers['content-type']) ?? {}) as Obj)
      return sendJson(res, 201, r)
    }
    if (info.subresource === 'log') return podLog(ctx, res, t, ns, name, q)
    // status
    const opts = writeOptions(url, req)
    if (method === 'GET') return sendJson(res, 200, ctx.objects.get(t, ns, name))
    if (method === 'PUT')
      return sendJson(
        res,
        200,
        ctx.objects.update(t, ns, name, decodeBody(body, req.headers['content-type']), opts, 'status'),
        'application/json',
        opts.warnings,
      )
    if (method === 'PATCH') {
      const r = ctx.objects.patch(
        t,
        ns,
        name,
        String(req.headers['content-type'] ?? ''),
        body.toString('utf8'),
        {...opts, force: q.get('force') === 'true'},
        'status',
      )
      return sendJson(res, 200, r.object, 'application/json', opts.warnings)
    }
    throw methodNotAllowed()
  }

  const objName = t.resource === 'namespaces' && !name && info.namespace ? info.namespace : name
  if (method === 'GET' || method === 'HEAD') {
    if (objName) {
      const o = ctx.objects.get(t, ns, objName)
      if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(t, [o], o.metadata.resourceVersion, q.get('includeObject') ?? ''))
      return sendJson(res, 200, o)
    }
    if (info.verb === 'watch') {
      const timeout = q.get('timeoutSeconds')
      ctx.watches.serve(
        t,
        {
          namespace: namespaced && info.namespace ? info.namespace : undefined,
          selector: parseSelector(q.get('labelSelector') ?? undefined, q.get('fieldSelector') ?? undefined),
          resourceVersion: q.get('resourceVersion') ?? undefined,
          timeoutSeconds: timeout ? Number(timeout) : undefined,
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          sendInitialEvents: q.get('sendInitialEvents') === 'true',
        },
        res,
      )
      return
    }
    const {items, resourceVersion} = ctx.objects.list(
      t,
      namespaced && info.namespace ? info.namespace : undefined,
      q.get('labelSelector') ?? undefined,
      q.get('fieldSelector') ?? undefined,
    )
    const limit = Number(q.get('limit') ?? 0)
    const start = q.get('continue') ? Number(Buffer.from(q.get('continue')!, 'base64').toString('utf8')) : 0
    const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start)
    const meta: Obj = {resourceVersion}
    if (limit > 0 && start + limit < items.length) {
      meta.continue = Buffer.from(String(start + limit)).toString('base64')
      meta.remainingItemCount = items.length - start - limit
    }
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, {...toTable(t, page, resourceVersion, q.get('includeObject') ?? ''), metadata: meta})
    return sendJson(res, 200, {kind: t.listKind, apiVersion: groupVersion(t), metadata: meta, items: page})
  }
  const opts = writeOptions(url, req)
  if (method === 'POST') {
    if (objName && t.resource !== 'namespaces') throw methodNotAllowed()
    const created = ctx.objects.create(t, info.namespace, decodeBody(body, req.headers['content-type']), opts)
    return sendJson(res, 201, created, 'application/json', opts.warnings)
  }
  if (method === 'PUT') {
    if (!objName) throw methodNotAllowed()
    return sendJson(res, 200, ctx.objects.update(t, ns, objName, decodeBody(body, req.headers['content-type']), opts), 'application/json', opts.warnings)
  }
  if (method === 'PATCH') {
    if (!objName) throw methodNotAllowed()
    const r = ctx.objects.patch(t, ns, objName, String(req.headers['content-type'] ?? ''), body.toString('utf8'), {...opts, force: q.get('force') === 'true'})
    return sendJson(res, r.created ? 201 : 200, r.object, 'application/json', opts.warnings)
  }
  if (method === 'DELETE') {
    const options = (decodeBody(body, req.headers['content-type']) ?? {}) as Obj
    if (!objName) {
      const {items} = ctx.objects.list(
        t,
        namespaced && info.namespace ? info.namespace : undefined,
        q.get('labelSelector') ?? undefined,
        q.get('fieldSelector') ?? undefined,
      )
      const deleted = items.map((o) => ctx.objects.delete(t, o.metadata.namespace ?? '', o.metadata.name, options, opts.dryRun).object)
      return sendJson(res, 200, {kind: t.listKind, apiVersion: groupVersion(t), metadata: {resourceVersion: ''}, items: deleted})
    }
    const r = ctx.objects.delete(t, ns, objName, options, opts.dryRun)
    if (!r.immediate || t.resource === 'namespaces') {
      const o = r.object
      if (t.resource === 'namespaces') o.status = {...(o.status ?? {}), phase: 'Terminating'}
      return sendJson(res, 200, o)
    }
    return sendJson(res, 200, success({name: objName, group: t.group || undefined, kind: t.resource, uid: r.object.metadata.uid}))
  }
  throw methodNotAllowed()
}

async function proxy(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL, t: ResourceType, info: RequestInfo, body: Buffer): Promise<void> {
  // services/<name>:<port>, services/https:<name>:<port>, pods/<name>:<port>
  const parts = info.name.split(':')
  const scheme = parts.length === 3 ? parts.shift()! : ''
  void scheme
  const [name, port = ''] = parts
  const obj = ctx.objects.get(t, info.namespace, name)
  const handler = ctx.findProxy(t.resource, t.namespaced ? info.namespace : '', name, port)
  if (!handler) {
    if (t.resource === 'services') throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`)
    throw new ApiError(
      503,
      'ServiceUnavailable',
      `error trying to reach service: dial tcp ${obj.status?.podIP ?? obj.status?.addresses?.[0]?.address ?? '10.0.0.1'}:${port || '80'}: connect: connection refused`,
    )
  }
  const r = await handler({method: req.method ?? 'GET', path: info.subPath || '/', query: url.searchParams, headers: req.headers, body, user: ctx.user})
  const payload = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? r.body : typeof r.body === 'string' ? r.body : JSON.stringify(r.body)
  const headers: Record<string, string> = {
    'Content-Type': typeof r.body === 'object' && !Buffer.isBuffer(r.body) ? 'application/json' : 'text/plain; charset=utf-8',
    ...(r.headers ?? {}),
  }
  res.writeHead(r.status ?? 200, headers)
  res.end(payload)
}

/**
 * GET pods/<name>/log (core/v1 PodLogOptions: container, tailLines, sinceSeconds ignored beyond tailLines,
 * timestamps not added): text/plain. A pod with several containers and no ?container= is 400, as the
 * real API server answers ("a container name must be specified for pod X, choose one of: [a b]").
 */
function podLog(ctx: RouteContext, res: ServerResponse, t: ResourceType, ns: string, name: string, q: URLSearchParams): void {
  const pod = ctx.objects.get(t, ns, name) as {spec?: {containers?: {name: string}[]}}
  const names = (pod.spec?.containers ?? []).map((c) => c.name)
  let container = q.get('container') ?? ''
  if (!container) {
    if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`)
    container = names[0]!
  } else if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`)
  let lines = ctx.podLog(ns, name, container).split('\n')
  if (lines.at(-1) === '') lines.pop()
  const tail = q.get('tailLines')
  if (tail !== null && Number(tail) >= 0) lines = lines.slice(Math.max(0, lines.length - Number(tail)))
  const text = lines.length ? `${lines.join('\n')}\n` : ''
  res.writeHead(200, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}
