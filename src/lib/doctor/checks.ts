/**
 * `obsctl doctor`'s checks (like `flux check --pre`), in the one check model (src/lib/checks/): this
 * workstation (Node, the tools obsctl runs, the SSH identity), the credentials the inventory names,
 * DNS of every endpoint, and with --network TCP reachability and clock skew. Each check says which
 * bootstrap phases need it, so `bootstrap` runs only the part its phases depend on.
 * Nothing here prints or returns a secret: an env var is reported as set or not set, never its value.
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import {lookup} from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {receiverSecrets} from '../config/alerting.js'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, serviceUrl} from '../config/model.js'
import {errorMessage} from '../errors.js'
import {fail, pass, warn, type CheckDef, type Finding} from '../checks/model.js'
import {PACKAGE_ROOT} from '../package-root.js'
import {SERVICE_KEYS} from '../platform/catalogue.js'
import {ENV_KEY_PASSPHRASE, ENV_SSH_PASSWORD} from '../ssh/pool.js'

export interface DoctorContext {
  inv: LoadedInventory
  env: NodeJS.ProcessEnv
  /** a terminal can ask for what the environment lacks (credentials obsctl prompts for) */
  canPrompt: boolean
  /** one network operation's limit (DNS, TCP connect, HTTP) */
  timeoutMs: number
}

/** offline: nothing leaves this machine; dns: name lookups; network: connections (--network). */
export type DoctorTier = 'offline' | 'dns' | 'network'

export interface DoctorCheck extends CheckDef<DoctorContext> {
  tier: DoctorTier
  /** the bootstrap phases that depend on it (absent: every phase) */
  neededBy?: readonly string[]
}

const SSH_PHASES = ['preflight', 'nodes', 'kubeconfig'] as const

// ---------- workstation ----------

function minNode(): string {
  const engines = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {engines?: {node?: string}}).engines?.node ?? '>=20.12'
  return /(\d+(?:\.\d+){0,2})/.exec(engines)?.[1] ?? '20.12'
}

const versionParts = (v: string) => v.replace(/^v/, '').split('.').map((x) => Number.parseInt(x, 10) || 0)

export function versionAtLeast(have: string, want: string): boolean {
  const [a, b] = [versionParts(have), versionParts(want)]
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0)
  return true
}

const nodeCheck: DoctorCheck = {
  id: 'node',
  title: 'Node.js version',
  group: 'workstation',
  tier: 'offline',
  async run() {
    const want = minNode()
    return versionAtLeast(process.versions.node, want) ? pass(`Node.js ${process.versions.node} (needs ≥ ${want})`) : fail(`Node.js ${process.versions.node} is older than ${want}`, `install Node.js ${want} or newer (e.g. from nodejs.org or nvm)`)
  },
}

/** Run a tool with a version flag; a missing program is {missing}, never an exception. */
async function toolVersion(cmd: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<{out: string; code: number} | {missing: string}> {
  const {execa} = await import('execa')
  const clean = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
  const r = await execa(cmd, args, {reject: false, stdin: 'ignore', env: {...clean, LC_ALL: 'C'}, extendEnv: false, cancelSignal: signal})
  if (r.failed && r.exitCode === undefined) return {missing: r.code === 'ENOENT' ? `${cmd} is not on PATH` : (r.shortMessage ?? r.message ?? `cannot run ${cmd}`)}
  return {out: `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim(), code: r.exitCode ?? 1}
}

const gitCheck: DoctorCheck = {
  id: 'tools.git',
  title: 'git',
  group: 'workstation',
  tier: 'offline',
  neededBy: ['render', 'root-app'],
  async run(ctx, signal) {
    const r = await toolVersion('git', ['--version'], ctx.env, signal)
    const hint = 'install git (apt-get install git, brew install git): obsctl commits and pushes the GitOps repository with it'
    if ('missing' in r) return fail(r.missing, hint)
    const v = /git version (\d+\.\d+(?:\.\d+)?)/.exec(r.out)?.[1]
    if (r.code !== 0 || !v) return fail(`git --version exited ${r.code}: ${r.out.split('\n')[0] ?? ''}`, hint)
    return pass(`git ${v}`)
  },
}

const opensslCheck: DoctorCheck = {
  id: 'tools.openssl',
  title: 'OpenSSL 3',
  group: 'workstation',
  tier: 'offline',
  neededBy: ['secrets'],
  async run(ctx, signal) {
    const r = await toolVersion('openssl', ['version'], ctx.env, signal)
    const hint = 'install OpenSSL 3 (apt-get install openssl; on macOS brew install openssl@3 and put it first on PATH): secrets apply issues the platform certificates with it'
    if ('missing' in r) return fail(r.missing, hint)
    const line = r.out.split('\n')[0] ?? ''
    if (r.code !== 0) return fail(`openssl version exited ${r.code}: ${line}`, hint)
    const m = /^OpenSSL (\d+)\.\S*/.exec(line)
    if (!m) return fail(`${line || 'openssl printed no version'}: not OpenSSL (LibreSSL lacks options obsctl uses, e.g. -noenc)`, hint)
    return Number(m[1]) >= 3 ? pass(m[0]) : fail(`${m[0]} is older than 3`, hint)
  },
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}

async function agentKeys(sock: string): Promise<number> {
  const {OpenSSHAgent} = await import('../ssh/ssh2.js')
  return new Promise((resolve, reject) => new OpenSSHAgent(sock).getIdentities((err, keys) => (err ? reject(err) : resolve(keys?.length ?? 0))))
}

const sshCheck: DoctorCheck = {
  id: 'ssh.identity',
  title: 'SSH identity (key file, agent or password)',
  group: 'workstation',
  tier: 'offline',
  neededBy: SSH_PHASES,
  async run(ctx) {
    const ssh = ctx.inv.platform.ssh
    if (ssh.identityFile) {
      const file = path.resolve(ctx.inv.dir, expandHome(ssh.identityFile))
      if (!existsSync(file)) return fail(`ssh.identityFile ${file} does not exist`, 'fix ssh.identityFile in the inventory (obsctl config set ssh.identityFile PATH)')
      let text: Buffer
      try {
        if (!statSync(file).isFile()) return fail(`ssh.identityFile ${file} is not a file`, 'point ssh.identityFile at the private key file')
        text = readFileSync(file)
      } catch (e) {
        return fail(`cannot read ssh.identityFile ${file}: ${errorMessage(e)}`, 'make the key readable by this user (chmod 600)')
      }
      const {utils} = await import('../ssh/ssh2.js')
      const parsed = utils.parseKey(text)
      if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
        if (ctx.env[ENV_KEY_PASSPHRASE]) return pass(`${file} (passphrase from $${ENV_KEY_PASSPHRASE})`)
        return ctx.canPrompt
          ? warn(`${file} is passphrase-protected; obsctl will ask for the passphrase`, `for automation: ${ENV_KEY_PASSPHRASE}, or load the key into ssh-agent and leave identityFile unset`)
          : fail(`${file} is passphrase-protected and $${ENV_KEY_PASSPHRASE} is not set (no terminal to ask on)`, `export ${ENV_KEY_PASSPHRASE}=…, or load the key into ssh-agent and leave identityFile unset`)
      }
      if (parsed instanceof Error) return fail(`${file} is not a private key obsctl can read: ${parsed.message}`, 'use an OpenSSH/PEM private key (ed25519, ecdsa or rsa)')
      return pass(`key file ${file}`)
    }
    const sock = ssh.agent ? ctx.env.SSH_AUTH_SOCK : undefined
    if (sock) {
      try {
        const n = await agentKeys(sock)
        if (n > 0) return pass(`ssh-agent at $SSH_AUTH_SOCK holds ${n} key(s)`)
        return fail('the ssh-agent at $SSH_AUTH_SOCK holds no key', 'ssh-add ~/.ssh/id_ed25519 (or set ssh.identityFile)')
      } catch (e) {
        return fail(`cannot list the keys of the ssh-agent at $SSH_AUTH_SOCK: ${errorMessage(e)}`, 'start an agent (eval $(ssh-agent); ssh-add) or set ssh.identityFile')
      }
    }
    if (ctx.env[ENV_SSH_PASSWORD]) return pass(`password login (from $${ENV_SSH_PASSWORD})`)
    const why = ssh.agent ? 'no ssh.identityFile, $SSH_AUTH_SOCK is not set' : 'no ssh.identityFile and ssh.agent: false'
    return ctx.canPrompt
      ? warn(`${why}: obsctl will ask for an SSH password`, 'set ssh.identityFile, or start an ssh-agent with the key loaded')
      : fail(`${why}, and $${ENV_SSH_PASSWORD} is not set (no terminal to ask on)`, `set ssh.identityFile, start an ssh-agent (SSH_AUTH_SOCK), or export ${ENV_SSH_PASSWORD}=…`)
  },
}

// ---------- credentials ----------

interface NamedEnv {
  env: string
  /** the inventory field that names it */
  field: string
  phases: readonly string[]
  /** obsctl asks for it on a terminal when it is not set */
  prompted: boolean
  use: string
}

/** Every env var the inventory names for a credential (deduplicated by name). */
export function namedEnvVars(inv: LoadedInventory): NamedEnv[] {
  const p = inv.platform
  const out: NamedEnv[] = [
    {env: p.s3.accessKeyEnv, field: 's3.accessKeyEnv', phases: ['buckets', 'secrets'], prompted: true, use: 'the S3 access key (buckets, Thanos and OpenSearch snapshot credentials)'},
    {env: p.s3.secretKeyEnv, field: 's3.secretKeyEnv', phases: ['buckets', 'secrets'], prompted: true, use: 'the S3 secret key'},
  ]
  if (p.git.private && p.git.tokenEnv && /^https?:\/\//.test(p.git.remote)) out.push({env: p.git.tokenEnv, field: 'git.tokenEnv', phases: ['root-app'], prompted: false, use: 'the read token Argo CD pulls the private GitOps repository with'})
  for (const r of receiverSecrets(p.alerting)) out.push({env: r.env, field: `alerting receiver ${r.receiver} ${r.field}`, phases: ['secrets'], prompted: false, use: `the ${r.kind} receiver ${r.receiver}'s secret`})
  const seen = new Map<string, NamedEnv>()
  for (const e of out) {
    const prev = seen.get(e.env)
    if (prev) seen.set(e.env, {...prev, field: `${prev.field}, ${e.field}`, phases: [...new Set([...prev.phases, ...e.phases])], prompted: prev.prompted && e.prompted})
    else seen.set(e.env, e)
  }
  return [...seen.values()]
}

function envCheck(e: NamedEnv): DoctorCheck {
  return {
    id: `env.${e.env}`,
    title: `$${e.env} (${e.field})`,
    group: 'credentials',
    tier: 'offline',
    neededBy: e.phases,
    async run(ctx) {
      if (ctx.env[e.env]) return pass(`set (${e.use})`)
      if (e.prompted && ctx.canPrompt) return warn(`$${e.env} is not set: obsctl will ask for ${e.use}`, `for automation: export ${e.env}=…`)
      return fail(`$${e.env} is not set: ${e.use}${e.prompted ? ' (no terminal to ask on)' : ''}`, `export ${e.env}=… (named by ${e.field} in ${ctx.inv.file})`)
    },
  }
}

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

const bareHost = (h: string) => h.replace(/^\[|\]$/g, '')

function urlEndpoint(text: string, what: string, optional = false): Endpoint | undefined {
  try {
    const u = new URL(text)
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : u.protocol === 'ssh:' ? 22 : u.protocol === 'git:' ? 9418 : undefined
    if (u.protocol === 'file:' || !u.hostname) return undefined
    return {host: bareHost(u.hostname), ...(port ? {port} : {}), what, ...(optional ? {optional} : {}), ...(/^https?:$/.test(u.protocol) ? {url: `${u.protocol}//${u.host}/`} : {})}
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
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)/.exec(remote)
  const git = /^[a-z]+:\/\//.test(remote) ? urlEndpoint(remote, 'Git remote') : scp ? {host: scp[1]!, port: 22, what: 'Git remote (SSH)'} : undefined
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

function dnsCheck(host: string, users: Endpoint[]): DoctorCheck {
  const optional = users.every((u) => u.optional)
  return {
    id: `dns.${host}`,
    title: `DNS ${host}`,
    group: 'dns',
    tier: 'dns',
    async run(ctx) {
      const uses = `for ${users.map((u) => u.what).join(', ')}`
      try {
        const addrs = await Promise.race([
          lookup(host, {all: true}),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${Math.round(ctx.timeoutMs / 1000)}s`)), ctx.timeoutMs).unref()),
        ])
        return pass(`${host} → ${addrs.map((a) => a.address).join(', ')} (${uses})`)
      } catch (e) {
        const why = `${host} (${uses}) does not resolve: ${(e as {code?: string}).code ?? errorMessage(e)}`
        return optional
          ? warn(`${why}; validate and status reach the service there`, `create the DNS record, set endpoints.<service> in the inventory, or use --via-api-server`)
          : fail(why, `create the DNS record (or an /etc/hosts entry), or fix the address in ${ctx.inv.file}`)
      }
    },
  }
}

/** Open a TCP connection and close it: the time it took, or why not. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<Finding> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const sock = net.connect({host, port})
    const done = (f: Finding) => {
      sock.destroy()
      resolve(f)
    }
    sock.setTimeout(timeoutMs, () => done(fail(`${host}:${port}: no answer within ${Math.round(timeoutMs / 1000)}s`, 'a firewall drops the connection, or the host is down')))
    sock.once('connect', () => done(pass(`${host}:${port} accepts connections (${Date.now() - t0} ms)`)))
    sock.once('error', (e: NodeJS.ErrnoException) => done(fail(`${host}:${port}: ${e.code ?? e.message}`, e.code === 'ECONNREFUSED' ? 'nothing listens on that port: is the service running, and is the port in the inventory right?' : 'check the route and firewall from this machine')))
  })
}

function tcpCheck(e: Endpoint & {port: number}, users: Endpoint[]): DoctorCheck {
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

/** The Date header of an HTTP(S) endpoint against this clock (TLS verified, with the inventory's CA for S3). */
async function clockSkew(url: string, caFile: string | undefined, timeoutMs: number, signal: AbortSignal): Promise<Finding> {
  const request = url.startsWith('https:') ? https.request : http.request
  const ca = caFile ? readFileSync(caFile) : undefined
  return new Promise((resolve) => {
    const t0 = Date.now()
    const req = request(url, {method: 'HEAD', timeout: timeoutMs, signal, ...(ca ? {ca} : {})}, (res) => {
      const t1 = Date.now()
      res.resume()
      const date = res.headers.date
      const at = date ? Date.parse(date) : Number.NaN
      if (!Number.isFinite(at)) return resolve(fail(`could not measure: ${url} answered HTTP ${res.statusCode} without a Date header`, 'measure the clock another way (chronyc tracking, timedatectl)'))
      // the header has one-second resolution: compare with the request's midpoint, allow a second
      const skew = at - (t0 + t1) / 2
      const abs = Math.abs(skew)
      const text = `${(skew / 1000).toFixed(1)} s against ${url} (HTTP Date header)`
      if (abs > 30_000) return resolve(fail(text, 'synchronise clocks (chrony / systemd-timesyncd): S3 signatures, certificates and tokens depend on them'))
      if (abs > 5000) return resolve(warn(text, 'synchronise clocks (chrony / systemd-timesyncd)'))
      resolve(pass(text))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)))
    req.on('error', (e: Error) => resolve(fail(`could not measure: ${url}: ${errorMessage(e)}`, 'the endpoint must answer HTTP(S) with a certificate this machine trusts (s3.caFile for a private CA)')))
    req.end()
  })
}

function clockCheck(e: Endpoint & {url: string}, caFile: string | undefined): DoctorCheck {
  return {
    id: `clock.${e.host}`,
    title: `Clock skew vs ${e.what}`,
    group: 'network',
    tier: 'network',
    run: (ctx, signal) => clockSkew(e.url, caFile, ctx.timeoutMs, signal),
  }
}

/** Every doctor check for this inventory, in display order. */
export function doctorChecks(inv: LoadedInventory): DoctorCheck[] {
  const checks: DoctorCheck[] = [nodeCheck, gitCheck, opensslCheck, sshCheck, ...namedEnvVars(inv).map(envCheck)]
  const endpoints = inventoryEndpoints(inv)
  const byHost = new Map<string, Endpoint[]>()
  for (const e of endpoints) byHost.set(e.host, [...(byHost.get(e.host) ?? []), e])
  // an address needs no lookup
  for (const [host, users] of byHost) if (!net.isIP(host)) checks.push(dnsCheck(host, users))
  const byAddr = new Map<string, (Endpoint & {port: number})[]>()
  for (const e of endpoints) if (e.port) byAddr.set(`${e.host}:${e.port}`, [...(byAddr.get(`${e.host}:${e.port}`) ?? []), e as Endpoint & {port: number}])
  for (const users of byAddr.values()) checks.push(tcpCheck(users[0]!, users))
  const s3 = endpoints.find((e) => e.what === 'S3 endpoint')
  if (s3?.url) checks.push(clockCheck(s3 as Endpoint & {url: string}, inv.platform.s3.caFile ? path.resolve(inv.dir, inv.platform.s3.caFile) : undefined))
  return checks
}

