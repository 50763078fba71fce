/** What `obsctl node preflight|install` call: one function each (commands stay thin). */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunResult} from '../engine/index.js'
import type {RunEventSink} from '../engine/events.js'
import {SshPool, resolveSshSecrets} from '../ssh/pool.js'
import {preflight, type PreflightReport} from './preflight.js'
import {selectClusters} from '../config/model.js'
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
