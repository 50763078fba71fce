/**
 * `.obsctl/lock`: one run at a time per inventory. Created exclusively (the content is written to a
 * temporary file first and hard-linked into place, which fails if the lock exists, so a lock file is
 * never seen half-written). A lock whose pid is no longer alive on this host is taken over.
 */
import {hostname} from 'node:os'
import {linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {ObsctlError} from '../errors.js'

export interface LockInfo {
  pid: number
  startedAt: string
  command: string
  host: string
}

export interface Lock {
  file: string
  info: LockInfo
  /** a notice when a stale lock was taken over */
  takenOver?: LockInfo
  release(): void
}

export function lockFilePath(stateDir: string): string {
  return path.join(stateDir, 'lock')
}

export function readLock(stateDir: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(lockFilePath(stateDir), 'utf8')) as LockInfo
    return typeof v.pid === 'number' ? v : undefined
  } catch {
    return undefined
  }
}

/** Is the holder alive? Only checkable on the same host; another host's lock counts as alive. */
export function holderAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true
  try {
    process.kill(info.pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function acquireLock(stateDir: string, command: string, onNotice?: (msg: string) => void): Lock {
  mkdirSync(stateDir, {recursive: true, mode: 0o700})
  const file = lockFilePath(stateDir)
  const info: LockInfo = {pid: process.pid, startedAt: new Date().toISOString(), command, host: hostname()}
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, {mode: 0o600})
  let takenOver: LockInfo | undefined
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file)
        break
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e
      }
      const holder = readLock(stateDir)
      if (holder && holder.pid === process.pid && holder.host === info.host) {
        throw new ObsctlError(`this process already holds ${file}`, {code: 'LOCKED'})
      }
      if (holder && holderAlive(holder)) {
        throw new ObsctlError(
          `another obsctl run holds ${file}: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt} (${holder.command})`,
          {code: 'LOCKED', details: {holder}, hints: ['wait for it to finish, or stop it (Ctrl-C) — it resumes where it stopped', `if pid ${holder.pid} is not obsctl, remove ${file}`]},
        )
      }
      // dead holder (or an unreadable lock): take it over
      takenOver = holder ?? {pid: 0, startedAt: 'unknown', command: 'unknown', host: 'unknown'}
      onNotice?.(`taking over a stale lock ${file} left by pid ${takenOver.pid} (started ${takenOver.startedAt}), which is no longer running`)
      try {
        unlinkSync(file)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
    }
  } finally {
    try {
      unlinkSync(tmp)
    } catch {}
  }
  let released = false
  const release = () => {
    if (released) return
    released = true
    process.removeListener('exit', release)
    const cur = readLock(stateDir)
    if (cur && cur.pid === info.pid && cur.startedAt === info.startedAt) {
      try {
        unlinkSync(file)
      } catch {}
    }
  }
  // also released when the process exits by any path that runs exit handlers
  process.once('exit', release)
  return {file, info, takenOver, release}
}
