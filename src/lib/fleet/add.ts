/**
 * `cluster add NAME --host ADDR …` (issue 9 item 3): one resumable task list — the inventory edit
 * (comments and order kept), then the bootstrap phases preflight → nodes → kubeconfig → render
 * (commit + push) → register → secrets → sync → validate, restricted to the new cluster. Rerunning
 * the same command resumes: the edit is skipped when the cluster is already in the inventory with the
 * same settings, and the engine's journal skips the tasks already done.
 */
import type {LoadedInventory} from '../config/load.js'
import {addClusterToInventory, type NewCluster} from '../config/edit.js'
import type {Cluster} from '../config/schema.js'
import {loadInventory} from '../config/load.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {Phase} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {confirmOrRefuse} from './change.js'

export const ADD_PHASES = ['preflight', 'nodes', 'kubeconfig', 'render', 'register', 'secrets', 'sync', 'validate'] as const
export type AddPhase = (typeof ADD_PHASES)[number]

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
  /** extra engine options (tests: intervalMs, knownHosts, ssh secrets…) */
  extraOptions?: Record<string, unknown>
}

export interface AddResult {
  cluster: string
  inventory: {file: string; changed: boolean; added?: string}
  phases: string[]
  /** phases skipped because their implementation has not landed */
  skipped: string[]
  dryRun: boolean
  cancelled?: boolean
  run?: RunResult
  ok: boolean
}

/** Does the inventory's cluster match what the command asks for? (a rerun of the same command) */
export function sameSettings(c: Cluster, n: NewCluster): string[] {
  const diffs: string[] = []
  if (c.role !== n.role) diffs.push(`role ${c.role} ≠ ${n.role}`)
  if (n.role === 'edge' && (c.metrics ?? 'remote-scrape') !== (n.metrics ?? 'remote-scrape')) diffs.push(`metrics ${c.metrics ?? 'remote-scrape'} ≠ ${n.metrics ?? 'remote-scrape'}`)
  const hosts = c.nodes.map((x) => x.host)
  if (hosts.join(',') !== n.hosts.join(',')) diffs.push(`hosts ${hosts.join(',')} ≠ ${n.hosts.join(',')}`)
  if (n.apiServer && c.apiServer !== n.apiServer) diffs.push(`apiServer ${c.apiServer} ≠ ${n.apiServer}`)
  c.nodes.forEach((x) => {
    if (n.user && x.user !== n.user) diffs.push(`${x.host} user ${x.user ?? '(default)'} ≠ ${n.user}`)
    if (n.port && x.port !== n.port) diffs.push(`${x.host} port ${x.port ?? '(default)'} ≠ ${n.port}`)
    if (String(x.cpu) !== String(n.cpu)) diffs.push(`${x.host} cpu ${x.cpu} ≠ ${n.cpu}`)
    if (String(x.memory) !== String(n.memory)) diffs.push(`${x.host} memory ${x.memory} ≠ ${n.memory}`)
  })
  return diffs
}

function selectPhases(o: AddOptions): string[] {
  let names: string[] = [...ADD_PHASES]
  if (o.from) names = names.slice(names.indexOf(o.from))
  if (o.phases?.length) names = names.filter((n) => o.phases!.includes(n as AddPhase))
  return names
}

export async function addCluster(inv: LoadedInventory, o: AddOptions): Promise<AddResult> {
  const n = o.cluster
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n.name)) throw inputError(`cluster name ${n.name} is not a DNS label`, ['lowercase letters, digits and -, e.g. cluster-05'], 'BAD_NAME')
  if (n.hosts.length === 0) throw inputError('cluster add needs at least one --host', ['e.g. obsctl cluster add cluster-05 --host 192.168.101.199'], 'BAD_FLAGS')
  const existing = inv.platform.clusters.find((c) => c.name === n.name)
  const result: AddResult = {cluster: n.name, inventory: {file: inv.file, changed: false}, phases: selectPhases(o), skipped: [], dryRun: Boolean(o.dryRun), ok: false}

  // 1. the inventory edit (skipped on a rerun with the same settings)
  let next: LoadedInventory = inv
  let after: string | undefined
  if (existing) {
    const diffs = sameSettings(existing, n)
    if (diffs.length > 0) {
      throw inputError(`cluster ${n.name} is already in ${inv.file} with other settings: ${diffs.join('; ')}`, ['rerun with the same flags to resume adding it', `or change it with obsctl config set clusters.${n.name}.…`, `or obsctl cluster remove ${n.name} first`], 'EXISTS')
    }
    o.onNotice?.(`${n.name} is already in ${inv.file} with these settings: resuming`)
  } else {
    const dry = await addClusterToInventory(inv, n, {dryRun: true, allowOvercommit: o.allowOvercommit})
    next = dry.inventory
    after = dry.after
    result.inventory.changed = true
    result.inventory.added = insertedLines(dry.before, dry.after)
  }

  const {loadPhases, phaseImplemented} = await import('../phases.js')
  const all = await loadPhases({only: result.phases})
  const phases = all.filter((p) => phaseImplemented(p))
  // Argo CD must see the pushed commit (root-app then creates the new cluster's Applications) before the sync phase judges them
  const syncAt = phases.findIndex((p) => p.name === 'sync')
  if (syncAt >= 0) phases.splice(syncAt, 0, refreshPhase)
  result.skipped = all.filter((p) => !phaseImplemented(p)).map((p) => p.name)
  result.phases = phases.map((p) => p.name)
  for (const s of result.skipped) o.onNotice?.(`phase ${s} is not implemented yet: skipped (run it once it lands: obsctl bootstrap --phase ${s})`)

  const options = {
    ...o.extraOptions,
    kubeconfig: o.kubeconfig,
    timeoutSeconds: o.timeoutSeconds,
    clusters: [n.name],
    push: o.push !== false,
  }
  const {runPhases} = await import('../engine/index.js')
  const command = `cluster add ${n.name}`

  if (o.dryRun) {
    // the new inventory in memory only: a dry run writes nothing and touches no remote system
    result.run = await runPhases(phases, {inv: next, dryRun: true, options, renderer: 'silent', onEvent: o.onEvent, command})
    result.ok = result.run.ok
    return result
  }

  if (result.inventory.changed) {
    const question = `add ${n.name} to ${inv.file}:\n${result.inventory.added}\nthen run ${result.phases.join(' → ')} for ${n.name}. Go ahead?`
    if (!(await confirmOrRefuse('cluster add', question, o, 'or --dry-run to see what would be done'))) {
      result.cancelled = true
      return result
    }
    await addClusterToInventory(inv, n, {allowOvercommit: o.allowOvercommit})
    next = loadInventory(inv.file)
    if (after !== undefined && next.text !== after) throw new ObsctlError(`${inv.file} changed while adding ${n.name}`, {code: 'CONCURRENT_EDIT'})
    o.onNotice?.(`added ${n.name} to ${inv.file}`)
  }

  const run = await runPhases(phases, {inv: next, restart: o.restart, options, renderer: o.renderer, onEvent: o.onEvent, command})
  result.run = run
  result.ok = run.ok
  return result
}

/** Refresh the Applications that track the repository and wait until Argo CD has seen the working copy's HEAD. */
export const refreshPhase: Phase = {
  name: 'argocd-refresh',
  title: 'Argo CD sees the pushed commit',
  targets: () => [{id: 'applications', title: 'Applications tracking the GitOps repository'}],
  fingerprint: (_t, ctx) => ({run: ctx.runId}),
  describe: () => 'annotate the Applications of the GitOps repository with argocd.argoproj.io/refresh and wait until they report the pushed commit',
  async run(_t, ctx, io) {
    const {git} = await import('../gitops/index.js')
    const {gitDir} = await import('../config/model.js')
    const {waitForRevision} = await import('./change.js')
    const head = await git(gitDir(ctx.platform, ctx.inv.dir), ['rev-parse', '--verify', '-q', 'HEAD'])
    if (head.exitCode !== 0) return 'no commit in the working copy yet'
    const sha = head.stdout.trim()
    const t = ctx.options.timeoutSeconds
    await waitForRevision(ctx.inv, sha, {
      kubeconfig: typeof ctx.options.kubeconfig === 'string' ? ctx.options.kubeconfig : undefined,
      timeoutMs: (typeof t === 'number' && t > 0 ? t : 900) * 1000,
      intervalMs: typeof ctx.options.intervalMs === 'number' ? ctx.options.intervalMs : undefined,
      onNotice: io.log,
    })
    return `Argo CD is at ${sha.slice(0, 12)}`
  },
}

/** The lines `after` has that `before` does not (a pure insertion: prefix and suffix never overlap). */
export function insertedLines(before: string, after: string): string {
  const a = before.split('\n')
  const b = after.split('\n')
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let q = 0
  while (q < a.length - p && q < b.length - p && a[a.length - 1 - q] === b[b.length - 1 - q]) q++
  return b.slice(p, b.length - q).join('\n').trimEnd()
}
