/**
 * obsctl's environment variables, read one way. Unset and empty are the same (shells and CI systems leave a variable
 * empty where they mean unset). A value that is only whitespace, or holds a control character (a newline kept from a
 * file, a carriage return from a Windows editor, a tab), is never what was meant: a credential with a newline broke
 * the S3 request's Authorization header only after the run had started (exit 1, "Invalid character in header
 * content"), a blank OBSCTL_CONFIG made `init` write an inventory named " ". Such a value is bad input (exit 2) that
 * names the variable; a secret's value is never shown, only where the problem is.
 */
import {inputError} from './errors.js'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** A control character as a reader would name it. */
function controlName(ch: string): string {
  if (ch === '\n') return 'a newline'
  if (ch === '\r') return 'a carriage return'
  if (ch === '\t') return 'a tab'
  return `control character U+${ch.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`
}

/**
 * What is wrong with a (non-empty) value read from the environment, as `is blank …` / `holds a newline at its end`, or
 * undefined. Where inside the value is said by character (`at character 5 of 15`), except for a secret, whose length
 * is not told: its end, its start or inside it.
 */
export function valueProblem(value: string, o: {secret?: boolean} = {}): string | undefined {
  if (value.trim() === '') return 'is blank: only whitespace'
  const at = CONTROL.exec(value)
  if (!at) return undefined
  const where =
    at.index === value.length - 1
      ? 'at its end'
      : o.secret
        ? at.index === 0
          ? 'at its start'
          : 'inside it'
        : `at character ${at.index + 1} of ${value.length}`
  return `holds ${controlName(at[0])} ${where}`
}

/** What is wrong with an env var's (non-empty) value, naming it, or undefined; `secret`: the value is never quoted. */
export function envValueProblem(name: string, value: string, o: {secret?: boolean} = {}): string | undefined {
  const problem = valueProblem(value, o)
  return problem && `$${name}${o.secret ? '' : ` (${JSON.stringify(value)})`} ${problem}`
}

/** The one-line fix for an env var's bad value, as doctor and config validate give it. */
export const envFix = (name: string, value = '…', what = 'value'): string => `export ${name}=${value} with the ${what} alone, or unset it`

/**
 * The value of `$name`, or undefined when it is unset or empty. Blank or with a control character: exit 2 naming the
 * variable, with `fix` (what to set it to) and a way to leave it unset as hints.
 */
export function envValue(name: string, o: {secret?: boolean; fix?: string; env?: NodeJS.ProcessEnv} = {}): string | undefined {
  const value = (o.env ?? process.env)[name]
  if (!value) return undefined
  const problem = envValueProblem(name, value, o)
  if (problem)
    throw inputError(
      problem,
      [o.fix ?? `export ${name}=… with the value alone (a value taken from a file with $(cat FILE) loses the file's line end)`, `or unset ${name}`],
      'BAD_ENV',
    )
  return value
}
