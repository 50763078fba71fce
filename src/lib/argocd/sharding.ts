/**
 * Argo CD scales with the fleet: the application controller is sharded by cluster (each replica of the
 * argocd-application-controller StatefulSet reconciles the Applications of its share of the clusters).
 * Argo CD's HA documentation: set the StatefulSet's replicas and the env var ARGOCD_CONTROLLER_REPLICAS of
 * the application-controller container to the same number; `controller.sharding.algorithm` in
 * argocd-cmd-params-cm picks how clusters are spread (round-robin: evenly by cluster, instead of the
 * legacy hash of the cluster Secret's UID, which can leave one shard with most of them).
 * Thresholds: docs/argocd.md.
 */
import type {Platform} from '../config/schema.js'

/** Clusters one controller replica reconciles before obsctl adds a replica. */
export const CLUSTERS_PER_SHARD = 50
/** Replicas obsctl never goes beyond (each holds its shard's cluster caches in memory). */
export const MAX_SHARDS = 20
export const SHARDING_ALGORITHM = 'round-robin'
export const CONTROLLER = {
  statefulSet: 'argocd-application-controller',
  container: 'argocd-application-controller',
  env: 'ARGOCD_CONTROLLER_REPLICAS',
  paramsConfigMap: 'argocd-cmd-params-cm',
  algorithmKey: 'controller.sharding.algorithm',
} as const

export interface Sharding {
  clusters: number
  replicas: number
  /** set only when sharded (one replica needs no algorithm) */
  algorithm?: string
}

export function controllerSharding(p: Platform): Sharding {
  const clusters = p.clusters.length
  const replicas = Math.min(MAX_SHARDS, Math.max(1, Math.ceil(clusters / CLUSTERS_PER_SHARD)))
  return replicas > 1 ? {clusters, replicas, algorithm: SHARDING_ALGORITHM} : {clusters, replicas}
}

type Obj = {kind: string; metadata: {name: string}; data?: Record<string, string>; spec?: Record<string, unknown>}
type Container = {name: string; env?: {name: string; value?: string}[]}

/** The manifest's objects with the controller's replicas, its env and the sharding algorithm set (copies). */
export function withSharding<T extends Obj>(objects: T[], s: Sharding): T[] {
  return objects.map((o) => {
    if (o.kind === 'StatefulSet' && o.metadata.name === CONTROLLER.statefulSet) {
      const spec = structuredClone(o.spec ?? {}) as {replicas?: number; template?: {spec?: {containers?: Container[]}}}
      spec.replicas = s.replicas
      for (const c of spec.template?.spec?.containers ?? []) {
        if (c.name !== CONTROLLER.container) continue
        c.env = [...(c.env ?? []).filter((e) => e.name !== CONTROLLER.env), {name: CONTROLLER.env, value: String(s.replicas)}]
      }
      return {...o, spec}
    }
    if (o.kind === 'ConfigMap' && o.metadata.name === CONTROLLER.paramsConfigMap && s.algorithm) {
      return {...o, data: {...(o.data ?? {}), [CONTROLLER.algorithmKey]: s.algorithm}}
    }
    return o
  })
}

/** Live check: the controller StatefulSet runs the wanted replicas with the matching env var. */
export function shardingApplied(sts: Obj | undefined, s: Sharding): boolean {
  if (!sts) return false
  const spec = sts.spec as {replicas?: number; template?: {spec?: {containers?: Container[]}}} | undefined
  if ((spec?.replicas ?? 1) !== s.replicas) return false
  const c = spec?.template?.spec?.containers?.find((x) => x.name === CONTROLLER.container)
  const env = c?.env?.find((e) => e.name === CONTROLLER.env)?.value
  return s.replicas === 1 ? env === undefined || env === '1' : env === String(s.replicas)
}
