/**
 * Cilium on every cluster: the one set of Helm values used both by install-k8s.sh (`cilium install
 * --values`, on the first control plane) and by the GitOps repository's cilium Application, so Argo
 * CD adopts the release the nodes phase installed without changing it. Also the names of the LB IP
 * pool and L2 announcement policy, which only the GitOps repository creates.
 */
import {yaml} from '../lazy-deps.js'
import {contentMemo} from '../derived-cache.js'
import {apiServerHost, apiServerPort} from './model.js'
import type {Cluster} from './schema.js'

/**
 * The CiliumLoadBalancerIPPool and CiliumL2AnnouncementPolicy the repository renders. The name is the
 * one install-k8s.sh used when it applied them itself (before the repository owned them), so on a
 * cluster installed that way Argo CD adopts the existing objects instead of adding an overlapping pool
 * (Cilium marks the newer of two overlapping pools Conflicting).
 */
export const CILIUM_LB_POOL = 'obsctl'
export const CILIUM_L2_POLICY = 'obsctl'

/**
 * Client-side rate limit of the Cilium agent. Every announced LoadBalancer IP is a Lease the agent
 * renews, so L2 announcements need more than the chart's defaults (qps 10, burst 20 in cilium 1.18's
 * values.yaml) — the Cilium L2 announcements guide says to raise them.
 */
export const CILIUM_CLIENT_RATE_LIMIT = {qps: 50, burst: 100} as const

function endpoint(c: Cluster): {host: string; port: number} {
  return {host: apiServerHost(c), port: apiServerPort(c)}
}

/** Cilium chart values for a cluster (chart 1.18: keys checked against its values.yaml). */
export function ciliumValues(c: Cluster): Record<string, unknown> {
  const api = endpoint(c)
  return {
    kubeProxyReplacement: true,
    k8sServiceHost: api.host,
    k8sServicePort: api.port,
    ipam: {mode: 'kubernetes'},
    operator: {replicas: 1},
    l2announcements: {enabled: true},
    k8sClientRateLimit: {...CILIUM_CLIENT_RATE_LIMIT},
    externalIPs: {enabled: true},
    ingressController: {enabled: true, default: true, loadbalancerMode: 'shared'},
    // `method: helm` (the chart default) generates a new CA and new certificates on every render: Argo CD
    // renders the chart on every refresh, so the hubble Secrets would differ forever (OutOfSync), and
    // ignoring that difference would leave the first certificates to expire unrenewed (365 days).
    // cronJob: the chart renders no certificate; a certgen Job (a post-install hook, which Argo CD runs as
    // PostSync) creates the Secrets and a CronJob renews them on the schedule.
    hubble: {tls: {auto: {enabled: true, method: 'cronJob', schedule: '0 0 1 */4 *'}}},
  }
}

/** The values as YAML (the repository's values.yaml and the file install-k8s.sh hands to `cilium install`). */
export function ciliumValuesYaml(c: Cluster): string {
  // rendered twice per cluster by plan (the repository's values, the first control plane's install script), and
  // yaml's stringify is the cost at fleet scale: kept per distinct values, between runs (an edit elsewhere in
  // the inventory leaves every cluster's text as it was)
  const values = ciliumValues(c)
  return valuesYaml(JSON.stringify(values), () => yaml().stringify(values))
}
const valuesYaml = contentMemo('cilium-values-yaml')
