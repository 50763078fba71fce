/**
 * Every command that changes remote systems from the inventory refuses one that `config validate` rejects — exit 2,
 * the finding as config validate words it, before any connection — as bootstrap, render and rollback do. The
 * inventory has an error only the lint catches (two clusters with id "01"; the schema accepts each), and every
 * address it or the kubeconfig names (nodes, API servers, S3, --endpoint) is a loopback listener that counts the
 * connections it gets: none may arrive.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {kubeContextName} from '../../src/lib/config/model.js'
import {exampleInventory} from '../support/inventory.js'
import {obsctl, requireBuild, type CliResult} from '../cli/helpers.js'

const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
/** a loopback listener per address: nodes 127.0.77.1–5 (node i also serves cluster i's API server), S3 and services on .9 */
const ADDRESSES = ['127.0.77.1', '127.0.77.2', '127.0.77.3', '127.0.77.4', '127.0.77.5', '127.0.77.9']

let dir: string
let servers: Server[] = []
const ports = new Map<string, number>()
let connections = 0
let env: Record<string, string | undefined>

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => {
      connections++
      sock.destroy()
    })
    s.once('error', reject)
    s.listen(0, host, () => resolve(s))
  })
}

const url = (host: string) => `https://${host}:${ports.get(host)}`

/** The loopback inventory, SETS applied (each value as config set would write it). */
function inventory(sets: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {'s3.endpoint': url('127.0.77.9'), 'git.remote': path.join(dir, 'remote.git')}
  CLUSTERS.forEach((name, i) => {
    const host = ADDRESSES[i]!
    base[`clusters.${name}.apiServer`] = url(host)
    base[`clusters.${name}.nodes[0].host`] = host
    base[`clusters.${name}.nodes[0].port`] = ports.get(host)
    base[`clusters.${name}.loadBalancerIPs`] = [`127.0.78.${10 * i + 10}-127.0.78.${10 * i + 14}`]
  })
  // a second node, so that node remove has one it may remove
  base['clusters.cluster-03.nodes[1]'] = {host: '127.0.77.5', port: ports.get('127.0.77.5'), roles: ['worker'], cpu: '4', memory: '16Gi'}
  return exampleInventory({...base, ...sets})
}

function write(name: string, text: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

beforeAll(async () => {
  requireBuild()
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-refuse-'))
  servers = await Promise.all(ADDRESSES.map(listen))
  ADDRESSES.forEach((a, i) => ports.set(a, (servers[i]!.address() as {port: number}).port))
  // every cluster's context points at its loopback listener
  const kubeconfig = path.join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': kubeContextName(CLUSTERS[0]!),
      clusters: CLUSTERS.map((c, i) => ({name: c, cluster: {server: url(ADDRESSES[i]!)}})),
      users: CLUSTERS.map((c) => ({name: `${c}-admin`, user: {token: 'not-a-secret'}})),
      contexts: CLUSTERS.map((c) => ({name: kubeContextName(c), context: {cluster: c, user: `${c}-admin`}})),
    }),
    {mode: 0o600},
  )
  env = {HOME: dir, KUBECONFIG: kubeconfig, SSH_AUTH_SOCK: undefined, OBSCTL_OPENSEARCH_USER: 'admin', OBSCTL_OPENSEARCH_PASSWORD: 'Not-a-secret-1'}
})

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const run = (args: string[], file: string): Promise<CliResult> => obsctl([...args, '-c', file], {cwd: dir, env, timeoutMs: 90_000})

/** The error findings as `config validate --json` reports them: `LOCATION PATH: MESSAGE`, the line a refusal prints. */
async function findingLines(file: string): Promise<string[]> {
  const r = await run(['config', 'validate', '--json'], file)
  expect(r.status, r.stderr).toBe(2)
  const report = JSON.parse(r.stdout) as {findings: {severity: string; location: string; path: string; message: string}[]}
  return report.findings.filter((f) => f.severity === 'error').map((f) => `${f.location} ${f.path}: ${f.message}`)
}

/** Batches of three at a time: two shared cores. */
async function runAll(cases: [string, string[]][], file: string): Promise<Map<string, CliResult>> {
  const out = new Map<string, CliResult>()
  for (let i = 0; i < cases.length; i += 3) await Promise.all(cases.slice(i, i + 3).map(async ([name, args]) => out.set(name, await run(args, file))))
  return out
}

const service = (name: string) => `--endpoint=${name}=${url('127.0.77.9')}`

/** The commands that refuse the inventory as it is on disk: `invalid inventory FILE:` and the findings, as bootstrap and render say it. */
const refusing = (): [string, string[]][] => [
  ['node install', ['node', 'install', '--dry-run']],
  ['node add (already in the inventory: a resume)', ['node', 'add', 'cluster-02', '--host', '127.0.77.2', '--role', 'control-plane', '--dry-run']],
  ['secrets apply', ['secrets', 'apply', '--dry-run']],
  ['secrets rotate', ['secrets', 'rotate', 'grafana', '--dry-run', service('grafana'), service('opensearch')]],
  ['argocd install', ['argocd', 'install', '--dry-run']],
  ['argocd sync', ['argocd', 'sync', '--timeout', '5']],
  ['argocd password --rotate', ['argocd', 'password', '--rotate', '--generate']],
  ['s3 setup', ['s3', 'setup', '--dry-run']],
  ['cluster register', ['cluster', 'register', '--dry-run']],
  ['upgrade kubernetes', ['upgrade', 'kubernetes', '1.35', '--dry-run']],
  ['certs renew', ['certs', 'renew', '--dry-run']],
  ['backup create', ['backup', 'create', '--dry-run']],
  ['backup restore', ['backup', 'restore', '20250101T000000Z', '--cluster', 'cluster-02', '--dry-run']],
  ['opensearch snapshot delete', ['opensearch', 'snapshot', 'delete', 'snap-1', '--dry-run', service('opensearch')]],
  ['opensearch snapshot restore', ['opensearch', 'snapshot', 'restore', 'snap-1', '--dry-run', service('opensearch')]],
  ['render', ['render', '--dry-run']],
]

/** The commands that edit the inventory: they lint the edited text, and say the errors were there before the edit. */
const editing = (): [string, string[]][] => [
  ['config set', ['config', 'set', 'retention.prometheus', '8h', '--dry-run']],
  ['upgrade chart', ['upgrade', 'chart', 'longhorn', '--version', '1.10.1', '--dry-run']],
  ['node add', ['node', 'add', 'cluster-02', '--host', '127.0.77.6', '--dry-run']],
  ['node remove', ['node', 'remove', 'cluster-03', '127.0.77.5', '--dry-run']],
  ['cluster add', ['cluster', 'add', 'cluster-05', '--host', '127.0.77.7', '--dry-run']],
  ['cluster remove', ['cluster', 'remove', 'cluster-04', '--dry-run', service('opensearch')]],
]

describe('commands that change remote systems refuse an inventory config validate rejects, before any connection', () => {
  it('two clusters with id "01": exit 2 naming the finding as config validate does; nothing reached', async () => {
    const file = write('obsctl.yaml', inventory({'clusters.cluster-02.id': '01'}))
    const lines = await findingLines(file)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/:\d+:\d+ clusters\[1\]\.id: duplicate cluster id "01"/)

    const cases = refusing()
    const results = await runAll(cases, file)
    for (const [name] of cases) {
      const r = results.get(name)!
      // soft: every command that does not refuse is named, not only the first
      expect.soft(r.status, `${name}: ${r.stderr}`).toBe(2)
      expect.soft(r.stderr, name).toContain(`Error: invalid inventory ${file}:\n${lines[0]}\n`)
      expect.soft(r.stderr, name).toContain('→ obsctl config validate shows every finding with its fix')
    }
    const editCases = editing()
    const edits = await runAll(editCases, file)
    for (const [name] of editCases) {
      const r = edits.get(name)!
      expect.soft(r.status, `${name}: ${r.stderr}`).toBe(2)
      // the error was in the file before the edit: not "would make the inventory invalid"
      expect
        .soft(r.stderr, name)
        .toMatch(
          new RegExp(
            `^Error: invalid inventory ${file.replaceAll('.', '\\.')}, with or without .+; nothing was written\\. Errors blocking it, already in the file \\(not .+, the field the edit sets\\):$`,
            'm',
          ),
        )
      expect.soft(r.stderr, name).toContain(`\n${lines[0]}\n`)
    }
    expect(connections).toBe(0)
  })

  it('the incident tools do not refuse it: silencing an alert or taking a snapshot works while the inventory is mended', async () => {
    const file = write('incident.yaml', inventory({'clusters.cluster-02.id': '01'}))
    const cases: [string, string[]][] = [
      ['alerts silence', ['alerts', 'silence', 'alertname=NodeDown', '--for', '1h', '--comment', 'maintenance', '--dry-run', service('alertmanager')]],
      ['alerts unsilence', ['alerts', 'unsilence', '3f2a6c1e-8d4b-4f6a-9c2e-1b7d5e0a9f31', '--dry-run', service('alertmanager')]],
      ['opensearch snapshot', ['opensearch', 'snapshot', service('opensearch')]],
    ]
    const before = connections
    const results = await runAll(cases, file)
    for (const [name] of cases) expect.soft(results.get(name)!.stderr, name).not.toContain('invalid inventory')
    // the snapshot went on to OpenSearch (the listener here is no OpenSearch: it closes the connection)
    expect(connections).toBeGreaterThan(before)
    connections = before
  })

  it('--json: the error object, the same message as render and bootstrap --dry-run', async () => {
    const file = write('json.yaml', inventory({'clusters.cluster-02.id': '01'}))
    const [apply, render, boot] = await Promise.all([
      run(['secrets', 'apply', '--json'], file),
      run(['render', '--dry-run', '--json'], file),
      run(['bootstrap', '--phase', 'secrets', '--dry-run', '--json'], file),
    ])
    type E = {error: {code: string; message: string; exitCode: number; details: {errors: number}}}
    const e = JSON.parse(apply.stdout) as E
    expect(apply.status).toBe(2)
    expect(e.error).toMatchObject({code: 'CONFIG_INVALID', exitCode: 2, details: {errors: 1}})
    expect(e.error.message).toBe((JSON.parse(render.stdout) as E).error.message)
    expect(e.error.message).toBe((JSON.parse(boot.stdout) as E).error.message)
    expect(connections).toBe(0)
  })

  it('the capacity finding: refused where it puts workloads on the clusters unless --allow-overcommit; never where it does not', async () => {
    // cluster-02 declares one CPU and 1Gi: the platform's requests for an edge exceed it
    const file = write('overcommit.yaml', inventory({'clusters.cluster-02.nodes[0].cpu': '1', 'clusters.cluster-02.nodes[0].memory': '1Gi'}))
    const lines = await findingLines(file)
    expect(lines).toEqual([
      expect.stringMatching(/clusters\[1\]\.nodes: the platform's requests for cluster-02 \(edge, profile lab\) exceed its declared CPU and memory$/),
    ])

    const [register, allowed, install] = await Promise.all([
      run(['cluster', 'register', '--dry-run'], file),
      run(['cluster', 'register', '--dry-run', '--allow-overcommit'], file),
      run(['node', 'install', '--dry-run'], file),
    ])
    expect(register.status, register.stderr).toBe(2)
    expect(register.stderr).toContain(lines[0])
    // the fix names the flag the command has
    expect(register.stderr).toContain('→ add nodes or CPU/memory, use profile: lab, or pass --allow-overcommit')
    expect(allowed.status, allowed.stderr).toBe(0)
    // node install puts no workload on the clusters: the capacity finding does not stop it
    expect(install.status, install.stderr).toBe(0)
    expect(connections).toBe(0)
  })
})
