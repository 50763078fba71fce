/** Prompting policy: never prompt without a TTY or with CI set; fail naming the flag instead. */
import {inputError} from '../errors.js'

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY) && !process.env.CI
}

/** Throw an exit-2 error naming the flags/env vars that answer the question. */
export function requireInteractive(what: string, answers: string[]): void {
  if (!canPrompt()) {
    throw inputError(`${what} needs an answer, and obsctl does not prompt without a terminal (or with CI set)`, answers, 'NO_TTY')
  }
}
