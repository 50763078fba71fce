/**
 * Rendered manifests → objects, each validated against upstream: custom resources against their
 * CRD version's openAPIV3Schema (crds.json.gz), built-in kinds against the Kubernetes 1.34 OpenAPI
 * (k8s.json.gz). A kind in neither is a failure (it could not be checked), never a silent pass.
 */
import {parseAllDocuments} from 'yaml'
import type {Upstream} from './data.js'
import {Findings} from './finding.js'
import {validate} from './schema.js'

export interface RenderedFile {
  path: string
  content: string
}

export type K8sObject = {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; [k: string]: unknown}
  spec?: Record<string, unknown>
  [k: string]: unknown
}

export interface ParsedObject {
  file: string
  index: number
  object: K8sObject
}

/** Kustomize's own files: not objects for the API server. */
export const isKustomization = (p: string) => /(^|\/)kustomization\.ya?ml$/.test(p)

/** Documents of each text parsed so far: the checks parse most files twice, and renders of similar inventories share most files. */
const parsed = new Map<string, unknown[]>()

/**
 * YAML as kubectl, Helm and Argo CD read it (sigs.k8s.io/yaml → go-yaml, YAML 1.1 scalars: `on`/`yes`
 * are booleans there, so they are here). Each call returns documents of its own (a copy of the parse kept for
 * that text), so a caller may change them.
 */
export function parseYaml(file: string, content: string): unknown[] {
  let docs = parsed.get(content)
  if (!docs) {
    docs = parseAllDocuments(content, {version: '1.1'})
      .map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`)
        return d.toJS({maxAliasCount: -1}) as unknown
      })
      .filter((o) => o !== null && o !== undefined)
    parsed.set(content, docs)
  }
  return structuredClone(docs)
}

type KustomizationDoc = {
  helmCharts?: {valuesFile?: string; additionalValuesFiles?: string[]}[]
  patches?: ({path?: string} | string)[]
  patchesStrategicMerge?: string[]
  configMapGenerator?: {files?: string[]; envs?: string[]}[]
  secretGenerator?: {files?: string[]; envs?: string[]}[]
}

/**
 * Files a kustomization reads as something other than a resource: Helm values, patches (partial
 * objects; `kubectl kustomize` in tools.test.ts builds them) and generator inputs (`key=path` too).
 */
export function nonResourceFiles(files: RenderedFile[]): Set<string> {
  const out = new Set<string>()
  for (const f of files.filter((x) => isKustomization(x.path))) {
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/') + 1) : ''
    for (const k of parseYaml(f.path, f.content) as KustomizationDoc[]) {
      const refs = [
        ...(k.helmCharts ?? []).flatMap((h) => [h.valuesFile, ...(h.additionalValuesFiles ?? [])]),
        ...(k.patches ?? []).map((p) => (typeof p === 'string' ? p : p.path)),
        ...(k.patchesStrategicMerge ?? []),
        ...[...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])].flatMap((g) =>
          [...(g.files ?? []), ...(g.envs ?? [])].map((x) => x.split('=').at(-1)),
        ),
      ]
      for (const v of refs) if (v && !v.includes('\n')) out.add(normalize(dir + v))
    }
  }
  return out
}

export function normalize(p: string): string {
  const out: string[] = []
  for (const seg of p.split('/')) {
    if (seg === '..') out.pop()
    else if (seg !== '.' && seg !== '') out.push(seg)
  }
  return out.join('/')
}

/** Every Kubernetes object in the rendered YAML files (kustomizations, Helm values, patches and generator inputs excluded). */
export function renderedObjects(files: RenderedFile[]): ParsedObject[] {
  const skip = nonResourceFiles(files)
  const out: ParsedObject[] = []
  for (const f of files) {
    if (!/\.ya?ml$/.test(f.path) || isKustomization(f.path) || skip.has(f.path)) continue
    parseYaml(f.path, f.content).forEach((o, index) => out.push({file: f.path, index, object: o as K8sObject}))
  }
  return out
}

export const objectName = (o: K8sObject) => `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`

const gvk = (o: K8sObject) => `${o.apiVersion}/${o.kind}`

/** Validate one object; returns which upstream source it was checked against. */
export function checkObject(up: Upstream, file: string, o: K8sObject, findings: Findings): string {
  const key = gvk(o)
  const crd = up.crds[key]
  const defName = up.k8s.kinds[key]
  const name = objectName(o)
  if (crd) {
    const source = `crds.json.gz: ${key}`
    const report = findings.scoped(file, name, source)
    if (!crd.served) report('apiVersion', `${o.apiVersion} is not served by the CRD`)
    if (crd.deprecated) {
      const served = Object.entries(up.crds)
        .filter(([k, v]) => k.endsWith(`/${o.kind}`) && k !== key && !v.deprecated && k.split('/')[0] === key.split('/')[0])
        .map(([k]) => k.split('/').slice(0, 2).join('/'))
      report('apiVersion', `${o.apiVersion} ${o.kind} is deprecated${served.length ? `; use ${served.join(' or ')}` : ''}`)
    }
    // metadata is the API server's ObjectMeta (a CRD schema only says `type: object`)
    validate(o, {...crd.schema, properties: {...crd.schema.properties, metadata: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}, '', {
      structural: true,
      report,
    })
    validate(o.metadata, {$ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'}, 'metadata', {
      structural: false,
      definitions: up.k8s.definitions,
      report: findings.scoped(file, name, 'k8s.json.gz: ObjectMeta'),
    })
    checkDeprecatedFields(o, crd.deprecatedFields ?? [], report)
    return source
  }
  if (defName) {
    const source = `k8s.json.gz: ${key}`
    validate(o, {$ref: `#/definitions/${defName}`}, '', {structural: false, definitions: up.k8s.definitions, report: findings.scoped(file, name, source)})
    return source
  }
  const known = up.k8s.other.includes(key)
    ? 'a built-in kind whose schema is not in k8s.json.gz'
    : Object.keys(up.crds).some((k) => k.endsWith(`/${o.kind}`))
      ? `not a served version; the CRDs serve ${Object.keys(up.crds)
          .filter((k) => k.endsWith(`/${o.kind}`))
          .join(', ')}`
      : 'no CRD or built-in kind with this apiVersion/kind in the upstream data'
  findings.add({file, object: name, path: 'apiVersion', message: `${key}: cannot check (${known})`, source: 'crds.json.gz, k8s.json.gz'})
  return 'none'
}

/** CRD `deprecatedFields` (`.spec.podMetricsEndpoints[].targetPort`) used by the object. */
function checkDeprecatedFields(o: K8sObject, deprecated: string[], report: (path: string, message: string) => void): void {
  if (deprecated.length === 0) return
  const wanted = new Set(deprecated)
  const walk = (v: unknown, p: string, shown: string): void => {
    if (wanted.has(p)) report(shown, 'deprecated field (the CRD marks it deprecated)')
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${p}[]`, `${shown}[${i}]`))
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${p}.${k}`, shown ? `${shown}.${k}` : k)
  }
  walk(o, '', '')
}
