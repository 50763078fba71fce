/**
 * What the external upstream tools check: the rule groups for `promtool check rules` and the
 * Alertmanager configuration for `amtool check-config`, taken from the rendered repository.
 */
import type {Upstream} from './data.js'
import type {Finding} from './finding.js'
import {coalesce, type ValuesBlock} from './helm.js'
import {objectName, type ParsedObject} from './objects.js'

export interface RuleFile {
  file: string
  object: string
  /** `{groups: [...]}`: the Prometheus rule file format */
  content: {groups: unknown[]}
}

/** PrometheusRule objects, and kube-prometheus-stack's additionalPrometheusRulesMap. */
export function ruleFiles(objects: ParsedObject[], values: ValuesBlock[]): RuleFile[] {
  const out: RuleFile[] = []
  for (const {file, object: o} of objects) {
    if (o.apiVersion === 'monitoring.coreos.com/v1' && o.kind === 'PrometheusRule')
      out.push({file, object: objectName(o), content: {groups: (o.spec?.groups as unknown[]) ?? []}})
  }
  for (const b of values.filter((x) => x.chart === 'kube-prometheus-stack')) {
    const map = b.values.additionalPrometheusRulesMap as Record<string, {groups?: unknown[]}> | undefined
    for (const [name, r] of Object.entries(map ?? {}))
      out.push({file: b.file, object: `additionalPrometheusRulesMap.${name}`, content: {groups: r.groups ?? []}})
  }
  return out
}

export interface AlertmanagerConfig {
  file: string
  object: string
  /** the configuration the chart renders: its default `alertmanager.config` coalesced with ours */
  config: Record<string, unknown>
  /** true when the values set `alertmanager.config` at all */
  rendered: boolean
}

const get = (v: unknown, ...segs: string[]) => segs.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), v)

/** The Alertmanager configuration of every kube-prometheus-stack release that runs an Alertmanager. */
export function alertmanagerConfigs(up: Upstream, values: ValuesBlock[]): AlertmanagerConfig[] {
  const chart = up.charts['kube-prometheus-stack']!
  const out: AlertmanagerConfig[] = []
  for (const b of values.filter((x) => x.chart === 'kube-prometheus-stack')) {
    const effective = coalesce(chart.values, b.values)
    if (get(effective, 'alertmanager', 'enabled') === false) continue
    out.push({
      file: b.file,
      object: `helm values of chart kube-prometheus-stack${b.version ? ` ${b.version}` : ''}`,
      config: get(effective, 'alertmanager', 'config') as Record<string, unknown>,
      rendered: get(b.values, 'alertmanager', 'config') !== undefined,
    })
  }
  return out
}

/** Alerts that reach nobody: every route ends in a receiver with no notifier (the chart's `null`). */
export function silentReceivers(am: AlertmanagerConfig, up: Upstream): Finding[] {
  const receivers = (am.config.receivers as {name: string; [k: string]: unknown}[] | undefined) ?? []
  const notifying = receivers.filter((r) => Object.keys(r).some((k) => k.endsWith('_configs') && Array.isArray(r[k]) && (r[k] as unknown[]).length > 0))
  if (notifying.length > 0) return []
  return [
    {
      file: am.file,
      object: am.object,
      path: 'alertmanager.config.receivers',
      message: `no receiver has a notifier (${receivers.map((r) => r.name).join(', ') || 'none'}): every alert is dropped`,
      source: `charts.json.gz: kube-prometheus-stack ${up.charts['kube-prometheus-stack']!.version} values alertmanager.config`,
    },
  ]
}
