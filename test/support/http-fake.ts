/** A tiny loopback HTTP server for fakes: routes by method + path regex, optional latency per route. */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'

export interface FakeRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: string
  params: string[]
}

export interface FakeResponse {
  status?: number
  json?: unknown
  text?: string
  headers?: Record<string, string>
}

export type Handler = (req: FakeRequest) => Promise<FakeResponse> | FakeResponse

export interface FakeServer {
  url: string
  port: number
  /** extra delay before answering, per route name ('*' for all) */
  latency: Record<string, number>
  requests: {method: string; path: string}[]
  /** run just before the named route's handler answers (a test's way to change the world between two requests) */
  before: Record<string, () => void>
  close(): Promise<void>
}

/** `tls`: serve HTTPS with this certificate (e.g. one issued by the platform CA) instead of HTTP. */
export async function startFake(
  routes: [method: string, path: RegExp, handler: Handler, name?: string][],
  opts: {tls?: {cert: string; key: string}} = {},
): Promise<FakeServer> {
  const fake: Partial<FakeServer> = {latency: {}, requests: [], before: {}}
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const u = new URL(req.url ?? '/', 'http://x')
      fake.requests!.push({method: req.method ?? 'GET', path: u.pathname})
      for (const [method, re, handler, name] of routes) {
        const m = re.exec(u.pathname)
        if (!m || (method !== '*' && method !== req.method)) continue
        const delay = fake.latency![name ?? ''] ?? fake.latency!['*'] ?? 0
        if (delay) await new Promise((r) => setTimeout(r, delay).unref())
        fake.before![name ?? '']?.()
        let out: FakeResponse
        try {
          out = await handler({
            method: req.method ?? 'GET',
            path: u.pathname,
            query: u.searchParams,
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            params: m.slice(1).map((x) => decodeURIComponent(x ?? '')),
          })
        } catch (e) {
          out = {status: 500, json: {error: (e as Error).message}}
        }
        const body = out.json !== undefined ? JSON.stringify(out.json) : (out.text ?? '')
        res.writeHead(out.status ?? 200, {'content-type': out.json !== undefined ? 'application/json' : 'text/plain; charset=utf-8', ...out.headers})
        res.end(body)
        return
      }
      res.writeHead(404, {'content-type': 'text/plain'})
      res.end('404 page not found\n')
    })
  }
  const server: Server = opts.tls ? (createHttpsServer(opts.tls, listener) as unknown as Server) : createServer(listener)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as {port: number}).port
  return Object.assign(fake, {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }) as FakeServer
}
