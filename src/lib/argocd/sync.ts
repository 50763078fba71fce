/**
 * The `sync` phase: every Application in argocd Synced and Healthy, or a timeout that names the ones
 * that are not, with their conditions and the last operation's message (what `argocd app get` shows).
 */
import {ObsctlError} from '../errors.js'
import {NAMESPACES} from '../config/model.js'
import {sleep, type Kube, type KubeObject} from '../kube/index.js'
import {waitReporter} from '../progress.js'
import {pollMs} from '../poll.js'

export interface AppStatus {
  name: string
  sync: string
  health: string
  /** health message, conditions and the operation state's message */
  messages: string[]
  operationPhase?: string
}

export function appStatus(app: KubeObject): AppStatus {
  const st = (app.status ?? {}) as {
    sync?: {status?: string}
    health?: {status?: string; message?: string}
    conditions?: {type?: string; message?: string}[]
    operationState?: {phase?: string; message?: string}
  }
  const messages: string[] = []
  if (st.health?.message) messages.push(`health: ${st.health.message}`)
  for (const c of st.conditions ?? []) messages.push(`${c.type ?? 'Condition'}: ${c.message ?? ''}`.trim())
  if (st.operationState?.message) messages.push(`operation ${st.operationState.phase ?? ''}: ${st.operationState.message}`.replace(' :', ':'))
  return {
    name: app.metadata.name,
    sync: st.sync?.status ?? 'Unknown',
    health: st.health?.status ?? 'Unknown',
    messages,
    operationPhase: st.operationState?.phase,
  }
}

export const isReady = (a: AppStatus) => a.sync === 'Synced' && a.health === 'Healthy'

export async function listApps(central: Kube): Promise<AppStatus[]> {
  const apps = await central.list('argoproj.io/v1alpha1', 'Application', {namespace: NAMESPACES.argocd})
  return apps.map(appStatus).sort((a, b) => a.name.localeCompare(b.name))
}

export interface SyncOptions {
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  log?: (line: string) => void
  /** repeat an unchanged progress line this often (default 15 s) */
  heartbeatMs?: number
}

export interface SyncReport {
  apps: AppStatus[]
  ready: number
  total: number
  ok: boolean
}

/** Poll the Applications until all are Synced and Healthy; live per-app changes go to `log`. */
export async function waitForApps(central: Kube, opts: SyncOptions): Promise<SyncReport> {
  const log = opts.log ?? (() => {})
  const deadline = Date.now() + opts.timeoutMs
  const seen = new Map<string, string>()
  const progress = waitReporter(log, {timeoutMs: opts.timeoutMs, heartbeatMs: opts.heartbeatMs})
  let apps: AppStatus[]
  for (;;) {
    if (opts.signal?.aborted) throw new ObsctlError('interrupted while waiting for the Applications', {exitCode: 130, code: 'INTERRUPTED'})
    apps = await listApps(central)
    for (const a of apps) {
      const line = `${a.sync}/${a.health}${a.operationPhase ? ` (operation ${a.operationPhase})` : ''}`
      if (seen.get(a.name) !== line) log(`${a.name}: ${line}`)
      seen.set(a.name, line)
    }
    const ready = apps.filter(isReady).length
    if (apps.length > 0 && ready === apps.length) {
      log(`all ${apps.length} Applications Synced and Healthy`)
      return {apps, ready, total: apps.length, ok: true}
    }
    if (Date.now() >= deadline) break
    if (apps.length === 0) progress({state: 'no Applications in argocd yet'})
    else progress({state: `${ready}/${apps.length} Synced and Healthy`, pending: apps.filter((a) => !isReady(a)).map((a) => a.name)})
    await sleep(Math.min(opts.intervalMs ?? pollMs(3000), Math.max(0, deadline - Date.now())), opts.signal)
  }
  const notReady = apps.filter((a) => !isReady(a))
  const lines = notReady.map((a) => `${a.name}: ${a.sync}/${a.health}${a.messages.length ? ` — ${a.messages.join('; ')}` : ''}`)
  throw new ObsctlError(
    apps.length === 0
      ? `timed out after ${Math.round(opts.timeoutMs / 1000)}s: there are no Applications in ${NAMESPACES.argocd}`
      : `timed out after ${Math.round(opts.timeoutMs / 1000)}s: ${notReady.length} of ${apps.length} Applications are not Synced and Healthy:\n  ${lines.join('\n  ')}`,
    {
      code: 'SYNC_TIMEOUT',
      hints:
        apps.length === 0
          ? ['apply the root app first: obsctl bootstrap --phase root-app']
          : [
              'look at them in the Argo CD UI (obsctl argocd install prints its URL) or kubectl -n argocd get applications',
              'raise --timeout when they are still progressing',
            ],
      details: {notReady},
    },
  )
}
