/**
 * The last validation, kept in .obsctl/validation.json so `obsctl status` can show its result and age.
 * Written by `obsctl validate` and the bootstrap `validate` phase; details only, no credentials.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import {obsctlDir} from '../config/model.js'
import {writeFileAtomic} from '../fs.js'
import type {CheckStatus, Component, Verdict} from './types.js'

export interface ValidationRecord {
  /** ISO time the run ended */
  at: string
  ok: boolean
  components: Component[]
  summary: Verdict['summary']
  skipped: string[]
  checks: {id: string; component: Component; result: CheckStatus; detail: string; clusters?: string[]}[]
}

export const recordFile = (inv: LoadedInventory) => path.join(obsctlDir(inv.dir), 'validation.json')

export async function recordVerdict(inv: LoadedInventory, v: Verdict, now = new Date()): Promise<void> {
  const rec: ValidationRecord = {
    at: now.toISOString(),
    ok: v.ok,
    components: v.components,
    summary: v.summary,
    skipped: v.skipped,
    checks: v.checks.map((c) => ({id: c.id, component: c.component, result: c.result, detail: c.detail, ...(c.clusters ? {clusters: c.clusters} : {})})),
  }
  await writeFileAtomic(recordFile(inv), `${JSON.stringify(rec, null, 2)}\n`)
}

/** The last record, or undefined when there is none (or it cannot be read: status must not fail on it). */
export function lastValidation(inv: LoadedInventory): ValidationRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(recordFile(inv), 'utf8')) as ValidationRecord
    return typeof rec.at === 'string' && Array.isArray(rec.checks) ? rec : undefined
  } catch {
    return undefined
  }
}
