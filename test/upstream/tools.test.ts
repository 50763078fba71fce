/**
 * The upstream tools on the rendered repository: `promtool check rules` on every rule group,
 * `amtool check-config` on the Alertmanager configuration kube-prometheus-stack renders from our
 * values (the chart's default `alertmanager.config` coalesced with ours, as Helm does), and
 * `kubectl kustomize` on every kustomization without helmCharts.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {alertmanagerConfigs, isKustomization, parseYaml, renderedObjects, ruleFiles, upstream, valuesBlocks} from '../support/upstream/index.js'
import {amtoolVersion, forAmtool, limited, tool} from '../support/upstream/tools.js'
import {INVENTORY_LABELS, inventories, type CheckedInventory} from './inventories.js'

let tmp: string
let all: CheckedInventory[] = []
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-upstream-tools-'))
  all = await inventories()
})
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe.each(INVENTORY_LABELS.map((label, n) => [label, n] as const))('%s', (label, n) => {
  const dir = () => path.join(tmp, String(n))

  it('promtool check rules: every rule group of every PrometheusRule', async () => {
    const inv = all[n]!
    const rules = ruleFiles(renderedObjects(inv.files), valuesBlocks(inv.files))
    expect(rules.length, label).toBeGreaterThan(0)
    mkdirSync(path.join(dir(), 'rules'), {recursive: true})
    const files = rules.map((r, i) => {
      const f = path.join(dir(), 'rules', `${i}.yaml`)
      writeFileSync(f, stringify(r.content))
      return f
    })
    const r = await tool('promtool', ['check', 'rules', ...files])
    const named = rules.map((x, i) => `${i}.yaml = ${x.file} ${x.object}`).join('\n')
    expect(r.code, `${r.out}\n${named}`).toBe(0)
    const found = [...r.out.matchAll(/SUCCESS: (\d+) rules found/g)].map((m) => Number(m[1]))
    expect(found.length).toBe(rules.length)
    const total = rules.reduce((s, x) => s + (x.content.groups as {rules?: unknown[]}[]).reduce((t, g) => t + (g.rules?.length ?? 0), 0), 0)
    expect(found.reduce((s, x) => s + x, 0)).toBe(total)
  })

  it('amtool check-config: the Alertmanager configuration the chart renders from our values', async () => {
    const inv = all[n]!
    const configs = alertmanagerConfigs(upstream(), valuesBlocks(inv.files))
    // one Alertmanager, on the central cluster
    expect(configs.map((c) => c.file)).toEqual(
      inv.inventory.platform.clusters.filter((c) => c.role === 'central').map((c) => `deploy/overlays/${c.name}-central/kube-prometheus-stack/values.yaml`),
    )
    const version = await amtoolVersion()
    const deployed = String(
      (upstream().charts['kube-prometheus-stack']!.values as {alertmanager: {alertmanagerSpec: {image: {tag: string}}}}).alertmanager.alertmanagerSpec.image
        .tag,
    )
    for (const [i, c] of configs.entries()) {
      const f = path.join(dir(), `alertmanager-${i}.yaml`)
      mkdirSync(dir(), {recursive: true})
      const checked = forAmtool(c.config, version, deployed)
      if (checked.replaced.length)
        console.info(`amtool ${version} predates fields of Alertmanager ${deployed}; replaced for the check: ${checked.replaced.join(', ')}`)
      writeFileSync(f, stringify(checked.config))
      const r = await tool('amtool', ['check-config', f])
      expect(r.code, `${c.file}: ${r.out}`).toBe(0)
      expect(r.out).toMatch(/SUCCESS/)
      expect(r.out).toMatch(/\d+ receivers/)
    }
  })

  it('kubectl kustomize builds every kustomization without helmCharts', async () => {
    const inv = all[n]!
    for (const f of inv.files) {
      mkdirSync(path.dirname(path.join(dir(), f.path)), {recursive: true})
      writeFileSync(path.join(dir(), f.path), f.content)
    }
    const kustomizations = inv.files.filter((f) => isKustomization(f.path))
    const docs = new Map(kustomizations.map((f) => [f, parseYaml(f.path, f.content)[0] as {helmCharts?: unknown[]; resources?: string[]}]))
    const plain = kustomizations.filter((f) => !docs.get(f)!.helmCharts)
    const helm = kustomizations.filter((f) => docs.get(f)!.helmCharts)
    // never fetched: every resource is in the repository (the tests send no traffic off loopback)
    for (const f of plain) for (const r of docs.get(f)!.resources ?? []) expect(r, f.path).not.toMatch(/:\/\//)
    // kustomizations with helmCharts need `kustomize --enable-helm` and the helm binary, which is not
    // installed here: they are not built; their values are checked against charts.json.gz (rendered.test.ts)
    console.info(`${label}: kubectl kustomize on ${plain.length} kustomizations; ${helm.length} with helmCharts not built (no helm here)`)
    // the bases, the central overlay's and one per edge metrics mode (edges share their overlays)
    const modes = [...new Set(inv.inventory.platform.clusters.filter((c) => c.role === 'edge').map((c) => c.metrics ?? 'remote-scrape'))]
    expect(plain.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'deploy/base/cilium/kustomization.yaml',
        'deploy/base/fluent-bit/kustomization.yaml',
        ...modes.map((m) => `deploy/overlays/edge-${m}/fluent-bit/kustomization.yaml`),
      ]),
    )
    const results = await limited(plain, async (f) => ({f, ...(await tool('kubectl', ['kustomize', path.dirname(f.path)], dir()))}))
    for (const r of results) {
      expect(r.code, `${r.f.path}: ${r.out}`).toBe(0)
      const objects = parseYaml(r.f.path, r.out) as {kind?: string}[]
      expect(objects.length, r.f.path).toBeGreaterThan(0)
      expect(
        objects.every((o) => typeof o.kind === 'string'),
        r.f.path,
      ).toBe(true)
    }
  })
})
