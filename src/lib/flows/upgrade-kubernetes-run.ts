/**
 * `obsctl upgrade kubernetes VERSION`: the flow (./upgrade-kubernetes.ts; its phases are in
 * ../lifecycle/upgrade.ts) as one engine run, after the confirmation.
 */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import type {UpgradeInventoryReport, UpgradeNodeReport, UpgradeOptions, UpgradePreflightReport} from '../lifecycle/upgrade.js'
import {parseTarget} from '../lifecycle/versions.js'

export interface UpgradeKubernetesOptions extends Omit<UpgradeOptions, 'version'> {
  clusters?: string[]
  dryRun?: boolean
  yes?: boolean
  confirm?: (question: string) => Promise<boolean>
  kubeconfig?: string
  renderer?: RendererChoice
  onEvent?: RunEventSink
  /** notices, such as a stale run lock taken over (never secrets) */
  onNotice?: (line: string) => void
  ssh?: RunSsh
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
}

export interface UpgradeKubernetesResult {
  version: string
  clusters: string[]
  dryRun: boolean
  cancelled?: boolean
  preflight: UpgradePreflightReport[]
  nodes: UpgradeNodeReport[]
  inventory?: UpgradeInventoryReport
  run?: RunResult
  ok: boolean
}

/**
 * `upgrade kubernetes VERSION`: the flow as one engine run. The journal is trusted (no --restart): a
 * rerun after a kill or a failure resumes at the node it stopped on (done nodes are still checked live).
 */
export async function upgradeKubernetes(inv: LoadedInventory, version: string, o: UpgradeKubernetesOptions = {}): Promise<UpgradeKubernetesResult> {
  parseTarget(version)
  const {selectClusters} = await import('../config/model.js')
  const clusters = selectClusters(inv.platform, o.clusters?.length ? o.clusters : undefined, '--cluster').map((c) => c.name)
  const settings: UpgradeOptions = {version, drainTimeoutSeconds: o.drainTimeoutSeconds, readyTimeoutSeconds: o.readyTimeoutSeconds, pollMs: o.pollMs}
  const {buildPhases} = await import('./registry.js')
  const {UPGRADE_KUBERNETES_PHASES, upgradeKubernetesPhaseOptions} = await import('./upgrade-kubernetes.js')
  const phases = await buildPhases(UPGRADE_KUBERNETES_PHASES, upgradeKubernetesPhaseOptions(settings))
  // a $KUBECONFIG the phases cannot use: exit 2 before the question and the lock (runPhases judges it too)
  ;(await import('../engine/runner.js')).refuseBadKubeconfig(phases, o.kubeconfig)
  const result: UpgradeKubernetesResult = {version, clusters, dryRun: Boolean(o.dryRun), preflight: [], nodes: [], ok: false}
  if (!o.dryRun) {
    const {confirmOrRefuse} = await import('../fleet/change.js')
    const question = `upgrade Kubernetes to ${version} on ${clusters.join(', ')}: control planes first, then the workers one at a time (each cordoned and drained)?`
    if (!(await confirmOrRefuse('upgrade kubernetes', question, o, 'or --dry-run to see the plan'))) {
      result.cancelled = true
      return result
    }
  }
  // a real run holds the run lock from here (the inventory must still be the text this command planned from:
  // CONCURRENT_EDIT otherwise) through its inventory edit, the last phase
  const {runPhases, runReports, lockInventory} = await import('../engine/index.js')
  const lock = o.dryRun ? undefined : await lockInventory(inv, `upgrade kubernetes ${version}`, o.onNotice)
  const run = await runPhases(phases, {
    inv,
    lock,
    clusters,
    dryRun: o.dryRun,
    kubeconfig: o.kubeconfig,
    renderer: o.renderer,
    onEvent: o.onEvent,
    ssh: o.ssh,
    handleSignals: o.handleSignals,
    command: `upgrade kubernetes ${version}`,
  }).finally(() => lock?.release())
  result.run = run
  result.preflight = runReports<UpgradePreflightReport>(run, 'upgrade-preflight')
  result.nodes = runReports<UpgradeNodeReport>(run, 'upgrade-nodes')
  result.inventory = runReports<UpgradeInventoryReport>(run, 'upgrade-inventory')[0]
  result.ok = run.ok
  return result
}
