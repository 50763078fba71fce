/** prometheus.*: the central replicas, the targets API and the remote-scrape edges' own Prometheuses. */
import {yaml} from '../../lazy-deps.js'
import {centralCluster, edgePrometheusName, scrapeEdges} from '../../config/model.js'
import {sizeOf} from '../../config/sizing.js'
import {NAMESPACES, okJson, type KubeObject} from '../../platform/index.js'
import type {Check} from '../types.js'
import {clustersOf, fail, list, pass, type PromEnvelope} from './util.js'

/** the central pair only (the chart's Prometheus; the thanos-discovery Service selects the same labels),
 * not the remote-scrape edges' Prometheuses in the same namespace */
export const PROMETHEUS_POD_SELECTOR = 'app.kubernetes.io/name=prometheus,prometheus=kube-prometheus-stack-prometheus'
export const PROMETHEUS_PORT = 9090

interface Pod extends KubeObject {
  status?: {phase?: string; conditions?: {type: string; status: string}[]}
}

export function podReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

const replicas: Check = {
  id: 'prometheus.replicas',
  component: 'prometheus',
  title: 'Every central Prometheus replica is ready and carries the external label cluster',
  async run(ctx) {
    const central = centralCluster(ctx.platform)
    const want = sizeOf(ctx.platform, 'prometheus').replicas
    const kube = await ctx.kube(central.name)
    const pods = (await kube.list<Pod>('v1', 'Pod', {namespace: NAMESPACES.monitoring, labelSelector: PROMETHEUS_POD_SELECTOR})).sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    )
    const problems: string[] = []
    if (pods.length < want) problems.push(`${pods.length}/${want} pods (selector ${PROMETHEUS_POD_SELECTOR})`)
    await Promise.all(
      pods.map(async (pod) => {
        const name = pod.metadata.name
        if (!podReady(pod)) return void problems.push(`${name} not ready (${pod.status?.phase ?? 'unknown'})`)
        try {
          const res = await ctx.podProxy(central.name, NAMESPACES.monitoring, name, PROMETHEUS_PORT, '/api/v1/status/config')
          const cfg = okJson<PromEnvelope<{yaml: string}>>(res, name)
          const labels = ((yaml().parse(cfg.data.yaml) as {global?: {external_labels?: Record<string, string>}})?.global?.external_labels ?? {}) as Record<
            string,
            string
          >
          if (labels.cluster !== central.name) problems.push(`${name}: external label cluster=${labels.cluster ?? '(none)'}, want ${central.name}`)
        } catch (e) {
          problems.push(`${name}: ${(e as Error).message}`)
        }
      }),
    )
    if (problems.length) {
      return fail(
        list(problems.sort()),
        `kubectl -n monitoring get pods -l ${PROMETHEUS_POD_SELECTOR}; the Prometheus resource must set externalLabels.cluster: ${central.name}`,
      )
    }
    return pass(`${pods.length} replicas ready, cluster=${central.name}`)
  },
}

export interface PromTarget {
  labels: Record<string, string>
  scrapePool?: string
  scrapeUrl?: string
  lastError?: string
  health: 'up' | 'down' | 'unknown'
}

async function activeTargets(ctx: Parameters<Check['run']>[0]): Promise<PromTarget[]> {
  const body = okJson<PromEnvelope<{activeTargets: PromTarget[]}>>(await ctx.http.request('prometheus', '/api/v1/targets?state=active'), 'prometheus')
  return body.data.activeTargets ?? []
}

const describeTarget = (t: PromTarget) =>
  `${t.labels.job ?? t.scrapePool}/${t.labels.instance ?? t.scrapeUrl}${t.labels.cluster ? ` (${t.labels.cluster})` : ''}${t.lastError ? `: ${t.lastError}` : ''}`

const targets: Check = {
  id: 'prometheus.targets',
  component: 'prometheus',
  title: 'No scrape target is down',
  async run(ctx) {
    const ts = await activeTargets(ctx)
    const down = ts.filter((t) => t.health === 'down')
    if (ts.length === 0)
      return fail(
        'Prometheus has no active targets',
        'the ServiceMonitors/scrape configs are missing: is the kube-prometheus-stack Application synced? (argocd.apps)',
      )
    if (down.length)
      return fail(
        `${down.length}/${ts.length} targets down: ${list(down.map(describeTarget), 6)}`,
        'the error says why; for an edge, check its API server and the scrape token (obsctl secrets apply)',
        [...new Set(down.map((t) => t.labels.cluster ?? centralCluster(ctx.platform).name))],
      )
    // a target Prometheus has not scraped yet is not known to be up: not measured (--wait re-runs until it is)
    const unknown = ts.filter((t) => t.health !== 'up')
    if (unknown.length)
      return fail(
        `${unknown.length}/${ts.length} targets not scraped yet (not measured): ${list(unknown.map(describeTarget), 6)}`,
        'Prometheus scrapes each target once per interval after it starts or reloads: obsctl validate --wait re-runs this until they are',
        [...new Set(unknown.map((t) => t.labels.cluster ?? centralCluster(ctx.platform).name))],
      )
    return pass(`${ts.length} targets up`)
  },
}

/**
 * Each remote-scrape edge is scraped by its own Prometheus on central (edge-<edge>). Its targets are read
 * through Thanos Query's targets API, which fans out to every sidecar and labels each target with that
 * sidecar's external labels (thanos-io/thanos pkg/targets/prometheus.go enrichTargetsWithExtLabels) and
 * deduplicates replicas (pkg/targets/targets.go): so `cluster=<edge>` there proves the edge's series carry
 * its own cluster label end to end, not the central one.
 */
const edges: Check = {
  id: 'prometheus.edges',
  component: 'prometheus',
  title: "Every remote-scrape edge's jobs are up, labelled with the edge (through Thanos Query)",
  async run(ctx) {
    const want = scrapeEdges(ctx.platform)
    if (want.length === 0) return pass('no edge uses metrics: remote-scrape')
    const body = okJson<PromEnvelope<{activeTargets: PromTarget[]}>>(await ctx.http.request('thanos-query', '/api/v1/targets?state=active'), 'thanos-query')
    const ts = body.data?.activeTargets ?? []
    const problems: string[] = []
    const ok: string[] = []
    for (const c of want) {
      const mine = ts.filter((t) => t.labels.cluster === c.name)
      const down = mine.filter((t) => t.health === 'down')
      const unknown = mine.filter((t) => t.health !== 'down' && t.health !== 'up')
      const jobs = (ts: PromTarget[]) => [...new Set(ts.map((t) => t.labels.job ?? t.scrapePool))].join(', ')
      if (mine.length === 0) problems.push(`${c.name}: no targets`)
      else if (down.length) problems.push(`${c.name}: ${down.length}/${mine.length} down (${jobs(down)})`)
      else if (unknown.length) problems.push(`${c.name}: ${unknown.length}/${mine.length} not scraped yet (${jobs(unknown)})`)
      else ok.push(`${c.name} ${mine.length}`)
    }
    if (problems.length) {
      return fail(
        list(problems),
        `each edge has its own Prometheus on the central cluster (${list(want.map((c) => edgePrometheusName(c)))}) scraping through the edge's API server: kubectl -n monitoring get prometheus,scrapeconfig -l obsctl.dev/edge=<edge>; check the edge is up and the Secret obsctl-scrape-<edge> holds a valid token (obsctl cluster register)`,
        clustersOf(problems),
      )
    }
    return pass(`targets up: ${list(ok)}`)
  },
}

export const prometheusChecks: Check[] = [replicas, targets, edges]
