/** Prompting policy: never prompt without a TTY or with CI set; fail naming the flag instead. */
import {inputError} from '../errors.js'

/**
 * Is this a CI run? The one place obsctl reads $CI: set to anything but empty, `false`, `0` or `no`
 * (any case) means CI — so `CI=false` on a workstation still prompts.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase()
  return v !== undefined && v !== '' && v !== 'false' && v !== '0' && v !== 'no'
}

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY) && !isCI()
}

/** Throw an exit-2 error naming the flags/env vars that answer the question. */
export function requireInteractive(what: string, answers: string[]): void {
  if (!canPrompt()) {
    throw inputError(`${what} needs an answer, and obsctl does not prompt without a terminal (or with CI set)`, answers, 'NO_TTY')
  }
}
