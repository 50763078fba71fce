/**
 * `.obsctl/lock`: one run at a time per inventory (the inventory's real path decides where `.obsctl/` is,
 * so two symlinks to one inventory share one lock). Created exclusively: the content is written to a
 * temporary file first and hard-linked into place, which fails if the lock exists, so a lock file is
 * never seen half-written.
 *
 * A lock whose pid is no longer alive on this host is taken over, atomically: the taker first creates
 * `lock.takeover-<hash of the stale content>` exclusively, so of several processes that found the same
 * stale lock exactly one may remove it; it removes it only if the lock still holds that same content
 * (a stale content never comes back: pid and start time are in it), then every process races for the
 * plain exclusive link again and exactly one wins. A takeover file holds its taker (pid, host) and is judged
 * as a lock is: one whose taker is dead (killed between making it and removing it) is itself taken over the
 * same way (takeOverStale), so a later run goes on instead of failing until someone removes it.
 */
import {hostname} from 'node:os'
import {linkSync, readFileSync, readlinkSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {ObsctlError} from '../errors.js'
import {ensurePrivateDir, writeNewFileSync} from '../fs.js'
import {sha256} from '../hash.js'
import {killPoint} from './kill-point.js'

export interface LockInfo {
  pid: number
  startedAt: string
  command: string
  host: string
  /**
   * The holder's pid namespace (the number in /proc/self/ns/pid, Linux): a pid means something only there. Two
   * containers can share a host name and a mounted inventory folder; neither can see the other's pids. Absent in
   * locks written by an older obsctl or without /proc.
   */
  pidns?: string
}

let pidNamespace: {ns?: string} | undefined

/**
 * This process's pid namespace (`pid:[4026531836]` → `4026531836`), or undefined without /proc: read once (a
 * process never changes it), as a waiter asks at every look at a held lock.
 */
export function ownPidNamespace(): string | undefined {
  if (!pidNamespace) {
    try {
      pidNamespace = {ns: /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1]}
    } catch {
      pidNamespace = {}
    }
  }
  return pidNamespace.ns
}

/** Who holds a lock this process takes: what holderAlive (here or in another obsctl) judges it by. */
export function lockHolder(command: string): LockInfo {
  const pidns = ownPidNamespace()
  return {pid: process.pid, startedAt: new Date().toISOString(), command, host: hostname(), ...(pidns ? {pidns} : {})}
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
  return parseLock(readRaw(lockFilePath(stateDir)))
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

function parseLock(raw: string | undefined): LockInfo | undefined {
  if (raw === undefined) return undefined
  try {
    const v = JSON.parse(raw) as LockInfo
    return v && typeof v.pid === 'number' ? v : undefined
  } catch {
    return undefined
  }
}

/** Hard-link `from` to `to`, which must not exist: false when it does (the exclusive create of a file written whole). */
export function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
}

/** Remove `file`; one that is already gone is fine. */
export function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}

/**
 * Is the holder alive? Only checkable on the same host and in the same pid namespace; another host's lock, or one
 * taken in another pid namespace (another container with this host name), counts as alive: its pid names another
 * process here, or none.
 */
export function holderAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true
  if (otherPidNamespace(info)) return true
  return pidAlive(info.pid)
}

function otherPidNamespace(info: LockInfo): boolean {
  const ours = ownPidNamespace()
  return typeof info.pidns === 'string' && ours !== undefined && info.pidns !== ours
}

/**
 * Is process `pid` (on this host) alive — every lock's one check (this file's run lock, ../file-lock.ts's write
 * locks, `plan`'s "running")? `kill(pid, 0)` alone says yes for a zombie: a killed obsctl whose parent (a CI
 * runner, a shell script) has not reaped it yet, which would keep its lock until the parent waits. So on Linux
 * the state in /proc/<pid>/stat decides: Z (zombie) or X (dead) is not alive. Without /proc (macOS) kill(pid, 0)
 * is all there is. A pid that is not a positive integer names no process (kill would signal a process group).
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (e) {
    // EPERM: it exists, owned by another user
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const state = procState(pid)
  return state !== 'Z' && state !== 'X'
}

/** The one-letter state of `pid` from /proc/<pid>/stat (`pid (comm) S …`; comm may hold spaces and parentheses), or undefined without /proc. */
function procState(pid: number): string | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const end = stat.lastIndexOf(')')
  return end < 0 ? undefined : stat.charAt(end + 2) || undefined
}

/** How many takeover files deep takeOverStale goes (each level is a taker killed at that very point). */
const MAX_TAKEOVER_DEPTH = 4

/**
 * Remove the stale file FILE (found as ID: what identifies that very file, its content or more; still there while
 * `same()`) if this process wins the right to: it creates `FILE.takeover-<hash of ID>` exclusively (`create(path)`: a
 * file holding this process's LockInfo, written whole), removes FILE only while `same()`, then its takeover file. Of
 * several processes that found the same stale file exactly one gets the takeover file. One that is there already is
 * judged as a lock is, by its taker (pid, host): a live taker is returned (`taker`: it is taking over); a dead one's
 * (killed between making it and removing it; unreadable: obsctl writes them whole) is taken over the same way, one
 * level down, then this process tries again. `removed`: this process removed FILE; neither: FILE is gone or another
 * file (another process took it over).
 */
export function takeOverStale(
  file: string,
  id: string,
  same: () => boolean,
  create: (path: string) => boolean,
  point: string,
  depth = 0,
): {removed?: boolean; taker?: LockInfo} {
  const takeover = `${file}.takeover-${sha256(id).slice(0, 16)}`
  for (let attempt = 0; !create(takeover); attempt++) {
    const raw = readRaw(takeover)
    const taker = parseLock(raw)
    if (taker && typeof taker.host === 'string' && holderAlive(taker)) return {taker}
    if (depth >= MAX_TAKEOVER_DEPTH || attempt >= 5)
      return {taker: {pid: taker?.pid ?? 0, startedAt: taker?.startedAt ?? 'unknown', command: taker?.command ?? 'unknown', host: taker?.host ?? 'unknown'}}
    if (raw === undefined) continue // its taker finished in between: try again
    const below = takeOverStale(takeover, raw, () => readRaw(takeover) === raw, create, point, depth + 1)
    if (below.taker) return below
  }
  killPoint(point)
  try {
    if (!same()) return {}
    unlinkQuiet(file)
    return {removed: true}
  } finally {
    unlinkQuiet(takeover)
  }
}

export function acquireLock(stateDir: string, command: string, onNotice?: (msg: string) => void): Lock {
  ensurePrivateDir(stateDir)
  const file = lockFilePath(stateDir)
  const info = lockHolder(command)
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  writeNewFileSync(tmp, `${JSON.stringify(info)}\n`, {mode: 0o600, about: file})
  let takenOver: LockInfo | undefined
  let removedStale: LockInfo | undefined
  try {
    for (let attempt = 0; ; attempt++) {
      if (tryLink(tmp, file)) {
        if (removedStale) {
          takenOver = removedStale
          onNotice?.(`taking over a stale lock ${file} left by pid ${takenOver.pid} (started ${takenOver.startedAt}), which is no longer running`)
        }
        break
      }
      const raw = readRaw(file)
      if (raw === undefined) continue // released in between: race for it again
      const holder = parseLock(raw)
      if (holder && holder.pid === process.pid && holder.host === info.host) {
        throw new ObsctlError(`this process already holds ${file}`, {code: 'LOCKED'})
      }
      if (holder && holderAlive(holder)) throw lockedError(file, holder)
      if (attempt >= 5) throw lockedError(file, holder ?? {pid: 0, startedAt: 'unknown', command: 'unknown', host: 'unknown'})
      // dead holder (or an unreadable lock): exactly one process may remove this stale content
      const taken = takeOverStale(
        file,
        raw,
        () => readRaw(file) === raw,
        (p) => tryLink(tmp, p),
        'lock:takeover',
      )
      if (taken.taker) throw lockedError(file, taken.taker, 'is taking over a stale lock')
      if (taken.removed) removedStale = holder ?? {pid: 0, startedAt: 'unknown', command: 'unknown', host: 'unknown'}
    }
  } finally {
    unlinkQuiet(tmp)
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

function lockedError(file: string, holder: LockInfo, doing = 'holds'): ObsctlError {
  return new ObsctlError(`another obsctl run ${doing} ${file}: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt} (${holder.command})`, {
    code: 'LOCKED',
    details: {holder},
    hints: ['wait for it to finish, or stop it (Ctrl-C) — it resumes where it stopped', staleHint(file, holder)],
  })
}

/**
 * What to check before removing a lock by hand: a pid means something only on its own host — another host's run
 * is checked there (obsctl never takes over a lock of another host: it cannot see whether that pid lives).
 */
function staleHint(file: string, holder: LockInfo): string {
  const here = hostname()
  if (holder.host === here && otherPidNamespace(holder))
    return `that run is in another pid namespace on ${here} (another container sharing this folder: pid ${holder.pid} is a process there, not here): check there whether it is still obsctl; only if it is not, remove ${file}`
  if (holder.host === here || holder.host === 'unknown') return `if pid ${holder.pid} is not obsctl, remove ${file}`
  return `that run is on host ${holder.host}, not on this one (${here}): check on ${holder.host} whether pid ${holder.pid} is still obsctl; only if it is not, remove ${file}`
}

/**
 * A run given a lock (RunOptions.lock) must be given one this process holds on that folder: acquireLock's own,
 * still on disk as it wrote it. Else an error — a lock cannot be borrowed from another process or reused after release.
 */
export function assertHeld(lock: Lock, stateDir: string): void {
  const file = lockFilePath(stateDir)
  const cur = readLock(stateDir)
  const ours =
    path.resolve(lock.file) === path.resolve(file) &&
    lock.info.pid === process.pid &&
    cur !== undefined &&
    cur.pid === process.pid &&
    cur.host === hostname() &&
    cur.startedAt === lock.info.startedAt
  if (!ours) throw new ObsctlError(`this run was given ${lock.file} as held, but this process does not hold ${file}`, {code: 'LOCK_NOT_HELD'})
}
