/**
 * `replicas.NAME` is a promise: the count reaches the rendered repository. Each component config validate accepts is
 * rendered at another count and found in a `replicas:` line that changed; each one obsctl runs at a fixed count is
 * refused with the reason (it used to change only the capacity check).
 */
import {describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, lintInventory, parseInventory, renderInventoryYaml, setInventoryValue, type LoadedInventory} from '../../src/lib/config/index.js'
import {FIXED_REPLICAS, SCALABLE_COMPONENTS} from '../../src/lib/config/sizing.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {example, fleet} from '../upstream/inventories.js'

const set = async (inv: LoadedInventory, key: string, value: string) =>
  (await setInventoryValue(inv, key, value, {dryRun: true, allowOvercommit: true})).inventory

/** every `replicas: N` line of the render, by file and line number */
const replicaLines = (inv: LoadedInventory) =>
  new Map(
    renderFiles(inv.platform).flatMap((f) =>
      f.content.split('\n').flatMap((line, i) => (/^\s*replicas:\s*\d+\s*$/.test(line) ? [[`${f.path}:${i + 1}`, line.trim()] as const] : [])),
    ),
  )

describe('replicas.<component>', () => {
  it('every component config validate accepts is rendered at the count set', async () => {
    // the example and edges of both metrics modes: the agent's Prometheus and the central one per remote-scrape edge
    const base = await fleet(6)
    const before = replicaLines(base)
    for (const component of SCALABLE_COMPONENTS) {
      const after = replicaLines(await set(base, `replicas.${component}`, '7'))
      const changed = [...after].filter(([where, line]) => before.get(where) !== line)
      expect(changed.length, `replicas.${component}: 7 changed no replicas line of the render`).toBeGreaterThan(0)
      expect(
        changed.every(([, line]) => line === 'replicas: 7'),
        component,
      ).toBe(true)
    }
  })

  it('a component obsctl runs at a fixed count is refused, with the reason and the line (config validate, config set)', async () => {
    for (const [component, why] of Object.entries(FIXED_REPLICAS)) {
      const text = `${renderInventoryYaml(EXAMPLE_ANSWERS)}replicas:\n  ${component}: 2\n`
      const line = text.split('\n').indexOf(`  ${component}: 2`) + 1
      const findings = lintInventory(parseInventory(text, '/virtual/obsctl.yaml')).findings.filter((f) => f.id === 'replicas-fixed')
      expect(findings, component).toEqual([
        expect.objectContaining({
          severity: 'error',
          message: `replicas.${component} is not rendered: ${why}`,
          location: expect.stringMatching(new RegExp(`^/virtual/obsctl\\.yaml:${line}:\\d+$`)),
        }),
      ])
      expect(findings[0]!.fix).toContain(`remove replicas.${component}`)
    }
    // config set refuses it before anything is written (exit 2), as every edit that leaves an error
    await expect(set(example(), 'replicas.grafana', '2')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('replicas.grafana is not rendered'),
    })
  })

  it('0 of a rendered component is a warning that it will not run', async () => {
    const findings = lintInventory(await set(example(), 'replicas.opensearch-data', '0')).findings.filter((f) => f.id === 'replicas-zero')
    expect(findings).toEqual([
      expect.objectContaining({severity: 'warning', message: expect.stringMatching(/opensearch-data will not run .*cannot form or hold the logs/)}),
    ])
  })
})
