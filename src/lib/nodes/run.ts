/** What `obsctl node preflight|install` call: one function each (commands stay thin). */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunResult} from '../engine/index.js'
import type {RunEventSink} from '../engine/events.js'
import {SshPool, resolveSshSecrets} from '../ssh/pool.js'
import {preflight, type PreflightReport} from './preflight.js'
import {selectClusters} from '../config/model.js'

export interface NodeRunOptions {
  clusters?: string[]
  /** --known-hosts */
  knownHosts?: string
  onNotice?: (line: string) => void
}

export async function runNodePreflight(inv: LoadedInventory, o: NodeRunOptions = {}): Promise<PreflightReport> {
  const clusters = selectClusters(inv.platform, o.clusters)
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  const pool = new SshPool({
    platform: inv.platform,
    inventoryDir: inv.dir,
    knownHostsFile: o.knownHosts,
    onNotice: o.onNotice,
    signal: ac.signal,
  })
  try {
    return await preflight(pool, inv.platform, clusters)
  } finally {
    process.off('SIGINT', onSignal)
    pool.close()
  }
}

export interface NodeInstallOptions extends NodeRunOptions {
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
  selectClusters(inv.platform, o.clusters)
  const sshSecrets = o.dryRun ? undefined : await resolveSshSecrets(inv.platform, inv.dir)
  const [{runPhases}, {nodesPhase}] = await Promise.all([import('../engine/index.js'), import('./phases.js')])
  return runPhases([nodesPhase({readyTimeoutSeconds: o.readyTimeoutSeconds, readyPollMs: o.readyPollMs})], {
    inv,
    dryRun: o.dryRun,
    restart: o.restart,
    concurrency: o.concurrency,
    renderer: o.renderer,
    onEvent: o.onEvent,
    command: 'node install',
    clusters: o.clusters,
    ssh: {knownHostsFile: o.knownHosts, secrets: sshSecrets},
  })
}
