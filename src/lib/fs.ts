/**
 * Atomic file writes (a temporary file beside the target, every byte written, fsync, rename over it) — the one way
 * obsctl writes state and credentials — and the private folders they go in; readText, a file's text read without
 * loading node:fs/promises before the first read.
 *
 * On a full or read-only disk a write fails before the rename: the file named keeps what it held, the temporary file
 * is removed, and the error names the file the user knows (not the temporary one) and the reason in words
 * (errors.ts fromFsError). A write(2) on a nearly full file system writes what fits and returns that count (the next
 * one fails ENOSPC): every write here writes all bytes (Node's writeFileSync and FileHandle.writeFile loop over the
 * count), so a short write never becomes a truncated file renamed into place (write-file-atomic, used before, made
 * one writeSync and ignored the count).
 */
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  realpathSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs'
import path from 'node:path'
import {inputError} from './errors.js'
import {shWord} from './shell-quote.js'

export interface AtomicWriteOptions {
  /**
   * file mode, e.g. 0o600 for anything holding credentials (default 0o600 inside `.obsctl/`; elsewhere an existing
   * file keeps its own — a user's 0600 inventory stays 0600 through every edit — and a new one is 0o644). The owner
   * of an existing file is kept either way (root replacing another user's file chowns the new one back).
   */
  mode?: number
}

/** The folder obsctl keeps its state in, beside the inventory (see config/model obsctlDir). */
export const OBSCTL_DIR_NAME = '.obsctl'

/** Is p `.obsctl/` or inside it? Everything there may hold credentials or findings. */
export function isPrivatePath(p: string): boolean {
  return path.resolve(p).split(path.sep).includes(OBSCTL_DIR_NAME)
}

/**
 * The one way obsctl creates `.obsctl/` and its folders (logs, pki, dry-run, backups…): mode 0700, and
 * an existing folder on the way (from `.obsctl/` down to dir) that is open to group or others is
 * tightened to 0700. Returns dir.
 */
export function ensurePrivateDir(dir: string): string {
  const abs = path.resolve(dir)
  mkdirFolder(abs, 0o700)
  const parts = abs.split(path.sep)
  const top = parts.indexOf(OBSCTL_DIR_NAME)
  // from .obsctl/ down to dir (just dir when it is not under .obsctl/)
  const from = top >= 0 ? top + 1 : parts.length
  for (let i = from; i <= parts.length; i++) {
    const d = parts.slice(0, i).join(path.sep) || path.sep
    const st = statSync(d)
    if ((st.mode & 0o077) !== 0) chmodSync(d, 0o700)
  }
  return dir
}

/** Create dir (and parents): private (0700) inside `.obsctl/`, otherwise as the umask says. */
export function ensureDir(dir: string): void {
  if (isPrivatePath(dir)) ensurePrivateDir(dir)
  else mkdirFolder(dir)
}

/**
 * mkdir -p; a file (or anything but a folder) in the way is bad input naming it, not "cannot create the folder: it
 * already exists". Node's recursive mkdir says ENOENT ("no such file or directory", bad input) when the first folder
 * it has to create is on a read-only file system (or any mkdir of the way fails): the folder that could not be made
 * is made again alone, and its own error (EROFS, EACCES, ENOSPC) is the one thrown.
 */
function mkdirFolder(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, {recursive: true, mode})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') assertFolderPath(dir)
    if (code === 'ENOENT') throw firstMissingFolderError(path.resolve(dir)) ?? error
    throw error
  }
}

/** The error of creating the first missing folder on the way to dir (its parent exists), or undefined. */
function firstMissingFolderError(dir: string): unknown {
  let missing = dir
  while (path.dirname(missing) !== missing && !statOrUndefined(path.dirname(missing))) missing = path.dirname(missing)
  try {
    mkdirSync(missing)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error
  }
  return undefined
}

/** What a path that exists is, in words, e.g. "a FIFO (named pipe)". */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a file'
  if (st.isDirectory()) return 'a folder'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p)
  } catch {
    return undefined
  }
}

/**
 * Throws exit 2 when something on the way to folder `dir` (dir itself or a parent) exists and is not a folder
 * (symlinks followed): ".../.obsctl is a file, not a folder". `hints` say what fixes it (the flag); nothing is created.
 */
export function assertFolderPath(dir: string, hints: string[] = []): void {
  const abs = path.resolve(dir)
  const parts = abs.split(path.sep)
  for (let i = 2; i <= parts.length; i++) {
    const p = parts.slice(0, i).join(path.sep)
    const st = statOrUndefined(p)
    if (!st) return
    if (!st.isDirectory()) {
      const what =
        path.basename(p) === OBSCTL_DIR_NAME
          ? `obsctl keeps its state in the folder ${p}: move that file away (mv ${shWord(p)} ${shWord(`${p}.old`)}) and rerun`
          : `move ${p} away, or give another path`
      throw inputError(`${p} is ${fileKind(st)}, not a folder`, [what, ...hints], 'NOT_A_FOLDER')
    }
  }
}

/**
 * Throws exit 2 when `file` exists and is not a regular file (a folder, FIFO, device, socket; a symlink is followed):
 * obsctl would replace it (an atomic write renames over it) or hang reading it. A missing file is fine.
 */
export function assertRegularFile(file: string, hints: string[] = []): void {
  const st = statOrUndefined(file)
  if (st && !st.isFile()) throw inputError(`${path.resolve(file)} is ${fileKind(st)}, not a regular file`, hints, 'NOT_A_FILE')
}

/** The mode of the file written, and the owner to keep (root replacing another user's file). */
function modeFor(file: string, opts: AtomicWriteOptions): {mode: number; owner?: {uid: number; gid: number}} {
  const st = statOrUndefined(file)
  const owner = st?.isFile() && process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0) ? {uid: st.uid, gid: st.gid} : undefined
  if (opts.mode !== undefined) return {mode: opts.mode, owner}
  if (isPrivatePath(file)) return {mode: 0o600, owner}
  return {mode: st?.isFile() ? st.mode & 0o7777 : 0o644, owner}
}

let tempCount = 0

/** The temporary file an atomic write of file goes through: beside it (the rename stays on its file system). */
function tempFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${++tempCount}.obsctl-tmp`)
}

/** The file a write replaces: a symlink's target (the link stays a link), else the path itself. */
function targetOf(file: string): string {
  try {
    return realpathSync(file)
  } catch {
    return path.resolve(file)
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // not created, or already gone
  }
}

/**
 * Write `file` atomically: a temporary file beside it, every byte written, fsync, rename over it. A target that
 * exists and is not a regular file (a folder, FIFO, device; symlinks are followed) is refused, exit 2: the rename
 * would replace it. On any failure (a full or read-only disk, a stream given as `data` that fails) the file keeps what
 * it held, the temporary file is removed, and the error names the file.
 */
export async function writeFileAtomic(file: string, data: string | Buffer | AsyncIterable<Uint8Array>, opts: AtomicWriteOptions = {}): Promise<void> {
  ensureDir(path.dirname(file))
  assertRegularFile(file)
  const target = targetOf(file)
  const {mode, owner} = modeFor(target, opts)
  const temp = tempFor(target)
  const {open, rename, writeFile} = await import('node:fs/promises')
  let fh: Awaited<ReturnType<typeof open>> | undefined
  try {
    fh = await open(temp, 'wx', mode)
    await fh.chmod(mode)
    if (owner) await fh.chown(owner.uid, owner.gid)
    // writeFile on a FileHandle loops until every byte is written (a stream's as they come; the stream's error fails it)
    await writeFile(fh, data)
    await fh.sync()
    const closing = fh
    fh = undefined
    await closing.close()
    await rename(temp, target)
  } catch (error) {
    await fh?.close().catch(() => undefined)
    removeQuietly(temp)
    throw aboutTarget(error, file, temp)
  }
}

export function writeFileAtomicSync(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  ensureDir(path.dirname(file))
  assertRegularFile(file)
  const target = targetOf(file)
  const {mode, owner} = modeFor(target, opts)
  const temp = tempFor(target)
  let fd: number | undefined
  try {
    fd = openSync(temp, 'wx', mode)
    fchmodSync(fd, mode)
    if (owner) fchownSync(fd, owner.uid, owner.gid)
    // writeFileSync on a descriptor loops until every byte is written (a short write is followed by the next)
    writeFileSync(fd, data)
    fsyncSync(fd)
    const closing = fd
    fd = undefined
    closeSync(closing)
    renameSync(temp, target)
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd)
    removeQuietly(temp)
    throw aboutTarget(error, file, temp)
  }
}

/**
 * Replace `file` by way of `temp` beside it, for a tree written in bulk (a render's thousands of files): the caller
 * has made the folder and owns the file, so none of writeFileAtomicSync's checks run (its folder, its kind, a symlink's
 * target, its mode and owner: a realpath and two stats per file, which made a 1,000-cluster render 1.6x the CPU) and
 * nothing is fsynced. writeFileSync writes every byte (it loops over a short write, and the next write says why it
 * stopped); on a failure the temporary file is removed and the error names `file`.
 */
export function replaceFileSync(file: string, data: string, temp: string): void {
  try {
    writeFileSync(temp, data)
    renameSync(temp, file)
  } catch (error) {
    removeQuietly(temp)
    throw aboutTarget(error, file, temp)
  }
}

/**
 * Create `temp` holding `data`, exclusively (EEXIST when it exists), whole or not at all: a file that is then linked
 * or renamed into place (the run lock, kubectl's lock). On a failure it is removed and the error names `about`, the
 * file it stands for: "cannot write …/.obsctl/lock: no space left on the device".
 */
export function writeNewFileSync(temp: string, data: string, opts: {mode: number; about: string}): void {
  let fd: number | undefined
  try {
    fd = openSync(temp, 'wx', opts.mode)
    writeFileSync(fd, data)
    const closing = fd
    fd = undefined
    closeSync(closing)
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd)
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') removeQuietly(temp)
    throw aboutTarget(error, opts.about, temp)
  }
}

/**
 * Append `data` at `fd` (opened O_APPEND, and for reading: 'a' + '+') whole or not at all: every byte written (a write
 * on a nearly full disk writes what fits, the next one fails), then fsync unless `fsync` is false. On a failure the
 * bytes already written are taken back (the file is cut back to its size before), so a full disk never leaves a
 * partial line a later reader would take for a whole one — a known_hosts line cut inside its key is a different key
 * for that host. They are taken back only while they are still the file's last bytes: another process that appended
 * after them (ssh adds its own lines without a lock) keeps its line, and the partial one stays before it. The error
 * names `about`, the file: write(2) errors carry no path.
 */
export function appendWholeSync(fd: number, data: Buffer, about: string, opts: {fsync?: boolean} = {}): void {
  let written = 0
  try {
    while (written < data.length) {
      const n = writeSync(fd, data, written, data.length - written)
      if (n <= 0) throw Object.assign(new Error('write returned 0 bytes'), {code: 'EIO', syscall: 'write'})
      written += n
    }
    if (opts.fsync !== false) fsyncSync(fd)
  } catch (error) {
    if (written > 0) takeBack(fd, data.subarray(0, written))
    throw aboutTarget(error, about, '')
  }
}

/** Cut the file at fd back to before `tail`, when `tail` is still how it ends. */
function takeBack(fd: number, tail: Buffer): void {
  try {
    const size = fstatSync(fd).size
    const start = size - tail.length
    if (start < 0) return
    const now = Buffer.alloc(tail.length)
    if (readSync(fd, now, 0, tail.length, start) !== tail.length || !now.equals(tail)) return
    ftruncateSync(fd, start)
    fsyncSync(fd)
  } catch {
    // the error being reported is the write's
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // the error being reported is the write's
  }
}

/**
 * A file-system error of a write through a temporary file, made about the file the user named: "cannot write
 * …/x.yaml: no space left on the device", not the temporary name they never gave, nor no name at all (write(2) and
 * fsync(2) errors carry no path).
 */
function aboutTarget(error: unknown, file: string, temp: string): unknown {
  const err = error as NodeJS.ErrnoException
  if (!(error instanceof Error) || typeof err.code !== 'string') return error
  if (err.code === 'EEXIST' && err.path === temp) return error
  if (typeof err.path === 'string' && err.path !== temp) return error
  const was = err.path
  err.path = path.resolve(file)
  // opening the temporary file for writing, renaming it into place, is writing the file
  if (err.syscall === 'open' || err.syscall === 'rename' || err.syscall === 'fsync' || err.syscall === 'fchmod' || err.syscall === 'fchown')
    err.syscall = 'write'
  err.message = was ? err.message.replaceAll(was, err.path) : `${err.message} '${err.path}'`
  return err
}

/**
 * A file's text, read asynchronously. node:fs/promises (with the streams and readline it loads, ~2.4 ms) is required
 * at the first read, not when a module that may read loads: `plan` loads the Argo CD phases only to describe them.
 */
export async function readText(file: string): Promise<string> {
  const {readFile} = await import('node:fs/promises')
  return readFile(file, 'utf8')
}
