/** The `validate` bootstrap phase: one target, `platform`; fails when any check fails. */
import {ObsctlError} from '../errors.js'
import type {Phase, Target} from '../engine/types.js'
import {outcomeLine} from '../checks/render.js'

export interface ValidatePhaseOptions {
  /** the platform CA bundle for the services' HTTPS (else the inventory's) */
  caFile?: string
  /**
   * re-run failing checks until they pass or this many seconds pass (the flow's --timeout): right after a sync
   * the platform is still settling (targets not scraped yet, a store not registered, no log index yet); 0: once
   */
  settleSeconds?: number
}

export function validatePhase(o: ValidatePhaseOptions = {}): Phase<Target> {
  return {
    name: 'validate',
    kubeconfig: 'read',
    changesNothing: true,
    title: 'Validate the platform end to end',
    targets: () => [{id: 'platform', title: 'platform'}],
    // always re-run: validation is about now, not about inputs
    fingerprint: () => ({at: Date.now()}),
    describe: () => 'every check of obsctl validate all (Argo CD, Prometheus, Thanos, OpenSearch, Fluent Bit), failing ones again until they pass or --timeout',
    async run(_t, ctx, io) {
      // the checks load only when the phase runs (obsctl plan builds this phase to describe it)
      const [{validate}, {toOutcome}] = await Promise.all([import('./index.js'), import('./run.js')])
      const v = await validate(ctx.inv, {
        kubeconfig: ctx.kubeconfig,
        caFile: o.caFile,
        signal: ctx.signal,
        record: true,
        ...(o.settleSeconds ? {wait: true, waitTimeoutMs: o.settleSeconds * 1000} : {}),
        onOutcome: (out) => io.log(outcomeLine(toOutcome(out))),
      })
      const s = v.summary
      const line = `${s.pass} passed, ${s.warn} warnings, ${s.fail} failed`
      if (!v.ok) {
        throw new ObsctlError(
          `validation failed: ${v.checks
            .filter((c) => c.result === 'fail')
            .map((c) => c.id)
            .join(', ')} (${line})`,
          {
            code: 'VALIDATE_FAILED',
            hints: ['obsctl validate shows each failure with its hint'],
            details: v,
          },
        )
      }
      return {summary: line}
    },
  }
}
