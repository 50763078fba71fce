/**
 * CustomResourceDefinitions: the kinds a CRD makes servable, its status conditions, and
 * validation + pruning of custom objects against a version's openAPIV3Schema (type, required,
 * properties, items, additionalProperties, enum, nullable, x-kubernetes-preserve-unknown-fields,
 * x-kubernetes-int-or-string, x-kubernetes-embedded-resource). Unknown fields are pruned, as the real
 * server prunes them for structural schemas; with fieldValidation=Strict they are an error instead.
 */
import {ALL_VERBS, type ResourceType} from './kinds.js'
import type {StatusCause} from './status.js'
import type {Loose, Obj} from './store.js'
export type {Obj} from './store.js'

type Schema = Record<string, Loose>

export function typesFromCrd(crd: Obj): ResourceType[] {
  const spec = crd.spec ?? {}
  const names = spec.names ?? {}
  return (spec.versions ?? [])
    .filter((v: Obj) => v.served !== false)
    .map((v: Obj): ResourceType => ({
      group: spec.group,
      version: v.name,
      resource: names.plural,
      kind: names.kind,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      listKind: names.listKind ?? `${names.kind}List`,
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      subresources: v.subresources?.status ? ['status'] : [],
      hasGeneration: true,
      verbs: ALL_VERBS,
      crd: {name: crd.metadata.name, schema: v.schema?.openAPIV3Schema},
    }))
}

/** problems a CRD itself has (the subset the real validation checks that tests can trip over) */
export function crdProblems(crd: Obj): StatusCause[] {
  const causes: StatusCause[] = []
  const spec = crd.spec ?? {}
  const names = spec.names ?? {}
  const req = (field: string, v: unknown) => {
    if (v === undefined || v === '') causes.push({reason: 'FieldValueRequired', message: 'Required value', field})
  }
  req('spec.group', spec.group)
  req('spec.names.plural', names.plural)
  req('spec.names.kind', names.kind)
  if (!['Namespaced', 'Cluster'].includes(spec.scope))
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${spec.scope ?? ''}": supported values: "Cluster", "Namespaced"`,
      field: 'spec.scope',
    })
  if (names.plural && spec.group && crd.metadata?.name !== `${names.plural}.${spec.group}`) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${crd.metadata?.name}": must be spec.names.plural+"."+spec.group`,
      field: 'metadata.name',
    })
  }
  const versions: Obj[] = spec.versions ?? []
  if (versions.length === 0) causes.push({reason: 'FieldValueRequired', message: 'Required value', field: 'spec.versions'})
  if (versions.length && versions.filter((v) => v.storage).length !== 1)
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
      field: 'spec.versions',
    })
  versions.forEach((v, i) => {
    if (!v.schema?.openAPIV3Schema)
      causes.push({reason: 'FieldValueRequired', message: 'Required value: schemas are required', field: `spec.versions[${i}].schema.openAPIV3Schema`})
  })
  return causes
}

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? typeOf(v) : String(v)
}

export interface SchemaResult {
  causes: StatusCause[]
  /** fields dropped as unknown, e.g. "spec.foo" */
  pruned: string[]
}

/** validates and prunes `obj` in place */
export function validateCustomObject(obj: Obj, schema: Schema | undefined): SchemaResult {
  const result: SchemaResult = {causes: [], pruned: []}
  if (!schema) return result
  const walk = (v: Loose, s: Schema, path: string, parent?: Obj, key?: string) => {
    if (v === null) {
      if (s.nullable) return
      if (parent && key !== undefined) {
        delete parent[key]
        return
      }
    }
    const actual = typeOf(v)
    if (s['x-kubernetes-int-or-string']) {
      if (actual !== 'integer' && actual !== 'string')
        result.causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: `Invalid value: ${show(v)}: ${path} in body must be of type integer,string: "${actual}"`,
        })
      return
    }
    if (s.type) {
      const ok = s.type === actual || (s.type === 'number' && actual === 'integer')
      if (!ok) {
        result.causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: `Invalid value: "${actual}": ${path} in body must be of type ${s.type}: "${actual}"`,
        })
        return
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => e === v)) {
      result.causes.push({
        reason: 'FieldValueNotSupported',
        field: path,
        message: `Unsupported value: ${show(v)}: supported values: ${s.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}`,
      })
    }
    if (typeof v === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) {
      result.causes.push({reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(v)}: ${path} in body should match '${s.pattern}'`})
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum)
        result.causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: `Invalid value: ${v}: ${path} in body should be greater than or equal to ${s.minimum}`,
        })
      if (typeof s.maximum === 'number' && v > s.maximum)
        result.causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: `Invalid value: ${v}: ${path} in body should be less than or equal to ${s.maximum}`,
        })
    }
    if (actual === 'array' && s.items) (v as unknown[]).forEach((item, i) => walk(item, s.items, `${path}[${i}]`, v, String(i)))
    if (actual === 'object') {
      for (const r of (s.required ?? []) as string[]) {
        if (!(r in v)) result.causes.push({reason: 'FieldValueRequired', field: path ? `${path}.${r}` : r, message: 'Required value'})
      }
      const props: Schema = s.properties ?? {}
      for (const k of Object.keys(v)) {
        const child = path ? `${path}.${k}` : k
        if (!path && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue
        if (props[k]) walk(v[k], props[k], child, v, k)
        else if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(v[k], s.additionalProperties, child, v, k)
        else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-embedded-resource']) continue
        else {
          delete v[k]
          result.pruned.push(child)
        }
      }
    }
  }
  walk(obj, schema, '')
  return result
}

export function crdConditions(_crd: Obj): Obj[] {
  const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  return [
    {type: 'NamesAccepted', status: 'True', lastTransitionTime: t, reason: 'NoConflicts', message: 'no conflicts found'},
    {type: 'Established', status: 'True', lastTransitionTime: t, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted'},
  ]
}
