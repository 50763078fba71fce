/**
 * The inventory (obsctl.yaml): apiVersion obsctl.dev/v1alpha1, kind Platform.
 * Every object is strict (unknown fields are errors). Secrets are never values here:
 * only the names of the environment variables that hold them.
 */
import type * as z from 'zod'
import {zod} from '../lazy-deps.js'
import {MAX_DURATION_DAYS, cpuError, durationRangeError, isDuration, memoryError} from './units.js'
import {derivedJson} from '../derived-cache.js'
import {alertingSchema} from './alerting.js'
import {emptyWhenNull, emptyWhenNullJson} from './empty-mapping.js'
import {
  cidrError,
  dnsLabelError,
  dnsSubdomainError,
  gitBranchError,
  gitRemoteError,
  hostError,
  apiServerUrlError,
  httpUrlError,
  noProxyError,
  parseLbEntry,
  plainHttpCredentialError,
  proxyUrlError,
  s3RegionError,
  semverError,
  vTagError,
} from './validators.js'

export const API_VERSION = 'obsctl.dev/v1alpha1'
export const KIND = 'Platform'

/** Services whose URL `endpoints` may override (the ingress hosts and the services obsctl talks to). */
export const ENDPOINT_SERVICES = [
  'alertmanager',
  'argocd',
  'grafana',
  'opensearch',
  'opensearch-dashboards',
  'prometheus',
  'thanos-compactor',
  'thanos-query',
  'thanos-receive',
] as const
export type EndpointService = (typeof ENDPOINT_SERVICES)[number]

/**
 * The inventory's zod schema, built on first use: building it (some 200 zod objects, each `.describe()` and
 * `.default()` a clone) is a tenth of a command's start-up CPU, and a command whose inventory parse comes
 * from the parse cache (./load.ts) never needs it.
 */
function buildPlatformSchema() {
  const z = zod()
  const AlertingSchema = alertingSchema()
  /** A string checked by `check` (undefined = fine, else the reason), reported as the field's error. */
  const checked = (check: (v: string) => string | undefined) =>
    z.string().superRefine((v, ctx) => {
      const problem = check(v)
      if (problem) ctx.addIssue({code: 'custom', message: problem})
    })

  /** A duration as Prometheus writes it, no longer than Prometheus and Thanos take (units.ts durationRangeError). */
  const duration = checked((v) =>
    isDuration(v) ? durationRangeError(v) : 'expected a duration as Prometheus writes it: units y, w, d, h, m, s, ms, largest first, e.g. 6h, 30d, 1d12h',
  )
  const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (A-Z, 0-9, _)')
  const dnsLabel = checked(dnsLabelError)
  /** A number or string checked by `check`, as `checked` does for strings. */
  const quantity = (check: (v: string | number) => string | undefined) =>
    z.union([z.number().positive(), z.string()]).superRefine((v, ctx) => {
      const problem = check(v)
      if (problem) ctx.addIssue({code: 'custom', message: problem})
    })
  const cpu = quantity(cpuError)
  const memory = quantity(memoryError)
  /** The most replicas of one component: Kubernetes holds `replicas` as an int32 (StatefulSet, Deployment, and the Prometheus, Alertmanager, ThanosRuler and OpenSearchCluster node pool specs). */
  const INT32_MAX = 2_147_483_647
  const cidr = checked(cidrError)
  const host = checked(hostError)
  /** An http(s) URL without embedded credentials; `credentialFix` says where a credential goes instead. */
  const url = (credentialFix = 'put credentials in the environment variable fields (…Env), never in a URL') => checked((v) => httpUrlError(v, credentialFix))
  const semverField = (example: string) => checked((v) => semverError(v, example))
  /** A login name as sshd takes it: no space or control character (an LDAP name with dots or @ is fine). */
  const loginName = checked((v) =>
    /^[^\s\p{Cc}]+$/u.test(v) ? undefined : `"${JSON.stringify(v).slice(1, -1)}" is not a login name: no spaces or control characters`,
  )

  /** a proxy of the nodes: http(s)://HOST[:PORT] (validators.ts proxyUrlError) */
  const proxyUrl = checked((v) => proxyUrlError(v, 'obsctl has no field for proxy credentials: allow the nodes at the proxy instead'))

  const SshSchema = z.strictObject({
    user: loginName.default('root').describe('login user on every node unless the node sets its own'),
    port: z.number().int().min(1).max(65535).default(22).describe('SSH port on every node unless the node sets its own, e.g. 2222'),
    identityFile: z.string().optional().describe('private key file; else the ssh-agent at $SSH_AUTH_SOCK; else a password prompt, e.g. ~/.ssh/id_ed25519'),
    agent: z.boolean().default(true).describe('use the ssh-agent at $SSH_AUTH_SOCK when it is set'),
    knownHosts: z.string().optional().describe("obsctl's own known_hosts (default .obsctl/known_hosts beside the inventory)"),
    hostKeyPolicy: z
      .enum(['accept-new', 'strict'])
      .default('accept-new')
      .describe('accept-new: trust a node’s unknown host key on first use and record it; strict: refuse unknown keys (put them in known_hosts first)'),
    sudo: z.enum(['nopasswd', 'password']).default('nopasswd').describe('password: the sudo password is prompted once and sent on stdin'),
    // a Node timer holds at most ~24.8 days: a day is more than any link needs
    connectTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .max(86_400)
      .default(20)
      .describe('seconds to wait for an SSH connection to a node (at most a day), e.g. 60 on slow links'),
    proxy: emptyWhenNull(
      z.strictObject({
        http: proxyUrl.optional().describe('proxy for http:// on the nodes, http(s)://HOST[:PORT], e.g. http://proxy.lab:3128'),
        https: proxyUrl.optional().describe('proxy for https:// on the nodes, http(s)://HOST[:PORT], e.g. http://proxy.lab:3128'),
        noProxy: checked(noProxyError)
          .optional()
          .describe('hosts, .domains, addresses and CIDRs reached without the proxy, comma-separated, e.g. 10.0.0.0/8,.lab'),
      }),
    )
      .optional()
      .describe('HTTP(S) proxy the nodes use for packages and images (sites without direct internet)'),
    aptMirror: url('use a mirror that needs no credentials')
      .optional()
      .describe('mirror base URL for the Kubernetes package repository, e.g. https://mirror.example.lab/pkgs.k8s.io'),
  })

  const BucketSchema = z.strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 of a-z, 0-9, ., -)')
      .describe('bucket name, e.g. thanos-metrics'),
    versioning: z.boolean().default(false).describe('turn on S3 object versioning for the bucket'),
    expireAfter: duration
      .optional()
      .describe(
        `lifecycle rule: expire objects after this long (whole days, at most ${MAX_DURATION_DAYS}d); never on the snapshots bucket, whose snapshots OpenSearch deletes itself; e.g. 30d`,
      ),
  })

  const S3Schema = z.strictObject({
    endpoint: url('set s3.accessKeyEnv and s3.secretKeyEnv to the names of the env vars holding the keys').describe('e.g. https://s3.minio.miribit.lab'),
    region: checked(s3RegionError).default('us-east-1').describe('S3 region the clients sign requests for, e.g. us-east-1'),
    caFile: z.string().optional().describe('CA bundle for a private CA (TLS is never disabled), e.g. ./minio-ca.pem'),
    pathStyle: z.boolean().default(true).describe('path-style bucket URLs (https://s3.example/bucket), as MinIO serves them; false: virtual-host style'),
    accessKeyEnv: envName.default('OBSCTL_S3_ACCESS_KEY').describe('name of the environment variable holding the S3 access key (never the key itself)'),
    secretKeyEnv: envName.default('OBSCTL_S3_SECRET_KEY').describe('name of the environment variable holding the S3 secret key (never the key itself)'),
    buckets: emptyWhenNull(
      z.strictObject({
        metrics: BucketSchema.default({name: 'thanos-metrics', versioning: false}).describe(
          'Thanos blocks (sidecars upload, the store gateway and compactor read); default thanos-metrics',
        ),
        snapshots: BucketSchema.default({name: 'opensearch-snapshots', versioning: false}).describe(
          'OpenSearch snapshot repository (daily snapshots of the log indices); default opensearch-snapshots',
        ),
        backups: BucketSchema.default({name: 'longhorn-backups', versioning: false}).describe(
          'Longhorn volume backups and obsctl backup create (etcd snapshots, encrypted); default longhorn-backups',
        ),
      }),
    ).describe('the three buckets obsctl s3 setup creates; each defaults to the name shown'),
  })

  const GitSchema = z.strictObject({
    remote: checked(gitRemoteError).describe('the GitOps repository Argo CD pulls (https:// or ssh), e.g. https://git.example.lab/platform/gitops.git'),
    branch: checked(gitBranchError).default('main').describe('branch Argo CD follows and obsctl commits to, e.g. main'),
    dir: z.string().default('gitops').describe('local working copy, relative to the inventory'),
    private: z.boolean().default(false).describe('Argo CD needs repository credentials'),
    sshKeyFile: z.string().optional().describe('deploy key Argo CD uses for a private ssh remote, e.g. ~/.ssh/gitops-deploy'),
    tokenEnv: envName.optional().describe('env var holding an HTTPS token for a private remote, e.g. OBSCTL_GIT_TOKEN'),
  })

  const ChartsSchema = z.strictObject({
    'kube-prometheus-stack': semverField('78.2.1')
      .default('78.2.1')
      .describe('prometheus-community chart: Prometheus Operator, Prometheus, Alertmanager, Grafana; default 78.2.1'),
    longhorn: semverField('1.10.0').default('1.10.0').describe('Longhorn chart (block storage for every cluster); default 1.10.0'),
    cilium: semverField('1.18.2').default('1.18.2').describe('Cilium chart (CNI, L2 load balancer); default 1.18.2'),
    'opensearch-operator': semverField('3.0.0').default('3.0.0').describe('OpenSearch Kubernetes operator chart; default 3.0.0'),
    'fluent-operator': semverField('3.4.2').default('3.4.2').describe('Fluent operator chart (Fluent Bit on every node); default 3.4.2'),
  })

  const VersionsSchema = z.strictObject({
    kubernetes: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, 'expected a Kubernetes version such as 1.34 or 1.34.1')
      .default('1.34')
      .describe('Kubernetes minor (or patch) version installed on the nodes, e.g. 1.34'),
    argocd: checked((v) => vTagError(v, 'v3.1.9'))
      .default('v3.1.9')
      .describe('Argo CD release installed on the central cluster, e.g. v3.1.9'),
    charts: emptyWhenNull(ChartsSchema)
      .default(ChartsSchema.parse({}))
      .describe('Helm chart versions, semver; change with obsctl upgrade chart, e.g. longhorn: 1.10.0'),
    opensearch: semverField('2.19.3').default('2.19.3').describe('OpenSearch version the operator deploys, e.g. 2.19.3'),
    fluentBit: semverField('4.0.1')
      .default('4.0.1')
      .describe('tag of ghcr.io/fluent/fluent-operator/fluent-bit (the Fluent operator chart 3.4.2 default is 4.0.1)'),
    thanos: checked((v) => vTagError(v, 'v0.39.2'))
      .default('v0.39.2')
      .describe('Thanos image tag for sidecar, query, store and compactor, e.g. v0.39.2'),
  })

  const RetentionSchema = z.strictObject({
    prometheus: duration
      .default('6h')
      .describe(`Prometheus local retention (the sidecar wants >= 6h; at most ${MAX_DURATION_DAYS}d, Prometheus' longest duration)`),
    thanos: emptyWhenNull(
      z.record(
        z.string(),
        duration.describe(
          `how long the compactor keeps blocks of this resolution, e.g. 30d; 0 keeps them for ever; at most ${MAX_DURATION_DAYS}d (Thanos' longest duration)`,
        ),
      ),
    )
      .default({raw: '30d', '5m': '90d', '1h': '180d'})
      .describe('per resolution: raw, 5m, 1h (the only resolutions Thanos has)'),
    opensearch: emptyWhenNull(
      z.strictObject({
        snapshotAfter: duration
          .optional()
          .describe(
            'no longer used: the snapshot management policy snapshots the log indices every day (accepted so older inventories load; config validate warns), e.g. 1d',
          ),
        deleteAfter: duration
          .default('180d')
          .describe(
            `log indices (ISM policy) and their snapshots (snapshot management policy) are deleted after this, in whole days; at most ${MAX_DURATION_DAYS}d`,
          ),
      }),
    )
      .default({deleteAfter: '180d'})
      .describe('how long log indices and their snapshots live, e.g. deleteAfter: 180d'),
  })

  /** Backups (issue 15): etcd snapshots and obsctl's own files, encrypted client-side, in s3.buckets.backups; Longhorn volume backups on a schedule. */
  const BackupSchema = z.strictObject({
    keyEnv: envName
      .default('OBSCTL_BACKUP_KEY')
      .describe('env var holding the secret that encrypts backups client-side (AES-256-GCM, key derived with scrypt); never on the command line'),
    volumes: emptyWhenNull(
      z.strictObject({
        schedule: z
          .string()
          .regex(/^(\S+\s+){4}\S+$/, 'expected a cron schedule of five fields, e.g. "0 3 * * *"')
          .default('0 3 * * *')
          .describe('when Longhorn backs up every volume (RecurringJob obsctl-backup, cron in UTC)'),
        retain: z.number().int().min(1).max(100).default(7).describe('backups Longhorn keeps per volume'),
      }),
    )
      .default({schedule: '0 3 * * *', retain: 7})
      .describe('Longhorn RecurringJob for volume backups, e.g. schedule: "0 3 * * *", retain: 7'),
  })

  const NodeSchema = z.strictObject({
    host: host.describe('address obsctl connects to over SSH, e.g. 192.168.101.194 or node-1.example.lab'),
    port: z.number().int().min(1).max(65535).optional().describe('SSH port of this node (default: ssh.port), e.g. 2222'),
    user: loginName.optional().describe('SSH user of this node (default: ssh.user), e.g. ubuntu'),
    name: checked(dnsSubdomainError).optional().describe('Kubernetes node name, a lower-case DNS name (defaults to the host)'),
    roles: z
      .array(z.enum(['control-plane', 'worker']))
      .min(1)
      .default(['control-plane', 'worker'])
      .describe('what the node runs, e.g. [worker]'),
    cpu: cpu.describe('declared CPU, e.g. 4 (at most 9223372036854775: Kubernetes counts CPU in 64-bit millicores)'),
    memory: memory.describe('declared memory, e.g. 16Gi (under 8Ei: a Kubernetes quantity holds at most 2^63-1)'),
  })

  const ClusterSchema = z.strictObject({
    name: dnsLabel.describe('e.g. cluster-01'),
    id: z
      .string()
      .regex(/^[0-9]{2,3}$/, 'expected a two- or three-digit id such as 01')
      .describe('two- or three-digit id in service names (<service>.k8s-cluster-<id>.<domain>), e.g. "01"'),
    role: z
      .enum(['central', 'edge'])
      .describe('central: the one cluster that runs Argo CD and the central Thanos, OpenSearch and Grafana; edge: sends its metrics and logs to central'),
    metrics: z
      .enum(['remote-scrape', 'agent'])
      .optional()
      .describe('edges only: remote-scrape (central scrapes through the API server) or agent (Prometheus Agent + remote write)'),
    apiServer: checked(apiServerUrlError).describe('https URL (never http: credentials are sent to it), e.g. https://192.168.101.194:6443'),
    context: checked(dnsSubdomainError)
      .optional()
      .describe(
        'name of the kubeconfig context obsctl writes for this cluster (kubeconfig merge) and selects to reach it; default <name>-context (e.g. cluster-01-context); a lower-case DNS name, unique among the clusters',
      )
      .meta({examples: ['lab-central', 'cluster-01-context']}),
    kubernetes: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, 'expected a Kubernetes version such as 1.35 or 1.35.1')
      .optional()
      .describe(
        "this cluster's Kubernetes version while it differs from versions.kubernetes: obsctl upgrade kubernetes --cluster writes it when this cluster is upgraded ahead of the others, and removes it once every cluster runs the new version; e.g. 1.35",
      ),
    podCidr: cidr.default('10.244.0.0/16').describe('pod network of the cluster, e.g. 10.244.0.0/16'),
    serviceCidr: cidr.default('10.96.0.0/12').describe('service network of the cluster, e.g. 10.96.0.0/12'),
    apiServerSans: z
      .array(checked((v) => hostError(v.startsWith('*.') ? v.slice(2) : v)))
      .default([])
      .describe('extra names or addresses in the API server certificate, e.g. [api.cluster-01.lab]'),
    loadBalancerIPs: z
      .array(
        checked((v) => {
          const r = parseLbEntry(v)
          return typeof r === 'string' ? `${r} (expected an address, a CIDR or a range START-STOP)` : undefined
        }),
      )
      .default([])
      .describe('Cilium LB IP pool (CIDRs or start-stop ranges)'),
    nodes: z.array(NodeSchema).min(1).describe('the machines of the cluster; the first control-plane node runs kubeadm init'),
  })

  const PlatformSchema = z.strictObject({
    apiVersion: z.literal(API_VERSION).describe(`always ${API_VERSION}`),
    kind: z.literal(KIND).describe(`always ${KIND}`),
    name: dnsLabel.default('observability').describe('name of the platform, a DNS label, e.g. observability'),
    domain: checked(dnsSubdomainError).describe('base DNS domain, e.g. miribit.lab'),
    profile: z.enum(['lab', 'production']).default('lab').describe('sizing profile: lab (single replicas, small requests) or production (HA replicas)'),
    ssh: emptyWhenNull(SshSchema).default(SshSchema.parse({})).describe('how obsctl reaches the nodes over SSH (user, key or agent, host key policy)'),
    s3: S3Schema.describe('the S3 service (MinIO) for metrics blocks, log snapshots and backups; credentials from env vars'),
    git: GitSchema.describe('the GitOps repository obsctl renders into and Argo CD pulls'),
    versions: emptyWhenNull(VersionsSchema)
      .default(VersionsSchema.parse({}))
      .describe('versions of Kubernetes, Argo CD, the charts and images; each defaults to the tested version'),
    retention: emptyWhenNull(RetentionSchema).default(RetentionSchema.parse({})).describe('how long metrics and logs are kept, locally and in S3'),
    replicas: emptyWhenNull(
      z.record(
        z.string(),
        z
          .number()
          .int()
          .min(0)
          .max(INT32_MAX, {
            error: (issue) =>
              `${String(issue.input)} replicas is more than Kubernetes holds: at most ${INT32_MAX} (replicas is a 32-bit integer, int32, in every manifest obsctl renders it into, which the API server would refuse)`,
          })
          .describe(`replicas of this component, 0 to ${INT32_MAX} (Kubernetes' replicas is an int32), e.g. 3`),
      ),
    )
      .default({})
      .describe(`per-component replica overrides of the sizing profile, e.g. prometheus: 3, opensearch-data: 5; each at most ${INT32_MAX} (int32)`),
    endpoints: emptyWhenNull(
      z.strictObject(
        Object.fromEntries(
          ENDPOINT_SERVICES.map((s) => [
            s,
            // a service obsctl sends a credential to (opensearch, grafana, argocd) only over https
            checked((v) => httpUrlError(v, 'services get their credentials from env vars, never from the URL') ?? plainHttpCredentialError(s, v))
              .optional()
              .describe(`URL obsctl uses for ${s} instead of the default https://${s}.k8s-cluster-<central id>.<domain>, e.g. https://${s}.example.lab`),
          ]),
        ) as Record<EndpointService, z.ZodOptional<ReturnType<typeof checked>>>,
      ),
    )
      .default({})
      .describe(
        'per-service URL overrides (e.g. thanos-query: https://...); default <service>.k8s-cluster-<id>.<domain>; opensearch, grafana and argocd get credentials: https only',
      ),
    clusters: z.array(ClusterSchema).min(1).describe('one central cluster and any number of edges'),
    backup: emptyWhenNull(BackupSchema)
      .default(BackupSchema.parse({}))
      .describe('etcd/obsctl backups (obsctl backup create) and the Longhorn volume backup schedule'),
    alerting: emptyWhenNull(AlertingSchema)
      .default(AlertingSchema.parse({}))
      .describe('Alertmanager receivers and routes (config/alerting.ts); secrets only as env var names'),
  })
  return PlatformSchema
}

let built: ReturnType<typeof buildPlatformSchema> | undefined
export const platformSchema = () => (built ??= buildPlatformSchema())

type PlatformSchema = ReturnType<typeof buildPlatformSchema>
export type Platform = z.output<PlatformSchema>
export type PlatformInput = z.input<PlatformSchema>
export type Cluster = Platform['clusters'][number]
export type ClusterNode = Cluster['nodes'][number]
export type Bucket = Platform['s3']['buckets']['metrics']
export type ChartName = keyof Platform['versions']['charts']

/**
 * The inventory's JSON Schema, draft-07: the draft yaml-language-server (editors' YAML support) reads.
 * Written to .obsctl/schema.json by `obsctl init`; printed by `obsctl config schema`; read by `config explain`.
 * It depends on this build alone: kept in the derived-result cache (../derived-cache.ts, whose folder is
 * per build), so `init` does not build the zod schema only to print it.
 */
export function jsonSchema(): Record<string, unknown> {
  return derivedJson('json-schema', API_VERSION, () => ({
    ...(zod().toJSONSchema(platformSchema(), {target: 'draft-7', io: 'input', unrepresentable: 'any', override: emptyWhenNullJson}) as Record<string, unknown>),
    title: 'obsctl inventory (obsctl.dev/v1alpha1 Platform)',
  }))
}
