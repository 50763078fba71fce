/**
 * The `render` command's flow: lint, then render the GitOps repository from the inventory (into git.dir or `out`),
 * committing and pushing when asked. A render that writes into the working copy, or commits, holds the run lock
 * (../engine/inventory-lock.ts) and needs the inventory unchanged since it was read: it never mixes its files into
 * another run's commit, nor renders from an inventory another run is rewriting.
 */
import path from 'node:path'
import {formatPosition, type LoadedInventory} from '../config/load.js'
import {refuseInvalidInventory} from '../config/refuse-invalid.js'
import {isObsctlError} from '../errors.js'
import {assertFolderPath} from '../fs.js'
import type {RenderResult} from '../gitops/repo.js'

export interface RenderRunOptions {
  out?: string
  commit?: boolean
  push?: boolean
  force?: boolean
  dryRun?: boolean
  allowOvercommit?: boolean
  signal?: AbortSignal
  /** notices, such as a stale run lock taken over (never secrets) */
  onNotice?: (line: string) => void
}

export async function renderRun(inv: LoadedInventory, o: RenderRunOptions): Promise<RenderResult> {
  await refuseInvalidInventory(inv, o)
  const [{renderRepo, renderDir, inventoryTrailers}, {gitDir}] = await Promise.all([import('../gitops/index.js'), import('../config/model.js')])
  const dir = renderDir(inv.platform, inv.dir, o.out)
  if (o.out) assertFolderPath(dir, ['--out names the folder to render into'])
  const git = Boolean(o.commit || o.push)
  const locked = !o.dryRun && (git || path.resolve(dir) === path.resolve(gitDir(inv.platform, inv.dir)))
  // (a dry run, or a render into another folder, takes no lock: nor loads its code)
  const lock = locked
    ? await (await import('../engine/inventory-lock.js')).lockInventory(inv, git ? `render --${o.push ? 'push' : 'commit'}` : 'render', o.onNotice)
    : undefined
  try {
    const trailers = git && !o.dryRun ? await inventoryTrailers(inv.dir, 'render', inv.text) : undefined
    return await renderRepo(inv.platform, {dir, inventoryDir: inv.dir, force: o.force, commit: git, push: o.push, dryRun: o.dryRun, trailers, signal: o.signal})
  } catch (e) {
    // the http remote wanted a login obsctl refused to give in cleartext: name the inventory line to change
    if (isObsctlError(e) && e.code === 'GIT_PLAIN_HTTP') {
      const {plainHttpLoginError} = await import('../gitops/git.js')
      const {remote, branch} = e.details as {remote: string; branch: string}
      throw plainHttpLoginError(remote, branch, `git.remote (${formatPosition(inv.positionOf(['git', 'remote']))})`)
    }
    throw e
  } finally {
    lock?.release()
  }
}
