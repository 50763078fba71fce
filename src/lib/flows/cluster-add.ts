/**
 * The `cluster add` flow: registered phases in order, restricted to the new cluster by the run's
 * `clusters`. Argo CD must see the pushed commit (root-app then creates the new cluster's Applications)
 * before the sync phase judges them, so `argocd-refresh` always runs right before `sync`.
 */
import type {RunSsh} from '../engine/types.js'
import {selectWithRefresh, userPhases, type FlowOptions} from './registry.js'

export const CLUSTER_ADD_PHASES = ['preflight', 'nodes', 'kubeconfig', 'render', 'register', 'secrets', 'argocd-refresh', 'sync', 'validate'] as const
export type ClusterAddPhase = (typeof CLUSTER_ADD_PHASES)[number]
/** The phases a user picks with --from/--phase (argocd-refresh comes with sync). */
export type AddPhase = Exclude<ClusterAddPhase, 'argocd-refresh'>
export const ADD_PHASES = userPhases(CLUSTER_ADD_PHASES)

export interface ClusterAddSettings {
  /** the cluster added: its render commit's Obsctl-Command trailer names it (rollback's hint then can too) */
  name?: string
  /** push the render commit (default true) */
  push?: boolean
  /** --timeout: rollouts, node readiness and sync */
  timeoutSeconds?: number
  /** cluster → admin.conf the user already has (else read over SSH) */
  fromFiles?: Record<string, string>
  /** Argo CD poll interval (tests) */
  intervalMs?: number
  ssh?: RunSsh
}

/** The flow's phases for a --from/--phase selection, in order (argocd-refresh whenever sync runs). */
export function selectClusterAdd(select: {only?: readonly AddPhase[]; from?: AddPhase}): ClusterAddPhase[] {
  return selectWithRefresh(CLUSTER_ADD_PHASES, select)
}

export function clusterAddPhaseOptions(s: ClusterAddSettings): FlowOptions<ClusterAddPhase> {
  const {timeoutSeconds, intervalMs} = s
  return {
    preflight: {},
    nodes: {readyTimeoutSeconds: timeoutSeconds},
    kubeconfig: {fromFiles: s.fromFiles},
    render: {commit: true, push: s.push !== false, command: s.name ? `cluster add ${s.name}` : 'cluster add'},
    register: {timeoutSeconds, intervalMs},
    secrets: {},
    'argocd-refresh': {timeoutSeconds, intervalMs},
    sync: {timeoutSeconds, intervalMs},
    validate: {settleSeconds: timeoutSeconds},
  }
}
