/**
 * The `node remove CLUSTER NODE` flow (../lifecycle/node.ts): drain (Longhorn checked first), kubeadm
 * reset, the Node object, the inventory entry last (a rerun after a failure finishes the job).
 */
import type {NodeRemovalOptions} from '../lifecycle/node.js'
import type {FlowOptions} from './registry.js'

export const NODE_REMOVE_PHASES = ['node-drain', 'node-reset', 'node-delete', 'node-forget'] as const
export type NodeRemovePhase = (typeof NODE_REMOVE_PHASES)[number]

export function nodeRemovePhaseOptions(o: NodeRemovalOptions): FlowOptions<NodeRemovePhase> {
  return {'node-drain': o, 'node-reset': o, 'node-delete': o, 'node-forget': o}
}
