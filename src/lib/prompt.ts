/**
 * Asking the user, through a port. Domain code never imports a prompt library: it asks `prompter(answers)`,
 * naming the flags or env vars that answer the question without a terminal. The base command installs the
 * terminal implementation (src/lib/cli/terminal-prompter.ts, inquirer on stderr); with no terminal, with CI
 * set, or with nothing installed (a library caller, a test), every question fails with exit 2 (NO_TTY)
 * and those answers as the hints.
 */
import {inputError} from './errors.js'

export type Validate = (value: string) => true | string

export interface Prompter {
  input(q: {message: string; default?: string; validate?: Validate}): Promise<string>
  /** masked input */
  password(q: {message: string; validate?: Validate}): Promise<string>
  number(q: {message: string; default?: number; min?: number; max?: number}): Promise<number | undefined>
  select<T>(q: {message: string; choices: {name: string; value: T}[]; default?: T}): Promise<T>
  confirm(q: {message: string; default?: boolean}): Promise<boolean>
}

/**
 * Is this a CI run? The one place obsctl reads $CI: set to anything but empty, `false`, `0` or `no`
 * (any case) means CI — so `CI=false` on a workstation still prompts.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase()
  return v !== undefined && v !== '' && v !== 'false' && v !== '0' && v !== 'no'
}

let installed: Prompter | undefined

/** Install the terminal implementation (the base command does, before a command runs). */
export function usePrompter(p: Prompter | undefined): void {
  installed = p
}

/** May obsctl ask? A terminal on stdin, CI not set, and a prompter installed. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY) && !isCI() && installed !== undefined
}

const noTty = (what: string, answers: string[]) =>
  inputError(`${what} needs an answer, and obsctl does not prompt without a terminal (or with CI set)`, answers, 'NO_TTY')

/** Throw an exit-2 error naming the flags/env vars that answer the question when obsctl may not ask. */
export function requireInteractive(what: string, answers: string[]): void {
  if (!canPrompt()) throw noTty(what, answers)
}

/** The prompter to ask with: the terminal's when obsctl may ask, else one whose every question fails naming `answers`. */
export function prompter(answers: string[] = []): Prompter {
  if (canPrompt()) return installed!
  const fail = async (q: {message: string}): Promise<never> => {
    throw noTty(q.message, answers)
  }
  return {input: fail, password: fail, number: fail, select: fail, confirm: fail}
}
