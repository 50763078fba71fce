/**
 * Renders templates/scripts/install-k8s.sh for one node from the inventory. `{{NAME}}` placeholders
 * become single-quoted shell words; `{{KUBEADM_CONFIG}}` is raw YAML inside a quoted heredoc.
 * Also renders the kubeadm join configuration (the token travels in a 0600 file, never in argv).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {yaml} from '../lazy-deps.js'
import {ciliumValuesYaml} from '../config/cilium.js'
import {apiServerHost, apiServerPort, clusterKubernetes, controlPlaneNodes, firstControlPlane, nodeName} from '../config/model.js'
import {urlHost} from '../config/validators.js'
import type {Cluster, ClusterNode, Platform} from '../config/schema.js'
import {contentMemo} from '../derived-cache.js'
import {PACKAGE_ROOT} from '../package-root.js'
import {shQuote} from '../shell-quote.js'
import {APT_FUNCTIONS} from './apt.js'
import {NODE_LOCK_FUNCTIONS} from './lock.js'

/** cilium-cli release used to install Cilium on the first control plane (it embeds the Helm chart). */
export const CILIUM_CLI_VERSION = 'v0.18.9'
export const PKGS_K8S_IO = 'https://pkgs.k8s.io'

export type InstallMode = 'init' | 'join' | 'join-control-plane'

const TEMPLATE = path.join(PACKAGE_ROOT, 'templates', 'scripts', 'install-k8s.sh')
/** read once per process: plan and bootstrap render the script for every node's fingerprint (1,000+ reads on a large fleet) */
let templateText: string | undefined

/** install-k8s.sh before its placeholders are filled */
export function installScriptTemplate(): string {
  return (templateText ??= readFileSync(TEMPLATE, 'utf8'))
}

export function installMode(c: Cluster, n: ClusterNode): InstallMode {
  if (firstControlPlane(c) === n) return 'init'
  return n.roles.includes('control-plane') ? 'join-control-plane' : 'join'
}

export function k8sMinor(p: Platform, c: Cluster): string {
  const [maj, min] = clusterKubernetes(p, c).split('.')
  return `${maj}.${min}`
}

/** kubeadm config API: v1beta4 from Kubernetes 1.31, else v1beta3. */
export function kubeadmApi(p: Platform, c: Cluster): string {
  return Number(k8sMinor(p, c).split('.')[1]) >= 31 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3'
}

/** The package repository for the cluster's minor: pkgs.k8s.io (or ssh.aptMirror, same layout). */
export function packageBase(p: Platform, c: Cluster): string {
  const base = (p.ssh.aptMirror ?? PKGS_K8S_IO).replace(/\/+$/, '')
  return `${base}/core:/stable:/v${k8sMinor(p, c)}`
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** kubeadm InitConfiguration + ClusterConfiguration for the first control plane. */
export function kubeadmInitConfig(p: Platform, c: Cluster): string {
  const n = firstControlPlane(c)
  const apiVersion = kubeadmApi(p, c)
  const host = apiServerHost(c)
  const sans = [...new Set([host, ...c.apiServerSans, ...controlPlaneNodes(c).map((x) => x.host)])]
  const init: Record<string, unknown> = {
    apiVersion,
    kind: 'InitConfiguration',
    nodeRegistration: {name: nodeName(n), criSocket: 'unix:///run/containerd/containerd.sock'},
    // Cilium replaces kube-proxy (kubeProxyReplacement=true)
    skipPhases: ['addon/kube-proxy'],
  }
  if (IPV4.test(n.host)) init.localAPIEndpoint = {advertiseAddress: n.host, bindPort: apiServerPort(c)}
  const cluster = {
    apiVersion,
    kind: 'ClusterConfiguration',
    clusterName: c.name,
    kubernetesVersion: '@KUBERNETES_VERSION@',
    controlPlaneEndpoint: `${urlHost(host)}:${apiServerPort(c)}`,
    networking: {podSubnet: c.podCidr, serviceSubnet: c.serviceCidr},
    apiServer: {certSANs: sans},
  }
  // kept per distinct configuration between runs, as the Cilium values (../config/cilium.ts)
  return initYaml(JSON.stringify([init, cluster]), () => `${yaml().stringify(init).trimEnd()}\n---\n${yaml().stringify(cluster).trimEnd()}`)
}
const initYaml = contentMemo('kubeadm-init-yaml')

export interface JoinInfo {
  endpoint: string
  token: string
  caCertHash: string
  /** for control-plane joins: from `kubeadm init phase upload-certs --upload-certs` */
  certificateKey?: string
}

/** Parse `kubeadm token create --print-join-command` output. */
export function parseJoinCommand(out: string): JoinInfo {
  const line = out.split('\n').find((l) => l.trim().startsWith('kubeadm join')) ?? ''
  const endpoint = /kubeadm join\s+(\S+)/.exec(line)?.[1]
  const token = /--token\s+(\S+)/.exec(line)?.[1]
  const caCertHash = /--discovery-token-ca-cert-hash\s+(\S+)/.exec(line)?.[1]
  if (!endpoint || !token || !caCertHash) throw new Error('unexpected output of kubeadm token create --print-join-command')
  return {endpoint, token, caCertHash}
}

export function kubeadmJoinConfig(p: Platform, c: Cluster, n: ClusterNode, j: JoinInfo): string {
  const cfg: Record<string, unknown> = {
    apiVersion: kubeadmApi(p, c),
    kind: 'JoinConfiguration',
    discovery: {bootstrapToken: {apiServerEndpoint: j.endpoint, token: j.token, caCertHashes: [j.caCertHash]}},
    nodeRegistration: {name: nodeName(n), criSocket: 'unix:///run/containerd/containerd.sock'},
  }
  if (installMode(c, n) === 'join-control-plane') {
    cfg.controlPlane = {
      certificateKey: j.certificateKey,
      ...(IPV4.test(n.host) ? {localAPIEndpoint: {advertiseAddress: n.host, bindPort: apiServerPort(c)}} : {}),
    }
  }
  return yaml().stringify(cfg)
}

export interface RenderOptions {
  /** absolute path of the uploaded join configuration (join modes) */
  joinConfigPath?: string
}

export function renderInstallScript(p: Platform, c: Cluster, n: ClusterNode, o: RenderOptions = {}): string {
  const mode = installMode(c, n)
  const untaint = c.nodes.length === 1 || (n.roles.includes('control-plane') && n.roles.includes('worker'))
  const values: Record<string, string> = {
    NODE_NAME: nodeName(n),
    MODE: mode,
    K8S_MINOR: k8sMinor(p, c),
    K8S_VERSION: clusterKubernetes(p, c),
    PKG_BASE: packageBase(p, c),
    CILIUM_VERSION: p.versions.charts.cilium,
    CILIUM_CLI_VERSION,
    UNTAINT: untaint ? '1' : '0',
    PROXY_HTTP: p.ssh.proxy?.http ?? '',
    PROXY_HTTPS: p.ssh.proxy?.https ?? p.ssh.proxy?.http ?? '',
    PROXY_NO: p.ssh.proxy?.noProxy ?? '',
    JOIN_CONFIG: mode === 'init' ? '' : (o.joinConfigPath ?? ''),
  }
  const raw: Record<string, string> = {
    NODE_LABEL: `${c.name}/${nodeName(n)} (${n.host}, ${mode})`.replace(/[\r\n]/g, ' '),
    KUBEADM_CONFIG: mode === 'init' ? kubeadmInitConfig(p, c) : '# (join modes use the uploaded JoinConfiguration)',
    // only the first control plane installs Cilium; the same values as the repository's cilium Application
    CILIUM_VALUES: mode === 'init' ? ciliumValuesYaml(c).trimEnd() : '# (only the first control plane installs Cilium)',
    APT_FUNCTIONS,
    NODE_LOCK_FUNCTIONS,
  }
  for (const k of ['KUBEADM_CONFIG', 'CILIUM_VALUES']) {
    if (raw[k]!.split('\n').includes('EOF')) throw new Error(`install-k8s.sh: ${k} may not contain a line "EOF"`)
  }
  return installScriptTemplate().replace(/\{\{([A-Z0-9_]+)\}\}/g, (m, name: string) => {
    if (name in raw) return raw[name]!
    if (name in values) return shQuote(values[name]!)
    throw new Error(`install-k8s.sh: unknown placeholder ${m}`)
  })
}
