/**
 * A branch of the GitOps remote as `obsctl diff` reads it: fetched (depth 1) into a temporary bare
 * repository, so the working copy is left alone; blobs listed by id and read on demand.
 */
import {createHash} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {redactUrl} from '../config/validators.js'
import {ObsctlError} from '../errors.js'
import {git, readRemoteHead, remoteLocation} from './git.js'

/** Git's blob id of some bytes (sha1 of "blob <size>\0<bytes>"): compared with ls-tree without reading the blob. */
export function gitBlobId(content: string): string {
  const buf = Buffer.from(content, 'utf8')
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex')
}

export interface RemoteTree {
  commit: string
  /** path → blob id */
  blobs: Map<string, string>
  read(p: string): Promise<string>
}

/** The GitOps remote could not be read (`error`: git's last line). */
export function remoteUnreadable(remote: string, error: string, hints: string[] = []): ObsctlError {
  return new ObsctlError(`cannot read the GitOps remote ${redactUrl(remote)}: ${error}`, {
    code: 'GIT_REMOTE_UNREADABLE',
    hints: [
      'obsctl reads it as git does here (your SSH key or credential helper); check git ls-remote on it',
      'the inventory names it in git.remote',
      ...hints,
    ],
  })
}

/** The branch's tree on the remote, fetched (depth 1) into a temporary bare repository. */
export async function fetchRemote(remote: string, branch: string, inventoryDir: string): Promise<RemoteTree & {close(): void}> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-drift-'))
  const close = () => rmSync(tmp, {recursive: true, force: true})
  try {
    const url = remoteLocation(remote, inventoryDir)
    const init = await git(tmp, ['init', '-q', '--bare'])
    if (init.exitCode !== 0) throw new ObsctlError(`git init in ${tmp} failed: ${init.stderr.trim()}`, {code: 'GIT_FAILED'})
    const head = await readRemoteHead(tmp, url, branch)
    if ('error' in head) throw remoteUnreadable(remote, head.error)
    if (!head.commit) return {commit: '', blobs: new Map(), read: async () => '', close}
    const fetch = await git(tmp, ['fetch', '-q', '--depth', '1', '--no-tags', url, `refs/heads/${branch}`])
    if (fetch.exitCode !== 0) throw new ObsctlError(`cannot fetch ${branch} from ${redactUrl(remote)}: ${fetch.stderr.trim()}`, {code: 'GIT_REMOTE_UNREADABLE'})
    const commit = (await git(tmp, ['rev-parse', 'FETCH_HEAD'])).stdout.trim()
    const tree = await git(tmp, ['ls-tree', '-r', '-z', '--full-tree', commit])
    if (tree.exitCode !== 0) throw new ObsctlError(`git ls-tree ${commit} failed: ${tree.stderr.trim()}`, {code: 'GIT_FAILED'})
    const blobs = new Map<string, string>()
    for (const entry of tree.stdout.split('\0')) {
      const m = /^\d+ blob ([0-9a-f]+)\t(.+)$/s.exec(entry)
      if (m) blobs.set(m[2]!, m[1]!)
    }
    const read = async (p: string) => {
      const r = await git(tmp, ['cat-file', 'blob', blobs.get(p)!])
      if (r.exitCode !== 0) throw new ObsctlError(`git cat-file ${p} failed: ${r.stderr.trim()}`, {code: 'GIT_FAILED'})
      // execa strips one final newline: the blob id says whether there was one
      return gitBlobId(`${r.stdout}\n`) === blobs.get(p) ? `${r.stdout}\n` : r.stdout
    }
    return {commit, blobs, read, close}
  } catch (e) {
    close()
    throw e
  }
}
