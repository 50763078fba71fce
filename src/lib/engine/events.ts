/** What the runner reports while it works; renderers turn these into screen output. */
import type {TaskOutcome} from './result.js'
import {writeStd} from '../stdio.js'

export type RunEvent =
  | {type: 'phase-start'; phase: string; title: string; targets: number; dryRun: boolean}
  | {type: 'phase-end'; phase: string; status: string; durationMs: number; failed: number; error?: string}
  | {type: 'task-start'; phase: string; target: string}
  | {type: 'task-progress'; phase: string; target: string; line: string}
  | {type: 'task-end'; phase: string; target: string; status: TaskOutcome; durationMs?: number; summary?: string; error?: string; logFile?: string}
  | {type: 'notice'; message: string}

export type RunEventSink = (e: RunEvent) => void

function secs(ms?: number): string {
  return ms === undefined ? '' : ` (${(ms / 1000).toFixed(1)}s)`
}

/** One plain line per event, no ANSI: for CI logs and pipes. */
export function formatEventLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'phase-start':
      return `${e.dryRun ? '[dry-run] ' : ''}phase ${e.phase}: ${e.title} (${e.targets} target${e.targets === 1 ? '' : 's'})`
    case 'phase-end':
      return `phase ${e.phase}: ${e.status}${secs(e.durationMs)}${e.failed ? `, ${e.failed} task(s) failed` : ''}${e.error ? `: ${e.error}` : ''}`
    case 'task-start':
      return `${e.phase} ${e.target}: started`
    case 'task-progress':
      return `${e.phase} ${e.target}: ${e.line}`
    case 'task-end': {
      const label: Record<TaskOutcome, string> = {
        done: 'done',
        unchanged: 'done, unchanged (skipped)',
        'in-state': 'done, already in wanted state',
        failed: 'FAILED',
        interrupted: 'interrupted',
        'would-run': 'would run',
        'would-skip': 'would skip (done, unchanged)',
        'not-run': 'not run',
      }
      const detail = e.status === 'unchanged' || e.status === 'in-state' || e.status === 'would-skip' ? undefined : (e.error ?? e.summary)
      return `${e.phase} ${e.target}: ${label[e.status]}${secs(e.durationMs)}${detail ? `: ${detail}` : ''}${e.status === 'failed' && e.logFile ? ` (log: ${e.logFile})` : ''}`
    }
    case 'notice':
      return `notice: ${e.message}`
  }
}

/** Each event as one line, on stderr (../stdio.ts: without Node's stream where stderr is not a terminal) by default. */
export function lineRenderer(write: (text: string) => void = (text) => writeStd(2, text)): RunEventSink {
  return (e) => {
    const line = formatEventLine(e)
    if (line !== undefined) write(`${line.replace(/\n/g, ' ')}\n`)
  }
}
