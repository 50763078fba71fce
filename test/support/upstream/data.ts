/**
 * Upstream truth for the checks of the rendered repository: the files in `../shared/upstream/`
 * (relative to the repository root; see its README), extracted from the exact versions obsctl pins.
 * Never copied into this repository: a missing file is a test failure naming the path.
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {gunzipSync} from 'node:zlib'

/** An OpenAPI schema node (CRD openAPIV3Schema or Kubernetes swagger definition). */
export type Schema = {[key: string]: unknown} & {
  type?: string
  format?: string
  $ref?: string
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  items?: Schema
  required?: string[]
  enum?: unknown[]
  nullable?: boolean
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}

export interface CrdVersion {
  schema: Schema
  served: boolean
  storage: boolean
  deprecated: boolean
  scope: string
  plural: string
  /** paths like `.spec.podMetricsEndpoints[].targetPort` marked deprecated in the CRD */
  deprecatedFields?: string[] | null
  source: string
}

export interface K8sOpenApi {
  source: string
  /** `apps/v1/Deployment` → definition name */
  kinds: Record<string, string>
  /** GVKs the API serves whose schemas are not in this extract */
  other: string[]
  definitions: Record<string, Schema>
}

export interface ChartData {
  name: string
  version: string
  appVersion?: string
  source: string
  values: Record<string, unknown>
  /** `fail "X must be a T"` rules of the chart's templates */
  failRules: {path: string; type: string; source: string}[]
  /** every `.Values.x.y` path its templates read */
  templateRefs: string[]
  /** values map → custom resource field it is copied into with toYaml: {'prometheus.prometheusSpec': {storageSpec: 'storage'}} */
  passthrough: Record<string, Record<string, string>>
  /** values key → charts.json key of the subchart */
  subcharts?: Record<string, string>
}

export interface ThanosFlags {
  version: string
  source: string
  commands: Record<string, string[]>
  deprecated: Record<string, string[]>
}

export interface Upstream {
  dir: string
  crds: Record<string, CrdVersion>
  k8s: K8sOpenApi
  charts: Record<string, ChartData>
  thanos: ThanosFlags
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const UPSTREAM_DIR = path.resolve(REPO_ROOT, '../shared/upstream')

function load<T>(dir: string, file: string): T {
  const f = path.join(dir, file)
  if (!existsSync(f)) {
    throw new Error(
      `upstream data missing: ${f} (the checks of the rendered repository read ../shared/upstream relative to the repository root; see that folder's README)`,
    )
  }
  const raw = readFileSync(f)
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as T
}

export function loadUpstream(dir: string = UPSTREAM_DIR): Upstream {
  return {
    dir,
    crds: load(dir, 'crds.json.gz'),
    k8s: load(dir, 'k8s.json.gz'),
    charts: load(dir, 'charts.json.gz'),
    thanos: load(dir, 'thanos-flags.json'),
  }
}

let cached: Upstream | undefined
export function upstream(): Upstream {
  cached ??= loadUpstream()
  return cached
}
