/** The task logs obsctl writes beside an inventory: its folder's .obsctl/logs/RUN/PHASE/TASK.log. */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

/** Every task log of every run so far (absolute paths; none before the first run). */
export function taskLogFiles(invDir: string): string[] {
  const logs = path.join(invDir, '.obsctl', 'logs')
  if (!existsSync(logs)) return []
  return (readdirSync(logs, {recursive: true}) as string[]).filter((f) => f.endsWith('.log')).map((f) => path.join(logs, f))
}

/** Does any of them say this? */
export function taskLogsSay(invDir: string, text: string): boolean {
  return taskLogFiles(invDir).some((f) => readFileSync(f, 'utf8').includes(text))
}
