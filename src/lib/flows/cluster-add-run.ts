/**
 * `cluster add NAME --host ADDR …` (issue 9 item 3): one resumable task list — the inventory edit
 * (comments and order kept), then the cluster add flow (./cluster-add.ts: preflight → nodes →
 * kubeconfig → render (commit + push) → register → secrets → argocd-refresh → sync → validate),
 * restricted to the new cluster. Rerunning the same command resumes: the edit is skipped when the
 * cluster is already in the inventory with the same settings (../fleet/add.ts), and the engine's
 * journal skips the tasks already done.
 */
import type {LoadedInventory} from '../config/load.js'
import {addClusterToInventory, type NewCluster} from '../config/edit.js'
import {loadInventory} from '../config/load.js'
import type {AnyPhase, RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {insertedLines, sameSettings} from '../fleet/add.js'
import {confirmOrRefuse} from '../fleet/change.js'
import {clusterAddPhaseOptions, selectClusterAdd, type AddPhase, type ClusterAddPhase} from './cluster-add.js'

export interface AddOptions {
  cluster: NewCluster
  dryRun?: boolean
  yes?: boolean
  /** ignore the journal */
  restart?: boolean
  /** push the render commit (default true) */
  push?: boolean
  /** only these phases (default all of ADD_PHASES) */
  phases?: AddPhase[]
  /** start at this phase (tests, or after fixing something by hand) */
  from?: AddPhase
  kubeconfig?: string
  timeoutSeconds?: number
  allowOvercommit?: boolean
  renderer?: RendererChoice
  onEvent?: RunEventSink
  onNotice?: (line: string) => void
  confirm?: (question: string) => Promise<boolean>
  /** cluster → admin.conf the user already has (else read over SSH from its first control plane) */
  fromFiles?: Record<string, string>
  /** Argo CD poll interval (tests) */
  intervalMs?: number
  ssh?: RunSsh
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
}

export interface AddResult {
  cluster: string
  inventory: {file: string; changed: boolean; added?: string}
  phases: ClusterAddPhase[]
  dryRun: boolean
  cancelled?: boolean
  run?: RunResult
  ok: boolean
}

/** The phases that reach the new cluster's nodes over SSH (kubeconfig reads admin.conf there unless given a file). */
const SSH_PHASES: readonly string[] = ['preflight', 'nodes', 'kubeconfig']

/**
 * The SSH credentials, resolved before the inventory is edited and the run starts, as node install does: on a
 * terminal a password is asked now (not under the progress display); without one, a missing credential is exit 2
 * naming what answers it (ssh.identityFile, an ssh-agent, OBSCTL_SSH_PASSWORD) and nothing is written — the run
 * would only have failed its preflight on the question. Only when a task that reaches the nodes will run: a
 * resumed add whose preflight, nodes and kubeconfig tasks are done (the journal, as the engine reads it) asks nothing.
 */
async function sshUpFront(inv: LoadedInventory, phases: AnyPhase[], o: AddOptions): Promise<RunSsh | undefined> {
  if (o.ssh?.secrets) return o.ssh
  const needSsh = phases.filter((p) => SSH_PHASES.includes(p.name) && !(p.name === 'kubeconfig' && o.fromFiles?.[o.cluster.name]))
  if (needSsh.length === 0) return o.ssh
  if (!o.restart) {
    const {planPhases} = await import('../engine/index.js')
    const plan = await planPhases(needSsh, {inv, clusters: [o.cluster.name], kubeconfig: o.kubeconfig})
    if (plan.phases.every((p) => p.tasks.every((t) => t.state === 'done'))) return o.ssh
  }
  const {resolveSshSecrets} = await import('../ssh/pool.js')
  return {...o.ssh, secrets: await resolveSshSecrets(inv.platform, inv.dir)}
}

export async function addCluster(inv: LoadedInventory, o: AddOptions): Promise<AddResult> {
  const n = o.cluster
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n.name))
    throw inputError(`cluster name ${n.name} is not a DNS label`, ['lowercase letters, digits and -, e.g. cluster-05'], 'BAD_NAME')
  if (n.hosts.length === 0)
    throw inputError('cluster add needs at least one --host', ['e.g. obsctl cluster add cluster-05 --host 192.168.101.199'], 'BAD_FLAGS')
  if ((n.names?.length ?? 0) > n.hosts.length)
    throw inputError(
      `--node-name given ${n.names!.length} times for ${n.hosts.length} --host: each names the --host at its position`,
      ['e.g. obsctl cluster add cluster-07 --host fd00::7 --node-name cluster-07-cp --host fd00::8 --node-name cluster-07-w1'],
      'BAD_FLAGS',
    )
  const existing = inv.platform.clusters.find((c) => c.name === n.name)
  const result: AddResult = {
    cluster: n.name,
    inventory: {file: inv.file, changed: false},
    phases: selectClusterAdd({only: o.phases, from: o.from}),
    dryRun: Boolean(o.dryRun),
    ok: false,
  }

  // 1. the inventory edit (skipped on a rerun with the same settings)
  let next: LoadedInventory = inv
  let after: string | undefined
  if (existing) {
    const diffs = sameSettings(existing, n)
    if (diffs.length > 0) {
      throw inputError(
        `cluster ${n.name} is already in ${inv.file} with other settings: ${diffs.join('; ')}`,
        [
          'rerun with the same flags to resume adding it',
          `or change it with obsctl config set clusters.${n.name}.…`,
          `or obsctl cluster remove ${n.name} first`,
        ],
        'EXISTS',
      )
    }
    o.onNotice?.(`${n.name} is already in ${inv.file} with these settings: resuming`)
  } else {
    const dry = await addClusterToInventory(inv, n, {dryRun: true, allowOvercommit: o.allowOvercommit})
    next = dry.inventory
    after = dry.after
    result.inventory.changed = true
    result.inventory.added = insertedLines(dry.before, dry.after)
  }

  const {buildPhases} = await import('./registry.js')
  const phases = await buildPhases(
    result.phases,
    clusterAddPhaseOptions({name: n.name, push: o.push, timeoutSeconds: o.timeoutSeconds, fromFiles: o.fromFiles, intervalMs: o.intervalMs}),
  )
  const {runPhases, refuseBadKubeconfig} = await import('../engine/index.js')
  // a $KUBECONFIG the phases cannot use: exit 2 before the question, the inventory edit and the lock (runPhases too)
  refuseBadKubeconfig(phases, o.kubeconfig)
  const command = `cluster add ${n.name}`
  const run = {kubeconfig: o.kubeconfig, clusters: [n.name], ssh: o.ssh, onEvent: o.onEvent, command, handleSignals: o.handleSignals}

  if (o.dryRun) {
    // the new inventory in memory only: a dry run writes nothing and touches no remote system
    result.run = await runPhases(phases, {...run, inv: next, dryRun: true, renderer: 'silent'})
    result.ok = result.run.ok
    return result
  }

  if (result.inventory.changed) {
    const question = `add ${n.name} to ${inv.file}:\n${result.inventory.added}\nthen run ${result.phases.join(' → ')} for ${n.name}. Go ahead?`
    if (!(await confirmOrRefuse('cluster add', question, o, 'or --dry-run to see what would be done'))) {
      result.cancelled = true
      return result
    }
  }
  // the credentials are asked before the lock is taken (a prompt never holds it); a rerun (the cluster already
  // there) asks here too, still before anything runs
  const ssh = await sshUpFront(next, phases, o)

  // from the inventory edit to the end of the run, under the run lock; under it the inventory must still be the
  // text this command planned from (another cluster add, config set… in between: CONCURRENT_EDIT, nothing written)
  const {withInventoryLock} = await import('../engine/inventory-lock.js')
  return withInventoryLock(inv, command, o.onNotice, async (lock) => {
    if (result.inventory.changed) {
      await addClusterToInventory(inv, n, {allowOvercommit: o.allowOvercommit})
      next = loadInventory(inv.file)
      if (after !== undefined && next.text !== after) throw new ObsctlError(`${inv.file} changed while adding ${n.name}`, {code: 'CONCURRENT_EDIT'})
      o.onNotice?.(`added ${n.name} to ${inv.file}`)
    }
    result.run = await runPhases(phases, {...run, ssh, inv: next, restart: o.restart, renderer: o.renderer, lock})
    result.ok = result.run.ok
    return result
  })
}
