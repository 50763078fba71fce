import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'

const run = promisify(execFile)
const BIN = path.resolve('bin/run.js')

async function obsctl(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{code: number; stdout: string; stderr: string}> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {cwd, env: {...process.env, CI: 'true', KUBECONFIG: path.join(cwd, 'kubeconfig'), ...env}})
    return {code: 0, stdout: r.stdout, stderr: r.stderr}
  } catch (e) {
    const err = e as {code: number; stdout: string; stderr: string}
    return {code: err.code, stdout: err.stdout, stderr: err.stderr}
  }
}

function countFiles(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1
  return n
}

describe('bootstrap --all --dry-run on the example inventory (the README first command)', () => {
  it('validates, renders the repo into a preview folder, prints the plan, and touches nothing else', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-boot-dry-'))
    expect((await obsctl(dir, ['init', '--example'])).code).toBe(0)
    const r = await obsctl(dir, ['bootstrap', '--all', '--dry-run', '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.run.dryRun).toBe(true)
    // bootstrap's phase order, written out here and only here (other tests take BOOTSTRAP_PHASES): a change of order
    // must be seen and made on purpose
    expect(out.run.phases.map((p: {name: string}) => p.name)).toEqual([
      'preflight',
      'nodes',
      'kubeconfig',
      'buckets',
      'render',
      'argocd',
      'register',
      'secrets',
      'root-app',
      'argocd-refresh',
      'sync',
      'validate',
    ])
    const preview = path.join(dir, '.obsctl', 'dry-run', 'gitops')
    expect(out.preview.dir).toBe(preview)
    expect(existsSync(path.join(preview, 'argocd', 'root-app.yaml'))).toBe(true)
    expect(countFiles(preview)).toBeGreaterThan(50)
    // no journal, no lock, no kubeconfig, no git working copy: nothing remote or stateful was touched
    expect(existsSync(path.join(dir, '.obsctl', 'state.json'))).toBe(false)
    expect(existsSync(path.join(dir, '.obsctl', 'lock'))).toBe(false)
    expect(existsSync(path.join(dir, 'kubeconfig'))).toBe(false)
    expect(existsSync(path.join(dir, 'gitops'))).toBe(false)

    // `plan` says what bootstrap would do: the same tasks, waiting as long as bootstrap's default --timeout
    // (plan showed each phase's own default, 'wait up to 1800s' for a sync bootstrap gives 900 s)
    const plan = await obsctl(dir, ['plan', '--json'])
    expect(plan.code, plan.stderr).toBe(0)
    const describe = (tasks: {phase: string; target: string; description?: string}[]) =>
      Object.fromEntries(tasks.map((t) => [`${t.phase} ${t.target}`, t.description]))
    type Phases = {phases: {tasks: {phase: string; target: string; description?: string}[]}[]}
    const planned = describe((JSON.parse(plan.stdout) as Phases).phases.flatMap((p) => p.tasks))
    const dryRun = describe((out.run as Phases).phases.flatMap((p) => p.tasks))
    expect(planned['sync applications']).toContain('wait up to 900s')
    expect(planned).toEqual(dryRun)
  })

  it('refuses a real run without a TTY unless --yes, and bad phase selections, with exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-boot-yes-'))
    await obsctl(dir, ['init', '--example'])
    // what the workstation pre-check (obsctl doctor's offline part) wants, so the run gets as far as asking
    const ready = {OBSCTL_S3_ACCESS_KEY: 'k', OBSCTL_S3_SECRET_KEY: 's', OBSCTL_SSH_PASSWORD: 'p', SSH_AUTH_SOCK: ''}
    const r = await obsctl(dir, ['bootstrap', '--all'], ready)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--yes/)
    expect((await obsctl(dir, ['bootstrap'])).code).toBe(2)
    expect((await obsctl(dir, ['bootstrap', '--phase', 'nope'])).code).toBe(2)
    expect(existsSync(path.join(dir, '.obsctl', 'state.json'))).toBe(false)
  })
})
