/**
 * What a diagnosis collects from one cluster: nodes, recent events, the pods that are not Ready with the
 * last lines of their containers' logs, the platform's custom resources and, on central, Argo CD's
 * Applications. What cannot be collected is a problem and an entry saying why, never fatal.
 */
import type {Cluster} from '../config/schema.js'
import type {Kube, KubeObject} from '../platform/kube.js'
import type {ArchiveEntry} from './archive.js'

export interface DiagnoseProblem {
  /** what could not be collected: validate, status, cluster-02/events, … */
  item: string
  message: string
}

/** The platform's custom resources whose status a diagnosis keeps (group/version, kind). */
export const PLATFORM_RESOURCES = [
  {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'},
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus'},
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'ThanosRuler'},
  {apiVersion: 'opensearch.opster.io/v1', kind: 'OpenSearchCluster'},
  {apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'FluentBit'},
] as const

const MiB = 1024 * 1024
/**
 * Each container log's last bytes kept (the last --tail-lines lines, of which this much): a line can be a JSON document or
 * a dump of megabytes, and a fleet's archive holds up to 20 pods' logs a cluster.
 */
export const LOG_KEEP_BYTES = MiB

export const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`
export const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

export interface Collected {
  reachable: boolean
  notReadyPods: number
  events: number
  entries: ArchiveEntry[]
}

type Pod = KubeObject & {
  spec?: {containers?: {name: string}[]; nodeName?: string}
  status?: {
    phase?: string
    reason?: string
    message?: string
    conditions?: {type: string; status: string; reason?: string; message?: string}[]
    containerStatuses?: {name: string; ready: boolean; restartCount: number; state?: unknown; lastState?: unknown}[]
  }
}

function notReady(p: Pod): boolean {
  if (p.status?.phase === 'Succeeded') return false
  if (p.status?.phase !== 'Running') return true
  return p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True'
}

const eventTime = (e: KubeObject & Record<string, unknown>) =>
  Date.parse(
    String(
      (e.lastTimestamp as string | undefined) ??
        (e.eventTime as string | undefined) ??
        (e.firstTimestamp as string | undefined) ??
        e.metadata.creationTimestamp ??
        '',
    ),
  )

/** One cluster: nodes, events, pods not Ready (+ logs), the platform's custom resources, Argo CD (central). */
export async function collectCluster(
  kube: Kube,
  c: Cluster,
  central: boolean,
  o: {tailLines: number; maxPods: number; sinceS: number; now: Date},
  problems: DiagnoseProblem[],
): Promise<Collected> {
  const dir = `clusters/${c.name}`
  const out: Collected = {reachable: true, notReadyPods: 0, events: 0, entries: []}
  const item = async (name: string, fn: () => Promise<unknown>) => {
    try {
      out.entries.push({name: `${dir}/${name}`, content: json(await fn())})
    } catch (e) {
      problems.push({item: `${c.name}/${name}`, message: message(e)})
      out.entries.push({name: `${dir}/${name}`, content: json({error: message(e)})})
      const code = (e as {code?: unknown}).code
      if (code === 'KUBE_UNREACHABLE' || code === 'KUBE_TIMEOUT' || code === 'KUBE_TLS' || code === 'KUBE_UNAUTHORIZED') out.reachable = false
    }
  }

  await item('nodes.json', async () => ({
    nodes: (
      await kube.list<
        KubeObject & {
          spec?: {taints?: unknown[]; unschedulable?: boolean}
          status?: {conditions?: unknown[]; nodeInfo?: unknown; capacity?: unknown; allocatable?: unknown; addresses?: unknown}
        }
      >('v1', 'Node')
    ).map((n) => ({
      name: n.metadata.name,
      labels: n.metadata.labels,
      unschedulable: n.spec?.unschedulable ?? false,
      taints: n.spec?.taints ?? [],
      conditions: n.status?.conditions ?? [],
      addresses: n.status?.addresses,
      capacity: n.status?.capacity,
      allocatable: n.status?.allocatable,
      nodeInfo: n.status?.nodeInfo,
    })),
  }))
  if (!out.reachable) return out

  await item('events.json', async () => {
    const since = o.now.getTime() - o.sinceS * 1000
    const events = (await kube.list<KubeObject & Record<string, unknown>>('v1', 'Event'))
      .filter((e) => !(eventTime(e) < since))
      .sort((a, b) => eventTime(a) - eventTime(b))
    out.events = events.length
    return {
      since: new Date(since).toISOString(),
      events: events.map((e) => ({
        time: new Date(eventTime(e) || 0).toISOString(),
        namespace: e.metadata.namespace,
        type: e.type,
        reason: e.reason,
        object: e.involvedObject ? `${(e.involvedObject as {kind?: string}).kind}/${(e.involvedObject as {name?: string}).name}` : undefined,
        message: e.message,
        count: e.count,
      })),
    }
  })

  await item('pods-not-ready.json', async () => {
    const pods = (await kube.list<Pod>('v1', 'Pod')).filter(notReady)
    out.notReadyPods = pods.length
    const {kubeRequestOptions, send} = await import('../platform/http.js')
    const tls = await kubeRequestOptions(kube)
    for (const p of pods.slice(0, o.maxPods)) {
      for (const ct of p.spec?.containers ?? []) {
        const name = `logs/${p.metadata.namespace}/${p.metadata.name}/${ct.name}.log`
        try {
          // core/v1 GET pods/{name}/log (PodLogOptions container, tailLines, sinceSeconds): text/plain
          const q = new URLSearchParams({container: ct.name, tailLines: String(o.tailLines), sinceSeconds: String(o.sinceS)})
          const url = new URL(
            `${kube.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace!)}/pods/${encodeURIComponent(p.metadata.name)}/log?${q}`,
          )
          const res = await send(url, {tls, what: `log of ${p.metadata.name}/${ct.name}`, keepLastBytes: LOG_KEEP_BYTES})
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`)
          const cut = res.cutBytes
            ? `[obsctl: the first ${res.cutBytes} bytes of this log are left out: each log keeps its last ${LOG_KEEP_BYTES / MiB} MiB]\n`
            : ''
          out.entries.push({name: `${dir}/${name}`, content: cut + res.body})
        } catch (e) {
          problems.push({item: `${c.name}/${name}`, message: message(e)})
          out.entries.push({name: `${dir}/${name}`, content: `(no log: ${message(e)})\n`})
        }
      }
    }
    return {
      count: pods.length,
      logsFetchedFor: pods.slice(0, o.maxPods).map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      pods: pods.map((p) => ({
        namespace: p.metadata.namespace,
        name: p.metadata.name,
        node: p.spec?.nodeName,
        phase: p.status?.phase,
        reason: p.status?.reason,
        message: p.status?.message,
        conditions: p.status?.conditions ?? [],
        containers: (p.status?.containerStatuses ?? []).map((s) => ({
          name: s.name,
          ready: s.ready,
          restartCount: s.restartCount,
          state: s.state,
          lastState: s.lastState,
        })),
      })),
    }
  })

  await item('custom-resources.json', async () => {
    const kinds: Record<string, unknown> = {}
    for (const r of PLATFORM_RESOURCES) {
      try {
        const list = await kube.list<KubeObject & {status?: unknown}>(r.apiVersion, r.kind)
        kinds[`${r.kind}.${r.apiVersion}`] = list.map((x) => ({
          namespace: x.metadata.namespace,
          name: x.metadata.name,
          generation: x.metadata.generation,
          status: x.status ?? null,
        }))
      } catch (e) {
        const notInstalled = /404|not found|the server could not find/i.test(message(e))
        kinds[`${r.kind}.${r.apiVersion}`] = notInstalled ? {notInstalled: true} : {error: message(e)}
        if (!notInstalled) problems.push({item: `${c.name}/custom-resources.json ${r.kind}`, message: message(e)})
      }
    }
    return kinds
  })

  if (central) {
    await item('argocd.json', async () => {
      const {NAMESPACES} = await import('../config/model.js')
      const apps = await kube.list<
        KubeObject & {
          spec?: {destination?: unknown; source?: {repoURL?: string; path?: string; targetRevision?: string}}
          status?: {
            sync?: {status?: string; revision?: string}
            health?: {status?: string; message?: string}
            conditions?: unknown[]
            operationState?: {phase?: string; message?: string; finishedAt?: string}
            reconciledAt?: string
          }
        }
      >('argoproj.io/v1alpha1', 'Application', {namespace: NAMESPACES.argocd})
      return {
        applications: apps.map((a) => ({
          name: a.metadata.name,
          destination: a.spec?.destination,
          source: a.spec?.source ? {repoURL: a.spec.source.repoURL, path: a.spec.source.path, targetRevision: a.spec.source.targetRevision} : undefined,
          sync: a.status?.sync?.status,
          revision: a.status?.sync?.revision,
          health: a.status?.health?.status,
          healthMessage: a.status?.health?.message,
          conditions: a.status?.conditions ?? [],
          operation: a.status?.operationState
            ? {phase: a.status.operationState.phase, message: a.status.operationState.message, finishedAt: a.status.operationState.finishedAt}
            : undefined,
          reconciledAt: a.status?.reconciledAt,
        })),
      }
    })
  }
  return out
}
