/**
 * What validate does not measure is not a pass.
 * - prometheus.targets and prometheus.edges when Prometheus has not scraped a target yet (it starts or reloads: every
 *   target is `health: "unknown"` until its first scrape): a fail that `--wait` (and the bootstrap/cluster add validate
 *   phase, which settles until --timeout) re-runs. The answers are Prometheus's and Thanos Query's
 *   GET /api/v1/targets?state=active shape (prometheus/web/api/v1/api.go TargetDiscovery: activeTargets[] with labels,
 *   scrapePool, scrapeUrl, lastError, health up|down|unknown).
 * - a run whose every check is skipped: bad input, never a recorded pass.
 */
import {describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {prometheusChecks} from '../../src/lib/validate/checks/prometheus.js'
import type {ValidateContext} from '../../src/lib/validate/types.js'
import {rejection} from '../support/errors.js'

const inv = parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), '/tmp/obsctl.yaml')

const target = (cluster: string, job: string, health: 'up' | 'down' | 'unknown') => ({
  labels: {cluster, job, instance: `${job}.${cluster}:9100`},
  scrapePool: job,
  scrapeUrl: `http://${job}.${cluster}:9100/metrics`,
  lastError: '',
  health,
})

/** a context whose services answer the targets API with these targets (Prometheus and Thanos Query alike) */
function answering(activeTargets: ReturnType<typeof target>[]): ValidateContext {
  const body = JSON.stringify({status: 'success', data: {activeTargets, droppedTargets: []}})
  return {
    platform: inv.platform,
    inv,
    http: {request: async () => ({status: 200, body, url: 'https://prometheus.test/api/v1/targets'})},
  } as unknown as ValidateContext
}

const check = (id: string) => prometheusChecks.find((c) => c.id === id)!

describe('targets Prometheus has not scraped yet', () => {
  it('prometheus.targets: every target up passes; one not scraped yet fails, named, as not measured', async () => {
    const up = [target('cluster-01', 'node-exporter', 'up'), target('cluster-01', 'kubelet', 'up')]
    expect(await check('prometheus.targets').run(answering(up))).toMatchObject({result: 'pass', detail: '2 targets up'})
    const r = await check('prometheus.targets').run(answering([...up, target('cluster-01', 'kube-state-metrics', 'unknown')]))
    expect(r.result).toBe('fail')
    expect(r.detail).toBe('1/3 targets not scraped yet (not measured): kube-state-metrics/kube-state-metrics.cluster-01:9100 (cluster-01)')
    expect(r.hint).toMatch(/--wait/)
  })

  it('prometheus.edges: an edge whose targets are not scraped yet is not counted as up', async () => {
    const edges = inv.platform.clusters.filter((c) => c.role === 'edge' && (c.metrics ?? 'remote-scrape') === 'remote-scrape').map((c) => c.name)
    expect(edges.length).toBeGreaterThan(0)
    const ts = edges.map((e, i) => target(e, 'kubelet', i === 0 ? 'unknown' : 'up'))
    const r = await check('prometheus.edges').run(answering(ts))
    expect(r.result).toBe('fail')
    expect(r.detail).toContain(`${edges[0]}: 1/1 not scraped yet (kubelet)`)
  })
})

describe('a validate run that would run no check', () => {
  it('is bad input (exit 2), not a pass that replaces the verdict status shows', async () => {
    const {validate} = await import('../../src/lib/validate/index.js')
    const {ALL_CHECKS} = await import('../../src/lib/validate/checks/index.js')
    const thanos = ALL_CHECKS.filter((c) => c.component === 'thanos').map((c) => c.id)
    const e = await rejection(validate(inv, {component: 'thanos', skip: thanos, record: true}))
    expect(e).toMatchObject({exitCode: 2, code: 'NOTHING_TO_CHECK'})
    expect(e.message).toBe(`nothing to validate: every check of thanos is skipped (${thanos.join(', ')})`)
  })
})
