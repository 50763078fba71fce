/**
 * OpenAPI v3 documents (/openapi/v3 and /openapi/v3/<api|apis/group>/<version>), enough for kubectl:
 * kubectl's field-validation check (QueryParamVerifierV3) looks for the PATCH operation tagged with
 * x-kubernetes-group-version-kind and the query parameter `fieldValidation`; finding it, kubectl
 * leaves validation to the server (fieldValidation=Strict) instead of downloading /openapi/v2 and
 * validating client-side. `kubectl explain` reads components.schemas by the same GVK extension:
 * built-in kinds carry only apiVersion/kind/metadata/spec/status, CRD kinds carry their openAPIV3Schema.
 * /openapi/v2 is an empty Swagger document: kubectl consults it only for kinds v3 does not list
 * (a CR whose CRD is in the same apply), finds no schema and skips client-side validation, then
 * fails the object with "ensure CRDs are installed first" exactly as against a real cluster.
 */
import {createHash} from 'node:crypto'
import {groupVersion, type ResourceType, type TypeRegistry} from './kinds.js'

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`
}

function schemaName(t: ResourceType): string {
  if (t.crd) return `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`
  const pkg = t.group === '' ? 'core' : t.group.split('.')[0]
  return `io.k8s.api.${pkg}.${t.version}.${t.kind}`
}

function gvDocument(types: ResourceType[], group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  const schemas: Record<string, unknown> = {}
  const query = (name: string) => ({name, in: 'query', schema: {type: 'string'}, uniqueItems: true})
  for (const t of types) {
    const gvk = {group: t.group, version: t.version, kind: t.kind}
    const ref = {$ref: `#/components/schemas/${schemaName(t)}`}
    const body = {content: {'application/json': {schema: ref}}, required: true}
    const ok = {responses: {'200': {description: 'OK', content: {'application/json': {schema: ref}}}}}
    const op = (action: string, params: string[], extra: Record<string, unknown> = {}) => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params.map(query),
      ...ok,
      ...extra,
    })
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`
    paths[base] = {
      get: op('list', ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch']),
      post: op('post', ['dryRun', 'fieldManager', 'fieldValidation'], {requestBody: body}),
    }
    paths[`${base}/{name}`] = {
      get: op('get', []),
      put: op('put', ['dryRun', 'fieldManager', 'fieldValidation'], {requestBody: body}),
      patch: op('patch', ['dryRun', 'fieldManager', 'fieldValidation', 'force'], {
        requestBody: {
          content: {
            'application/apply-patch+yaml': {schema: {type: 'object'}},
            'application/merge-patch+json': {schema: {type: 'object'}},
            'application/strategic-merge-patch+json': {schema: {type: 'object'}},
            'application/json-patch+json': {schema: {type: 'object'}},
          },
          required: true,
        },
      }),
      delete: op('delete', ['dryRun', 'gracePeriodSeconds', 'propagationPolicy']),
    }
    if (t.subresources.includes('status')) {
      paths[`${base}/{name}/status`] = {
        get: op('get', []),
        put: op('put', ['dryRun', 'fieldManager', 'fieldValidation'], {requestBody: body}),
        patch: op('patch', ['dryRun', 'fieldManager', 'fieldValidation', 'force']),
      }
    }
    const crdSchema = t.crd?.schema
    const schema: Record<string, unknown> = crdSchema
      ? structuredClone(crdSchema)
      : {
          type: 'object',
          description: `${t.kind} (test server: properties beyond apiVersion/kind/metadata/spec/status are not described)`,
          properties: {
            spec: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
            status: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
          },
        }
    const props = (schema.properties ?? {}) as Record<string, unknown>
    schema.properties = {
      apiVersion: {type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.'},
      kind: {type: 'string', description: 'Kind is a string value representing the REST resource this object represents.'},
      metadata: {type: 'object', description: 'Standard object metadata.', 'x-kubernetes-preserve-unknown-fields': true},
      ...props,
    }
    schema['x-kubernetes-group-version-kind'] = [gvk]
    schemas[schemaName(t)] = schema
  }
  return {openapi: '3.0.0', info: {title: 'Kubernetes', version: 'v1.32.0'}, paths, components: {schemas}}
}

export class OpenApi {
  constructor(private readonly reg: TypeRegistry) {}

  private groupVersions(): Map<string, ResourceType[]> {
    const m = new Map<string, ResourceType[]>()
    for (const t of this.reg.all()) m.set(groupVersion(t), [...(m.get(groupVersion(t)) ?? []), t])
    return m
  }

  root(): Record<string, unknown> {
    const paths: Record<string, unknown> = {}
    for (const [, types] of this.groupVersions()) {
      const {group, version} = types[0]
      const doc = JSON.stringify(gvDocument(types, group, version))
      const hash = createHash('sha512').update(doc).digest('hex').toUpperCase().slice(0, 128)
      paths[gvPath(group, version)] = {serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}`}
    }
    return {paths}
  }

  /** path is "api/v1" or "apis/<group>/<version>" */
  document(path: string): Record<string, unknown> | undefined {
    for (const [, types] of this.groupVersions()) {
      const {group, version} = types[0]
      if (gvPath(group, version) === path) return gvDocument(types, group, version)
    }
    return undefined
  }
}
