/**
 * Short-lived exclusive lock files around a read-modify-write of a file that another obsctl process (or kubectl)
 * may edit at the same time: `.obsctl/validation.json`, `.obsctl/certs.json`, a kubeconfig, known_hosts. Without
 * one, two writers each read the old file, each add their part and the second rename wins: the first one's part is
 * lost and both report success.
 *
 * The convention is kubectl's (client-go tools/clientcmd/loader.go `lockFile`): `<file>.lock`, created exclusively
 * (kubectl: O_CREAT|O_EXCL; obsctl: written whole to a temporary file and hard-linked into place, so it is never seen
 * empty; the two exclude each other), removed when the write is done. kubectl's is empty and kubectl gives up at once when it exists
 * ("open …lock: file exists"); obsctl's holds who took it (`{pid, host, startedAt, command}`, ../engine/lock.ts's
 * LockInfo) and obsctl waits for it: it retries with a short backoff until a generous deadline (30 s by default;
 * a holder keeps it for the milliseconds of one write), then fails naming the lock and its holder.
 *
 * A lock left behind by a process that was killed (SIGKILL, power loss: nothing ran to remove it):
 * - obsctl's, whose pid is no longer alive on this host (engine/lock.ts `holderAlive`, the one pid check of every
 *   lock: a zombie is dead), is taken over at once:
 *   the pid is the proof, no age is needed (a reused pid only makes it look alive: then obsctl waits and fails
 *   naming it). Another host's (a kubeconfig on a shared home folder) counts as alive;
 * - one without a holder (kubectl's, or an unreadable one) is taken over only when it is older
 *   than 2 minutes (its mtime): kubectl holds it for one write, so a lock that old is one it left when it was
 *   killed — kubectl itself would refuse every change until someone removed it.
 * Taking over is atomic as in engine/lock.ts: the taker first creates `<lock>.takeover-<hash of what it found>`
 * exclusively, so of several processes that found the same stale lock exactly one removes it, and only while the
 * lock is still that same file (inode, mtime and content); then every waiter races for the lock again. A takeover
 * file left by a taker that was killed before it removed it is judged by its taker's pid as the lock is, and taken
 * over the same way: the next writer goes on at once.
 */
import {readFileSync, statSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {holderAlive, lockHolder, takeOverStale, tryLink, unlinkQuiet, type LockInfo} from './engine/lock.js'
import {ObsctlError} from './errors.js'
import {ensureDir, writeNewFileSync} from './fs.js'
import {shWord} from './shell-quote.js'

export interface FileLockOptions {
  /** how long to wait for a held lock before failing (default 30 s) */
  timeoutMs?: number
  /** a lock without a holder (kubectl's) older than this is taken over (default 2 min) */
  staleUnownedMs?: number
  /** called once, when the lock is first found held by someone else (its holder in words) */
  onWait?: (holder: string) => void
}

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000
export const STALE_UNOWNED_MS = 120_000

/** The lock file kubectl takes for `file` (and obsctl with it). */
export const lockPathFor = (file: string) => `${file}.lock`

interface Found {
  raw: string
  /** identifies this very file: a new lock at the same path is another one */
  id: string
  mtimeMs: number
  holder?: LockInfo
}

function read(lock: string): Found | undefined {
  try {
    const st = statSync(lock)
    const raw = readFileSync(lock, 'utf8')
    return {raw, id: `${st.ino}:${st.mtimeMs}:${raw}`, mtimeMs: st.mtimeMs, holder: parse(raw)}
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

function parse(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as LockInfo
    return v && typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * Create `file` holding `content`, exclusively (false when it exists), and never seen empty or half-written: the
 * content goes to a temporary file first, hard-linked into place (a waiter that read a lock just created with
 * O_EXCL, before its content, took it for kubectl's empty one). Exclusive as O_CREAT|O_EXCL is, on NFS too.
 */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeNewFileSync(tmp, content, {mode: 0o600, about: file})
  try {
    return tryLink(tmp, file)
  } finally {
    unlinkQuiet(tmp)
  }
}

const describe = (f: Found) =>
  f.holder
    ? `pid ${f.holder.pid} on ${f.holder.host} (${f.holder.command}, since ${f.holder.startedAt})`
    : `a process that does not say who it is (kubectl leaves its lock empty), since ${new Date(f.mtimeMs).toISOString()}`

function isStale(f: Found, staleUnownedMs: number): boolean {
  if (f.holder) return !holderAlive(f.holder)
  return Date.now() - f.mtimeMs > staleUnownedMs
}

/**
 * Remove the stale lock `f` if this process wins the right to (see the file's comment; ./engine/lock.ts
 * takeOverStale, which also takes over a takeover file its dead taker left); true when the lock is gone (by this
 * process or another), false when another process is taking it over.
 */
function takeOver(lock: string, f: Found, content: string): boolean {
  return !takeOverStale(
    lock,
    f.id,
    () => read(lock)?.id === f.id,
    (p) => createExclusive(p, content),
    'file-lock:takeover',
  ).taker
}

/** Take `lock` (waiting for it as the file's comment says); returns the release. */
export async function acquireFileLock(lock: string, opts: FileLockOptions = {}): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
  const staleUnownedMs = opts.staleUnownedMs ?? STALE_UNOWNED_MS
  ensureDir(path.dirname(lock))
  const info: LockInfo & {nonce: string} = {
    ...lockHolder(['obsctl', ...process.argv.slice(2, 4)].join(' ')),
    // two locks of one process never have the same content (a takeover compares content)
    nonce: randomBytes(6).toString('hex'),
  }
  const content = `${JSON.stringify(info)}\n`
  const deadline = Date.now() + timeoutMs
  let waited = false
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(lock, content)) break
    const found = read(lock)
    if (!found) continue // released in between: race for it again
    if (isStale(found, staleUnownedMs) && takeOver(lock, found, content)) continue
    if (!waited) {
      waited = true
      opts.onWait?.(describe(found))
    }
    if (Date.now() >= deadline) throw lockTimeoutError(lock, found, timeoutMs)
    // 5, 10, 20 … 200 ms, with jitter so that waiters do not retry in step
    const delay = Math.min(200, 5 * 2 ** Math.min(attempt, 6))
    await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)))
  }
  let released = false
  const release = () => {
    if (released) return
    released = true
    process.removeListener('exit', release)
    // only our own lock: never one that another process took over meanwhile
    try {
      if (readFileSync(lock, 'utf8') === content) unlinkSync(lock)
    } catch {}
  }
  // a process that exits while holding it (process.exit in a handler) still removes it
  process.once('exit', release)
  return release
}

/** Run `fn` holding the lock file `lock` (see the file's comment); the lock is removed however `fn` ends. */
export async function withFileLock<T>(lock: string, fn: () => T | Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const release = await acquireFileLock(lock, opts)
  try {
    return await fn()
  } finally {
    release()
  }
}

/** withFileLock over several lock files, taken in sorted order (as kubectl does), so that no two holders deadlock. */
export async function withFileLocks<T>(locks: string[], fn: () => T | Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const sorted = [...new Set(locks)].sort()
  const releases: (() => void)[] = []
  try {
    for (const l of sorted) releases.push(await acquireFileLock(l, opts))
    return await fn()
  } finally {
    for (const r of releases.reverse()) r()
  }
}

function lockTimeoutError(lock: string, f: Found, timeoutMs: number): ObsctlError {
  return new ObsctlError(`${lock} is held by ${describe(f)}: waited ${Math.round(timeoutMs / 1000)} s for it to be released`, {
    code: 'FILE_LOCKED',
    details: {lock, holder: f.holder},
    hints: [
      'another obsctl (or kubectl) is writing that file: rerun when it is done',
      `if no obsctl or kubectl is running, the lock was left by one that was killed: remove it (rm ${shWord(lock)} ${shWord(lock)}.takeover-*) and rerun`,
    ],
  })
}
