/**
 * Writing the rendered tree into a directory safely:
 * - `.obsctl-render.json` (in the repo root, committed with it) records each file obsctl rendered
 *   and the sha256 of what it wrote, so any clone knows which files are obsctl's;
 * - a file whose bytes differ from the recorded hash was edited by hand: it is neither overwritten
 *   nor removed without `force` (the error shows the diff);
 * - files that are no longer rendered (a removed cluster) are removed; files obsctl never rendered
 *   are never touched.
 * Nothing is written when any conflict is found.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {Platform} from '../config/schema.js'
import {ObsctlError} from '../errors.js'
import {writeFileAtomicSync} from '../fs.js'
import {renderFiles, type RenderedFile} from './plan.js'

export const MANIFEST_FILE = '.obsctl-render.json'

export interface RenderManifest {
  version: 1
  /** path → sha256 of the bytes obsctl wrote */
  files: Record<string, string>
}

export type ConflictReason = 'edited' | 'unmanaged' | 'edited-removed'

export interface Conflict {
  path: string
  reason: ConflictReason
  /** unified diff: on-disk (a) vs rendered (b); for edited-removed: on-disk vs last rendered absent */
  diff?: string
}

export interface RenderPlan {
  dir: string
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: number
  conflicts: Conflict[]
  /** files to write (added + changed), with content */
  writes: RenderedFile[]
  manifest: RenderManifest
}

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')

export function readManifest(dir: string): RenderManifest {
  const f = path.join(dir, MANIFEST_FILE)
  if (!existsSync(f)) return {version: 1, files: {}}
  try {
    const m = JSON.parse(readFileSync(f, 'utf8')) as RenderManifest
    if (m.version !== 1 || typeof m.files !== 'object') throw new Error('unknown format')
    return m
  } catch (error) {
    throw new ObsctlError(`cannot read ${f}: ${(error as Error).message}`, {
      code: 'RENDER_MANIFEST',
      hints: [`restore it from Git: git -C ${dir} checkout -- ${MANIFEST_FILE}`],
    })
  }
}

function readIf(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Compare the rendered files with the directory and the last manifest; writes nothing. */
export function planRender(dir: string, files: RenderedFile[], opts: {force?: boolean} = {}): RenderPlan {
  const old = readManifest(dir)
  const plan: RenderPlan = {dir, added: [], changed: [], removed: [], unchanged: 0, conflicts: [], writes: [], manifest: {version: 1, files: {}}}
  const wanted = new Set<string>()
  for (const f of files) {
    wanted.add(f.path)
    const hash = sha256(f.content)
    plan.manifest.files[f.path] = hash
    const cur = readIf(path.join(dir, f.path))
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
    const last = old.files[f.path]
    if (last === undefined || curHash !== last) {
      if (!opts.force) {
        plan.conflicts.push({path: f.path, reason: last === undefined ? 'unmanaged' : 'edited'})
        continue
      }
    }
    plan.changed.push(f.path)
    plan.writes.push(f)
  }
  for (const [p, last] of Object.entries(old.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (wanted.has(p)) continue
    const cur = readIf(path.join(dir, p))
    if (cur === undefined) continue
    if (sha256(cur) !== last && !opts.force) {
      plan.conflicts.push({path: p, reason: 'edited-removed'})
      // keep it recorded so the next render still knows it is ours
      plan.manifest.files[p] = last
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

/** Apply a plan without conflicts: write, remove, then record the manifest (atomically, last). */
export function applyRender(plan: RenderPlan): void {
  if (plan.conflicts.length > 0) throw new Error('applyRender: the plan has conflicts')
  if (plan.writes.length === 0 && plan.removed.length === 0 && sameManifest(plan)) return
  const dirs = new Set<string>()
  for (const f of plan.writes) {
    const abs = path.join(plan.dir, f.path)
    const d = path.dirname(abs)
    if (!dirs.has(d)) {
      mkdirSync(d, {recursive: true})
      dirs.add(d)
    }
    writeFileSync(abs, f.content)
  }
  for (const p of plan.removed) {
    try {
      unlinkSync(path.join(plan.dir, p))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    removeEmptyDirs(plan.dir, p)
  }
  writeFileAtomicSync(path.join(plan.dir, MANIFEST_FILE), manifestText(plan.manifest))
}

function sameManifest(plan: RenderPlan): boolean {
  const f = path.join(plan.dir, MANIFEST_FILE)
  return existsSync(f) && readFileSync(f, 'utf8') === manifestText(plan.manifest)
}

export function manifestText(m: RenderManifest): string {
  const files: Record<string, string> = {}
  for (const k of Object.keys(m.files).sort()) files[k] = m.files[k]!
  return `${JSON.stringify({version: 1, files}, null, 2)}\n`
}

export {renderFiles}
export type {RenderedFile}

/** Render the inventory and compare with the directory (no writes). */
export function planPlatform(p: Platform, dir: string, opts: {force?: boolean} = {}): RenderPlan {
  return planRender(dir, renderFiles(p), opts)
}
