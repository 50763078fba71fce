/**
 * Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=) as the
 * apiserver parses them from ?labelSelector= and ?fieldSelector=. Field selectors accept any dotted
 * path into the object (metadata.name, metadata.namespace, spec.nodeName, status.phase, type, ...).
 */
import {badRequest} from './status.js'
import type {Loose, Obj} from './store.js'
export type {Obj} from './store.js'

type LabelReq = {key: string; op: 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists'; values: string[]}

function splitTopLevel(s: string): string[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur.trim()) parts.push(cur)
  return parts.map((p) => p.trim()).filter(Boolean)
}

export function parseLabelSelector(sel: string | undefined): LabelReq[] {
  if (!sel) return []
  return splitTopLevel(sel).map((part) => {
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part)
    if (m)
      return {
        key: m[1],
        op: m[2] as 'in' | 'notin',
        values: m[3]
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      }
    m = /^([^\s!=]+)\s*(==|!=|=)\s*(\S*)$/.exec(part)
    if (m) return {key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', values: [m[3]]}
    m = /^!\s*([^\s!=]+)$/.exec(part)
    if (m) return {key: m[1], op: 'notexists', values: []}
    m = /^([^\s!=(),]+)$/.exec(part)
    if (m) return {key: m[1], op: 'exists', values: []}
    throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`)
  })
}

export function matchLabels(reqs: LabelReq[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key)
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.values[0]
      case 'neq':
        return !has || l[r.key] !== r.values[0]
      case 'in':
        return has && r.values.includes(l[r.key])
      case 'notin':
        return !has || !r.values.includes(l[r.key])
      case 'exists':
        return has
      case 'notexists':
        return !has
    }
    return false
  })
}

type FieldReq = {path: string; neq: boolean; value: string}

export function parseFieldSelector(sel: string | undefined): FieldReq[] {
  if (!sel) return []
  return sel
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([^!=]+)(==|!=|=)(.*)$/.exec(part)
      if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`)
      return {path: m[1].trim(), neq: m[2] === '!=', value: m[3].trim()}
    })
}

export function fieldValue(obj: Obj, path: string): string {
  let cur: Loose = obj
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return ''
    cur = cur[seg]
  }
  return cur === undefined || cur === null ? '' : String(cur)
}

export function matchFields(reqs: FieldReq[], obj: Obj): boolean {
  return reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neq)
}

export interface Selector {
  labels: LabelReq[]
  fields: FieldReq[]
}

export function parseSelector(labelSelector?: string, fieldSelector?: string): Selector {
  return {labels: parseLabelSelector(labelSelector), fields: parseFieldSelector(fieldSelector)}
}

export function matches(sel: Selector, obj: Obj): boolean {
  return matchLabels(sel.labels, obj.metadata?.labels) && matchFields(sel.fields, obj)
}
