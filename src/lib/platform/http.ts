/**
 * HTTP to the platform's services, each request with its own timeout. A service is reached at its
 * URL (`--endpoint NAME=URL`, else the inventory's `endpoints`, else `https://<service>.k8s-cluster-<id>.<domain>`)
 * or, with --via-api-server, through the central API server's service proxy with the kubeconfig's credentials.
 * node:http(s) rather than fetch: a private CA (--ca-file) is added to the system roots; TLS is never disabled.
 */
import type {OutgoingHttpHeaders} from 'node:http'
import type {RequestOptions} from 'node:https'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {centralCluster, serviceUrl} from '../config/model.js'
import type {Platform} from '../config/schema.js'
import {CREDENTIAL_SERVICES, SERVICES, isCredentialService, serviceProxyPath, type ServiceKey} from './catalogue.js'
import type {Kube} from './kube.js'
import {traced} from '../trace.js'

export interface HttpResponse {
  status: number
  body: string
  url: string
  /** with SendOptions.keepLastBytes: how many bytes of the body were left out before what `body` holds */
  cutBytes?: number
}

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
}

export interface HttpClient {
  /** where a service is reached (for details and hints) */
  where(service: ServiceKey): string
  /**
   * Why obsctl must not send this service its credential the way it is reached, or undefined (credentialRefusal
   * below). request() refuses every request to such a service; requireCredentialRoute says so before any work.
   */
  credentialRefusal(service: ServiceKey): ObsctlError | undefined
  request(service: ServiceKey, path: string, opts?: HttpOptions): Promise<HttpResponse>
}

const TITLE: Record<keyof typeof CREDENTIAL_SERVICES, string> = {opensearch: 'OpenSearch', grafana: 'Grafana', argocd: 'Argo CD'}

/**
 * Why a credential must not go to `service` by this route (undefined: it may). obsctl sends credentials
 * (catalogue.ts CREDENTIAL_SERVICES) only over TLS that it verifies itself (send() below: rejectUnauthorized, the
 * system roots with --ca-file and the platform CA):
 * - an http:// URL carries them in cleartext (exit 2 naming `--endpoint NAME=…`, or the inventory's
 *   `endpoints.NAME`, which `obsctl config validate` refuses with its file:line);
 * - the central API server's service proxy (--via-api-server) reaches the service over TLS whose certificate it
 *   never verifies: kube-apiserver's proxy transport is `&tls.Config{InsecureSkipVerify: true}` ("Proxying to pods
 *   and services is IP-based... don't expect to be able to verify the hostname", kubernetes/kubernetes
 *   pkg/controlplane/apiserver/config.go CreateProxyTransport). Argo CD's password (a request body) and session
 *   cookie would pass it unverified; a Basic Authorization header would go to the API server itself, never to the
 *   service (it replaces the kubeconfig's own header, and the API server's authentication filter deletes the
 *   header of a request it authenticated: k8s.io/apiserver pkg/endpoints/filters/authentication.go).
 */
export function credentialRefusal(service: ServiceKey, route: {proxy: true} | {url: string; flag: boolean}): ObsctlError | undefined {
  if (!isCredentialService(service)) return undefined
  const title = TITLE[service]
  if ('proxy' in route) {
    const message =
      service === 'argocd'
        ? `Argo CD's admin password and session token would go through the API server's service proxy, which does not verify argocd-server's certificate (--via-api-server)`
        : `${title} needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)`
    return inputError(
      message,
      [
        `pass --endpoint ${service}=https://… as well (an override wins over --via-api-server)${service === 'argocd' ? '' : "; the API server's proxy does not verify the service's certificate either"}`,
      ],
      'CREDENTIALS_VIA_PROXY',
    )
  }
  if (!/^http:/i.test(route.url)) return undefined
  return inputError(
    `${service}: ${route.url} is plain http, and obsctl sends it ${CREDENTIAL_SERVICES[service]}: refused (credentials go only over verified https)`,
    [route.flag ? `--endpoint ${service}=https://…` : `set endpoints.${service} in the inventory to its https:// URL (obsctl config validate shows the line)`],
    'ENDPOINT_PLAIN_HTTP',
  )
}

/** Refuse, before any work, to send a credential to `service` the way `h` reaches it (credentialRefusal). */
export function requireCredentialRoute(h: HttpClient, service: ServiceKey): void {
  const refused = h.credentialRefusal(service)
  if (refused) throw refused
}

export interface SendOptions extends HttpOptions {
  /** TLS/auth options (ca, cert, key, headers) merged into the request */
  tls?: RequestOptions
  /** the service name for messages */
  what: string
  /**
   * Keep only the body's last this many bytes, from the first line that starts within them (a log's tail; one line
   * longer than that is cut at a character): what comes before is dropped as it arrives, never held whole.
   */
  keepLastBytes?: number
}

function joinUrl(base: string, path: string): URL {
  const b = base.endsWith('/') ? base.slice(0, -1) : base
  return new URL(b + (path.startsWith('/') ? path : `/${path}`))
}

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE'])

function errCode(e: unknown): string | undefined {
  for (let x = e as {code?: unknown; cause?: unknown} | undefined; x; x = x.cause as typeof x) if (typeof x.code === 'string') return x.code
  return undefined
}

/** One request with its own timeout; network and TLS failures become ObsctlErrors that name the URL. */
export async function send(url: URL, opts: SendOptions): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const headers: OutgoingHttpHeaders = {accept: 'application/json', ...((opts.tls?.headers ?? {}) as OutgoingHttpHeaders), ...(opts.headers ?? {})}
  if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body)
  const signal = AbortSignal.timeout(timeoutMs)
  const shown = `${url.origin}${url.pathname}`
  const method = opts.method ?? 'GET'
  try {
    // --verbose: the request's line (../trace.ts), with its query (redacted there), never its headers or body
    return await traced(
      `${method} ${url.href}`,
      () =>
        new Promise<HttpResponse>((resolve, reject) => {
          const req = mod.request(url, {...opts.tls, method, headers, signal, rejectUnauthorized: true}, (res) => {
            const body = new BodyTail(opts.keepLastBytes)
            res.on('data', (c: Buffer) => body.add(c))
            res.on('end', () => resolve({status: res.statusCode ?? 0, ...body.text(), url: shown}))
            res.on('error', reject)
          })
          req.on('error', reject)
          if (opts.body !== undefined) req.write(opts.body)
          req.end()
        }),
      (res) => String(res.status),
    )
  } catch (e) {
    const code = errCode(e)
    if (signal.aborted || (e as Error).name === 'AbortError') {
      throw new ObsctlError(`${opts.what}: no answer from ${shown} within ${timeoutMs / 1000}s`, {
        code: 'HTTP_TIMEOUT',
        hints: ['--request-timeout SECONDS for a slow link'],
      })
    }
    if (code && NETWORK.has(code)) {
      throw new ObsctlError(`${opts.what}: cannot reach ${url.origin} (${code})`, {
        code: 'HTTP_UNREACHABLE',
        hints: [`is ${url.host} reachable from here? --endpoint ${opts.what}=URL overrides it, --via-api-server goes through the API server`],
      })
    }
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
      throw new ObsctlError(`${opts.what}: TLS verification of ${url.origin} failed (${code})`, {
        code: 'HTTP_TLS',
        hints: ['--ca-file PATH: the PEM of the CA that signed it (obsctl never turns verification off)'],
      })
    }
    throw new ObsctlError(`${opts.what}: request to ${shown} failed: ${errorMessage(e)}`, {code: 'HTTP_ERROR'})
  }
}

/** A response body as it arrives, or only its last `keep` bytes (SendOptions.keepLastBytes). */
class BodyTail {
  private readonly chunks: Buffer[] = []
  private held = 0
  private dropped = 0
  /** the last byte dropped (a line ends there when it is a newline) */
  private before: number | undefined
  constructor(private readonly keep = Infinity) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.held += chunk.length
    // the oldest chunks, while what is left still holds `keep` bytes
    while (this.chunks.length > 1 && this.held - this.chunks[0]!.length >= this.keep) {
      const gone = this.chunks.shift()!
      this.held -= gone.length
      this.dropped += gone.length
      this.before = gone[gone.length - 1]
    }
  }

  text(): {body: string; cutBytes?: number} {
    const all = Buffer.concat(this.chunks)
    if (!this.dropped && all.length <= this.keep) return {body: all.toString('utf8')}
    let from = Math.max(0, all.length - this.keep)
    if ((from ? all[from - 1] : this.before) !== 0x0a) {
      const nl = all.indexOf(0x0a, from)
      if (nl >= 0 && nl + 1 < all.length) from = nl + 1
      // one line longer than what is kept: cut at a character's first byte, not inside its UTF-8 sequence
      else while (from < all.length && (all[from]! & 0xc0) === 0x80) from++
    }
    return {body: all.subarray(from).toString('utf8'), cutBytes: this.dropped + from}
  }
}

export interface DirectOptions {
  platform: Platform
  /** --endpoint NAME=URL overrides */
  overrides?: Record<string, string>
  /** PEM of --ca-file, added to the system roots */
  ca?: string
  timeoutMs: number
}

export function serviceBaseUrl(platform: Platform, service: string, overrides: Record<string, string> = {}): string {
  return overrides[service] ?? serviceUrl(platform, centralCluster(platform), service)
}

/** Services at their URLs. */
export async function directClient(o: DirectOptions): Promise<HttpClient> {
  let tls: RequestOptions | undefined
  if (o.ca) {
    const {rootCertificates} = await import('node:tls')
    tls = {ca: [...rootCertificates, o.ca]}
  }
  const client: HttpClient = {
    where: (s) => serviceBaseUrl(o.platform, s, o.overrides),
    credentialRefusal: (s) => credentialRefusal(s, {url: serviceBaseUrl(o.platform, s, o.overrides), flag: Boolean(o.overrides?.[s])}),
    request: async (s, path, opts = {}) => {
      requireCredentialRoute(client, s)
      return send(joinUrl(serviceBaseUrl(o.platform, s, o.overrides), path), {...opts, timeoutMs: opts.timeoutMs ?? o.timeoutMs, tls, what: s})
    },
  }
  return client
}

/** The kubeconfig's TLS and auth for one cluster's API server, as node:https options. */
export async function kubeRequestOptions(kube: Kube): Promise<RequestOptions> {
  const o: RequestOptions = {}
  await kube.kc.applyToHTTPSOptions(o)
  return o
}

/** GET/POST through an API server proxy path (services or pods). */
export async function viaApiServer(kube: Kube, proxyPath: string, path: string, opts: HttpOptions & {what: string}): Promise<HttpResponse> {
  const tls = await kubeRequestOptions(kube)
  return send(joinUrl(kube.server + proxyPath, path), {...opts, tls})
}

/** Services through the central API server's service proxy; --endpoint overrides still win. */
export function apiServerClient(o: {
  platform: Platform
  kube: () => Promise<Kube>
  overrides?: Record<string, string>
  ca?: string
  timeoutMs: number
}): HttpClient {
  let direct: Promise<HttpClient> | undefined
  const client: HttpClient = {
    where: (s) => (o.overrides?.[s] ? o.overrides[s]! : `API server proxy ${serviceProxyPath(SERVICES[s])}`),
    credentialRefusal: (s) => credentialRefusal(s, o.overrides?.[s] ? {url: o.overrides[s], flag: true} : {proxy: true}),
    request: async (s, path, opts = {}) => {
      requireCredentialRoute(client, s)
      if (o.overrides?.[s]) {
        direct ??= directClient({platform: o.platform, overrides: o.overrides, ca: o.ca, timeoutMs: o.timeoutMs})
        return (await direct).request(s, path, opts)
      }
      return viaApiServer(await o.kube(), serviceProxyPath(SERVICES[s]), path, {...opts, timeoutMs: opts.timeoutMs ?? o.timeoutMs, what: s})
    },
  }
  return client
}

/** Parse a JSON body, failing with the status and the start of the body when it is not JSON. */
export function parseJson<T>(res: HttpResponse, what: string): T {
  try {
    return JSON.parse(res.body) as T
  } catch {
    throw new ObsctlError(`${what}: ${res.url} answered HTTP ${res.status} with a body that is not JSON: ${res.body.slice(0, 120)}`, {code: 'HTTP_BAD_BODY'})
  }
}

/** Expect a 2xx JSON answer. */
export function okJson<T>(res: HttpResponse, what: string): T {
  if (res.status < 200 || res.status >= 300) {
    throw new ObsctlError(`${what}: ${res.url} answered HTTP ${res.status}: ${res.body.slice(0, 200).trim()}`, {code: 'HTTP_STATUS'})
  }
  return parseJson<T>(res, what)
}
