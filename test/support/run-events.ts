/** What a run's events (the engine's `onEvent`) say about how its tasks ran. */
import type {RunEvent} from '../../src/lib/engine/index.js'

/** The most tasks of `phase` running at once, and how many started: `--concurrency N` holds the first at N. */
export function tasksAtOnce(events: readonly RunEvent[], phase: string): {most: number; started: number} {
  let running = 0
  let most = 0
  let started = 0
  for (const e of events) {
    if (e.type === 'task-start' && e.phase === phase) {
      started++
      most = Math.max(most, ++running)
    } else if (e.type === 'task-end' && e.phase === phase) running--
  }
  return {most, started}
}
