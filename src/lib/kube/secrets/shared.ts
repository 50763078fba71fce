/**
 * What every part of `secrets apply` shares (a leaf: ./catalogue.ts, ./security-config.ts and ./tls.ts
 * build on it): the env vars and users, the values held in memory for one run, and reading a live Secret.
 */
import {PASSWORD_ENV} from '../../config/passwords.js'
import {nodeCrypto} from '../../hash.js'
import {GRAFANA_OPENSEARCH_USER} from '../../config/model.js'
import type {Kube, KubeObject} from '../../platform/kube.js'

export const ENV = {
  opensearchAdminPassword: PASSWORD_ENV.opensearchAdmin,
  fluentbitPassword: PASSWORD_ENV.fluentbitOpensearch,
  grafanaAdminPassword: PASSWORD_ENV.grafanaAdmin,
  opensearchCaFile: 'OBSCTL_OPENSEARCH_CA_FILE',
  grafanaOpensearchPassword: PASSWORD_ENV.grafanaOpensearch,
} as const

export const OPENSEARCH_ADMIN_USER = 'admin'
/** the shared Fluent Bit user of earlier versions: no longer in the security config (each cluster has its own) */
export const FLUENTBIT_OPENSEARCH_USER = 'fluentbit'
/**
 * Each cluster's Fluent Bit writes to OpenSearch as its own internal user, so removing a cluster revokes
 * exactly its access (DELETE _plugins/_security/api/internalusers/fluentbit-NAME).
 */
export function fluentbitUser(cluster: string): string {
  return `${FLUENTBIT_OPENSEARCH_USER}-${cluster}`
}
/**
 * A cluster's Fluent Bit password, derived from $OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD (the key, kept only in
 * central's Secret) with HMAC-SHA256 over the cluster name: an edge's Secret reveals neither the key nor
 * another cluster's password, and central computes every cluster's hash without reaching the edges.
 */
export function fluentbitPasswordFor(key: string, cluster: string): string {
  const mac = nodeCrypto().createHmac('sha256', key).update(`obsctl fluent-bit opensearch ${cluster}`).digest('base64url')
  // upper, lower, digit and symbol for password policies that count classes
  return `Fb9-${mac.slice(0, 40)}`
}
/** the key of central's Fluent Bit Secret that keeps the derivation key (never on an edge) */
export const FLUENTBIT_KEY_ENTRY = 'per-cluster-key'
export const GRAFANA_ADMIN_USER = 'admin'
export {GRAFANA_OPENSEARCH_USER}
export const MANAGED_BY = {'app.kubernetes.io/managed-by': 'obsctl'}

/** TLS material of one Secret (PEM), in memory only. */
export interface TlsMaterial {
  crt: string
  key: string
  ca: string
}

export interface TlsResolution {
  namespace: string
  name: string
  /** kept: the user's own Secret (no managed-by label), left alone; reused: obsctl's, still right; issued: new this run */
  origin: 'kept' | 'reused' | 'issued'
  /** why a certificate was issued (hosts and dates only) */
  reason?: string
  /** kept: the live Secret's keys (names only) */
  keys?: string[]
  /** reused / issued: what the Secret gets */
  material?: TlsMaterial
}

/** Every value `secrets apply` writes, held in memory for one run. */
export interface SecretValues {
  s3: {accessKey: string; secretKey: string}
  opensearchAdminPassword: string
  fluentbitPassword: string
  grafanaAdminPassword: string
  /** Grafana's OpenSearch datasource (user grafana) */
  grafanaOpensearchPassword: string
  /** alert receivers' values by key of the Secret alertmanager-receivers (config/alerting.ts receiverSecrets) */
  alerting: Record<string, string>
  /** PEM of the CA that signed the central OpenSearch's HTTP certificate (Fluent Bit verifies with it) */
  opensearchCa?: string
  /** PEM of the S3 endpoint's private CA (s3.caFile), for Longhorn's AWS_CERT */
  s3Ca?: string
  /** PEM of the CA of the central ingresses' certificate (the platform CA when obsctl issues it): agent edges trust Thanos Receive with it */
  ingressCa?: string
  /** the central TLS Secrets, one entry per namespace/name (absent: none are written) */
  tls?: TlsResolution[]
  /** the platform CA certificate's file, when this run needed the CA (created: in this run) */
  platformCa?: {file: string; created: boolean}
  /** which passwords were generated in this run (names, never values) */
  generated: string[]
  /** where each value came from (names only): env, prompt, cluster, generated */
  sources: Record<string, string>
}

export type SecretObject = KubeObject & {type?: string; data?: Record<string, string>}

export const isManaged = (o: KubeObject | undefined) => o?.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by']
export const decoded = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined)

export async function liveValue(kube: Kube | undefined, namespace: string, name: string, key: string): Promise<string | undefined> {
  if (!kube) return undefined
  const s = await kube.get<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', name, namespace)
  const b64 = s?.data?.[key]
  return b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined
}
