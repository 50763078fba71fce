/**
 * What a test file may change in its worker's process, taken at one moment and put back later
 * (test/support/file-isolation.ts): the environment, the working folder, `vi.stubEnv`/`vi.stubGlobal`, fake
 * timers, the signal listeners added since, and the exit code.
 */
import {vi} from 'vitest'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Takes the snapshot; the function it returns puts the process back as it was then. */
export function snapshotProcess(): () => void {
  const env = {...process.env}
  const cwd = process.cwd()
  const listeners = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]))
  return () => {
    vi.unstubAllEnvs()
    vi.unstubAllGlobals()
    vi.useRealTimers()
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k]
    for (const [k, v] of Object.entries(env)) if (process.env[k] !== v) process.env[k] = v
    if (process.cwd() !== cwd) process.chdir(cwd)
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!listeners.get(s)?.has(l)) process.removeListener(s, l)
    process.exitCode = undefined
  }
}
