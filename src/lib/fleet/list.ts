/** `cluster list`: the inventory's clusters with what the journal says was done for each. */
import type {LoadedInventory} from '../config/load.js'
import {kubeContextName, metricsMode, obsctlDir} from '../config/model.js'
import {StateStore} from '../engine/index.js'

export interface ClusterListRow {
  name: string
  id: string
  role: 'central' | 'edge'
  metrics?: 'remote-scrape' | 'agent'
  apiServer: string
  context: string
  nodes: string[]
  /** phases whose tasks for this cluster are all done, in journal order */
  phasesDone: string[]
  /** phases with a failed or interrupted task for this cluster */
  phasesFailed: string[]
}

/** Does a journal target belong to this cluster? (`cluster-02`, `cluster-02/<node>`) */
export function targetOfCluster(target: string, cluster: string): boolean {
  return target === cluster || target.startsWith(`${cluster}/`)
}

export function listClusters(inv: LoadedInventory): ClusterListRow[] {
  const state = StateStore.load(obsctlDir(inv.dir), inv.file).all()
  return inv.platform.clusters.map((c) => {
    const mine = state.filter((t) => targetOfCluster(t.target, c.name))
    const phases = [...new Set(mine.map((t) => t.phase))]
    return {
      name: c.name,
      id: c.id,
      role: c.role,
      metrics: metricsMode(c),
      apiServer: c.apiServer,
      context: kubeContextName(c),
      nodes: c.nodes.map((n) => n.host),
      phasesDone: phases.filter((p) => mine.filter((t) => t.phase === p).every((t) => t.status === 'done')),
      phasesFailed: phases.filter((p) => mine.some((t) => t.phase === p && (t.status === 'failed' || t.status === 'interrupted'))),
    }
  })
}
