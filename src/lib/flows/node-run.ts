/**
 * `obsctl node add` and `obsctl node remove`: the inventory edit and one engine run of a flow
 * (./node-add.ts, ./node-remove.ts) built from registered phases (their factories: ../lifecycle/node.ts).
 * node add appends the node to its cluster in the inventory (lint first: exit 2, nothing written, when it
 * would be invalid; a rerun finds it there, lints the inventory as it is and resumes); node remove refuses the only node and the first
 * control plane, checks the inventory edit first, asks, then drains, resets, deletes and forgets.
 */
import type {LoadedInventory} from '../config/load.js'
import {refuseInvalidInventory} from '../config/refuse-invalid.js'
import type {Cluster} from '../config/schema.js'
import {findCluster, firstControlPlane, nodeName} from '../config/model.js'
import type {Lock, RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunSsh} from '../engine/types.js'
import {inputError} from '../errors.js'
import {redactArgument} from '../config/validators.js'

interface RunSettings {
  dryRun?: boolean
  restart?: boolean
  kubeconfig?: string
  renderer?: RendererChoice
  onEvent?: RunEventSink
  ssh?: RunSsh
  /** let the engine handle SIGINT/SIGTERM (default true; tests turn it off) */
  handleSignals?: boolean
  /** --timeout: install and Ready (seconds) */
  timeoutSeconds?: number
  /** poll interval of readiness and drains (tests) */
  pollMs?: number
  /** notices, such as a stale run lock taken over (never secrets) */
  onNotice?: (line: string) => void
}

export interface NodeAddOptions extends RunSettings {
  cluster: string
  host: string
  role: 'worker' | 'control-plane'
  name?: string
  user?: string
  port?: number
  cpu?: string
  memory?: string
}

export interface NodeAddResult {
  cluster: string
  host: string
  node: string
  role: 'worker' | 'control-plane'
  dryRun: boolean
  inventory: {file: string; added: boolean}
  run: RunResult
  ok: boolean
}

export async function addNode(inv: LoadedInventory, o: NodeAddOptions): Promise<NodeAddResult> {
  const c = findCluster(inv.platform, o.cluster)
  if (!c) throw inputError(`no cluster ${o.cluster} in ${inv.file}`, ['obsctl cluster list shows the clusters; obsctl cluster add creates one'], 'NOT_FOUND')
  const elsewhere = inv.platform.clusters.find((x) => x.name !== c.name && x.nodes.some((n) => n.host === o.host))
  if (elsewhere) throw inputError(`--host ${o.host}: it is a node of ${elsewhere.name}`, [`obsctl node remove ${elsewhere.name} ${o.host} first`], 'EXISTS')
  const present = c.nodes.find((n) => n.host === o.host)
  const roles = o.role === 'control-plane' ? ['control-plane'] : ['worker']
  if (present && present.roles.includes('control-plane') !== (o.role === 'control-plane')) {
    throw inputError(
      `${o.host} is already in ${c.name} with roles [${present.roles.join(', ')}]`,
      ['--role must match the inventory entry; to change a role, remove the node and add it again'],
      'EXISTS',
    )
  }
  // a $KUBECONFIG the phases cannot use: exit 2 before the inventory edit and the lock (runPhases judges it too)
  const [{buildPhases}, {NODE_ADD_PHASES, nodeAddPhaseOptions}, {refuseBadKubeconfig}] = await Promise.all([
    import('./registry.js'),
    import('./node-add.js'),
    import('../engine/runner.js'),
  ])
  refuseBadKubeconfig(await buildPhases(NODE_ADD_PHASES, nodeAddPhaseOptions({host: o.host})), o.kubeconfig)
  // a real run holds the run lock from before its inventory edit (the file must still be the text this command
  // planned from: CONCURRENT_EDIT otherwise) to the end of its engine run
  const {lockInventory} = await import('../engine/inventory-lock.js')
  const lock = o.dryRun ? undefined : await lockInventory(inv, `node add ${c.name} --host ${o.host}`, o.onNotice)
  try {
    return await addNodeLocked(inv, o, {c, present, roles, lock})
  } finally {
    lock?.release()
  }
}

/** addNode after its checks, under the run lock (`lock`) unless a dry run. */
async function addNodeLocked(
  inv: LoadedInventory,
  o: NodeAddOptions,
  s: {
    c: Cluster
    present: Cluster['nodes'][number] | undefined
    roles: string[]
    lock: Lock | undefined
  },
): Promise<NodeAddResult> {
  const {c, present, roles, lock} = s
  const {setInventoryValue} = await import('../config/edit.js')
  let next = inv
  if (!present) {
    const like = c.nodes.at(-1)!
    const entry: Record<string, unknown> = {host: o.host}
    if (o.port) entry.port = o.port
    if (o.user) entry.user = o.user
    if (o.name) entry.name = o.name
    entry.roles = roles
    entry.cpu = o.cpu ?? like.cpu
    entry.memory = o.memory ?? like.memory
    // a node adds capacity: it never makes the requests exceed what is declared
    // a refusal names the flag that gave the field (--host, --name, --cpu …), as cluster add's does
    const index = inv.platform.clusters.indexOf(c)
    const flagOf = (p: (string | number)[], finding?: string): string | undefined => {
      if (p[0] !== 'clusters' || p[1] !== index || p[2] !== 'nodes' || p[3] !== c.nodes.length) return undefined
      // lint's node-name: the host is no node name and --name gave none
      if (finding === 'node-name') return `--host ${JSON.stringify(o.host)} (name the node with --name)`
      const leaf = p[4]
      const flag = leaf === 'roles' ? 'role' : leaf
      const value = typeof leaf === 'string' ? entry[leaf] : undefined
      return typeof flag === 'string' && flag !== 'host' && value !== undefined && flag in FLAG_FIELDS
        ? `--${flag} ${JSON.stringify(value)}`
        : `--host ${JSON.stringify(o.host)}`
    }
    next = (
      await setInventoryValue(inv, `clusters.${c.name}.nodes[${c.nodes.length}]`, JSON.stringify(entry), {
        dryRun: o.dryRun,
        allowOvercommit: true,
        origin: {what: `node add ${c.name} --host ${JSON.stringify(o.host)}`, flagOf},
      })
    ).inventory
  } else {
    // a rerun finds the node there already and makes no edit: the inventory is linted all the same, before any connection
    await refuseInvalidInventory(inv, {allowOvercommit: true})
  }
  const host = o.host
  const node = nodeName(findCluster(next.platform, c.name)!.nodes.find((n) => n.host === host)!)
  const {buildPhases} = await import('./registry.js')
  const {NODE_ADD_PHASES, nodeAddPhaseOptions} = await import('./node-add.js')
  const phases = await buildPhases(NODE_ADD_PHASES, nodeAddPhaseOptions({host, timeoutSeconds: o.timeoutSeconds, pollMs: o.pollMs}))
  const {runPhases} = await import('../engine/index.js')
  const run = await runPhases(phases, {
    inv: next,
    clusters: [c.name],
    dryRun: o.dryRun,
    restart: o.restart,
    kubeconfig: o.kubeconfig,
    renderer: o.renderer,
    onEvent: o.onEvent,
    ssh: o.ssh,
    handleSignals: o.handleSignals,
    command: `node add ${c.name} --host ${host}`,
    lock,
  })
  return {cluster: c.name, host, node, role: o.role, dryRun: Boolean(o.dryRun), inventory: {file: inv.file, added: !present}, run, ok: run.ok}
}

export interface NodeRemoveOptions extends RunSettings {
  force?: boolean
  yes?: boolean
  drainTimeoutSeconds?: number
  confirm?: (question: string) => Promise<boolean>
}

export interface NodeRemoveResult {
  cluster: string
  /** the node's name; one that is not in the cluster (absent) as typed, redacted (redactArgument: a pasted key or password is ***) */
  node: string
  host?: string
  dryRun: boolean
  /** not in the inventory: removed already */
  absent?: boolean
  run?: RunResult
  ok: boolean
}

export async function removeNode(inv: LoadedInventory, cluster: string, which: string, o: NodeRemoveOptions = {}): Promise<NodeRemoveResult> {
  const c = findCluster(inv.platform, cluster)
  if (!c) throw inputError(`no cluster ${cluster} in ${inv.file}`, ['obsctl cluster list shows the clusters'], 'NOT_FOUND')
  const n = c.nodes.find((x) => nodeName(x) === which || x.host === which)
  if (!n) return {cluster: c.name, node: redactArgument(which), dryRun: Boolean(o.dryRun), absent: true, ok: true}
  // the central cluster cannot be removed (cluster remove refuses it): only an edge's removal is a way out
  const wholeCluster = c.role === 'central' ? 'the central cluster itself cannot be removed' : `obsctl cluster remove ${cluster} removes the whole cluster`
  if (c.nodes.length === 1) throw inputError(`${which} is the only node of ${cluster}`, [wholeCluster], 'LAST_NODE')
  if (firstControlPlane(c) === n) {
    throw inputError(
      `${which} is the first control plane of ${cluster} (obsctl reads admin.conf and join tokens from it)`,
      [`remove the other nodes first; ${wholeCluster}`],
      'FIRST_CONTROL_PLANE',
    )
  }
  const {removeInventoryValue} = await import('../config/edit.js')
  await removeInventoryValue(inv, `clusters.${cluster}.nodes[${c.nodes.indexOf(n)}]`, {dryRun: true, allowOvercommit: true})
  const {buildPhases} = await import('./registry.js')
  const {NODE_REMOVE_PHASES, nodeRemovePhaseOptions} = await import('./node-remove.js')
  const phases = await buildPhases(
    NODE_REMOVE_PHASES,
    nodeRemovePhaseOptions({cluster: c, node: n, force: o.force, drainTimeoutSeconds: o.drainTimeoutSeconds, pollMs: o.pollMs}),
  )
  // a $KUBECONFIG the phases cannot use: exit 2 before the question and the lock (runPhases judges it too)
  ;(await import('../engine/runner.js')).refuseBadKubeconfig(phases, o.kubeconfig)
  if (!o.dryRun) {
    const {confirmOrRefuse} = await import('../fleet/change.js')
    const question = `remove ${nodeName(n)} (${n.host}) from ${cluster}:\n${phases.map((p, i) => `  ${i + 1}. ${p.title}`).join('\n')}\nGo ahead?`
    if (!(await confirmOrRefuse('node remove', question, o, 'or --dry-run to see what would be done'))) {
      return {cluster, node: nodeName(n), host: n.host, dryRun: false, ok: false}
    }
  }
  // a real run holds the run lock from here (the inventory must still be the text this command planned from:
  // CONCURRENT_EDIT otherwise) through the inventory edit, its last phase
  const {runPhases, lockInventory} = await import('../engine/index.js')
  const lock = o.dryRun ? undefined : await lockInventory(inv, `node remove ${cluster} ${which}`, o.onNotice)
  const run = await runPhases(phases, {
    inv,
    lock,
    clusters: [cluster],
    dryRun: o.dryRun,
    restart: true,
    kubeconfig: o.kubeconfig,
    renderer: o.renderer,
    onEvent: o.onEvent,
    ssh: o.ssh,
    handleSignals: o.handleSignals,
    command: `node remove ${cluster} ${which}`,
  }).finally(() => lock?.release())
  return {cluster, node: nodeName(n), host: n.host, dryRun: Boolean(o.dryRun), run, ok: run.ok}
}

/** The node fields `node add` takes from its flags (roles from --role). */
const FLAG_FIELDS = {name: true, user: true, port: true, cpu: true, memory: true, role: true}
