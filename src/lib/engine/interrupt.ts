/**
 * Ctrl-C / SIGTERM for work that is not an engine run (`obsctl render` writes, commits and pushes in one go): the
 * signal aborts an AbortSignal instead of killing the process, the work stops at its next safe point
 * (`checkpoint`), and the command exits 130 with a message saying where it stopped, as an engine run does
 * (./runner.ts). A second signal while stopping changes nothing (as in the runner).
 */
import {ExitCode, ObsctlError} from '../errors.js'

/** Run `work` with SIGINT/SIGTERM turned into an abort of the signal it is given (the reason: the signal's name). */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const onSignal = (sig: NodeJS.Signals) => {
    if (!ac.signal.aborted) ac.abort(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work(ac.signal)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

/**
 * A safe point: when a signal has arrived, stop here with exit 130, saying `where` and the `hints`. The event loop
 * turns once first, so a signal that came while synchronous work ran (files written one after another) is seen.
 */
export async function checkpoint(signal: AbortSignal | undefined, where: string, hints: string[]): Promise<void> {
  if (!signal) return
  await new Promise<void>((resolve) => setImmediate(resolve))
  if (signal.aborted) throw interruptedAt(signal, where, hints)
}

/** The exit-130 error of an interrupted piece of work: `interrupted by SIGTERM WHERE`. */
export function interruptedAt(signal: AbortSignal, where: string, hints: string[]): ObsctlError {
  const by = typeof signal.reason === 'string' ? signal.reason : 'a signal'
  return new ObsctlError(`interrupted by ${by} ${where}`, {exitCode: ExitCode.interrupted, code: 'INTERRUPTED', hints})
}
