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
  /** a stable machine-readable code, e.g. CONFIG_PARSE, SSH_HOSTKEY_CHANGED */
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
