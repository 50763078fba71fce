/**
 * The run journal `.obsctl/state.json`: one record per `<phase>/<target.id>`, rewritten atomically
 * (write + fsync + rename) on every task transition, so a SIGKILLed run always leaves a whole file.
 *
 * Keys this version does not know — a newer obsctl's, at the top, in a task record, its failure or a phase run —
 * are kept when the file is rewritten (the schema's objects are loose, not stripping): a journal a newer obsctl
 * wrote and this one saved still has them. A record this version writes anew (its task ran again, or its phase
 * started again) is this version's: it describes the new run, and what a newer version kept about the old one goes.
 */
import {existsSync, readFileSync, renameSync} from 'node:fs'
import path from 'node:path'
import type * as z from 'zod'
import {zod} from '../lazy-deps.js'
import {derivedCache, derivedJson, fileEntryName} from '../derived-cache.js'
import {ObsctlError} from '../errors.js'
import {writeFileAtomicSync} from '../fs.js'
import {sha256} from '../hash.js'
import type {PhaseRunRecord, StateFile, TaskRecord} from './types.js'

/**
 * The journal's shape, checked on every load: a record that is not a task object is refused. Built on first
 * use (once), not when the module loads: most commands read no journal, and building zod schemas is a few
 * milliseconds of every start-up (issue 18).
 */
function buildStateFileSchema() {
  const z = zod()
  const TaskStatusSchema = z.enum(['pending', 'running', 'done', 'failed', 'interrupted', 'skipped'])

  const TaskFailureSchema = z.looseObject({
    message: z.string(),
    code: z.string().optional(),
    exitCode: z.number().int(),
    hints: z.array(z.string()),
  })

  const TaskRecordSchema = z.looseObject({
    phase: z.string().min(1),
    target: z.string().min(1),
    status: TaskStatusSchema,
    fingerprint: z.string().optional(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.number().optional(),
    summary: z.string().optional(),
    report: z.unknown().optional(),
    failure: TaskFailureSchema.optional(),
    /** journals written before failures were structured kept only the message */
    error: z.string().optional(),
    runId: z.string().optional(),
    logFile: z.string().optional(),
  })

  const PhaseRunSchema = z.looseObject({
    runId: z.string().min(1),
    status: z.enum(['running', 'done', 'failed', 'interrupted']),
    startedAt: z.string(),
    endedAt: z.string().optional(),
  })

  return z.looseObject({
    version: z.literal(1),
    inventory: z.string().optional(),
    updatedAt: z.string().optional(),
    tasks: z.record(z.string(), TaskRecordSchema),
    phaseRuns: z.record(z.string(), PhaseRunSchema).optional(),
  })
}

let built: ReturnType<typeof buildStateFileSchema> | undefined
/**
 * The journal's schema. It only checks: loose objects, no default, no transform, so what it returns is what it was
 * given — StateStore.load keeps the file's JSON as parsed, and a journal save() wrote is read back without it
 * (test/engine/unknown-keys.test.ts holds it to that).
 */
export const stateFileSchema = () => (built ??= buildStateFileSchema())

const RESET_HINT = 'obsctl state reset --yes  (moves the bad file aside; tasks then re-check the live systems)'

function corrupt(file: string, what: string, cause?: unknown): ObsctlError {
  return new ObsctlError(`${file} is not a usable obsctl journal: ${what}`, {exitCode: 2, code: 'STATE_CORRUPT', hints: [RESET_HINT], cause})
}

/** The first problem zod found, as `tasks["nodes/a"].status: …`. */
function firstIssue(err: z.ZodError): string {
  const i = err.issues[0]!
  const where = i.path
    .map((s, n) => (typeof s === 'number' ? `[${s}]` : n === 0 ? String(s) : n === 1 && i.path[0] === 'tasks' ? `[${JSON.stringify(s)}]` : `.${String(s)}`))
    .join('')
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem(s))` : ''
  return `${where || '(root)'}: ${i.message}${more}`
}

/** The derived-result cache's entry for a journal file (load reads it, save writes it). */
const journalEntry = (file: string) => fileEntryName('journal', file)

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
  return sha256(stableStringify(value))
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
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (e) {
      // a folder or an unreadable file in its place
      throw corrupt(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e)
    }
    // a journal this build checked before, or wrote itself (save), unchanged to the character, is read back as checked
    // (the derived-result cache, ../derived-cache.ts): loading zod, building the schema and checking cost ~8 ms of the
    // first command after one that ran a phase. The schema only checks (its objects are loose: no default, no
    // transform), so what is kept is the file's JSON as parsed, the same whichever way it was found good.
    const s = derivedJson(journalEntry(file), text, () => {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (e) {
        throw corrupt(file, `not valid JSON (${(e as Error).message})`, e)
      }
      const r = stateFileSchema().safeParse(parsed)
      if (!r.success) throw corrupt(file, firstIssue(r.error))
      for (const [k, rec] of Object.entries(r.data.tasks)) {
        if (k !== taskKey(rec.phase, rec.target)) throw corrupt(file, `tasks[${JSON.stringify(k)}] holds the record of ${taskKey(rec.phase, rec.target)}`)
      }
      return parsed as typeof r.data
    })
    const tasks: Record<string, TaskRecord> = {}
    for (const [k, {error, ...rec}] of Object.entries(s.tasks)) {
      tasks[k] = error !== undefined && !rec.failure ? {...rec, failure: {message: error, exitCode: 1, hints: []}} : rec
    }
    // the known keys as this version has them; every other key as it was (see the file's comment)
    const {version: _version, inventory: _inventory, updatedAt: _updatedAt, tasks: _tasks, phaseRuns: _phaseRuns, ...unknown} = s
    return new StateStore(file, {
      ...unknown,
      version: 1,
      inventory: s.inventory ?? inventory,
      updatedAt: s.updatedAt ?? empty.updatedAt,
      tasks,
      ...(s.phaseRuns && {phaseRuns: {...s.phaseRuns}}),
    })
  }

  /**
   * Load the journal; one that cannot be used (not JSON, not a journal, wrong shape) is moved aside to
   * `state.json.bad-<ISO time>` and an empty journal is returned, with where it went. For `state reset`,
   * which must always be able to recover.
   */
  static loadOrSetAside(stateDir: string, inventory: string): {store: StateStore; movedTo?: string; problem?: string} {
    try {
      return {store: StateStore.load(stateDir, inventory)}
    } catch (e) {
      if (!(e instanceof ObsctlError) || e.code !== 'STATE_CORRUPT') throw e
      const file = stateFilePath(stateDir)
      const movedTo = `${file}.bad-${new Date().toISOString().replace(/:/g, '-')}`
      renameSync(file, movedTo)
      const empty: StateFile = {version: 1, inventory, updatedAt: new Date(0).toISOString(), tasks: {}}
      return {store: new StateStore(file, empty), movedTo, problem: e.message}
    }
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

  /**
   * Replace one task's record; resolves once it is on disk. The tasks of a phase start (and often end)
   * together: every record put in the same turn of the event loop is written by one atomic write (one
   * fsync), where put() would write, fsync and rename once per record, one after another, with the event
   * loop blocked — 20 nodes starting at once waited ~10 ms each in turn on this disk (bench/engine.bench.js).
   * The guarantee is put()'s: the caller goes on (runs the task, reports it done) only after the record
   * is on disk, and the file is always whole.
   */
  putDurable(rec: TaskRecord): Promise<void> {
    this.data.tasks[taskKey(rec.phase, rec.target)] = rec
    this.batch ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.batch = undefined
        try {
          this.save()
          resolve()
        } catch (e) {
          reject(e)
        }
      })
    })
    return this.batch
  }

  private batch?: Promise<void>

  /** Forget tasks (all, or those of the given phases) and those phases' runs; returns how many task records were removed. */
  reset(phases?: string[]): number {
    let n = 0
    for (const [k, r] of Object.entries(this.data.tasks)) {
      if (!phases?.length || phases.includes(r.phase)) {
        delete this.data.tasks[k]
        n++
      }
    }
    for (const phase of Object.keys(this.data.phaseRuns ?? {})) if (!phases?.length || phases.includes(phase)) delete this.data.phaseRuns![phase]
    this.save()
    return n
  }

  /** The latest run of a phase (PhaseRunRecord), if the journal has one. */
  phaseRun(phase: string): PhaseRunRecord | undefined {
    return this.data.phaseRuns?.[phase]
  }

  /** Every phase's latest run, by phase (a shallow copy, as records() is). */
  phaseRuns(): Record<string, PhaseRunRecord> {
    return {...this.data.phaseRuns}
  }

  /** Record a phase's run (its start, or its end) and persist at once: on disk before the phase's first task, or its end. */
  putPhaseRun(phase: string, rec: PhaseRunRecord): void {
    this.data.phaseRuns = {...this.data.phaseRuns, [phase]: rec}
    this.save()
  }

  /** The records as they are now, by task key (a shallow copy: a record is replaced, never changed in place). */
  records(): Record<string, TaskRecord> {
    return {...this.data.tasks}
  }

  /** Forget the records of these targets and of those under them (`c` and `c/…`), in every phase but `keep`; returns how many. */
  forgetTargets(targetIds: string[], keep: readonly string[] = []): number {
    let n = 0
    for (const [k, r] of Object.entries(this.data.tasks)) {
      if (!keep.includes(r.phase) && targetIds.some((t) => r.target === t || r.target.startsWith(`${t}/`))) {
        delete this.data.tasks[k]
        n++
      }
    }
    if (n > 0) this.save()
    return n
  }

  snapshot(): StateFile {
    return structuredClone(this.data)
  }

  save(): void {
    this.data.updatedAt = new Date().toISOString()
    const text = `${JSON.stringify(this.data, null, 2)}\n`
    // sync: transitions must be on disk before the next step (and from a signal handler)
    writeFileAtomicSync(this.file, text, {mode: 0o600})
    // what this process wrote is a journal (its records are this version's or were checked when loaded): the next
    // command reads it back as checked while the file holds exactly this text (load)
    derivedCache()?.set(journalEntry(this.file), text, text)
  }
}
