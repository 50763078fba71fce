/**
 * The rendered GitOps repository checked against the upstream projects it pins (issue 12):
 * every object against its CRD schema or the Kubernetes OpenAPI, every Helm values block against
 * its chart, every Thanos flag against its component, and the rules upstream enforces in code that no
 * schema holds (validation.ts: Ingress hosts, Cilium's API server host). See the README's Testing section.
 */
import {upstream, type Upstream} from './data.js'
import {Findings, type Finding} from './finding.js'
import {consistencyFindings} from './consistency.js'
import {alertmanagerConfigs, silentReceivers} from './extract.js'
import {checkValuesBlock, valuesBlocks, type ValuesBlock} from './helm.js'
import {checkObject, renderedObjects, type ParsedObject, type RenderedFile} from './objects.js'
import {checkThanosObject, checkThanosValues} from './thanos.js'
import {validationFindings} from './validation.js'

export {upstream, loadUpstream, UPSTREAM_DIR} from './data.js'
export {formatFinding, type Finding} from './finding.js'
export {valuesBlocks, coalesce, type ValuesBlock} from './helm.js'
export {renderedObjects, parseYaml, isKustomization, type RenderedFile, type ParsedObject, type K8sObject} from './objects.js'
export {ruleFiles, alertmanagerConfigs, silentReceivers} from './extract.js'

export interface RepositoryCheck {
  findings: Finding[]
  objects: ParsedObject[]
  values: ValuesBlock[]
  /** how many objects were checked against each source (`crds.json.gz: …`, `k8s.json.gz: …`) */
  bySource: Map<string, number>
  /** Thanos command lines and additionalArgs lists checked */
  thanosChecked: number
  /** values blocks of charts without upstream data (not checked: named so a test can say so) */
  unchecked: string[]
}

export function checkRepository(files: RenderedFile[], up: Upstream = upstream()): RepositoryCheck {
  const findings = new Findings()
  const objects = renderedObjects(files)
  const bySource = new Map<string, number>()
  let thanosChecked = 0
  for (const {file, object} of objects) {
    const source = checkObject(up, file, object, findings)
    bySource.set(source, (bySource.get(source) ?? 0) + 1)
    thanosChecked += checkThanosObject(up, file, object, findings)
  }
  const values = valuesBlocks(files)
  const unchecked: string[] = []
  for (const b of values) {
    if (checkValuesBlock(up, b, findings) === 'no-data') unchecked.push(`${b.file}: chart ${b.chart} (no data in charts.json.gz)`)
    else if (b.chart === 'kube-prometheus-stack') thanosChecked += checkThanosValues(up, b.file, `helm values of chart ${b.chart}`, b.values, findings)
  }
  // alerts must reach someone: the Alertmanager configuration the chart renders needs a notifier
  for (const am of alertmanagerConfigs(up, values)) for (const f of silentReceivers(am, up)) findings.add(f)
  for (const f of consistencyFindings(up, objects, values)) findings.add(f)
  for (const f of validationFindings(objects, values)) findings.add(f)
  return {findings: findings.list, objects, values, bySource, thanosChecked, unchecked}
}
