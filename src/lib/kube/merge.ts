/**
 * `obsctl kubeconfig merge`: the `kubeconfig` phase through the engine (journal, lock, per-task
 * logs), every cluster's admin.conf read again and compared. `--dry-run` reads (never writes) and
 * returns the diff with credentials masked.
 */
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, kubeContextName, obsctlDir} from '../config/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {RunContext, RunSsh} from '../engine/types.js'
import {inputError} from '../errors.js'
import {mapLimited} from '../async.js'
import path from 'node:path'
import {kubeconfigFiles, resolveKubeconfigPath} from '../platform/index.js'
import {conflictError, entriesFor, maskedDiff, parseFromFiles, planChainMerge, type EntryChange} from './kubeconfig/index.js'
import {useContext} from './context.js'
import {fetchAdminConf, kubeconfigPhase, type KubeconfigPhaseOptions} from './phases.js'

export interface KubeconfigMergeOptions {
  /** --kubeconfig */
  kubeconfig?: string
  /** clusters to merge (default: all, or only the --from-file ones when that is given) */
  clusters?: string[]
  /** --context: the context name written for the one cluster merged (else clusters[].context, else <cluster>-context) */
  context?: string
  /** --from-file CLUSTER=PATH values */
  fromFiles?: string[]
  overwrite?: boolean
  dryRun?: boolean
  /** --known-hosts for the SSH connections */
  knownHosts?: string
  renderer?: RendererChoice
  onEvent?: RunEventSink
  /** SSH connection settings beyond --known-hosts (tests: attempts, backoffMs) */
  ssh?: RunSsh
  /** --concurrency: clusters whose admin.conf is read at once (default: all) */
  concurrency?: number
}

export interface KubeconfigMergeReport {
  file: string
  dryRun: boolean
  clusters: {cluster: string; source: string; changes: EntryChange[]}[]
  /** the file changed (or would, on a dry run) */
  changed: boolean
  /** the previous file's copy, when it was written */
  backup?: string
  /** dry run: the unified diff, credentials masked */
  diff?: string
  run?: RunResult
}

function selectClusters(inv: LoadedInventory, opts: KubeconfigMergeOptions, fromFiles: Map<string, string>): string[] {
  const names = inv.platform.clusters.map((c) => c.name)
  for (const n of opts.clusters ?? [])
    if (!names.includes(n)) throw inputError(`cluster ${n} is not in the inventory`, [`clusters: ${names.join(', ')}`], 'BAD_ARGS')
  if (opts.clusters?.length) return [...new Set([...opts.clusters, ...fromFiles.keys()])].sort((a, b) => names.indexOf(a) - names.indexOf(b))
  if (fromFiles.size > 0) return names.filter((n) => fromFiles.has(n))
  return names
}

export async function kubeconfigMerge(inv: LoadedInventory, opts: KubeconfigMergeOptions = {}): Promise<KubeconfigMergeReport> {
  const file = resolveKubeconfigPath(opts.kubeconfig)
  const fromFiles = parseFromFiles(
    opts.fromFiles,
    inv.platform.clusters.map((c) => c.name),
  )
  const clusters = selectClusters(inv, opts, fromFiles)
  if (opts.context !== undefined) {
    if (clusters.length !== 1)
      throw inputError(
        `--context names the context of one cluster; this merge has ${clusters.length} (${clusters.join(', ')})`,
        [
          `name the cluster: obsctl kubeconfig merge ${clusters[0] ?? 'CLUSTER'} --context ${opts.context}`,
          'or set clusters[].context in the inventory for each cluster',
        ],
        'BAD_FLAGS',
      )
    useContext(inv, clusters[0]!, opts.context, {mustExist: false})
  }
  const phaseOptions: KubeconfigPhaseOptions = {fromFiles: Object.fromEntries(fromFiles), overwrite: Boolean(opts.overwrite), recheck: true}
  const ssh: RunSsh = {...opts.ssh, knownHostsFile: opts.knownHosts}
  if (opts.dryRun) return dryRun(inv, file, opts, clusters, phaseOptions, ssh)

  const {runStandalone} = await import('../engine/standalone.js')
  const {run, reports: list} = await runStandalone(kubeconfigPhase(phaseOptions), {
    inv,
    // undefined: every $KUBECONFIG file (each entry goes to the file that holds it)
    kubeconfig: opts.kubeconfig,
    clusters,
    ssh,
    concurrency: opts.concurrency,
    renderer: opts.renderer,
    onEvent: opts.onEvent,
    command: 'kubeconfig merge',
    failureCode: 'KUBECONFIG_MERGE_FAILED',
  })
  return {
    file,
    dryRun: false,
    clusters: list.map((r) => ({cluster: r.cluster, source: r.source, changes: r.changes})),
    changed: list.some((r) => r.written),
    backup: list.find((r) => r.backup)?.backup,
    run,
  }
}

/** Read every admin.conf (nothing is written anywhere; at most --concurrency at once) and diff the merged result. */
async function dryRun(
  inv: LoadedInventory,
  file: string,
  {kubeconfig: kubeconfigFlag, concurrency}: KubeconfigMergeOptions,
  clusters: string[],
  o: KubeconfigPhaseOptions,
  ssh: RunSsh,
): Promise<KubeconfigMergeReport> {
  const {Resources} = await import('../engine/index.js')
  const resources = new Resources()
  const ac = new AbortController()
  const onSignal = () => ac.abort()
  process.once('SIGINT', onSignal)
  const ctx: RunContext = {
    inv,
    platform: inv.platform,
    stateDir: obsctlDir(inv.dir),
    runId: 'dry-run',
    dryRun: true,
    signal: ac.signal,
    kubeconfig: kubeconfigFlag,
    clusters,
    ssh,
    resources,
  }
  try {
    const wanted = clusters.map((n) => inv.platform.clusters.find((c) => c.name === n)!)
    const admins = await mapLimited(wanted, concurrency, (c) => fetchAdminConf(ctx, c, o))
    const entries = wanted.map((c, i) => entriesFor(c, admins[i]!))
    const central = centralCluster(inv.platform)
    const files = kubeconfigFiles(kubeconfigFlag)
    const plans = planChainMerge(files, entries, {
      overwrite: Boolean(o.overwrite),
      currentContext: clusters.includes(central.name) ? kubeContextName(central) : undefined,
    })
    const {changes, conflicts} = plans[0]!
    if (conflicts.length > 0 && !o.overwrite) throw conflictError({file: files.join(path.delimiter), conflicts})
    return {
      file,
      dryRun: true,
      clusters: wanted.map((c, i) => ({cluster: c.name, source: admins[i]!.source, changes: changes.filter((x) => x.cluster === c.name)})),
      changed: plans.some((p) => p.changed),
      diff: plans.map((p) => maskedDiff(p)).join(''),
    }
  } finally {
    process.removeListener('SIGINT', onSignal)
    await resources.closeAll()
  }
}
