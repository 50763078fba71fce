/**
 * The change flow of `config set` and `upgrade chart`, after the inventory edit and the render commit
 * and push (done before the run, behind the confirmation): the edges' Argo CD cluster Secrets get the
 * labels the ApplicationSets select on (an edge's metrics mode may have changed), Argo CD refreshes until it has seen the
 * pushed commit, then every Application must be Synced and Healthy. Without a push there is no commit
 * to wait for: only sync runs.
 */
import type {FlowOptions} from './registry.js'

export const CHANGE_PHASES = ['cluster-labels', 'argocd-refresh', 'sync'] as const
export type ChangePhase = (typeof CHANGE_PHASES)[number]

/**
 * After a push that changes an edge's role or metrics mode (`labels`), its cluster Secret's labels follow (even
 * with --no-sync: the ApplicationSets must not keep generating the old mode's Applications); without a push,
 * nothing Argo CD reads has changed. `sync: false` leaves out the waits.
 */
export function selectChange(o: {pushed: boolean; sync?: boolean; labels?: boolean}): ChangePhase[] {
  const wanted: Record<ChangePhase, boolean> = {
    'cluster-labels': o.pushed && Boolean(o.labels),
    'argocd-refresh': o.pushed && o.sync !== false,
    sync: o.sync !== false,
  }
  return CHANGE_PHASES.filter((n) => wanted[n])
}

export function changePhaseOptions(o: {timeoutSeconds?: number; intervalMs?: number}): FlowOptions<ChangePhase> {
  return {
    'cluster-labels': {},
    'argocd-refresh': {timeoutSeconds: o.timeoutSeconds, intervalMs: o.intervalMs},
    sync: {timeoutSeconds: o.timeoutSeconds, intervalMs: o.intervalMs},
  }
}
