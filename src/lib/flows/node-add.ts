/**
 * The `node add CLUSTER --host ADDR` flow (after the inventory edit, ../lifecycle/node.ts): the install
 * phases of bootstrap limited to the new host, then its Node Ready and labelled in the API.
 */
import type {FlowOptions} from './registry.js'

export const NODE_ADD_PHASES = ['preflight', 'nodes', 'node-labels'] as const
export type NodeAddPhase = (typeof NODE_ADD_PHASES)[number]

export function nodeAddPhaseOptions(o: {host: string; timeoutSeconds?: number; pollMs?: number}): FlowOptions<NodeAddPhase> {
  return {
    preflight: {hosts: [o.host]},
    nodes: {hosts: [o.host], readyTimeoutSeconds: o.timeoutSeconds, readyPollMs: o.pollMs},
    'node-labels': {hosts: [o.host], timeoutSeconds: o.timeoutSeconds, pollMs: o.pollMs},
  }
}
