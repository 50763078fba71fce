/**
 * Alertmanager API v2 (obsctl alerts, validate alertmanager.*), reached as validate reaches services: at its URL when one is
 * known (`--endpoint alertmanager=URL` or the inventory's `endpoints.alertmanager`, e.g. an ingress),
 * else through the central API server's service proxy (the rendered repository gives Alertmanager no
 * ingress). Shapes checked against Alertmanager v0.25 api/v2/openapi.yaml: GET /alerts (gettableAlerts),
 * GET/POST /silences (gettableSilences; postableSilence → {silenceID}), GET/DELETE /silence/{silenceID},
 * GET /status (alertmanagerStatus: cluster {name, status ready|settling|disabled, peers [{name, address}]}),
 * GET /receivers ([{name}]).
 */
import {centralCluster, serviceHost} from '../config/model.js'
import {ObsctlError} from '../errors.js'
import type {PlatformContext} from './access.js'
import {SERVICES, serviceProxyPath} from './catalogue.js'
import {okJson, viaApiServer, type HttpOptions, type HttpResponse} from './http.js'

/** Alertmanager API v2 `matcher` (openapi.yaml definitions.matcher). */
export interface AmMatcher {
  name: string
  value: string
  isRegex: boolean
  isEqual: boolean
}

const BASE = '/api/v2'

export interface AmAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt: string
  updatedAt: string
  fingerprint: string
  generatorURL?: string
  receivers: {name: string}[]
  status: {state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[]}
}

export interface AmSilence {
  id: string
  matchers: AmMatcher[]
  startsAt: string
  endsAt: string
  updatedAt: string
  createdBy: string
  comment: string
  status: {state: 'expired' | 'active' | 'pending'}
}

export interface AmStatus {
  cluster: {name?: string; status: 'ready' | 'settling' | 'disabled'; peers?: {name: string; address: string}[]}
  versionInfo?: Record<string, string>
  uptime?: string
  config?: {original?: string}
}

/**
 * True when the platform HTTP client should carry the request: it goes through the API server proxy
 * already (--via-api-server), or Alertmanager has a URL of its own (--endpoint alertmanager=URL or the
 * inventory's endpoints.alertmanager). The default host alertmanager.k8s-cluster-<id>.<domain> is not
 * one: nothing renders an ingress for it, so then the request goes through the service proxy.
 */
function viaHttpClient(ctx: PlatformContext): boolean {
  const where = ctx.http.where('alertmanager')
  if (where.startsWith('API server proxy') || ctx.platform.endpoints.alertmanager) return true
  return where !== `https://${serviceHost(ctx.platform, centralCluster(ctx.platform), 'alertmanager')}`
}

/** Where Alertmanager is reached, for messages. */
export function alertmanagerWhere(ctx: PlatformContext): string {
  return viaHttpClient(ctx)
    ? ctx.http.where('alertmanager')
    : `API server proxy ${serviceProxyPath(SERVICES.alertmanager)} (${centralCluster(ctx.platform).name})`
}

/** One request to the Alertmanager API (path below /api/v2). */
export async function amRequest(ctx: PlatformContext, path: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const headers = opts.body !== undefined ? {'content-type': 'application/json', ...(opts.headers ?? {})} : opts.headers
  const o = {...opts, ...(headers ? {headers} : {})}
  if (viaHttpClient(ctx)) return ctx.http.request('alertmanager', BASE + path, o)
  const kube = await ctx.kube(centralCluster(ctx.platform).name)
  return viaApiServer(kube, serviceProxyPath(SERVICES.alertmanager), BASE + path, {...o, timeoutMs: o.timeoutMs ?? ctx.timeoutMs, what: 'alertmanager'})
}

/** A 2xx JSON answer, else an error naming Alertmanager's own message (it answers 400 with a JSON string or text). */
async function amJson<T>(ctx: PlatformContext, path: string, opts: HttpOptions = {}): Promise<T> {
  return okJson<T>(await amRequest(ctx, path, opts), 'alertmanager')
}

const filterQuery = (filter: string[]) => filter.map((f) => `filter=${encodeURIComponent(f)}`).join('&')

export async function amAlerts(ctx: PlatformContext, filter: string[] = []): Promise<AmAlert[]> {
  const q = filterQuery(filter)
  return amJson<AmAlert[]>(ctx, `/alerts?active=true&silenced=true&inhibited=true&unprocessed=true${q ? `&${q}` : ''}`)
}

export async function amSilences(ctx: PlatformContext): Promise<AmSilence[]> {
  return amJson<AmSilence[]>(ctx, '/silences')
}

/** One silence; undefined when Alertmanager does not know the id (404). */
export async function amSilence(ctx: PlatformContext, id: string): Promise<AmSilence | undefined> {
  const res = await amRequest(ctx, `/silence/${encodeURIComponent(id)}`)
  if (res.status === 404) return undefined
  return okJson<AmSilence>(res, 'alertmanager')
}

export interface AmPostableSilence {
  /** an existing silence's id: Alertmanager updates it (or, when it cannot, expires it and answers a new id) */
  id?: string
  matchers: AmMatcher[]
  startsAt: string
  endsAt: string
  createdBy: string
  comment: string
}

export async function amPostSilence(ctx: PlatformContext, s: AmPostableSilence): Promise<string> {
  const res = await amRequest(ctx, '/silences', {method: 'POST', body: JSON.stringify(s)})
  if (res.status === 400)
    throw new ObsctlError(`alertmanager refused the silence: ${res.body.trim().replace(/^"|"$/g, '')}`, {
      exitCode: 2,
      code: 'SILENCE_REFUSED',
      hints: ['check the matchers (obsctl alerts silence --help)'],
    })
  const r = okJson<{silenceID: string}>(res, 'alertmanager')
  if (!r.silenceID) throw new ObsctlError(`alertmanager answered without a silenceID: ${res.body.slice(0, 120)}`, {code: 'HTTP_BAD_BODY'})
  return r.silenceID
}

/** DELETE /silence/{id}: expires it (Alertmanager keeps expired silences for its retention). */
export async function amExpireSilence(ctx: PlatformContext, id: string): Promise<void> {
  const res = await amRequest(ctx, `/silence/${encodeURIComponent(id)}`, {method: 'DELETE'})
  if (res.status < 200 || res.status >= 300)
    throw new ObsctlError(`alertmanager: expiring silence ${id} answered HTTP ${res.status}: ${res.body.slice(0, 200).trim()}`, {code: 'HTTP_STATUS'})
}

export async function amStatus(ctx: PlatformContext): Promise<AmStatus> {
  return amJson<AmStatus>(ctx, '/status')
}

export async function amReceivers(ctx: PlatformContext): Promise<string[]> {
  return (await amJson<{name: string}[]>(ctx, '/receivers')).map((r) => r.name)
}
