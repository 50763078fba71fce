/**
 * Object semantics shared by every write path: system metadata (uid, resourceVersion, generation,
 * creationTimestamp, managedFields), name validation, the status subresource split, optimistic
 * concurrency, namespace existence, Secret stringData, CRD schema validation, and the per-kind hooks
 * (namespaces, CRDs) that make the store behave like kube-apiserver with its controllers.
 */
import {randomUUID} from 'node:crypto'
import {parse as parseYaml} from 'yaml'
import {crdConditions, crdProblems, typesFromCrd, validateCustomObject} from './crd.js'
import {groupVersion, type ResourceType, type TypeRegistry} from './kinds.js'
import {jsonPatch, mergePatch} from './patch.js'
import {matches, parseSelector} from './selectors.js'
import {deepEqual, serverSideApply, trackUpdate, type ManagedFieldsEntry, type Scope} from './ssa.js'
import {alreadyExists, ApiError, badRequest, conflict, invalid, notFound, unsupportedMediaType, type StatusCause} from './status.js'
import type {Obj, Store} from './store.js'

export interface WriteOptions {
  manager: string
  dryRun: boolean
  /** Strict | Warn | Ignore */
  fieldValidation: string
  /** warnings to send back in Warning headers */
  warnings: string[]
}

export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function nameProblems(t: ResourceType, name: string): StatusCause[] {
  if (!name) return [{reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name'}]
  if (t.group === 'rbac.authorization.k8s.io')
    return /[/%]/.test(name) || name === '.' || name === '..'
      ? [{reason: 'FieldValueInvalid', message: `Invalid value: "${name}": may not contain '/' or '%'`, field: 'metadata.name'}]
      : []
  const label = t.resource === 'namespaces' || t.resource === 'services'
  const ok = label ? DNS1123_LABEL.test(name) && name.length <= 63 : DNS1123_SUBDOMAIN.test(name) && name.length <= 253
  if (ok) return []
  return [
    {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 ${label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-'${label ? '' : " or '.'"}, and must start and end with an alphanumeric character`,
    },
  ]
}

function statusIsSubresource(t: ResourceType): boolean {
  return t.subresources.includes('status')
}

/** everything that bumps metadata.generation: all but metadata (and status where it is a subresource) */
function specPart(t: ResourceType, o: Obj): Obj {
  const {metadata: _m, status, apiVersion: _a, kind: _k, ...rest} = o
  return statusIsSubresource(t) ? rest : {...rest, status}
}

export interface ObjectHooks {
  /** after any committed write or delete, for controllers */
  onCommitted?: (t: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj) => void
}

export class ObjectApi {
  constructor(
    readonly store: Store,
    readonly reg: TypeRegistry,
    readonly hooks: ObjectHooks = {},
  ) {}

  private requireNamespace(t: ResourceType, ns: string): void {
    if (!t.namespaced) return
    if (!this.store.get('', 'namespaces', '', ns)) throw notFound('namespaces', '', ns)
    const nsObj = this.store.get('', 'namespaces', '', ns)!
    if (nsObj.metadata.deletionTimestamp)
      throw new ApiError(403, 'Forbidden', `${t.resource} "" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`)
  }

  get(t: ResourceType, ns: string, name: string): Obj {
    const o = this.store.get(t.group, t.resource, t.namespaced ? ns : '', name)
    if (!o) throw notFound(t.resource, t.group, name)
    return o
  }

  list(t: ResourceType, ns: string | undefined, labelSelector?: string, fieldSelector?: string): {items: Obj[]; resourceVersion: string} {
    const sel = parseSelector(labelSelector, fieldSelector)
    const rv = String(this.store.currentRv())
    const items = this.store.list(t.group, t.resource, t.namespaced ? ns : undefined).filter((o) => matches(sel, o))
    return {items, resourceVersion: rv}
  }

  /** type/shape checks on a body and its identity against the URL */
  private checkBody(t: ResourceType, ns: string, body: unknown, urlName?: string): Obj {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request could not be decoded as an object')
    const o = structuredClone(body) as Obj
    o.metadata ??= {}
    if (o.apiVersion !== undefined && o.apiVersion !== groupVersion(t))
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${groupVersion(t)})`)
    if (o.kind !== undefined && o.kind !== t.kind) throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${t.kind})`)
    o.apiVersion = groupVersion(t)
    o.kind = t.kind
    if (t.namespaced) {
      if (o.metadata.namespace && o.metadata.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
      o.metadata.namespace = ns
    } else delete o.metadata.namespace
    if (urlName !== undefined && o.metadata.name && o.metadata.name !== urlName)
      throw badRequest('the name of the object (' + o.metadata.name + ') does not match the name on the URL (' + urlName + ')')
    if (urlName !== undefined) o.metadata.name ??= urlName
    return o
  }

  /** kind-specific normalisation and validation before storing */
  private admit(t: ResourceType, o: Obj, old: Obj | undefined, opts: WriteOptions): void {
    const causes = nameProblems(t, o.metadata.name)
    if (t.resource === 'secrets' && o.stringData) {
      o.data ??= {}
      for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) o.data[k] = Buffer.from(String(v)).toString('base64')
      delete o.stringData
    }
    if (t.resource === 'secrets') o.type ??= 'Opaque'
    if (t.resource === 'namespaces') {
      o.spec = {finalizers: ['kubernetes'], ...(o.spec ?? {})}
      o.status = {phase: o.metadata.deletionTimestamp ? 'Terminating' : 'Active', ...(old?.status ?? {})}
    }
    if (['deployments', 'statefulsets'].includes(t.resource) && t.group === 'apps') {
      o.spec ??= {}
      o.spec.replicas ??= 1
    }
    if (t.resource === 'customresourcedefinitions') {
      causes.push(...crdProblems(o))
      if (old && old.spec?.group !== o.spec?.group)
        causes.push({reason: 'FieldValueInvalid', field: 'spec.group', message: `Invalid value: "${o.spec?.group}": field is immutable`})
    }
    if (t.crd) {
      const r = validateCustomObject(o, t.crd.schema)
      causes.push(...r.causes)
      if (r.pruned.length) {
        if (opts.fieldValidation === 'Strict') {
          throw badRequest(
            `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${r.pruned.map((p) => `unknown field "${p}"`).join(', ')}`,
          )
        }
        if (opts.fieldValidation !== 'Ignore') opts.warnings.push(...r.pruned.map((p) => `unknown field "${p}"`))
      }
    }
    if (causes.length) throw invalid(t.kind, t.group, o.metadata.name ?? '', causes)
  }

  private commit(t: ResourceType, o: Obj, opts: WriteOptions, created: boolean): Obj {
    if (opts.dryRun) {
      if (created) o.metadata.resourceVersion = ''
      return o
    }
    if (t.resource === 'customresourcedefinitions') {
      o.status = {
        ...(o.status ?? {}),
        conditions: crdConditions(o),
        acceptedNames: {
          ...o.spec.names,
          singular: o.spec.names.singular ?? String(o.spec.names.kind).toLowerCase(),
          listKind: o.spec.names.listKind ?? `${o.spec.names.kind}List`,
        },
        storedVersions: (o.spec.versions as Obj[]).filter((v) => v.storage).map((v) => v.name),
      }
      this.reg.removeCrd(o.metadata.name)
      for (const nt of typesFromCrd(o)) this.reg.add(nt)
    }
    const stored = this.store.write(t.group, t.resource, o)
    this.hooks.onCommitted?.(t, created ? 'ADDED' : 'MODIFIED', stored)
    return stored
  }

  create(t: ResourceType, ns: string, body: unknown, opts: WriteOptions): Obj {
    const o = this.checkBody(t, ns, body)
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`
    this.requireNamespace(t, ns)
    if (o.metadata.name && this.store.get(t.group, t.resource, t.namespaced ? ns : '', o.metadata.name))
      throw alreadyExists(t.resource, t.group, o.metadata.name)
    if (statusIsSubresource(t)) delete o.status
    this.admit(t, o, undefined, opts)
    this.stampNew(t, o)
    o.metadata.managedFields = trackUpdate([], opts.manager, groupVersion(t), undefined, o, 'main', statusIsSubresource(t))
    return this.commit(t, o, opts, true)
  }

  private stampNew(t: ResourceType, o: Obj): void {
    const {resourceVersion: _rv, deletionTimestamp: _dt, ...meta} = o.metadata
    o.metadata = {...meta, uid: randomUUID(), creationTimestamp: timestamp()}
    if (t.hasGeneration) o.metadata.generation = 1
    else delete o.metadata.generation
  }

  /** carries system fields from old to next and bumps generation; scope decides which half is replaced */
  private carry(t: ResourceType, old: Obj, next: Obj, scope: Scope): Obj {
    let out: Obj
    if (scope === 'status') {
      out = structuredClone(old)
      if (next.status === undefined) delete out.status
      else out.status = next.status
    } else {
      out = next
      if (statusIsSubresource(t)) {
        if (old.status === undefined) delete out.status
        else out.status = structuredClone(old.status)
      }
      out.metadata.uid = old.metadata.uid
      out.metadata.creationTimestamp = old.metadata.creationTimestamp
      if (old.metadata.deletionTimestamp) out.metadata.deletionTimestamp = old.metadata.deletionTimestamp
      else delete out.metadata.deletionTimestamp
    }
    if (t.hasGeneration) {
      const changed = !deepEqual(specPart(t, old), specPart(t, out))
      out.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0)
    } else delete out.metadata.generation
    return out
  }

  private finishWrite(t: ResourceType, old: Obj, out: Obj, opts: WriteOptions, managed: ManagedFieldsEntry[]): Obj {
    out.metadata.managedFields = managed
    if (
      deepEqual(
        {...old, metadata: {...old.metadata, managedFields: undefined, resourceVersion: undefined}},
        {...out, metadata: {...out.metadata, managedFields: undefined, resourceVersion: undefined}},
      )
    ) {
      // a no-op write does not change the resourceVersion (the real server skips the etcd write too)
      return old
    }
    if (out.metadata.deletionTimestamp && !out.metadata.finalizers?.length) {
      if (opts.dryRun) return out
      return this.reallyDelete(t, old)
    }
    return this.commit(t, out, opts, false)
  }

  update(t: ResourceType, ns: string, name: string, body: unknown, opts: WriteOptions, scope: Scope = 'main'): Obj {
    const old = this.get(t, ns, name)
    const o = this.checkBody(t, ns, body, name)
    const rv = o.metadata.resourceVersion
    if (rv && rv !== old.metadata.resourceVersion)
      throw conflict(t.resource, t.group, name, 'the object has been modified; please apply your changes to the latest version and try again')
    if (o.metadata.uid && o.metadata.uid !== old.metadata.uid)
      throw conflict(t.resource, t.group, name, `Precondition failed: UID in precondition: ${o.metadata.uid}, UID in object meta: ${old.metadata.uid}`)
    const out = this.carry(t, old, o, scope)
    this.admit(t, out, old, opts)
    const managed = trackUpdate(old.metadata.managedFields ?? [], opts.manager, groupVersion(t), old, out, scope, statusIsSubresource(t))
    return this.finishWrite(t, old, out, opts, managed)
  }

  patch(
    t: ResourceType,
    ns: string,
    name: string,
    contentType: string,
    raw: string,
    opts: WriteOptions & {force: boolean},
    scope: Scope = 'main',
  ): {object: Obj; created: boolean} {
    const type = contentType.split(';')[0].trim()
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') return this.apply(t, ns, name, raw, opts, scope)
    const old = this.get(t, ns, name)
    let patch: unknown
    try {
      patch = JSON.parse(raw)
    } catch (error) {
      throw badRequest(`error decoding patch: ${(error as Error).message}`)
    }
    let patched: Obj
    if (type === 'application/merge-patch+json') patched = mergePatch(old, patch) as Obj
    else if (type === 'application/strategic-merge-patch+json') {
      if (t.crd)
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        )
      patched = mergePatch(old, patch, true) as Obj
    } else if (type === 'application/json-patch+json') patched = jsonPatch(old, patch)
    else throw unsupportedMediaType(type)
    patched.metadata ??= {}
    if (patched.metadata.resourceVersion && patched.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(t.resource, t.group, name, 'the object has been modified; please apply your changes to the latest version and try again')
    }
    patched.metadata.resourceVersion = old.metadata.resourceVersion
    return {object: this.update(t, ns, name, patched, opts, scope), created: false}
  }

  private apply(t: ResourceType, ns: string, name: string, raw: string, opts: WriteOptions & {force: boolean}, scope: Scope): {object: Obj; created: boolean} {
    if (!opts.manager || opts.manager === '__default__') throw badRequest('PATCH /apply: fieldManager is required for apply requests')
    let body: unknown
    try {
      body = parseYaml(raw)
    } catch (error) {
      throw badRequest(`error decoding YAML: ${(error as Error).message}`)
    }
    if (!body || typeof body !== 'object') throw badRequest('apply patch must be an object')
    const b = body as Obj
    if (!b.apiVersion || !b.kind) throw badRequest('invalid object type: apiVersion and kind must be set in an apply patch')
    const applied = this.checkBody(t, ns, b, name)
    delete applied.metadata.managedFields
    const existing = this.store.get(t.group, t.resource, t.namespaced ? ns : '', name)
    if (applied.metadata.resourceVersion && existing && applied.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t.resource, t.group, name, 'the object has been modified; please apply your changes to the latest version and try again')
    }
    delete applied.metadata.resourceVersion
    if (!existing) {
      if (scope === 'status') throw notFound(t.resource, t.group, name)
      this.requireNamespace(t, ns)
      const {object, managedFields} = serverSideApply(undefined, applied, opts.manager, opts.force, scope, statusIsSubresource(t))
      object.metadata.name = name
      if (t.namespaced) object.metadata.namespace = ns
      if (statusIsSubresource(t)) delete object.status
      this.admit(t, object, undefined, opts)
      this.stampNew(t, object)
      object.metadata.managedFields = managedFields
      return {object: this.commit(t, object, opts, true), created: true}
    }
    const {object, managedFields} = serverSideApply(existing, applied, opts.manager, opts.force, scope, statusIsSubresource(t))
    const out = this.carry(t, existing, object, scope)
    this.admit(t, out, existing, opts)
    return {object: this.finishWrite(t, existing, out, opts, managedFields), created: false}
  }

  /** DELETE: with finalizers the object only gets a deletionTimestamp, as on the real server */
  delete(t: ResourceType, ns: string, name: string, options: Obj, dryRun: boolean): {object: Obj; immediate: boolean} {
    const old = this.get(t, ns, name)
    const pre = options?.preconditions ?? {}
    if (pre.uid && pre.uid !== old.metadata.uid)
      throw conflict(t.resource, t.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`)
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(
        t.resource,
        t.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      )
    if (dryRun) return {object: old, immediate: true}
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp) return {object: old, immediate: false}
      const next = structuredClone(old)
      next.metadata.deletionTimestamp = timestamp()
      next.metadata.deletionGracePeriodSeconds = 0
      const stored = this.store.write(t.group, t.resource, next)
      this.hooks.onCommitted?.(t, 'MODIFIED', stored)
      return {object: stored, immediate: false}
    }
    return {object: this.reallyDelete(t, old), immediate: true}
  }

  /** removes the object and what depends on it (a namespace's contents, a CRD's kind and objects) */
  reallyDelete(t: ResourceType, old: Obj): Obj {
    const ns = old.metadata.namespace ?? ''
    if (t.resource === 'namespaces' && t.group === '') {
      for (const nt of this.reg.all().filter((x) => x.namespaced)) {
        for (const o of this.store.list(nt.group, nt.resource, old.metadata.name)) this.store.remove(nt.group, nt.resource, old.metadata.name, o.metadata.name)
      }
    }
    if (t.resource === 'customresourcedefinitions' && t.group === 'apiextensions.k8s.io') {
      const gone = this.reg.removeCrd(old.metadata.name)
      const seen = new Set<string>()
      for (const gt of gone) {
        if (seen.has(gt.resource)) continue
        seen.add(gt.resource)
        for (const o of this.store.list(gt.group, gt.resource)) this.store.remove(gt.group, gt.resource, o.metadata.namespace ?? '', o.metadata.name)
      }
    }
    const gone = this.store.remove(t.group, t.resource, ns, old.metadata.name)!
    this.hooks.onCommitted?.(t, 'DELETED', gone)
    return gone
  }
}
