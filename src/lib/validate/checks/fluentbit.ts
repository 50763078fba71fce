/** fluent-bit.*: the DaemonSet on every cluster, its ClusterOutput and each pod's health endpoint. */
import {centralCluster, serviceHost} from '../../config/model.js'
import type {Cluster, Platform} from '../../config/schema.js'
import {NAMESPACES, SERVICES, type KubeObject} from '../../platform/index.js'
import type {Check, ValidateContext} from '../types.js'
import {podReady} from './prometheus.js'
import {clustersOf, fail, list, pass} from './util.js'

export const FLUENT_BIT_DAEMONSET = 'fluent-bit'
export const FLUENT_BIT_POD_SELECTOR = 'app.kubernetes.io/name=fluent-bit'
export const FLUENT_BIT_HTTP_PORT = 2020
export const CLUSTER_OUTPUT = {apiVersion: 'fluentbit.fluent.io/v1alpha2', kind: 'ClusterOutput'} as const

/** Run one probe per cluster (ctx.mapClusters: a bounded number at once); a cluster whose probe throws is a problem, not a crash. */
async function perCluster(ctx: ValidateContext, probe: (c: Cluster) => Promise<string | undefined>): Promise<{problems: string[]; ok: number}> {
  const out = await ctx.mapClusters(async (c) => {
    try {
      return await probe(c)
    } catch (e) {
      return `${c.name}: ${(e as Error).message}`
    }
  })
  const problems = out.filter((x): x is string => Boolean(x))
  return {problems, ok: out.length - problems.length}
}

const daemonset: Check = {
  id: 'fluent-bit.daemonset',
  component: 'fluent-bit',
  title: 'The Fluent Bit DaemonSet is ready on every cluster',
  async run(ctx) {
    const {problems} = await perCluster(ctx, async (c) => {
      const ds = await (await ctx.kube(c.name)).get('apps/v1', 'DaemonSet', FLUENT_BIT_DAEMONSET, NAMESPACES.logging)
      if (!ds) return `${c.name}: no DaemonSet ${NAMESPACES.logging}/${FLUENT_BIT_DAEMONSET}`
      const st = (ds.status ?? {}) as {desiredNumberScheduled?: number; numberReady?: number}
      const want = st.desiredNumberScheduled ?? 0
      if (want === 0 || (st.numberReady ?? 0) < want) return `${c.name}: ${st.numberReady ?? 0}/${want} ready`
      return undefined
    })
    if (problems.length)
      return fail(
        list(problems),
        'kubectl -n logging describe daemonset fluent-bit; kubectl -n logging get pods -l app.kubernetes.io/name=fluent-bit',
        clustersOf(problems),
      )
    return pass(`ready on ${ctx.platform.clusters.length} clusters`)
  },
}

/** Host names a ClusterOutput may use to reach the central OpenSearch from cluster c. */
export function acceptedOpenSearchHosts(p: Platform, c: Cluster): string[] {
  const central = centralCluster(p)
  const hosts = [serviceHost(p, central, 'opensearch')]
  if (p.endpoints.opensearch) hosts.push(new URL(p.endpoints.opensearch).hostname)
  if (c.name === central.name) {
    const s = SERVICES.opensearch
    hosts.push(s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`)
  }
  return hosts
}

interface ClusterOutput extends KubeObject {
  spec?: {opensearch?: {host?: string; port?: number}}
}

const output: Check = {
  id: 'fluent-bit.output',
  component: 'fluent-bit',
  title: 'The ClusterOutput points at the central OpenSearch',
  async run(ctx) {
    const {problems} = await perCluster(ctx, async (c) => {
      const outs = await (await ctx.kube(c.name)).list<ClusterOutput>(CLUSTER_OUTPUT.apiVersion, CLUSTER_OUTPUT.kind)
      const os = outs.filter((o) => o.spec?.opensearch)
      if (os.length === 0) return `${c.name}: no ClusterOutput with an opensearch output`
      const ok = acceptedOpenSearchHosts(ctx.platform, c)
      const wrong = os.filter((o) => !ok.includes(o.spec!.opensearch!.host ?? ''))
      if (wrong.length) return `${c.name}: ${wrong.map((o) => `${o.metadata.name} → ${o.spec!.opensearch!.host ?? '(no host)'}`).join(', ')} (want ${ok[0]})`
      return undefined
    })
    if (problems.length)
      return fail(
        list(problems),
        'the ClusterOutput is rendered by obsctl render: rerun it and sync (argocd app sync), or fix endpoints.opensearch in the inventory',
        clustersOf(problems),
      )
    return pass(`${ctx.platform.clusters.length} clusters → ${serviceHost(ctx.platform, centralCluster(ctx.platform), 'opensearch')}`)
  },
}

const health: Check = {
  id: 'fluent-bit.health',
  component: 'fluent-bit',
  title: "Every Fluent Bit pod's /api/v1/health is ok",
  async run(ctx) {
    let pods = 0
    const {problems} = await perCluster(ctx, async (c) => {
      const list = await (await ctx.kube(c.name)).list<KubeObject>('v1', 'Pod', {namespace: NAMESPACES.logging, labelSelector: FLUENT_BIT_POD_SELECTOR})
      if (list.length === 0) return `${c.name}: no pods (${FLUENT_BIT_POD_SELECTOR})`
      pods += list.length
      const bad = await Promise.all(
        list.map(async (pod) => {
          if (!podReady(pod)) return `${pod.metadata.name} not ready`
          try {
            const res = await ctx.podProxy(c.name, NAMESPACES.logging, pod.metadata.name, FLUENT_BIT_HTTP_PORT, '/api/v1/health')
            if (res.status !== 200 || res.body.trim() !== 'ok') return `${pod.metadata.name}: HTTP ${res.status} ${res.body.trim().slice(0, 60)}`
          } catch (e) {
            return `${pod.metadata.name}: ${(e as Error).message}`
          }
          return undefined
        }),
      )
      const b = bad.filter(Boolean)
      return b.length ? `${c.name}: ${b.join(', ')}` : undefined
    })
    if (problems.length)
      return fail(
        list(problems),
        'an unhealthy pod is failing to flush (output errors or retries): kubectl -n logging logs <pod>; the health endpoint needs HTTP_Server On and Health_Check On',
        clustersOf(problems),
      )
    return pass(`${pods} pods healthy on ${ctx.platform.clusters.length} clusters`)
  },
}

export const fluentBitChecks: Check[] = [daemonset, output, health]
