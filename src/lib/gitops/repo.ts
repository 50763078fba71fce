/**
 * renderRepo: the one entry point `obsctl render`, the render phase and the day-2 commands
 * (upgrade chart, config set, cluster add/remove) use: render → compare → write → commit → push.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import type {Platform} from '../config/schema.js'
import {checkpoint} from '../engine/interrupt.js'
import {ObsctlError} from '../errors.js'
import {
  commitManaged,
  dirtyPaths,
  ensureRepo,
  git,
  isRepo,
  push as gitPush,
  remoteHead,
  remoteLocation,
  unifiedDiff,
  type GitChanges,
  type PushResult,
} from './git.js'
import type {Trailers} from './trailers.js'
import {
  applyRender,
  MANIFEST_FILE,
  planRender,
  readManifest,
  renderDigests,
  renderFiles,
  sameManifest,
  type Conflict,
  type RenderManifest,
  type RenderPlan,
} from './render.js'

export interface RenderOptions {
  /** target directory (absolute); the inventory's git dir by default (resolved by the caller) */
  dir: string
  /** the inventory's folder: a relative local git.remote is taken from it (remoteLocation), for origin too */
  inventoryDir: string
  /** overwrite/remove hand-edited files */
  force?: boolean
  /** commit what changed (initialising the working copy if needed) */
  commit?: boolean
  /** push to git.remote/git.branch (implies commit) */
  push?: boolean
  /** compare only; write nothing */
  dryRun?: boolean
  /** trailers of the commit (gitops/trailers.ts: the command and the inventory it was rendered from) */
  trailers?: Trailers
  /**
   * Ctrl-C / SIGTERM (../engine/interrupt.ts): the render stops at its next safe point — before the files are
   * written, after them (before the commit), after the commit (before the push) — with exit 130. Files are
   * written whole (each renamed into place) and a commit is made or not, so the working copy stays intact.
   */
  signal?: AbortSignal
}

export interface RenderResult {
  dir: string
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: number
  /** true when nothing had to be written */
  noChanges: boolean
  dryRun: boolean
  /** what the commit holds: Git's view (it includes files an earlier, interrupted run wrote but never committed) */
  commit: {sha: string; message: string; files: GitChanges} | null
  push: PushResult | null
}

const CLUSTER_PATH = /^(?:argocd\/applications\/([^/]+)\/|deploy\/overlays\/(.+)-(?:central|edge)\/)/

function clusterOf(p: string): string | undefined {
  const m = CLUSTER_PATH.exec(p)
  return m ? (m[1] ?? m[2]) : undefined
}

/**
 * A commit subject naming what changed: whole clusters added/removed are named once
 * ("add cluster-05 (12 files)"), other files by path; the body lists every file.
 */
export function commitMessage(r: Pick<RenderResult, 'added' | 'changed' | 'removed'>, prev: {clusters: Set<string>; next: Set<string>}): string {
  const parts: string[] = []
  const used = new Set<string>()
  const group = (list: string[]) => {
    const m = new Map<string, string[]>()
    for (const p of list) {
      const c = clusterOf(p)
      if (c) m.set(c, [...(m.get(c) ?? []), p])
    }
    return m
  }
  for (const [c, files] of group(r.added)) {
    if (!prev.clusters.has(c) && prev.next.has(c)) {
      parts.push(`add ${c} (${files.length} files)`)
      files.forEach((f) => used.add(f))
    }
  }
  for (const [c, files] of group(r.removed)) {
    if (prev.clusters.has(c) && !prev.next.has(c)) {
      parts.push(`remove ${c} (${files.length} files)`)
      files.forEach((f) => used.add(f))
    }
  }
  const rest = [
    ...r.changed.filter((f) => !used.has(f)).map((f) => `update ${f}`),
    ...r.added.filter((f) => !used.has(f)).map((f) => `add ${f}`),
    ...r.removed.filter((f) => !used.has(f)).map((f) => `remove ${f}`),
  ]
  const shown = rest.slice(0, 4)
  if (rest.length > shown.length) shown.push(`and ${rest.length - shown.length} more`)
  const subject = `obsctl render: ${[...parts, ...shown].join(', ') || 'update the render manifest'}`
  const body = [...r.added.map((f) => `A ${f}`), ...r.changed.map((f) => `M ${f}`), ...r.removed.map((f) => `D ${f}`)]
  return body.length > 0 ? `${subject}\n\n${body.join('\n')}\n` : subject
}

function clustersIn(paths: Iterable<string>): Set<string> {
  const s = new Set<string>()
  for (const p of paths) {
    const c = clusterOf(p)
    if (c) s.add(c)
  }
  return s
}

async function conflictError(plan: RenderPlan, rendered: Map<string, string>): Promise<ObsctlError> {
  const conflicts: Conflict[] = []
  for (const c of plan.conflicts) {
    conflicts.push({...c, diff: await unifiedDiff(plan.dir, c.path, c.reason === 'edited-removed' ? undefined : rendered.get(c.path))})
  }
  const why: Record<Conflict['reason'], string> = {
    edited: 'edited by hand since obsctl rendered it',
    unmanaged: 'exists but was not rendered by obsctl',
    'edited-removed': 'is no longer rendered but was edited by hand',
  }
  const lines = conflicts.map((c) => `  ${c.path}: ${why[c.reason]}`)
  const diffs = conflicts
    .map((c) => c.diff ?? '')
    .filter(Boolean)
    .join('\n')
  return new ObsctlError(
    `render would overwrite ${conflicts.length} file(s) changed outside obsctl in ${plan.dir}:\n${lines.join('\n')}${diffs ? `\n\n${diffs}` : ''}`,
    {
      code: 'RENDER_CONFLICT',
      hints: ['keep your change: put it into the inventory (or the templates) and render again', 'discard your change: obsctl render --force'],
      details: {dir: plan.dir, conflicts},
    },
  )
}

/** The render manifest as committed at HEAD (empty without a HEAD or a manifest there). */
async function headManifest(dir: string): Promise<RenderManifest> {
  const r = await git(dir, ['show', `HEAD:${MANIFEST_FILE}`])
  if (r.exitCode !== 0) return {version: 1, files: {}}
  try {
    const m = JSON.parse(r.stdout) as RenderManifest
    return m && typeof m.files === 'object' && m.files !== null ? m : {version: 1, files: {}}
  } catch {
    return {version: 1, files: {}}
  }
}

/** Every path that is obsctl's in the working copy: rendered now, or committed as rendered at HEAD (removed since). */
async function managedPaths(dir: string, head?: RenderManifest): Promise<Set<string>> {
  const h = head ?? (await headManifest(dir))
  return new Set([MANIFEST_FILE, ...Object.keys(readManifest(dir).files), ...Object.keys(h.files)])
}

/** How many of obsctl's files in the working copy Git HEAD does not hold as they are (0 when it is no repository). */
export async function uncommittedCount(dir: string): Promise<number> {
  if (!(await isRepo(dir))) return existsSync(path.join(dir, MANIFEST_FILE)) ? Object.keys(readManifest(dir).files).length + 1 : 0
  return (await dirtyPaths(dir, await managedPaths(dir))).length
}

/**
 * Commit what of the rendered tree differs from Git HEAD (this render's writes and anything an
 * interrupted run left uncommitted). Without `message`, the message names what is committed.
 */
export async function commitRender(
  p: Platform,
  dir: string,
  message?: string,
  trailers?: Trailers,
): Promise<{sha: string; message: string; files: GitChanges} | null> {
  const head = await headManifest(dir)
  const managed = await managedPaths(dir, head)
  const next = new Set(p.clusters.map((c) => c.name))
  const c = await commitManaged(dir, managed, message ?? ((ch) => commitMessage(ch, {clusters: clustersIn(Object.keys(head.files)), next})), trailers)
  return c ? {sha: c.sha, message: c.message.split('\n')[0]!, files: c.changes} : null
}

/**
 * Is the rendered repository where Git and the remote should have it? The working copy equals the
 * render (no interrupted apply), Git HEAD holds every rendered file, and (push) origin's branch head
 * is HEAD or has the same rendered content. Returns a one-line summary, or false. Changes nothing
 * in the working copy: `git status`, `git ls-remote`, and `git fetch` when the remote moved on.
 */
export async function repoInSync(p: Platform, dir: string, inventoryDir: string, o: {commit?: boolean; push?: boolean}): Promise<string | false> {
  const plan = planRender(dir, renderDigests(p))
  if (plan.conflicts.length > 0 || plan.added.length + plan.changed.length + plan.removed.length > 0 || !sameManifest(plan)) return false
  if (!o.commit && !o.push) return `${dir} matches the render`
  if (!(await isRepo(dir))) return false
  const origin = await git(dir, ['remote', 'get-url', 'origin'])
  // an origin that is not git.remote as resolved (another remote, or a relative path an earlier obsctl wrote): the render sets it
  if (origin.exitCode !== 0 || origin.stdout.trim() !== remoteLocation(p.git.remote, inventoryDir)) return false
  const managed = await managedPaths(dir)
  if ((await dirtyPaths(dir, managed)).length > 0) return false
  const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD'])
  if (head.exitCode !== 0) return false
  const sha = head.stdout.trim()
  if (!o.push) return `committed at ${sha.slice(0, 12)} (not pushed)`
  const remote = await remoteHead(dir, p.git.branch)
  if (!remote) return false
  if (remote !== sha) {
    // the remote moved on (someone else's commit on top): fine when its rendered files are ours
    const known = async () => (await git(dir, ['cat-file', '-e', `${remote}^{commit}`])).exitCode === 0
    if (!(await known())) await git(dir, ['fetch', '-q', 'origin', `refs/heads/${p.git.branch}`])
    if (!(await known())) return false
    const diff = await git(dir, ['diff', '--name-only', '-z', remote, sha])
    if (diff.exitCode !== 0 || diff.stdout.split('\0').some((f) => managed.has(f))) return false
  }
  return `${p.git.branch} on ${p.git.remote} at ${remote.slice(0, 12)} holds the rendered tree`
}

/** Render the inventory into opts.dir; see RenderOptions. Throws RENDER_CONFLICT, PUSH_REJECTED, … */
export async function renderRepo(p: Platform, opts: RenderOptions): Promise<RenderResult> {
  const files = renderFiles(p)
  const plan = planRender(opts.dir, files, {force: opts.force})
  if (plan.conflicts.length > 0) throw await conflictError(plan, new Map(files.map((f) => [f.path, f.content])))
  const result: RenderResult = {
    dir: opts.dir,
    added: plan.added,
    changed: plan.changed,
    removed: plan.removed,
    unchanged: plan.unchanged,
    noChanges: plan.added.length + plan.changed.length + plan.removed.length === 0,
    dryRun: Boolean(opts.dryRun),
    commit: null,
    push: null,
  }
  if (opts.dryRun) return result
  const wantGit = opts.commit || opts.push
  const rerun = ["rerun the same obsctl render to finish: the files it wrote are recognised as obsctl's, and a commit not pushed yet is pushed"]
  const stop = (where: string, hints = rerun) => checkpoint(opts.signal, where, hints)
  // a step that failed because of the signal (Ctrl-C reaches git too) is reported as the interruption it is
  const step = async <T>(where: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      await stop(where)
      throw error
    }
  }
  if (wantGit) await step('before writing the files; nothing was rendered', () => ensureRepo(opts.dir, p.git.remote, p.git.branch, opts.inventoryDir))
  await stop('before writing the files; nothing was rendered')
  applyRender(plan)
  if (wantGit) {
    const written = `after writing the files, before the commit; ${opts.dir} holds the whole render, not committed`
    await stop(written)
    result.commit = await step(written, () => commitRender(p, opts.dir, undefined, opts.trailers))
  }
  if (opts.push) {
    const committed = `after the commit, before the push; nothing was pushed`
    await stop(committed)
    result.push = await step(committed, () => gitPush(opts.dir, p.git.branch))
  }
  await stop('as the render finished; every step was done', [])
  return result
}
