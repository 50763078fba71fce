/**
 * Nodes of one cluster in order, clusters side by side, within one engine phase. The engine runs a
 * phase's tasks concurrently; a task of a sequenced phase first waits for its turn: every earlier
 * target of its cluster settled (done, or found in state). A failure settles the rest of the cluster
 * as "not started", so a cluster never goes on past a node that failed, while other clusters go on.
 *
 * The engine skips a task the journal has done without calling the phase, so a sequenced phase sets
 * `recheck: true`: its isDone is then always called, and settles the task's turn when the node is in
 * the wanted state (see settleOnDone).
 */
import type {RunContext} from '../engine/types.js'
import {ObsctlError, interruptedError} from '../errors.js'

interface Slot {
  promise: Promise<void>
  resolve(): void
  reject(e: unknown): void
  settled: boolean
}

function slot(): Slot {
  const s = {settled: false} as Slot
  s.promise = new Promise<void>((resolve, reject) => {
    s.resolve = () => {
      s.settled = true
      resolve()
    }
    s.reject = (e) => {
      s.settled = true
      reject(e)
    }
  })
  s.promise.catch(() => undefined)
  return s
}

export class Sequence {
  private readonly slots = new Map<string, Slot>()

  constructor(readonly ids: string[]) {
    for (const id of ids) this.slots.set(id, slot())
  }

  /** Resolves when every target before `id` has settled well; throws when one failed. */
  async turn(id: string, signal: AbortSignal): Promise<void> {
    const before = this.ids.slice(0, this.ids.indexOf(id))
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(interruptedError())
      signal.addEventListener('abort', () => reject(interruptedError()), {once: true})
    })
    aborted.catch(() => undefined)
    for (const b of before) {
      try {
        await Promise.race([this.slots.get(b)!.promise, aborted])
      } catch (e) {
        if (e instanceof ObsctlError && e.code === 'INTERRUPTED') throw e
        throw new ObsctlError(`not started: ${b} did not finish (${e instanceof Error ? e.message : String(e)})`, {
          code: 'NOT_STARTED',
          hints: ['fix the node that failed and rerun: finished nodes are skipped'],
        })
      }
    }
  }

  done(id: string): void {
    const s = this.slots.get(id)
    if (s && !s.settled) s.resolve()
  }

  fail(id: string, e: unknown): void {
    const s = this.slots.get(id)
    if (s && !s.settled) s.reject(e)
  }
}

/** The run's sequence of one phase in one cluster (ids in order). */
export function sequenceOf(ctx: RunContext, phase: string, cluster: string, ids: () => string[]): Promise<Sequence> {
  return ctx.resources.getOrCreate(`sequence:${phase}:${cluster}`, () => new Sequence(ids()))
}
