/**
 * `obsctl validate`: the reference runbook's Phase 5 as checks (DESIGN.md §8, linkerd-style): every check runs,
 * concurrently, each request with its own timeout; the verdict is one object for the checklist and --json.
 */
import type {LoadedInventory} from '../config/load.js'
import {formatDuration} from '../progress.js'
import {inputError} from '../errors.js'
import {openContext, type ValidateOptions} from './context.js'
import {runChecks, selectChecks, verdictOf, type ComponentArg, type RunOptions} from './run.js'
import {recordVerdict} from './record.js'
import {COMPONENTS, type Check, type Verdict} from './types.js'

export * from './types.js'
export {ALL_CHECKS, CHECK_IDS} from './checks/index.js'
export {COMPONENT_ARGS, checkDef, fromOutcome, runChecks, selectChecks, toOutcome, verdictOf, type ComponentArg, type RunOptions} from './run.js'
export {openContext, type ValidateOptions} from './context.js'
export {parseEndpointFlags, SERVICES, SERVICE_KEYS, type ServiceKey} from '../platform/index.js'
export {lastValidation, recordVerdict, type ValidationRecord} from './record.js'

export interface ValidateRequest extends ValidateOptions, RunOptions {
  component?: ComponentArg
  skip?: string[]
  /** replace the check list (tests, bench) */
  checks?: Check[]
  /** keep the verdict in .obsctl/validation.json for `obsctl status` */
  record?: boolean
  /** told first, before anything is reached, what is checked (startLine) */
  onStart?: (line: string) => void
}

/**
 * What a validate run checks, said before it starts, e.g.
 * `checking argocd, thanos: 7 checks at once (skipped: thanos.bucket); services through the central API server`
 */
export function startLine(run: Check[], skipped: string[], o: {wait?: boolean; waitTimeoutMs?: number; viaApiServer?: boolean} = {}): string {
  const components = COMPONENTS.filter((c) => run.some((x) => x.component === c))
  const parts = [
    `checking ${components.join(', ') || 'nothing'}: ${run.length} check${run.length === 1 ? '' : 's'} at once${skipped.length ? ` (skipped: ${skipped.join(', ')})` : ''}`,
  ]
  if (o.viaApiServer) parts.push('services through the central API server')
  if (o.wait) parts.push(`failing ones again until they pass or ${formatDuration(o.waitTimeoutMs ?? 300_000)} passes`)
  return parts.join('; ')
}

export async function validate(inv: LoadedInventory, req: ValidateRequest = {}): Promise<Verdict> {
  const started = Date.now()
  const {run, skipped} = selectChecks(req.component ?? 'all', req.skip ?? [], req.checks)
  // a run of no check measures nothing: it is not a pass, and it must not replace the last verdict status shows
  if (run.length === 0)
    throw inputError(`nothing to validate: every check of ${req.component ?? 'all'} is skipped (${skipped.join(', ')})`, ['drop a --skip'], 'NOTHING_TO_CHECK')
  req.onStart?.(startLine(run, skipped, req))
  const need = {opensearch: run.some((c) => c.component === 'opensearch'), s3: run.some((c) => c.id === 'thanos.bucket')}
  const opened = await openContext(inv, {...req, need})
  try {
    const outcomes = await runChecks(run, opened.ctx, req)
    const components = COMPONENTS.filter((c) => req.component === undefined || req.component === 'all' || req.component === c)
    const verdict = verdictOf(outcomes, skipped, components, Date.now() - started)
    if (req.record) await recordVerdict(inv, verdict)
    return verdict
  } finally {
    opened.close()
  }
}
