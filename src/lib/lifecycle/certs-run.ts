/**
 * `obsctl certs check` and `obsctl certs renew`: the certificate flows (../flows/certs.ts) as engine
 * runs (lock, per-task logs, journal). The check always measures again; a certificate that expired,
 * or a node that could not be read, fails it (exit 1); one within WARN_DAYS is a warning.
 */
import type {LoadedInventory} from '../config/load.js'
import {selectClusters} from '../config/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import {ExitCode} from '../errors.js'
import {resolveKubeconfigPath} from '../platform/kube.js'
import type {KubeconfigClusterReport} from '../kube/phases.js'
import {WARN_DAYS, recordCerts, type CertsClusterReport, type CertsRenewOptions, type CertsRenewReport} from './certs.js'

export interface CertsRunOptions {
  kubeconfig?: string
  /** --cluster (default: every cluster) */
  clusters?: string[]
  renderer?: RendererChoice
  onEvent?: RunEventSink
  ssh?: RunSsh
  handleSignals?: boolean
}

export interface CertsCheckResult {
  ok: boolean
  exitCode: number
  warnDays: number
  kubeconfig: string
  clusters: CertsClusterReport[]
  /** clusters whose task failed outright */
  failed: {cluster: string; error: string}[]
  summary: {ok: number; warn: number; expired: number; error: number}
  run: RunResult
}

export async function certsCheck(inv: LoadedInventory, o: CertsRunOptions & {now?: number} = {}): Promise<CertsCheckResult> {
  // an unknown --cluster is bad input (exit 2) before anything runs
  selectClusters(inv.platform, o.clusters)
  const [{buildPhases}, {CERTS_CHECK_PHASES, certsCheckPhaseOptions}, {runPhases, runReports}] = await Promise.all([
    import('../flows/registry.js'),
    import('../flows/certs.js'),
    import('../engine/index.js'),
  ])
  const phases = await buildPhases(CERTS_CHECK_PHASES, certsCheckPhaseOptions({now: o.now}))
  const run = await runPhases(phases, {inv, restart: true, kubeconfig: o.kubeconfig, clusters: o.clusters, ssh: o.ssh, renderer: o.renderer, onEvent: o.onEvent, handleSignals: o.handleSignals, command: 'certs check'})
  const clusters = runReports<CertsClusterReport>(run, 'certs-check')
  const failed = run.phases.flatMap((p) => [...(p.error ? [{cluster: '(all)', error: p.error}] : []), ...p.tasks.filter((t) => t.status === 'failed' || t.status === 'interrupted').map((t) => ({cluster: t.target, error: t.error ?? t.status}))])
  const count = (s: CertsClusterReport['status']) => clusters.filter((c) => c.status === s).length
  const summary = {ok: count('ok'), warn: count('warn'), expired: count('expired'), error: count('error') + failed.length}
  if (clusters.length > 0) await recordCerts(inv, clusters)
  const ok = run.ok && summary.expired === 0 && summary.error === 0
  return {ok, exitCode: run.interrupted ? run.exitCode : ok ? ExitCode.ok : ExitCode.failed, warnDays: WARN_DAYS, kubeconfig: resolveKubeconfigPath(o.kubeconfig), clusters, failed, summary, run}
}

/** The human form: one line per certificate that is not fine, then one line per cluster. */
export function formatCertsCheck(r: CertsCheckResult, verbose = false): string {
  const lines: string[] = []
  for (const c of r.clusters) {
    const s = c.soonest
    lines.push(`${c.cluster}: ${c.status.toUpperCase()}${s ? ` — soonest ${s.name} on ${s.where}: ${s.daysLeft} days (${s.notAfter.slice(0, 10)})` : ''}`)
    for (const n of c.nodes) {
      if (n.error) lines.push(`  ✖ ${n.node}: ${n.error}`)
      for (const x of n.certs) if (verbose || x.status !== 'ok') lines.push(`  ${x.status === 'expired' ? '✖ EXPIRED' : x.status === 'warn' ? '! expires soon' : '✓'} ${n.node} ${x.name}: ${x.daysLeft} days (until ${x.notAfter})`)
    }
    const k = c.kubeconfig
    if (k.error) lines.push(`  ✖ kubeconfig: ${k.error}`)
    else if (k.cert && (verbose || k.cert.status !== 'ok')) lines.push(`  ${k.cert.status === 'expired' ? '✖ EXPIRED' : k.cert.status === 'warn' ? '! expires soon' : '✓'} kubeconfig ${k.user}: ${k.cert.daysLeft} days (until ${k.cert.notAfter})`)
  }
  for (const f of r.failed) lines.push(`${f.cluster}: ERROR — ${f.error}`)
  const {ok, warn, expired, error} = r.summary
  lines.push('', `${ok} ok, ${warn} expiring within ${r.warnDays} days, ${expired} expired, ${error} not measured${expired + warn > 0 ? ' → obsctl certs renew --cluster NAME' : ''}`)
  return lines.join('\n')
}

export interface CertsRenewResult {
  dryRun: boolean
  ok: boolean
  exitCode: number
  nodes: CertsRenewReport[]
  kubeconfig: KubeconfigClusterReport[]
  /** dry run: what each task would do */
  plan?: {phase: string; target: string; description: string}[]
  run: RunResult
}

export async function certsRenew(inv: LoadedInventory, o: CertsRunOptions & CertsRenewOptions & {dryRun?: boolean} = {}): Promise<CertsRenewResult> {
  // an unknown --cluster is bad input (exit 2) before anything runs
  selectClusters(inv.platform, o.clusters)
  const [{buildPhases}, {CERTS_RENEW_PHASES, certsRenewPhaseOptions}, {runPhases, runReports}] = await Promise.all([
    import('../flows/registry.js'),
    import('../flows/certs.js'),
    import('../engine/index.js'),
  ])
  const phases = await buildPhases(CERTS_RENEW_PHASES, certsRenewPhaseOptions({podTimeoutMs: o.podTimeoutMs, pollMs: o.pollMs}))
  const run = await runPhases(phases, {
    inv,
    dryRun: o.dryRun,
    restart: true,
    kubeconfig: o.kubeconfig,
    clusters: o.clusters,
    ssh: o.ssh,
    renderer: o.renderer,
    onEvent: o.onEvent,
    handleSignals: o.handleSignals,
    command: `certs renew${o.clusters?.length ? ` --cluster ${o.clusters.join(' --cluster ')}` : ''}`,
  })
  const plan = o.dryRun ? run.phases.flatMap((p) => p.tasks.map((t) => ({phase: p.name, target: t.target, description: t.description ?? ''}))) : undefined
  return {
    dryRun: Boolean(o.dryRun),
    ok: run.ok,
    exitCode: run.exitCode,
    nodes: runReports<CertsRenewReport>(run, 'certs-renew'),
    kubeconfig: runReports<KubeconfigClusterReport>(run, 'kubeconfig'),
    plan,
    run,
  }
}
