/**
 * `obsctl upgrade kubernetes` on RHEL-family nodes: the dnf path of the preflight (the rpm repository's
 * key), the repository switch (/etc/yum.repos.d/kubernetes.repo with its exclude= line), the version
 * lookup (`dnf list --showduplicates`) and the installs (`dnf install --disableexcludes=kubernetes
 * NAME-VERSION*`), through the built CLI against real sshd nodes without apt (../support/sshd.ts
 * packageManager 'dnf': apt and dpkg are hidden from the node) and a Kubernetes API test server played by
 * ./kube-play.ts.
 *
 * Shapes kept by the dnf shim (../support/node-sandbox/shim.sh), checked against pkgs.k8s.io's rpm
 * repositories and the Kubernetes documentation's "Upgrading kubeadm clusters" (RHEL tab): the per-minor
 * baseurl https://pkgs.k8s.io/core:/stable:/vMINOR/rpm/, package releases VERSION-150500.1.1, the
 * repository's `exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni` lifted by
 * `--disableexcludes=kubernetes`, and `dnf list --showduplicates` printing NAME.ARCH VERSION-RELEASE REPO.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {loadInventory} from '../../src/lib/config/load.js'
import {startKubeServer, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {sandboxInventory, startSandbox, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {waitFor} from '../support/wait.js'
import {onNode} from './helpers.js'
import {nodeVersions, obsctl, seedInstalled, seedPod, startPlayer, type Player} from './kube-play.js'

const root = process.getuid?.() === 0
const built = existsSync('dist/commands/upgrade/kubernetes.js')

const RHEL = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n'
const MUTATING = /^(apt-get|dnf install|kubeadm upgrade (apply|node)|systemctl restart)/

describe.skipIf(!root || !built)('obsctl upgrade kubernetes on RHEL-family nodes (dnf)', () => {
  let sb: Sandbox
  let kube: KubeServer
  let player: Player
  let dir: string
  let file: string
  let kubeconfig: string
  const n = (i: number): SandboxNode => sb.nodes[i]!
  const mutating = (i: number) =>
    n(i)
      .calls()
      .map((c) => c.line)
      .filter((l) => MUTATING.test(l))

  beforeAll(async () => {
    ;[sb, kube] = await Promise.all([
      startSandbox(
        [
          {osRelease: RHEL, packageManager: 'dnf'},
          {osRelease: RHEL, packageManager: 'dnf'},
        ],
        {firstIp: 176},
      ),
      startKubeServer({name: 'cluster-01'}),
    ])
    seedInstalled(sb, n(0), n(0).ip, '1.34.1', 'control-plane', undefined, 'dnf')
    seedInstalled(sb, n(1), n(0).ip, '1.34.1', 'worker', undefined, 'dnf')
    kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'kube-system'}})
    seedPod(kube, `etcd-${n(0).hostname}`, n(0).hostname, {component: 'etcd', tier: 'control-plane'}, 'kube-system', {
      annotations: {'kubernetes.io/config.mirror': 'x'},
    })
    player = startPlayer(sb, [{kube, cpIp: n(0).ip, nodes: [n(0), n(1)]}])
    dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-upgrade-dnf-'))
    file = path.join(dir, 'obsctl.yaml')
    writeFileSync(file, sandboxInventory(sb, [[0, 1]]))
    kubeconfig = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), [kube])
    await waitFor(() => kube.listObjects('nodes').length === 2, 60_000, 'the two Nodes')
    for (const x of sb.nodes) x.clearCalls()
  }, 120_000)

  afterAll(async () => {
    player?.stop()
    await Promise.all([sb?.stop(), kube?.stop()])
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  test('the node has no apt: dnf is its package manager', () => {
    for (const x of sb.nodes) {
      expect(onNode(x, 'command -v apt-get apt-mark dpkg-query || echo none').trim(), x.hostname).toBe('none')
      expect(onNode(x, 'command -v dnf').trim()).toBe(path.join(x.dir, 'bin', 'dnf'))
      expect(x.file('/etc/os-release')).toContain('ID="rocky"')
    }
  })

  test('upgrade 1.34 → 1.35: the rpm repository of the minor, dnf list for the newest patch, dnf install with --disableexcludes; versions, order, Ready, uncordoned', async () => {
    for (const x of sb.nodes) x.clearCalls()
    const r = await obsctl(['upgrade', 'kubernetes', '1.35', '--yes', '--json', '-c', file, '--kubeconfig', kubeconfig])
    expect(r.code, r.stderr + r.stdout.slice(0, 3000)).toBe(0)
    const out = JSON.parse(r.stdout) as {ok: boolean; nodes: {node: string; to: string}[]}
    expect(out.ok).toBe(true)
    expect(out.nodes.map((x) => [x.node, x.to])).toEqual([
      [n(0).hostname, 'v1.35.2'],
      [n(1).hostname, 'v1.35.2'],
    ])
    // preflight fetched the rpm repository's key of the target minor from each node
    for (const i of [0, 1])
      expect(
        n(i)
          .calls()
          .some((c) => c.cmd === 'curl' && c.args.includes('https://pkgs.k8s.io/core:/stable:/v1.35/rpm/repodata/repomd.xml.key')),
        n(i).hostname,
      ).toBe(true)
    // the newest patch from dnf's list (the first control plane), then the packages pinned to it
    expect(
      n(0)
        .calls()
        .filter((c) => c.line.startsWith('dnf list'))
        .map((c) => c.line),
    ).toEqual(['dnf list --showduplicates -q --disableexcludes=kubernetes kubeadm'])
    expect(mutating(0)).toEqual([
      'dnf install -y -q --disableexcludes=kubernetes kubeadm-1.35.2-150500.1.1*',
      'kubeadm upgrade apply v1.35.2 --yes',
      'dnf install -y -q --disableexcludes=kubernetes kubelet-1.35.2-150500.1.1* kubectl-1.35.2-150500.1.1*',
      'systemctl restart kubelet',
    ])
    expect(mutating(1)).toEqual([
      'dnf install -y -q --disableexcludes=kubernetes kubeadm-1.35.2* kubelet-1.35.2* kubectl-1.35.2*',
      'kubeadm upgrade node',
      'systemctl restart kubelet',
    ])
    for (const x of sb.nodes) {
      expect(nodeVersions(x), x.hostname).toEqual({kubeadm: '1.35.2', kubelet: '1.35.2', kubectl: '1.35.2', running: '1.35.2'})
      // the repository points at the new minor and still keeps the packages out of ordinary updates
      const repo = x.file('/etc/yum.repos.d/kubernetes.repo')!
      expect(repo).toContain('baseurl=https://pkgs.k8s.io/core:/stable:/v1.35/rpm/')
      expect(repo).toContain('exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni')
      expect(x.file('/etc/apt/sources.list.d/kubernetes.list')).toBeUndefined()
    }
    for (const node of kube.listObjects('nodes')) {
      expect(node.status.nodeInfo.kubeletVersion, node.metadata.name).toBe('v1.35.2')
      expect(node.spec.unschedulable, node.metadata.name).toBeFalsy()
    }
    expect(readFileSync(path.join(sb.clustersDir, n(0).ip, 'version'), 'utf8').trim()).toBe('1.35.2')
    expect(loadInventory(file).platform.versions.kubernetes).toBe('1.35')
  }, 600_000)
})
