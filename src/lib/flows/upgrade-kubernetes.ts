/**
 * The `upgrade kubernetes VERSION` flow: preflight per cluster, the nodes in order within each cluster
 * (clusters side by side), then the inventory's versions.kubernetes (../lifecycle/upgrade.ts).
 */
import type {UpgradeOptions} from '../lifecycle/upgrade.js'
import type {FlowOptions} from './registry.js'

export const UPGRADE_KUBERNETES_PHASES = ['upgrade-preflight', 'upgrade-nodes', 'upgrade-inventory'] as const
export type UpgradeKubernetesPhase = (typeof UPGRADE_KUBERNETES_PHASES)[number]

export function upgradeKubernetesPhaseOptions(o: UpgradeOptions): FlowOptions<UpgradeKubernetesPhase> {
  return {'upgrade-preflight': o, 'upgrade-nodes': o, 'upgrade-inventory': o}
}
