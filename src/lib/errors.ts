/**
 * The one error type of obsctl: an exit code, a message and "try this" lines.
 * Library code throws it; the command's catch renders it (JSON under --json).
 * No lib module calls process.exit.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ObsctlErrorOptions {
  /** exit code: 1 a task/check failed, 2 bad input/config, 130 interrupted */
  exitCode?: number
  /** "try this" lines: the flag, env var or command that fixes it */
  hints?: string[]
  /** a stable machine-readable code, e.g. CONFIG_INVALID, SSH_HOSTKEY_CHANGED */
  code?: string
  /** extra structured detail for --json (e.g. the list of findings) */
  details?: unknown
  cause?: unknown
}

export class ObsctlError extends Error {
  readonly exitCode: number
  readonly hints: string[]
  readonly code: string
  readonly details?: unknown

  constructor(message: string, opts: ObsctlErrorOptions = {}) {
    super(message, {cause: opts.cause})
    this.name = 'ObsctlError'
    this.exitCode = opts.exitCode ?? ExitCode.failed
    this.hints = opts.hints ?? []
    this.code = opts.code ?? 'FAILED'
    this.details = opts.details
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {code: this.code, message: this.message, exitCode: this.exitCode, hints: this.hints, details: this.details},
    }
  }
}

/** Bad input or configuration: exit code 2. */
export function inputError(message: string, hints: string[] = [], code = 'BAD_INPUT', details?: unknown): ObsctlError {
  return new ObsctlError(message, {exitCode: ExitCode.badInput, hints, code, details})
}

/** The run was interrupted (Ctrl-C / SIGTERM): exit code 130. */
export function interruptedError(message = 'interrupted'): ObsctlError {
  return new ObsctlError(message, {exitCode: ExitCode.interrupted, code: 'INTERRUPTED'})
}

export function isObsctlError(e: unknown): e is ObsctlError {
  return e instanceof ObsctlError
}

/** A short message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}

/** What a Node.js file-system error code means, in words (never the raw `EACCES: …` text). */
const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'it already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  EBUSY: 'the file is busy',
}

const FS_VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'replace',
  unlink: 'remove',
  rmdir: 'remove the folder',
  scandir: 'list',
  stat: 'inspect',
  lstat: 'inspect',
  chmod: 'change the mode of',
  copyfile: 'copy',
  link: 'link',
  symlink: 'link',
  access: 'access',
  readlink: 'read the link',
}

type NodeError = Error & {code?: string; syscall?: string; path?: string; dest?: string}

/** Only the reason of a Node.js file-system error ("permission denied"), else the error's message. */
export function fsReason(e: unknown): string {
  const code = (e as NodeError)?.code
  return typeof code === 'string' && code in FS_REASONS ? FS_REASONS[code]! : errorMessage(e)
}

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'name not found in DNS',
  EAI_AGAIN: 'DNS lookup failed for now',
  EPIPE: 'connection closed',
}

/**
 * A network error in words with its code, "network unreachable (ENETUNREACH)", instead of Node's
 * "connect ENETUNREACH 10.0.0.1:22 - Local (0.0.0.0:0)"; any other error's message as it is.
 */
export function netReason(e: unknown): string {
  const code = (e as NodeError)?.code
  return typeof code === 'string' && code in NET_REASONS ? `${NET_REASONS[code]!} (${code})` : errorMessage(e)
}

/** A Node.js file-system error as words: "cannot write /x/y: permission denied"; undefined if `e` is not one. */
export function fsErrorMessage(e: unknown): string | undefined {
  const err = e as NodeError
  if (!(e instanceof Error) || typeof err.code !== 'string' || !(err.code in FS_REASONS)) return undefined
  const verb = (err.syscall && FS_VERBS[err.syscall]) ?? 'use'
  const where = err.path ? ` ${err.path}` : ''
  return `cannot ${verb}${where}: ${FS_REASONS[err.code]}`
}

/** The folder a path is in ("/x/y" → "/x"), without node:path (this module is a leaf every command loads). */
function parentOf(p: string): string {
  const i = p.replace(/\/+$/, '').lastIndexOf('/')
  return i > 0 ? p.slice(0, i) : '/'
}

/** An ObsctlError for a raw Node.js file-system error (what to check, where), or undefined. */
export function fromFsError(e: unknown): ObsctlError | undefined {
  const message = fsErrorMessage(e)
  if (!message) return undefined
  const err = e as NodeError
  const p = err.path ?? 'the file'
  const dir = err.path ? parentOf(err.path) : 'the folder'
  const hints: Record<string, string[]> = {
    EACCES: [`check the owner and mode of ${p} and its folders (ls -ld ${p}); run obsctl as the user who owns them`],
    EPERM: [`check the owner and mode of ${p} (ls -ld ${p})`],
    EISDIR: [`give the path of a file, not of the folder ${p}`],
    ENOTDIR: [`check the path ${p}: one of its parents is a file`],
    ENOENT: [`check the path ${p}`],
    EROFS: [
      `${dir} is on a read-only file system: remount it read-write, or run from a folder on a writable one (obsctl writes .obsctl/ beside the inventory)`,
    ],
    ENOSPC: [`free some space on the file system holding ${dir} (df -h ${dir}) and run the same command again`],
    EDQUOT: [`free some space of your quota on the file system holding ${dir} (quota -s) and run the same command again`],
  }
  // a path the user pointed at (wrong kind of file, missing) is bad input; the machine refusing is a failure
  const badInput = ['EISDIR', 'ENOTDIR', 'ENOENT', 'ENAMETOOLONG', 'ELOOP'].includes(err.code!)
  return new ObsctlError(message, {exitCode: badInput ? ExitCode.badInput : ExitCode.failed, code: `FS_${err.code}`, hints: hints[err.code!] ?? [], cause: e})
}

/** The user answered no to a confirmation: exit code 1, nothing was changed. */
export function declinedError(what = 'not confirmed'): ObsctlError {
  return new ObsctlError(`${what}; nothing was changed`, {exitCode: ExitCode.failed, code: 'DECLINED', hints: ['pass --yes to go ahead without the question']})
}

/** What Ctrl-C at a prompt ends a command with (isPromptExit): exit 130, nothing more was done. */
export function promptInterruptedError(hints = ['nothing after this question was done: run the same command again to answer it']): ObsctlError {
  return new ObsctlError('interrupted at a prompt (Ctrl-C)', {exitCode: ExitCode.interrupted, code: 'INTERRUPTED', hints})
}

/** Ctrl-C at a prompt (@inquirer/prompts rejects with ExitPromptError), anywhere in the cause chain. */
export function isPromptExit(e: unknown): boolean {
  for (let x = e, i = 0; x && i < 10; x = (x as {cause?: unknown}).cause, i++) {
    if (x instanceof Error && x.name === 'ExitPromptError') return true
  }
  return false
}
