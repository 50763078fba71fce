/**
 * Atomic file writes (write + fsync + rename) — the one way obsctl writes state and credentials — and the private
 * folders they go in; readText, a file's text read without loading node:fs/promises before the first read.
 */
import {chmodSync, mkdirSync, realpathSync, statSync, type Stats} from 'node:fs'
import path from 'node:path'
import {inputError} from './errors.js'
// write-file-atomic on the first write (./lazy-deps.ts): it loads node:crypto, worker_threads and signal-exit,
// start-up time that commands which only read need not pay
import {atomicWriter as writeFileAtomicLib} from './lazy-deps.js'

export interface AtomicWriteOptions {
  /**
   * file mode, e.g. 0o600 for anything holding credentials (default 0o600 inside `.obsctl/`; elsewhere an existing
   * file keeps its own — a user's 0600 inventory stays 0600 through every edit — and a new one is 0o644). The owner
   * of an existing file is kept either way (write-file-atomic chowns the new file as root).
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

/** mkdir -p; a file (or anything but a folder) in the way is bad input naming it, not "cannot create the folder: it already exists". */
function mkdirFolder(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, {recursive: true, mode})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') assertFolderPath(dir)
    throw error
  }
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
          ? `obsctl keeps its state in the folder ${p}: move that file away (mv ${p} ${p}.old) and rerun`
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

function modeFor(file: string, opts: AtomicWriteOptions): number {
  if (opts.mode !== undefined) return opts.mode
  if (isPrivatePath(file)) return 0o600
  const st = statOrUndefined(file)
  return st?.isFile() ? st.mode & 0o7777 : 0o644
}

/**
 * Write `file` atomically: a temporary file beside it, fsync, rename over it. A target that exists and is not a
 * regular file (a folder, FIFO, device; symlinks are followed) is refused, exit 2: the rename would replace it.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): Promise<void> {
  ensureDir(path.dirname(file))
  assertRegularFile(file)
  try {
    await writeFileAtomicLib()(file, data, {mode: modeFor(file, opts), fsync: true})
  } catch (error) {
    throw aboutTarget(error, file)
  }
}

export function writeFileAtomicSync(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  ensureDir(path.dirname(file))
  assertRegularFile(file)
  try {
    writeFileAtomicLib().sync(file, data, {mode: modeFor(file, opts), fsync: true})
  } catch (error) {
    throw aboutTarget(error, file)
  }
}

/**
 * A file-system error of an atomic write about its temporary file (`x.yaml.280809446`), made about the file the
 * user named: "cannot write …/x.yaml: permission denied", not the temporary name they never gave.
 */
function aboutTarget(error: unknown, file: string): unknown {
  const err = error as NodeJS.ErrnoException
  if (typeof err?.path !== 'string') return error
  let real = file
  try {
    real = realpathSync(file)
  } catch {
    // not there yet: the library writes beside the path as given
  }
  const tmp = [file, path.resolve(file), real].find((t) => err.path!.startsWith(`${t}.`) && /^\d+$/.test(err.path!.slice(t.length + 1)))
  if (tmp === undefined) return error
  const temp = err.path
  err.path = path.resolve(file)
  // opening the temporary file for writing is writing the file
  if (err.syscall === 'open') err.syscall = 'write'
  err.message = err.message.replaceAll(temp, err.path)
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
