/**
 * `obsctl config explain PATH`: one inventory field as the JSON Schema describes it (like `kubectl
 * explain`): description, type, default, allowed values, examples and, for an object, its fields.
 * PATH is dotted (`ssh.port`, `retention.thanos.raw`); a list is walked through its items
 * (`clusters.nodes.host`, `clusters[].nodes[].host` and `clusters.0.nodes.0.host` are the same field).
 */
import {inputError} from '../errors.js'
import {didYouMean} from '../did-you-mean.js'
import {jsonSchema} from './schema.js'

type Node = Record<string, unknown> & {
  type?: string | string[]
  properties?: Record<string, Node>
  items?: Node
  additionalProperties?: Node | boolean
  anyOf?: Node[]
  oneOf?: Node[]
  allOf?: Node[]
  $ref?: string
  enum?: unknown[]
  const?: unknown
  required?: string[]
  description?: string
  default?: unknown
  examples?: unknown[]
}

export interface ExplainedField {
  name: string
  type: string
  required: boolean
  description?: string
}

export interface Explanation {
  path: string
  type: string
  required: boolean
  description?: string
  default?: unknown
  allowed?: unknown[]
  examples?: unknown[]
  pattern?: string
  minimum?: number
  maximum?: number
  fields?: ExplainedField[]
}

function resolve(root: Node, n: Node): Node {
  let cur = n
  for (let i = 0; cur.$ref && i < 20; i++) {
    const parts = cur.$ref.replace(/^#\//, '').split('/')
    let target: unknown = root
    for (const p of parts) target = (target as Record<string, unknown>)?.[p]
    cur = {...(target as Node), ...Object.fromEntries(Object.entries(cur).filter(([k]) => k !== '$ref'))}
  }
  return cur
}

/** The alternatives of a node (anyOf/oneOf), else the node itself. */
function branches(root: Node, n: Node): Node[] {
  const r = resolve(root, n)
  const alts = r.anyOf ?? r.oneOf
  return alts ? alts.flatMap((a) => branches(root, a)) : [r]
}

function typeOf(root: Node, n: Node): string {
  const names = branches(root, n).map((b) => {
    if (b.const !== undefined) return JSON.stringify(b.const)
    if (b.enum) return b.enum.map((e) => JSON.stringify(e)).join(' | ')
    if (b.type === 'array') return `[]${b.items ? typeOf(root, b.items) : 'any'}`
    if (b.type === 'object' && !b.properties && b.additionalProperties && typeof b.additionalProperties === 'object')
      return `map[string]${typeOf(root, b.additionalProperties)}`
    return Array.isArray(b.type) ? b.type.join(' | ') : (b.type ?? 'any')
  })
  return [...new Set(names)].join(' | ')
}

function firstLine(s?: string): string | undefined {
  return s?.split('\n')[0]
}

/** The children of a node: an object's properties, or a list's items' properties. */
function child(root: Node, n: Node, name: string): {node: Node; required: boolean} | undefined {
  for (const b of branches(root, n)) {
    if (b.type === 'array' && b.items) {
      if (/^\d+$/.test(name)) return {node: b.items, required: false}
      const inner = child(root, b.items, name)
      if (inner) return inner
    }
    if (b.properties?.[name]) return {node: b.properties[name]!, required: Boolean(b.required?.includes(name))}
    if (!b.properties && b.additionalProperties && typeof b.additionalProperties === 'object') return {node: b.additionalProperties, required: false}
  }
  return undefined
}

function fieldsOf(root: Node, n: Node): ExplainedField[] | undefined {
  for (const b of branches(root, n)) {
    const obj = b.type === 'array' && b.items ? branches(root, b.items).find((x) => x.properties) : b.properties ? b : undefined
    if (obj?.properties) {
      return Object.entries(obj.properties).map(([name, p]) => ({
        name,
        type: typeOf(root, p),
        required: Boolean(obj.required?.includes(name)),
        description: firstLine(describe(root, p)),
      }))
    }
  }
  return undefined
}

function describe(root: Node, n: Node): string | undefined {
  return resolve(root, n).description ?? branches(root, n).find((b) => b.description)?.description
}

export function explainField(path: string, schema: Record<string, unknown> = jsonSchema()): Explanation {
  const root = schema as Node
  const segments = path
    .replace(/\[(\d*)\]/g, (_m, i: string) => (i ? `.${i}` : ''))
    .split('.')
    .filter(Boolean)
  let node: Node = root
  let required = true
  const walked: string[] = []
  for (const seg of segments) {
    const next = child(root, node, seg)
    if (!next) {
      const fields = fieldsOf(root, node)
      const at = walked.length ? walked.join('.') : 'the inventory'
      const meant = fields?.length
        ? didYouMean(
            seg,
            fields.map((f) => f.name),
          )
        : undefined
      throw inputError(
        `${path}: ${at} has no field ${seg}${meant ? ` (did you mean "${meant}"?)` : ''}`,
        [
          fields?.length ? `fields of ${at}: ${fields.map((f) => f.name).join(', ')}` : `${at} is a ${typeOf(root, node)}, not an object`,
          `obsctl config explain ${walked.join('.') || ''}`.trim(),
        ],
        'UNKNOWN_FIELD',
      )
    }
    node = next.node
    required = next.required
    if (!/^\d+$/.test(seg)) walked.push(seg)
  }
  const r = resolve(root, node)
  const bs = branches(root, node)
  const allowed = bs.flatMap((b) => b.enum ?? (b.const !== undefined ? [b.const] : []))
  // zod writes JavaScript's safe-integer bounds for int(): not a limit worth printing
  const num = (k: string) => bs.map((b) => b[k]).find((v) => typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER) as number | undefined
  return {
    path: walked.join('.') || '.',
    type: typeOf(root, node),
    required: walked.length === 0 ? true : required,
    description: describe(root, node),
    ...(r.default !== undefined ? {default: r.default} : {}),
    ...(allowed.length ? {allowed} : {}),
    ...(r.examples?.length ? {examples: r.examples} : {}),
    ...(bs.find((b) => typeof b.pattern === 'string') ? {pattern: bs.find((b) => typeof b.pattern === 'string')!.pattern as string} : {}),
    ...(num('minimum') !== undefined ? {minimum: num('minimum')} : {}),
    ...(num('maximum') !== undefined ? {maximum: num('maximum')} : {}),
    ...(fieldsOf(root, node) ? {fields: fieldsOf(root, node)} : {}),
  }
}

/** The human view, laid out as `kubectl explain` does. */
export function formatExplanation(e: Explanation): string {
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
  const lines = [`FIELD:    ${e.path} <${e.type}>${e.required ? ' (required)' : ''}`, '']
  if (e.default !== undefined) lines.push(`DEFAULT:  ${show(e.default)}`)
  if (e.allowed) lines.push(`ALLOWED:  ${e.allowed.map(show).join(', ')}`)
  if (e.minimum !== undefined || e.maximum !== undefined) lines.push(`RANGE:    ${e.minimum ?? '…'} to ${e.maximum ?? '…'}`)
  if (e.pattern) lines.push(`PATTERN:  ${e.pattern}`)
  if (e.examples) lines.push(`EXAMPLES: ${e.examples.map(show).join(', ')}`)
  if (lines.length > 2) lines.push('')
  lines.push('DESCRIPTION:', `    ${e.description ?? '(no description)'}`)
  if (e.fields?.length) {
    lines.push('', 'FIELDS:')
    const w = Math.max(...e.fields.map((f) => f.name.length))
    for (const f of e.fields)
      lines.push(`    ${f.name.padEnd(w)}  <${f.type}>${f.required ? ' (required)' : ''}${f.description ? `\n${' '.repeat(w + 6)}${f.description}` : ''}`)
  }
  return `${lines.join('\n')}\n`
}
