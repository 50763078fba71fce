import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {EXAMPLE_ANSWERS, loadInventory, renderInventoryYaml} from '../../src/lib/config/index.js'

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const FIXTURE_RUN = path.join(ROOT, 'test/engine/fixtures/run.mjs')

/** A temp dir holding the example inventory; `.obsctl/` will live beside it. */
export function tmpInventory() {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-engine-'))
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS))
  return {dir, file, inv: loadInventory(file), stateFile: path.join(dir, '.obsctl', 'state.json'), lockFile: path.join(dir, '.obsctl', 'lock')}
}

export function runsOf(dir: string): string[] {
  const f = path.join(dir, 'runs.log')
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).sort() : []
}

export function readState(file: string): {
  version: number
  tasks: Record<
    string,
    {
      status: string
      fingerprint?: string
      failure?: {message: string; code?: string; exitCode: number; hints: string[]}
      report?: unknown
      logFile?: string
      runId?: string
    }
  >
  phaseRuns?: Record<string, {runId: string; status: string; startedAt: string; endedAt?: string}>
} {
  return JSON.parse(readFileSync(file, 'utf8'))
}

export function statuses(file: string): Record<string, string> {
  return Object.fromEntries(Object.entries(readState(file).tasks).map(([k, v]) => [k, v.status]))
}

export {waitFor} from '../support/wait.js'

export function requireDist(): void {
  if (!existsSync(path.join(ROOT, 'dist/lib/engine/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
}
