/**
 * `cluster add` without an SSH credential and without a terminal (no ssh.identityFile, no ssh-agent, no
 * OBSCTL_SSH_PASSWORD, CI set): exit 2 up front naming what answers the question, as `node install` and bootstrap's
 * check do, before the inventory is touched (the run used to append the cluster, then fail its preflight with
 * exit 1 and the bare question). A loopback-only inventory; nothing is ever reached.
 */
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {obsctl, requireBuild, tmpDir} from '../cli/helpers.js'

let dir: string
let file: string
let text: string

beforeAll(() => {
  requireBuild()
  dir = tmpDir('obsctl-add-ssh-')
  file = path.join(dir, 'obsctl.yaml')
  text = [
    'apiVersion: obsctl.dev/v1alpha1',
    'kind: Platform',
    'domain: add.test',
    'ssh: {user: bsh}',
    's3: {endpoint: "http://127.0.0.1:9", buckets: {}}',
    `git: {remote: "${path.join(dir, 'remote.git')}"}`,
    'clusters:',
    '  - name: cluster-01',
    '    id: "01"',
    '    role: central',
    '    apiServer: https://127.0.0.11:6443',
    '    nodes:',
    '      - {host: 127.0.0.11, roles: [control-plane, worker], cpu: 16, memory: 64Gi}',
    '',
  ].join('\n')
  writeFileSync(file, text)
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** no credential anywhere, and HOME a folder of the test's (nothing of this machine's) */
const env = () => ({SSH_AUTH_SOCK: undefined, OBSCTL_SSH_PASSWORD: undefined, HOME: dir})

describe('cluster add without an SSH credential and without a terminal', () => {
  it('exit 2 naming ssh.identityFile, the ssh-agent and OBSCTL_SSH_PASSWORD; the inventory untouched, no run started', async () => {
    const args = ['cluster', 'add', 'cluster-02', '--host', '127.0.0.12', '--api-server', 'https://127.0.0.12:6443', '--yes', '-c', file]
    const r = await obsctl(args, {env: env()})
    expect(r.status, r.stdout + r.stderr).toBe(2)
    expect(r.stderr).toContain('Error: SSH password for bsh on the nodes needs an answer, and obsctl does not prompt without a terminal')
    expect(r.stderr).toContain('→ set ssh.identityFile in the inventory, or start an ssh-agent (SSH_AUTH_SOCK) with the key loaded')
    expect(r.stderr).toContain('→ for automation: OBSCTL_SSH_PASSWORD in the environment')
    expect(r.stdout).not.toContain('added to')
    expect(readFileSync(file, 'utf8')).toBe(text)
    expect(existsSync(path.join(dir, '.obsctl', 'state.json'))).toBe(false)

    const json = await obsctl([...args, '--json'], {env: env()})
    expect(json.status).toBe(2)
    const e = JSON.parse(json.stdout) as {error: {code: string; exitCode: number; hints: string[]}}
    expect(e.error).toMatchObject({code: 'NO_TTY', exitCode: 2})
    expect(e.error.hints.join('\n')).toMatch(/ssh\.identityFile[\s\S]*SSH_AUTH_SOCK[\s\S]*OBSCTL_SSH_PASSWORD/)
    expect(readFileSync(file, 'utf8')).toBe(text)
  })
})
