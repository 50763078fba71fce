/** `obsctl node preflight|install` as a user runs them (the built CLI; `npm run build` first). */
import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {startSandbox, type Sandbox} from '../support/sshd.js'
import {inventoryFor} from './helpers.js'

const run = promisify(execFile)
const BIN = path.resolve('bin/run.js')

async function obsctl(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{code: number; stdout: string; stderr: string}> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {env: {...process.env, CI: 'true', ...env}, maxBuffer: 16 << 20, cwd})
    return {code: 0, stdout: r.stdout, stderr: r.stderr}
  } catch (e) {
    const x = e as {code: number; stdout: string; stderr: string}
    return {code: x.code, stdout: x.stdout, stderr: x.stderr}
  }
}

describe.skipIf(!existsSync('dist/commands/node/install.js'))('obsctl node (CLI)', () => {
  let sb: Sandbox
  const hostOsRelease = readFileSync('/etc/os-release', 'utf8')
  beforeAll(async () => {
    sb = await startSandbox(4, {firstIp: 61})
  })
  afterAll(async () => sb?.stop())

  test('preflight table and --json; install of four nodes; rerun; exit codes', async () => {
    const inv = inventoryFor(sb, [[0, 1], [2], [3]])
    const pre = await obsctl(['node', 'preflight', '-c', inv.file])
    if (process.env.OBSCTL_CAPTURE) process.stdout.write(`\n$ obsctl node preflight\n${pre.stdout}${pre.stderr}\n`)
    expect(pre.stdout).toMatch(/NODE\s+CHECK\s+RESULT\s+DETAIL/)
    expect(pre.stderr).toContain('trusted new host key')
    expect(pre.stderr).toContain(sb.nodes[0]!.hostKeyFingerprint())

    const json = await obsctl(['node', 'preflight', 'cluster-02', '-c', inv.file, '--json'])
    const report = JSON.parse(json.stdout) as {checks: {cluster: string; id: string; status: string}[]}
    expect(new Set(report.checks.map((c) => c.cluster))).toEqual(new Set(['cluster-02']))
    expect(report.checks.find((c) => c.id === 'ssh')!.status).toBe('pass')

    const inst = await obsctl(['node', 'install', '-c', inv.file, '--concurrency', '2', '--timeout', '30'])
    if (process.env.OBSCTL_CAPTURE) process.stdout.write(`\n$ obsctl node install --concurrency 2\n${inst.stderr}${inst.stdout}\n`)
    expect(inst.code, inst.stderr + inst.stdout).toBe(0)
    expect(inst.stdout).toMatch(/nodes\s+cluster-01\/127\.0\.1\.62\s+done\s+\S+\s+installed \(\d+ changes\), Ready/)
    expect(inst.stdout).toContain('all phases done')

    const again = await obsctl(['node', 'install', '-c', inv.file, '--restart', '--json'])
    const r = JSON.parse(again.stdout) as {ok: boolean; phases: {tasks: {summary: string}[]}[]}
    if (process.env.OBSCTL_CAPTURE)
      process.stdout.write(`\n$ obsctl node install --restart\n${(await obsctl(['node', 'install', '-c', inv.file, '--restart'])).stdout}\n`)
    expect(r.ok).toBe(true)
    expect(r.phases[0]!.tasks.map((t) => t.summary)).toEqual(Array(4).fill('already installed, Ready'))

    const bad = await obsctl(['node', 'install', 'no-such-cluster', '-c', inv.file])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('no cluster named no-such-cluster')

    // a failing check: exit 1
    sb.nodes[3]!.writeFile('/etc/os-release', 'ID=alpine\nPRETTY_NAME="Alpine Linux"\n', 0o644)
    const failing = await obsctl(['node', 'preflight', 'cluster-03', '-c', inv.file])
    expect(failing.code).toBe(1)
    expect(failing.stdout).toMatch(/OS and architecture\s+✖ fail\s+Alpine Linux/)
    // only that node sees it: the sandbox never writes through to this machine
    expect(readFileSync('/etc/os-release', 'utf8')).toBe(hostOsRelease)
    expect((await obsctl(['node', 'preflight', 'cluster-02', '-c', inv.file])).code).toBe(0)
  })
  test('--known-hosts ./kh is the file in the working directory, not beside an inventory given as -c ../site/obsctl.yaml', async () => {
    const inv = inventoryFor(sb, [[1]])
    const here = mkdtempSync(path.join(os.tmpdir(), 'obsctl-cwd-'))
    mkdirSync(path.join(here, 'work'))
    const cwd = path.join(here, 'work')
    const config = path.relative(cwd, inv.file)
    expect(config.startsWith('../')).toBe(true)
    const node = sb.nodes[1]!
    const r = await obsctl(['node', 'preflight', '-c', config, '--known-hosts', './kh', '--json'], {}, cwd)
    // (a one-node central cluster fails the capacity check: exit 1; what matters here is where the key went)
    const report = JSON.parse(r.stdout) as {knownHosts: string; checks: {id: string; status: string}[]}
    expect(report.knownHosts).toBe(path.join(cwd, 'kh'))
    expect(report.checks.find((c) => c.id === 'ssh')?.status).toBe('pass')
    expect(readFileSync(path.join(cwd, 'kh'), 'utf8')).toContain(`[${node.ip}]:${node.port} ssh-ed25519 `)
    expect(existsSync(path.join(inv.dir, 'kh'))).toBe(false)
    expect(existsSync(path.join(inv.dir, '.obsctl', 'known_hosts'))).toBe(false)
    // kubeconfig merge reads the same file through the same pool: the key saved above is known, no new one trusted
    const merge = await obsctl(['kubeconfig', 'merge', '-c', config, '--known-hosts', './kh', '--kubeconfig', path.join(here, 'kubeconfig')], {}, cwd)
    expect(merge.stderr).not.toContain('trusted new host key')
    expect(merge.stderr + merge.stdout).not.toMatch(/--known-hosts: /)
    expect(existsSync(path.join(inv.dir, 'kh'))).toBe(false)
  })
})
