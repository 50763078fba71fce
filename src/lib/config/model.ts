/** Names and facts derived from the inventory, in one place (DESIGN.md §1 naming rules). */
import path from 'node:path'
import {inputError, type ObsctlError} from '../errors.js'
import type {Cluster, ClusterNode, Platform} from './schema.js'
import {sshLogin} from '../ssh-login.js'
import {hostOfUrl, parseIp} from './validators.js'

/** The Kubernetes version a cluster runs (and its new nodes get): its own while it differs, else versions.kubernetes. */
export function clusterKubernetes(p: Platform, c: Cluster): string {
  return c.kubernetes ?? p.versions.kubernetes
}

/** Edges of `after` whose Argo CD cluster Secret labels (role, metrics mode) differ from `before` (new edges not included: registration labels them). */
export function relabelledEdges(before: Platform, after: Platform): string[] {
  const was = new Map(before.clusters.map((c) => [c.name, `${c.role}/${metricsMode(c) ?? ''}`]))
  return edgeClusters(after)
    .filter((c) => was.has(c.name) && was.get(c.name) !== `${c.role}/${metricsMode(c) ?? ''}`)
    .map((c) => c.name)
}

export function centralCluster(p: Platform): Cluster {
  const c = p.clusters.find((x) => x.role === 'central')
  if (!c) throw new Error('inventory has no central cluster (config validate reports this)')
  return c
}

export function edgeClusters(p: Platform): Cluster[] {
  return p.clusters.filter((c) => c.role === 'edge')
}

/** name → index in the clusters list, per list: phases look clusters up by name per target, per fingerprint, per describe (O(n²) over a 1,000-cluster fleet) */
const clusterIndex = new WeakMap<Cluster[], Map<string, number>>()

export function findCluster(p: Platform, name: string): Cluster | undefined {
  const i = clusterIndex.get(p.clusters)?.get(name)
  // checked on every hit, rebuilt on a miss: the list may have been edited in place since (cluster add/remove)
  if (i !== undefined && p.clusters[i]?.name === name) return p.clusters[i]
  const index = new Map<string, number>()
  p.clusters.forEach((c, k) => {
    if (!index.has(c.name)) index.set(c.name, k)
  })
  clusterIndex.set(p.clusters, index)
  const j = index.get(name)
  return j === undefined ? undefined : p.clusters[j]
}

/** `metrics` mode of an edge (default remote-scrape); undefined for central. */
/**
 * The clusters a command or run names (all when none); an unknown name is bad input, naming `flag` when the names
 * came from one (`--cluster nope: no such cluster in the inventory`).
 */
export function selectClusters(p: Platform, names?: string[], flag?: string): Cluster[] {
  if (!names || names.length === 0) return p.clusters
  return names.map((n) => {
    const c = findCluster(p, n)
    if (!c) throw unknownClusterError(p, n, flag)
    return c
  })
}

/** An unknown cluster name as bad input: the flag that gave it (if any) and the inventory's clusters. */
export function unknownClusterError(p: Platform, name: string, flag?: string): ObsctlError {
  // a name with a space, a newline or a quote is shown quoted, so the message says what was typed
  const shown = /^[\w.-]+$/.test(name) ? name : JSON.stringify(name)
  return inputError(
    flag ? `${flag} ${shown}: no such cluster in the inventory` : `no cluster named ${shown} in the inventory`,
    [`clusters: ${p.clusters.map((x) => x.name).join(', ')}`],
    'UNKNOWN_CLUSTER',
  )
}

export function metricsMode(c: Cluster): 'remote-scrape' | 'agent' | undefined {
  return c.role === 'edge' ? (c.metrics ?? 'remote-scrape') : undefined
}

/** Thanos Receive is rendered when any edge uses a Prometheus Agent. */
export function needsReceive(p: Platform): boolean {
  return edgeClusters(p).some((c) => metricsMode(c) === 'agent')
}

/** Edges whose metrics the central cluster scrapes through their API servers (`metrics: remote-scrape`). */
export function scrapeEdges(p: Platform): Cluster[] {
  return edgeClusters(p).filter((c) => metricsMode(c) === 'remote-scrape')
}

/**
 * The Prometheus (monitoring.coreos.com/v1 resource name) on the central cluster that scrapes one
 * remote-scrape edge, with external label cluster=<edge> and its own Thanos sidecar. A Thanos sidecar
 * overwrites every series' labels with its Prometheus's external labels (thanos-io/thanos
 * pkg/store/prometheus.go, labelpb.ExtendSortedLabels), so the central Prometheus (cluster=<central>)
 * cannot carry an edge's series.
 */
export const edgePrometheusName = (edge: Cluster | string) => `edge-${typeof edge === 'string' ? edge : edge.name}`

/** The headless Service over every edge Prometheus's sidecar (Thanos Query discovers them through it). */
export const EDGE_SIDECAR_SERVICE = 'prometheus-edges-thanos-discovery'

/** `<service>.k8s-cluster-<id>.<domain>`, e.g. grafana.k8s-cluster-01.miribit.lab */
export function serviceHost(p: Platform, c: Cluster, service: string): string {
  return `${service}.k8s-cluster-${c.id}.${p.domain}`
}

/** URL of a service: the inventory's endpoints override, else https://<service host>. */
export function serviceUrl(p: Platform, c: Cluster, service: string): string {
  return (p.endpoints as Record<string, string | undefined>)[service] ?? `https://${serviceHost(p, c, service)}`
}

/**
 * The services whose host is the host of an Ingress in the GitOps repository (templates/gitops: `it.host(...)`, through
 * ingressHost); thanos-receive's Ingress is rendered only while an edge uses `metrics: agent` (needsReceive).
 */
export const INGRESS_SERVICES = ['argocd', 'grafana', 'opensearch', 'opensearch-dashboards', 'thanos-query', 'thanos-receive'] as const

/**
 * The host of a service's Ingress: its URL's host (endpoints.NAME, else <service>.k8s-cluster-<id>.<domain>) when that is
 * a DNS name. An endpoint at an IP address (obsctl reaches the service there: a port-forward, a NodePort, a load balancer
 * of its own) leaves the default name on the Ingress: Kubernetes refuses an IP address as an Ingress host
 * (pkg/apis/networking/validation validateIngressRules: "must be a DNS name, not an IP address").
 */
export function ingressHost(p: Platform, c: Cluster, service: string): string {
  const h = hostOfUrl(serviceUrl(p, c, service))
  return parseIp(h) ? serviceHost(p, c, service) : h
}

/** The kubeconfig context of a cluster: the inventory's clusters[].context, else `<name>-context`. */
export const kubeContextName = (c: Cluster | string) => (typeof c === 'string' ? `${c}-context` : (c.context ?? `${c.name}-context`))
export const kubeUserName = (c: Cluster | string) => `${typeof c === 'string' ? c : c.name}-admin`
export const kubeClusterName = (c: Cluster | string) => (typeof c === 'string' ? c : c.name)

/** Overlay directory name: `<cluster>-<role>`, e.g. cluster-01-central. */
export const overlayName = (c: Cluster) => `${c.name}-${c.role}`

export function controlPlaneNodes(c: Cluster): ClusterNode[] {
  return c.nodes.filter((n) => n.roles.includes('control-plane'))
}

/** The node kubeadm init runs on and admin.conf is read from. */
export function firstControlPlane(c: Cluster): ClusterNode {
  const n = controlPlaneNodes(c)[0]
  if (!n) throw new Error(`cluster ${c.name} has no control-plane node`)
  return n
}

export const nodeName = (n: ClusterNode) => n.name ?? n.host

export function sshTarget(p: Platform, n: ClusterNode): {host: string; port: number; user: string} {
  return {host: n.host, port: n.port ?? p.ssh.port, user: n.user ?? p.ssh.user}
}

/** The node's SSH login as every message names it (`bsh@192.168.101.194`; ../ssh-login.ts sshLogin). */
export function nodeLogin(p: Platform, n: ClusterNode): string {
  return sshLogin(sshTarget(p, n))
}

/** Argo CD HA needs three nodes for its pod anti-affinity. */
export function argocdHA(p: Platform): boolean {
  return centralCluster(p).nodes.length >= 3
}

/**
 * API server host of a cluster, without scheme, port or an IPv6 address's brackets (fd00::1): the form a host takes
 * where it stands alone — Cilium's k8sServiceHost, which client-go joins with the port through Go's net.JoinHostPort
 * (adding the brackets itself), and kubeadm's certSANs. Next to a port it needs them again (urlHost).
 */
export function apiServerHost(c: Cluster): string {
  return hostOfUrl(c.apiServer)
}

/** API server port of a cluster: its URL's (the inventory check asks for one; kubeadm's bindPort, which the install sets to it on every control plane). */
export function apiServerPort(c: Cluster): number {
  const u = new URL(c.apiServer)
  // the inventory check asks for the port (apiServerUrlError): an empty one is https's 443 written out, which the URL drops
  return u.port ? Number(u.port) : 443
}

/** Where obsctl keeps its state beside the inventory. */
export function obsctlDir(inventoryDir: string): string {
  return path.join(inventoryDir, '.obsctl')
}

/** The GitOps working copy (inventory's git.dir relative to the inventory). */
export function gitDir(p: Platform, inventoryDir: string): string {
  return path.resolve(inventoryDir, p.git.dir)
}

/** Namespaces, Secret names and the Grafana OpenSearch user are platform facts: their home is lib/platform/catalogue.ts. */
export {NAMESPACES, GRAFANA_OPENSEARCH_USER, SECRET_NAMES} from '../platform/catalogue.js'
