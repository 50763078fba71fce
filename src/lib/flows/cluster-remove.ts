/**
 * The `cluster remove` flow: `cluster add` undone in reverse, as registered phases in order. Every
 * step is given the cluster as the inventory had it when the removal started; `reset-nodes` only with
 * --reset-nodes; the inventory edit comes last, so a rerun after a failure finishes the job.
 */
import type {RemovalOptions} from '../fleet/phases.js'
import type {FlowOptions} from './registry.js'

export const CLUSTER_REMOVE_PHASES = [
  'remove-apps',
  'remove-secret',
  'revoke-edge-tokens',
  'revoke-opensearch-user',
  'remove-render',
  'remove-kubeconfig',
  'reset-nodes',
  'remove-inventory',
] as const
export type ClusterRemovePhase = (typeof CLUSTER_REMOVE_PHASES)[number]

/** The flow's phases: every step, with reset-nodes only when asked. */
export function selectClusterRemove(o: {resetNodes?: boolean}): ClusterRemovePhase[] {
  return CLUSTER_REMOVE_PHASES.filter((n) => n !== 'reset-nodes' || o.resetNodes)
}

export function clusterRemovePhaseOptions(o: RemovalOptions): FlowOptions<ClusterRemovePhase> {
  return {
    'remove-apps': o,
    'remove-secret': o,
    'revoke-edge-tokens': o,
    'revoke-opensearch-user': o,
    'remove-render': o,
    'remove-kubeconfig': o,
    'reset-nodes': o,
    'remove-inventory': o,
  }
}
