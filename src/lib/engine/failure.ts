/** A thrown value as the journal keeps it: an ObsctlError's exit code, code and hints survive the run. */
import {ExitCode, ObsctlError, errorMessage, fromFsError} from '../errors.js'
import {redactDeep, redactText} from '../config/validators.js'
import type {TaskFailure} from './types.js'

export function failureOf(thrown: unknown, prefix = ''): TaskFailure {
  // a file-system error in words, with the file and what to do (a full disk: "cannot write …: no space left on the device")
  const e = thrown instanceof ObsctlError ? thrown : (fromFsError(thrown) ?? thrown)
  // what the journal keeps (and a command shows later) quotes no credential a message carried (a URL's password)
  if (e instanceof ObsctlError) return {message: redactText(`${prefix}${e.message}`, {}), code: e.code, exitCode: e.exitCode, hints: redactDeep(e.hints)}
  return {message: redactText(`${prefix}${errorMessage(e)}`, {}), exitCode: ExitCode.failed, hints: []}
}

/** The failure as an error a command can throw (its exit code and hints intact). */
export function failureError(f: TaskFailure, extra: {hints?: string[]; details?: unknown; message?: string} = {}): ObsctlError {
  return new ObsctlError(extra.message ?? f.message, {exitCode: f.exitCode, code: f.code, hints: [...f.hints, ...(extra.hints ?? [])], details: extra.details})
}
