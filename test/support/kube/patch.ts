/**
 * Patch formats: JSON merge patch (RFC 7386), strategic merge patch (applied as a merge patch with
 * the `$...` directive keys dropped; lists replaced whole, which is what it does for the kinds and
 * fields obsctl patches), and JSON patch (RFC 6902).
 */
import {badRequest, ApiError} from './status.js'
import {deepEqual} from './ssa.js'
import type {Loose, Obj} from './store.js'
export type {Obj} from './store.js'

function isMap(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

export function mergePatch(target: unknown, patch: unknown, strategic = false): unknown {
  if (!isMap(patch)) return structuredClone(patch)
  const out: Obj = isMap(target) ? structuredClone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (strategic && k.startsWith('$')) continue
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v, strategic)
  }
  return out
}

function unescape(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~')
}

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer: ${path}`)
  return path.slice(1).split('/').map(unescape)
}

function parentOf(doc: Loose, segs: string[]): Loose {
  let cur = doc
  for (const s of segs.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !(s in cur))
      throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: ${segs.join('/')}`)
    cur = cur[s]
  }
  return cur
}

function get(doc: Loose, segs: string[]): unknown {
  let cur = doc
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object' || !(s in cur))
      throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: /${segs.join('/')}`)
    cur = cur[s]
  }
  return cur
}

function add(doc: Loose, segs: string[], value: unknown): Loose {
  if (segs.length === 0) return structuredClone(value)
  const parent = parentOf(doc, segs)
  const last = segs[segs.length - 1]
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last)
    parent.splice(i, 0, structuredClone(value))
  } else parent[last] = structuredClone(value)
  return doc
}

function remove(doc: Loose, segs: string[]): Loose {
  const parent = parentOf(doc, segs)
  const last = segs[segs.length - 1]
  get(doc, segs)
  if (Array.isArray(parent)) parent.splice(Number(last), 1)
  else delete parent[last]
  return doc
}

export function jsonPatch(target: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations')
  let doc: Loose = structuredClone(target)
  for (const op of ops as Obj[]) {
    const segs = pointer(op.path)
    switch (op.op) {
      case 'add':
        doc = add(doc, segs, op.value)
        break
      case 'remove':
        doc = remove(doc, segs)
        break
      case 'replace':
        get(doc, segs)
        doc = add(remove(doc, segs), segs, op.value)
        break
      case 'move': {
        const v = get(doc, pointer(op.from))
        doc = add(remove(doc, pointer(op.from)), segs, v)
        break
      }
      case 'copy':
        doc = add(doc, segs, get(doc, pointer(op.from)))
        break
      case 'test':
        if (!deepEqual(get(doc, segs), op.value))
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${op.path} failed`)
        break
      default:
        throw badRequest(`unexpected json patch operation: ${op.op}`)
    }
  }
  return doc
}
