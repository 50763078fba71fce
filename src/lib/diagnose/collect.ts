/**
 * `obsctl diagnose [CLUSTER]`: one tar.gz an operator attaches to a ticket. It holds validate's and
 * status' JSON, obsctl's journal and the last run's task logs, and per cluster its nodes, recent
 * events, the pods that are not Ready with the last lines of their containers' logs, the status of the
 * platform's custom resources (Applications, Prometheus, ThanosRuler, OpenSearchCluster, FluentBit) and,
 * on central, the Argo CD Applications' sync/health and conditions.
 *
 * Secrets are never collected (no Secret object is written, only their values are read, into memory, to
 * scrub them); every entry passes through the Scrubber (./scrub.ts) before it is archived. Whatever
 * cannot be collected (a cluster that does not answer, a kind that is not installed, a log the API
 * server refuses) is recorded in manifest.json and in the entry itself: never fatal.
 *
 * Per source: one cluster's objects in ./cluster.ts, the secret values to scrub in ./secrets.ts, obsctl's
 * own files and the archive here.
 */
import {closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync} from 'node:fs'
import path from 'node:path'
import {mapLimited} from '../async.js'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, findCluster, kubeContextName, obsctlDir} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {inputError} from '../errors.js'
import {shWord} from '../shell-quote.js'
import {LIST_MAX, list} from '../words.js'
import type {Kube} from '../platform/kube.js'
import {hold, release, writeTarGz, type ArchiveEntry, type HeldEntry} from './archive.js'
import {collectCluster, json, message, type DiagnoseProblem} from './cluster.js'
import {Scrubber} from './scrub.js'
import {clusterSecretValues, kubeconfigSecrets, secretEnvNames} from './secrets.js'

export type {DiagnoseProblem} from './cluster.js'

export interface DiagnoseOptions {
  /** one cluster (else every cluster of the inventory) */
  cluster?: string
  /** events and log lines of this window (default 1h) */
  since?: string
  /** the archive (default ./obsctl-diagnose-<UTC timestamp>.tar.gz) */
  out?: string
  kubeconfig?: string
  endpoints?: Record<string, string>
  viaApiServer?: boolean
  caFile?: string
  requestTimeoutMs?: number
  /** log lines per container (default 100) */
  tailLines?: number
  /** pods whose logs are fetched, per cluster (default 20) */
  maxPods?: number
  onNotice?: (line: string) => void
  now?: () => Date
}
export interface DiagnoseResult {
  file: string
  bytes: number
  clusters: {name: string; reachable: boolean; notReadyPods: number; events: number}[]
  entries: string[]
  problems: DiagnoseProblem[]
  /** how many secret values were scrubbed for (their count only) */
  scrubbedValues: number
}
/** The journal and the newest run's task logs. */
function obsctlFiles(inv: LoadedInventory, problems: DiagnoseProblem[]): ArchiveEntry[] {
  const state = obsctlDir(inv.dir)
  const out: ArchiveEntry[] = []
  const journal = path.join(state, 'state.json')
  if (existsSync(journal)) out.push({name: 'obsctl/state.json', content: readFileSync(journal, 'utf8')})
  else problems.push({item: 'obsctl/state.json', message: `no journal at ${journal} (obsctl has not run here)`})
  const logs = path.join(state, 'logs')
  if (existsSync(logs)) {
    // run ids are timestamps: the newest sorts last
    const runs = readdirSync(logs)
      .filter((d) => statSync(path.join(logs, d)).isDirectory())
      .sort()
    const last = runs.at(-1)
    if (last) {
      const walk = (d: string): void => {
        for (const f of readdirSync(d)) {
          const full = path.join(d, f)
          if (statSync(full).isDirectory()) walk(full)
          else out.push({name: `obsctl/logs/${path.relative(logs, full).split(path.sep).join('/')}`, content: readFileSync(full, 'utf8')})
        }
      }
      walk(path.join(logs, last))
    }
  }
  return out
}

export async function diagnose(inv: LoadedInventory, o: DiagnoseOptions = {}): Promise<DiagnoseResult> {
  const p = inv.platform
  const since = o.since ?? '1h'
  if (!isDuration(since)) throw inputError(`--since ${since}: not a duration`, ['e.g. --since 30m, --since 2h, --since 1d'], 'BAD_FLAGS')
  const sinceS = durationSeconds(since)
  let clusters = p.clusters
  if (o.cluster) {
    const c = findCluster(p, o.cluster)
    if (!c) throw inputError(`no cluster ${o.cluster} in ${inv.file}`, [`clusters: ${p.clusters.map((x) => x.name).join(', ')}`], 'UNKNOWN_CLUSTER')
    clusters = [c]
  }
  const now = (o.now ?? (() => new Date()))()
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const file = path.resolve(o.out ?? `obsctl-diagnose-${stamp}.tar.gz`)
  if (o.out !== undefined) refuseOut(file)
  const root = `obsctl-diagnose-${stamp}`
  const problems: DiagnoseProblem[] = []
  // every entry waits deflated until the archive is written (./archive.ts hold): none can be scrubbed before every
  // cluster's secret values are known, and over a failing fleet the logs alone are up to 20 pods' a cluster
  const entries: HeldEntry[] = []
  const add = (e: ArchiveEntry) => entries.push(hold(e))
  const note = o.onNotice ?? (() => undefined)

  // the values to scrub: env, kubeconfig, and (below) each reachable cluster's Secrets
  const scrub = new Scrubber()
  for (const name of await secretEnvNames(inv)) scrub.add(process.env[name])
  const {Kube, kubeconfigFiles} = await import('../platform/kube.js')
  // every cluster is read through the kubeconfig: a --kubeconfig or $KUBECONFIG that cannot be read is bad input, not an
  // archive of unreachable clusters ($KUBECONFIG's files read now too: a diagnose's start-up is not counted)
  await Kube.loadNamedConfig(o.kubeconfig, {read: true})
  // every file of a $KUBECONFIG chain: a credential in any of them may show up in what is collected
  for (const file of kubeconfigFiles(o.kubeconfig)) kubeconfigSecrets(file, scrub)

  const platform = {
    kubeconfig: o.kubeconfig,
    endpoints: o.endpoints,
    viaApiServer: o.viaApiServer,
    caFile: o.caFile,
    requestTimeoutMs: o.requestTimeoutMs,
    prompt: false,
  }
  note('running validate')
  try {
    const {validate} = await import('../validate/index.js')
    add({name: 'validate.json', content: json(await validate(inv, platform))})
  } catch (e) {
    problems.push({item: 'validate.json', message: message(e)})
    add({name: 'validate.json', content: json({error: message(e)})})
  }
  note('collecting status')
  try {
    const {openStatus} = await import('../status/index.js')
    const session = await openStatus(inv, platform)
    try {
      add({name: 'status.json', content: json(await session.collect())})
    } finally {
      session.close()
    }
  } catch (e) {
    problems.push({item: 'status.json', message: message(e)})
    add({name: 'status.json', content: json({error: message(e)})})
  }
  for (const e of obsctlFiles(inv, problems)) add(e)

  // each cluster's collection (a few dozen requests one after another: lists, pod logs, custom resources), a bounded
  // number of clusters at once as status and validate probe them: one at a time, a fleet of 1,000 took 1,000 times a
  // cluster's round trips, and every cluster that does not answer its timeout after the other. What each finds goes
  // into the archive in the inventory's order.
  const centralName = centralCluster(p).name
  const {CLUSTERS_AT_ONCE} = await import('../platform/access.js')
  // one cluster's collection: what it found, or its error as the entry
  async function collectOne(c: Cluster) {
    const mine: DiagnoseProblem[] = []
    let kube: Kube
    try {
      kube = await Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(c), requestTimeoutMs: o.requestTimeoutMs ?? 10_000})
    } catch (e) {
      const entry = hold({name: `clusters/${c.name}/error.json`, content: json({error: message(e)})})
      return {problems: [{item: c.name, message: message(e)}], entries: [entry], summary: {name: c.name, reachable: false, notReadyPods: 0, events: 0}}
    }
    const got = await collectCluster(kube, c, c.name === centralName, {tailLines: o.tailLines ?? 100, maxPods: o.maxPods ?? 20, sinceS, now}, mine)
    if (got.reachable) {
      try {
        await clusterSecretValues(kube, scrub)
      } catch (e) {
        // without them only the env, kubeconfig and pattern scrubbing apply: say so in the archive
        mine.push({item: `${c.name}/secret values for scrubbing`, message: message(e)})
      }
    }
    return {
      problems: mine,
      entries: got.entries.map(hold),
      summary: {name: c.name, reachable: got.reachable, notReadyPods: got.notReadyPods, events: got.events},
    }
  }
  // a few clusters (as many as a line names) are named as each starts; a fleet is counted, a line each tenth (1,000
  // lines said nothing more); the archive and --json have every cluster
  const perCluster = clusters.length <= LIST_MAX
  if (!perCluster) note(`collecting ${clusters.length} clusters, ${CLUSTERS_AT_ONCE} at a time`)
  let done = 0
  let tenths = 0
  const collected = await mapLimited(clusters, CLUSTERS_AT_ONCE, async (c) => {
    if (perCluster) note(`collecting ${c.name}`)
    try {
      return await collectOne(c)
    } finally {
      done++
      const reached = Math.floor((done * 10) / clusters.length)
      if (!perCluster && reached > tenths) {
        tenths = reached
        note(`collected ${done}/${clusters.length} clusters`)
      }
    }
  })
  for (const r of collected) {
    problems.push(...r.problems)
    entries.push(...r.entries)
  }
  const summary: DiagnoseResult['clusters'] = collected.map((r) => r.summary)

  const manifest = {
    createdAt: now.toISOString(),
    inventory: inv.file,
    clusters: summary,
    since,
    problems,
    scrubbing:
      'every entry had the known secret values (inventory env vars, obsctl-managed and Argo CD Secrets, kubeconfig credentials) and token patterns replaced by [REDACTED]; no Secret object is included',
  }
  const names = ['manifest.json', ...entries.map((e) => e.name)].map((n) => `${root}/${n}`)
  // each entry scrubbed as the archive takes it (one at a time in memory), in the order above
  function* scrubbed(): Generator<ArchiveEntry> {
    yield {name: names[0]!, content: scrub.scrub(json(manifest))}
    for (const [i, h] of entries.entries()) yield {name: names[i + 1]!, content: scrub.scrub(release(h).content)}
  }
  const bytes = await writeTarGz(file, scrubbed(), now)
  return {file, bytes, clusters: summary, entries: names, problems, scrubbedValues: scrub.size}
}

export function formatDiagnose(r: DiagnoseResult): string {
  const lines = [`wrote ${r.file} (${Math.ceil(r.bytes / 1024)} KiB, ${r.entries.length} files)`]
  // a line a cluster for a few (as many as a line names); a fleet's counts, and the first few names, else
  if (r.clusters.length <= LIST_MAX) {
    for (const c of r.clusters)
      lines.push(`  ${c.name}: ${c.reachable ? `${c.notReadyPods} pod(s) not Ready, ${c.events} event(s)` : 'NOT reachable (recorded in the archive)'}`)
  } else {
    const reached = r.clusters.filter((c) => c.reachable)
    const unreached = r.clusters.filter((c) => !c.reachable).map((c) => c.name)
    lines.push(
      `  ${r.clusters.length} clusters: ${reached.length} reachable${unreached.length ? `, ${unreached.length} NOT reachable (recorded in the archive): ${list(unreached)}` : ''}`,
    )
    // the clusters with the most pods not Ready first (the inventory's order among equals)
    const troubled = reached.filter((c) => c.notReadyPods > 0).sort((a, b) => b.notReadyPods - a.notReadyPods)
    const pods = troubled.reduce((n, c) => n + c.notReadyPods, 0)
    lines.push(
      troubled.length
        ? `  pods not Ready: ${pods} on ${troubled.length} cluster${troubled.length === 1 ? '' : 's'}, most on ${list(troubled.map((c) => `${c.name} (${c.notReadyPods})`))}`
        : '  pods not Ready: none',
      `  events: ${reached.reduce((n, c) => n + c.events, 0)} (per cluster in manifest.json and diagnose --json)`,
    )
  }
  if (r.problems.length)
    lines.push(
      `${r.problems.length} item(s) could not be collected (see manifest.json):`,
      ...r.problems.slice(0, 10).map((p) => `  ${p.item}: ${p.message.split('\n')[0]}`),
    )
  lines.push('secrets: none collected; known secret values and token patterns are scrubbed')
  return lines.join('\n')
}

/**
 * --out is written over only when it is a folder's free name or an earlier archive (a gzip file): `--out obsctl.yaml`
 * replaced the inventory with the archive. Checked before anything is collected.
 */
function refuseOut(file: string): void {
  let st: import('node:fs').Stats
  try {
    st = statSync(file)
  } catch {
    return
  }
  const hint = '--out PATH: a new file (default ./obsctl-diagnose-<UTC time>.tar.gz)'
  if (st.isDirectory())
    throw inputError(`--out ${file}: it is a directory, not a file`, [hint, `e.g. --out ${shWord(path.join(file, 'diagnose.tar.gz'))}`], 'BAD_OUT')
  const head = Buffer.alloc(2)
  let n = 0
  try {
    const fd = openSync(file, 'r')
    try {
      n = readSync(fd, head, 0, 2, 0)
    } finally {
      closeSync(fd)
    }
  } catch {
    // not readable: the write reports it
  }
  if (!st.isFile() || n < 2 || head[0] !== 0x1f || head[1] !== 0x8b)
    throw inputError(`--out ${file} exists and is not an earlier archive: obsctl does not write over it`, [hint], 'BAD_OUT')
}
