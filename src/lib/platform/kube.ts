/**
 * One Kubernetes client for all of obsctl (@kubernetes/client-node 1.4, imported lazily):
 * kubeconfig resolution, server-side apply with field manager `obsctl`, reads that treat 404 as
 * absent, waits, and errors that say what failed and how to fix it (403 names the missing permission).
 *
 * Over 300 lines on purpose: one class wraps the whole client (connect, deadlines, apply/get/list/delete,
 * waits, error translation); splitting it would scatter the deadline and error rules every call shares.
 */
import type {X509Certificate} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {TLSSocket} from 'node:tls'
import type * as k8s from '@kubernetes/client-node'
import {sleep} from '../async.js'
import {ObsctlError, fsReason, inputError} from '../errors.js'
import {fileStamp} from '../file-stamp.js'
import {waitReporter, type WaitState} from '../progress.js'
import {traced, tracing} from '../trace.js'
import {pollMs} from '../poll.js'

export const FIELD_MANAGER = 'obsctl'

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown}
  [k: string]: unknown
}

/** The paths $KUBECONFIG names (':'-separated, empty parts dropped), resolved, each once; [] when it names none. */
function kubeconfigEnvFiles(): string[] {
  const env = (process.env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean)
  return [...new Set(env.map((f) => path.resolve(f)))]
}

/** Whether the kubeconfig comes from $KUBECONFIG (no --kubeconfig, and the variable names a path). */
function kubeconfigFromEnv(flag?: string): boolean {
  return !flag && kubeconfigEnvFiles().length > 0
}

/**
 * What is wrong with the files $KUBECONFIG names, judged as kubectl judges them (client-go's clientcmd loading rules:
 * each path is read in turn, one that does not exist is skipped, any other failure, a folder first of all, is an error):
 * a folder or a path that cannot be looked at; and, for a command that reads the kubeconfig (`read`), none of them
 * existing — kubectl would go on with an empty configuration and reach no cluster. A command that writes the kubeconfig
 * (kubeconfig merge, bootstrap's kubeconfig phase) creates the last one instead, as kubectl does (kubeconfigCreateFile).
 */
function kubeconfigEnvProblem(files: string[], read: boolean): ObsctlError | undefined {
  const bad = (why: string, hints: string[] = []) =>
    inputError(
      `$KUBECONFIG: ${why}`,
      [
        ...hints,
        'set KUBECONFIG to your kubeconfig file, or to several separated by ":" (a missing one among them is skipped, as kubectl skips it)',
        'or pass --kubeconfig FILE, or unset KUBECONFIG to use ~/.kube/config',
      ],
      'KUBECONFIG_ENV',
    )
  let found = false
  for (const f of files) {
    try {
      if (statSync(f).isDirectory()) return bad(`${f} is a folder, not a kubeconfig file`)
      found = true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return bad(`${f} cannot be read: ${fsReason(error)}`)
    }
  }
  if (read && !found)
    return bad(files.length === 1 ? `${files[0]} does not exist` : `none of its ${files.length} files exists (${files.join(', ')})`, [
      'obsctl kubeconfig merge writes the contexts obsctl uses (it creates the file)',
    ])
  return undefined
}

/**
 * The kubeconfig files, as kubectl and client-node's loadFromDefault list them: --kubeconfig alone, else
 * every path of $KUBECONFIG (':'-separated; merged, see loadKubeconfigChain), else ~/.kube/config. Every reader and
 * writer of the kubeconfig resolves it here, so a bad $KUBECONFIG (kubeconfigEnvProblem: a folder; with `o.read`, no
 * file at all) is refused here, exit 2 naming the variable, before anything is contacted through it.
 */
export function kubeconfigFiles(flag?: string, o: {read?: boolean} = {}): string[] {
  if (flag) return [path.resolve(flag)]
  const env = kubeconfigEnvFiles()
  if (env.length === 0) return [path.join(os.homedir(), '.kube', 'config')]
  const problem = kubeconfigEnvProblem(env, o.read === true)
  if (problem) throw problem
  return env
}

/**
 * The kubeconfig file a new entry is written to, by kubectl's rule (`kubectl config --help`, checked with
 * kubectl 1.32): "When a value is created, it is created in the first file that exists. If no files in
 * the chain exist, then it creates the last file in the list." One file: that file.
 */
export function resolveKubeconfigPath(flag?: string): string {
  return kubeconfigCreateFile(kubeconfigFiles(flag))
}

/** Of a chain of kubeconfig files, the one kubectl creates new entries in (see resolveKubeconfigPath). */
export function kubeconfigCreateFile(files: string[]): string {
  return files.length === 1 ? files[0]! : (files.find((f) => existsSync(f)) ?? files[files.length - 1]!)
}

/**
 * Several $KUBECONFIG files merged as kubectl merges them: the first file that names a cluster, user or
 * context wins; current-context comes from the first file that sets it; missing and empty files are
 * skipped. (client-node's own loadFromDefault throws on a name two files share, and takes the last
 * current-context, so obsctl merges the files itself.) Each file's relative paths resolve beside it.
 */
function loadKubeconfigChain(lib: K8sLib, kc: k8s.KubeConfig, files: string[]): void {
  const merged = {clusters: [] as k8s.Cluster[], users: [] as k8s.User[], contexts: [] as k8s.Context[], currentContext: ''}
  for (const f of files) {
    if (!existsSync(f) || readFileSync(f, 'utf8').trim() === '') continue
    const one = new lib.KubeConfig()
    one.loadFromFile(f)
    for (const c of one.clusters) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c)
    for (const u of one.users) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u)
    for (const c of one.contexts) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c)
    if (!merged.currentContext && one.currentContext) merged.currentContext = one.currentContext
  }
  kc.loadFromOptions(merged)
}

type Serializer = {ObjectSerializer: {deserialize(data: unknown, type: string): unknown}}
let serializerModule: Promise<Serializer> | undefined
/**
 * client-node serializes a plain object by its model's attribute names, so JSON keys that differ from
 * them (`x-kubernetes-preserve-unknown-fields`, `enum`, `default`, `$ref` in CRD schemas) are dropped
 * unless the object is first turned into the model form; this does that (unknown kinds pass as is).
 */
async function toModel<T extends KubeObject>(obj: T): Promise<T> {
  // the serializer is not in the package's public types; Serializer above is the one method used, checked in dist/serializer.d.ts
  serializerModule ??= import('@kubernetes/client-node/dist/serializer.js') as Promise<Serializer>
  const gv = obj.apiVersion.split('/')
  const version = gv[gv.length - 1]!
  return (await serializerModule).ObjectSerializer.deserialize(obj, `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`) as T
}

/** What obsctl uses of the library (./client-node.ts: the bundle's lazily loaded chunk then holds only that) */
type K8sLib = typeof import('./client-node.js')
let k8sModule: Promise<K8sLib> | undefined
/** The client library, loaded once, on first use. */
export function k8sLib(): Promise<K8sLib> {
  k8sModule ??= import('./client-node.js')
  return k8sModule
}

export interface ConnectOptions {
  /** kubeconfig path (see resolveKubeconfigPath) */
  kubeconfig?: string
  /** context name, e.g. cluster-02-context */
  context: string
  /**
   * every request is cancelled (its socket closed) after this long: given only by commands that have
   * --request-timeout, which the timeout's hint then names (default 60 s, and a hint without a flag)
   */
  requestTimeoutMs?: number
  /** aborts every request in flight (Ctrl-C) */
  signal?: AbortSignal
}

/** Default deadline of one API request. */
export const KUBE_REQUEST_TIMEOUT_MS = 60_000

/**
 * client-node 1.4 sends every request of a generated or KubernetesObjectApi client through
 * `requestPromise`, which first calls the kubeconfig's `applySecurityAuthentication(requestContext)`
 * (checked in node_modules/@kubernetes/client-node/dist/object.js and gen/apis/*), and its fetch library
 * passes `requestContext.getSignal()` to node-fetch (dist/gen/http/isomorphic-fetch.js), which destroys
 * the socket on abort. So a signal set there cancels each request at its deadline instead of leaving a
 * raced promise (and its socket) holding the process open.
 */
function cancelAtDeadline(kc: k8s.KubeConfig, timeoutMs: number, signal?: AbortSignal): void {
  const apply = kc.applySecurityAuthentication.bind(kc)
  kc.applySecurityAuthentication = async (context: k8s.RequestContext) => {
    await apply(context)
    const deadline = AbortSignal.timeout(timeoutMs)
    context.setSignal(signal ? AbortSignal.any([deadline, signal]) : deadline)
  }
}

/** How long a cluster's connection is kept open with no request on it (keepConnections). */
export const KUBE_IDLE_MS = 2000

/**
 * One kept-alive agent per connection. client-node makes a new https.Agent at every request (and for every set of
 * request options it fills in, applyToHTTPSOptions: the requests obsctl sends itself), so every request opened a
 * new TCP and TLS connection: ~3 ms of CPU here (the handshake, Node's secure context, its host name check), and one
 * or two round trips more to a remote API server; a phase's applies and polls, validate's checks and a fleet's probes
 * paid it at each request. Requests to a cluster now reuse its connection while they follow one another. A connection
 * idle for KUBE_IDLE_MS is closed (a load balancer that drops idle connections without a word would otherwise fail
 * the next request sent on one, which nothing sends again); one in use is never cut by it (only the request's own
 * deadline ends a request). The agent is made again when its TLS options change (an exec plugin's new client
 * certificate); a proxy's agent (proxy-url) is used as client-node made it.
 *
 * Returns what the API server presented in the latest of these connections' TLS handshakes that verified it, while
 * that connection is open (Kube.servingCertificate): the certificate checks read it there instead of making a
 * handshake of their own.
 */
function keepConnections(kc: k8s.KubeConfig): () => X509Certificate | undefined {
  const apply = kc.applySecurityAuthentication.bind(kc)
  let kept: {key: string; agent: import('node:https').Agent} | undefined
  // the latest connection whose handshake verified the server; its certificate is read when asked for (~0.3 ms a
  // certificate: not paid by the connections whose certificate nobody reads)
  let verified: TLSSocket | undefined
  /** the kept agent in place of the one client-node made; undefined for a proxy's agent (used as made) */
  const keptFor = (made: unknown): import('node:https').Agent | undefined => {
    const {Agent} = process.getBuiltinModule('node:https')
    if (!(made instanceof Agent) || Object.getPrototypeOf(made) !== Agent.prototype) return undefined
    const o = made.options
    const key = [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.servername, o.rejectUnauthorized]
      .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map(String).join('\n') : String(v ?? '')))
      .join('\0')
    // (the old agent's connections end as they are: one in use finishes, an idle one closes at its timeout)
    if (kept?.key !== key) {
      // verification said outright (it is on either way: an unverified kubeconfig is refused, refuseUnverified), as the
      // requests obsctl sends itself say it: a connection is pooled under its options, and these then match
      const agent = new Agent({...o, keepAlive: true, timeout: KUBE_IDLE_MS, rejectUnauthorized: true})
      const open = agent.createConnection.bind(agent)
      agent.createConnection = (options, callback) => {
        const socket = open(options, callback) as TLSSocket
        socket.once('secureConnect', () => {
          if (socket.authorized) verified = socket
        })
        return socket
      }
      kept = {key, agent}
    }
    return kept.agent
  }
  kc.applySecurityAuthentication = async (context: k8s.RequestContext) => {
    await apply(context)
    const agent = keptFor(context.getAgent())
    if (agent) context.setAgent(agent)
  }
  // the requests obsctl sends the API server itself (pod logs, the service and pod proxies: http.ts kubeRequestOptions)
  const applyToHttps = kc.applyToHTTPSOptions.bind(kc)
  kc.applyToHTTPSOptions = async (opts) => {
    await applyToHttps(opts)
    opts.agent = keptFor(opts.agent) ?? opts.agent
  }
  // (a connection closed since has no certificate to read: the checks then make a handshake of their own).
  // getPeerCertificate, not getPeerX509Certificate: on Node 20 the latter answers once per connection, and then
  // neither answers again on it
  return () => {
    const raw = verified && !verified.destroyed ? verified.getPeerCertificate().raw : undefined
    return raw ? new (process.getBuiltinModule('node:crypto').X509Certificate)(raw) : undefined
  }
}

/**
 * Credentials are never sent over a connection whose server is not verified: a kubeconfig cluster with
 * `insecure-skip-tls-verify: true` is refused (exit 2) with how to supply its CA, and so is an http:// server (the
 * token or password in cleartext, to a server nobody verified; the inventory's clusters[].apiServer refuses it too).
 */
export function refuseUnverified(kc: k8s.KubeConfig, file: string, context: string): void {
  const cluster = kc.getCurrentCluster()
  if (cluster && /^http:\/\//i.test(cluster.server))
    throw inputError(
      `kubeconfig ${file}: cluster ${cluster.name} (context ${context}) has server ${cluster.server}: plain http; obsctl does not send credentials to an API server over a connection it cannot verify`,
      [
        `set clusters[name=${cluster.name}].cluster.server in ${file} to the https:// URL (kube-apiserver serves https only) and put its CA in certificate-authority-data`,
        'or let obsctl write the entry from the node: obsctl kubeconfig merge --overwrite',
      ],
      'KUBE_INSECURE',
    )
  if (!cluster?.skipTLSVerify) return
  throw inputError(
    `kubeconfig ${file}: cluster ${cluster.name} (context ${context}) sets insecure-skip-tls-verify: true; obsctl does not send credentials to an API server it cannot verify`,
    [
      `put the cluster's CA in ${file} (clusters[name=${cluster.name}].cluster.certificate-authority-data, base64 of the PEM, or certificate-authority: PATH) and remove insecure-skip-tls-verify`,
      'or let obsctl write the entry from the node: obsctl kubeconfig merge --overwrite',
    ],
    'KUBE_INSECURE',
  )
}

/** How often a request the API server turned away for now is sent again: client-go's default (rest.Request maxRetries). */
const KUBE_RETRIES = 10

/**
 * Every request of the objects client goes through here. client-node 1.4 sends each through its configuration's
 * `httpApi.send(requestContext)` (dist/object.js requestPromise; the default library is dist/gen/http/isomorphic-fetch.js),
 * so wrapping that one method reaches them all:
 *
 * - a request the API server turned away for now — 429 (API Priority and Fairness, --max-requests-inflight: a fleet's
 *   registrations writing to the central cluster at once) or a 5xx, with a `Retry-After` — is sent again after that many
 *   seconds, up to KUBE_RETRIES times, as kubectl does (client-go's rest.Request checkWait: any verb, only with the header;
 *   test/kube-server/kubectl.test.ts holds kubectl to it). Within the request's own deadline (cancelAtDeadline): when it
 *   passes during a wait, the last answer is what the caller gets (its 429, not a timeout);
 * - under --verbose (../trace.ts), each attempt is traced as it completes: method, URL, status or error; headers and
 *   bodies are never looked at.
 */
function sendThroughRetries(lib: K8sLib, objects: k8s.KubernetesObjectApi): void {
  // `configuration` is protected in the typings; it is a plain object (dist/gen/configuration.js createConfiguration)
  const config = (objects as unknown as {configuration: {httpApi: k8s.HttpLibrary}}).configuration
  const inner = config.httpApi
  const trace = tracing()
  const once = (ctx: k8s.RequestContext) =>
    trace
      ? traced(
          `${ctx.getHttpMethod()} ${ctx.getUrl()}`,
          () => inner.send(ctx).toPromise(),
          (res) => String(res.httpStatusCode),
        )
      : inner.send(ctx).toPromise()
  config.httpApi = lib.wrapHttpLibrary({
    send: async (ctx) => {
      for (let retries = 0; ; retries++) {
        const res = await once(ctx)
        const seconds = retryAfter(res)
        if (seconds === undefined || retries >= KUBE_RETRIES) return res
        // read whole (the socket is free again), and kept: the answer the caller gets should the deadline come first
        const body = await res.body.binary()
        res.body = {text: async () => body.toString('utf8'), binary: async () => body}
        const signal = ctx.getSignal()
        await sleep(seconds * 1000, signal)
        if (signal?.aborted) return res
      }
    },
  })
}

/** The seconds a 429 or 5xx answer asks to wait before the request is sent again (`Retry-After: N`); else undefined. */
function retryAfter(res: k8s.ResponseContext): number | undefined {
  if (res.httpStatusCode !== 429 && res.httpStatusCode < 500) return undefined
  const header = res.headers['retry-after']
  return header !== undefined && /^\d+$/.test(header.trim()) ? Number(header.trim()) : undefined
}

type ParsedKubeconfig = Pick<k8s.KubeConfig, 'clusters' | 'users' | 'contexts' | 'currentContext'>
/** per list of files: what they were (path, inode, size, mtime) when parsed, and the parse */
const parsedKubeconfigs = new Map<string, {stamp: string; parsed: ParsedKubeconfig}>()

/**
 * The kubeconfig's files as parsed, once per process while they stay the same files (path, inode, size, mtime: a
 * rewrite, which obsctl does by rename, is read again). Every cluster obsctl reaches connects through the one
 * kubeconfig: a fleet of 1,000 clusters has one of ~5.5 MB (CA, client certificate and key per cluster), 60–120 ms of CPU
 * a parse, and status, validate or a phase over the fleet connected 1,000 times — a minute and more of parsing the same
 * file.
 */
function parsedKubeconfig(lib: K8sLib, files: string[]): ParsedKubeconfig {
  const stamp = files.map(fileStamp).join(' ')
  const key = files.join('\0')
  const known = parsedKubeconfigs.get(key)
  if (known?.stamp === stamp) return known.parsed
  const kc = new lib.KubeConfig()
  if (files.length === 1) kc.loadFromFile(files[0]!)
  else loadKubeconfigChain(lib, kc, files)
  const parsed = {clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext}
  parsedKubeconfigs.set(key, {stamp, parsed})
  return parsed
}

/**
 * The kubeconfig's files read into a KubeConfig (see Kube.loadConfig), contacting nothing: all of it, or with `context`
 * that context, its cluster and its user only (the first of each name, as client-node finds them; a context that is not
 * there is exit 2 naming those that are). A connection needs no more, and client-node looks the current ones up by a
 * linear search 3–6 times a request: over a 1,000-cluster kubeconfig's every entry ~1 ms a request (status over 1,000
 * clusters: ~0.8 s of CPU).
 */
function readKubeconfig(lib: K8sLib, kubeconfig: string | undefined, context?: string): {lib: K8sLib; kc: k8s.KubeConfig; file: string} {
  const files = kubeconfigFiles(kubeconfig, {read: true})
  const file = files.join(path.delimiter)
  const fromEnv = kubeconfigFromEnv(kubeconfig)
  const kc = new lib.KubeConfig()
  let have: string[]
  try {
    const parsed = parsedKubeconfig(lib, files)
    if (context === undefined) {
      // the lists copied, the entries shared (each KubeConfig has its own current context)
      kc.loadFromOptions({...parsed, clusters: [...parsed.clusters], users: [...parsed.users], contexts: [...parsed.contexts]})
      return {lib, kc, file}
    }
    const ctx = parsed.contexts.find((c) => c.name === context)
    const first = <T extends {name: string}>(list: T[], name: string) => list.filter((x) => x.name === name).slice(0, 1)
    if (ctx) {
      kc.loadFromOptions({clusters: first(parsed.clusters, ctx.cluster), users: first(parsed.users, ctx.user), contexts: [ctx], currentContext: context})
      return {lib, kc, file}
    }
    have = parsed.contexts.map((c) => c.name)
  } catch (error) {
    // client-node reads an empty or non-mapping file as undefined and fails with a TypeError: say what it is; a YAML
    // error's first line only (js-yaml adds the lines around it, which for a binary file are its bytes)
    const why = error instanceof TypeError ? 'it is empty or not a kubeconfig (no clusters, users and contexts)' : fsReason(error).split('\n')[0]!
    throw inputError(
      `cannot read kubeconfig ${file}${fromEnv ? ' (from $KUBECONFIG)' : ''}: ${why}`,
      [
        fromEnv ? 'fix the file, or set KUBECONFIG (or pass --kubeconfig) to another' : 'pass --kubeconfig FILE or set KUBECONFIG',
        'obsctl kubeconfig merge writes the contexts obsctl uses',
      ],
      fromEnv ? 'KUBECONFIG_ENV' : 'KUBECONFIG',
    )
  }
  throw inputError(
    `context ${context} is not in ${file}`,
    [
      have.length ? `contexts there: ${have.join(', ')}` : 'it has no context',
      'run obsctl kubeconfig merge',
      `or pass --kubeconfig with a file that has ${context}, or --context with one of its contexts`,
    ],
    'KUBE_CONTEXT',
  )
}

/**
 * A $KUBECONFIG that cannot be used (kubeconfigEnvProblem's refusals, and readKubeconfig's of a file there that is
 * empty, unreadable or no kubeconfig): the same for every cluster, so bad input that ends a command, never one cluster's
 * finding. Status and validate read $KUBECONFIG's files at their first connect, not up front (see loadNamedConfig), and
 * end on it there (../platform/access.ts PlatformContext.fatal).
 */
export function isKubeconfigEnvError(e: unknown): e is ObsctlError {
  return e instanceof ObsctlError && e.code === 'KUBECONFIG_ENV'
}

export class Kube {
  readonly context: string
  readonly server: string

  readonly requestTimeoutMs: number

  private constructor(
    readonly lib: K8sLib,
    readonly kc: k8s.KubeConfig,
    readonly objects: k8s.KubernetesObjectApi,
    requestTimeoutMs: number,
    /**
     * The certificate the API server presented in the latest verified TLS handshake of this connection's requests, while
     * that connection is open; undefined before any request made one, once it closed, or when a proxy-url's agent
     * carries them. The certificate checks read it instead of a handshake of their own (validate/checks/certificates.ts).
     */
    readonly servingCertificate: () => X509Certificate | undefined,
    private readonly signal?: AbortSignal,
    /** the deadline came from the command's --request-timeout */
    private readonly timeoutFromFlag = false,
  ) {
    this.context = kc.getCurrentContext()
    this.server = kc.getCurrentCluster()?.server ?? '(unknown)'
    this.requestTimeoutMs = requestTimeoutMs
  }

  /**
   * Read the kubeconfig (--kubeconfig, else $KUBECONFIG's files, else ~/.kube/config) as connect does, contacting
   * nothing: a file that cannot be read or is no kubeconfig is bad input (exit 2). Commands that report a cluster they
   * cannot reach as a finding (status, validate, diagnose) call it first, so a mistyped --kubeconfig is not taken for
   * clusters that are down.
   */
  static async loadConfig(kubeconfig?: string): Promise<{lib: K8sLib; kc: k8s.KubeConfig; file: string}> {
    return readKubeconfig(await k8sLib(), kubeconfig)
  }

  /**
   * A kubeconfig named by --kubeconfig or $KUBECONFIG that cannot be used is exit 2 naming the flag or the variable
   * before anything is contacted: --kubeconfig's file is read (loadConfig); $KUBECONFIG's paths are judged as kubectl
   * judges them (kubeconfigFiles: a folder, none existing) without loading the client library — reading the file
   * here too put ~9 ms (the library, a second parse) before `status`'s first request: a file there that is no
   * kubeconfig is found by the first connect, and ends the command there (isKubeconfigEnvError; `read` reads it now,
   * for a command whose start-up does not count, diagnose). The default ~/.kube/config is read when a cluster is (a
   * command that reports clusters may report it missing as a finding). Status, validate and diagnose call it first.
   */
  static async loadNamedConfig(kubeconfig?: string, o: {read?: boolean} = {}): Promise<void> {
    if (kubeconfig !== undefined || (o.read && kubeconfigFromEnv(kubeconfig))) await Kube.loadConfig(kubeconfig)
    else kubeconfigFiles(undefined, {read: true})
  }

  static async connect(opts: ConnectOptions): Promise<Kube> {
    // the library, then the file read in the same turn (not through loadConfig's own await): a check that connects
    // starts its request before the other checks started beside it go on (validate's S3 checks load minio, 845 KB)
    const lib = await k8sLib()
    const {kc, file} = readKubeconfig(lib, opts.kubeconfig, opts.context)
    refuseUnverified(kc, file, opts.context)
    const timeoutMs = opts.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS
    const served = keepConnections(kc)
    cancelAtDeadline(kc, timeoutMs, opts.signal)
    const objects = lib.KubernetesObjectApi.makeApiClient(kc)
    sendThroughRetries(lib, objects)
    return new Kube(lib, kc, objects, timeoutMs, served, opts.signal, opts.requestTimeoutMs !== undefined)
  }

  /** Server-side apply (field manager obsctl, force: obsctl owns what it applies). */
  async apply<T extends KubeObject>(obj: T, opts: {force?: boolean; fieldManager?: string} = {}): Promise<T> {
    const body = {...obj, metadata: {...obj.metadata}}
    delete (body.metadata as Record<string, unknown>).managedFields
    delete (body.metadata as Record<string, unknown>).resourceVersion
    try {
      return (await this.objects.patch(
        (await toModel(body)) as k8s.KubernetesObject,
        undefined,
        undefined,
        opts.fieldManager ?? FIELD_MANAGER,
        opts.force ?? true,
        this.lib.PatchStrategy.ServerSideApply,
      )) as T
    } catch (error) {
      throw this.error(error, `apply ${describeObject(obj)}`)
    }
  }

  /**
   * JSON merge patch (RFC 7386) of an object's fields: null removes a key. For changes obsctl does not own
   * (kubectl rollout restart's pod template annotation, a key dropped from a Secret).
   */
  async mergePatch<T extends KubeObject>(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'> & Record<string, unknown>): Promise<T> {
    try {
      return (await this.objects.patch(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, this.lib.PatchStrategy.MergePatch)) as T
    } catch (error) {
      throw this.error(error, `patch ${describeObject(obj)}`)
    }
  }

  /** Read one object; undefined when it does not exist. */
  async get<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      // the API server returns the object of the kind asked for; client-node types it as its generic KubernetesObject
      return (await this.objects.read({apiVersion, kind, metadata: {name, namespace}})) as T
    } catch (error) {
      if (statusCode(error) === 404) return undefined
      throw this.error(error, `get ${kind} ${namespace ? `${namespace}/` : ''}${name}`)
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: {namespace?: string; labelSelector?: string; fieldSelector?: string} = {},
  ): Promise<T[]> {
    try {
      const res = await this.objects.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, opts.fieldSelector, opts.labelSelector)
      // as in get(): the items are objects of the kind listed
      return (res.items ?? []) as T[]
    } catch (error) {
      if (statusCode(error) === 404 && !(error as {body?: unknown}).body) return []
      throw this.error(error, `list ${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}`)
    }
  }

  /** Delete; true when something was deleted, false when it was already gone. */
  async delete(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<boolean> {
    try {
      await this.objects.delete(obj as k8s.KubernetesObject)
      return true
    } catch (error) {
      if (statusCode(error) === 404) return false
      throw this.error(error, `delete ${describeObject(obj)}`)
    }
  }

  /** A Kubernetes API error as an ObsctlError: 403 names the permission, connection errors the server. */
  error(error: unknown, action: string): ObsctlError {
    if (isAbort(error)) {
      if (this.signal?.aborted) return new ObsctlError(`${action} on ${this.context}: interrupted`, {exitCode: 130, code: 'INTERRUPTED'})
      return new ObsctlError(
        `${action}: no answer from the API server of ${this.context} at ${this.server} within ${formatSeconds(this.requestTimeoutMs)} (request cancelled)`,
        {
          code: 'KUBE_TIMEOUT',
          hints: [
            `check that the API server is up and answering (kubectl --context ${this.context} get --raw /readyz); obsctl doctor --network reaches each one`,
            ...(this.timeoutFromFlag ? ['--request-timeout SECONDS for a slow link'] : []),
          ],
        },
      )
    }
    return kubeError(error, action, this.context, this.server)
  }
}

function isAbort(error: unknown): boolean {
  for (let e = error as {name?: unknown; type?: unknown; cause?: unknown} | undefined; e; e = e.cause as typeof e) {
    if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.type === 'aborted') return true
  }
  return false
}

function formatSeconds(ms: number): string {
  return `${Math.round((ms / 1000) * 10) / 10} s`
}

export function describeObject(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`
}

/** HTTP status of a client-node error, if any. */
export function statusCode(error: unknown): number | undefined {
  const e = error as {code?: unknown; statusCode?: unknown; response?: {statusCode?: number}}
  if (typeof e?.code === 'number') return e.code
  if (typeof e?.statusCode === 'number') return e.statusCode
  return e?.response?.statusCode
}

/** The Kubernetes Status body of a client-node error (parsed if it came as a string). */
export function statusBody(error: unknown): {message?: string; reason?: string; details?: Record<string, unknown>} | undefined {
  const body = (error as {body?: unknown})?.body
  if (!body) return undefined
  if (typeof body === 'string') {
    try {
      return JSON.parse(body)
    } catch {
      return {message: body}
    }
  }
  return body as {message?: string}
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'ENETUNREACH'])
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
])

function errCode(error: unknown): string | undefined {
  for (let e = error as {code?: unknown; cause?: unknown} | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string') return e.code
  }
  return undefined
}

export function kubeError(error: unknown, action: string, context: string, server: string): ObsctlError {
  if (error instanceof ObsctlError) return error
  const code = statusCode(error)
  const status = statusBody(error)
  const msg = status?.message ?? (error as Error)?.message ?? String(error)
  if (code === 403) {
    return new ObsctlError(`${action} on ${context}: forbidden: ${msg}`, {
      code: 'KUBE_FORBIDDEN',
      hints: [`the credentials of ${context} lack this permission; grant it (RBAC) or use an admin kubeconfig (obsctl kubeconfig merge)`],
    })
  }
  if (code === 401) {
    return new ObsctlError(`${action} on ${context}: unauthorized (${msg})`, {
      code: 'KUBE_UNAUTHORIZED',
      hints: [
        `the token or certificate for ${context} was rejected; rerun obsctl kubeconfig merge`,
        'a kubeadm client certificate lasts a year: obsctl certs check reads its dates, obsctl certs renew renews it',
      ],
    })
  }
  const sys = errCode(error)
  if (sys && CONNECT_CODES.has(sys)) {
    return new ObsctlError(`${action}: cannot reach the API server of ${context} at ${server} (${sys})`, {
      code: 'KUBE_UNREACHABLE',
      hints: ['check that the cluster is up and the address in the inventory (clusters[].apiServer) is reachable from here'],
    })
  }
  // kubeadm's certificates last a year: an API server certificate that has aged out (or a clock that is wrong)
  if (sys === 'CERT_HAS_EXPIRED' || sys === 'CERT_NOT_YET_VALID') {
    const expired = sys === 'CERT_HAS_EXPIRED'
    const hints = expired
      ? [
          'obsctl certs check reads every control plane certificate over SSH; obsctl certs renew --cluster NAME renews them',
          "or this machine's clock is ahead: timedatectl says whether it is synchronised, obsctl doctor --network measures it against each API server",
        ]
      : [
          "clocks disagree: this machine's is behind (timedatectl; obsctl doctor --network measures it against each API server), or the control plane's was ahead when it issued the certificate (obsctl node preflight measures each node's clock against this one)",
        ]
    return new ObsctlError(
      `${action}: the API server of ${context} at ${server} presents a certificate that ${expired ? 'has expired' : 'is not valid yet'} (${sys})`,
      {code: 'KUBE_CERT_DATES', hints: [...hints, 'obsctl never skips TLS verification']},
    )
  }
  if (sys && TLS_CODES.has(sys)) {
    return new ObsctlError(`${action}: TLS verification of ${server} failed (${sys})`, {
      code: 'KUBE_TLS',
      hints: ['the kubeconfig must hold the cluster CA (certificate-authority-data); obsctl never skips verification'],
    })
  }
  return new ObsctlError(`${action} on ${context} failed${code ? ` (HTTP ${code}${status?.reason ? ` ${status.reason}` : ''})` : ''}: ${msg}`, {
    code: 'KUBE_ERROR',
  })
}

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  /** called with the progress line (../progress.ts: state · elapsed of limit · waiting for: …) */
  onProgress?: (line: string) => void
  /** repeat an unchanged progress line this often (default 15 s) */
  heartbeatMs?: number
}

/**
 * Poll `check` until it returns true, or throw on timeout (exit 1) / abort (interrupted).
 * `check` may say why not yet: a string ("not yet, because …"), or a state and the names still pending;
 * it is shown as progress with the elapsed time and the limit, and ends the timeout error.
 */
export async function waitUntil(what: string, check: () => Promise<true | string | WaitState>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  const progress = waitReporter((l) => opts.onProgress?.(l), {timeoutMs: opts.timeoutMs, heartbeatMs: opts.heartbeatMs})
  for (;;) {
    if (opts.signal?.aborted) throw new ObsctlError(`interrupted while waiting for ${what}`, {exitCode: 130, code: 'INTERRUPTED'})
    const r = await check()
    if (r === true) return
    const w = typeof r === 'string' ? {state: r} : r
    progress(w)
    const last = w.pending?.length ? `${w.state}; waiting for ${w.pending.join(', ')}` : w.state
    if (Date.now() >= deadline) {
      throw new ObsctlError(`timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${what}: ${last}`, {
        code: 'TIMEOUT',
        hints: ['raise --timeout, or look at the objects named above'],
      })
    }
    await sleep(opts.intervalMs ?? pollMs(1000), opts.signal)
  }
}

export {sleep}

/** Rollout state of a Deployment, StatefulSet or DaemonSet: true, or why not yet. */
export function rolloutStatus(obj: KubeObject): true | string {
  const name = describeObject(obj)
  const meta = obj.metadata as {generation?: number}
  const spec = (obj.spec ?? {}) as {replicas?: number}
  const st = (obj.status ?? {}) as Record<string, number | undefined>
  if ((st.observedGeneration ?? 0) < (meta.generation ?? 0)) return `${name}: waiting for the controller to observe generation ${meta.generation}`
  if (obj.kind === 'DaemonSet') {
    const want = st.desiredNumberScheduled ?? 0
    if ((st.updatedNumberScheduled ?? 0) < want || (st.numberAvailable ?? 0) < want) return `${name}: ${st.numberAvailable ?? 0}/${want} pods available`
    return true
  }
  const want = spec.replicas ?? 1
  if ((st.updatedReplicas ?? 0) < want) return `${name}: ${st.updatedReplicas ?? 0}/${want} replicas updated`
  if ((st.readyReplicas ?? 0) < want) return `${name}: ${st.readyReplicas ?? 0}/${want} replicas ready`
  if (obj.kind === 'Deployment' && (st.availableReplicas ?? 0) < want) return `${name}: ${st.availableReplicas ?? 0}/${want} replicas available`
  return true
}

/** Sort objects so that Namespaces and CRDs are applied before the objects that need them. */
export function applyOrder(objs: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => (o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2)
  return [...objs].sort((a, b) => rank(a) - rank(b))
}
