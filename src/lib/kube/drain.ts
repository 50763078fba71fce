/**
 * Node maintenance through the Kubernetes API (what `kubectl cordon|drain|uncordon` do): cordon is a
 * merge patch of `spec.unschedulable`; drain evicts every pod on the node through the pods/eviction
 * subresource (policy/v1 Eviction), so PodDisruptionBudgets are honoured by the API server itself. An
 * eviction a budget blocks answers 429 TooManyRequests (its cause, reason DisruptionBudget, says which
 * budget and how many healthy pods it needs); the drain retries it until its deadline, then stops with
 * that message and leaves the node cordoned. DaemonSet pods and static (mirror) pods are left, as
 * `kubectl drain --ignore-daemonsets` does. Used by `upgrade kubernetes` and `node remove`.
 */
import {ObsctlError, interruptedError} from '../errors.js'
import {kubeRequestOptions, send} from '../platform/http.js'
import type {Kube, KubeObject} from '../platform/kube.js'
import {pollMs as pollInterval} from '../poll.js'

export interface NodeState {
  name: string
  exists: boolean
  ready: boolean
  /** e.g. v1.35.2 */
  kubeletVersion?: string
  unschedulable: boolean
  labels: Record<string, string>
}

interface NodeObject extends KubeObject {
  spec?: {unschedulable?: boolean}
  status?: {conditions?: {type: string; status: string}[]; nodeInfo?: {kubeletVersion?: string}}
}

export function nodeStateOf(name: string, n: NodeObject | undefined): NodeState {
  return {
    name,
    exists: Boolean(n),
    ready: Boolean(n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    kubeletVersion: n?.status?.nodeInfo?.kubeletVersion,
    unschedulable: Boolean(n?.spec?.unschedulable),
    labels: n?.metadata.labels ?? {},
  }
}

export async function nodeState(kube: Kube, name: string): Promise<NodeState> {
  return nodeStateOf(name, await kube.get<NodeObject>('v1', 'Node', name))
}

export async function listNodes(kube: Kube): Promise<NodeState[]> {
  return (await kube.list<NodeObject>('v1', 'Node')).map((n) => nodeStateOf(n.metadata.name, n))
}

/** A merge patch of a Node (cordon, uncordon, labels). */
export async function patchNode(kube: Kube, name: string, patch: Record<string, unknown>): Promise<void> {
  try {
    await kube.objects.patch(
      {apiVersion: 'v1', kind: 'Node', metadata: {name}, ...patch},
      undefined,
      undefined,
      'obsctl',
      undefined,
      kube.lib.PatchStrategy.MergePatch,
    )
  } catch (error) {
    throw kube.error(error, `patch Node ${name}`)
  }
}

/** `kubectl cordon` (true) / `kubectl uncordon` (false). */
export function setUnschedulable(kube: Kube, name: string, unschedulable: boolean): Promise<void> {
  return patchNode(kube, name, {spec: {unschedulable: unschedulable ? true : null}})
}

/** One raw request to the API server with the kubeconfig's TLS and credentials (paths client-node's object API does not reach). */
export async function apiRequest(
  kube: Kube,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = kube.requestTimeoutMs,
): Promise<{status: number; body: string}> {
  const tls = await kubeRequestOptions(kube)
  const r = await send(new URL(kube.server.replace(/\/+$/, '') + path), {
    method,
    tls,
    timeoutMs,
    what: `API server of ${kube.context}`,
    ...(body !== undefined ? {body: JSON.stringify(body), headers: {'content-type': 'application/json'}} : {}),
  })
  return {status: r.status, body: r.body}
}

/** The API server's version (GET /version), e.g. v1.35.2. */
export async function apiServerVersion(kube: Kube): Promise<string> {
  const r = await apiRequest(kube, 'GET', '/version')
  const v = r.status === 200 ? (JSON.parse(r.body) as {gitVersion?: string}).gitVersion : undefined
  if (!v) throw new ObsctlError(`GET /version on ${kube.context} answered HTTP ${r.status}`, {code: 'KUBE_VERSION'})
  return v
}

export interface EtcdHealth {
  /** '' when healthy, else why not */
  problem: string
  /**
   * the etcd static pods (component=etcd in kube-system) whose readiness was judged too; none with an
   * external etcd, which is then judged by /readyz/etcd alone
   */
  staticPods: string[]
}

/** etcd as the API server sees it (`/readyz/etcd`) and its static pods in kube-system, if it has any. */
export async function etcdHealth(kube: Kube): Promise<EtcdHealth> {
  const r = await apiRequest(kube, 'GET', '/readyz/etcd')
  if (r.status !== 200 || r.body.trim() !== 'ok')
    return {problem: `the API server's etcd check (/readyz/etcd) answered HTTP ${r.status}: ${r.body.trim().slice(0, 200)}`, staticPods: []}
  const pods = await kube.list<PodObject>('v1', 'Pod', {namespace: 'kube-system', labelSelector: 'component=etcd'})
  const bad = pods.filter((p) => !podReady(p))
  return {problem: bad.length ? `etcd pod(s) not Ready: ${bad.map((p) => p.metadata.name).join(', ')}` : '', staticPods: pods.map((p) => p.metadata.name)}
}

interface PodObject extends KubeObject {
  spec?: {nodeName?: string}
  status?: {phase?: string; conditions?: {type: string; status: string}[]}
}

const podReady = (p: PodObject) => Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))

export interface DrainOptions {
  /** how long a drain may take, evictions a budget blocks included */
  timeoutMs: number
  /** retry interval of a blocked eviction and of the wait for evicted pods to go (default 2 s) */
  pollMs?: number
  signal?: AbortSignal
  log: (line: string) => void
}

export interface DrainReport {
  node: string
  evicted: string[]
  /** left on the node: DaemonSet and static pods */
  ignored: string[]
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interruptedError())
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(interruptedError())), {once: true})
  })
}

/** Why an eviction was refused, from the Status the API server answered (its DisruptionBudget cause, when there is one). */
function refusal(body: string): string {
  try {
    const s = JSON.parse(body) as {message?: string; details?: {causes?: {reason?: string; message?: string}[]}}
    const cause = s.details?.causes?.find((c) => c.reason === 'DisruptionBudget')?.message
    return [s.message, cause].filter(Boolean).join(' ') || body.slice(0, 200)
  } catch {
    return body.slice(0, 200)
  }
}

/** Cordon (if not yet) and evict every pod of the node; waits until the evicted pods are gone. */
export async function drainNode(kube: Kube, node: string, o: DrainOptions): Promise<DrainReport> {
  const pollMs = o.pollMs ?? pollInterval(2000)
  const deadline = Date.now() + o.timeoutMs
  const state = await nodeState(kube, node)
  if (!state.exists) throw new ObsctlError(`Node ${node} is not in the cluster ${kube.context}`, {code: 'NODE_NOT_FOUND'})
  if (!state.unschedulable) {
    await setUnschedulable(kube, node, true)
    o.log(`cordoned ${node}`)
  }
  const pods = await kube.list<PodObject>('v1', 'Pod', {fieldSelector: `spec.nodeName=${node}`})
  const ignored: string[] = []
  const toEvict: PodObject[] = []
  for (const p of pods) {
    const owners = (p.metadata.ownerReferences ?? []) as {kind?: string}[]
    const id = `${p.metadata.namespace}/${p.metadata.name}`
    if (owners.some((r) => r.kind === 'DaemonSet') || p.metadata.annotations?.['kubernetes.io/config.mirror']) ignored.push(id)
    else toEvict.push(p)
  }
  const evicted: string[] = []
  for (const p of toEvict) {
    const ns = p.metadata.namespace!
    const name = p.metadata.name
    const id = `${ns}/${name}`
    for (let attempt = 0; ; attempt++) {
      const r = await apiRequest(kube, 'POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: {name, namespace: ns},
      })
      if (r.status === 200 || r.status === 201) {
        o.log(`evicted pod ${id}`)
        evicted.push(id)
        break
      }
      if (r.status === 404) break // already gone
      const why = refusal(r.body)
      if (r.status !== 429)
        throw new ObsctlError(`drain of ${node}: evicting pod ${id} failed (HTTP ${r.status}): ${why}`, {
          code: 'DRAIN_FAILED',
          hints: [`the node stays cordoned; after fixing it: rerun, or kubectl uncordon ${node}`],
        })
      if (Date.now() + pollMs > deadline) {
        throw new ObsctlError(`drain of ${node} stopped: pod ${id} cannot be evicted: ${why}`, {
          code: 'DRAIN_BLOCKED',
          hints: [
            `a PodDisruptionBudget protects ${id}: give its workload more ready replicas, or relax the budget (kubectl -n ${ns} get pdb)`,
            `the node stays cordoned and nothing else on it was touched; rerun when the budget allows it, or raise --drain-timeout`,
          ],
        })
      }
      if (attempt % 5 === 0) o.log(`waiting to evict ${id}: ${why}`)
      await wait(pollMs, o.signal)
    }
  }
  // evicted pods are gone once they no longer exist (or were replaced by a new pod of the same name elsewhere)
  for (const p of toEvict) {
    for (;;) {
      const live = await kube.get<PodObject>('v1', 'Pod', p.metadata.name, p.metadata.namespace)
      if (!live || live.metadata.uid !== p.metadata.uid || live.spec?.nodeName !== node) break
      if (Date.now() > deadline)
        throw new ObsctlError(`drain of ${node}: pod ${p.metadata.namespace}/${p.metadata.name} was evicted but is still terminating`, {
          code: 'DRAIN_TIMEOUT',
          hints: ['raise --drain-timeout, or look at the pod: kubectl describe pod'],
        })
      await wait(pollMs, o.signal)
    }
  }
  return {node, evicted, ignored}
}

/** Wait until the Node is Ready (at `version`, when given). */
export async function waitNodeReady(
  kube: Kube,
  node: string,
  o: {version?: string; timeoutMs: number; pollMs?: number; signal?: AbortSignal; log: (l: string) => void},
): Promise<NodeState> {
  const deadline = Date.now() + o.timeoutMs
  let last = ''
  for (let i = 0; ; i++) {
    let s: NodeState
    try {
      s = await nodeState(kube, node)
    } catch (e) {
      // the API server restarts during a control-plane upgrade: keep asking until the deadline
      if (!(e instanceof ObsctlError) || !['KUBE_UNREACHABLE', 'KUBE_TIMEOUT', 'KUBE_ERROR'].includes(e.code)) throw e
      s = {name: node, exists: false, ready: false, unschedulable: false, labels: {}}
    }
    const atVersion = !o.version || s.kubeletVersion === o.version
    if (s.exists && s.ready && atVersion) return s
    const now = !s.exists ? 'not registered' : !s.ready ? 'not Ready' : `kubelet ${s.kubeletVersion ?? 'unknown'}, waiting for ${o.version}`
    if (now !== last || i % 15 === 0) o.log(`node ${node}: ${now}`)
    last = now
    if (Date.now() > deadline) {
      throw new ObsctlError(`node ${node} was not Ready${o.version ? ` at ${o.version}` : ''} within ${Math.round(o.timeoutMs / 1000)} s (${now})`, {
        code: 'NODE_NOT_READY',
        hints: [`on the node: systemctl status kubelet; journalctl -u kubelet`, `kubectl describe node ${node}`],
      })
    }
    await wait(o.pollMs ?? pollInterval(2000), o.signal)
  }
}
