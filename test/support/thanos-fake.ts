/**
 * Thanos Query stand-in built from its documented HTTP API: `/api/v1/query` (the Prometheus API plus
 * `dedup` and `partial_response`, and a `warnings` array) answered by fanning the query out to real
 * Prometheus replicas and merging (dedup=true drops the replica label and keeps one series per label set),
 * `/api/v1/stores` (store sets grouped by component type: sidecar, store, rule, receive; each with
 * name, lastCheck, lastError, labelSets, minTime, maxTime; one sidecar per central replica and one per
 * remote-scrape edge's own Prometheus, labelled cluster=<edge>), `/api/v1/targets` (every replica's
 * targets merged; with dedup the replica label is dropped and duplicates merged, as
 * pkg/targets/targets.go dedupActiveTargets does) and a Compactor's `/metrics` (`thanos_compact_halted`).
 */
import {startFake, type FakeServer} from './http-fake.js'

export interface FakeStore {
  name: string
  lastCheck: string
  lastError: string | null
  labelSets: Record<string, string>[]
  minTime: number
  maxTime: number
}

export interface ThanosFake extends FakeServer {
  stores: Record<string, FakeStore[]>
  /** added to every query answer */
  warnings: string[]
  /** the compactor's thanos_compact_halted */
  halted: number
  /** each replica's answer to each query, in order (what a test prints when a query's outcome surprises it) */
  replicaAnswers: {replica: string; query: string; status: string; ms: number; error?: string}[]
}

export const REPLICA_LABEL = 'prometheus_replica'
/** how long the fake waits for a Prometheus replica before it answers like Thanos with that replica failed */
export const REPLICA_TIMEOUT_MS = 5000

export function store(name: string, labelSets: Record<string, string>[] = [], lastError: string | null = null): FakeStore {
  const now = Date.now()
  return {name, lastCheck: new Date().toISOString(), lastError, labelSets, minTime: now - 6 * 3600_000, maxTime: now}
}

export async function startThanosFake(opts: {
  replicas: {name: string; url: string}[]
  central: string
  receive?: boolean
  edges?: string[]
}): Promise<ThanosFake> {
  const initial = {
    stores: {
      sidecar: [
        ...opts.replicas.map((r, i) => store(`10.0.1.${10 + i}:10901`, [{cluster: opts.central, [REPLICA_LABEL]: r.name}])),
        ...(opts.edges ?? []).map((e, i) => store(`10.0.2.${10 + i}:10901`, [{cluster: e, [REPLICA_LABEL]: `prometheus-edge-${e}-0`}])),
      ],
      store: [store('thanos-store.monitoring.svc:10901', [])],
      rule: [store('thanos-ruler-0.thanos-ruler.monitoring.svc:10901', [{cluster: opts.central, thanos_ruler_replica: 'thanos-ruler-0'}])],
      ...(opts.receive ? {receive: [store('thanos-receive-0.thanos-receive.monitoring.svc:10901', [{receive: 'true', tenant_id: 'default-tenant'}])]} : {}),
    } as Record<string, FakeStore[]>,
    warnings: [] as string[],
    halted: 0,
    replicaAnswers: [] as ThanosFake['replicaAnswers'],
  }
  let state!: ThanosFake
  const fake = await startFake([
    ['GET', /^\/api\/v1\/stores$/, () => ({json: {status: 'success', data: state.stores}}), 'stores'],
    [
      '*',
      /^\/api\/v1\/query$/,
      async (req) => {
        const query = req.query.get('query') ?? (new URLSearchParams(req.body).get('query') as string)
        const dedup = req.query.get('dedup') !== 'false'
        const partial = req.query.get('partial_response') === 'true'
        const answers = await Promise.all(
          opts.replicas.map(async (r) => {
            const t0 = performance.now()
            const answer = await (async () => {
              try {
                const res = await fetch(`${r.url}/api/v1/query?${new URLSearchParams({query})}`, {signal: AbortSignal.timeout(REPLICA_TIMEOUT_MS)})
                return (await res.json()) as {
                  status: string
                  data?: {resultType: string; result: {metric: Record<string, string>; value: unknown}[]}
                  error?: string
                }
              } catch (e) {
                return {status: 'error', error: `${r.name}: ${(e as Error).message}`}
              }
            })()
            state.replicaAnswers.push({
              replica: r.name,
              query,
              status: answer.status,
              ms: Math.round(performance.now() - t0),
              ...(answer.error ? {error: answer.error} : {}),
            })
            return answer
          }),
        )
        const warnings = [...state.warnings]
        const failed = answers.filter((a) => a.status !== 'success')
        if (failed.length && !partial) return {status: 422, json: {status: 'error', errorType: 'execution', error: failed.map((f) => f.error).join('; ')}}
        warnings.push(...failed.map((f) => f.error ?? 'error'))
        const seen = new Set<string>()
        const result = []
        for (const a of answers.filter((x) => x.status === 'success')) {
          for (const s of a.data!.result) {
            const metric = {...s.metric}
            if (dedup) delete metric[REPLICA_LABEL]
            const key = JSON.stringify(Object.entries(metric).sort())
            if (dedup && seen.has(key)) continue
            seen.add(key)
            result.push({metric, value: s.value})
          }
        }
        return {json: {status: 'success', data: {resultType: 'vector', result}, ...(warnings.length ? {warnings} : {})}}
      },
      'query',
    ],
    [
      'GET',
      /^\/api\/v1\/targets$/,
      async (req) => {
        const state = req.query.get('state') ?? 'any'
        const dedup = req.query.get('dedup') !== 'false'
        const answers = await Promise.all(
          opts.replicas.map(async (r) => {
            const res = await fetch(`${r.url}/api/v1/targets?${new URLSearchParams({state})}`, {signal: AbortSignal.timeout(3000)})
            return (await res.json()) as {data: {activeTargets?: {labels: Record<string, string>}[]; droppedTargets?: unknown[]}}
          }),
        )
        const seen = new Set<string>()
        const activeTargets = []
        for (const a of answers) {
          for (const t of a.data.activeTargets ?? []) {
            const labels = {...t.labels}
            if (dedup) delete labels[REPLICA_LABEL]
            const key = JSON.stringify(Object.entries(labels).sort())
            if (dedup && seen.has(key)) continue
            seen.add(key)
            activeTargets.push({...t, labels})
          }
        }
        return {json: {status: 'success', data: {activeTargets, droppedTargets: []}}}
      },
      'targets',
    ],
    [
      'GET',
      /^\/metrics$/,
      () => ({
        text: `# HELP thanos_compact_halted Set to 1 if the compactor halted due to an unexpected error.\n# TYPE thanos_compact_halted gauge\nthanos_compact_halted ${state.halted}\n`,
      }),
      'metrics',
    ],
  ])
  state = Object.assign(fake, initial)
  return state
}
