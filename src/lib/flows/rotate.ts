/**
 * The rotation flow of `secrets rotate`: one phase, `rotate`, one task per credential (one at a time: a
 * Fluent Bit rotation uses the admin password an OpenSearch rotation changes). New values are resolved
 * before the run and handed to the phase in memory.
 */
import type {RotatePhaseOptions} from '../kube/rotate.js'
import type {FlowOptions} from './registry.js'

export const ROTATE_PHASES = ['rotate'] as const
export type RotateFlowPhase = (typeof ROTATE_PHASES)[number]

export function rotatePhaseOptions(o: RotatePhaseOptions): FlowOptions<RotateFlowPhase> {
  return {rotate: o}
}
