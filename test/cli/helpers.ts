import {execFile, spawnSync} from 'node:child_process'
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
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, input: opts.input ?? '', encoding: 'utf8', timeout: 240_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

/**
 * The built CLI, asynchronously: for tests whose peers (test servers, fakes) live in this process,
 * which spawnSync would block from answering.
 */
export function obsctlAsync(args: string[], opts: {cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number} = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, timeout: opts.timeoutMs ?? 240_000}, (err, stdout, stderr) =>
      resolve({status: err ? (typeof (err as {code?: unknown}).code === 'number' ? ((err as {code: number}).code) : 1) : 0, stdout, stderr}),
    )
  })
}

export function tmpDir(prefix = 'obsctl-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'oclif.manifest.json')) || !existsSync(path.join(ROOT, 'dist/commands'))) {
    throw new Error('the CLI is not built: run `npm run build` first (npm test does)')
  }
}
