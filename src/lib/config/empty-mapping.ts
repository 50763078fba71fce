/**
 * A key with nothing under it (YAML null: `alerting:`, `alerting: ~   # to be filled`) where a mapping goes
 * whose fields may all be left out is that mapping, empty: its defaults, as if `alerting: {}` (and `config set
 * alerting.… VALUE` fills it in, ./edit.ts). Said by the schema itself, field by field, so that the JSON Schema
 * an editor reads (`obsctl config schema`) says `object` or `null` exactly where obsctl takes a null:
 * a mapping with a required field (`s3`, `git`, a receiver's `email`) and a value (`ssh.user:`) stay errors.
 *
 * Used where the schemas are built (./schema.ts, ./alerting.ts), both lazily: nothing here runs before that.
 */
import type * as z from 'zod'
import {zod} from '../lazy-deps.js'

/** The schemas emptyWhenNull made (the JSON Schema's override finds them, or the copy `.describe()` made of one). */
const nullable = new WeakSet<object>()

/** `schema`, a mapping (object or record) every field of which may be left out, taking null as `{}` (a missing key stays missing). */
export function emptyWhenNull<T extends z.ZodObject | z.ZodRecord>(schema: T) {
  const s = zod().preprocess<z.input<T> | Record<string, never>, T, z.input<T> | null>((v) => (v === null ? {} : v), schema)
  nullable.add(s)
  return s
}

/**
 * toJSONSchema's `override`: the fields of emptyWhenNull say `object` or `null` (draft-07 allows a list of types).
 * zod leaves out the default of a field whose value passes through a transform (in general a default is of the
 * output type, not necessarily an input); emptyWhenNull's null → `{}` is this schema's only transform and every
 * output of a mapping under it is an input too, so each default is put back (test/config/schema-explain.test.ts
 * checks every default against its own field's JSON Schema).
 */
export function emptyWhenNullJson(ctx: {zodSchema: unknown; jsonSchema: {type?: unknown; default?: unknown}}): void {
  const zs = ctx.zodSchema as ZodLike
  if (zs._zod.def.type === 'default' && ctx.jsonSchema.default === undefined) ctx.jsonSchema.default = JSON.parse(JSON.stringify(zs._zod.def.defaultValue))
  for (let s: ZodLike | undefined = zs; s; s = s._zod.parent) {
    if (!nullable.has(s)) continue
    if (ctx.jsonSchema.type === 'object') ctx.jsonSchema.type = ['object', 'null']
    return
  }
}

/** the part of a zod 4 schema (`_zod`) read here */
interface ZodLike {
  _zod: {def: {type: string; defaultValue?: unknown}; parent?: ZodLike}
}
