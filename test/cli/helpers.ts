import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const BIN = path.join(ROOT, 'bin/run.js')

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Run the built CLI (bin/run.js) as a user would; CI is set so nothing ever prompts. */
export function obsctl(args: string[], opts: {cwd?: string; env?: Record<string, string | undefined>; input?: string} = {}): CliResult {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, input: opts.input ?? '', encoding: 'utf8', timeout: 60_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

export function tmpDir(prefix = 'obsctl-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'oclif.manifest.json')) || !existsSync(path.join(ROOT, 'dist/commands'))) {
    throw new Error('the CLI is not built: run `npm run build` first (npm test does)')
  }
}
