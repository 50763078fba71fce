import {execFile, spawn} from 'node:child_process'
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

/**
 * Run the built CLI (bin/run.js) as a user would; CI is set so nothing ever prompts. Asynchronous, never
 * spawnSync: a worker blocked in a synchronous child process cannot answer its own test servers, nor
 * vitest's runner (whose calls time out after 60 s on a loaded machine and fail the run).
 */
export function obsctl(
  args: string[],
  opts: {cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number} = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return runProcess(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, input: opts.input, timeoutMs: opts.timeoutMs})
}

/** Any child process, asynchronously (see obsctl): exit status (null when killed), stdout and stderr. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; uid?: number; gid?: number} = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : {uid: opts.uid, gid: opts.gid ?? opts.uid}),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({status: signal ? null : code, stdout, stderr})
    })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/**
 * The built CLI, asynchronously: for tests whose peers (test servers, fakes) live in this process,
 * which spawnSync would block from answering.
 */
export function obsctlAsync(args: string[], opts: {cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number} = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, timeout: opts.timeoutMs ?? 240_000},
      (err, stdout, stderr) =>
        resolve({status: err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0, stdout, stderr}),
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
