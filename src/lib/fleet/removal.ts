/** What every step of `cluster remove` shares: its options and how it reaches the central cluster. */
import {centralCluster} from '../config/model.js'
import type {Cluster} from '../config/schema.js'
import type {RunContext, Target} from '../engine/types.js'
import type {ServiceAccess} from '../platform/access.js'

/** What every removal step is given: the cluster as the inventory had it when the removal started. */
export interface RemovalOptions {
  cluster: Cluster
  /** push the render commit (default true) */
  push?: boolean
  /** remove rendered files even when edited by hand */
  force?: boolean
  /** how the OpenSearch revoke reaches OpenSearch (the command's --endpoint, --via-api-server, --ca-file, --request-timeout) */
  access?: ServiceAccess
}

export const target = (c: Cluster): Target => ({id: c.name, cluster: c.name})

export async function centralKube(ctx: RunContext) {
  const {kubeForCluster} = await import('../kube/run.js')
  return kubeForCluster(ctx, centralCluster(ctx.platform).name)
}
