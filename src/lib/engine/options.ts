/** Run options every phase understands (ctx.options), beside each domain's own. */
import {selectClusters} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import type {RunContext} from './types.js'

/**
 * `options.clusters`: the clusters a run is limited to — `cluster add NAME`, `kubeconfig merge NAME`,
 * `secrets apply NAME`, `node install --cluster NAME`. Unset or empty: every cluster of the inventory.
 */
export function runClusterNames(ctx: RunContext): string[] | undefined {
  const v = ctx.options.clusters
  return Array.isArray(v) && v.length > 0 ? (v as string[]) : undefined
}

/** The clusters of this run (see runClusterNames); an unknown name is bad input. */
export function runClusters(ctx: RunContext): Cluster[] {
  return selectClusters(ctx.platform, runClusterNames(ctx))
}
