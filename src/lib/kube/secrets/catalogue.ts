/**
 * What `secrets apply` puts in each cluster (the table in ./index.ts): the env vars and users, the values
 * held in memory for one run, each cluster's wanted Secrets and their shapes (for dry runs and docs).
 */
import {yaml} from '../../lazy-deps.js'
import {platformMemo} from '../../derived-cache.js'
import {receiverSecrets} from '../../config/alerting.js'
import {centralCluster, GRAFANA_OPENSEARCH_USER, metricsMode, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import type {Cluster, Platform} from '../../config/schema.js'
import {securityConfigFiles, type SecurityHashes} from './security-config.js'
import {TLS_SECRET_TYPE, tlsSecretSpecs} from './tls.js'
import {FLUENTBIT_KEY_ENTRY, GRAFANA_ADMIN_USER, OPENSEARCH_ADMIN_USER, fluentbitPasswordFor, fluentbitUser, type SecretValues} from './shared.js'

export * from './shared.js'

export interface WantedSecret {
  namespace: string
  name: string
  type: string
  /** plain values (base64-encoded only when sent) */
  data: Record<string, string>
  /** one line: what it is for */
  purpose: string
}

/** `objstore.yml` as Thanos reads it (type S3; endpoint is host[:port] without scheme). */
export function thanosObjstoreYaml(p: Platform, s3: SecretValues['s3']): string {
  const u = new URL(p.s3.endpoint)
  const config: Record<string, unknown> = {
    bucket: p.s3.buckets.metrics.name,
    endpoint: u.host,
    region: p.s3.region,
    access_key: s3.accessKey,
    secret_key: s3.secretKey,
    insecure: u.protocol === 'http:',
    bucket_lookup_type: p.s3.pathStyle ? 'path' : 'virtual-hosted',
  }
  // a private CA travels in the same Secret (key ca.crt), seen where the Secret is mounted at /etc/thanos
  if (p.s3.caFile) config.http_config = {tls_config: {ca_file: '/etc/thanos/ca.crt'}}
  return yaml().stringify({type: 'S3', config}, {lineWidth: 0})
}

/** The S3 key pair and the S3 endpoint's private CA: what the Secrets that reach S3 are made of. */
export type S3SecretValues = Pick<SecretValues, 's3' | 's3Ca'>

/** central monitoring/thanos-objstore: Thanos (Store, Compactor, Receive, Ruler, the sidecars) reads objstore.yml */
function thanosObjstoreSecret(p: Platform, v: S3SecretValues): WantedSecret {
  return {
    namespace: NAMESPACES.monitoring,
    name: SECRET_NAMES.thanosObjstore,
    type: 'Opaque',
    data: {'objstore.yml': thanosObjstoreYaml(p, v.s3), ...(p.s3.caFile && v.s3Ca ? {'ca.crt': v.s3Ca} : {})},
    purpose: `Thanos object storage (bucket ${p.s3.buckets.metrics.name})`,
  }
}

/** central logging/opensearch-s3-keystore: the OpenSearch operator puts it in every node's keystore */
function opensearchKeystoreSecret(p: Platform, v: S3SecretValues): WantedSecret {
  return {
    namespace: NAMESPACES.logging,
    name: SECRET_NAMES.opensearchKeystore,
    type: 'Opaque',
    data: {'s3.client.default.access_key': v.s3.accessKey, 's3.client.default.secret_key': v.s3.secretKey},
    purpose: `OpenSearch keystore: S3 snapshot repository (bucket ${p.s3.buckets.snapshots.name})`,
  }
}

/** every cluster's longhorn-system/longhorn-backup-credentials: Longhorn's backup target */
function longhornBackupSecret(p: Platform, v: S3SecretValues): WantedSecret {
  const longhorn: Record<string, string> = {
    AWS_ACCESS_KEY_ID: v.s3.accessKey,
    AWS_SECRET_ACCESS_KEY: v.s3.secretKey,
    AWS_ENDPOINTS: new URL(p.s3.endpoint).origin,
  }
  if (!p.s3.pathStyle) longhorn.VIRTUAL_HOSTED_STYLE = 'true'
  if (v.s3Ca) longhorn.AWS_CERT = v.s3Ca
  return {
    namespace: NAMESPACES.longhorn,
    name: SECRET_NAMES.longhornBackup,
    type: 'Opaque',
    data: longhorn,
    purpose: `Longhorn backup target (bucket ${p.s3.buckets.backups.name})`,
  }
}

/** The Secrets of one cluster that hold the S3 key pair (a subset of wantedSecrets: `secrets rotate s3` rewrites them). */
export function s3Secrets(p: Platform, c: Cluster, v: S3SecretValues): WantedSecret[] {
  const central = c.name === centralCluster(p).name
  return [...(central ? [thanosObjstoreSecret(p, v), opensearchKeystoreSecret(p, v)] : []), longhornBackupSecret(p, v)]
}

export interface SecretsContext {
  platform: Platform
  cluster: Cluster
  values: SecretValues
  /** bcrypt hashes for the security config (reusing live hashes that still match) */
  hashes?: SecurityHashes
  /**
   * names and keys are all that is asked (secretShapes): no value is derived from another (the Fluent Bit HMAC
   * per cluster: 30 ms at 1,000 clusters) and every TLS Secret obsctl manages is listed without its material
   */
  shapesOnly?: boolean
}

export function wantedSecrets(x: SecretsContext): WantedSecret[] {
  const {platform: p, cluster: c, values: v} = x
  const central = centralCluster(p)
  const out: WantedSecret[] = []
  const opaque = 'Opaque'
  if (c.name === central.name) {
    out.push(
      thanosObjstoreSecret(p, v),
      {
        namespace: NAMESPACES.monitoring,
        name: SECRET_NAMES.grafanaAdmin,
        type: opaque,
        data: {'admin-user': GRAFANA_ADMIN_USER, 'admin-password': v.grafanaAdminPassword},
        purpose: 'Grafana admin login',
      },
      {
        namespace: NAMESPACES.logging,
        name: SECRET_NAMES.opensearchAdmin,
        type: opaque,
        data: {username: OPENSEARCH_ADMIN_USER, password: v.opensearchAdminPassword},
        purpose: 'OpenSearch admin (operator, Dashboards, setup Job)',
      },
      opensearchKeystoreSecret(p, v),
    )
    if (x.hashes) {
      out.push({
        namespace: NAMESPACES.logging,
        name: SECRET_NAMES.opensearchSecurityConfig,
        type: opaque,
        data: securityConfigFiles(x.hashes),
        purpose: 'OpenSearch security config (admin, one fluentbit-CLUSTER per cluster and grafana users as bcrypt hashes)',
      })
    }
    // the TLS Secrets obsctl manages (the user's own are not in the list: never written)
    for (const spec of tlsSecretSpecs(p)) {
      for (const namespace of spec.namespaces) {
        const m = x.shapesOnly ? {crt: '-', key: '-', ca: '-'} : v.tls?.find((t) => t.name === spec.name && t.namespace === namespace)?.material
        if (m) out.push({namespace, name: spec.name, type: TLS_SECRET_TYPE, data: {'tls.crt': m.crt, 'tls.key': m.key, 'ca.crt': m.ca}, purpose: spec.purpose})
      }
    }
    const gos: Record<string, string> = {username: GRAFANA_OPENSEARCH_USER, password: v.grafanaOpensearchPassword}
    if (v.opensearchCa) gos['ca.crt'] = v.opensearchCa
    out.push({
      namespace: NAMESPACES.monitoring,
      name: SECRET_NAMES.grafanaOpensearch,
      type: opaque,
      data: gos,
      purpose: "Grafana's OpenSearch datasource (read-only user grafana)",
    })
    const receivers = receiverSecrets(p.alerting)
    if (receivers.length > 0) {
      const data = Object.fromEntries(receivers.map((r) => [r.key, v.alerting[r.key] ?? '']))
      out.push({
        namespace: NAMESPACES.monitoring,
        name: SECRET_NAMES.alertmanagerReceivers,
        type: opaque,
        data,
        purpose: `Alertmanager receivers (${[...new Set(receivers.map((r) => r.receiver))].join(', ')})`,
      })
    }
  }
  out.push(longhornBackupSecret(p, v))
  const fb: Record<string, string> = {username: fluentbitUser(c.name), password: x.shapesOnly ? '-' : fluentbitPasswordFor(v.fluentbitPassword, c.name)}
  if (v.opensearchCa) fb['ca.crt'] = v.opensearchCa
  // central keeps the derivation key, so a rerun without the env var derives the same passwords
  if (c.name === central.name) fb[FLUENTBIT_KEY_ENTRY] = v.fluentbitPassword
  out.push({
    namespace: NAMESPACES.logging,
    name: SECRET_NAMES.fluentbitOpensearch,
    type: opaque,
    data: fb,
    purpose: `Fluent Bit output to the central OpenSearch (its own user ${fluentbitUser(c.name)})`,
  })
  if (metricsMode(c) === 'agent' && v.ingressCa) {
    // PrometheusAgent remoteWrite tlsConfig.ca.secret (templates/gitops/edge/…/prometheus-agent.yaml)
    out.push({
      namespace: NAMESPACES.monitoring,
      name: SECRET_NAMES.platformCa,
      type: opaque,
      data: {'ca.crt': v.ingressCa},
      purpose: 'CA of the Thanos Receive ingress, for the Prometheus Agent remote write',
    })
  }
  return out
}

type SecretShape = {namespace: string; name: string; keys: string[]; purpose: string}
type ShapeOptions = {opensearchCa?: boolean; s3Ca?: boolean; ingressCa?: boolean}
/** per inventory object (never edited in place: an edit parses a new one), per cluster and options; kept between runs */
const shapesOf = platformMemo('secret-shapes')

/**
 * Names and keys only: what a cluster gets, for fingerprints, plans and dry runs. Computed once per
 * inventory, cluster and options (a plan asks twice per cluster: fingerprint and description; each
 * builds every Secret of the cluster, YAML included).
 */
export function secretShapes(p: Platform, c: Cluster, opts: ShapeOptions = {}): SecretShape[] {
  const key = `${c.name}|${opts.opensearchCa ?? ''}|${opts.s3Ca ?? ''}|${opts.ingressCa ?? ''}`
  // a cluster object from elsewhere is computed, not kept under this inventory's cluster of that name
  const shapes = p.clusters.includes(c) ? shapesOf(p, key, () => computeShapes(p, c, opts)) : computeShapes(p, c, opts)
  return shapes.map((s) => ({...s, keys: [...s.keys]}))
}

function computeShapes(p: Platform, c: Cluster, opts: ShapeOptions): SecretShape[] {
  const dummy: SecretValues = {
    s3: {accessKey: '-', secretKey: '-'},
    opensearchAdminPassword: '-',
    fluentbitPassword: '-',
    grafanaAdminPassword: '-',
    grafanaOpensearchPassword: '-',
    alerting: {},
    opensearchCa: opts.opensearchCa ? '-' : undefined,
    s3Ca: opts.s3Ca ? '-' : undefined,
    ingressCa: opts.ingressCa === false ? undefined : '-',
    tls: [],
    generated: [],
    sources: {},
  }
  return wantedSecrets({platform: p, cluster: c, values: dummy, hashes: {admin: '-', fluentbit: {}, grafana: '-'}, shapesOnly: true}).map((s) => ({
    namespace: s.namespace,
    name: s.name,
    keys: Object.keys(s.data).sort(),
    purpose: s.purpose,
  }))
}
