/** The task engine's public surface (DESIGN.md §3). */
export type * from './types.js'
export type * from './result.js'
export {runPhases, refuseBadKubeconfig, resolveRenderer, type AnyPhase, type RunOptions, type RendererChoice} from './runner.js'
export {runStandalone, runFailure, runReports, type StandaloneOptions, type StandaloneResult} from './standalone.js'
export {failureOf, failureError} from './failure.js'
export {
  planPhases,
  showState,
  resetState,
  phasesInState,
  requireKnownPhases,
  type PlanOptions,
  type PlanResult,
  type PlanPhase,
  type PlanTask,
  type PlanState,
  type StateShowResult,
  type StateResetResult,
} from './plan.js'
export {StateStore, fingerprintOf, stableStringify, stateFilePath, taskKey} from './state.js'
export {acquireLock, assertHeld, readLock, holderAlive, pidAlive, lockFilePath, type Lock, type LockInfo} from './lock.js'
export {lockInventory, withInventoryLock} from './inventory-lock.js'
export {TaskLog, sanitizeForFile, newRunId, runLogsDir, taskLogPath} from './logs.js'
export {Resources} from './resources.js'
export {runClusterNames, runClusters} from './options.js'
export {formatEventLine, lineRenderer, type RunEvent, type RunEventSink} from './events.js'
export {DRY_RUN_CLOSING, endDryRun, formatPlan, formatRunSummary, formatState, wouldDo, wouldRun, wouldRunLines} from './format.js'
