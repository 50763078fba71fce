/**
 * `cluster register` / the `register` phase: what `argocd cluster add` does, through the Kubernetes API.
 *
 * On each edge: ServiceAccount kube-system/argocd-manager, ClusterRole argocd-manager-role (all
 * resources, all non-resource URLs, as argocd creates it), ClusterRoleBinding
 * argocd-manager-role-binding and the long-lived token Secret argocd-manager-long-lived-token, filled
 * by the edge's token controller. On central: the declarative cluster Secret in argocd, named the way
 * Argo CD names the ones it creates (`cluster-<host>-<fnv32a(server)>`), so a later `argocd cluster add`
 * or the UI update the same Secret instead of adding a duplicate.
 *
 * For an edge with `metrics: remote-scrape`, also a ServiceAccount that can only do what scraping through
 * the API server needs, and its token + CA as Secret `obsctl-scrape-<cluster>` in central's monitoring
 * namespace. The cluster Secret's labels obsctl.dev/role and obsctl.dev/metrics are what the ApplicationSets
 * (argocd/applications/<component>.yaml) select: registering an edge is what gives it its Applications.
 * The central cluster is Argo CD's in-cluster; its cluster Secret is in Git (argocd/applications/in-cluster.yaml).
 *
 * Over 300 lines on purpose: the edge objects, the scrape identity and the central cluster Secret are one
 * registration with one naming scheme (Argo CD's), read top to bottom in the order it is applied.
 */
import {ObsctlError, inputError} from '../errors.js'
import {NAMESPACES, SECRET_NAMES, edgeClusters, findCluster, metricsMode} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {describeObject, waitUntil, type Kube, type KubeObject} from '../platform/kube.js'
import {clusterSecretName} from './cluster-secret.js'
import {readText} from '../fs.js'
import {pollMs} from '../poll.js'

export {clusterSecretName, fnv32a} from './cluster-secret.js'

export const MANAGER = {
  namespace: 'kube-system',
  serviceAccount: 'argocd-manager',
  clusterRole: 'argocd-manager-role',
  clusterRoleBinding: 'argocd-manager-role-binding',
  tokenSecret: 'argocd-manager-long-lived-token',
} as const

export const SCRAPE = {
  namespace: 'kube-system',
  serviceAccount: 'obsctl-scrape',
  clusterRole: 'obsctl-scrape',
  clusterRoleBinding: 'obsctl-scrape',
  /** the exporters (discovery and proxy), only in the edge's monitoring namespace */
  role: 'obsctl-scrape',
  roleBinding: 'obsctl-scrape',
  tokenSecret: 'obsctl-scrape-long-lived-token',
} as const

export const LABELS = {
  secretType: 'argocd.argoproj.io/secret-type',
  cluster: 'obsctl.dev/cluster',
  role: 'obsctl.dev/role',
  /** on an edge's cluster Secret: its metrics mode, which the ApplicationSets' generators select on */
  metrics: 'obsctl.dev/metrics',
  managedBy: 'app.kubernetes.io/managed-by',
} as const

/** The edges to register: the named ones (exit 2 for an unknown or central name), else every edge. */
export function edgesToRegister(p: Platform, names: string[]): Cluster[] {
  if (names.length === 0) return edgeClusters(p)
  return names.map((n) => {
    const c = findCluster(p, n)
    if (!c) throw inputError(`no cluster ${n} in the inventory`, [`clusters: ${p.clusters.map((x) => x.name).join(', ')}`], 'UNKNOWN_CLUSTER')
    if (c.role !== 'edge')
      throw inputError(`${n} is the central cluster: Argo CD manages it as in-cluster, there is nothing to register`, ['name edge clusters only'], 'NOT_EDGE')
    return c
  })
}

type SecretObj = KubeObject & {data?: Record<string, string>; type?: string}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')

/** The rules `argocd cluster add` gives argocd-manager-role: everything (Argo CD manages the whole cluster). */
export const MANAGER_RULES = [
  {apiGroups: ['*'], resources: ['*'], verbs: ['*']},
  {nonResourceURLs: ['*'], verbs: ['*']},
]

/** What scraping through the API server needs, and nothing else. */
export const SCRAPE_CLUSTER_RULES = [
  {apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch']},
  {apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get']},
]
/** the exporters' scrape jobs (templates/gitops/partials/scrape-jobs.yaml): node-exporter by pod and
 * kube-state-metrics by service discovery, each scraped through the API server's proxy */
export const SCRAPE_NAMESPACE_RULES = [
  {apiGroups: [''], resources: ['pods', 'services'], verbs: ['list', 'watch']},
  {apiGroups: [''], resources: ['pods/proxy', 'services/proxy'], verbs: ['get']},
]
/**
 * Fluent Bit's own metrics (partials/scrape-jobs-fluent-bit.yaml): discover the DaemonSet's pods and read
 * their metrics port through the pod proxy, in the logging namespace only.
 */
export const SCRAPE_LOGGING_RULES = [
  {apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch']},
  {apiGroups: [''], resources: ['pods/proxy'], verbs: ['get']},
]

function labels(c: Cluster): Record<string, string> {
  return {[LABELS.managedBy]: 'obsctl', [LABELS.cluster]: c.name}
}

const RBAC = 'rbac.authorization.k8s.io/v1'

/** A ServiceAccount with a (Cluster)Role of its own and the binding between them. */
function boundServiceAccount(
  who: {serviceAccount: string; namespace: string},
  role: {kind: 'ClusterRole' | 'Role'; name: string; binding: string; namespace?: string; rules: object[]},
  labels: Record<string, string>,
): KubeObject[] {
  const ns = role.namespace ? {namespace: role.namespace} : {}
  return [
    {apiVersion: RBAC, kind: role.kind, metadata: {name: role.name, ...ns, labels}, rules: role.rules},
    {
      apiVersion: RBAC,
      kind: `${role.kind}Binding`,
      metadata: {name: role.binding, ...ns, labels},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name: role.name},
      subjects: [{kind: 'ServiceAccount', name: who.serviceAccount, namespace: who.namespace}],
    },
  ]
}

export function managerObjects(c: Cluster): KubeObject[] {
  const l = labels(c)
  return [
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: MANAGER.serviceAccount, namespace: MANAGER.namespace, labels: l}},
    ...boundServiceAccount(MANAGER, {kind: 'ClusterRole', name: MANAGER.clusterRole, binding: MANAGER.clusterRoleBinding, rules: MANAGER_RULES}, l),
  ]
}

export function scrapeObjects(c: Cluster): KubeObject[] {
  const l = labels(c)
  const mon = NAMESPACES.monitoring
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: mon}},
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: SCRAPE.serviceAccount, namespace: SCRAPE.namespace, labels: l}},
    ...boundServiceAccount(SCRAPE, {kind: 'ClusterRole', name: SCRAPE.clusterRole, binding: SCRAPE.clusterRoleBinding, rules: SCRAPE_CLUSTER_RULES}, l),
    ...boundServiceAccount(SCRAPE, {kind: 'Role', name: SCRAPE.role, binding: SCRAPE.roleBinding, namespace: mon, rules: SCRAPE_NAMESPACE_RULES}, l),
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: NAMESPACES.logging}},
    ...boundServiceAccount(
      SCRAPE,
      {kind: 'Role', name: SCRAPE.role, binding: SCRAPE.roleBinding, namespace: NAMESPACES.logging, rules: SCRAPE_LOGGING_RULES},
      l,
    ),
  ]
}

function tokenSecretObject(c: Cluster, name: string, namespace: string, serviceAccount: string): SecretObj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: {name, namespace, labels: labels(c), annotations: {'kubernetes.io/service-account.name': serviceAccount}},
  }
}

export interface RegisterOptions {
  /** delete and recreate the token Secrets (new tokens), on purpose */
  rotateTokens?: boolean
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  log?: (line: string) => void
}

export interface RegisterReport {
  cluster: string
  server: string
  metrics: 'remote-scrape' | 'agent'
  /** argocd/<cluster secret name> on central */
  clusterSecret: string
  /** objects created or updated on the edge */
  edgeObjects: string[]
  /** monitoring/obsctl-scrape-<cluster> on central (remote-scrape edges) */
  scrapeSecret?: string
  /** token Secrets replaced (--rotate-tokens or a token that was invalid) */
  rotated: string[]
  /** leftovers of remote-scrape removed from an edge that now uses agent */
  removed: string[]
}

interface TokenResult {
  token: string
  caCrt?: string
  rotated: boolean
}

/** Apply a service-account-token Secret and wait until the token controller fills it. */
async function ensureToken(edge: Kube, obj: SecretObj, opts: RegisterOptions): Promise<TokenResult> {
  const log = opts.log ?? (() => {})
  const {name, namespace} = obj.metadata
  const old = await edge.get<SecretObj>('v1', 'Secret', name, namespace)
  let rotated = false
  const annotatedFor = old?.metadata.annotations?.['kubernetes.io/service-account.name']
  if (old && (opts.rotateTokens || old.type !== obj.type || annotatedFor !== obj.metadata.annotations!['kubernetes.io/service-account.name'])) {
    log(`deleting Secret ${namespace}/${name} for a new token`)
    await edge.delete(obj)
    await waitUntil(`Secret ${namespace}/${name} to be deleted`, async () => ((await edge.get('v1', 'Secret', name, namespace)) ? 'still there' : true), {
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs ?? pollMs(500),
      signal: opts.signal,
    })
    rotated = true
  }
  const oldToken = rotated ? old?.data?.token : undefined
  await edge.apply(obj)
  let filled: SecretObj | undefined
  await waitUntil(
    `the token controller of ${edge.context} to fill Secret ${namespace}/${name}`,
    async () => {
      filled = await edge.get<SecretObj>('v1', 'Secret', name, namespace)
      if (!filled) return 'the Secret is gone (deleted by the token controller? is the ServiceAccount there?)'
      const t = filled.data?.token
      if (!t) return `Secret ${namespace}/${name}: no token yet`
      if (oldToken && t === oldToken) return `Secret ${namespace}/${name}: still the old token`
      return true
    },
    {timeoutMs: opts.timeoutMs, intervalMs: opts.intervalMs ?? pollMs(500), signal: opts.signal, onProgress: log},
  )
  return {token: unb64(filled!.data!.token!), caCrt: filled!.data?.['ca.crt'] ? unb64(filled!.data['ca.crt']) : undefined, rotated}
}

/** The edge's CA as Argo CD wants it (base64 of PEM): from the kubeconfig, else the token Secret's ca.crt. */
async function edgeCaPem(edge: Kube, tokenCa: string | undefined, cluster: string): Promise<string> {
  const kc = edge.kc.getCurrentCluster()
  if (kc?.caData) return unb64(kc.caData)
  if (kc?.caFile) return readText(kc.caFile)
  if (tokenCa) return tokenCa
  throw new ObsctlError(`no CA for ${cluster}: the kubeconfig context ${edge.context} has no certificate-authority(-data) and the token Secret no ca.crt`, {
    code: 'NO_CA',
    hints: ["obsctl kubeconfig merge writes each cluster's CA into the kubeconfig; Argo CD never skips TLS verification here"],
  })
}

export function clusterSecretObject(c: Cluster, token: string, caPem: string): SecretObj {
  const config = {bearerToken: token, tlsClientConfig: {insecure: false, caData: b64(caPem)}}
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: clusterSecretName(c.apiServer),
      namespace: NAMESPACES.argocd,
      labels: {
        [LABELS.secretType]: 'cluster',
        [LABELS.cluster]: c.name,
        [LABELS.role]: c.role,
        ...(metricsMode(c) ? {[LABELS.metrics]: metricsMode(c)!} : {}),
        [LABELS.managedBy]: 'obsctl',
      },
    },
    data: {name: b64(c.name), server: b64(c.apiServer), config: b64(JSON.stringify(config))},
  }
}

export function scrapeSecretObject(c: Cluster, token: string, caPem: string): SecretObj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: SECRET_NAMES.scrape(c.name),
      namespace: NAMESPACES.monitoring,
      labels: {[LABELS.cluster]: c.name, [LABELS.role]: c.role, [LABELS.managedBy]: 'obsctl'},
    },
    data: {token: b64(token), 'ca.crt': b64(caPem)},
  }
}

async function applyAll(kube: Kube, objs: KubeObject[], done: string[]): Promise<void> {
  for (const o of objs) {
    await kube.apply(o)
    done.push(describeObject(o))
  }
}

/** Register one edge cluster with Argo CD on central (idempotent). */
export async function registerEdge(central: Kube, edge: Kube, c: Cluster, opts: RegisterOptions): Promise<RegisterReport> {
  if (c.role !== 'edge')
    throw new ObsctlError(`${c.name} is the central cluster: Argo CD manages it as in-cluster, there is nothing to register`, {exitCode: 2, code: 'NOT_EDGE'})
  const log = opts.log ?? (() => {})
  const mode = metricsMode(c)!
  const report: RegisterReport = {cluster: c.name, server: c.apiServer, metrics: mode, clusterSecret: '', edgeObjects: [], rotated: [], removed: []}
  const check = () => {
    if (opts.signal?.aborted) throw new ObsctlError(`interrupted while registering ${c.name}`, {exitCode: 130, code: 'INTERRUPTED'})
  }

  if (!(await central.get('v1', 'Namespace', NAMESPACES.argocd))) {
    throw new ObsctlError(`Argo CD is not installed on ${central.context}: namespace ${NAMESPACES.argocd} does not exist`, {
      code: 'ARGOCD_MISSING',
      hints: ['run obsctl argocd install (or bootstrap --phase argocd) first'],
    })
  }

  // 1. what `argocd cluster add` creates on the edge
  log(`ServiceAccount, ClusterRole and ClusterRoleBinding for argocd-manager`)
  await applyAll(edge, managerObjects(c), report.edgeObjects)
  check()
  const managerSecret = tokenSecretObject(c, MANAGER.tokenSecret, MANAGER.namespace, MANAGER.serviceAccount)
  const manager = await ensureToken(edge, managerSecret, opts)
  report.edgeObjects.push(describeObject(managerSecret))
  if (manager.rotated) report.rotated.push(describeObject(managerSecret))
  const caPem = await edgeCaPem(edge, manager.caCrt, c.name)
  check()

  // 2. the declarative cluster Secret on central
  const secret = clusterSecretObject(c, manager.token, caPem)
  log(`cluster Secret ${secret.metadata.namespace}/${secret.metadata.name} on ${central.context}`)
  await central.apply(secret)
  report.clusterSecret = `${secret.metadata.namespace}/${secret.metadata.name}`
  check()

  // 3. metrics: remote-scrape edges get a scrape-only token copied to central; agent edges none
  if (mode === 'remote-scrape') {
    log(
      `scrape ServiceAccount (list/watch nodes, get nodes/proxy; list/watch pods and services, get their proxy in ${NAMESPACES.monitoring}; list/watch pods, get pods/proxy in ${NAMESPACES.logging})`,
    )
    await applyAll(edge, scrapeObjects(c), report.edgeObjects)
    const scrapeSecret = tokenSecretObject(c, SCRAPE.tokenSecret, SCRAPE.namespace, SCRAPE.serviceAccount)
    const scrape = await ensureToken(edge, scrapeSecret, opts)
    report.edgeObjects.push(describeObject(scrapeSecret))
    if (scrape.rotated) report.rotated.push(describeObject(scrapeSecret))
    check()
    await central.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: NAMESPACES.monitoring}})
    const copy = scrapeSecretObject(c, scrape.token, caPem)
    await central.apply(copy)
    report.scrapeSecret = `${copy.metadata.namespace}/${copy.metadata.name}`
  } else {
    // an edge switched to agent keeps no scrape credentials
    for (const o of [
      ...scrapeObjects(c).filter((x) => x.kind !== 'Namespace'),
      tokenSecretObject(c, SCRAPE.tokenSecret, SCRAPE.namespace, SCRAPE.serviceAccount),
    ]) {
      if (await edge.delete(o)) report.removed.push(`${edge.context}: ${describeObject(o)}`)
    }
    const copy = scrapeSecretObject(c, '', '')
    if (await central.delete(copy)) report.removed.push(`${central.context}: ${describeObject(copy)}`)
  }
  return report
}

/** Live check of the register phase for one edge: every object there, tokens filled, copies current. */
export async function edgeRegistered(central: Kube, edge: Kube, c: Cluster): Promise<boolean> {
  for (const o of managerObjects(c)) if (!(await edge.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))) return false
  const tok = await edge.get<SecretObj>('v1', 'Secret', MANAGER.tokenSecret, MANAGER.namespace)
  if (!tok?.data?.token) return false
  const cs = await central.get<SecretObj>('v1', 'Secret', clusterSecretName(c.apiServer), NAMESPACES.argocd)
  if (!cs?.data?.config || cs.metadata.labels?.[LABELS.secretType] !== 'cluster' || cs.metadata.labels?.[LABELS.cluster] !== c.name) return false
  // the labels the ApplicationSets select on (an edge registered by an earlier obsctl has no metrics label)
  if (cs.metadata.labels?.[LABELS.role] !== c.role || cs.metadata.labels?.[LABELS.metrics] !== metricsMode(c)) return false
  if (cs.data.server !== b64(c.apiServer) || cs.data.name !== b64(c.name)) return false
  try {
    if ((JSON.parse(unb64(cs.data.config)) as {bearerToken?: string}).bearerToken !== unb64(tok.data.token)) return false
  } catch {
    return false
  }
  if (metricsMode(c) === 'remote-scrape') {
    for (const o of scrapeObjects(c)) if (!(await edge.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))) return false
    const st = await edge.get<SecretObj>('v1', 'Secret', SCRAPE.tokenSecret, SCRAPE.namespace)
    if (!st?.data?.token) return false
    const copy = await central.get<SecretObj>('v1', 'Secret', SECRET_NAMES.scrape(c.name), NAMESPACES.monitoring)
    if (copy?.data?.token !== st.data.token || !copy.data['ca.crt']) return false
  } else if (await central.get('v1', 'Secret', SECRET_NAMES.scrape(c.name), NAMESPACES.monitoring)) {
    return false
  }
  return true
}
