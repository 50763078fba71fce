/**
 * What `plan` says of the render task (./phases.ts describe): how many files a render would add, change and remove,
 * which it would refuse to overwrite (edited by hand), and how many rendered files Git HEAD does not hold yet.
 *
 * Working that out reads and hashes every rendered file and runs git three times (rev-parse, show, status): of a
 * `plan` beside a rendered repository, ~40% of its CPU (4.06x of `node -e 0` against its 2.5x budget, the git
 * processes' own CPU counted; 2.39x kept). So it is kept in the derived-result cache (../derived-cache.ts), one entry
 * per inventory, against everything it was worked out from — the digests the render wants, whether it would overwrite
 * files edited by hand, the stamp (inode, size, mtime) of every file rendered now or by an earlier render (the render's
 * manifest among them), and Git's state: HEAD, the branch it names, the packed refs, the index (as `git status` leaves
 * it), the repository's config and excludes, the working copy's top .gitignore — and worked out again when any of them
 * changed. A repository whose `.git` is not a folder of its own (a worktree, a submodule) or a `GIT_DIR`,
 * `GIT_WORK_TREE` or `GIT_INDEX_FILE` in the environment is worked out every time. What a stamp cannot see (a file
 * rewritten with the same size within the same mtime, a nested .gitignore, the user's global git config) only changes
 * what `plan` says until the next change it does see; the render itself always reads the files and asks git.
 */
import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {Platform} from '../config/schema.js'
import {derivedCache, fileEntryName} from '../derived-cache.js'
import {fileStamp} from '../file-stamp.js'
import {joinPlain} from '../join-plain.js'
import type {FileDigest} from './plan.js'
import {MANIFEST_FILE, planRender, readManifest, renderDigests} from './render.js'

export interface RenderState {
  added: number
  changed: number
  removed: number
  /** files a render would not overwrite without --force */
  conflicts: number
  /** rendered files Git HEAD does not hold as they are (./repo.ts uncommittedCount) */
  uncommitted: number
}

/**
 * `inventory`: the inventory file it is worked out for, whose entry it is (one per inventory, as its other derived
 * entries: two inventories rendering into one folder, a copy being edited beside the original, each keep theirs).
 */
export async function renderState(p: Platform, dir: string, o: {force: boolean; inventory: string}): Promise<RenderState> {
  const {force} = o
  const digests = renderDigests(p)
  const compute = async (): Promise<RenderState> => {
    const plan = planRender(dir, digests, {force})
    const {uncommittedCount} = await import('./repo.js')
    return {
      added: plan.added.length,
      changed: plan.changed.length,
      removed: plan.removed.length,
      conflicts: plan.conflicts.length,
      uncommitted: await uncommittedCount(dir),
    }
  }
  const cache = derivedCache()
  const before = cache && stampsOf(dir, digests, force)
  if (!before) return compute()
  const name = fileEntryName('render-state', o.inventory)
  const hit = cache.get(name, before.input)
  if (hit !== undefined) return JSON.parse(hit) as RenderState
  const state = await compute()
  // `git status` may rewrite the index (refreshing what it knows of the files): the result is kept against the index as
  // it left it, when nothing else changed while it was worked out
  const after = stampsOf(dir, digests, force)
  if (after && after.rest === before.rest) cache.set(name, after.input, JSON.stringify(state))
  return state
}

/**
 * The derived entry's input: the index's stamp, then the rest (the folder, whether the render would overwrite files
 * edited by hand, Git's state, the digests wanted, the stamps of the files); undefined when Git's state cannot be told
 * by stamps.
 */
function stampsOf(dir: string, digests: FileDigest[], force: boolean): {input: string; rest: string} | undefined {
  const git = gitStamp(dir)
  if (git === undefined) return undefined
  const old = readManifest(dir)
  const files = [...new Set([MANIFEST_FILE, ...digests.map((d) => d.path), ...Object.keys(old.files), ...Object.keys(old.previous ?? {})])].sort()
  const rest = [
    dir,
    `force ${force}`,
    git,
    ...digests.map((d) => `want ${d.path} ${d.hash}`),
    ...files.map((f) => `have ${f} ${fileStamp(joinPlain(dir, f))}`),
  ].join('\n')
  return {input: `index ${fileStamp(path.join(dir, '.git', 'index'))}\n${rest}`, rest}
}

/** What of Git's state `git status` and `git show HEAD:…` read in dir, as one line; undefined when it cannot be told by stamps. */
function gitStamp(dir: string): string | undefined {
  if (process.env.GIT_DIR !== undefined || process.env.GIT_WORK_TREE !== undefined || process.env.GIT_INDEX_FILE !== undefined) return undefined
  const g = path.join(dir, '.git')
  const st = lstatSync(g, {throwIfNoEntry: false})
  // no repository of its own: git answers for none (./git.ts isRepo wants dir to be the top of one)
  if (!st) return 'no .git'
  if (!st.isDirectory()) return undefined
  let head: string
  try {
    head = readFileSync(path.join(g, 'HEAD'), 'utf8').trim()
  } catch {
    return undefined
  }
  const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1]
  if (ref?.split('/').includes('..')) return undefined
  return [
    `HEAD ${head}`,
    ...(ref ? [`ref ${fileStamp(path.join(g, ref))}`] : []),
    ...['packed-refs', 'config', path.join('info', 'exclude')].map((f) => `${f} ${fileStamp(path.join(g, f))}`),
    `.gitignore ${fileStamp(path.join(dir, '.gitignore'))}`,
  ].join(' ')
}
