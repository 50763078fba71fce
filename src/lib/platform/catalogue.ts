/**
 * The platform's names, in one place: namespaces, the Secrets obsctl creates (never in Git), the services
 * obsctl talks to, and the names the GitOps repo's hooks create in OpenSearch and Argo CD. The templates
 * read them through the render context (lib/gitops/context.ts: `it.ns`, `it.secrets`, `it.snapshotRepo`,
 * `it.ismPolicyId`); validate, status, snapshot and secrets import them from here. A leaf module (it imports
 * nothing), so config/model.ts and gitops/context.ts can re-export it without loading the rest of the platform layer.
 */

export const NAMESPACES = {
  monitoring: 'monitoring',
  logging: 'logging',
  argocd: 'argocd',
  longhorn: 'longhorn-system',
} as const

/** OpenSearch user of Grafana's logs datasource (read-only on the log indices; created by `secrets apply`) */
export const GRAFANA_OPENSEARCH_USER = 'grafana'

/** Secret names the GitOps repo references and `secrets apply` creates (never in Git). */
export const SECRET_NAMES = {
  thanosObjstore: 'thanos-objstore',
  opensearchAdmin: 'opensearch-admin-credentials',
  opensearchKeystore: 'opensearch-s3-keystore',
  longhornBackup: 'longhorn-backup-credentials',
  fluentbitOpensearch: 'fluentbit-opensearch-credentials',
  /** OpenSearch security config (internal_users.yml with the admin hash), required with a custom admin Secret */
  opensearchSecurityConfig: 'opensearch-security-config',
  /** OpenSearch HTTP TLS (tls.crt, tls.key, ca.crt) valid for opensearch.<ns>.svc and the opensearch ingress host */
  opensearchHttpTls: 'opensearch-http-tls',
  /** Grafana admin (keys admin-user, admin-password) */
  grafanaAdmin: 'grafana-admin-credentials',
  /** TLS certificate for the central ingresses (grafana, thanos-query, thanos-receive, opensearch-dashboards) */
  ingressTls: 'obsctl-ingress-tls',
  scrape: (edge: string) => `obsctl-scrape-${edge}`,
  /** Alertmanager receivers' URLs, keys and passwords (keys <receiver>.<what>), mounted at /etc/alertmanager/secrets/<name>/ */
  alertmanagerReceivers: 'alertmanager-receivers',
  /** Grafana's OpenSearch datasource: the read-only user grafana (username, password) and ca.crt */
  grafanaOpensearch: 'grafana-opensearch-credentials',
  /** the central ingresses' CA (ca.crt) on agent edges: the Prometheus Agent verifies Thanos Receive with it */
  platformCa: 'obsctl-platform-ca',
} as const

/** The in-cluster identity of each service obsctl talks to (as templates/gitops renders them). */
export interface ServiceSpec {
  namespace: string
  name: string
  port: number
  scheme: 'http' | 'https'
}

export const SERVICES = {
  prometheus: {namespace: NAMESPACES.monitoring, name: 'kube-prometheus-stack-prometheus', port: 9090, scheme: 'http'},
  'thanos-query': {namespace: NAMESPACES.monitoring, name: 'thanos-query', port: 9090, scheme: 'http'},
  'thanos-compactor': {namespace: NAMESPACES.monitoring, name: 'thanos-compactor', port: 10902, scheme: 'http'},
  opensearch: {namespace: NAMESPACES.logging, name: 'opensearch', port: 9200, scheme: 'https'},
  argocd: {namespace: NAMESPACES.argocd, name: 'argocd-server', port: 443, scheme: 'https'},
  /** kube-prometheus-stack's Alertmanager Service (<release>-alertmanager, port http-web 9093) */
  alertmanager: {namespace: NAMESPACES.monitoring, name: 'kube-prometheus-stack-alertmanager', port: 9093, scheme: 'http'},
  /** kube-prometheus-stack's Grafana (its admin password is rotated through Grafana's API) */
  grafana: {namespace: NAMESPACES.monitoring, name: 'kube-prometheus-stack-grafana', port: 80, scheme: 'http'},
} as const satisfies Record<string, ServiceSpec>

export type ServiceKey = keyof typeof SERVICES
export const SERVICE_KEYS = Object.keys(SERVICES) as ServiceKey[]

/**
 * The services obsctl sends a credential to, and what it sends them. Every request obsctl makes to one of them
 * carries it, so each is reached only over verified https: an http:// URL (`--endpoint NAME=…`, the inventory's
 * `endpoints.NAME`) is refused, and so is the API server's service proxy (--via-api-server), which does not verify
 * the backend's certificate (platform/http.ts credentialRefusal). The others (Prometheus, Thanos Query and
 * Compactor, Alertmanager) get no credential from obsctl and may be reached over http.
 */
export const CREDENTIAL_SERVICES = {
  opensearch: 'OpenSearch passwords (Basic auth: the admin, or the user being rotated)',
  grafana: "Grafana's admin password (Basic auth, and in the body of PUT /api/user/password)",
  argocd: "Argo CD's admin password (in the body of POST /api/v1/session) and its session token (a cookie)",
} as const satisfies Partial<Record<ServiceKey, string>>

export type CredentialService = keyof typeof CREDENTIAL_SERVICES

export function isCredentialService(service: string): service is CredentialService {
  return Object.hasOwn(CREDENTIAL_SERVICES, service)
}

/** API server path of a service proxy: /api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy */
export function serviceProxyPath(s: ServiceSpec): string {
  return `/api/v1/namespaces/${s.namespace}/services/${s.scheme}:${s.name}:${s.port}/proxy`
}

/** API server path of a pod proxy: /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy */
export function podProxyPath(namespace: string, pod: string, port: number): string {
  return `/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy`
}

/**
 * Names the OpenSearch operator creates from the rendered custom resources: the S3 snapshot repository
 * (OpenSearchCluster spec.general.snapshotRepositories), the snapshot management policy
 * (OpensearchSnapshotPolicy: daily snapshots, deleted through OpenSearch) and the ISM policy
 * (OpenSearchISMPolicy). A new ISM id: the operator leaves alone a policy it did not create itself
 * (status "Ignored"), such as the one the opensearch-setup Job of earlier obsctl versions PUT as
 * LEGACY_ISM_POLICY_ID; that Job now moves the indices still on the legacy policy to this one and
 * deletes the legacy policy.
 */
export const SNAPSHOT_REPOSITORY = 's3-snapshots'
/**
 * The OpenSearchCluster the GitOps repo renders (templates/gitops/platform/deploy/base/opensearch/cluster.yaml)
 * and its node pools (gitops/context.ts opensearchPools): the operator makes one StatefulSet per pool,
 * named <cluster>-<component> (opensearch-k8s-operator builders.StsName).
 */
export const OPENSEARCH_CLUSTER = 'opensearch-cluster'
export const OPENSEARCH_NODE_POOLS = ['masters', 'data'] as const
export const SNAPSHOT_POLICY = 'fluent-bit-snapshots'
export const ISM_POLICY_ID = 'fluent-bit-logs'
export const LEGACY_ISM_POLICY_ID = 'fluent-bit-retention'
/** The log indices Fluent Bit writes (fluent-bit-<cluster>-YYYY.MM.DD). */
export const LOG_INDEX_PATTERN = 'fluent-bit-*'
/** The log indices of one cluster. */
export const indexPattern = (cluster: string) => `fluent-bit-${cluster}-*`

/** Argo CD's Application kind, and the Secret its install leaves with the first admin password. */
export const APPLICATION = {apiVersion: 'argoproj.io/v1alpha1', kind: 'Application'} as const
export const INITIAL_ADMIN_SECRET = 'argocd-initial-admin-secret'

/** Environment variables that carry service credentials (never argv). */
export const CREDENTIAL_ENV = {user: 'OBSCTL_OPENSEARCH_USER', password: 'OBSCTL_OPENSEARCH_PASSWORD'} as const
export const ARGOCD_PASSWORD_ENV = 'OBSCTL_ARGOCD_PASSWORD'
