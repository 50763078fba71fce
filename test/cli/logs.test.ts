/**
 * Task logs as a user reaches them: `obsctl logs [--run] [--phase] [--target] [--tail]` (human and
 * --json), `state show` naming the folder, `--verbose` printing the failed tasks' log tails under a
 * failed run; everything shown redacted (src/lib/config/validators.ts redactText).
 */
import {appendFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {redactText} from '../../src/lib/config/validators.js'
import {exampleInventory} from '../support/inventory.js'
import {obsctl, tmpDir} from './helpers.js'

describe('redactText', () => {
  it('URL credentials, Authorization values, bearer tokens and secret-named env values', () => {
    const env = {OBSCTL_S3_SECRET_KEY: 'super-secret-xyz', OBSCTL_GIT_TOKEN: 'ghp_abcdef', HOME: '/root', SHORT_PASSWORD: 'abc'}
    const text = [
      'cloning https://bot:ghp_abcdef@git.example.lab/fleet.git',
      'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload',
      'curl -H "authorization: Basic dXNlcjpwYXNz"',
      'token bearer abcdefghijklmnop',
      'secret super-secret-xyz in /root',
      'abc stays (too short to be told from text)',
    ].join('\n')
    const out = redactText(text, env)
    expect(out).not.toMatch(/ghp_abcdef|eyJhbGci|dXNlcjpwYXNz|abcdefghijklmnop|super-secret-xyz/)
    expect(out).toContain('https://git.example.lab/fleet.git')
    expect(out).toContain('Authorization: Bearer ***')
    expect(out).toContain('secret *** in /root')
    expect(out).toContain('abc stays')
  })
})

describe('the CLI', () => {
  let dir: string
  let inv: string
  const env = {OBSCTL_SSH_PASSWORD: 'ssh-pass-123', OBSCTL_S3_ACCESS_KEY: 'minio-access', OBSCTL_S3_SECRET_KEY: 'super-secret-xyz'}
  let failed: Awaited<ReturnType<typeof obsctl>>

  beforeAll(async () => {
    dir = tmpDir('obsctl-logs-')
    inv = path.join(dir, 'obsctl.yaml')
    // nothing listens on the discard port: the buckets phase fails at once, on loopback
    writeFileSync(inv, exampleInventory({'s3.endpoint': 'http://127.0.0.1:9'}))
    const none = await obsctl(['logs', '-c', inv])
    expect(none.status).toBe(0)
    expect(none.stdout).toContain('no run has left logs')
    failed = await obsctl(['bootstrap', '--phase', 'buckets', '--yes', '--verbose', '-c', inv], {env})
  })

  it("--verbose prints each failed task's log tail under the summary, and names obsctl logs", async () => {
    expect(failed.status).toBe(1)
    expect(failed.stdout).toMatch(/^buckets +thanos-metrics +failed/m)
    expect(failed.stderr).toMatch(
      /==> buckets thanos-metrics: .*\/\.obsctl\/logs\/[^/]+\/buckets\/thanos-metrics\.log <==\n.*task: create bucket thanos-metrics[^\n]*\n.*ERROR: cannot reach the S3 endpoint/,
    )
    expect(failed.stderr).toMatch(/all of the run's logs: obsctl logs --run \S+/)
    const quiet = await obsctl(['bootstrap', '--phase', 'buckets', '--yes', '--restart', '-c', inv], {env})
    expect(quiet.status).toBe(1)
    expect(quiet.stderr).not.toContain('==> buckets')
  })

  it('obsctl logs: the latest run by default, filtered by phase and target, --tail, --run by its beginning; redacted', async () => {
    const logs = await obsctl(['logs', '--json', '-c', inv])
    expect(logs.status, logs.stderr).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(logs.stderr).toBe('')
    const j = JSON.parse(logs.stdout)
    expect(j.runs.length).toBe(2)
    expect(j.runId).toBe(j.runs[1])
    expect(j.logsDir).toBe(path.join(dir, '.obsctl', 'logs'))
    expect(j.tasks.map((t: {phase: string; target: string}) => `${t.phase}/${t.target}`)).toEqual([
      'buckets/longhorn-backups',
      'buckets/opensearch-snapshots',
      'buckets/thanos-metrics',
    ])

    const first = j.runs[0] as string
    const file = path.join(dir, '.obsctl', 'logs', first, 'buckets', 'thanos-metrics.log')
    appendFileSync(file, 'a command printed super-secret-xyz and https://u:pw@s3.example.lab/x\n')
    const one = await obsctl(['logs', '--run', first.slice(0, 26), '--target', 'thanos-metrics', '--tail', '2', '-c', inv], {env})
    expect(one.status).toBe(0)
    expect(one.stdout).toContain(`run ${first} (2 run(s)`)
    expect(one.stdout).toContain('(last 2 of 3 lines)')
    expect(one.stdout).toContain('a command printed *** and https://s3.example.lab/x')
    expect(one.stdout).not.toContain('super-secret-xyz')
    expect(one.stdout).not.toContain('opensearch-snapshots')

    const none = await obsctl(['logs', '--phase', 'nodes', '-c', inv])
    expect(none.stdout).toContain('no task logs match')
    const bad = await obsctl(['logs', '--run', 'nope', '-c', inv])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('--run nope: no such run')
  })

  it('state show names the log folder and the latest run', async () => {
    const r = await obsctl(['state', 'show', '-c', inv])
    expect(r.stdout).toMatch(
      new RegExp(`task logs: ${path.join(dir, '.obsctl', 'logs').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(latest run \\S+; obsctl logs prints them\\)`),
    )
    const j = JSON.parse((await obsctl(['state', 'show', '--json', '-c', inv])).stdout)
    expect(j.logsDir).toBe(path.join(dir, '.obsctl', 'logs'))
    expect(j.lastRun).toMatch(/^\d{4}-/)
  })
})
