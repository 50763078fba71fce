/** Per-task log files: `.obsctl/logs/<runId>/<phase>/<target>.log`, appended line by line. */
import {closeSync, openSync, writeSync} from 'node:fs'
import {ensurePrivateDir} from '../fs.js'
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

  constructor(readonly file: string, private readonly onLine?: (line: string) => void) {}

  /** append a line; unless quiet, its last non-empty line becomes the task's live progress */
  write(line: string, quiet = false): void {
    const text = String(line).replace(/\r?\n$/, '')
    if (this.fd === undefined) {
      ensurePrivateDir(path.dirname(this.file))
      this.fd = openSync(this.file, 'a', 0o600)
    }
    writeSync(this.fd, `${new Date().toISOString()} ${text}\n`)
    const lastLine = text.split('\n').filter((l) => l.trim()).pop()
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
