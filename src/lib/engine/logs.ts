/** Per-task log files: `.obsctl/logs/<runId>/<phase>/<target>.log`, appended line by line. */
import {closeSync, openSync, readFileSync, readdirSync} from 'node:fs'
import {redactText} from '../config/validators.js'
import {appendWholeSync, ensurePrivateDir} from '../fs.js'
import path from 'node:path'

/** A target id as a file name: `cluster-01/192.168.101.194` → `cluster-01_192.168.101.194`. */
export function sanitizeForFile(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_')
  return s.slice(0, 200) || '_'
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${process.pid}`
}

export function runLogsDir(stateDir: string, runId: string): string {
  return path.join(stateDir, 'logs', runId)
}

export function taskLogPath(stateDir: string, runId: string, phase: string, targetId: string): string {
  return path.join(runLogsDir(stateDir, runId), sanitizeForFile(phase), `${sanitizeForFile(targetId)}.log`)
}

export class TaskLog {
  private fd: number | undefined
  last = ''

  constructor(
    readonly file: string,
    private readonly onLine?: (line: string) => void,
  ) {}

  /**
   * Append a line, redacted (redactText: what a command printed may hold a credential — kubeadm's join command, a
   * URL's password, a secret env var's value); unless quiet, its last non-empty line becomes the task's live
   * progress (the progress display and `task-progress` events), redacted the same. Every line a task logs goes
   * through here, whichever phase wrote it.
   */
  write(line: string, quiet = false): void {
    const text = redactText(String(line).replace(/\r?\n$/, ''))
    if (this.fd === undefined) {
      ensurePrivateDir(path.dirname(this.file))
      // 'a+': appendWholeSync reads back what a failed write left, to cut it off
      this.fd = openSync(this.file, 'a+', 0o600)
    }
    // each line whole or not at all, not fsynced (a log, not state); a full disk's error names the log:
    // "cannot write …/alpha/a.log: no space left on the device"
    appendWholeSync(this.fd, Buffer.from(`${new Date().toISOString()} ${text}\n`), this.file, {fsync: false})
    const lastLine = text
      .split('\n')
      .filter((l) => l.trim())
      .pop()
    if (lastLine !== undefined && !quiet) {
      this.last = lastLine
      this.onLine?.(lastLine)
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd)
      this.fd = undefined
    }
  }
}

/** The runs that left logs, oldest first (run ids start with their ISO start time). */
export function listRuns(stateDir: string): string[] {
  try {
    return readdirSync(path.join(stateDir, 'logs'), {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
}

export interface TaskLogFile {
  phase: string
  target: string
  file: string
  /** the log's lines (redacted), the last `tail` when asked */
  lines: string[]
  /** lines in the file */
  total: number
}

/** The last `n` lines of a task log, redacted (the journal's logs may hold what a command printed). */
export function readTaskLog(file: string, tail?: number): {lines: string[]; total: number} {
  const text = readFileSync(file, 'utf8')
  const all = text.split('\n')
  if (all.at(-1) === '') all.pop()
  const lines = tail === undefined ? all : all.slice(-tail)
  return {lines: lines.length ? redactText(lines.join('\n')).split('\n') : [], total: all.length}
}

/**
 * A run's task logs, by phase and target (names as the journal has them when it knows the file, else
 * the file's own name); `phase`/`target` keep only those (a target matches by name or by file name).
 */
export function runTaskLogs(
  stateDir: string,
  runId: string,
  o: {phases?: string[]; targets?: string[]; tail?: number; known?: {phase: string; target: string; logFile?: string}[]} = {},
): TaskLogFile[] {
  const dir = runLogsDir(stateDir, runId)
  const byFile = new Map((o.known ?? []).filter((k) => k.logFile).map((k) => [path.resolve(k.logFile!), k]))
  const out: TaskLogFile[] = []
  let phases: string[]
  try {
    phases = readdirSync(dir, {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
  const wantPhase = o.phases?.map(sanitizeForFile)
  const wantTarget = o.targets?.flatMap((t) => [t, sanitizeForFile(t)])
  for (const ph of phases) {
    if (wantPhase && !wantPhase.includes(ph)) continue
    for (const f of readdirSync(path.join(dir, ph))
      .filter((n) => n.endsWith('.log'))
      .sort()) {
      const file = path.join(dir, ph, f)
      const known = byFile.get(path.resolve(file))
      const target = known?.target ?? f.slice(0, -4)
      if (wantTarget && !wantTarget.includes(target) && !wantTarget.includes(f.slice(0, -4))) continue
      out.push({phase: known?.phase ?? ph, target, file, ...readTaskLog(file, o.tail)})
    }
  }
  return out
}
