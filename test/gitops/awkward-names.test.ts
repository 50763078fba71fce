/**
 * The GitOps templates are text (Eta), so every value printed into them must stay one YAML scalar of the right type.
 * Cluster names are DNS labels, and some DNS labels are not strings to YAML 1.1, which kubectl, kustomize and Argo CD
 * read manifests with (go-yaml through sigs.k8s.io/yaml): `on`/`no`/`y` are bools, `123` an int, `null` a null,
 * `2024-01-02` a timestamp. An edge named `on` rendered `obsctl.dev/edge: on` and kubectl refused the Prometheus
 * ("cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string"); an IPv6 API server
 * rendered `replacement: [fd00::197]:6443`, which is no YAML at all. Checked here by the YAML 1.1 reading and against
 * upstream (CRD schemas and the Kubernetes OpenAPI, ../support/upstream), with the example's names rendering the
 * same bytes as before.
 */
import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml, setInventoryValue} from '../../src/lib/config/index.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {yamlScalar} from '../../src/lib/yaml-scalar.js'
import {checkRepository, formatFinding} from '../support/upstream/index.js'

const FILE = '/virtual/obsctl.yaml'

async function awkward() {
  let inv = parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), FILE)
  const set = async (p: string, v: string) => (inv = (await setInventoryValue(inv, p, v, {dryRun: true, allowOvercommit: true})).inventory)
  // cluster-02 is the agent edge, cluster-03 and cluster-04 remote-scrape edges
  await set('clusters.cluster-02.name', '"123"')
  await set('clusters.cluster-03.name', '"on"')
  await set('clusters.on.apiServer', 'https://[fd00::197]:6443')
  await set('clusters.cluster-04.name', '"2024-01-02"')
  // a receiver, so that alerts reach someone (an upstream check), and a route by the awkward names
  await set('alerting', '{receivers: [{name: ops, webhook: {urlEnv: ALERT_WEBHOOK_URL}}], routes: [{receiver: ops, clusters: ["on", "123"]}]}')
  return inv
}

/** every value under `metadata.labels` and a Prometheus's `externalLabels`, as YAML 1.1 reads the file */
function labelValues(files: {path: string; content: string}[]): {where: string; value: unknown}[] {
  const out: {where: string; value: unknown}[] = []
  const walk = (x: unknown, where: string): void => {
    if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${where}[${i}]`))
    else if (x && typeof x === 'object')
      for (const [k, v] of Object.entries(x)) {
        if ((k === 'labels' || k === 'externalLabels') && v && typeof v === 'object' && !Array.isArray(v))
          for (const [l, lv] of Object.entries(v)) out.push({where: `${where}.${k}.${l}`, value: lv})
        walk(v, `${where}.${k}`)
      }
  }
  for (const f of files.filter((f) => f.path.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(f.content, {version: '1.1'})) {
      expect(doc.errors.map((e) => `${f.path}: ${e.message}`)).toEqual([])
      walk(doc.toJS(), f.path)
    }
  }
  return out
}

describe('cluster names that YAML reads as something else, and an IPv6 API server', () => {
  it('render one string for each: every label a string, every file YAML, valid against upstream', async () => {
    const inv = await awkward()
    const files = renderFiles(inv.platform)
    const labels = labelValues(files)
    expect(labels.filter((l) => typeof l.value !== 'string').map((l) => `${l.where}: ${JSON.stringify(l.value)}`)).toEqual([])
    for (const name of ['on', '123', '2024-01-02']) expect(labels.some((l) => l.value === name)).toBe(true)
    const check = checkRepository(files)
    expect(check.findings.map(formatFinding)).toEqual([])
    // the IPv6 edge's scrape target address, as Prometheus wants it: [host]:port
    const edge = files.find((f) => f.path.endsWith('kube-prometheus-stack/edge-prometheus.yaml'))!.content
    expect(edge).toContain('replacement: "[fd00::197]:6443"')
  })

  it('yamlScalar quotes only what a YAML reader would not take back as the same string', () => {
    for (const plain of [
      'cluster-01',
      'edge-agent',
      'lab-central',
      'cluster-01-context',
      'a',
      'x1',
      '192.168.101.194:6443',
      'grafana.k8s-cluster-01.miribit.lab',
    ])
      expect(yamlScalar(plain)).toBe(plain)
    for (const v of ['on', 'off', 'yes', 'no', 'y', 'n', 'true', 'null', '123', '0x1f', '1e3', '0o17', '2024-01-02', '[fd00::1]:6443', '1_000', '12:30'])
      expect(yamlScalar(v)).toBe(JSON.stringify(v))
  })
})
