/**
 * Writing the rendered tree into a directory safely:
 * - `.obsctl-render.json` (in the repo root, committed with it) records each file obsctl rendered
 *   and the sha256 of what it wrote, so any clone knows which files are obsctl's;
 * - a file whose bytes differ from the recorded hash was edited by hand: it is neither overwritten
 *   nor removed without `force` (the error shows the diff);
 * - files that are no longer rendered (a removed cluster) are removed; files obsctl never rendered
 *   are never touched.
 * Nothing is written when any conflict is found.
 *
 * A run killed half-way never makes obsctl's own files look foreign: the manifest is written first
 * with the new hashes and, under `previous`, the hashes it replaces; each file is written to a
 * temporary name and renamed (never a torn file); the final manifest (without `previous`) is
 * written last. A file whose bytes match the new render, the manifest or `previous` is obsctl's.
 */
import {existsSync, readFileSync, readdirSync, rmSync, rmdirSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {ObsctlError} from '../errors.js'
import {ensureDir, replaceFileSync, writeFileAtomicSync} from '../fs.js'
import {sha256} from '../hash.js'
import {joinPlain} from '../join-plain.js'
import {shWord} from '../shell-quote.js'
import {killPoint} from '../engine/kill-point.js'
import {renderDigests, renderFiles, type FileDigest, type RenderedFile} from './plan.js'

export const MANIFEST_FILE = '.obsctl-render.json'

export interface RenderManifest {
  version: 1
  /** path → sha256 of the bytes obsctl wrote */
  files: Record<string, string>
  /** only while a render is being applied: path → earlier hashes of obsctl's own bytes there */
  previous?: Record<string, string[]>
}

export type ConflictReason = 'edited' | 'unmanaged' | 'edited-removed'

export interface Conflict {
  path: string
  reason: ConflictReason
  /** unified diff: on-disk (a) vs rendered (b); for edited-removed: on-disk vs last rendered absent */
  diff?: string
}

/** What planRender compares: the rendered files (a plan applyRender can write), or only their digests. */
export interface RenderPlan<F extends RenderedFile | FileDigest = RenderedFile> {
  dir: string
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: number
  conflicts: Conflict[]
  /** files to write (added + changed): with their content when the plan was made from the files */
  writes: F[]
  manifest: RenderManifest
  /** the manifest found on disk */
  old: RenderManifest
}

/**
 * A manifest path as obsctl writes one: relative, '/'-separated, no empty, '.' or '..' part, no NUL or backslash. The
 * manifest comes with the repository (anyone who can push writes it), and render removes what it lists: a path that
 * leaves the folder would name a file outside it.
 */
const insidePath = (p: string) => p !== '' && !/[\0\\]/.test(p) && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..')

export function readManifest(dir: string): RenderManifest {
  const f = path.join(dir, MANIFEST_FILE)
  if (!existsSync(f)) return {version: 1, files: {}}
  let m: RenderManifest
  try {
    m = JSON.parse(readFileSync(f, 'utf8')) as RenderManifest
    if (m.version !== 1 || typeof m.files !== 'object' || m.files === null) throw new Error('unknown format')
    if (m.previous !== undefined && (typeof m.previous !== 'object' || m.previous === null)) throw new Error('unknown format')
  } catch (error) {
    throw new ObsctlError(`cannot read ${f}: ${(error as Error).message}`, {
      code: 'RENDER_MANIFEST',
      hints: [`restore it from Git: git -C ${shWord(dir)} checkout -- ${MANIFEST_FILE}`],
    })
  }
  const outside = [...Object.keys(m.files), ...Object.keys(m.previous ?? {})].find((p) => !insidePath(p))
  if (outside !== undefined)
    throw new ObsctlError(
      `${f} lists ${JSON.stringify(outside)}, which is not a path inside ${dir}: obsctl renders only there, so this manifest is not one it wrote, and nothing was read, written or removed`,
      {
        code: 'RENDER_MANIFEST',
        hints: [
          `see who changed it: git -C ${shWord(dir)} log -p -- ${MANIFEST_FILE}`,
          `then restore obsctl's manifest from an earlier commit (git -C ${shWord(dir)} checkout COMMIT -- ${MANIFEST_FILE})`,
        ],
      },
    )
  return m
}

function readIf(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * readIf for the files of one render directory, not reading in folders that do not exist (each asked once,
 * a folder is absent when its parent is): a failed read costs an exception, 3,000 of them ~50 ms of a
 * 1,000-cluster plan before its first render.
 */
function dirReader(dir: string): (rel: string) => Buffer | undefined {
  const absent = new Map<string, boolean>()
  const isAbsent = (d: string): boolean => {
    let a = absent.get(d)
    if (a === undefined) {
      const up = path.dirname(d)
      a = (d !== dir && up !== d && isAbsent(up)) || !existsSync(d)
      absent.set(d, a)
    }
    return a
  }
  return (rel) => {
    const file = joinPlain(dir, rel)
    return isAbsent(path.dirname(file)) ? undefined : readIf(file)
  }
}

/**
 * Compare the rendered files (or their digests: renderDigests) with the directory and the last manifest;
 * writes nothing.
 */
export function planRender<F extends RenderedFile | FileDigest>(dir: string, files: F[], opts: {force?: boolean} = {}): RenderPlan<F> {
  const old = readManifest(dir)
  // bytes obsctl itself wrote at a path: the last manifest's, and those of an interrupted apply
  const ours = (p: string, h: string) => old.files[p] === h || Boolean(old.previous?.[p]?.includes(h))
  const plan: RenderPlan<F> = {dir, added: [], changed: [], removed: [], unchanged: 0, conflicts: [], writes: [], manifest: {version: 1, files: {}}, old}
  const read = dirReader(dir)
  const wanted = new Set<string>()
  for (const f of files) {
    wanted.add(f.path)
    const hash = 'hash' in f ? f.hash : sha256(f.content)
    plan.manifest.files[f.path] = hash
    const cur = read(f.path)
    if (cur === undefined) {
      plan.added.push(f.path)
      plan.writes.push(f)
      continue
    }
    const curHash = sha256(cur)
    if (curHash === hash) {
      plan.unchanged++
      continue
    }
    if (!ours(f.path, curHash) && !opts.force) {
      const known = old.files[f.path] !== undefined || old.previous?.[f.path] !== undefined
      plan.conflicts.push({path: f.path, reason: known ? 'edited' : 'unmanaged'})
      continue
    }
    plan.changed.push(f.path)
    plan.writes.push(f)
  }
  const known = [...new Set([...Object.keys(old.files), ...Object.keys(old.previous ?? {})])].sort()
  for (const p of known) {
    if (wanted.has(p)) continue
    const cur = read(p)
    if (cur === undefined) continue
    if (!ours(p, sha256(cur)) && !opts.force) {
      plan.conflicts.push({path: p, reason: 'edited-removed'})
      // keep it recorded so the next render still knows it is ours
      if (old.files[p] !== undefined) plan.manifest.files[p] = old.files[p]!
      continue
    }
    plan.removed.push(p)
  }
  return plan
}

function removeEmptyDirs(dir: string, rel: string): void {
  let d = path.dirname(rel)
  while (d && d !== '.') {
    const abs = path.join(dir, d)
    try {
      if (readdirSync(abs).length > 0) return
      rmdirSync(abs)
    } catch {
      return
    }
    d = path.dirname(d)
  }
}

/** The temporary name a rendered file is written under before it is renamed into place. */
const tmpOf = (abs: string) => path.join(path.dirname(abs), `.${path.basename(abs)}.obsctl-tmp`)

/**
 * Apply a plan without conflicts: record the pending manifest, write (each file atomically), remove,
 * then record the final manifest (atomically, last). A kill at any point leaves files that the next
 * planRender recognises as obsctl's.
 */
export function applyRender(plan: RenderPlan): void {
  if (plan.conflicts.length > 0) throw new Error('applyRender: the plan has conflicts')
  if (plan.writes.length === 0 && plan.removed.length === 0 && sameManifest(plan)) return
  const manifestFile = path.join(plan.dir, MANIFEST_FILE)
  if (plan.old.previous) {
    // an earlier apply was interrupted: drop the temporary files it may have left
    for (const p of new Set([...Object.keys(plan.old.files), ...Object.keys(plan.old.previous)])) rmSync(tmpOf(path.join(plan.dir, p)), {force: true})
  }
  if (plan.writes.length > 0 || plan.removed.length > 0) {
    const previous: Record<string, string[]> = {}
    for (const p of new Set([...plan.writes.map((f) => f.path), ...plan.removed])) {
      const hashes = new Set([...(plan.old.previous?.[p] ?? []), ...(plan.old.files[p] ? [plan.old.files[p]] : [])])
      hashes.delete(plan.manifest.files[p] ?? '')
      if (hashes.size > 0) previous[p] = [...hashes].sort()
    }
    for (const [p, hashes] of Object.entries(plan.old.previous ?? {})) previous[p] ??= hashes
    writeFileAtomicSync(manifestFile, manifestText({...plan.manifest, previous}))
    killPoint('render:pending-manifest')
  }
  const dirs = new Set<string>()
  for (const f of plan.writes) {
    const abs = path.join(plan.dir, f.path)
    const d = path.dirname(abs)
    if (!dirs.has(d)) {
      ensureDir(d)
      dirs.add(d)
    }
    // no fsync for each file: the pending manifest written first says which files a crash may have left old
    replaceFileSync(abs, f.content, tmpOf(abs))
    killPoint('render:write')
  }
  for (const p of plan.removed) {
    try {
      unlinkSync(path.join(plan.dir, p))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    removeEmptyDirs(plan.dir, p)
    killPoint('render:remove')
  }
  writeFileAtomicSync(manifestFile, manifestText(plan.manifest))
  killPoint('render:manifest')
}

/** True when the manifest on disk is already the plan's final one (no interrupted apply pending). */
export function sameManifest(plan: Pick<RenderPlan<RenderedFile | FileDigest>, 'dir' | 'manifest'>): boolean {
  const f = path.join(plan.dir, MANIFEST_FILE)
  return existsSync(f) && readFileSync(f, 'utf8') === manifestText(plan.manifest)
}

export function manifestText(m: RenderManifest): string {
  const files: Record<string, string> = {}
  for (const k of Object.keys(m.files).sort()) files[k] = m.files[k]!
  const out: RenderManifest = {version: 1, files}
  if (m.previous) {
    out.previous = {}
    for (const k of Object.keys(m.previous).sort()) out.previous[k] = m.previous[k]!
  }
  return `${JSON.stringify(out, null, 2)}\n`
}

export {renderDigests, renderFiles}
export type {FileDigest, RenderedFile}
