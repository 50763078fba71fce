/** `obsctl logs`' human output, and the task-log tails `--verbose` prints under a failed run. */
import type {TaskLogFile} from '../../engine/logs.js'
import type {LogsResult} from '../../engine/show-logs.js'
import {stderrView} from '../../stdio.js'
import {paint} from '../../style.js'

function block(t: TaskLogFile, stream?: {isTTY?: boolean}): string {
  const c = paint(stream)
  const cut = t.total > t.lines.length ? ` (last ${t.lines.length} of ${t.total} lines)` : ''
  return [c.bold(`==> ${t.phase} ${t.target}: ${t.file}${cut} <==`), ...t.lines.map((l) => (/\bERROR: /.test(l) ? c.red(l) : l))].join('\n')
}

export function formatLogs(r: LogsResult): string {
  if (!r.runId) return `no run has left logs in ${r.logsDir} yet (dry runs write none)`
  const head = `run ${r.runId} (${r.runs.length} run(s) in ${r.logsDir}; --run ID for another)`
  if (r.tasks.length === 0) return `${head}\nno task logs match`
  return [
    head,
    '',
    ...r.tasks
      .map((t) => block(t))
      .join('\n\n')
      .split('\n'),
  ].join('\n')
}

/** For stderr: each failed task's log tail. */
export function formatFailureTails(tails: TaskLogFile[]): string {
  return tails.map((t) => block(t, stderrView)).join('\n\n')
}
