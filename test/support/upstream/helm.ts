/**
 * Helm values rendered for the Argo CD Applications, checked against the chart's upstream data
 * (charts.json.gz): every key path must be in the chart's values.yaml, be read by its templates
 * (`templateRefs`), lie under a map the template copies whole, or under a `passthrough` map (then it
 * is validated against the custom resource field it is copied into); `failRules` types are enforced.
 * Values come from kustomize `helmCharts` (valuesFile, additionalValuesFiles, valuesInline) and from
 * Application `spec.source(s).helm` (values, valuesObject) of a chart source.
 */
import type {ChartData, Upstream} from './data.js'
import {Findings} from './finding.js'
import {isKustomization, normalize, parseYaml, type RenderedFile} from './objects.js'
import {validate} from './schema.js'

export interface ValuesBlock {
  /** the file the values are written in */
  file: string
  /** charts.json key (the chart name) */
  chart: string
  version?: string
  /** what rendered them: `Kustomization helmCharts[0]` or `Application/x spec.source.helm` */
  via: string
  values: Record<string, unknown>
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)

/** Every Helm values block in the rendered repository. */
export function valuesBlocks(files: RenderedFile[]): ValuesBlock[] {
  const byPath = new Map(files.map((f) => [f.path, f.content]))
  const out: ValuesBlock[] = []
  for (const f of files) {
    if (!/\.ya?ml$/.test(f.path)) continue
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/') + 1) : ''
    if (isKustomization(f.path)) {
      for (const k of parseYaml(f.path, f.content) as {
        helmCharts?: {name: string; version?: string; valuesFile?: string; additionalValuesFiles?: string[]; valuesInline?: Record<string, unknown>}[]
      }[]) {
        ;(k.helmCharts ?? []).forEach((h, i) => {
          for (const vf of [h.valuesFile, ...(h.additionalValuesFiles ?? [])].filter((x): x is string => Boolean(x))) {
            const file = normalize(dir + vf)
            const content = byPath.get(file)
            if (content === undefined) throw new Error(`${f.path}: helmCharts[${i}] valuesFile ${vf} is not in the rendered repository`)
            const docs = parseYaml(file, content)
            out.push({file, chart: h.name, version: h.version, via: `Kustomization helmCharts[${i}] (${f.path})`, values: isMap(docs[0]) ? docs[0] : {}})
          }
          if (h.valuesInline)
            out.push({file: f.path, chart: h.name, version: h.version, via: `Kustomization helmCharts[${i}].valuesInline`, values: h.valuesInline})
        })
      }
      continue
    }
    for (const o of parseYaml(f.path, f.content) as {kind?: string; metadata?: {name?: string}; spec?: {source?: AppSource; sources?: AppSource[]}}[]) {
      if (o?.kind !== 'Application') continue
      const sources = [...(o.spec?.source ? [o.spec.source] : []), ...(o.spec?.sources ?? [])]
      for (const s of sources) {
        if (!s.chart || !s.helm) continue
        const via = `Application/${o.metadata?.name} spec.source.helm`
        if (typeof s.helm.values === 'string') {
          const v = parseYaml(f.path, s.helm.values)[0]
          out.push({file: f.path, chart: s.chart, version: s.targetRevision, via, values: isMap(v) ? v : {}})
        }
        if (isMap(s.helm.valuesObject))
          out.push({file: f.path, chart: s.chart, version: s.targetRevision, via: `${via}.valuesObject`, values: s.helm.valuesObject})
      }
    }
  }
  return out
}

type AppSource = {chart?: string; targetRevision?: string; helm?: {values?: string; valuesObject?: unknown}}

/** Helm's coalescing of user values over the chart's defaults: maps merge, anything else replaces, null deletes. */
export function coalesce(defaults: unknown, user: unknown): unknown {
  if (!isMap(defaults) || !isMap(user)) return user === undefined ? defaults : user
  const out: Record<string, unknown> = {...defaults}
  for (const [k, v] of Object.entries(user)) {
    if (v === null) delete out[k]
    else out[k] = coalesce(defaults[k], v)
  }
  return out
}

/**
 * The custom resource each kube-prometheus-stack passthrough map is copied into (its templates
 * prometheus/prometheus.yaml, alertmanager/alertmanager.yaml, thanos-ruler/ruler.yaml), and maps the
 * extracted passthrough lacks: `prometheus.prometheusSpec.thanos` is copied with toYaml into
 * Prometheus `spec.thanos` (checked in prometheus-community/helm-charts
 * charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml); its objectStorageConfig is
 * the chart's own shape (existingSecret/secret), read through templateRefs.
 */
const PASSTHROUGH_KIND: Record<string, string> = {
  'prometheus.prometheusSpec': 'monitoring.coreos.com/v1/Prometheus',
  'alertmanager.alertmanagerSpec': 'monitoring.coreos.com/v1/Alertmanager',
  'thanosRuler.thanosRulerSpec': 'monitoring.coreos.com/v1/ThanosRuler',
}
const EXTRA_PASSTHROUGH: Record<string, Record<string, Record<string, string>>> = {
  'kube-prometheus-stack': {'prometheus.prometheusSpec': {thanos: 'thanos'}},
}
const CHART_OWN_KEYS: Record<string, string[]> = {'prometheus.prometheusSpec.thanos': ['objectStorageConfig']}

interface ChartIndex {
  data: ChartData
  key: string
  refs: Set<string>
  /** every path that has a template ref below it (read piecewise, not whole) */
  parents: Set<string>
}

function indexChart(up: Upstream, key: string): ChartIndex | undefined {
  const data = up.charts[key]
  if (!data) return undefined
  const refs = new Set(data.templateRefs)
  const parents = new Set<string>()
  const addParents = (p: string) => {
    const segs = p.split('.')
    for (let i = 1; i < segs.length; i++) parents.add(segs.slice(0, i).join('.'))
  }
  data.templateRefs.forEach(addParents)
  return {data, key, refs, parents}
}

function defaultAt(values: unknown, segs: string[]): {found: boolean; value: unknown} {
  let v: unknown = values
  for (const s of segs) {
    if (!isMap(v) || !Object.hasOwn(v, s)) return {found: false, value: undefined}
    v = v[s]
  }
  return {found: true, value: v}
}

/** Is the values path known to the chart (exactly, or below a value its templates read whole)? */
function known(ix: ChartIndex, segs: string[]): boolean {
  const p = segs.join('.')
  if (ix.refs.has(p) || defaultAt(ix.data.values, segs).found) return true
  for (let i = segs.length - 1; i >= 1; i--) {
    const q = segs.slice(0, i).join('.')
    const d = defaultAt(ix.data.values, segs.slice(0, i))
    const readWhole = ix.refs.has(q) && !ix.parents.has(q)
    // a map the chart leaves empty for the user (`nodeSelector: {}`, `podAnnotations: {}`) and reads whole
    const freeForm = d.found && (d.value === null || (isMap(d.value) && Object.keys(d.value).length === 0)) && (ix.refs.has(q) || !ix.parents.has(q))
    if (readWhole || freeForm) return true
    if (d.found && !isMap(d.value)) return false
  }
  return false
}

export function checkValuesBlock(up: Upstream, b: ValuesBlock, findings: Findings): 'checked' | 'no-data' {
  const root = indexChart(up, b.chart)
  const object = `${b.via.startsWith('Application/') ? `${b.via.split(' ')[0]} ` : ''}helm values of chart ${b.chart}${b.version ? ` ${b.version}` : ''}`
  if (!root) return 'no-data'
  const source = `charts.json.gz: ${b.chart} ${root.data.version} (${root.data.source})`
  const report = findings.scoped(b.file, object, source)
  if (b.version && b.version !== root.data.version) report('', `chart version ${b.version} is pinned but the upstream data is for ${root.data.version}`)
  const subs = new Map(Object.entries(root.data.subcharts ?? {}).map(([k, v]) => [k, indexChart(up, v)] as const))
  const passthrough = {...root.data.passthrough}
  for (const [prefix, extra] of Object.entries(EXTRA_PASSTHROUGH[b.chart] ?? {})) passthrough[prefix] = {...passthrough[prefix], ...extra}

  const walk = (v: unknown, segs: string[]): void => {
    const p = segs.join('.')
    for (const [prefix, fields] of Object.entries(passthrough)) {
      if (!p.startsWith(prefix + '.') || segs.length !== prefix.split('.').length + 1) continue
      const target = fields[segs.at(-1)!]
      if (target === undefined) continue
      const own = CHART_OWN_KEYS[p] ?? []
      const kind = PASSTHROUGH_KIND[prefix]
      const crd = kind ? up.crds[kind] : undefined
      if (crd && isMap(v)) {
        const copied = Object.fromEntries(Object.entries(v).filter(([k]) => !own.includes(k)))
        const fieldSchema = (crd.schema.properties?.spec as {properties?: Record<string, never>} | undefined)?.properties?.[target]
        if (fieldSchema)
          validate(copied, fieldSchema, p, {
            structural: true,
            report: findings.scoped(b.file, object, `crds.json.gz: ${kind} spec.${target} (passthrough of ${source})`),
          })
        for (const k of own) if (Object.hasOwn(v, k)) walk(v[k], [...segs, k])
      } else if (crd)
        validate(v, (crd.schema.properties?.spec as {properties?: Record<string, never>}).properties?.[target] ?? {}, p, {
          structural: true,
          report: findings.scoped(b.file, object, `crds.json.gz: ${kind} spec.${target}`),
        })
      return
    }
    if (isMap(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) walk(x, [...segs, k])
      return
    }
    if (known(root, segs)) return
    const sub = subs.get(segs[0]!)
    if (sub && segs.length > 1 && known(sub, segs.slice(1))) return
    if (sub === undefined && subs.has(segs[0]!)) return report(p, `subchart ${segs[0]} has no upstream data: cannot check`)
    report(p, `unknown values key: not in the chart's values.yaml nor read by its templates${sub ? ` (nor by subchart ${sub.key})` : ''}; Helm ignores it`)
  }
  walk(b.values, [])

  for (const [ix, prefix] of [[root, []], ...[...subs].map(([k, s]) => [s, [k]] as const)] as [ChartIndex | undefined, string[]][]) {
    if (!ix) continue
    for (const rule of ix.data.failRules) {
      const segs = [...prefix, ...rule.path.split('.')]
      const got = defaultAt(b.values, segs)
      if (!got.found || got.value === null) continue
      if (!hasType(got.value, rule.type)) {
        findings.add({
          file: b.file,
          object,
          path: segs.join('.'),
          message: `must be a ${rule.type} (the chart fails: "${rule.path} must be a ${rule.type}"), got ${JSON.stringify(got.value)}`,
          source: `charts.json.gz: ${ix.key} failRules (${rule.source})`,
        })
      }
    }
  }
  return 'checked'
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string'
    case 'bool':
    case 'boolean':
      return typeof v === 'boolean'
    case 'int':
    case 'int64':
    case 'float64':
    case 'number':
      return typeof v === 'number'
    case 'map':
    case 'dict':
      return isMap(v)
    case 'slice':
    case 'list':
    case 'array':
      return Array.isArray(v)
    default:
      throw new Error(`charts.json.gz has a fail rule type "${type}" this checker does not know: teach hasType() about it`)
  }
}
