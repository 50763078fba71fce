/**
 * The change flow of `config set` and `upgrade chart`, after the inventory edit and the render commit
 * and push (done before the run, behind the confirmation): Argo CD refreshes until it has seen the
 * pushed commit, then every Application must be Synced and Healthy. Without a push there is no commit
 * to wait for: only sync runs.
 */
import type {FlowOptions} from './registry.js'

export const CHANGE_PHASES = ['argocd-refresh', 'sync'] as const
export type ChangePhase = (typeof CHANGE_PHASES)[number]

export function selectChange(o: {pushed: boolean}): ChangePhase[] {
  return CHANGE_PHASES.filter((n) => n !== 'argocd-refresh' || o.pushed)
}

export function changePhaseOptions(o: {timeoutSeconds?: number; intervalMs?: number}): FlowOptions<ChangePhase> {
  return {'argocd-refresh': {timeoutSeconds: o.timeoutSeconds, intervalMs: o.intervalMs}, sync: {timeoutSeconds: o.timeoutSeconds, intervalMs: o.intervalMs}}
}
