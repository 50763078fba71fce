/**
 * Field ownership (metadata.managedFields, fieldsType FieldsV1) and server-side apply.
 *
 * Simplifications against structured-merge-diff, documented in test/support/README.md:
 * every list is atomic (owned and replaced as a whole, no `k:{...}` keys), maps are granular.
 * Everything else follows the real rules: an Apply by manager M sets the fields M applies, removes
 * the fields M applied before and no longer applies (unless someone else owns them), and fails
 * with 409 Conflict when another manager owns a field M sets to a different value, unless force.
 * Updates (create, PUT, merge patch) make their manager own the fields they changed and take
 * those fields away from other managers without conflict, as the real server does.
 */
import {ApiError} from './status.js'
import type {Loose, Obj} from './store.js'
export type {Obj} from './store.js'

type Path = string[]

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Obj
  subresource?: string
}

const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'generateName',
])

export type Scope = 'main' | 'status'

function isMap(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** leaf paths of the fields a request sets, limited to the scope (main resource vs status subresource) */
export function leafPaths(obj: Obj, scope: Scope, statusIsSubresource: boolean): Path[] {
  const out: Path[] = []
  const walk = (v: unknown, p: Path) => {
    if (isMap(v) && Object.keys(v).length > 0) {
      for (const [k, c] of Object.entries(v)) walk(c, [...p, k])
    } else out.push(p)
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue
    if (k === 'status' && statusIsSubresource && scope === 'main') continue
    if (k !== 'status' && scope === 'status') continue
    if (k === 'metadata') {
      for (const [mk, mv] of Object.entries(isMap(v) ? v : {})) if (!SERVER_METADATA.has(mk)) walk(mv, ['metadata', mk])
      continue
    }
    walk(v, [k])
  }
  return out
}

const enc = (p: Path) => JSON.stringify(p)
const dec = (s: string) => JSON.parse(s) as Path

export function valueAt(obj: Obj | undefined, p: Path): unknown {
  let cur: Loose = obj
  for (const k of p) {
    if (!isMap(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

function setAt(obj: Obj, p: Path, v: unknown): void {
  let cur = obj
  for (const k of p.slice(0, -1)) {
    if (!isMap(cur[k])) cur[k] = {}
    cur = cur[k]
  }
  cur[p[p.length - 1]] = structuredClone(v)
}

function deleteAt(obj: Obj, p: Path): void {
  const parents: Obj[] = [obj]
  let cur: Loose = obj
  for (const k of p.slice(0, -1)) {
    if (!isMap(cur[k])) return
    cur = cur[k]
    parents.push(cur)
  }
  delete cur[p[p.length - 1]]
  // drop the maps the removal emptied (never metadata itself)
  for (let j = parents.length - 1; j >= 1; j--) {
    if (Object.keys(parents[j]).length > 0 || (j === 1 && p[0] === 'metadata')) break
    delete parents[j - 1][p[j - 1]]
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a as Obj)
  const kb = Object.keys(b as Obj)
  if (ka.length !== kb.length) return false
  return ka.every((k) => deepEqual((a as Obj)[k], (b as Obj)[k]))
}

export function toFieldsV1(paths: Iterable<Path>): Obj {
  const root: Obj = {}
  for (const p of paths) {
    let cur = root
    for (const k of p) {
      cur[`f:${k}`] ??= {}
      cur = cur[`f:${k}`]
    }
  }
  return root
}

export function fromFieldsV1(fv: Obj | undefined): Set<string> {
  const out = new Set<string>()
  const walk = (node: Obj, p: Path) => {
    const keys = Object.keys(node).filter((k) => k !== '.')
    const fields = keys.filter((k) => k.startsWith('f:'))
    if (p.length && (fields.length === 0 || fields.length !== keys.length)) {
      out.add(enc(p))
      return
    }
    for (const k of fields) walk(node[k] ?? {}, [...p, k.slice(2)])
  }
  walk(fv ?? {}, [])
  return out
}

/** ".spec.replicas", or ".metadata.labels[app.kubernetes.io/name]" for keys that are not identifiers */
export function renderPath(p: Path): string {
  return p.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? `.${k}` : `[${k}]`)).join('')
}

function related(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function entrySubresource(scope: Scope): string | undefined {
  return scope === 'status' ? 'status' : undefined
}

function sameScope(e: ManagedFieldsEntry, scope: Scope): boolean {
  return (e.subresource ?? '') === (entrySubresource(scope) ?? '')
}

function finish(entries: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  return entries.filter((e) => Object.keys(e.fieldsV1).length > 0)
}

/** ownership after a create/update/merge-patch by `manager` (operation Update) */
export function trackUpdate(
  entries: ManagedFieldsEntry[],
  manager: string,
  apiVersion: string,
  before: Obj | undefined,
  after: Obj,
  scope: Scope,
  statusIsSubresource: boolean,
): ManagedFieldsEntry[] {
  const afterPaths = leafPaths(after, scope, statusIsSubresource)
  const beforePaths = before ? leafPaths(before, scope, statusIsSubresource) : []
  const afterSet = new Set(afterPaths.map(enc))
  const changed = afterPaths.filter((p) => !before || !deepEqual(valueAt(before, p), valueAt(after, p)))
  const removed = beforePaths.filter((p) => !afterSet.has(enc(p)))
  const touched = [...changed, ...removed]
  if (touched.length === 0 && before) return entries
  const out: ManagedFieldsEntry[] = []
  let mine: Set<string> | undefined
  for (const e of entries) {
    const set = fromFieldsV1(e.fieldsV1)
    const isMine = e.manager === manager && e.operation === 'Update' && sameScope(e, scope)
    for (const s of [...set]) {
      const p = dec(s)
      if (!isMine && touched.some((t) => related(t, p))) set.delete(s)
      if (isMine && !afterSet.has(s) && removed.some((t) => related(t, p))) set.delete(s)
    }
    if (isMine) mine = set
    else out.push({...e, fieldsV1: toFieldsV1([...set].map(dec))})
  }
  mine ??= new Set()
  for (const p of changed) mine.add(enc(p))
  const entry: ManagedFieldsEntry = {manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1([...mine].map(dec))}
  if (entrySubresource(scope)) entry.subresource = entrySubresource(scope)
  out.push(entry)
  return finish(out)
}

export interface ApplyResult {
  object: Obj
  managedFields: ManagedFieldsEntry[]
}

/**
 * Server-side apply of `applied` (the full intent of `manager`) onto `current` (undefined = create).
 * Throws 409 Conflict listing the conflicting managers and fields unless `force`.
 */
export function serverSideApply(
  current: Obj | undefined,
  applied: Obj,
  manager: string,
  force: boolean,
  scope: Scope,
  statusIsSubresource: boolean,
): ApplyResult {
  const entries: ManagedFieldsEntry[] = structuredClone(current?.metadata?.managedFields ?? [])
  const appliedPaths = leafPaths(applied, scope, statusIsSubresource)
  const apiVersion = applied.apiVersion as string
  const conflicts: {manager: string; apiVersion: string; path: Path}[] = []
  const others = entries.filter((e) => e.manager !== manager)
  for (const e of others) {
    const owned = [...fromFieldsV1(e.fieldsV1)].map(dec)
    for (const p of appliedPaths) {
      for (const o of owned) {
        if (!related(p, o)) continue
        const longer = p.length >= o.length ? p : o
        if (!deepEqual(valueAt(current, longer), valueAt(applied, longer)))
          conflicts.push({manager: e.manager, apiVersion: e.apiVersion, path: o.length >= p.length ? o : p})
      }
    }
  }
  if (conflicts.length && !force) {
    const byManager = new Map<string, typeof conflicts>()
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c])
    let message = `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: `
    if (conflicts.length === 1) message += `conflict with "${conflicts[0].manager}" using ${conflicts[0].apiVersion}: ${renderPath(conflicts[0].path)}`
    else
      message += [...byManager]
        .map(([m, cs]) => `conflicts with "${m}" using ${cs[0].apiVersion}:\n${cs.map((c) => `- ${renderPath(c.path)}`).join('\n')}`)
        .join('\n')
    throw new ApiError(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({type: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: renderPath(c.path)})),
    })
  }
  const next: Obj = structuredClone(current ?? {apiVersion: applied.apiVersion, kind: applied.kind, metadata: {}})
  const conflictSet = new Set(conflicts.map((c) => `${c.manager}\u0000${enc(c.path)}`))
  const out: ManagedFieldsEntry[] = []
  const appliedSet = new Set(appliedPaths.map(enc))
  let previouslyApplied = new Set<string>()
  for (const e of entries) {
    const set = fromFieldsV1(e.fieldsV1)
    if (e.manager === manager && e.operation === 'Apply' && sameScope(e, scope)) {
      previouslyApplied = set
      continue
    }
    for (const s of [...set]) {
      if (conflictSet.has(`${e.manager}\u0000${s}`)) set.delete(s)
      // a manager's own earlier Update of a field it now applies moves into its Apply entry
      if (e.manager === manager && appliedSet.has(s)) set.delete(s)
    }
    out.push({...e, fieldsV1: toFieldsV1([...set].map(dec))})
  }
  const stillOwned = out.flatMap((e) => [...fromFieldsV1(e.fieldsV1)].map(dec))
  for (const s of previouslyApplied) {
    const p = dec(s)
    if (appliedSet.has(s) || stillOwned.some((o) => related(o, p))) continue
    if (appliedPaths.some((a) => related(a, p))) continue
    deleteAt(next, p)
  }
  for (const p of appliedPaths) setAt(next, p, valueAt(applied, p))
  const entry: ManagedFieldsEntry = {manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedPaths)}
  if (entrySubresource(scope)) entry.subresource = entrySubresource(scope)
  out.push(entry)
  return {object: next, managedFields: finish(out)}
}
