/**
 * Day-2 lifecycle tests (upgrade kubernetes, node add|remove): sandbox nodes (real sshd, recording shims
 * that keep package versions and kubeadm state: ../support/node-sandbox/shim.sh) wired to one Kubernetes
 * API test server per cluster by a *kubelet player*: what a kubelet and the controllers would do after
 * the commands obsctl ran on the machines — a joined node whose kubelet runs registers a Ready Node
 * (kubeletVersion = the kubelet package it was last (re)started with), `kubeadm upgrade apply` moves the
 * API server's /version, and a ReplicaSet keeps its replicas on schedulable nodes (so a PodDisruptionBudget
 * lets a drain go on once the evicted pod runs elsewhere, as in a real cluster).
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {stringify} from 'yaml'
import type {KubeServer} from '../support/kube/index.js'
import {type Sandbox, type SandboxNode, writeShimWrapper} from '../support/sshd.js'
import {obsctl as runCli} from '../cli/helpers.js'

/** The CLI through the suite's one runner (test/cli/helpers.ts), with the exit code as these tests read it. */
export interface CliResult {
  code: number
  signal?: string
  stdout: string
  stderr: string
}

export async function obsctl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, {env: {...process.env, CI: 'true', ...env}})
  return {code: r.status ?? 1, ...(r.status === null ? {signal: 'SIGKILL'} : {}), stdout: r.stdout, stderr: r.stderr}
}

const stateOf = (n: SandboxNode) => path.join(n.dir, 'state')
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined)

/** What a node's shims say: installed package versions, the running kubelet, holds. */
export function nodeVersions(n: SandboxNode): {kubeadm?: string; kubelet?: string; kubectl?: string; running?: string} {
  const st = stateOf(n)
  return {
    kubeadm: read(path.join(st, 'pkgver', 'kubeadm')),
    kubelet: read(path.join(st, 'pkgver', 'kubelet')),
    kubectl: read(path.join(st, 'pkgver', 'kubectl')),
    running: read(path.join(st, 'kubelet-running')),
  }
}

/**
 * A node as `node install` leaves it at `version`: packages installed and held (apt; on dnf the
 * repository's exclude= line keeps them), the repository of its minor, kubelet.conf (and admin.conf on a control plane), in its cluster's registry; the cluster's
 * control plane at `version`. (Installing for real is the node suite's and the e2e's job.)
 */
export function seedInstalled(
  sb: Sandbox,
  n: SandboxNode,
  cpIp: string,
  version: string,
  role: 'control-plane' | 'worker',
  adminConf?: string,
  pm: 'apt' | 'dnf' = 'apt',
): void {
  const st = stateOf(n)
  const minor = version.split('.').slice(0, 2).join('.')
  mkdirSync(path.join(st, 'pkgver'), {recursive: true})
  mkdirSync(path.join(n.dir, 'pkgbin'), {recursive: true})
  for (const p of ['kubeadm', 'kubelet', 'kubectl']) {
    writeFileSync(path.join(st, 'pkgver', p), `${version}\n`)
    writeShimWrapper(path.join(n.dir, 'pkgbin', p), n, sb.clustersDir, p)
  }
  writeFileSync(path.join(st, 'pkgs'), 'kubeadm\nkubelet\nkubectl\ncontainerd\n')
  writeFileSync(path.join(st, 'kubelet-running'), `${version}\n`)
  writeFileSync(path.join(st, 'k8s-version'), version)
  if (pm === 'apt') {
    writeFileSync(path.join(st, 'held'), 'kubelet\nkubeadm\nkubectl\n')
    n.writeFile(
      '/etc/apt/sources.list.d/kubernetes.list',
      `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /\n`,
      0o644,
    )
  } else {
    // the repository install-k8s.sh writes on the RHEL family: the packages excluded from ordinary updates
    n.writeFile(
      '/etc/yum.repos.d/kubernetes.repo',
      `[kubernetes]\nname=Kubernetes\nbaseurl=https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/\nenabled=1\ngpgcheck=1\ngpgkey=https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/repodata/repomd.xml.key\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n`,
      0o644,
    )
  }
  n.writeFile('/etc/kubernetes/kubelet.conf', `# sandbox kubelet.conf of ${n.hostname}\n`)
  if (role === 'control-plane') n.writeFile('/etc/kubernetes/admin.conf', adminConf ?? `# sandbox admin.conf of ${n.hostname}\n`)
  const reg = path.join(sb.clustersDir, cpIp)
  mkdirSync(reg, {recursive: true})
  writeFileSync(path.join(reg, n.hostname), `${role}\n`)
  if (!existsSync(path.join(reg, 'version'))) writeFileSync(path.join(reg, 'version'), `${version}\n`)
}

/** what kubeadm writes into admin.conf: a kubeconfig of the cluster (here: its API test server) */
export function adminConfOf(k: KubeServer): string {
  return stringify(k.kubeconfig({clusterName: 'kubernetes', userEntryName: 'kubernetes-admin', contextName: 'kubernetes-admin@kubernetes'}))
}

export interface PlayedCluster {
  kube: KubeServer
  cpIp: string
  nodes: SandboxNode[]
}

const opts = (manager: string) => ({manager, dryRun: false, fieldValidation: 'Ignore', warnings: [] as string[]})

function nodeObject(name: string, version: string, index: number) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {name, labels: {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux'}},
    spec: {podCIDR: `10.244.${index}.0/24`},
  } as Record<string, unknown> & {status?: unknown; metadata: {name: string}}
}

function nodeStatus(version: string) {
  const now = new Date().toISOString()
  return {
    conditions: [
      {type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletReady', message: 'kubelet is posting ready status'},
    ],
    nodeInfo: {
      kubeletVersion: `v${version}`,
      containerRuntimeVersion: 'containerd://1.7.24',
      operatingSystem: 'linux',
      architecture: 'amd64',
      kernelVersion: '6.1.0',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  }
}

/** A Ready pod (the kubelet's status) on a node. */
export function seedPod(
  k: KubeServer,
  name: string,
  node: string,
  labels: Record<string, string>,
  namespace = 'default',
  extra: Record<string, unknown> = {},
): void {
  const [o] = k.seed({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace, labels, ...extra},
    spec: {nodeName: node, containers: [{name: 'main', image: 'registry.k8s.io/pause:3.10'}]},
  })
  k.objects.update(
    k.type('pods'),
    namespace,
    name,
    {...o, status: {phase: 'Running', conditions: [{type: 'Ready', status: 'True'}]}},
    opts('kubelet'),
    'status',
  )
}

export interface Player {
  stop(): void
  /** ReplicaSets the player keeps at their replica count: app label → replicas */
  replicas: Map<string, {cluster: KubeServer; replicas: number}>
}

/** The kubelets and controllers of the clusters (see the header), every 50 ms until stopped. */
export function startPlayer(sb: Sandbox, clusters: PlayedCluster[]): Player {
  const replicas = new Map<string, {cluster: KubeServer; replicas: number}>()
  let serial = 0
  const tick = () => {
    for (const c of clusters) {
      const reg = path.join(sb.clustersDir, c.cpIp)
      const v = read(path.join(reg, 'version'))
      if (v) c.kube.setVersion(`v${v}`)
      for (const [i, n] of c.nodes.entries()) {
        const running = read(path.join(stateOf(n), 'kubelet-running'))
        if (!running || !existsSync(path.join(reg, n.hostname))) continue
        let obj = c.kube.getObject('nodes', undefined, n.hostname)
        if (!obj) obj = c.kube.seed(nodeObject(n.hostname, running, i + 1))[0]!
        if (obj.status?.nodeInfo?.kubeletVersion !== `v${running}`)
          c.kube.objects.update(c.kube.type('nodes'), '', n.hostname, {...obj, status: nodeStatus(running)}, opts('kubelet'), 'status')
      }
    }
    // ReplicaSet controller: replace evicted pods on schedulable Ready nodes
    for (const [app, rs] of replicas) {
      const pods = rs.cluster.listObjects('pods', 'default').filter((p) => p.metadata.labels?.app === app)
      if (pods.length >= rs.replicas) continue
      const used = new Set(pods.map((p) => p.spec?.nodeName))
      const free = rs.cluster
        .listObjects('nodes')
        .filter(
          (n) => !n.spec?.unschedulable && (n.status?.conditions ?? []).some((x: {type: string; status: string}) => x.type === 'Ready' && x.status === 'True'),
        )
      const target = free.find((n) => !used.has(n.metadata.name)) ?? free[0]
      if (target) seedPod(rs.cluster, `${app}-${++serial}`, target.metadata.name, {app})
    }
  }
  const timer = setInterval(() => {
    try {
      tick()
    } catch {
      // a conflict with a write of obsctl: the next tick plays it again
    }
  }, 50)
  return {stop: () => clearInterval(timer), replicas}
}

/** Longhorn CRDs (longhorn.io/v1beta2 Volume and Replica, namespaced in longhorn-system) on a test server. */
export function seedLonghornCrds(k: KubeServer): void {
  const crd = (kind: string, plural: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${plural}.longhorn.io`},
    spec: {
      group: 'longhorn.io',
      scope: 'Namespaced',
      names: {kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`},
      versions: [{name: 'v1beta2', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
    },
  })
  k.seed(crd('Volume', 'volumes'), crd('Replica', 'replicas'), {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'longhorn-system'}})
}
