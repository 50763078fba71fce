/**
 * The run journal `.obsctl/state.json`: one record per `<phase>/<target.id>`, rewritten atomically
 * (write + fsync + rename) on every task transition, so a SIGKILLed run always leaves a whole file.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {ObsctlError} from '../errors.js'
import {writeFileAtomicSync} from '../fs.js'
import type {StateFile, TaskRecord} from './types.js'

export const STATE_FILE = 'state.json'

export function stateFilePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE)
}

export function taskKey(phase: string, targetId: string): string {
  return `${phase}/${targetId}`
}

/** JSON with object keys sorted at every level (undefined dropped), so equal inputs hash equally. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortDeep(value)) ?? 'null'
}

function sortDeep(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : sortDeep(x)))
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Map) return sortDeep(Object.fromEntries(v))
  if (v instanceof Set) return [...v].map(sortDeep)
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k]
    if (x !== undefined && typeof x !== 'function') out[k] = sortDeep(x)
  }
  return out
}

/** sha256 of the stable serialisation of a phase's fingerprint(target, ctx). */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex')
}

export class StateStore {
  readonly file: string
  private data: StateFile

  private constructor(file: string, data: StateFile) {
    this.file = file
    this.data = data
  }

  /** Load the journal beside the inventory (an empty one when absent). */
  static load(stateDir: string, inventory: string): StateStore {
    const file = stateFilePath(stateDir)
    const empty: StateFile = {version: 1, inventory, updatedAt: new Date(0).toISOString(), tasks: {}}
    if (!existsSync(file)) return new StateStore(file, empty)
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (e) {
      throw new ObsctlError(`${file} is not valid JSON: ${(e as Error).message}`, {
        exitCode: 2,
        code: 'STATE_CORRUPT',
        hints: ['obsctl state reset --yes  (forgets what was done; tasks re-check the live systems)'],
      })
    }
    const s = parsed as Partial<StateFile>
    if (!s || typeof s !== 'object' || s.version !== 1 || typeof s.tasks !== 'object' || s.tasks === null) {
      throw new ObsctlError(`${file} is not an obsctl state file (version 1)`, {exitCode: 2, code: 'STATE_CORRUPT', hints: ['obsctl state reset --yes']})
    }
    return new StateStore(file, {version: 1, inventory: s.inventory ?? inventory, updatedAt: s.updatedAt ?? empty.updatedAt, tasks: s.tasks})
  }

  get(phase: string, targetId: string): TaskRecord | undefined {
    return this.data.tasks[taskKey(phase, targetId)]
  }

  all(): TaskRecord[] {
    return Object.values(this.data.tasks)
  }

  get updatedAt(): string {
    return this.data.updatedAt
  }

  /** Replace one task's record and persist at once. */
  put(rec: TaskRecord): void {
    this.data.tasks[taskKey(rec.phase, rec.target)] = rec
    this.save()
  }

  /** Forget tasks (all, or those of the given phases); returns how many were removed. */
  reset(phases?: string[]): number {
    let n = 0
    for (const [k, r] of Object.entries(this.data.tasks)) {
      if (!phases?.length || phases.includes(r.phase)) {
        delete this.data.tasks[k]
        n++
      }
    }
    this.save()
    return n
  }

  snapshot(): StateFile {
    return structuredClone(this.data)
  }

  save(): void {
    this.data.updatedAt = new Date().toISOString()
    // sync: transitions must be on disk before the next step (and from a signal handler)
    writeFileAtomicSync(this.file, `${JSON.stringify(this.data, null, 2)}\n`, {mode: 0o600})
  }
}
