/**
 * Rules upstream enforces in code, which no schema in the upstream data can express (the OpenAPI says only
 * `type: string` for these fields), each with the source it follows:
 * - Ingress hosts (kubernetes pkg/apis/networking/validation/validation.go): validateIngressRules refuses a
 *   rule host that net.ParseIP reads ("must be a DNS name, not an IP address") and one that is not a DNS-1123
 *   subdomain (IsWildcardDNS1123Subdomain when it holds a '*'); validateIngressTLS holds every TLS host to the
 *   same subdomain rule. Checked on every rendered Ingress and on the Ingress the grafana chart renders from
 *   `grafana.ingress.hosts` (each a rule host) and `grafana.ingress.tls` (copied as the Ingress's spec.tls;
 *   grafana chart templates/ingress.yaml) in kube-prometheus-stack's values.
 * - Cilium's `k8sServiceHost`: the chart sets it as the agent's KUBERNETES_SERVICE_HOST
 *   (install/kubernetes/cilium/templates/cilium-agent/daemonset.yaml), and Cilium's client (pkg/k8s/client
 *   createConfig, no API server URL given) takes client-go's rest.InClusterConfig, whose URL is
 *   "https://" + net.JoinHostPort(host, port): Go adds the brackets of an IPv6 address itself, so the host
 *   must be bare (a bracketed one becomes https://[[fd00::1]]:6443, which no client parses).
 */
import {isIP} from 'node:net'
import type {Finding} from './finding.js'
import type {ValuesBlock} from './helm.js'
import {objectName, type ParsedObject} from './objects.js'

const INGRESS_SOURCE = 'kubernetes pkg/apis/networking/validation/validation.go'
const CILIUM_SOURCE = 'cilium chart templates/cilium-agent/daemonset.yaml (KUBERNETES_SERVICE_HOST) + client-go rest.InClusterConfig (net.JoinHostPort)'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** k8s.io/apimachinery IsDNS1123Subdomain: at most 253 characters, dot-separated lower-case labels. */
function subdomainProblem(host: string): string | undefined {
  if (host.length > 253) return `longer than 253 characters (a DNS-1123 subdomain)`
  if (!host.split('.').every((l) => DNS1123_LABEL.test(l)))
    return 'not a DNS-1123 subdomain (lower-case alphanumeric characters, - or ., starting and ending with an alphanumeric)'
  return undefined
}

/** IsWildcardDNS1123Subdomain: `*.` then a subdomain. */
function wildcardProblem(host: string): string | undefined {
  return host.startsWith('*.') && subdomainProblem(host.slice(2)) === undefined ? undefined : 'not a wildcard DNS-1123 subdomain (*. then a subdomain)'
}

/** Go's net.ParseIP reads dotted IPv4 and IPv6 text (never bracketed); IPv4 with leading zeros is refused since Go 1.17. */
const goParsesIp = (host: string) => isIP(host) !== 0

function describeHost(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : `${JSON.stringify(v)} (not a string)`
}

function ruleHostProblem(host: unknown): string | undefined {
  if (typeof host !== 'string') return `${describeHost(host)} is not a host name`
  if (host === '') return undefined
  if (goParsesIp(host)) return `${describeHost(host)} must be a DNS name, not an IP address`
  const p = host.includes('*') ? wildcardProblem(host) : subdomainProblem(host)
  return p && `${describeHost(host)} is ${p}`
}

function tlsHostProblem(host: unknown): string | undefined {
  if (typeof host !== 'string') return `${describeHost(host)} is not a host name`
  const p = host.includes('*') ? wildcardProblem(host) : subdomainProblem(host)
  return p && `${describeHost(host)} is ${p}`
}

type IngressSpec = {rules?: {host?: unknown}[]; tls?: {hosts?: unknown[]}[]}

function ingressFindings(spec: IngressSpec, at: {file: string; object: string; rules: string; tls: string; source: string}): Finding[] {
  const out: Finding[] = []
  const add = (path: string, message: string) => out.push({file: at.file, object: at.object, path, message, source: at.source})
  ;(Array.isArray(spec.rules) ? spec.rules : []).forEach((r, i) => {
    if (r?.host === undefined) return
    const p = ruleHostProblem(r.host)
    if (p) add(at.rules.replace('#', String(i)), p)
  })
  ;(Array.isArray(spec.tls) ? spec.tls : []).forEach((t, i) =>
    (Array.isArray(t?.hosts) ? t.hosts : []).forEach((h, j) => {
      const p = tlsHostProblem(h)
      if (p) add(`${at.tls.replace('#', String(i))}.hosts[${j}]`, p)
    }),
  )
  return out
}

const get = (v: unknown, dotted: string) =>
  dotted.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), v)

/** Findings of the rules above over the rendered objects and values blocks. */
export function validationFindings(objects: ParsedObject[], values: ValuesBlock[]): Finding[] {
  const out: Finding[] = []
  for (const {file, object: o} of objects) {
    if (o.apiVersion !== 'networking.k8s.io/v1' || o.kind !== 'Ingress') continue
    out.push(
      ...ingressFindings((o.spec ?? {}) as IngressSpec, {file, object: objectName(o), rules: 'spec.rules[#].host', tls: 'spec.tls[#]', source: INGRESS_SOURCE}),
    )
  }
  for (const b of values) {
    const object = `helm values of chart ${b.chart}${b.version ? ` ${b.version}` : ''}`
    if (b.chart === 'kube-prometheus-stack' && get(b.values, 'grafana.ingress.enabled') === true) {
      const hosts = get(b.values, 'grafana.ingress.hosts')
      const tls = get(b.values, 'grafana.ingress.tls')
      const spec: IngressSpec = {rules: Array.isArray(hosts) ? hosts.map((host: unknown) => ({host})) : [], tls: Array.isArray(tls) ? tls : []}
      out.push(
        ...ingressFindings(spec, {
          file: b.file,
          object,
          rules: 'grafana.ingress.hosts[#]',
          tls: 'grafana.ingress.tls[#]',
          source: `${INGRESS_SOURCE}, via the grafana chart's templates/ingress.yaml`,
        }),
      )
    }
    if (b.chart === 'cilium') {
      const host = get(b.values, 'k8sServiceHost')
      if (typeof host === 'string' && /^\[.*\]$/.test(host))
        out.push({
          file: b.file,
          object,
          path: 'k8sServiceHost',
          message: `${JSON.stringify(host)} is bracketed: client-go joins KUBERNETES_SERVICE_HOST and the port with net.JoinHostPort, which brackets an IPv6 address itself (https://[${host}]:PORT); write the bare address`,
          source: CILIUM_SOURCE,
        })
    }
  }
  return out
}
