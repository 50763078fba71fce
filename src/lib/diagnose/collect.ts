/**
 * `obsctl diagnose [CLUSTER]`: one tar.gz an operator attaches to a ticket. It holds validate's and
 * status' JSON, obsctl's journal and the last run's task logs, and per cluster its nodes, recent
 * events, the pods that are not Ready with the last lines of their containers' logs, the status of the
 * platform's custom resources (Applications, Prometheus, ThanosRuler, OpenSearchCluster, FluentBit) and,
 * on central, the Argo CD Applications' sync/health and conditions.
 *
 * Secrets are never collected (no Secret object is written, only their values are read, into memory, to
 * scrub them); every entry passes through the Scrubber (./scrub.ts) before it is archived. Whatever
 * cannot be collected (a cluster that does not answer, a kind that is not installed, a log the API
 * server refuses) is recorded in manifest.json and in the entry itself: never fatal.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, findCluster, kubeContextName, obsctlDir} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {inputError} from '../errors.js'
import type {Kube, KubeObject} from '../platform/kube.js'
import type {ArchiveEntry} from './archive.js'
import {PUBLIC_KEYS, Scrubber} from './scrub.js'

export interface DiagnoseOptions {
  /** one cluster (else every cluster of the inventory) */
  cluster?: string
  /** events and log lines of this window (default 1h) */
  since?: string
  /** the archive (default ./obsctl-diagnose-<UTC timestamp>.tar.gz) */
  out?: string
  kubeconfig?: string
  endpoints?: Record<string, string>
  viaApiServer?: boolean
  caFile?: string
  requestTimeoutMs?: number
  /** log lines per container (default 100) */
  tailLines?: number
  /** pods whose logs are fetched, per cluster (default 20) */
  maxPods?: number
  onNotice?: (line: string) => void
  now?: () => Date
}

export interface DiagnoseProblem {
  /** what could not be collected: validate, status, cluster-02/events, … */
  item: string
  message: string
}

export interface DiagnoseResult {
  file: string
  bytes: number
  clusters: {name: string; reachable: boolean; notReadyPods: number; events: number}[]
  entries: string[]
  problems: DiagnoseProblem[]
  /** how many secret values were scrubbed for (their count only) */
  scrubbedValues: number
}

/** The platform's custom resources whose status a diagnosis keeps (group/version, kind). */
export const PLATFORM_RESOURCES = [
  {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'},
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus'},
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'ThanosRuler'},
  {apiVersion: 'opensearch.opster.io/v1', kind: 'OpenSearchCluster'},
  {apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'FluentBit'},
] as const

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`
const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Env vars whose values are secrets: the ones the inventory and obsctl name, and any OBSCTL_* credential. */
export async function secretEnvNames(inv: LoadedInventory): Promise<string[]> {
  const p = inv.platform
  const {PASSWORD_ENV} = await import('../config/passwords.js')
  const {receiverSecrets} = await import('../config/alerting.js')
  const {CREDENTIAL_ENV, ARGOCD_PASSWORD_ENV} = await import('../platform/catalogue.js')
  const named = [p.s3.accessKeyEnv, p.s3.secretKeyEnv, ...Object.values(PASSWORD_ENV), CREDENTIAL_ENV.password, ARGOCD_PASSWORD_ENV, ...receiverSecrets(p.alerting).map((r) => r.env)]
  const generic = Object.keys(process.env).filter((k) => /^OBSCTL_.*(PASSWORD|SECRET|TOKEN|KEY)/.test(k) && !/_FILE$/.test(k))
  return [...new Set([...named, ...generic])]
}

/** Credentials in the kubeconfig (tokens, passwords, client keys). */
function kubeconfigSecrets(file: string | undefined, scrub: Scrubber): void {
  if (!file || !existsSync(file)) return
  try {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as {users?: {user?: Record<string, unknown>}[]} | null
    for (const u of doc?.users ?? []) {
      const user = u.user ?? {}
      for (const k of ['token', 'password', 'client-key-data']) {
        const v = user[k]
        if (typeof v !== 'string') continue
        scrub.add(v)
        if (k === 'client-key-data') scrub.add(Buffer.from(v, 'base64').toString('utf8'))
      }
      const authProvider = user['auth-provider'] as {config?: Record<string, string>} | undefined
      for (const v of Object.values(authProvider?.config ?? {})) scrub.add(v)
    }
  } catch {
    // an unreadable kubeconfig gives no values; the token patterns still apply
  }
}

/** Every value of the Secrets obsctl manages on a cluster, Argo CD's cluster Secrets and the edge token Secrets. */
async function clusterSecretValues(kube: Kube, scrub: Scrubber): Promise<void> {
  const {MANAGER, SCRAPE} = await import('../argocd/register.js')
  const seen = new Map<string, KubeObject & {data?: Record<string, string>}>()
  for (const labelSelector of ['app.kubernetes.io/managed-by=obsctl', 'argocd.argoproj.io/secret-type=cluster', 'argocd.argoproj.io/secret-type=repository', 'argocd.argoproj.io/secret-type=repo-creds']) {
    for (const s of await kube.list<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', {labelSelector})) seen.set(`${s.metadata.namespace}/${s.metadata.name}`, s)
  }
  for (const [name, ns] of [[MANAGER.tokenSecret, MANAGER.namespace], [SCRAPE.tokenSecret, SCRAPE.namespace], ['argocd-secret', 'argocd'], ['argocd-initial-admin-secret', 'argocd']] as const) {
    const s = await kube.get<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', name, ns)
    if (s) seen.set(`${ns}/${name}`, s)
  }
  for (const s of seen.values()) {
    for (const [key, b64] of Object.entries(s.data ?? {})) {
      // names, addresses and certificates are public: keeping them readable helps, scrubbing them would hide nothing
      if (PUBLIC_KEYS.has(key)) continue
      scrub.add(b64)
      scrub.add(Buffer.from(b64, 'base64').toString('utf8'))
    }
  }
}

interface Collected {
  reachable: boolean
  notReadyPods: number
  events: number
  entries: ArchiveEntry[]
}

type Pod = KubeObject & {
  spec?: {containers?: {name: string}[]; nodeName?: string}
  status?: {phase?: string; reason?: string; message?: string; conditions?: {type: string; status: string; reason?: string; message?: string}[]; containerStatuses?: {name: string; ready: boolean; restartCount: number; state?: unknown; lastState?: unknown}[]}
}

function notReady(p: Pod): boolean {
  if (p.status?.phase === 'Succeeded') return false
  if (p.status?.phase !== 'Running') return true
  return p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True'
}

const eventTime = (e: KubeObject & Record<string, unknown>) =>
  Date.parse(String((e.lastTimestamp as string | undefined) ?? (e.eventTime as string | undefined) ?? (e.firstTimestamp as string | undefined) ?? e.metadata.creationTimestamp ?? ''))

/** One cluster: nodes, events, pods not Ready (+ logs), the platform's custom resources, Argo CD (central). */
async function collectCluster(kube: Kube, c: Cluster, central: boolean, o: Required<Pick<DiagnoseOptions, 'tailLines' | 'maxPods'>> & {sinceS: number; now: Date}, problems: DiagnoseProblem[]): Promise<Collected> {
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
    nodes: (await kube.list<KubeObject & {spec?: {taints?: unknown[]; unschedulable?: boolean}; status?: {conditions?: unknown[]; nodeInfo?: unknown; capacity?: unknown; allocatable?: unknown; addresses?: unknown}}>('v1', 'Node')).map((n) => ({
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
    const events = (await kube.list<KubeObject & Record<string, unknown>>('v1', 'Event')).filter((e) => !(eventTime(e) < since)).sort((a, b) => eventTime(a) - eventTime(b))
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
          const url = new URL(`${kube.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace!)}/pods/${encodeURIComponent(p.metadata.name)}/log?${q}`)
          const res = await send(url, {tls, what: `log of ${p.metadata.name}/${ct.name}`})
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`)
          out.entries.push({name: `${dir}/${name}`, content: res.body})
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
        containers: (p.status?.containerStatuses ?? []).map((s) => ({name: s.name, ready: s.ready, restartCount: s.restartCount, state: s.state, lastState: s.lastState})),
      })),
    }
  })

  await item('custom-resources.json', async () => {
    const kinds: Record<string, unknown> = {}
    for (const r of PLATFORM_RESOURCES) {
      try {
        const list = await kube.list<KubeObject & {status?: unknown}>(r.apiVersion, r.kind)
        kinds[`${r.kind}.${r.apiVersion}`] = list.map((x) => ({namespace: x.metadata.namespace, name: x.metadata.name, generation: x.metadata.generation, status: x.status ?? null}))
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
      const apps = await kube.list<KubeObject & {spec?: {destination?: unknown; source?: {repoURL?: string; path?: string; targetRevision?: string}}; status?: {sync?: {status?: string; revision?: string}; health?: {status?: string; message?: string}; conditions?: unknown[]; operationState?: {phase?: string; message?: string; finishedAt?: string}; reconciledAt?: string}}>('argoproj.io/v1alpha1', 'Application', {namespace: NAMESPACES.argocd})
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
          operation: a.status?.operationState ? {phase: a.status.operationState.phase, message: a.status.operationState.message, finishedAt: a.status.operationState.finishedAt} : undefined,
          reconciledAt: a.status?.reconciledAt,
        })),
      }
    })
  }
  return out
}

/** The journal and the newest run's task logs. */
function obsctlFiles(inv: LoadedInventory, problems: DiagnoseProblem[]): ArchiveEntry[] {
  const state = obsctlDir(inv.dir)
  const out: ArchiveEntry[] = []
  const journal = path.join(state, 'state.json')
  if (existsSync(journal)) out.push({name: 'obsctl/state.json', content: readFileSync(journal, 'utf8')})
  else problems.push({item: 'obsctl/state.json', message: `no journal at ${journal} (obsctl has not run here)`})
  const logs = path.join(state, 'logs')
  if (existsSync(logs)) {
    // run ids are timestamps: the newest sorts last
    const runs = readdirSync(logs).filter((d) => statSync(path.join(logs, d)).isDirectory()).sort()
    const last = runs.at(-1)
    if (last) {
      const walk = (d: string): void => {
        for (const f of readdirSync(d)) {
          const full = path.join(d, f)
          if (statSync(full).isDirectory()) walk(full)
          else out.push({name: `obsctl/logs/${path.relative(logs, full).split(path.sep).join('/')}`, content: readFileSync(full, 'utf8')})
        }
      }
      walk(path.join(logs, last))
    }
  }
  return out
}

export async function diagnose(inv: LoadedInventory, o: DiagnoseOptions = {}): Promise<DiagnoseResult> {
  const p = inv.platform
  const since = o.since ?? '1h'
  if (!isDuration(since)) throw inputError(`--since ${since}: not a duration`, ['e.g. --since 30m, --since 2h, --since 1d'], 'BAD_FLAGS')
  const sinceS = durationSeconds(since)
  let clusters = p.clusters
  if (o.cluster) {
    const c = findCluster(p, o.cluster)
    if (!c) throw inputError(`no cluster ${o.cluster} in ${inv.file}`, [`clusters: ${p.clusters.map((x) => x.name).join(', ')}`], 'UNKNOWN_CLUSTER')
    clusters = [c]
  }
  const now = (o.now ?? (() => new Date()))()
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  const file = path.resolve(o.out ?? `obsctl-diagnose-${stamp}.tar.gz`)
  const root = `obsctl-diagnose-${stamp}`
  const problems: DiagnoseProblem[] = []
  const entries: ArchiveEntry[] = []
  const note = o.onNotice ?? (() => undefined)

  // the values to scrub: env, kubeconfig, and (below) each reachable cluster's Secrets
  const scrub = new Scrubber()
  for (const name of await secretEnvNames(inv)) scrub.add(process.env[name])
  const {Kube, resolveKubeconfigPath} = await import('../platform/kube.js')
  kubeconfigSecrets(resolveKubeconfigPath(o.kubeconfig), scrub)

  const platform = {kubeconfig: o.kubeconfig, endpoints: o.endpoints, viaApiServer: o.viaApiServer, caFile: o.caFile, requestTimeoutMs: o.requestTimeoutMs, prompt: false}
  note('running validate')
  try {
    const {validate} = await import('../validate/index.js')
    entries.push({name: 'validate.json', content: json(await validate(inv, platform))})
  } catch (e) {
    problems.push({item: 'validate.json', message: message(e)})
    entries.push({name: 'validate.json', content: json({error: message(e)})})
  }
  note('collecting status')
  try {
    const {openStatus} = await import('../status/index.js')
    const session = await openStatus(inv, platform)
    try {
      entries.push({name: 'status.json', content: json(await session.collect())})
    } finally {
      session.close()
    }
  } catch (e) {
    problems.push({item: 'status.json', message: message(e)})
    entries.push({name: 'status.json', content: json({error: message(e)})})
  }
  entries.push(...obsctlFiles(inv, problems))

  const summary: DiagnoseResult['clusters'] = []
  const centralName = centralCluster(p).name
  for (const c of clusters) {
    note(`collecting ${c.name}`)
    let kube: Kube
    try {
      kube = await Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(c), requestTimeoutMs: o.requestTimeoutMs ?? 10_000})
    } catch (e) {
      problems.push({item: c.name, message: message(e)})
      entries.push({name: `clusters/${c.name}/error.json`, content: json({error: message(e)})})
      summary.push({name: c.name, reachable: false, notReadyPods: 0, events: 0})
      continue
    }
    const got = await collectCluster(kube, c, c.name === centralName, {tailLines: o.tailLines ?? 100, maxPods: o.maxPods ?? 20, sinceS, now}, problems)
    if (got.reachable) {
      try {
        await clusterSecretValues(kube, scrub)
      } catch (e) {
        // without them only the env, kubeconfig and pattern scrubbing apply: say so in the archive
        problems.push({item: `${c.name}/secret values for scrubbing`, message: message(e)})
      }
    }
    entries.push(...got.entries)
    summary.push({name: c.name, reachable: got.reachable, notReadyPods: got.notReadyPods, events: got.events})
  }

  const manifest = {
    createdAt: now.toISOString(),
    inventory: inv.file,
    clusters: summary,
    since,
    problems,
    scrubbing: 'every entry had the known secret values (inventory env vars, obsctl-managed and Argo CD Secrets, kubeconfig credentials) and token patterns replaced by [REDACTED]; no Secret object is included',
  }
  const all = [{name: 'manifest.json', content: json(manifest)}, ...entries].map((e) => ({name: `${root}/${e.name}`, content: scrub.scrub(e.content)}))
  const {writeTarGz} = await import('./archive.js')
  const bytes = await writeTarGz(file, all, now)
  return {file, bytes, clusters: summary, entries: all.map((e) => e.name), problems, scrubbedValues: scrub.size}
}

export function formatDiagnose(r: DiagnoseResult): string {
  const lines = [`wrote ${r.file} (${Math.ceil(r.bytes / 1024)} KiB, ${r.entries.length} files)`]
  for (const c of r.clusters) lines.push(`  ${c.name}: ${c.reachable ? `${c.notReadyPods} pod(s) not Ready, ${c.events} event(s)` : 'NOT reachable (recorded in the archive)'}`)
  if (r.problems.length) lines.push(`${r.problems.length} item(s) could not be collected (see manifest.json):`, ...r.problems.slice(0, 10).map((p) => `  ${p.item}: ${p.message.split('\n')[0]}`))
  lines.push('secrets: none collected; known secret values and token patterns are scrubbed')
  return lines.join('\n')
}
