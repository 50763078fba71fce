/** The shape of a doctor check: a check-model definition with its tier and the bootstrap phases that need it. */
import type {CheckDef} from '../checks/model.js'
import type {LoadedInventory} from '../config/load.js'

export interface DoctorContext {
  inv: LoadedInventory
  env: NodeJS.ProcessEnv
  /** a terminal can ask for what the environment lacks (credentials obsctl prompts for) */
  canPrompt: boolean
  /** one network operation's limit (DNS, TCP connect, HTTP) */
  timeoutMs: number
}

/** offline: nothing leaves this machine; dns: name lookups; network: connections (--network). */
export type DoctorTier = 'offline' | 'dns' | 'network'

export interface DoctorCheck extends CheckDef<DoctorContext> {
  tier: DoctorTier
  /** the bootstrap phases that depend on it (absent: every phase) */
  neededBy?: readonly string[]
}
