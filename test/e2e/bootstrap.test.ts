/**
 * bootstrap end to end (issue 9): four loopback sshd nodes with the node sandbox, four Kubernetes API
 * test servers, s3rver, a bare Git remote. The test plays the controllers (rollouts, Argo CD health).
 * A run SIGKILLed in the middle of the sync phase is rerun and completes without redoing finished
 * tasks and without duplicate side effects.
 */
import {spawn, execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {Client} from 'minio'
import {startSandbox, type Sandbox} from '../support/sshd.js'
import {startKubeServers, stopKubeServers, type KubeServer} from '../support/kube/index.js'
import {ACCESS_KEY, SECRET_KEY, startS3rver, type S3Peer} from '../s3/harness.js'
import {writeManifest} from '../argocd/harness.js'

const root = process.getuid?.() === 0
const BIN = path.resolve('bin/run.js')
const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
const PHASES = ['preflight', 'nodes', 'kubeconfig', 'buckets', 'render', 'argocd', 'register', 'secrets', 'root-app', 'sync']

let sb: Sandbox
let kubes: KubeServer[]
let s3: S3Peer
let dir: string
let remote: string
let manifest: string
let controller: NodeJS.Timeout
let healthy = false

function adminConf(k: KubeServer): string {
  // what kubeadm writes: every cluster calls itself kubernetes / kubernetes-admin
  return stringify(k.kubeconfig({clusterName: 'kubernetes', userEntryName: 'kubernetes-admin', contextName: 'kubernetes-admin@kubernetes'}))
}

function inventory(): string {
  const clusters = CLUSTERS.map((name, i) => {
    const n = sb.nodes[i]!
    return [
      `  - name: ${name}`,
      `    id: "${String(i + 1).padStart(2, '0')}"`,
      `    role: ${i === 0 ? 'central' : 'edge'}`,
      ...(i === 0 ? [] : [`    metrics: ${i === 1 ? 'agent' : 'remote-scrape'}`]),
      `    apiServer: ${kubes[i]!.url}`,
      '    nodes:',
      `      - {host: ${n.ip}, port: ${n.port}, name: ${n.hostname}, roles: [control-plane, worker], cpu: 4, memory: 16Gi}`,
    ].join('\n')
  })
  return `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: e2e.test
ssh:
  user: root
  identityFile: ${sb.clientKey}
  agent: false
  connectTimeoutSeconds: 5
s3:
  endpoint: ${s3.url}
  buckets:
    metrics: {name: thanos-metrics}
    snapshots: {name: opensearch-snapshots}
    backups: {name: longhorn-backups}
git:
  remote: ${remote}
  branch: main
clusters:
${clusters.join('\n')}
`
}

const env = () => ({
  ...process.env,
  CI: 'true',
  KUBECONFIG: path.join(dir, 'kubeconfig'),
  OBSCTL_S3_ACCESS_KEY: ACCESS_KEY,
  OBSCTL_S3_SECRET_KEY: SECRET_KEY,
  OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'e2e-Admin-pw-1',
  OBSCTL_OPENSEARCH_PASSWORD: 'e2e-Admin-pw-1',
  OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: 'e2e-Fluent-pw-2',
  OBSCTL_GRAFANA_ADMIN_PASSWORD: 'e2e-Grafana-pw-3',
  GIT_AUTHOR_NAME: 'obsctl e2e',
  GIT_AUTHOR_EMAIL: 'e2e@obsctl.test',
  GIT_COMMITTER_NAME: 'obsctl e2e',
  GIT_COMMITTER_EMAIL: 'e2e@obsctl.test',
})

function bootstrapArgs(): string[] {
  return ['bootstrap', ...PHASES.flatMap((p) => ['--phase', p]), '--yes', '--json', '--timeout', '60', '--argocd-manifest', manifest]
}

function runBootstrap(): Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...bootstrapArgs()], {cwd: dir, env: env()})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code, signal) => resolve({code, signal, stdout, stderr}))
  })
}

/** the controllers: workloads roll out; Argo CD reports every Application Synced/Healthy once `healthy` */
function playControllers(): void {
  for (const k of kubes) {
    for (const kind of ['deployments', 'statefulsets', 'daemonsets']) {
      let objs: {metadata: {namespace?: string; name: string; generation?: number}; status?: {observedGeneration?: number}}[] = []
      try {
        objs = k.listObjects(kind) as typeof objs
      } catch {
        continue
      }
      for (const o of objs) if ((o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1)) k.markRolledOut(kind, o.metadata.namespace!, o.metadata.name)
    }
  }
  if (!healthy) return
  let apps: {metadata: {namespace: string; name: string}; status?: {health?: {status?: string}}}[] = []
  try {
    apps = kubes[0]!.listObjects('applications.argoproj.io') as typeof apps
  } catch {
    return
  }
  for (const a of apps) if (a.status?.health?.status !== 'Healthy') kubes[0]!.setApplicationStatus(a.metadata.namespace, a.metadata.name, {sync: 'Synced', health: 'Healthy'})
}

function state(): Record<string, {status: string; endedAt?: string}> {
  const file = path.join(dir, '.obsctl', 'state.json')
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).tasks : {}
}

describe.skipIf(!root)('bootstrap end to end with a SIGKILL in the middle', () => {
  beforeAll(async () => {
    kubes = await startKubeServers(CLUSTERS)
    ;[sb, s3] = await Promise.all([
      startSandbox(kubes.map((k) => ({nproc: 4, files: {'/etc/kubernetes/admin.conf': adminConf(k)}})), {firstIp: 201}),
      startS3rver(),
    ])
    dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-e2e-'))
    remote = path.join(dir, 'remote.git')
    execFileSync('git', ['init', '--bare', '-q', '-b', 'main', remote])
    manifest = writeManifest(dir, 'non-ha')
    writeFileSync(path.join(dir, 'obsctl.yaml'), inventory())
    controller = setInterval(playControllers, 100)
  }, 120_000)

  afterAll(async () => {
    clearInterval(controller)
    await Promise.all([sb?.stop(), s3?.close(), kubes && stopKubeServers(kubes)])
  })

  it('is killed during sync, then a rerun completes without redoing or duplicating work', async () => {
    // first run: everything up to sync; Applications stay Progressing, so sync waits — kill it there
    let exited: {stdout: string; stderr: string} | undefined
    const first = runBootstrap().then((r) => (exited = r))
    const until = Date.now() + 90_000
    while (!Object.entries(state()).some(([k, v]) => k.startsWith('sync/') && v.status === 'running')) {
      if (exited) throw new Error(`the first run ended before the sync phase:\n${exited.stdout}\n${exited.stderr}`)
      if (Date.now() > until) throw new Error(`never reached the sync phase: ${JSON.stringify(state())}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const pid = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'lock'), 'utf8')).pid as number
    process.kill(pid, 'SIGKILL')
    const killed = await first
    expect(killed.signal).toBe('SIGKILL')

    const before = state()
    for (const p of PHASES.slice(0, -1)) {
      const tasks = Object.entries(before).filter(([k]) => k.startsWith(`${p}/`))
      expect(tasks.length, `tasks of ${p}`).toBeGreaterThan(0)
      for (const [k, v] of tasks) expect(v.status, k).toBe('done')
    }
    const calls = sb.nodes.map((n) => n.calls().length)
    const commits = execFileSync('git', ['--git-dir', remote, 'rev-list', '--count', 'main'], {encoding: 'utf8'}).trim()
    const secretVersions = kubes[0]!.listObjects('secrets', 'argocd').map((s) => `${(s as {metadata: {name: string; resourceVersion: string}}).metadata.name}@${(s as {metadata: {resourceVersion: string}}).metadata.resourceVersion}`).sort()

    // rerun: Argo CD now reports health; only sync runs
    healthy = true
    const second = await runBootstrap()
    expect(second.code, `${second.stderr}\n${JSON.stringify(JSON.parse(second.stdout || '{}').run?.phases?.flatMap((p: {tasks: {error?: string}[]}) => p.tasks.filter((t) => t.error)))}`).toBe(0)
    const result = JSON.parse(second.stdout)
    expect(result.ok).toBe(true)
    const statuses = Object.fromEntries(result.run.phases.map((p: {name: string; tasks: {status: string}[]}) => [p.name, [...new Set(p.tasks.map((t) => t.status))]]))
    for (const p of PHASES.slice(0, -1)) expect(statuses[p], p).toEqual(['unchanged'])
    expect(['done', 'in-state']).toContain(statuses.sync[0])

    // no duplicate side effects: node commands, Git history, Argo CD objects, buckets
    expect(sb.nodes.map((n) => n.calls().length)).toEqual(calls)
    expect(execFileSync('git', ['--git-dir', remote, 'rev-list', '--count', 'main'], {encoding: 'utf8'}).trim()).toBe(commits)
    expect(kubes[0]!.listObjects('secrets', 'argocd').map((s) => `${(s as {metadata: {name: string}}).metadata.name}@${(s as {metadata: {resourceVersion: string}}).metadata.resourceVersion}`).sort()).toEqual(secretVersions)
    const minio = new Client({endPoint: '127.0.0.1', port: s3.port, useSSL: false, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'us-east-1', pathStyle: true})
    expect((await minio.listBuckets()).map((b) => b.name).sort()).toEqual(['longhorn-backups', 'opensearch-snapshots', 'thanos-metrics'])

    // outcomes: kubeconfig contexts, cluster Secrets for the three edges, the root app, the pushed repo
    const kc = readFileSync(path.join(dir, 'kubeconfig'), 'utf8')
    for (const c of CLUSTERS) expect(kc).toContain(`name: ${c}-context`)
    const clusterSecrets = kubes[0]!.listObjects('secrets', 'argocd').filter((s) => (s as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster')
    expect(clusterSecrets).toHaveLength(3)
    expect(kubes[0]!.getObject('applications.argoproj.io', 'argocd', 'root-app')).toBeTruthy()
    expect(execFileSync('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'], {encoding: 'utf8'})).toContain('argocd/root-app.yaml')
  }, 240_000)
})
