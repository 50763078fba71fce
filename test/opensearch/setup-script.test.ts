/**
 * The opensearch-setup PostSync hook (deploy/base/opensearch/setup-script.yaml) as rendered for the example
 * inventory: shellcheck, then the real `sh` and `curl` run it against the OpenSearch fake over HTTPS with a
 * certificate of the platform CA (verified with that CA; another CA fails). What it must do: wait for the ISM
 * policy version of this render (the operator writes it from the OpenSearchISMPolicy), move indices on an
 * older version or on the legacy policy with change_policy, give unmanaged indices the policy, delete the
 * legacy policy once no index uses it, write the Dashboards index pattern; and change nothing on a rerun.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {ISM_POLICY_ID, LEGACY_ISM_POLICY_ID, ismPolicy} from '../../src/lib/gitops/context.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {ensurePlatformCa, issueServerCertificate} from '../../src/lib/kube/pki.js'
import {platformOf} from '../gitops/support.js'
import {startOpenSearchFake, type OpenSearchFake} from '../support/opensearch-fake.js'

// a password curl's config file must quote: a double quote and a backslash
const USER = 'admin'
const PASSWORD = 'se"cr\\et-Zq81'

const p = platformOf()
const rendered = renderFiles(p).find((f) => f.path === 'deploy/base/opensearch/setup-script.yaml')!
const script = (parse(rendered.content) as {data: Record<string, string>}).data['setup.sh']!
const version = ismPolicy(p).version

let dir: string
let caFile: string
let otherCaFile: string
let fake: OpenSearchFake

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-os-setup-'))
  const ca = await ensurePlatformCa(dir, 'example.lab')
  caFile = ca.certFile
  const other = await ensurePlatformCa(path.join(dir, 'other'), 'other.lab')
  otherCaFile = other.certFile
  const leaf = await issueServerCertificate(ca, {commonName: 'opensearch', hosts: ['127.0.0.1']})
  fake = await startOpenSearchFake({
    user: USER,
    password: PASSWORD,
    policy: ISM_POLICY_ID,
    repository: 's3-snapshots',
    bucket: 'opensearch-snapshots',
    tls: {cert: leaf.certPem, key: leaf.keyPem},
  })
  mkdirSync(path.join(dir, 'credentials'))
  writeFileSync(path.join(dir, 'credentials', 'username'), USER, {mode: 0o600})
  writeFileSync(path.join(dir, 'credentials', 'password'), PASSWORD, {mode: 0o600})
  writeFileSync(path.join(dir, 'setup.sh'), script)
})

afterAll(async () => {
  await fake?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

function runScript(env: Record<string, string> = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [path.join(dir, 'setup.sh')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        OPENSEARCH_URL: fake.url,
        DASHBOARDS_URL: fake.url,
        CREDENTIALS_DIR: path.join(dir, 'credentials'),
        CA_FILE: caFile,
        POLLS: '3',
        POLL_SECONDS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

/** The policy as the operator writes it from the rendered OpenSearchISMPolicy (its description carries the version). */
function operatorWrote(seqNo: number): void {
  const spec = ismPolicy(p)
  fake.policies[ISM_POLICY_ID] = {
    seqNo,
    primaryTerm: 1,
    policy: {description: spec.description, default_state: 'hot', states: [], ism_template: [{index_patterns: ['fluent-bit-*'], priority: 200}]},
  }
}

describe('the opensearch-setup PostSync script', () => {
  it('passes shellcheck (POSIX sh, style level)', () => {
    const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', path.join(dir, 'setup.sh')], {encoding: 'utf8'})
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('waits for the ISM policy version of this render and fails when the operator never writes it', async () => {
    fake.policies[ISM_POLICY_ID] = {seqNo: 3, primaryTerm: 1, policy: {description: 'fluent-bit-* log indices: delete after 90d [obsctl 000000000000]'}}
    fake.addLogs('cluster-01', 2, 0)
    const r = await runScript()
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`ISM policy ${ISM_POLICY_ID} version ${version}: still not there after 3 tries`)
    expect(fake.ismRequests).toEqual([])
  })

  it('moves older-version and legacy indices (change_policy), adds unmanaged ones, keeps the legacy policy while in use, writes the index pattern', async () => {
    fake.docs = []
    for (const [c, days] of [
      ['cluster-01', 0],
      ['cluster-02', 1],
      ['cluster-03', 2],
      ['cluster-04', 3],
    ] as const)
      fake.addLogs(c, 2, days * 86_400_000)
    const [current, older, legacy, unmanaged] = [...new Set(fake.docs.map((d) => d.index))].sort()
    operatorWrote(12)
    fake.policies[LEGACY_ISM_POLICY_ID] = {seqNo: 0, primaryTerm: 1, policy: {description: 'snapshot after 14d, delete after 180d'}}
    fake.managed = {
      [current!]: {policyId: ISM_POLICY_ID, seqNo: 12, primaryTerm: 1},
      [older!]: {policyId: ISM_POLICY_ID, seqNo: 4, primaryTerm: 1},
      [legacy!]: {policyId: LEGACY_ISM_POLICY_ID, seqNo: 0, primaryTerm: 1},
    }
    fake.unmanaged = new Set([unmanaged!])

    const r = await runScript()
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(fake.ismRequests).toEqual([
      {action: 'change_policy', index: older, body: {policy_id: ISM_POLICY_ID}},
      {action: 'change_policy', index: legacy, body: {policy_id: ISM_POLICY_ID}},
      {action: 'add', index: unmanaged, body: {policy_id: ISM_POLICY_ID}},
    ])
    for (const i of [current, older, legacy, unmanaged]) expect(fake.managed[i!]).toEqual({policyId: ISM_POLICY_ID, seqNo: 12, primaryTerm: 1})
    expect(r.stdout).toContain(`ISM: 3 index(es) moved to ${ISM_POLICY_ID} version 12/1`)
    // the explain of this run still showed an index on the legacy policy
    expect(fake.policies[LEGACY_ISM_POLICY_ID]).toBeDefined()
    expect(r.stdout).toContain(`ISM policy ${LEGACY_ISM_POLICY_ID}: still in use, kept until a later sync`)
    expect(fake.savedObjects['index-pattern/fluent-bit']).toEqual({title: 'fluent-bit-*', timeFieldName: '@timestamp'})
    expect(r.stdout).not.toContain(PASSWORD)

    // the next sync: nothing to move, the legacy policy goes; the one after changes nothing at all
    const again = await runScript()
    expect(again.code).toBe(0)
    expect(fake.ismRequests).toHaveLength(3)
    expect(fake.policies[LEGACY_ISM_POLICY_ID]).toBeUndefined()
    expect(again.stdout).toContain(`ISM policy ${LEGACY_ISM_POLICY_ID}: deleted`)
    const third = await runScript()
    expect(third.code).toBe(0)
    expect(fake.ismRequests).toHaveLength(3)
    expect(third.stdout).toContain(`ISM: 0 index(es) moved to ${ISM_POLICY_ID} version 12/1`)
    expect(third.stdout).not.toContain(LEGACY_ISM_POLICY_ID)

    // a retention change: the operator writes a new version; every index follows it
    operatorWrote(13)
    const changed = await runScript()
    expect(changed.code).toBe(0)
    expect(
      fake.ismRequests
        .slice(3)
        .map((x) => x.index)
        .sort(),
    ).toEqual([current, older, legacy, unmanaged].sort())
    for (const i of [current, older, legacy, unmanaged]) expect(fake.managed[i!]!.seqNo).toBe(13)
  })

  it('verifies TLS: OpenSearch with a certificate of another CA is never reached', async () => {
    const before = fake.requests.length
    const r = await runScript({CA_FILE: otherCaFile})
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('OpenSearch: still not there after 3 tries')
    expect(fake.requests.length).toBe(before)
  })
})
