/**
 * What `secrets rotate` knows of each credential: the names, where the Secret-backed ones live, who checks
 * them and what reads them only at start; the options and report of the rotate phase (../rotate.ts).
 */
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../../config/model.js'
import type {Cluster, Platform} from '../../config/schema.js'
import type {PasswordKind} from '../../config/passwords.js'
import type {ServiceAccess, ServiceKey} from '../../platform/index.js'
import {FLUENTBIT_KEY_ENTRY, GRAFANA_ADMIN_USER, OPENSEARCH_ADMIN_USER, fluentbitUser} from '../secrets/catalogue.js'

export const ROTATABLE = ['grafana', 'opensearch', 'fluent-bit', 'argocd', 's3'] as const
export type Rotatable = (typeof ROTATABLE)[number]
/** the passwords whose plain value lives in a Secret obsctl writes (the S3 key pair is made in MinIO: ./s3.ts) */
export type SecretBacked = Exclude<Rotatable, 'argocd' | 's3'>

/** The new Argo CD admin password (Argo CD keeps only its bcrypt hash; $OBSCTL_ARGOCD_PASSWORD is the current one). */
export const ARGOCD_NEW_PASSWORD_ENV = 'OBSCTL_ARGOCD_NEW_PASSWORD'
export const TITLES: Record<Rotatable, string> = {
  grafana: 'Grafana admin password',
  opensearch: 'OpenSearch admin password',
  'fluent-bit': 'Fluent Bit OpenSearch password',
  argocd: 'Argo CD admin password',
  s3: 'S3 key pair',
}

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'
/** Beside it, the rotation a restart was for (../common.ts restartAll): a rerun finishing it does not restart again. */
export const ROTATION = 'obsctl.dev/rotation'

export interface Workload {
  apiVersion: string
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet'
  namespace: string
  name: string
}
/**
 * A workload an operator owns (its StatefulSet is the operator's to write): restarted through the custom
 * resource's pod metadata (spec.podMetadata.annotations, which the operator copies into the pod template),
 * its rollout read from the StatefulSet the operator makes.
 */
export interface OperatorWorkload {
  apiVersion: string
  kind: 'Prometheus' | 'ThanosRuler'
  namespace: string
  name: string
  /** the StatefulSet the operator makes of it */
  statefulSet: string
}

export interface CredentialSpec {
  id: SecretBacked
  title: string
  kind: PasswordKind
  user: string
  /** where the value lives */
  secret: {namespace: string; name: string; key: string}
  /** a copy in every cluster (else the central cluster's only) */
  everyCluster: boolean
  /** the service that checks it */
  service: ServiceKey
  /** the OpenSearch internal user it is */
  opensearchUser?: string
  /** what reads it only at start, per cluster */
  restarts(p: Platform, c: Cluster): Workload[]
}

const deployment = (namespace: string, name: string): Workload => ({apiVersion: 'apps/v1', kind: 'Deployment', namespace, name})
const isCentral = (p: Platform, c: Cluster) => c.name === centralCluster(p).name

export const CREDENTIALS: Record<SecretBacked, CredentialSpec> = {
  grafana: {
    id: 'grafana',
    title: 'Grafana admin password',
    kind: 'grafanaAdmin',
    user: GRAFANA_ADMIN_USER,
    secret: {namespace: NAMESPACES.monitoring, name: SECRET_NAMES.grafanaAdmin, key: 'admin-password'},
    everyCluster: false,
    service: 'grafana',
    // Grafana reads the Secret only to create the admin of an empty database: its API is what counts
    restarts: () => [],
  },
  opensearch: {
    id: 'opensearch',
    title: 'OpenSearch admin password',
    kind: 'opensearchAdmin',
    user: OPENSEARCH_ADMIN_USER,
    secret: {namespace: NAMESPACES.logging, name: SECRET_NAMES.opensearchAdmin, key: 'password'},
    everyCluster: false,
    service: 'opensearch',
    opensearchUser: OPENSEARCH_ADMIN_USER,
    // OpenSearch Dashboards (the operator's Deployment <cluster>-dashboards) reads it from the Secret at start
    restarts: (p, c) => (isCentral(p, c) ? [deployment(NAMESPACES.logging, 'opensearch-cluster-dashboards')] : []),
  },
  'fluent-bit': {
    id: 'fluent-bit',
    title: 'Fluent Bit OpenSearch password',
    kind: 'fluentbitOpensearch',
    // one user per cluster, its password derived from the key central's Secret keeps (rotateFluentbit)
    user: fluentbitUser('CLUSTER'),
    secret: {namespace: NAMESPACES.logging, name: SECRET_NAMES.fluentbitOpensearch, key: FLUENTBIT_KEY_ENTRY},
    everyCluster: true,
    service: 'opensearch',
    // the Fluent operator copies the ClusterOutput's secretKeyRef values into the configuration it renders
    // (at its start and on changes of its resources, not of Secrets); Fluent Bit reads that configuration
    restarts: () => [
      deployment(NAMESPACES.logging, 'fluent-operator'),
      {apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: NAMESPACES.logging, name: 'fluent-bit'},
    ],
  },
}

/** A new value, held in memory for one run. */
export interface NewValue {
  /** the password; for the S3 key pair, its secret key */
  value: string
  /** the S3 key pair's access key id (not a secret) */
  accessKey?: string
  /** `$ENV` or `generated` (never the value) */
  source: string
}
export interface RotatePhaseOptions {
  credentials: Rotatable[]
  /** resolved before the run; in memory only */
  values: Partial<Record<Rotatable, NewValue>>
  /** rollouts and verification, seconds (default 300) */
  timeoutSeconds?: number
  /** how Grafana and OpenSearch are reached (as validate reaches them) */
  access?: ServiceAccess
  /** between verification probes and rollout checks (default 1 s) */
  pollMs?: number
  /**
   * Argo CD's generated admin password once it took effect (this run's, or the one an interrupted run generated and
   * left pending): for the flow to show once, then drop from its pending Secret (../rotate/argocd.ts). In memory only.
   */
  onGenerated?: (password: string) => void
}

export interface RotateReport {
  credential: Rotatable
  user: string
  /** `$ENV`, `generated`, or `pending in the Secret` (a rotation an earlier run started, finished now) */
  source: string
  resumed: boolean
  /** the Secrets that hold it now */
  secrets: {cluster: string; namespace: string; name: string; key: string}[]
  /** how the consumer was made to use it */
  consumer: string
  /** what was restarted for this rotation; `byEarlierRun`: by a run before this one (this run waited for its rollout) */
  restarted: {cluster: string; kind: string; namespace: string; name: string; restartedAt: string; byEarlierRun?: true}[]
  verified: {newAccepted: boolean; oldRefused: boolean}
  /** S3: the snapshot repository OpenSearch verified with the new key (POST _snapshot/<name>/_verify) */
  repository?: {name: string; nodes: number}
  /** Fluent Bit: each cluster's own OpenSearch user, verified one by one */
  users?: {cluster: string; user: string; newAccepted: boolean; oldRefused: boolean}[]
  /**
   * the run that did this rotation (its id), when it is not this one: a run that stopped (killed, interrupted, failed)
   * after it rotated and verified this credential; the report is that run's, and this run changed nothing (./earlier.ts)
   */
  byEarlierRun?: string
}
