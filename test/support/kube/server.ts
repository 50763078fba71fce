/**
 * KubeServer: one simulated cluster's API server over HTTPS (own CA), with users, the controllers
 * of controllers.ts, RBAC for ServiceAccounts, failure injection, a request log, and test helpers.
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import {createServer, type Server} from 'node:https'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {isDiscoveryPath, ruleAllows, bearerToken, peerCommonName, type PolicyRule, type RequestAttributes, type User, type UserSpec} from './auth.js'
import {Controllers, controllerOptions, makeServiceAccountToken, rolledOutStatus, type IssuedToken} from './controllers.js'
import {route, requestInfo, sendStatus, type ProxyHandler, type RequestInfo} from './handlers.js'
import {TypeRegistry, type ResourceType} from './kinds.js'
import {buildKubeconfig, writeKubeconfigFile, type KubeconfigEntry} from './kubeconfig.js'
import {ObjectApi, timestamp} from './objects.js'
import {OpenApi} from './openapi.js'
import {ApiError, forbidden, forbiddenPath, internalError, reasonForCode, unauthorized} from './status.js'
import {Store, type Obj} from './store.js'
import {CertificateAuthority} from './tls.js'
import {KUBE_VERSION} from './discovery.js'
import {Watches} from './watch.js'

export interface KubeServerOptions {
  /** the simulated cluster's name (kubeconfig cluster name; default "kube-test") */
  name?: string
  /** users besides the built-in full-rights "admin" (groups system:masters) */
  users?: UserSpec[]
  /** serve aggregated discovery (apidiscovery.k8s.io/v2) to clients that ask; default true */
  aggregatedDiscovery?: boolean
  /** delay before the token controller fills a service-account-token Secret; default 20 ms */
  tokenControllerDelayMs?: number
}

export interface UserCredentials {
  name: string
  groups: string[]
  token: string
  /** client certificate and key (PEM), when issued */
  cert?: string
  key?: string
}

export interface RequestLogEntry {
  time: string
  method: string
  path: string
  query: string
  user: string
  verb: string
  status: number
  userAgent: string
  contentType?: string
}

export interface FailureSpec {
  /** HTTP status to answer with (default 500); ignored when dropConnection */
  status?: number
  /** destroy the socket without a response */
  dropConnection?: boolean
  /** Retry-After seconds (429/503) */
  retryAfterSeconds?: number
  /** only requests with this method */
  method?: string
}

export interface KubeconfigOptions {
  /** a user configured on this server (default "admin") */
  user?: string
  contextName?: string
  clusterName?: string
  /** name of the user entry in the kubeconfig (default `${clusterName}-${user}`) */
  userEntryName?: string
  /** "token" (default) or "cert" (client certificate) */
  auth?: 'token' | 'cert'
  namespace?: string
}

interface Failure {
  match: string | RegExp
  remaining: number
  spec: FailureSpec
}

/** a reference to a kind: "Deployment", "deployments", "deployments.apps", "Application", "applications.argoproj.io" */
export type KindRef = string

export class KubeServer {
  readonly name: string
  readonly store = new Store()
  readonly registry = new TypeRegistry()
  readonly objects: ObjectApi
  /** every request, in order (discovery included); clear with clearRequestLog() */
  readonly requestLog: RequestLogEntry[] = []
  private readonly watches: Watches
  private readonly openapi: OpenApi
  private readonly controllers: Controllers
  private readonly ca: CertificateAuthority
  private readonly users = new Map<string, UserCredentials & {rules?: PolicyRule[]}>()
  private readonly tokens = new Map<string, {user?: string; sa?: IssuedToken}>()
  private readonly failures: Failure[] = []
  private readonly holds: {method: string; prefix: string; held: number; waiting: (() => void)[] | undefined}[] = []
  private readonly proxies = new Map<string, ProxyHandler>()
  private readonly podLogs = new Map<string, string>()
  private readonly sockets = new Set<Socket>()
  private readonly conns = {accepted: 0, tlsOpen: new Set<Socket>()}
  private server?: Server
  private port = 0
  private readonly aggregated: boolean
  private gitVersion?: string

  private constructor(opts: KubeServerOptions) {
    this.name = opts.name ?? 'kube-test'
    this.aggregated = opts.aggregatedDiscovery ?? true
    this.ca = CertificateAuthority.create(`${this.name}-ca`)
    this.objects = new ObjectApi(this.store, this.registry, {onCommitted: (t, type, o) => this.controllers.onCommitted(t, type, o)})
    this.controllers = new Controllers(
      this.objects,
      this.registry,
      () => this.ca.cert,
      (t) => this.issueServiceAccountToken(t),
      opts.tokenControllerDelayMs ?? 20,
    )
    this.watches = new Watches(this.store)
    this.openapi = new OpenApi(this.registry)
    this.addUser({name: 'admin', groups: ['system:masters']})
    for (const u of opts.users ?? []) this.addUser(u)
  }

  static async start(opts: KubeServerOptions = {}): Promise<KubeServer> {
    const s = new KubeServer(opts)
    await s.listen()
    s.seedCluster()
    return s
  }

  /** https://127.0.0.1:<port> */
  get url(): string {
    return `https://127.0.0.1:${this.port}`
  }

  /** PEM of this server's CA (signs the serving and client certificates) */
  get caPem(): string {
    return this.ca.cert
  }

  private async listen(): Promise<void> {
    const serving = this.ca.serving()
    this.server = createServer({key: serving.key, cert: serving.cert, ca: [this.ca.cert], requestCert: true, rejectUnauthorized: false}, (req, res) => {
      void this.handle(req, res)
    })
    this.server.on('connection', (s: Socket) => {
      // counted as accepted (TCP), before the handshake: the client cannot end its handshake before this, so a count
      // read after a client's request or handshake is whole (a bare handshake, as a certificate probe makes, included)
      this.conns.accepted++
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    this.server.on('secureConnection', (s) => {
      this.sockets.add(s)
      this.conns.tlsOpen.add(s)
      s.on('close', () => {
        this.sockets.delete(s)
        this.conns.tlsOpen.delete(s)
      })
    })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
  }

  /** what a fresh kubeadm cluster has: the four system namespaces and the cluster-admin role */
  private seedCluster(): void {
    const opts = controllerOptions()
    const ns = this.type('namespaces')
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      this.objects.create(ns, '', {metadata: {name: n, labels: {'kubernetes.io/metadata.name': n}}}, opts)
    this.objects.create(
      this.type('clusterroles.rbac.authorization.k8s.io'),
      '',
      {
        metadata: {name: 'cluster-admin', labels: {'kubernetes.io/bootstrapping': 'rbac-defaults'}},
        rules: [
          {apiGroups: ['*'], resources: ['*'], verbs: ['*']},
          {nonResourceURLs: ['*'], verbs: ['*']},
        ],
      },
      opts,
    )
    this.objects.create(
      this.type('clusterrolebindings.rbac.authorization.k8s.io'),
      '',
      {
        metadata: {name: 'cluster-admin', labels: {'kubernetes.io/bootstrapping': 'rbac-defaults'}},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin'},
        subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters'}],
      },
      opts,
    )
    this.objects.create(
      this.type('services'),
      'default',
      {
        metadata: {name: 'kubernetes', labels: {component: 'apiserver', provider: 'kubernetes'}},
        spec: {type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{name: 'https', port: 443, protocol: 'TCP', targetPort: 6443}]},
      },
      opts,
    )
  }

  // ---------------------------------------------------------------- users and tokens

  /** adds (or replaces) a user; returns its credentials (token always, client certificate unless clientCertificate: false) */
  addUser(spec: UserSpec): UserCredentials {
    const token = spec.token ?? randomBytes(24).toString('hex')
    const groups = spec.groups ?? []
    const creds: UserCredentials & {rules?: PolicyRule[]} = {name: spec.name, groups, token, rules: spec.rules}
    if (spec.clientCertificate !== false) Object.assign(creds, this.ca.client(spec.name, groups))
    this.users.set(spec.name, creds)
    this.tokens.set(token, {user: spec.name})
    return {name: creds.name, groups, token, cert: creds.cert, key: creds.key}
  }

  credentials(user = 'admin'): UserCredentials {
    const u = this.users.get(user)
    if (!u) throw new Error(`no user ${user} on test server ${this.name}`)
    return {name: u.name, groups: u.groups, token: u.token, cert: u.cert, key: u.key}
  }

  private issueServiceAccountToken(t: IssuedToken): string {
    const token = makeServiceAccountToken(this.url, t, t.audiences ?? [])
    this.tokens.set(token, {sa: t})
    return token
  }

  private authenticate(req: IncomingMessage): User | undefined {
    const token = bearerToken(req)
    if (token) {
      const rec = this.tokens.get(token)
      if (!rec) return undefined
      if (rec.user) {
        const u = this.users.get(rec.user)
        return u && {name: u.name, groups: u.groups, rules: u.rules}
      }
      const sa = rec.sa!
      if (sa.expires !== undefined && sa.expires < Date.now()) return undefined
      const live = this.store.get('', 'serviceaccounts', sa.namespace, sa.serviceAccount)
      if (!live || live.metadata.uid !== sa.serviceAccountUid) return undefined
      if (sa.secretName) {
        // as kube-apiserver's legacy token validator (pkg/serviceaccount/legacy.go): the Secret must exist,
        // not be deleting, and hold this very token in data.token ("Token does not match server's copy");
        // a Secret recreated under the same name carries a new token, so the old one stays revoked
        const secret = this.store.get('', 'secrets', sa.namespace, sa.secretName)
        if (!secret || secret.metadata.deletionTimestamp) return undefined
        const stored = typeof secret.data?.token === 'string' ? Buffer.from(secret.data.token, 'base64') : Buffer.alloc(0)
        const given = Buffer.from(token)
        if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined
      }
      return {
        name: `system:serviceaccount:${sa.namespace}:${sa.serviceAccount}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'],
        serviceAccount: {namespace: sa.namespace, name: sa.serviceAccount},
      }
    }
    const peer = peerCommonName(req)
    if (peer) {
      const u = this.users.get(peer.cn)
      if (u) return {name: u.name, groups: u.groups, rules: u.rules}
      return {name: peer.cn, groups: peer.groups, rules: peer.groups.includes('system:masters') ? undefined : []}
    }
    return undefined
  }

  /** RBAC rules that apply to a subject, from the stored (Cluster)Roles and bindings */
  private rbacRules(user: User, namespace: string): PolicyRule[] {
    const subjectMatches = (s: Obj, bindingNs: string) =>
      (s.kind === 'User' && s.name === user.name) ||
      (s.kind === 'Group' && user.groups.includes(s.name)) ||
      (s.kind === 'ServiceAccount' &&
        user.serviceAccount &&
        s.name === user.serviceAccount.name &&
        (s.namespace ?? bindingNs) === user.serviceAccount.namespace)
    const roleRules = (ref: Obj, ns: string): PolicyRule[] => {
      const r =
        ref.kind === 'ClusterRole'
          ? this.store.get('rbac.authorization.k8s.io', 'clusterroles', '', ref.name)
          : this.store.get('rbac.authorization.k8s.io', 'roles', ns, ref.name)
      return (r?.rules ?? []) as PolicyRule[]
    }
    const rules: PolicyRule[] = []
    for (const b of this.store.list('rbac.authorization.k8s.io', 'clusterrolebindings')) {
      if ((b.subjects ?? []).some((s: Obj) => subjectMatches(s, ''))) rules.push(...roleRules(b.roleRef ?? {}, ''))
    }
    if (namespace) {
      for (const b of this.store.list('rbac.authorization.k8s.io', 'rolebindings', namespace)) {
        if ((b.subjects ?? []).some((s: Obj) => subjectMatches(s, namespace))) rules.push(...roleRules(b.roleRef ?? {}, namespace))
      }
    }
    return rules
  }

  private authorize(user: User, a: RequestAttributes): boolean {
    if (user.groups.includes('system:masters') && !user.rules) return true
    if (user.serviceAccount) return this.rbacRules(user, a.namespace).some((r) => ruleAllows(r, a, false))
    if (!user.rules) return true
    if (a.path !== undefined && isDiscoveryPath(a.path)) return true
    return user.rules.some((r) => ruleAllows(r, a, true)) || this.rbacRules(user, a.namespace).some((r) => ruleAllows(r, a, false))
  }

  // ---------------------------------------------------------------- request handling

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    const entry: RequestLogEntry = {
      time: new Date().toISOString(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      user: '',
      verb: '',
      status: 0,
      userAgent: String(req.headers['user-agent'] ?? ''),
      contentType: req.headers['content-type'],
    }
    this.requestLog.push(entry)
    res.on('finish', () => {
      entry.status = res.statusCode
    })
    const hold = this.holds.find((h) => h.waiting && h.method === entry.method && url.pathname.startsWith(h.prefix))
    if (hold) {
      hold.held++
      await new Promise<void>((resolve) => hold.waiting!.push(resolve))
    }
    try {
      const failure = this.takeFailure(entry.method, url.pathname + url.search)
      if (failure) {
        entry.status = failure.dropConnection ? -1 : (failure.status ?? 500)
        if (failure.dropConnection) {
          req.socket.destroy()
          return
        }
        const code = failure.status ?? 500
        const err = new ApiError(
          code,
          reasonForCode(code),
          code === 429 ? 'Too many requests, please try again later.' : `injected failure (${code}) for ${url.pathname}`,
          failure.retryAfterSeconds ? {retryAfterSeconds: failure.retryAfterSeconds} : {},
        )
        if (failure.retryAfterSeconds) res.setHeader('Retry-After', String(failure.retryAfterSeconds))
        return sendStatus(res, err)
      }
      const body = await readBody(req)
      const info = requestInfo(entry.method, url)
      entry.verb = info.verb
      const open = ['/version', '/healthz', '/livez', '/readyz'].includes(url.pathname)
      const user = this.authenticate(req)
      if (!user && !open) throw unauthorized()
      entry.user = user?.name ?? 'system:anonymous'
      if (user && !open) {
        const attrs: RequestAttributes = info.isResource
          ? {verb: info.verb, apiGroup: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name}
          : {verb: info.verb, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: url.pathname}
        if (!this.authorize(user, attrs)) {
          if (!info.isResource) throw forbiddenPath(user.name, info.verb, url.pathname)
          throw forbidden(
            user.name,
            info.verb,
            info.resource,
            info.subresource,
            info.group,
            info.namespace,
            info.resource === 'namespaces' ? info.name || info.namespace : info.name.split(':')[0],
          )
        }
      }
      await route(
        {
          reg: this.registry,
          objects: this.objects,
          watches: this.watches,
          openapi: this.openapi,
          hostPort: `127.0.0.1:${this.port}`,
          aggregatedDiscovery: this.aggregated,
          user: entry.user,
          tokenRequest: (ns, sa, b) => this.controllers.tokenRequest(ns, sa, b, this.url),
          version: () => versionInfo(this.gitVersion),
          findProxy: (resource, ns, name, port) => this.proxies.get(`${resource}/${ns}/${name}:${port}`) ?? this.proxies.get(`${resource}/${ns}/${name}:`),
          podLog: (ns, pod, container) => this.podLogs.get(`${ns}/${pod}/${container}`) ?? '',
        },
        req,
        res,
        url,
        info as RequestInfo,
        body,
      )
    } catch (error) {
      const err = error instanceof ApiError ? error : internalError(error instanceof Error ? error.message : String(error))
      if (!res.headersSent) sendStatus(res, err)
      else res.end()
    }
  }

  private takeFailure(method: string, pathAndQuery: string): FailureSpec | undefined {
    for (const f of this.failures) {
      if (f.remaining <= 0) continue
      if (f.spec.method && f.spec.method.toUpperCase() !== method.toUpperCase()) continue
      const hit = typeof f.match === 'string' ? pathAndQuery.startsWith(f.match) : f.match.test(pathAndQuery)
      if (!hit) continue
      f.remaining--
      return f.spec
    }
    return undefined
  }

  // ---------------------------------------------------------------- test helpers

  /** the next `n` requests whose path (with query) starts with the string / matches the regex fail */
  failNext(match: string | RegExp, n = 1, spec: FailureSpec = {}): void {
    this.failures.push({match, remaining: n, spec})
  }

  /** drop the failures failNext armed and that have not fired yet */
  clearFailures(): void {
    this.failures.length = 0
  }

  clearRequestLog(): void {
    this.requestLog.length = 0
  }

  /** connections accepted so far, and how many TLS connections are still open: how a test sees a client reuse or close its connections */
  connections(): {accepted: number; open: number} {
    return {accepted: this.conns.accepted, open: this.conns.tlsOpen.size}
  }

  /** close the connections that carry no request now, as a server's idle timeout or a restart does */
  closeIdleConnections(): void {
    this.server?.closeIdleConnections()
  }

  /**
   * Requests of `method` whose path starts with `pathPrefix` wait, unanswered, until `release()` (then each is answered
   * as usual, and later ones are not held): `held()` counts those that arrived while held. How a test sees how many
   * requests a client has in flight at once, by what reached the server, with no timing.
   */
  hold(method: string, pathPrefix: string): {held(): number; release(): void} {
    const h: (typeof this.holds)[number] = {method, prefix: pathPrefix, held: 0, waiting: []}
    this.holds.push(h)
    return {
      held: () => h.held,
      release: () => {
        const waiting = h.waiting ?? []
        h.waiting = undefined
        for (const go of waiting) go()
      },
    }
  }

  /** the statuses answered, in order, to requests of `method` whose path starts with `pathPrefix` (-1: connection dropped) */
  statusesOf(method: string, pathPrefix: string): number[] {
    return this.requestLog.filter((e) => e.method === method && e.path.startsWith(pathPrefix)).map((e) => e.status)
  }

  /** resolves "Deployment", "deployments", "deployments.apps", "deploy", "Application", "applications.argoproj.io" */
  type(ref: KindRef): ResourceType {
    const [head, ...groupParts] = ref.split('.')
    const group = groupParts.join('.')
    const all = this.registry.all()
    const found =
      all.find(
        (t) =>
          (group ? t.group === group : true) && (t.resource === head || t.kind === head || t.singular === head.toLowerCase() || t.shortNames.includes(head)),
      ) ?? all.find((t) => t.kind.toLowerCase() === ref.toLowerCase())
    if (!found) throw new Error(`kind ${ref} is not served by test server ${this.name}`)
    return found
  }

  getObject(kind: KindRef, namespace: string | undefined, name: string): Obj | undefined {
    const t = this.type(kind)
    return this.store.get(t.group, t.resource, t.namespaced ? (namespace ?? '') : '', name)
  }

  listObjects(kind: KindRef, namespace?: string): Obj[] {
    const t = this.type(kind)
    return this.store.list(t.group, t.resource, t.namespaced ? namespace : undefined)
  }

  /** creates or replaces objects directly (no auth), as manager "test-seed"; namespaces must exist */
  seed(...objs: Obj[]): Obj[] {
    return objs.map((o) => {
      const t = this.registry.byKind(o.apiVersion, o.kind)
      if (!t) throw new Error(`kind ${o.apiVersion} ${o.kind} is not served by test server ${this.name}`)
      const ns = t.namespaced ? (o.metadata?.namespace ?? 'default') : ''
      const opts = {...controllerOptions(), manager: 'test-seed'}
      const existing = this.store.get(t.group, t.resource, ns, o.metadata.name)
      if (!existing) return this.objects.create(t, ns, o, opts)
      return this.objects.update(t, ns, o.metadata.name, {...o, metadata: {...o.metadata, resourceVersion: undefined}}, opts)
    })
  }

  /** plays the workload controller: Deployment/StatefulSet/DaemonSet status says fully rolled out */
  markRolledOut(kind: KindRef, namespace: string, name: string): Obj {
    const t = this.type(kind)
    const o = this.objects.get(t, namespace, name)
    const readyNodes = this.listObjects('nodes').filter((n) => (n.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length
    o.status = rolledOutStatus(t, o, readyNodes)
    return this.objects.update(t, namespace, name, o, controllerOptions(), 'status')
  }

  /** plays the Argo CD application controller (needs the applications.argoproj.io CRD) */
  setApplicationStatus(namespace: string, name: string, s: {sync: string; health: string; message?: string; conditions?: Obj[]; revision?: string}): Obj {
    const t = this.type('applications.argoproj.io')
    const o = this.objects.get(t, namespace, name)
    const now = timestamp()
    o.status = {
      ...(o.status ?? {}),
      sync: {status: s.sync, ...(s.revision ? {revision: s.revision} : {}), comparedTo: {source: o.spec?.source ?? {}, destination: o.spec?.destination ?? {}}},
      health: {status: s.health, ...(s.message ? {message: s.message} : {}), lastTransitionTime: now},
      reconciledAt: now,
      ...(s.conditions ? {conditions: s.conditions} : {}),
    }
    return this.objects.update(
      t,
      namespace,
      name,
      o,
      {...controllerOptions(), manager: 'argocd-application-controller'},
      t.subresources.includes('status') ? 'status' : 'main',
    )
  }

  /** a Node with Ready=True (and kubelet info), like a joined worker */
  addReadyNode(name: string, labels: Record<string, string> = {}): Obj {
    const t = this.type('nodes')
    const index = this.listObjects('nodes').length + 1
    const node = this.objects.create(
      t,
      '',
      {
        metadata: {name, labels: {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...labels}},
        spec: {podCIDR: `10.244.${index}.0/24`},
      },
      {...controllerOptions(), manager: 'kubelet'},
    )
    const now = timestamp()
    node.status = {
      capacity: {cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi'},
      allocatable: {cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi'},
      conditions: [
        {
          type: 'MemoryPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasSufficientMemory',
          message: 'kubelet has sufficient memory available',
        },
        {
          type: 'DiskPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
        },
        {
          type: 'PIDPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
        },
        {type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletReady', message: 'kubelet is posting ready status'},
      ],
      addresses: [
        {type: 'InternalIP', address: `127.0.1.${index}`},
        {type: 'Hostname', address: name},
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        containerRuntimeVersion: 'containerd://1.7.24',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    }
    return this.objects.update(t, '', name, node, {...controllerOptions(), manager: 'kubelet'}, 'status')
  }

  /**
   * answers `<resource>/<name>/proxy/<path>` requests: target "pods/<ns>/<name>[:port]",
   * "services/<ns>/<name>[:port]" (port as in the URL: number or port name) or "nodes/<name>".
   * The pod/service/node must exist (404 otherwise); without a handler the proxy answers 503.
   */
  /** what GET pods/<name>/log?container=C answers (the pod must exist) */
  setPodLog(namespace: string, pod: string, container: string, text: string): void {
    this.podLogs.set(`${namespace}/${pod}/${container}`, text)
  }

  onProxy(target: string, handler: ProxyHandler): void {
    const parts = target.split('/')
    const [resource, ns, nameAndPort] = parts.length === 2 ? [parts[0], '', parts[1]] : parts
    const [name, port = ''] = nameAndPort.split(':')
    this.proxies.set(`${resource}/${ns}/${name}:${port}`, handler)
  }

  /** the API server's version (GET /version), as after `kubeadm upgrade apply vX.Y.Z`; e.g. "v1.35.2" */
  setVersion(gitVersion: string): void {
    this.gitVersion = gitVersion
  }

  // ---------------------------------------------------------------- kubeconfig

  kubeconfigEntry(opts: KubeconfigOptions = {}): KubeconfigEntry {
    const user = opts.user ?? 'admin'
    const creds = this.credentials(user)
    const clusterName = opts.clusterName ?? this.name
    const e: KubeconfigEntry = {
      server: this.url,
      caPem: this.ca.cert,
      clusterName,
      contextName: opts.contextName ?? `${clusterName}-context`,
      userName: opts.userEntryName ?? `${clusterName}-${user}`,
      namespace: opts.namespace,
    }
    if (opts.auth === 'cert') {
      if (!creds.cert) throw new Error(`user ${user} has no client certificate`)
      e.cert = creds.cert
      e.key = creds.key
    } else e.token = creds.token
    return e
  }

  /** the kubeconfig as an object (what `yaml.stringify` writes) */
  kubeconfig(opts: KubeconfigOptions = {}): Record<string, unknown> {
    return buildKubeconfig([this.kubeconfigEntry(opts)])
  }

  /** writes a kubeconfig for this server (mode 0600) and returns its path */
  writeKubeconfig(path: string, opts: KubeconfigOptions = {}): string {
    return writeKubeconfigFile(path, [this.kubeconfigEntry(opts)])
  }

  async stop(): Promise<void> {
    this.controllers.stop()
    this.watches.closeAll()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.ca.dispose()
  }
}

function versionInfo(gitVersion: string | undefined): Obj {
  if (!gitVersion) return KUBE_VERSION
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion)
  return {...KUBE_VERSION, gitVersion, major: m?.[1] ?? KUBE_VERSION.major, minor: m?.[2] ?? KUBE_VERSION.minor}
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
