/**
 * stdout and stderr without Node's stream objects where they are not terminals.
 *
 * Reading `process.stdout` or `process.stderr` makes Node build the stream: for a pipe a net.Socket (node:net and the
 * stream modules), for a file or /dev/null a SyncWriteStream (the stream modules): ~15M instructions, ~8% of a `plan`'s
 * start-up, before a byte is written. A command's report and notes are written here instead: to a terminal (or once
 * Node made the stream anyway, so nothing written through it can be passed) through the stream, else whole and
 * directly to the descriptor, as Node's stream does for a file (and, until the pipe is full, for a pipe). Whether a
 * descriptor is a terminal is told without the stream: a file, a pipe or a socket is not (fstat), nor one of Linux's
 * memory devices (/dev/null: major 1); anything else is asked of node:tty.
 *
 * bin/run.js installs this first (installStdio, through dist/code-cache.cjs), so that it sees when Node makes either
 * stream; the bundle's own copy of this module reads that from the global it installs. Without it (a test importing
 * the module) everything goes through the streams, as before.
 */
import {fstatSync, writeSync} from 'node:fs'
import {ExitCode, fsReason, ObsctlError} from './errors.js'

export type StdFd = 1 | 2

interface StdioState {
  /** whether Node made process.stdout (1) / process.stderr (2) */
  made: Record<StdFd, boolean>
  isTerminal(fd: StdFd): boolean
  /** run `fn` on the stream when Node makes it (now, if it has): oclif's EPIPE handler on stdout (bin/bundle.mjs) */
  whenMade(fd: StdFd, fn: (stream: NodeJS.WriteStream) => void): void
}

/** on globalThis: bin/run.js's copy of this module (dist/code-cache.cjs) and the bundle's share it */
const KEY = Symbol.for('obsctl.stdio')
const stateOf = () => (globalThis as {[KEY]?: StdioState})[KEY]

/** bin/run.js, before anything else reads process.stdout or process.stderr. */
export function installStdio(): void {
  if (stateOf()) return
  const terminal: Partial<Record<StdFd, boolean>> = {}
  const waiting: Record<StdFd, ((stream: NodeJS.WriteStream) => void)[]> = {1: [], 2: []}
  const state: StdioState = {
    made: {1: false, 2: false},
    isTerminal: (fd) => (terminal[fd] ??= state.made[fd] ? streamOf(fd).isTTY === true : ttyWithoutStream(fd)),
    whenMade: (fd, fn) => (state.made[fd] ? fn(streamOf(fd)) : void waiting[fd].push(fn)),
  }
  for (const [name, fd] of [
    ['stdout', 1],
    ['stderr', 2],
  ] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name)
    const get = d?.get
    if (d && get && d.configurable)
      Object.defineProperty(process, name, {
        ...d,
        get() {
          const stream = get.call(this) as NodeJS.WriteStream
          if (!state.made[fd]) {
            state.made[fd] = true
            for (const fn of waiting[fd].splice(0)) fn(stream)
          }
          return stream
        },
      })
    else state.made[fd] = true
  }
  ;(globalThis as {[KEY]?: StdioState})[KEY] = state
}

const streamOf = (fd: StdFd): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr)

function ttyWithoutStream(fd: StdFd): boolean {
  let st
  try {
    st = fstatSync(fd)
  } catch {
    return false
  }
  if (!st.isCharacterDevice()) return false
  // Linux's memory devices (/dev/null, /dev/zero, /dev/full…) are never terminals: `obsctl … >/dev/null`
  if (process.platform === 'linux' && ((st.rdev >> 8) & 0xfff) === 1) return false
  // (getBuiltinModule: Node 20.16, package.json's engines; no import.meta in dist/code-cache.cjs)
  return process.getBuiltinModule('node:tty').isatty(fd)
}

/** Whether stdout (1) or stderr (2) is a terminal. */
export function isTerminal(fd: StdFd): boolean {
  const s = stateOf()
  return s ? s.isTerminal(fd) : streamOf(fd).isTTY === true
}

/** stdout or stderr as the width and colour decisions read it: whether it is a terminal, and a terminal's size. */
export interface StdView {
  readonly isTTY: boolean
  readonly columns?: number
  readonly rows?: number
}

const view = (fd: StdFd): StdView => ({
  get isTTY() {
    return isTerminal(fd)
  },
  get columns() {
    return isTerminal(fd) ? streamOf(fd).columns : undefined
  },
  get rows() {
    return isTerminal(fd) ? streamOf(fd).rows : undefined
  },
})
export const stdoutView = view(1)
export const stderrView = view(2)

/**
 * Write to stdout (1) or stderr (2): through Node's stream when there is one or the descriptor is a terminal, else
 * whole and directly (writeFully).
 */
export function writeStd(fd: StdFd, text: string): void {
  const s = stateOf()
  if (!s || s.made[fd] || s.isTerminal(fd)) {
    streamOf(fd).write(text)
    return
  }
  try {
    writeFully(fd, text)
  } catch (error) {
    // `obsctl plan > report.txt` on a full disk: the command fails saying where its output could not go
    const name = fd === 1 ? 'standard output' : 'standard error'
    throw new ObsctlError(`cannot write to ${name}: ${fsReason(error)}`, {
      exitCode: ExitCode.failed,
      code: `FS_${(error as NodeJS.ErrnoException).code ?? 'ERROR'}`,
      hints: [`check where ${name} goes (a full disk: df -h that folder) and run the same command again`],
      cause: error,
    })
  }
}

/**
 * All of `text` to the descriptor, now: a pipe another process made non-blocking answers EAGAIN while it is full (the
 * wait is a millisecond at a time); a reader gone (EPIPE) ends the output quietly, as oclif treats an EPIPE of its
 * own; any other error (a full disk: ENOSPC) is thrown, for the command to fail with it.
 */
export function writeFully(fd: number, text: string): void {
  let rest = Buffer.from(text)
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EPIPE') return
      if (code !== 'EAGAIN') throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}

/** Whether Node made the stream (a flush has something to wait for); true without bin/run.js. */
export function streamMade(fd: StdFd): boolean {
  return stateOf()?.made[fd] ?? true
}
