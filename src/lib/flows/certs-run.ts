/**
 * `obsctl certs check` and `obsctl certs renew`: the certificate flows (./certs.ts) as engine
 * runs (lock, per-task logs, journal). The check always measures again; a certificate that expired,
 * or a node that could not be read, fails it (exit 1); one within WARN_DAYS is a warning, and so is a
 * kube-apiserver serving another (valid) certificate than its apiserver.crt; what it serves counts with
 * the files (expired fails; unreachable or untrusted is not measured: fails). The renew
 * ends each node with what its kube-apiserver serves (../lifecycle/certs-served.ts).
 */
import type {LoadedInventory} from '../config/load.js'
import {selectClusters} from '../config/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {AnyPhase} from '../engine/runner.js'
import type {RunSsh} from '../engine/types.js'
import {ExitCode} from '../errors.js'
import {kubeconfigFiles, resolveKubeconfigPath} from '../platform/kube.js'
import type {KubeconfigClusterReport} from '../kube/phases.js'
import {WARN_DAYS, recordCerts, type CertsClusterReport, type CertsRenewOptions, type CertsRenewReport} from '../lifecycle/certs.js'
import type {CertsCheckSummary} from '../lifecycle/certs-format.js'

export interface CertsRunOptions {
  kubeconfig?: string
  /** --cluster (default: every cluster) */
  clusters?: string[]
  renderer?: RendererChoice
  onEvent?: RunEventSink
  ssh?: RunSsh
  handleSignals?: boolean
}

export interface CertsCheckResult extends CertsCheckSummary {
  ok: boolean
  exitCode: number
  kubeconfig: string
  run: RunResult
}

export async function certsCheck(inv: LoadedInventory, o: CertsRunOptions & {now?: number} = {}): Promise<CertsCheckResult> {
  // each cluster's kubeconfig certificate is read after its nodes: a bad $KUBECONFIG is refused before any node is
  kubeconfigFiles(o.kubeconfig, {read: true})
  const {run, runReports} = await runCerts(inv, o, (m, build) => build(m.CERTS_CHECK_PHASES, m.certsCheckPhaseOptions({now: o.now})), {
    restart: true,
    command: 'certs check',
  })
  const clusters = runReports<CertsClusterReport>(run, 'certs-check')
  const failed = run.phases.flatMap((p) => [
    ...(p.error ? [{cluster: '(all)', error: p.error}] : []),
    ...p.tasks.filter((t) => t.status === 'failed' || t.status === 'interrupted').map((t) => ({cluster: t.target, error: t.error ?? t.status})),
  ])
  const count = (s: CertsClusterReport['status']) => clusters.filter((c) => c.status === s).length
  const summary = {
    ok: count('ok'),
    warn: count('warn'),
    expired: count('expired'),
    error: count('error') + failed.length,
    // clusters where some kube-apiserver serves another certificate than its apiserver.crt (already counted above by status)
    notServed: clusters.filter((c) => c.nodes.some((n) => n.served?.sameAsFile === false)).length,
  }
  if (clusters.length > 0) await recordCerts(inv, clusters)
  const ok = run.ok && summary.expired === 0 && summary.error === 0
  return {
    ok,
    exitCode: run.interrupted ? run.exitCode : ok ? ExitCode.ok : ExitCode.failed,
    warnDays: WARN_DAYS,
    kubeconfig: resolveKubeconfigPath(o.kubeconfig),
    clusters,
    failed,
    summary,
    run,
  }
}

export interface CertsRenewResult {
  dryRun: boolean
  ok: boolean
  exitCode: number
  nodes: CertsRenewReport[]
  kubeconfig: KubeconfigClusterReport[]
  /** dry run: what each task would do; skip: a node done in the unfinished renew this run takes up (the kubeconfig is always merged again) */
  plan?: {phase: string; target: string; description: string; skip: boolean}[]
  run: RunResult
}

/**
 * `certs renew`: the journal is trusted within one renew (no restart): a rerun after a kill or a failure
 * skips the control-plane nodes that renew already did (../lifecycle/certs.ts renewOf); once it finished,
 * the next run renews every node again. The kubeconfig is merged again on every run.
 */
export async function certsRenew(inv: LoadedInventory, o: CertsRunOptions & CertsRenewOptions & {dryRun?: boolean} = {}): Promise<CertsRenewResult> {
  const {run, runReports} = await runCerts(
    inv,
    o,
    (m, build) => build(m.CERTS_RENEW_PHASES, m.certsRenewPhaseOptions({podTimeoutMs: o.podTimeoutMs, pollMs: o.pollMs})),
    {
      dryRun: o.dryRun,
      command: `certs renew${o.clusters?.length ? ` --cluster ${o.clusters.join(' --cluster ')}` : ''}`,
    },
  )
  const plan = o.dryRun
    ? run.phases.flatMap((p) =>
        p.tasks.map((t) => ({phase: p.name, target: t.target, description: t.description ?? '', skip: p.name === 'certs-renew' && t.status === 'would-skip'})),
      )
    : undefined
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

/**
 * Both certs flows: an unknown --cluster is bad input (exit 2) before anything runs; then the flow's phases
 * (./certs.ts) through the engine with the run options they share.
 */
async function runCerts(
  inv: LoadedInventory,
  o: CertsRunOptions,
  phasesOf: (certs: typeof import('./certs.js'), build: typeof import('./registry.js').buildPhases) => Promise<AnyPhase[]>,
  run: {restart?: boolean; dryRun?: boolean; command: string},
) {
  selectClusters(inv.platform, o.clusters, '--cluster')
  const [{buildPhases}, certs, {runPhases, runReports}] = await Promise.all([import('./registry.js'), import('./certs.js'), import('../engine/index.js')])
  const phases = await phasesOf(certs, buildPhases)
  const result = await runPhases(phases, {
    inv,
    ...run,
    kubeconfig: o.kubeconfig,
    clusters: o.clusters,
    ssh: o.ssh,
    renderer: o.renderer,
    onEvent: o.onEvent,
    handleSignals: o.handleSignals,
  })
  return {run: result, runReports}
}
