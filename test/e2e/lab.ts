/**
 * The end-to-end lab every e2e file starts once: four loopback sshd nodes in the node sandbox (plus
 * `extraClusters` more machines and API servers for day-2 tests), a Kubernetes API test server per
 * cluster, s3rver, a bare Git remote, real Prometheus behind the Thanos Query fake, the OpenSearch
 * fake and argocd-server's API. The lab plays the controllers on a timer: rollouts, and Argo CD's application
 * controller — each Application at the revision it fetched (below), OutOfSync/Progressing until `healthy`, then the
 * root app's children from the pushed repo and every Application Synced/Healthy at its revision.
 */
import {spawn, execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseAllDocuments, stringify} from 'yaml'
import {Client} from 'minio'
import {SANDBOX_CONNECT_TIMEOUT_S, startSandbox, type Sandbox} from '../support/sshd.js'
import {startKubeServers, stopKubeServers, type KubeServer} from '../support/kube/index.js'
import {ACCESS_KEY, SECRET_KEY, startS3rver, type S3Peer} from '../s3/harness.js'
import {writeManifest} from '../argocd/harness.js'
import {ArgoCdControllers, fetchRevisions} from '../support/kube/argocd-controllers.js'
import type {Obj} from '../support/kube/store.js'
import {BLOCK, OS_PASSWORD, OS_USER, endpointsYaml, startPlatform, type Platform} from '../validate/harness.js'
import {deployPlatform, startArgocdApi, type ArgocdApi, type Deployed} from '../validate/deployed.js'
import {sharePlatformCa} from '../support/platform-tls.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {BOOTSTRAP_PHASES} from '../../src/lib/flows/bootstrap.js'
import {exampleInventory} from '../support/inventory.js'

export const BIN = path.resolve('bin/run.js')
export const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
/** bootstrap's phases in the product's order (test/bootstrap/dry-run.test.ts states that order) */
export const PHASES: readonly string[] = BOOTSTRAP_PHASES

export interface RunOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface Lab {
  sb: Sandbox
  kubes: KubeServer[]
  s3: S3Peer
  platform: Platform
  argocdApi: ArgocdApi
  dir: string
  remote: string
  /** Argo CD reports Applications Synced/Healthy only once this is true */
  healthy: boolean
  /** called when Argo CD moves an Application that had a revision to a newer commit (after a refresh) */
  onNewRevision?: (app: string, from: string, to: string) => void
  env(extra?: Record<string, string>): NodeJS.ProcessEnv
  /** `obsctl bootstrap --all --yes …` as a child process */
  /** `bootstrap --all --yes` (`yes: false` leaves --yes out; the run has no terminal) */
  bootstrap(opts?: {json?: boolean; yes?: boolean; args?: string[]; env?: Record<string, string>}): Promise<RunOutcome>
  /** the journal's tasks */
  state(): Record<string, {status: string; endedAt?: string; runId?: string}>
  git(...args: string[]): string
  /** Argo CD syncing the root app at REVISION (default: the branch head) */
  playRootApp(revision?: string): void
  playKubelets(): void
  /** what Argo CD deploys for the four clusters, and a first Thanos block in the bucket */
  deploy(): Promise<void>
  minio(): Client
  stop(): Promise<void>
}

function adminConf(k: KubeServer): string {
  // what kubeadm writes: every cluster calls itself kubernetes / kubernetes-admin
  return stringify(k.kubeconfig({clusterName: 'kubernetes', userEntryName: 'kubernetes-admin', contextName: 'kubernetes-admin@kubernetes'}))
}

export async function startLab(o: {extraClusters?: string[]; firstIp: number}): Promise<Lab> {
  const all = [...CLUSTERS, ...(o.extraClusters ?? [])]
  const kubes = await startKubeServers(all)
  const [sb, s3, platform] = await Promise.all([
    startSandbox(
      kubes.map((k) => ({nproc: 4, files: {'/etc/kubernetes/admin.conf': adminConf(k)}})),
      {firstIp: o.firstIp},
    ),
    startS3rver(),
    startPlatform(all),
  ])
  // Argo CD and OpenSearch get credentials: their fakes serve https from the platform's CA, which this lab's
  // inventory folder shares (bootstrap's secrets phase finds it there and issues from it)
  const argocdApi = await startArgocdApi(kubes, all, platform.tls)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-e2e-'))
  sharePlatformCa(platform.dir, dir)
  const remote = path.join(dir, 'remote.git')
  execFileSync('git', ['init', '--bare', '-q', '-b', 'main', remote])
  const manifest = writeManifest(dir, 'non-ha')
  let deployed: Deployed | undefined

  const inventory = () => {
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
  connectTimeoutSeconds: ${SANDBOX_CONNECT_TIMEOUT_S}
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
  // where obsctl reaches the platform's services: the validate harness's peers
  const endpoints = {
    prometheus: platform.metrics.replicas[0]!.url,
    'thanos-query': platform.thanos.url,
    'thanos-compactor': platform.thanos.url,
    opensearch: platform.opensearch.url,
    argocd: argocdApi.fake.url,
  }
  writeFileSync(path.join(dir, 'obsctl.yaml'), exampleInventory(endpointsYaml(endpoints), inventory()))

  const lab: Lab = {
    sb,
    kubes,
    s3,
    platform,
    argocdApi,
    dir,
    remote,
    healthy: false,
    env: (extra = {}) => ({
      ...process.env,
      CI: 'true',
      KUBECONFIG: path.join(dir, 'kubeconfig'),
      OBSCTL_S3_ACCESS_KEY: ACCESS_KEY,
      OBSCTL_S3_SECRET_KEY: SECRET_KEY,
      OBSCTL_OPENSEARCH_ADMIN_PASSWORD: OS_PASSWORD,
      OBSCTL_OPENSEARCH_USER: OS_USER,
      OBSCTL_OPENSEARCH_PASSWORD: OS_PASSWORD,
      OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: 'e2e-Fluent-pw-2',
      OBSCTL_GRAFANA_ADMIN_PASSWORD: 'e2e-Grafana-pw-3',
      GIT_AUTHOR_NAME: 'obsctl e2e',
      GIT_AUTHOR_EMAIL: 'e2e@obsctl.test',
      GIT_COMMITTER_NAME: 'obsctl e2e',
      GIT_COMMITTER_EMAIL: 'e2e@obsctl.test',
      // the lab's controllers act every 100 ms: obsctl looks again as often instead of after its own 0.5–5 s
      // (Argo CD at the pushed commit 5 s, the Applications 3 s, validate 2 s); what it waits for and its
      // deadlines are unchanged (src/lib/poll.ts, docs/testing.md)
      OBSCTL_TEST_POLL_MS: '100',
      ...extra,
    }),
    bootstrap(opts = {}) {
      const args = [
        'bootstrap',
        '--all',
        ...(opts.yes === false ? [] : ['--yes']),
        ...(opts.json ? ['--json'] : []),
        '--timeout',
        '60',
        '--argocd-manifest',
        manifest,
        ...(opts.args ?? []),
      ]
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], {cwd: dir, env: lab.env(opts.env)})
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        // 'close': the whole output is read (at 'exit' the child's stdout may still hold some)
        child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
      })
    },
    state() {
      const file = path.join(dir, '.obsctl', 'state.json')
      return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).tasks : {}
    },
    git: (...args) => execFileSync('git', ['--git-dir', remote, ...args], {encoding: 'utf8'}),
    playRootApp(revision = 'main') {
      // Argo CD syncing the root app: its children are the objects in argocd/applications of the pushed repo
      // (the ApplicationSets and the central cluster's in-cluster Secret); the ApplicationSet controller
      // (argocd.reconcile() in playControllers) generates the Applications from them and the cluster Secrets
      for (const file of lab
        .git('ls-tree', '-r', '--name-only', revision, 'argocd/applications')
        .split('\n')
        .filter((f) => f.endsWith('.yaml'))) {
        for (const doc of parseAllDocuments(lab.git('show', `${revision}:${file}`))) {
          const o = doc.toJS() as Obj
          if (o?.kind === 'ApplicationSet') kubes[0]!.seed(o)
          else if (o?.kind === 'Secret' && !kubes[0]!.getObject('secrets', o.metadata.namespace, o.metadata.name)) kubes[0]!.seed(o)
        }
      }
    },
    playKubelets() {
      // the kubelets: every cluster's node registers Ready (kubeadm ran only in the node sandbox)
      for (const [i, k] of kubes.entries()) if (k.listObjects('nodes').length === 0) k.addReadyNode(sb.nodes[i]!.hostname)
    },
    async deploy() {
      deployed = await deployPlatform(platform, kubes.slice(0, 4), CLUSTERS, {inv: loadInventory(path.join(dir, 'obsctl.yaml')), argocd: argocdApi})
      await lab
        .minio()
        .putObject('thanos-metrics', `${BLOCK}/meta.json`, Buffer.from(JSON.stringify({ulid: BLOCK, version: 1, thanos: {labels: {cluster: 'cluster-01'}}})))
    },
    minio: () =>
      new Client({endPoint: '127.0.0.1', port: s3.port, useSSL: false, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'us-east-1', pathStyle: true}),
    async stop() {
      clearInterval(controller)
      await Promise.all([sb.stop(), s3.close(), stopKubeServers(kubes), platform.close(), deployed?.close() ?? argocdApi.fake.close()])
      rmSync(dir, {recursive: true, force: true})
    },
  }

  /**
   * the controllers: workloads roll out; Argo CD's application controller keeps each Application at the revision it
   * fetched (fetchRevisions: a new one at the branch head, an existing one only after a refresh), OutOfSync/Progressing
   * until `healthy`; then the root app's children from the root app's revision, and every Application Synced/Healthy.
   */
  let rootAt = ''
  const playControllers = () => {
    for (const k of kubes) {
      for (const kind of ['deployments', 'statefulsets', 'daemonsets']) {
        let objs: {metadata: {namespace?: string; name: string; generation?: number}; status?: {observedGeneration?: number}}[] = []
        try {
          objs = k.listObjects(kind) as typeof objs
        } catch {
          continue
        }
        for (const x of objs)
          if ((x.status?.observedGeneration ?? 0) < (x.metadata.generation ?? 1)) k.markRolledOut(kind, x.metadata.namespace!, x.metadata.name)
      }
    }
    const central = kubes[0]!
    if (lab.healthy) {
      // the ApplicationSet controller (it watches the cluster Secrets: a registered edge gets its Applications)
      // and the application controller's deletion of Applications with the resources finalizer
      argocd.reconcile()
    }
    let apps = 0
    try {
      apps = central.listObjects('applications.argoproj.io', 'argocd').length
    } catch {} // the CRD is not installed yet
    if (apps === 0) return
    let branch: string
    try {
      branch = lab.git('rev-parse', '--verify', '-q', 'main').trim()
    } catch {
      return // nothing pushed: Argo CD has nothing to compare against
    }
    const moves = fetchRevisions(central, branch, lab.healthy ? {sync: 'Synced', health: 'Healthy'} : {sync: 'OutOfSync', health: 'Progressing'})
    for (const m of moves) if (m.from !== undefined) lab.onNewRevision?.(m.app, m.from, m.to)
    const root = central.getObject('applications.argoproj.io', 'argocd', 'root-app') as {status?: {sync?: {revision?: string}}} | undefined
    const rootRevision = root?.status?.sync?.revision
    if (lab.healthy && rootRevision && rootRevision !== rootAt) {
      // the root app syncs what it fetched: the ApplicationSets and the in-cluster Secret at that commit
      lab.playRootApp(rootRevision)
      rootAt = rootRevision
    }
  }
  const argocd = new ArgoCdControllers(kubes[0]!, kubes.slice(1))
  const controller = setInterval(playControllers, 100)
  return lab
}

/** `name@resourceVersion` of every Secret in every cluster (namespace/name per cluster). */
/**
 * Every service-account token Secret has its token: the token controller (kube-controller-manager's, played
 * by the API test server) fills `data.token` shortly after the Secret is created, which bumps its
 * resourceVersion. A snapshot of versions taken before that would count the controller's write as obsctl's.
 */
export function tokensFilled(kubes: KubeServer[]): boolean {
  return kubes.every((k) =>
    (k.listObjects('secrets') as {type?: string; data?: Record<string, string>}[]).every(
      (s) => s.type !== 'kubernetes.io/service-account-token' || Boolean(s.data?.token),
    ),
  )
}

export function secretVersions(kubes: KubeServer[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [i, k] of kubes.entries()) {
    for (const s of k.listObjects('secrets') as {metadata: {namespace: string; name: string; resourceVersion: string}}[]) {
      out[`${CLUSTERS[i] ?? i}/${s.metadata.namespace}/${s.metadata.name}`] = s.metadata.resourceVersion
    }
  }
  return out
}
