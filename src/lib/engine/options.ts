/** Run settings every phase understands (typed fields of the context), beside each phase's own options. */
import {selectClusters} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import type {RunContext} from './types.js'

/**
 * `ctx.clusters`: the clusters a run is limited to — `cluster add NAME`, `kubeconfig merge NAME`,
 * `secrets apply NAME`, `node install --cluster NAME`. Unset or empty: every cluster of the inventory.
 */
export function runClusterNames(ctx: Pick<RunContext, 'clusters'>): string[] | undefined {
  return ctx.clusters?.length ? ctx.clusters : undefined
}

/** The clusters of this run (see runClusterNames); an unknown name is bad input. */
export function runClusters(ctx: RunContext): Cluster[] {
  return selectClusters(ctx.platform, runClusterNames(ctx))
}
