/** What `obsctl node preflight|install` call: one function each (commands stay thin). */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunResult} from '../engine/index.js'
import type {RunEventSink} from '../engine/events.js'
import {SshPool, resolveSshSecrets} from '../ssh/pool.js'
import {preflight, type PreflightReport} from './preflight.js'
import {nodeName, selectClusters} from '../config/model.js'
import {inputError} from '../errors.js'
import {interruptedAt} from '../engine/interrupt.js'

export interface NodeRunOptions {
  clusters?: string[]
  /** --known-hosts */
  knownHosts?: string
  onNotice?: (line: string) => void
}

export async function runNodePreflight(inv: LoadedInventory, o: NodeRunOptions = {}): Promise<PreflightReport> {
  const clusters = selectClusters(inv.platform, o.clusters)
  const ac = new AbortController()
  const onSignal = () => ac.abort('SIGINT (Ctrl-C)')
  process.once('SIGINT', onSignal)
  const pool = new SshPool({
    platform: inv.platform,
    inventoryDir: inv.dir,
    knownHostsFile: o.knownHosts,
    onNotice: o.onNotice,
    signal: ac.signal,
  })
  try {
    const report = await preflight(pool, inv.platform, clusters)
    // the checks Ctrl-C stopped did not fail (they said `✖ fail  interrupted`): interrupted, exit 130, as a run's are
    if (ac.signal.aborted)
      throw interruptedAt(ac.signal, 'before `obsctl node preflight` finished: it only reads, nothing was changed', [
        'run the same command again for its result',
      ])
    return report
  } finally {
    process.off('SIGINT', onSignal)
    pool.close()
  }
}

export interface NodeInstallOptions extends NodeRunOptions {
  /** --host: only this node of the clusters (its address or name in the inventory) */
  host?: string
  concurrency?: number
  restart?: boolean
  dryRun?: boolean
  readyTimeoutSeconds?: number
  /** poll interval of the Ready check (tests) */
  readyPollMs?: number
  renderer?: RendererChoice
  onEvent?: RunEventSink
}

/** The `nodes` phase through the engine; secrets are resolved first so no prompt fights the display. */
export async function runNodeInstall(inv: LoadedInventory, o: NodeInstallOptions = {}): Promise<RunResult> {
  const clusters = selectClusters(inv.platform, o.clusters)
  const hosts = o.host === undefined ? undefined : [hostOf(clusters, o.clusters?.length ? clusters.map((c) => c.name).join(', ') : inv.file, o.host)]
  const sshSecrets = o.dryRun ? undefined : await resolveSshSecrets(inv.platform, inv.dir)
  const [{runPhases}, {nodesPhase}] = await Promise.all([import('../engine/index.js'), import('./phases.js')])
  return runPhases([nodesPhase({hosts, readyTimeoutSeconds: o.readyTimeoutSeconds, readyPollMs: o.readyPollMs})], {
    inv,
    dryRun: o.dryRun,
    restart: o.restart,
    concurrency: o.concurrency,
    renderer: o.renderer,
    onEvent: o.onEvent,
    command: o.host === undefined ? 'node install' : `node install --host ${hosts![0]}`,
    clusters: o.clusters,
    ssh: {knownHostsFile: o.knownHosts, secrets: sshSecrets},
  })
}

/**
 * The address of `--host H` among the nodes of the clusters run on (WHERE names them), H being a node's address or
 * name as the inventory gives it: one node reinstalled (with --restart: e.g. to remove what killed runs left in its
 * login user's home, node preflight's hint).
 */
function hostOf(clusters: ReturnType<typeof selectClusters>, where: string, h: string): string {
  const nodes = clusters.flatMap((c) => c.nodes)
  const n = nodes.find((x) => x.host === h) ?? nodes.find((x) => nodeName(x) === h)
  if (n) return n.host
  // a value with a space, a newline or a quote is shown quoted, so the message says what was typed
  const shown = /^[\w.:[\]-]+$/.test(h) ? h : JSON.stringify(h)
  throw inputError(
    `--host ${shown}: no node of ${where} has that address or name`,
    [`the nodes there: ${nodes.map((x) => (nodeName(x) === x.host ? x.host : `${x.host} (${nodeName(x)})`)).join(', ')}`],
    'BAD_FLAGS',
  )
}
