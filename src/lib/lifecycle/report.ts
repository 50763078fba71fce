/** What the lifecycle commands print after a run that did not finish. */
import type {RunResult} from '../engine/result.js'

/**
 * The failed tasks' messages and hints (for stderr, beside the run summary on stdout), and the
 * command's exit code: 2 when every failure was bad input (a skipped minor, a downgrade), else the run's.
 */
export function runFailures(run: RunResult): {lines: string[]; exitCode: number} {
  const failed = run.phases.flatMap((p) => p.tasks).filter((t) => t.status === 'failed' && t.failure)
  const lines = failed.map((t) => [`Error: ${t.target}: ${t.failure!.message}`, ...t.failure!.hints.map((h) => `  → ${h}`)].join('\n'))
  for (const p of run.phases) if (p.failure) lines.push(`Error: ${p.name}: ${p.failure.message}`)
  return {lines, exitCode: failed.length > 0 && failed.every((t) => t.failure!.exitCode === 2) ? 2 : run.exitCode}
}
