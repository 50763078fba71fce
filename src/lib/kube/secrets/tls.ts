/**
 * TLS: which certificates the central cluster serves (OpenSearch HTTP, the ingresses), and whether the
 * live ones are kept (the user's own), reused (obsctl's, still right) or issued anew from the platform CA.
 */
import {type LoadedInventory} from '../../config/load.js'
import {centralCluster, NAMESPACES, SECRET_NAMES, serviceHost, serviceUrl} from '../../config/model.js'
import type {Platform} from '../../config/schema.js'
import {hostOfUrl} from '../../config/validators.js'
import {SERVICES} from '../../platform/catalogue.js'
import type {Kube} from '../../platform/kube.js'
import {decoded, isManaged, type SecretObject, type TlsMaterial, type TlsResolution} from './shared.js'

export type {TlsMaterial, TlsResolution} from './shared.js'

export const TLS_SECRET_TYPE = 'kubernetes.io/tls'

/** One TLS Secret name, the namespaces it is mounted in (one certificate for all) and its hosts. */
export interface TlsSecretSpec {
  name: string
  namespaces: string[]
  /** subjectAltNames (DNS names, or IP addresses when the inventory's endpoints use them) */
  hosts: string[]
  commonName: string
  purpose: string
}

/**
 * The central services behind an Ingress that names the ingress certificate. Its names: the wildcard of their default
 * hosts (what an Ingress gets when an endpoint is an IP address: config/model.ts ingressHost) and each service's URL
 * host, an endpoint's IP address included (obsctl and the edges connect there).
 */
export const INGRESS_TLS_SERVICES = ['grafana', 'thanos-query', 'thanos-receive', 'opensearch-dashboards'] as const

export function tlsSecretSpecs(p: Platform): TlsSecretSpec[] {
  const central = centralCluster(p)
  const os = SERVICES.opensearch
  const inCluster = [os.name, `${os.name}.${os.namespace}`, `${os.name}.${os.namespace}.svc`, `${os.name}.${os.namespace}.svc.cluster.local`]
  const osHosts = [...inCluster, serviceHost(p, central, 'opensearch'), ...(p.endpoints.opensearch ? [hostOfUrl(p.endpoints.opensearch)] : [])]
  // the wildcard of the central cluster's service hosts (<service>.k8s-cluster-<id>.<domain>)
  const wildcard = serviceHost(p, central, '*')
  const ingressHosts = [wildcard, ...INGRESS_TLS_SERVICES.map((s) => hostOfUrl(serviceUrl(p, central, s)))]
  const uniq = (xs: string[]) => [...new Set(xs)]
  return [
    {
      name: SECRET_NAMES.opensearchHttpTls,
      namespaces: [os.namespace],
      hosts: uniq(osHosts),
      commonName: os.name,
      purpose: 'OpenSearch HTTP TLS (certificate from the platform CA)',
    },
    {
      name: SECRET_NAMES.ingressTls,
      // the namespaces of the central ingresses that name it: thanos-query, thanos-receive, grafana; opensearch-dashboards
      namespaces: [NAMESPACES.monitoring, NAMESPACES.logging],
      hosts: uniq(ingressHosts),
      commonName: wildcard.length <= 64 ? wildcard : SECRET_NAMES.ingressTls,
      purpose: 'TLS of the central ingresses (certificate from the platform CA)',
    },
  ]
}

/**
 * The central TLS Secrets: the user's own (unlabelled) are kept; obsctl's are reused while still right
 * (pki.ts certificateProblem), else one new certificate per name is issued for all its namespaces.
 * The platform CA is loaded or created only when obsctl manages at least one of them.
 */
export async function resolveTls(inv: LoadedInventory, kube: Kube): Promise<{tls: TlsResolution[]; platformCa?: {file: string; created: boolean}}> {
  const p = inv.platform
  const pki = await import('../pki.js')
  let ca: Promise<Awaited<ReturnType<typeof pki.ensurePlatformCa>>> | undefined
  const platformCa = () => (ca ??= pki.ensurePlatformCa(inv.dir, p.domain))
  const out: TlsResolution[] = []
  for (const spec of tlsSecretSpecs(p)) {
    const mine: {namespace: string; live?: SecretObject}[] = []
    for (const namespace of spec.namespaces) {
      const live = await kube.get<SecretObject>('v1', 'Secret', spec.name, namespace)
      if (live && !isManaged(live)) out.push({namespace, name: spec.name, origin: 'kept', keys: Object.keys(live.data ?? {}).sort()})
      else mine.push({namespace, live})
    }
    if (mine.length === 0) continue
    const theCa = await platformCa()
    let material: TlsMaterial | undefined
    let reason: string | undefined
    for (const {live} of mine) {
      if (!live) continue
      const crt = decoded(live.data?.['tls.crt'])
      const key = decoded(live.data?.['tls.key'])
      const problem = crt && key ? pki.certificateProblem(crt, key, theCa, spec.hosts) : 'no tls.crt and tls.key'
      if (!problem) {
        material = {crt: crt!, key: key!, ca: theCa.certPem}
        break
      }
      reason ??= problem
    }
    const origin = material ? 'reused' : 'issued'
    if (!material) {
      const c = await pki.issueServerCertificate(theCa, {commonName: spec.commonName, hosts: spec.hosts})
      material = {crt: c.certPem, key: c.keyPem, ca: theCa.certPem}
      reason ??= 'none yet'
    }
    for (const {namespace} of mine) out.push({namespace, name: spec.name, origin, material, ...(origin === 'issued' ? {reason} : {})})
  }
  const used = ca ? await ca : undefined
  return {tls: out, platformCa: used ? {file: used.certFile, created: used.created} : undefined}
}
