/**
 * Doctor's endpoint checks: DNS of every host the inventory names, and with --network a TCP connection
 * to each endpoint and the clock against the S3 endpoint's HTTP Date header (TLS always verified).
 */
import {existsSync, readFileSync} from 'node:fs'
import {lookup} from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, serviceUrl} from '../config/model.js'
import {bareHost, isGitUrl, scpLikeRemote} from '../config/validators.js'
import {errorMessage, isObsctlError} from '../errors.js'
import {fail, pass, warn, type Finding} from '../checks/model.js'
import {SERVICE_KEYS} from '../platform/catalogue.js'
import {trace, traceError, traceStart, traced} from '../trace.js'
import type {DoctorCheck} from './types.js'

// ---------- endpoints ----------

export interface Endpoint {
  host: string
  port?: number
  /** what it is, e.g. "cluster-01 API server" */
  what: string
  /** a name that may not be in DNS yet (the ingress hosts): unresolvable is a warning */
  optional?: boolean
  url?: string
}

function urlEndpoint(text: string, what: string, optional = false): Endpoint | undefined {
  try {
    const u = new URL(text)
    const port = u.port
      ? Number(u.port)
      : u.protocol === 'https:'
        ? 443
        : u.protocol === 'http:'
          ? 80
          : u.protocol === 'ssh:'
            ? 22
            : u.protocol === 'git:'
              ? 9418
              : undefined
    if (u.protocol === 'file:' || !u.hostname) return undefined
    return {
      host: bareHost(u.hostname),
      ...(port ? {port} : {}),
      what,
      ...(optional ? {optional} : {}),
      ...(/^https?:$/.test(u.protocol) ? {url: `${u.protocol}//${u.host}/`} : {}),
    }
  } catch {
    return undefined
  }
}

/** Every endpoint the inventory names: nodes, API servers, S3, the Git remote, the service hosts. */
export function inventoryEndpoints(inv: LoadedInventory): Endpoint[] {
  const p = inv.platform
  const out: Endpoint[] = []
  for (const c of p.clusters) {
    for (const n of c.nodes) out.push({host: bareHost(n.host), port: n.port ?? p.ssh.port, what: `${c.name} node ${n.name ?? n.host} (SSH)`})
    const api = urlEndpoint(c.apiServer, `${c.name} API server`)
    if (api) out.push(api)
  }
  const s3 = urlEndpoint(p.s3.endpoint, 'S3 endpoint')
  if (s3) out.push(s3)
  const remote = p.git.remote
  const scp = scpLikeRemote(remote)
  const git = isGitUrl(remote) ? urlEndpoint(remote, 'Git remote') : scp ? {host: scp.host, port: scp.port ?? 22, what: 'Git remote (SSH)'} : undefined
  if (git) out.push(git)
  const central = p.clusters.find((c) => c.role === 'central') ? centralCluster(p) : undefined
  if (central) {
    for (const s of SERVICE_KEYS) {
      const e = urlEndpoint(serviceUrl(p, central, s), `${s} (validate, status)`, !(p.endpoints as Record<string, string | undefined>)[s])
      if (e) out.push(e)
    }
  }
  return out
}

export function dnsCheck(host: string, users: Endpoint[]): DoctorCheck {
  const optional = users.every((u) => u.optional)
  return {
    id: `dns.${host}`,
    title: `DNS ${host}`,
    group: 'dns',
    tier: 'dns',
    async run(ctx) {
      const uses = `for ${users.map((u) => u.what).join(', ')}`
      try {
        const addrs = await traced(
          `dns ${host}`,
          () =>
            Promise.race([
              lookup(host, {all: true}),
              new Promise<never>((_, reject) =>
                setTimeout(() => reject(new Error(`no answer within ${Math.round(ctx.timeoutMs / 1000)}s`)), ctx.timeoutMs).unref(),
              ),
            ]),
          (found) => found.map((a) => a.address).join(', '),
        )
        return pass(`${host} → ${addrs.map((a) => a.address).join(', ')} (${uses})`)
      } catch (e) {
        const why = `${host} (${uses}) does not resolve: ${(e as {code?: string}).code ?? errorMessage(e)}`
        return optional
          ? warn(
              `${why}; validate and status reach the service there`,
              `create the DNS record, set endpoints.<service> in the inventory, or use --via-api-server`,
            )
          : fail(why, `create the DNS record (or an /etc/hosts entry), or fix the address in ${ctx.inv.file}`)
      }
    },
  }
}

/** Open a TCP connection and close it: the time it took, or why not. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<Finding> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const traceT0 = traceStart()
    const sock = net.connect({host, port})
    const done = (f: Finding) => {
      sock.destroy()
      trace(`tcp ${host}:${port} connect`, f.status === 'pass' ? 'ok' : f.detail.replace(`${host}:${port}: `, ''), traceT0)
      resolve(f)
    }
    sock.setTimeout(timeoutMs, () =>
      done(fail(`${host}:${port}: no answer within ${Math.round(timeoutMs / 1000)}s`, 'a firewall drops the connection, or the host is down')),
    )
    sock.once('connect', () => done(pass(`${host}:${port} accepts connections (${Date.now() - t0} ms)`)))
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done(
        fail(
          `${host}:${port}: ${e.code ?? e.message}`,
          e.code === 'ECONNREFUSED'
            ? 'nothing listens on that port: is the service running, and is the port in the inventory right?'
            : 'check the route and firewall from this machine',
        ),
      ),
    )
  })
}

export function tcpCheck(e: Endpoint & {port: number}, users: Endpoint[]): DoctorCheck {
  const optional = users.every((u) => u.optional)
  return {
    id: `tcp.${e.host}:${e.port}`,
    title: `TCP ${e.host}:${e.port}`,
    group: 'network',
    tier: 'network',
    async run(ctx) {
      const f = await tcpProbe(e.host, e.port, ctx.timeoutMs)
      const out = {...f, detail: `${f.detail} (${users.map((u) => u.what).join(', ')})`}
      return f.status === 'fail' && optional ? {...out, status: 'warn'} : out
    },
  }
}

/** How a clock check verifies the endpoint's TLS: the system roots plus a CA (its PEM, or a file), and what to say when it fails. */
export interface ClockTrust {
  ca?: {pem: string} | {file: string}
  /** the name the certificate must carry, when not the URL's host (a kubeconfig's tls-server-name) */
  servername?: string
  /** the hint when the endpoint cannot be reached or trusted */
  hint: string
}

/** The Date header of an HTTP(S) endpoint against this clock (TLS verified, with the endpoint's CA when given). */
async function clockSkew(url: string, trust: ClockTrust, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const request = url.startsWith('https:') ? https.request : http.request
  const ca = trust.ca ? ('pem' in trust.ca ? trust.ca.pem : readFileSync(trust.ca.file)) : undefined
  return new Promise((resolve) => {
    const t0 = Date.now()
    const traceT0 = traceStart()
    // no credentials: any answer (a 401 or 403 too) carries the server's Date
    const req = request(
      url,
      {method: 'HEAD', timeout: timeoutMs, signal, rejectUnauthorized: true, ...(ca ? {ca} : {}), ...(trust.servername ? {servername: trust.servername} : {})},
      (res) => {
        trace(`HEAD ${url}`, String(res.statusCode), traceT0)
        const t1 = Date.now()
        res.resume()
        const date = res.headers.date
        const at = date ? Date.parse(date) : Number.NaN
        if (!Number.isFinite(at))
          return resolve(
            fail(
              `could not measure: ${url} answered HTTP ${res.statusCode} without a Date header`,
              'measure the clock another way (chronyc tracking, timedatectl)',
            ),
          )
        // the header has one-second resolution: compare with the request's midpoint, allow a second
        const skew = at - (t0 + t1) / 2
        const abs = Math.abs(skew)
        const text = `${(skew / 1000).toFixed(1)} s against ${url} (HTTP Date header)`
        if (abs > 30_000) return resolve(fail(text, 'synchronise clocks (chrony / systemd-timesyncd): S3 signatures, certificates and tokens depend on them'))
        if (abs > 5000) return resolve(warn(text, 'synchronise clocks (chrony / systemd-timesyncd)'))
        resolve(pass(text))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)))
    req.on('error', (e: Error) => {
      trace(`HEAD ${url}`, traceError(e), traceT0)
      resolve(fail(`could not measure: ${url}: ${errorMessage(e)}`, trust.hint))
    })
    req.end()
  })
}

/** The clock against the S3 endpoint's Date header (with s3.caFile for a private CA). */
export function clockCheck(e: Endpoint & {url: string}, caFile: string | undefined): DoctorCheck {
  const trust: ClockTrust = {
    ...(caFile ? {ca: {file: caFile}} : {}),
    hint: 'the endpoint must answer HTTP(S) with a certificate this machine trusts (s3.caFile for a private CA)',
  }
  return {
    id: `clock.${e.host}`,
    title: `Clock skew vs ${e.what}`,
    group: 'network',
    tier: 'network',
    run: (ctx, signal) => clockSkew(e.url, trust, ctx.timeoutMs, signal),
  }
}

/**
 * The kubeconfig the API server clock checks read (and every command that reaches a cluster): --kubeconfig, else
 * $KUBECONFIG's files, else ~/.kube/config, read as Kube.connect reads it. A folder, an unreadable file or one that is
 * no kubeconfig fails, naming the flag or the variable and the fix (a bad $KUBECONFIG was a failed clock check that
 * named only --kubeconfig); none there yet warns (kubeconfig merge and bootstrap write it).
 */
export function kubeconfigCheck(kubeconfig: string | undefined): DoctorCheck {
  return {
    id: 'kubeconfig',
    title: 'The kubeconfig (API servers)',
    group: 'network',
    tier: 'network',
    async run() {
      const {Kube, kubeconfigFiles} = await import('../platform/kube.js')
      const bad = (e: unknown) => fail(errorMessage(e), isObsctlError(e) && e.hints.length ? e.hints.join('; ') : undefined)
      let files: string[]
      try {
        files = kubeconfigFiles(kubeconfig)
      } catch (e) {
        return bad(e)
      }
      const there = files.filter((f) => existsSync(f))
      if (there.length === 0)
        return warn(`${files.join(', ')}: not there yet`, 'obsctl kubeconfig merge writes it (bootstrap does too, in its kubeconfig phase)')
      try {
        await Kube.loadConfig(kubeconfig)
      } catch (e) {
        return bad(e)
      }
      return pass(there.join(', '))
    },
  }
}

/**
 * The clock against a cluster's API server (`/version`'s Date header, no credentials sent), reached as the kubeconfig
 * says (its context for the cluster: server and CA; verified, as every obsctl request). Without that context there
 * is nothing to verify the server with: not measured, a warning (before `obsctl kubeconfig merge` there is none).
 */
export function apiServerClockCheck(
  cluster: string,
  context: string,
  locate: () => Promise<{server: string; ca?: ClockTrust['ca']; tlsServerName?: string} | undefined>,
): DoctorCheck {
  return {
    id: `clock.${cluster}`,
    title: `Clock skew vs ${cluster} API server`,
    group: 'network',
    tier: 'network',
    run: async (ctx, signal) => {
      let at: Awaited<ReturnType<typeof locate>>
      try {
        at = await locate()
      } catch {
        // what is wrong with the kubeconfig is the kubeconfig check's finding (once), not each clock's
        return warn('not measured: the kubeconfig cannot be read', 'the kubeconfig check says why and how to fix it')
      }
      if (!at) return warn(`not measured: no context ${context} in the kubeconfig`, 'obsctl kubeconfig merge writes it (or pass --kubeconfig)')
      if (!at.server.startsWith('https:') || !at.ca)
        return warn(`not measured: the context ${context} names no https server with a CA`, 'obsctl kubeconfig merge writes the cluster CA')
      const url = new URL('/version', at.server).href
      return clockSkew(
        url,
        {ca: at.ca, servername: at.tlsServerName, hint: `the API server must answer with a certificate the kubeconfig's CA for ${context} verifies`},
        ctx.timeoutMs,
        signal,
      )
    },
  }
}
