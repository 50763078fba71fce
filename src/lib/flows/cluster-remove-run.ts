/**
 * `cluster remove NAME [--reset-nodes]` (issue 9 item 3): `cluster add` undone in reverse, as one
 * engine run (lock, per-task logs) of the cluster remove flow (./cluster-remove.ts; the phases
 * are in ../fleet/phases.ts): its Argo CD Applications on central, its cluster Secret (and the
 * scrape Secret), the GitOps repo re-rendered without it (its files removed; commit + push), its
 * kubeconfig entries; `kubeadm reset -f` on its nodes only with --reset-nodes; the inventory last.
 * Every step checks before it acts, so a rerun after a failure finishes the job.
 */
import type {LoadedInventory} from '../config/load.js'
import {findCluster} from '../config/model.js'
import {removeClusterFromInventory} from '../config/edit.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import {inputError} from '../errors.js'
import {redactArgument} from '../config/validators.js'
import type {ServiceAccess} from '../platform/access.js'
import {confirmOrRefuse} from '../fleet/change.js'
import type {RemoveKubeconfigReport, RemoveRenderReport, RevokeOpensearchReport, RevokeTokensReport} from '../fleet/phases.js'
import {clusterRemovePhaseOptions, selectClusterRemove} from './cluster-remove.js'

export interface RemoveOptions {
  resetNodes?: boolean
  dryRun?: boolean
  yes?: boolean
  /** push the render commit (default true) */
  push?: boolean
  force?: boolean
  kubeconfig?: string
  /** how its OpenSearch user's revoke reaches OpenSearch (--endpoint, --via-api-server, --ca-file, --request-timeout) */
  access?: ServiceAccess
  renderer?: RendererChoice
  onEvent?: RunEventSink
  onNotice?: (line: string) => void
  confirm?: (question: string) => Promise<boolean>
  ssh?: RunSsh
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
}

export interface RemoveReport {
  applications: string[]
  secrets: string[]
  render?: RemoveRenderReport
  kubeconfig?: RemoveKubeconfigReport
  reset: string[]
  inventory: boolean
  /** the edge's token objects deleted (unreachable: NOT revoked, and why) */
  tokens?: RevokeTokensReport
  /** its OpenSearch user revoked */
  opensearch?: RevokeOpensearchReport
}

export interface RemoveResult {
  /** the cluster's name; one that is not in the inventory (absent) as typed, redacted (redactArgument) */
  cluster: string
  dryRun: boolean
  /** the cluster was not in the inventory: nothing to do */
  absent?: boolean
  cancelled?: boolean
  steps: string[]
  report: RemoveReport
  run?: RunResult
  ok: boolean
}

export async function removeCluster(inv: LoadedInventory, name: string, o: RemoveOptions = {}): Promise<RemoveResult> {
  const report: RemoveReport = {applications: [], secrets: [], reset: [], inventory: false}
  const c = findCluster(inv.platform, name)
  // the inventory edit is the last step: a cluster that is not there is removed already (the command says so, quoting
  // the name as typed, redacted: a URL with a password, a key or a password pasted as NAME is never echoed whole)
  if (!c) return {cluster: redactArgument(name), dryRun: Boolean(o.dryRun), absent: true, steps: [], report, ok: true}
  if (c.role === 'central') throw inputError(`${name} is the central cluster; it cannot be removed`, ['remove edge clusters only'], 'CENTRAL')
  // the inventory must stay valid without it (fails here, before anything is touched); removing a cluster adds no
  // requests, so the capacity finding does not block it (as node remove)
  await removeClusterFromInventory(inv, name, {dryRun: true, allowOvercommit: true})

  const {buildPhases} = await import('./registry.js')
  const phases = await buildPhases(selectClusterRemove(o), clusterRemovePhaseOptions({cluster: c, push: o.push !== false, force: o.force, access: o.access}))
  const steps = phases.map((p) => p.title)
  // a $KUBECONFIG the phases cannot use: exit 2 before the question and the lock (runPhases judges it too)
  ;(await import('../engine/runner.js')).refuseBadKubeconfig(phases, o.kubeconfig)
  const result: RemoveResult = {cluster: name, dryRun: Boolean(o.dryRun), steps, report, ok: false}
  const {runPhases, runReports} = await import('../engine/index.js')
  const command = `cluster remove ${name}`

  if (!o.dryRun) {
    const reset = o.resetNodes
      ? `\nkubeadm reset -f on ${c.nodes.map((n) => n.host).join(', ')}: Kubernetes on these nodes is wiped`
      : '\nits nodes are left untouched (--reset-nodes wipes them)'
    const question = `remove ${name} (${c.apiServer}):\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}${reset}\nGo ahead?`
    if (!(await confirmOrRefuse('cluster remove', question, o, 'or --dry-run to see what would be done'))) {
      result.cancelled = true
      return result
    }
  }
  // a real run holds the run lock from before it reads the inventory again (it must still be the text this command
  // planned from: CONCURRENT_EDIT otherwise) through its render commit, push and the inventory edit
  const {lockInventory} = await import('../engine/inventory-lock.js')
  const lock = o.dryRun ? undefined : await lockInventory(inv, command, o.onNotice)
  const run = await runPhases(phases, {
    inv,
    lock,
    dryRun: o.dryRun,
    restart: true,
    kubeconfig: o.kubeconfig,
    clusters: [name],
    ssh: o.ssh,
    handleSignals: o.handleSignals,
    renderer: o.dryRun ? 'silent' : o.renderer,
    onEvent: o.onEvent,
    command,
  }).finally(() => lock?.release())
  // what was done, from the steps' reports (a failed run keeps those of the steps that finished)
  report.applications = runReports<{applications: string[]}>(run, 'remove-apps').flatMap((r) => r.applications)
  report.secrets = runReports<{secrets: string[]}>(run, 'remove-secret').flatMap((r) => r.secrets)
  report.tokens = runReports<RevokeTokensReport>(run, 'revoke-edge-tokens')[0]
  report.opensearch = runReports<RevokeOpensearchReport>(run, 'revoke-opensearch-user')[0]
  report.render = runReports<RemoveRenderReport>(run, 'remove-render')[0]
  report.kubeconfig = runReports<RemoveKubeconfigReport>(run, 'remove-kubeconfig')[0]
  report.reset = runReports<{host: string}>(run, 'reset-nodes').map((r) => r.host)
  report.inventory = runReports(run, 'remove-inventory').length > 0
  result.run = run
  result.ok = run.ok
  return result
}
