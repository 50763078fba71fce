import {findingFromError} from '../../checks/run.js'
import type {CheckResult} from '../types.js'

export const pass = (detail: string): CheckResult => ({result: 'pass', detail})
/** `clusters`: the inventory clusters the problem is about, when it is about some (obsctl status shows it on their rows) */
export const warn = (detail: string, hint?: string, clusters?: string[]): CheckResult => ({
  result: 'warn',
  detail,
  hint,
  ...(clusters?.length ? {clusters} : {}),
})
export const fail = (detail: string, hint?: string, clusters?: string[]): CheckResult => ({
  result: 'fail',
  detail,
  hint,
  ...(clusters?.length ? {clusters} : {}),
})

/** The clusters named at the start of `<cluster>: …` problem lines. */
export const clustersOf = (problems: string[]): string[] => [...new Set(problems.map((p) => p.slice(0, p.indexOf(':'))).filter(Boolean))]

/** A thrown error as a failed check: its message, and its first hint. */
export function failFromError(e: unknown): CheckResult {
  const f = findingFromError(e)
  return fail(f.detail, f.hint)
}

export {list} from '../../words.js'

export type {PromEnvelope, PromVector} from '../../platform/index.js'
