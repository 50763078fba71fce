/**
 * `obsctl diff`: drift between three views of the platform, per cluster and Application —
 *   1. the render: what the inventory renders now (renderFiles, in memory; nothing is written),
 *   2. Git: the files on git.branch of git.remote (fetched into a temporary bare repository, so the
 *      working copy is left alone), with the render manifest (.obsctl-render.json) committed beside
 *      them telling obsctl's own bytes from hand edits,
 *   3. live: the Applications Argo CD holds on the central cluster (status.sync / status.health).
 * A file of Git that differs from the render is a hand edit when Git's bytes are not the ones obsctl
 * wrote (its manifest says), else a render not pushed yet (the inventory changed since). Each differing
 * file carries a unified diff (lib/diff.ts) from Git to the render. Git's side is read by ./remote-tree.ts.
 */
import {ICONS} from '../checks/render.js'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, kubeContextName, NAMESPACES} from '../config/model.js'
import {redactUrl} from '../config/validators.js'
import {unifiedDiff} from '../diff.js'
import {inputError} from '../errors.js'
import {APPLICATION, Kube, type KubeObject} from '../platform/index.js'
import {generatedApplications, renderFiles, type GeneratedApp} from './plan.js'
import {sha256} from '../hash.js'
import {MANIFEST_FILE, type RenderManifest} from './render.js'
import {fetchRemote, gitBlobId, type RemoteTree} from './remote-tree.js'

/** How a file of the repository drifted. */
export type FileDriftKind =
  /** Git's bytes are not what obsctl wrote (someone edited the file in Git) */
  | 'hand-edit'
  /** Git has obsctl's earlier render; the inventory now renders something else (render and push) */
  | 'not-pushed'
  /** the render has it, Git does not (never pushed, or deleted by hand: `deleted` says which) */
  | 'missing-in-git'
  /** Git has a file obsctl rendered earlier and no longer renders (render and push removes it) */
  | 'stale'
  /** Git has a file obsctl never rendered, where Argo CD reads (an Application's path) */
  | 'added-in-git'

export interface FileDrift {
  path: string
  kind: FileDriftKind
  /** missing-in-git: obsctl had pushed it (its manifest in Git lists it), so it was deleted by hand */
  deleted?: boolean
  /** unified diff from Git to the render ('' for a file only one side has in full: see the kind) */
  diff: string
}

export type LiveState = 'Synced' | 'OutOfSync' | 'Unknown' | 'missing' | 'unexpected'

export interface AppDrift {
  /** the Application's name (e.g. kube-prometheus-stack-cluster-02) */
  name: string
  cluster: string
  /** the repository path Argo CD syncs it from */
  path: string
  live: {state: LiveState; health?: string; revision?: string; message?: string}
  files: FileDrift[]
  drift: boolean
}

export interface ClusterDrift {
  name: string
  applications: AppDrift[]
  drift: boolean
}

export interface DriftResult {
  /** true when the render, Git and Argo CD agree everywhere */
  ok: boolean
  remote: string
  branch: string
  /** the commit of the branch on the remote ('' when the branch does not exist) */
  commit: string
  cluster?: string
  clusters: ClusterDrift[]
  /** files no Application owns (shared bases, Argo CD's own install): not shown with --cluster */
  platform: FileDrift[]
  summary: {applications: number; drifted: number; outOfSync: number; missing: number; handEdits: number; notPushed: number}
}

export interface DriftOptions {
  kubeconfig?: string
  cluster?: string
  requestTimeoutMs?: number
  /** lines of context in each file diff (default 3) */
  context?: number
}
/**
 * The Application a file belongs to: the one whose source path holds it most closely, when exactly one
 * Application reads that path. An ApplicationSet's own file and an overlay shared by several edges (one
 * per metrics mode) belong to no single Application: they are shown as shared files.
 */
function ownerOf(file: string, apps: GeneratedApp[]): GeneratedApp | undefined {
  let best: GeneratedApp[] = []
  for (const a of apps) {
    if (!a.path || !file.startsWith(`${a.path}/`)) continue
    if (!best.length || a.path.length > best[0]!.path.length) best = [a]
    else if (a.path.length === best[0]!.path.length) best.push(a)
  }
  return best.length === 1 ? best[0] : undefined
}
/** File drift between the render and Git (both complete: no --cluster filter here). */
async function fileDrift(rendered: Map<string, string>, remote: RemoteTree, apps: GeneratedApp[], context: number): Promise<FileDrift[]> {
  let manifest: RenderManifest = {version: 1, files: {}}
  if (remote.blobs.has(MANIFEST_FILE)) {
    try {
      manifest = JSON.parse(await remote.read(MANIFEST_FILE)) as RenderManifest
    } catch {
      // an unreadable manifest: every difference counts as a hand edit
    }
  }
  const ours = (p: string, content: string) => manifest.files?.[p] === sha256(content)
  const out: FileDrift[] = []
  const paths = [...new Set([...rendered.keys(), ...remote.blobs.keys()])].filter((p) => p !== MANIFEST_FILE).sort()
  for (const p of paths) {
    const want = rendered.get(p)
    const blob = remote.blobs.get(p)
    if (want !== undefined && blob === gitBlobId(want)) continue
    if (want !== undefined && blob === undefined) {
      out.push({
        path: p,
        kind: 'missing-in-git',
        ...(manifest.files?.[p] ? {deleted: true} : {}),
        diff: unifiedDiff(`git/${p}`, `render/${p}`, '', want, {context}),
      })
      continue
    }
    const have = await remote.read(p)
    if (want === undefined) {
      if (manifest.files?.[p])
        out.push({path: p, kind: ours(p, have) ? 'stale' : 'hand-edit', diff: unifiedDiff(`git/${p}`, `render/${p}`, have, '', {context})})
      // a file obsctl never rendered matters where Argo CD reads it: an Application's path
      else if (ownerOf(p, apps)) out.push({path: p, kind: 'added-in-git', diff: unifiedDiff(`git/${p}`, `render/${p}`, have, '', {context})})
      continue
    }
    out.push({path: p, kind: ours(p, have) ? 'not-pushed' : 'hand-edit', diff: unifiedDiff(`git/${p}`, `render/${p}`, have, want, {context})})
  }
  return out
}

function liveOf(app: KubeObject | undefined): AppDrift['live'] {
  if (!app) return {state: 'missing'}
  const st = (app.status ?? {}) as {
    sync?: {status?: string; revision?: string}
    health?: {status?: string; message?: string}
    conditions?: {type?: string; message?: string}[]
  }
  const sync = st.sync?.status
  const state: LiveState = sync === 'Synced' || sync === 'OutOfSync' ? sync : 'Unknown'
  const message = st.conditions?.find((c) => /Error|Warning/.test(c.type ?? ''))?.message ?? st.health?.message
  return {
    state,
    ...(st.health?.status ? {health: st.health.status} : {}),
    ...(st.sync?.revision ? {revision: st.sync.revision} : {}),
    ...(message ? {message} : {}),
  }
}

export async function computeDrift(inv: LoadedInventory, o: DriftOptions = {}): Promise<DriftResult> {
  const p = inv.platform
  if (o.cluster && !p.clusters.some((c) => c.name === o.cluster)) {
    throw inputError(`--cluster ${o.cluster}: no such cluster in ${inv.file}`, [`clusters: ${p.clusters.map((c) => c.name).join(', ')}`], 'UNKNOWN_CLUSTER')
  }
  const central = centralCluster(p).name
  const rendered = new Map(renderFiles(p).map((f) => [f.path, f.content]))
  const apps = generatedApplications(p)
  const context = o.context ?? 3

  // Git and Argo CD are read at the same time; either failing is a failure (a drift that could not be measured is not "no drift")
  const kubeP = Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(central), requestTimeoutMs: o.requestTimeoutMs})
  const liveP = kubeP.then((k) => k.list(APPLICATION.apiVersion, APPLICATION.kind, {namespace: NAMESPACES.argocd}))
  liveP.catch(() => undefined)
  // a kubeconfig that cannot be read, or lacks the central context, is bad input before the remote is contacted
  await kubeP
  const remote = await fetchRemote(p.git.remote, p.git.branch, inv.dir)
  let files: FileDrift[]
  try {
    files = await fileDrift(rendered, remote, apps, context)
  } finally {
    remote.close()
  }
  const live = new Map((await liveP).map((a) => [a.metadata.name, a]))

  const byApp = new Map<string, FileDrift[]>()
  const platform: FileDrift[] = []
  for (const f of files) {
    const owner = ownerOf(f.path, apps)
    if (owner) byApp.set(owner.name, [...(byApp.get(owner.name) ?? []), f])
    else platform.push(f)
  }

  const appDrift = (a: GeneratedApp): AppDrift => {
    const l = liveOf(live.get(a.name))
    const fs = byApp.get(a.name) ?? []
    return {name: a.name, cluster: a.cluster, path: a.path, live: l, files: fs, drift: fs.length > 0 || l.state !== 'Synced'}
  }
  const rendNames = new Set(apps.map((a) => a.name))
  // Applications obsctl's render put there once (its labels) and no longer renders
  const unexpected = [...live.values()].filter(
    (a) => !rendNames.has(a.metadata.name) && (a.metadata.labels?.['obsctl.dev/cluster'] || a.metadata.name === 'root-app'),
  )
  const clusters: ClusterDrift[] = p.clusters
    .filter((c) => !o.cluster || c.name === o.cluster)
    .map((c) => {
      const mine = apps.filter((a) => a.cluster === c.name).map(appDrift)
      for (const u of unexpected.filter((x) => (x.metadata.labels?.['obsctl.dev/cluster'] ?? central) === c.name)) {
        mine.push({
          name: u.metadata.name,
          cluster: c.name,
          path: (u.spec as {source?: {path?: string}} | undefined)?.source?.path ?? '',
          live: {...liveOf(u), state: 'unexpected'},
          files: [],
          drift: true,
        })
      }
      mine.sort((a, b) => a.name.localeCompare(b.name))
      return {name: c.name, applications: mine, drift: mine.some((a) => a.drift)}
    })
  const shownPlatform = o.cluster ? [] : platform
  const all = clusters.flatMap((c) => c.applications)
  const allFiles = [...all.flatMap((a) => a.files), ...shownPlatform]
  return {
    ok: !all.some((a) => a.drift) && shownPlatform.length === 0,
    remote: redactUrl(p.git.remote),
    branch: p.git.branch,
    commit: remote.commit,
    ...(o.cluster ? {cluster: o.cluster} : {}),
    clusters,
    platform: shownPlatform,
    summary: {
      applications: all.length,
      drifted: all.filter((a) => a.drift).length,
      outOfSync: all.filter((a) => a.live.state === 'OutOfSync').length,
      missing: all.filter((a) => a.live.state === 'missing').length,
      handEdits: allFiles.filter((f) => f.kind === 'hand-edit' || f.kind === 'added-in-git' || f.deleted).length,
      notPushed: allFiles.filter((f) => f.kind === 'not-pushed' || f.kind === 'stale' || (f.kind === 'missing-in-git' && !f.deleted)).length,
    },
  }
}

// ------------------------------------------------------------------ text output

const KIND_TEXT: Record<FileDriftKind, string> = {
  'hand-edit': 'edited in Git by hand',
  'not-pushed': 'Git has an older render (render and push)',
  'missing-in-git': 'not in Git',
  stale: 'in Git, no longer rendered (render and push)',
  'added-in-git': 'added in Git by hand',
}

function fileLine(f: FileDrift, showDiffs: boolean): string[] {
  const what = f.kind === 'missing-in-git' && f.deleted ? 'deleted from Git by hand' : KIND_TEXT[f.kind]
  const lines = [`    ${f.path}: ${what}`]
  if (showDiffs && f.diff)
    lines.push(
      ...f.diff
        .trimEnd()
        .split('\n')
        .map((l) => `      ${l}`),
    )
  return lines
}

export function formatDrift(r: DriftResult, o: {diffs?: boolean} = {}): string {
  const showDiffs = o.diffs ?? true
  const out: string[] = [`Render vs ${r.remote} (${r.branch}${r.commit ? ` at ${r.commit.slice(0, 12)}` : ', no such branch yet'}) vs Argo CD:`]
  for (const c of r.clusters) {
    out.push('', `${c.drift ? ICONS.fail : ICONS.pass} ${c.name}`)
    for (const a of c.applications) {
      const live =
        a.live.state === 'missing'
          ? 'Application missing in Argo CD'
          : a.live.state === 'unexpected'
            ? 'Application in Argo CD but no longer rendered'
            : `${a.live.state}${a.live.health ? `/${a.live.health}` : ''}`
      out.push(`  ${a.drift ? ICONS.fail : ICONS.pass} ${a.name}: ${live}${a.live.message && a.live.state !== 'Synced' ? ` (${a.live.message})` : ''}`)
      for (const f of a.files) out.push(...fileLine(f, showDiffs))
    }
  }
  if (r.platform.length) {
    out.push('', `${ICONS.fail} shared files (no single Application)`)
    for (const f of r.platform) out.push(...fileLine(f, showDiffs))
  }
  const s = r.summary
  out.push('')
  out.push(
    r.ok
      ? `No drift: ${s.applications} Applications match the render, Git and Argo CD.`
      : `Drift: ${s.drifted}/${s.applications} Applications (${s.outOfSync} OutOfSync, ${s.missing} missing), ${s.handEdits} hand edit(s) in Git, ${s.notPushed} file(s) not pushed.`,
  )
  if (s.notPushed) out.push('  → obsctl render --push brings Git to the render (refuses to overwrite hand edits without --force)')
  if (s.handEdits)
    out.push(
      '  → hand edits: pull them into the working copy (git -C <git.dir> pull), then carry what they do into the inventory (obsctl config set …) or overwrite them: obsctl render --force --push',
    )
  if (s.missing || s.outOfSync)
    out.push('  → obsctl argocd sync (or wait for Argo CD’s next poll); obsctl validate argocd shows why an Application is not Synced')
  return out.join('\n')
}
