/**
 * Thanos command lines against the flags of their component in thanos-flags.json (Thanos v0.39.2
 * docs/components/*.md): unknown flags stop the process (kingpin refuses them), deprecated ones are
 * failures too. Sources: containers running a Thanos image (`thanos <component> --flag…`), ThanosRuler
 * `spec.additionalArgs` (rule), Prometheus/PrometheusAgent `spec.thanos.additionalArgs` (sidecar) and
 * the same fields in kube-prometheus-stack values.
 */
import type {Upstream} from './data.js'
import type {Findings} from './finding.js'
import {objectName, type K8sObject} from './objects.js'

export const THANOS_COMPONENTS = ['query', 'store', 'compact', 'receive', 'rule', 'sidecar', 'query-frontend'] as const

export interface ThanosArg {
  /** the flag name without dashes */
  name: string
  /** where it is written, e.g. `spec.template.spec.containers[0].args[5]` */
  path: string
}

/** Check flags of one component; `where` names the object/file. */
export function checkThanosFlags(up: Upstream, component: string, args: ThanosArg[], report: (path: string, message: string) => void): void {
  const flags = up.thanos.commands[component]
  if (!flags) {
    report(args[0]?.path ?? '', `"${component}" is not a Thanos ${up.thanos.version} component (${Object.keys(up.thanos.commands).join(', ')})`)
    return
  }
  const known = new Set(flags)
  const deprecated = new Set(up.thanos.deprecated[component] ?? [])
  for (const a of args) {
    if (!known.has(a.name)) report(a.path, `--${a.name} is not a flag of thanos ${component} ${up.thanos.version}`)
    else if (deprecated.has(a.name)) report(a.path, `--${a.name} is deprecated in thanos ${component} ${up.thanos.version}`)
  }
}

/** `--name=value`, `--name value` or `--no-name` → flag names (values skipped). */
export function parseFlags(tokens: {value: string; path: string}[]): ThanosArg[] {
  const out: ThanosArg[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.value
    if (!t.startsWith('--')) continue
    const name = t.slice(2).split('=')[0]!
    out.push({name, path: tokens[i]!.path})
    // a `--flag value` pair: the next token is the value, not a flag (Thanos boolean flags take no value)
    if (!t.includes('=') && i + 1 < tokens.length && !tokens[i + 1]!.value.startsWith('-')) i++
  }
  return out
}

type Container = {name?: string; image?: string; command?: unknown[]; args?: unknown[]}

function podSpecs(o: K8sObject): {spec: {containers?: Container[]; initContainers?: Container[]}; path: string}[] {
  const s = o.spec as Record<string, unknown> | undefined
  if (!s) return []
  if (o.kind === 'CronJob') {
    const t = (s.jobTemplate as {spec?: {template?: {spec?: object}}} | undefined)?.spec?.template?.spec
    return t ? [{spec: t, path: 'spec.jobTemplate.spec.template.spec'}] : []
  }
  const t = (s.template as {spec?: object} | undefined)?.spec
  return t ? [{spec: t, path: 'spec.template.spec'}] : []
}

/** Thanos flags in one object: containers with a Thanos image, and the operator CRs' additionalArgs. */
export function checkThanosObject(up: Upstream, file: string, o: K8sObject, findings: Findings): number {
  const source = `thanos-flags.json: ${up.thanos.source}`
  const report = findings.scoped(file, objectName(o), source)
  let checked = 0
  for (const {spec, path} of podSpecs(o)) {
    for (const field of ['containers', 'initContainers'] as const) {
      ;(spec[field] ?? []).forEach((c, ci) => {
        if (!/(^|\/)thanos(:|@|$)/.test(c.image ?? '')) return
        const base = `${path}.${field}[${ci}]`
        const tokens = [
          ...(c.command ?? []).map((v, i) => ({value: String(v), path: `${base}.command[${i}]`})),
          ...(c.args ?? []).map((v, i) => ({value: String(v), path: `${base}.args[${i}]`})),
        ].filter((t) => !/(^|\/)thanos$/.test(t.value))
        const component = tokens.find((t) => !t.value.startsWith('-'))
        if (!component) return report(base, 'a Thanos container without a component (query, store, …)')
        checkThanosFlags(up, component.value, parseFlags(tokens.filter((t) => t !== component)), report)
        checked++
      })
    }
  }
  const additional = (args: unknown, at: string, component: string) => {
    if (!Array.isArray(args)) return
    checkThanosFlags(
      up,
      component,
      args.map((a, i) => ({name: String((a as {name?: unknown}).name ?? '').replace(/^--/, ''), path: `${at}[${i}]`})),
      report,
    )
    checked++
  }
  if (o.apiVersion?.startsWith('monitoring.coreos.com/')) {
    if (o.kind === 'ThanosRuler') additional(o.spec?.additionalArgs, 'spec.additionalArgs', 'rule')
    if (o.kind === 'Prometheus' || o.kind === 'PrometheusAgent')
      additional((o.spec?.thanos as {additionalArgs?: unknown} | undefined)?.additionalArgs, 'spec.thanos.additionalArgs', 'sidecar')
  }
  return checked
}

/** The same CR fields as kube-prometheus-stack values carry them. */
export function checkThanosValues(up: Upstream, file: string, object: string, values: Record<string, unknown>, findings: Findings): number {
  const report = findings.scoped(file, object, `thanos-flags.json: ${up.thanos.source}`)
  const get = (...segs: string[]) => segs.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), values)
  let checked = 0
  for (const [segs, component] of [
    [['prometheus', 'prometheusSpec', 'thanos', 'additionalArgs'], 'sidecar'],
    [['thanosRuler', 'thanosRulerSpec', 'additionalArgs'], 'rule'],
  ] as const) {
    const args = get(...segs)
    if (!Array.isArray(args)) continue
    checkThanosFlags(
      up,
      component,
      args.map((a, i) => ({name: String((a as {name?: unknown}).name ?? '').replace(/^--/, ''), path: `${segs.join('.')}[${i}]`})),
      report,
    )
    checked++
  }
  return checked
}
