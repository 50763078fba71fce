/**
 * What validation found, kept in .obsctl/validation.json so `obsctl status` can show each check's last result and
 * its age. Written by `obsctl validate` and the bootstrap `validate` phase; details only, no credentials.
 *
 * The record MERGES runs: a run replaces the results of the checks it ran (by check id) and keeps the others, each
 * check with the time it was made (`at`). So `obsctl validate argocd` after a failing full run keeps the thanos
 * failures, and status can tell an old result from a new one (it shows the age of the oldest result it rests on,
 * ../status/index.ts). What the inventory no longer has does not linger — on reading as on writing: a check obsctl
 * no longer registers is dropped, and so is a check about clusters that are all gone from the inventory (a removed
 * cluster's warnings and failures); a check about some removed clusters keeps the others. The top-level `ok`,
 * `components`, `summary` and `skipped` describe the merged checks; `at` is when the latest run ended.
 * A record written before checks had their own time (no `at` on a check) reads as if every check was made at the
 * record's `at`. Keys this version does not know (a newer obsctl's) are kept on rewriting, at the top and on each
 * check it keeps; a check a run replaces is this run's result.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import {obsctlDir} from '../config/model.js'
import {lockPathFor, withFileLock} from '../file-lock.js'
import {writeFileAtomic} from '../fs.js'
import {CHECK_IDS} from './checks/index.js'
import {COMPONENTS, type CheckStatus, type Component, type Verdict} from './types.js'

export interface RecordedCheck {
  id: string
  component: Component
  result: CheckStatus
  detail: string
  /** the inventory clusters a warn/fail concerns (absent: the platform as a whole) */
  clusters?: string[]
  /** ISO time of the run that made this result */
  at: string
}

export interface ValidationRecord {
  /** ISO time the latest run ended */
  at: string
  /** no recorded check failed */
  ok: boolean
  /** the components with a recorded check */
  components: Component[]
  /** over the recorded checks; `skipped`: how many checks were skipped and never recorded */
  summary: Verdict['summary']
  /** checks a run skipped (--skip) that have no recorded result */
  skipped: string[]
  /** the latest result of each check, in the order validate lists them */
  checks: RecordedCheck[]
}

/** What a record is read against: the checks obsctl has and the inventory's clusters. */
interface Current {
  checkIds: readonly string[]
  clusters: readonly string[]
}

export const recordFile = (inv: LoadedInventory) => path.join(obsctlDir(inv.dir), 'validation.json')

const currentOf = (inv: LoadedInventory): Current => ({checkIds: CHECK_IDS, clusters: inv.platform.clusters.map((c) => c.name)})

/**
 * Merge the verdict into the record on disk (see the file's comment) and write it, holding `validation.json.lock`
 * from the read to the write (../file-lock.ts): two runs at once (two `validate`s, or one beside bootstrap's
 * validate phase) both keep their results, the second merging into what the first wrote.
 */
export async function recordVerdict(inv: LoadedInventory, v: Verdict, now = new Date()): Promise<void> {
  const file = recordFile(inv)
  await withFileLock(lockPathFor(file), async () => {
    const prev = readRecord(inv)
    // a newer obsctl's keys at the top are kept (every key this version knows is the merge's)
    const rec = {...prev, ...mergeRecord(prev, v, now, currentOf(inv))}
    await writeFileAtomic(file, `${JSON.stringify(rec, null, 2)}\n`)
  })
}

/**
 * The merged record, or undefined when there is none, it cannot be read (status must not fail on it) or no check
 * of it is left for the current inventory.
 */
export function lastValidation(inv: LoadedInventory): ValidationRecord | undefined {
  const raw = readRecord(inv)
  if (!raw) return undefined
  const rec = current(raw.checks, raw.skipped, raw.at, currentOf(inv))
  return rec.checks.length > 0 ? rec : undefined
}

/**
 * PREV (undefined: none) with the checks VERDICT ran replaced by its results made at NOW, then only what CURRENT
 * still has (exported for tests).
 */
export function mergeRecord(prev: Pick<ValidationRecord, 'checks' | 'skipped'> | undefined, v: Verdict, now: Date, cur: Current): ValidationRecord {
  const at = now.toISOString()
  const ran = new Set(v.checks.map((c) => c.id))
  const checks: RecordedCheck[] = [
    ...(prev?.checks ?? []).filter((c) => !ran.has(c.id)),
    ...v.checks.map((c) => ({id: c.id, component: c.component, result: c.result, detail: c.detail, ...(c.clusters ? {clusters: c.clusters} : {}), at})),
  ]
  return current(checks, [...(prev?.skipped ?? []), ...v.skipped], at, cur)
}

/** The record on disk as written, every check with its own `at` (the old format's from the record's); no pruning. */
function readRecord(inv: LoadedInventory): ValidationRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(recordFile(inv), 'utf8')) as Partial<ValidationRecord>
    if (typeof rec.at !== 'string' || !Array.isArray(rec.checks)) return undefined
    const at = rec.at
    const checks = rec.checks
      .filter((c): c is RecordedCheck => typeof c === 'object' && c !== null && typeof c.id === 'string')
      .map((c) => ({...c, at: typeof c.at === 'string' ? c.at : at}))
    return {...(rec as ValidationRecord), checks, skipped: Array.isArray(rec.skipped) ? rec.skipped : []}
  } catch {
    return undefined
  }
}

/** The checks still registered and about a cluster still in the inventory, in validate's order, with the totals over them. */
function current(all: RecordedCheck[], skippedBefore: string[], at: string, cur: Current): ValidationRecord {
  const order = new Map(cur.checkIds.map((id, i) => [id, i]))
  const clusters = new Set(cur.clusters)
  const checks = all
    .filter((c) => order.has(c.id))
    .flatMap((c) => {
      if (!c.clusters?.length) return [c]
      const left = c.clusters.filter((n) => clusters.has(n))
      return left.length === 0 ? [] : [{...c, clusters: left}]
    })
    .sort((a, b) => order.get(a.id)! - order.get(b.id)!)
  const recorded = new Set(checks.map((c) => c.id))
  const skipped = [...new Set(skippedBefore)].filter((id) => order.has(id) && !recorded.has(id))
  const count = (r: CheckStatus) => checks.filter((c) => c.result === r).length
  const summary = {pass: count('pass'), warn: count('warn'), fail: count('fail'), skipped: skipped.length}
  const components = COMPONENTS.filter((k) => checks.some((c) => c.component === k))
  return {at, ok: summary.fail === 0, components, summary, skipped, checks}
}
