/**
 * A validator for Kubernetes structural schemas (CRD openAPIV3Schema) and the Kubernetes OpenAPI
 * (swagger definitions with $ref), with the API server's semantics rather than plain JSON Schema:
 * - a field the schema does not declare is pruned (CRDs) or rejected by strict field validation
 *   (built-in kinds, Argo CD's server-side apply): both are failures here, unless
 *   `x-kubernetes-preserve-unknown-fields` or `additionalProperties` allows it;
 * - `x-kubernetes-int-or-string` / `format: int-or-string` take an integer or a string;
 * - `resource.Quantity` is `type: string` in the swagger but the API decodes numbers too;
 * - `null` is pruned from a CRD field that is not `nullable` (the value is lost: a failure);
 * - `format: int32/int64` bound integers; `enum`, `pattern`, lengths and bounds are checked.
 * Not evaluated: `x-kubernetes-validations` (CEL rules) and `anyOf/oneOf/allOf` value constraints.
 * The rules follow k8s.io/apiextensions-apiserver pkg/apiserver/schema (pruning, nullable, int-or-string).
 */
import type {Schema} from './data.js'
import {joinPath} from './finding.js'

export interface SchemaContext {
  /** resolves `#/definitions/<name>` (swagger) */
  definitions?: Record<string, Schema>
  /** CRD schemas: null on a non-nullable field is pruned */
  structural: boolean
  report: (path: string, message: string) => void
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (v instanceof Date) return 'a timestamp'
  if (typeof v === 'object') return 'a map'
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  return `${typeof v} ${String(v)}`
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)

/** RE2 (Go) patterns are almost all valid JS; one that is not cannot be checked, so it is reported. */
function matches(pattern: string, value: string): boolean {
  let re: RegExp
  try {
    re = new RegExp(pattern, 'u')
  } catch {
    return false
  }
  return re.test(value)
}

export function validate(value: unknown, schema: Schema, at: string, ctx: SchemaContext): void {
  let refName: string | undefined
  while (schema.$ref) {
    refName = schema.$ref.replace(/^#\/definitions\//, '')
    const next = ctx.definitions?.[refName]
    if (!next) {
      ctx.report(at, `schema reference ${schema.$ref} is not in the upstream data: cannot check`)
      return
    }
    schema = next
  }
  if (value === null || value === undefined) {
    if (ctx.structural && !schema.nullable) ctx.report(at, 'null on a field that is not nullable: the API server prunes it (the value is lost)')
    return
  }
  if (refName === QUANTITY) {
    if (typeof value !== 'string' && typeof value !== 'number') ctx.report(at, `expected a quantity (string or number), got ${describe(value)}`)
    return
  }
  if (schema['x-kubernetes-int-or-string'] || schema.format === 'int-or-string') {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
      ctx.report(at, `expected an integer or a string, got ${describe(value)}`)
    return
  }
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true
  const type = schema.type ?? (schema.properties || schema.additionalProperties !== undefined ? 'object' : schema.items ? 'array' : undefined)
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    ctx.report(at, `${describe(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`)
  }
  switch (type) {
    case 'object': {
      if (!isMap(value)) return ctx.report(at, `expected a map, got ${describe(value)}`)
      const props = schema.properties ?? {}
      for (const [k, v] of Object.entries(value)) {
        const p = joinPath(at, k)
        if (Object.hasOwn(props, k)) validate(v, props[k]!, p, ctx)
        else if (isMap(schema.additionalProperties)) validate(v, schema.additionalProperties, p, ctx)
        else if (schema.additionalProperties === true || preserve) continue
        else
          ctx.report(
            p,
            ctx.structural
              ? 'unknown field: not in the schema, the API server prunes it'
              : 'unknown field: not in the schema, strict field validation rejects it',
          )
      }
      for (const r of schema.required ?? []) if (!(r in value)) ctx.report(joinPath(at, r), 'required field missing')
      return
    }
    case 'array': {
      if (!Array.isArray(value)) return ctx.report(at, `expected a list, got ${describe(value)}`)
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) ctx.report(at, `at least ${schema.minItems} item(s) required`)
      if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) ctx.report(at, `at most ${schema.maxItems} item(s) allowed`)
      if (schema.items) value.forEach((v, i) => validate(v, schema.items!, joinPath(at, i), ctx))
      return
    }
    case 'string': {
      // an unquoted date is a YAML 1.1 timestamp here; Go's YAML → JSON conversion keeps it a string
      if (value instanceof Date) return
      if (typeof value !== 'string') return ctx.report(at, `expected a string, got ${describe(value)}`)
      if (typeof schema.pattern === 'string' && !matches(schema.pattern, value)) ctx.report(at, `${describe(value)} does not match ${schema.pattern}`)
      if (typeof schema.minLength === 'number' && value.length < schema.minLength) ctx.report(at, `shorter than ${schema.minLength}`)
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) ctx.report(at, `longer than ${schema.maxLength}`)
      return
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value)))
        return ctx.report(at, `expected ${type === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}`)
      if (schema.format === 'int32' && (value < -(2 ** 31) || value > 2 ** 31 - 1)) ctx.report(at, `${value} does not fit int32`)
      if (typeof schema.minimum === 'number' && value < schema.minimum) ctx.report(at, `${value} is below the minimum ${schema.minimum}`)
      if (typeof schema.maximum === 'number' && value > schema.maximum) ctx.report(at, `${value} is above the maximum ${schema.maximum}`)
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') ctx.report(at, `expected a boolean, got ${describe(value)}`)
      return
    default:
      // no type: preserve-unknown-fields (any value) or a schema that only constrains with anyOf/oneOf
      return
  }
}
