/**
 * `config validate`: rules the schema cannot express. Each finding has a severity, the field
 * path with its file:line, a message (the reason) and a fix. In the one check model (src/lib/checks/)
 * a finding is an outcome (`lintOutcomes`): error → fail, warning → warn, info → info; the report keeps
 * its own keys (`findings`, `severity`, `fix`) for `config validate --json`.
 *
 * Over 300 lines on purpose: every cross-field rule reads the same parsed document and reports through one
 * finding builder that resolves file:line; split by rule, each file would repeat that walk and builder.
 */
import type {FieldPath, LoadedInventory, Position} from './load.js'
import {formatPath} from './load.js'
import {derivedJson} from '../derived-cache.js'
import {lintEntry} from './lint-entry.js'
import {
  apiServerHost,
  argocdHA,
  centralCluster,
  edgePrometheusName,
  ingressHost,
  INGRESS_SERVICES,
  kubeContextName,
  metricsMode,
  nodeName,
  serviceHost,
} from './model.js'
import {lintAlerting, receiverSecrets} from './alerting.js'
import {capacity, FIXED_REPLICAS, SCALABLE_COMPONENTS, type CapacityRow} from './sizing.js'
import {durationSeconds} from './units.js'
import {SNAPSHOT_EXPIRY_FIX, SNAPSHOT_EXPIRY_REASON} from './snapshot-expiry.js'
import path from 'node:path'
import type {CheckStatus, Outcome} from '../checks/model.js'
import {caProblem, checkFiles} from './files.js'
import {inputError} from '../errors.js'
import {envPasswordProblems} from './passwords.js'
import {envFix, envValueProblem} from '../env.js'
import {addressRange, dnsSubdomainError, hostKey, overlaps, parseCidr, parseLbEntry, urlHost, urlKey, type AddressRange} from './validators.js'

export type Severity = 'error' | 'warning' | 'info'

export interface Finding {
  id: string
  severity: Severity
  path: string
  location: string
  message: string
  fix: string
}

/** A lint severity as the check model's status. */
export const SEVERITY_STATUS: Record<Severity, CheckStatus> = {error: 'fail', warning: 'warn', info: 'info'}

/** The findings as check outcomes: the field path is the title, its file:line (or "environment") the target. */
export function lintOutcomes(r: Pick<LintReport, 'findings'>): Outcome<{path: string; location: string}>[] {
  return r.findings.map((f) => ({
    id: f.id,
    title: f.path,
    target: f.location,
    path: f.path,
    location: f.location,
    status: SEVERITY_STATUS[f.severity],
    detail: f.message,
    hint: f.fix,
  }))
}

export interface LintReport {
  file: string
  findings: Finding[]
  capacity: CapacityRow[]
  errors: number
  warnings: number
}

export interface LintOptions {
  allowOvercommit?: boolean
  /**
   * Also check what the run will read from this workstation: the files the inventory names (SSH
   * identity, Git deploy key, CA bundle) and the passwords set in the environment. `config validate`
   * and `bootstrap` (also --dry-run) do; inventory edits do not (a day-2 edit need not have the SSH key).
   */
  workstation?: boolean
  /** the environment to read passwords from (default process.env) */
  env?: NodeJS.ProcessEnv
}

const THANOS_RESOLUTIONS = ['raw', '5m', '1h'] as const

const HOUR = 3600
const DAY = 86_400

/** A finding at a field of the inventory, placed at its file:line:column. */
function finder(inv: LoadedInventory, findings: Finding[]): AddFinding {
  return (id, severity, at, message, fix) => {
    const pos: Position = inv.positionOf(at)
    findings.push({id, severity, path: formatPath(at), location: `${pos.file}:${pos.line}:${pos.column}`, message, fix})
  }
}

/**
 * Lint the inventory. What follows from its text alone (every finding but the workstation's, and the capacity
 * table) is kept in the derived-result cache for exactly that text, file and --allow-overcommit, as its parse is
 * (../derived-cache.ts): `config validate` of an unchanged inventory places no finding in the YAML again and loads
 * no address parser. The workstation's findings (files, environment) are looked at on every run, in their place.
 */
export function lintInventory(inv: LoadedInventory, opts: LintOptions = {}): LintReport {
  const entry = lintEntry(inv, opts.allowOvercommit)
  const own = derivedJson(entry.name, entry.input, () => inventoryLint(inv, opts))
  const findings = [
    ...own.findings.slice(0, own.workstationAt),
    ...(opts.workstation ? workstationFindings(inv, opts) : []),
    ...own.findings.slice(own.workstationAt),
  ]
  return {
    file: inv.file,
    findings,
    capacity: own.capacity,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}

/**
 * Lint the inventory and refuse it when any finding is an error: exit 2 (`CONFIG_INVALID`), every error with its
 * file:line and the report as details, before anything is built or written from it. The message starts as a schema
 * error's does (`invalid inventory FILE:`, ./load.ts configError): the same situation, the file as it is on disk.
 * bootstrap (also --dry-run), rollback (the inventory it would restore) and every command that changes remote systems
 * from the inventory (through BaseCommand.loadValidInventory, ../cli/base.ts) call it; inventory edits lint the
 * edited text instead (./edit.ts).
 */
export function refuseLintErrors(inv: LoadedInventory, opts: LintOptions = {}): LintReport {
  const lint = lintInventory(inv, opts)
  if (lint.errors === 0) return lint
  const errs = lint.findings.filter((f) => f.severity === 'error')
  throw inputError(
    `invalid inventory ${inv.file}:\n${errs.map((f) => `${f.location} ${f.path}: ${f.message}`).join('\n')}`,
    [...new Set(errs.map((f) => f.fix)), 'obsctl config validate shows every finding with its fix'],
    'CONFIG_INVALID',
    lint,
  )
}

/** The findings of the inventory's own text, with where the workstation's go among them, and the capacity table. */
function inventoryLint(inv: LoadedInventory, opts: LintOptions): {findings: Finding[]; workstationAt: number; capacity: CapacityRow[]} {
  const p = inv.platform
  const findings: Finding[] = []
  const add = finder(inv, findings)

  // exactly one central cluster
  const centrals = p.clusters.flatMap((c, i) => (c.role === 'central' ? [i] : []))
  if (centrals.length === 0)
    add(
      'central-count',
      'error',
      ['clusters'],
      'no cluster has role: central; the platform needs exactly one',
      'set role: central on the cluster that runs Argo CD, Thanos and OpenSearch',
    )
  for (const i of centrals.slice(1))
    add(
      'central-count',
      'error',
      ['clusters', i, 'role'],
      `more than one central cluster (${centrals.map((j) => p.clusters[j]!.name).join(', ')})`,
      'keep exactly one role: central; make the others role: edge',
    )

  // the central cluster's Ingress hosts (<service>.k8s-cluster-<id>.<domain>, where no endpoint names a DNS host) are
  // DNS subdomains: Kubernetes refuses an Ingress whose host is over 253 characters, and that Application never syncs
  const central = centrals.length > 0 ? p.clusters[centrals[0]!] : undefined
  if (central) {
    const [longest] = INGRESS_SERVICES.map((service) => ({service, host: ingressHost(p, central, service)}))
      .filter((x) => x.host === serviceHost(p, central, x.service) && x.host.length > 253)
      .sort((a, b) => b.host.length - a.host.length)
    if (longest)
      add(
        'ingress-host-length',
        'error',
        ['domain'],
        `the Ingress host ${longest.host} would be ${longest.host.length} characters; Kubernetes takes at most 253 (a DNS subdomain), so that Application would never sync`,
        `a domain of at most ${p.domain.length - (longest.host.length - 253)} characters, or endpoints.${longest.service} naming a shorter host`,
      )
  }

  // uniqueness
  // `shown`: the entry as written, when the key is a normal form of it
  const seen = (kind: string, key: string, at: FieldPath, map: Map<string, string>, owner: string, shown = key) => {
    const prev = map.get(key)
    if (prev) add(`unique-${kind}`, 'error', at, `duplicate ${kind} "${shown}" (also ${prev})`, `give each ${kind} a unique value`)
    else map.set(key, owner)
  }
  const names = new Map<string, string>()
  const ids = new Map<string, string>()
  const addrs = new Map<string, string>()
  const apis = new Map<string, string>()
  const contexts = new Map<string, string>()
  p.clusters.forEach((c, i) => {
    seen('cluster name', c.name, ['clusters', i, 'name'], names, `clusters[${i}]`)
    seen('cluster id', c.id, ['clusters', i, 'id'], ids, `clusters[${i}] (${c.name})`)
    // one API server however its URL is spelt (API.Lab and api.lab, [FD00:0::1] and [fd00::1], :443 and none)
    seen('API server', urlKey(c.apiServer), ['clusters', i, 'apiServer'], apis, `clusters[${i}] (${c.name})`, c.apiServer)
    seen('kubeconfig context', kubeContextName(c), ['clusters', i, c.context ? 'context' : 'name'], contexts, `clusters[${i}] (${c.name})`)
    c.nodes.forEach((n, j) => {
      // one machine however its address is spelt (Node1.lab and node1.lab; fd00::1 and FD00:0::1)
      const port = n.port ?? p.ssh.port
      seen(
        'node address',
        `${hostKey(n.host)}:${port}`,
        ['clusters', i, 'nodes', j, 'host'],
        addrs,
        `clusters[${i}].nodes[${j}] (${c.name})`,
        `${urlHost(n.host)}:${port}`,
      )
    })
    // Kubernetes node names (name, else the host) are unique in a cluster; equal hosts are reported above
    const nodeNames = new Map<string, number>()
    c.nodes.forEach((n, j) => {
      const prev = nodeNames.get(nodeName(n))
      if (prev === undefined) nodeNames.set(nodeName(n), j)
      else if (n.name || c.nodes[prev]!.name)
        add(
          'unique-node-name',
          'error',
          ['clusters', i, 'nodes', j, n.name ? 'name' : 'host'],
          `duplicate node name "${nodeName(n)}" in ${c.name} (also clusters[${i}].nodes[${prev}]): kubeadm would join the second node over the first`,
          'give each node of a cluster its own name',
        )
    })
    // a node without a name is the Kubernetes node its host names: kubeadm refuses a nodeRegistration.name that is no
    // lower-case DNS name (an upper-case host name, an IPv6 address) on the node, after its packages are installed
    c.nodes.forEach((n, j) => {
      // the kubelet labels its Node kubernetes.io/hostname=<node name>, and a label value is at most 63 characters:
      // a longer node name (a DNS subdomain may have 253) never registers
      const nn = nodeName(n)
      if (nn.length > 63 && dnsSubdomainError(nn) === undefined)
        add(
          'node-name',
          'error',
          ['clusters', i, 'nodes', j, n.name ? 'name' : 'host'],
          `node name ${nn}${n.name ? '' : ' (its host: the node has no name)'} is ${nn.length} characters: the kubelet labels its Node kubernetes.io/hostname with it, and a label value is at most 63, so the node would never register`,
          `give the node a name of at most 63 characters, e.g. name: ${nn.split('.')[0]}`,
        )
      if (n.name !== undefined || dnsSubdomainError(n.host) === undefined) return
      const suggestion = n.host
        .toLowerCase()
        .replace(/[^a-z0-9.-]+/g, '-')
        .replace(/^[-.]+|[-.]+$/g, '')
      add(
        'node-name',
        'error',
        ['clusters', i, 'nodes', j, 'host'],
        `node ${n.host} has no name, so its Kubernetes node name would be its host, which Kubernetes refuses: a node name is a lower-case DNS name${n.host.includes(':') ? ', and an IPv6 address is none' : ''} (kubeadm's nodeRegistration.name)`,
        `give the node a name, e.g. name: ${dnsSubdomainError(suggestion) === undefined ? suggestion : 'node-1'}`,
      )
    })
    // a remote-scrape edge's Prometheus on the central cluster is the StatefulSet prometheus-edge-<name>: Kubernetes
    // creates no pod for a StatefulSet whose name is over 52 characters (the pods' controller-revision-hash label is
    // the name, '-' and a 10-character hash, at most 63: kubernetes/kubernetes#64023)
    const sts = `prometheus-${edgePrometheusName(c)}`
    if (metricsMode(c) === 'remote-scrape' && sts.length > 52)
      add(
        'edge-prometheus-name',
        'error',
        ['clusters', i, 'name'],
        `remote-scrape edge ${c.name}: its Prometheus on the central cluster would be the StatefulSet ${sts} (${sts.length} characters), and Kubernetes starts no pod of a StatefulSet whose name is over 52 (the pods' controller-revision-hash label, that name and 11 characters, must be at most 63)`,
        `name the cluster with at most ${52 - sts.length + c.name.length} characters, or give it metrics: agent`,
      )
    if (c.role === 'central' && c.metrics)
      add(
        'metrics-central',
        'error',
        ['clusters', i, 'metrics'],
        'metrics applies to edge clusters only; the central cluster runs the full Prometheus',
        'remove metrics from the central cluster',
      )
    if (!c.nodes.some((n) => n.roles.includes('control-plane')))
      add(
        'control-plane',
        'error',
        ['clusters', i, 'nodes'],
        `cluster ${c.name} has no control-plane node`,
        'give the first node roles: [control-plane, worker]',
      )
  })

  lintNetworks(p, add)

  // lifecycle rules and ISM count whole days
  const wholeDays: [FieldPath, string | undefined][] = [
    [['s3', 'buckets', 'metrics', 'expireAfter'], p.s3.buckets.metrics.expireAfter],
    [['s3', 'buckets', 'snapshots', 'expireAfter'], p.s3.buckets.snapshots.expireAfter],
    [['s3', 'buckets', 'backups', 'expireAfter'], p.s3.buckets.backups.expireAfter],
    [['retention', 'opensearch', 'deleteAfter'], p.retention.opensearch.deleteAfter],
  ]
  for (const [at, v] of wholeDays) {
    if (v === undefined) continue
    const s = durationSeconds(v)
    if (s < DAY || s % DAY !== 0)
      add(
        'whole-days',
        'error',
        at,
        `${v} is not a whole number of days: S3 lifecycle rules and OpenSearch ISM count in days`,
        `write it in days, e.g. ${Math.max(1, Math.round(s / DAY))}d`,
      )
  }

  // S3 over plain http: AWS Signature V4 never sends the secret key, but the access key id, the data (metrics blocks,
  // log snapshots, backups) and the signed requests travel in cleartext. Allowed (a lab MinIO often has no TLS), warned.
  if (/^http:\/\//i.test(p.s3.endpoint))
    add(
      's3-plain-http',
      'warning',
      ['s3', 'endpoint'],
      'S3 over plain http: the secret key is never sent (requests are signed), but the access key id and every object (metrics blocks, log snapshots, etcd and obsctl backups) cross the network in cleartext, readable and open to tampering',
      'use the https:// endpoint (s3.caFile for a private CA)',
    )

  // git credentials Argo CD will need for a private remote
  if (p.git.private) {
    const https = /^https?:\/\//.test(p.git.remote)
    if (https && !p.git.tokenEnv)
      add(
        'git-credentials',
        'error',
        ['git', 'private'],
        'the remote is private over https, but git.tokenEnv is not set: Argo CD could not pull it',
        'set git.tokenEnv to the name of an env var holding a read token',
      )
    // the token goes into Argo CD's repository Secret, and Argo CD sends it to the remote on every fetch
    if (/^http:\/\//i.test(p.git.remote))
      add(
        'git-plain-http',
        'error',
        ['git', 'remote'],
        'the remote is private over plain http: Argo CD would send the token from git.tokenEnv in cleartext on every fetch',
        'use the https:// (or ssh://) address of the repository',
      )
    if (!https && !p.git.sshKeyFile)
      add(
        'git-credentials',
        'error',
        ['git', 'private'],
        'the remote is private over ssh, but git.sshKeyFile is not set: Argo CD could not pull it',
        'set git.sshKeyFile to the private deploy key of the GitOps repository',
      )
  }

  const workstationAt = findings.length

  // Thanos retention: only raw/5m/1h; raw >= 40h, 5m >= 10d (compactor refuses to start otherwise)
  const th = p.retention.thanos
  for (const [res, value] of Object.entries(th)) {
    if (!(THANOS_RESOLUTIONS as readonly string[]).includes(res)) {
      add(
        'thanos-resolution',
        'error',
        ['retention', 'thanos', res],
        `Thanos has no "${res}" resolution: it keeps only raw, 5m and 1h downsampled data`,
        `remove "${res}: ${value}"; set raw, 5m and 1h (e.g. raw: 30d, 5m: 90d, 1h: 180d)`,
      )
    }
  }
  for (const res of THANOS_RESOLUTIONS) {
    if (!(res in th))
      add(
        'thanos-resolution',
        'error',
        ['retention', 'thanos'],
        `Thanos retention for "${res}" is missing`,
        `set retention.thanos.${res} (e.g. raw: 30d, 5m: 90d, 1h: 180d)`,
      )
  }
  const raw = th.raw ? durationSeconds(th.raw) : undefined
  const five = th['5m'] ? durationSeconds(th['5m']) : undefined
  const hour = th['1h'] ? durationSeconds(th['1h']) : undefined
  if (raw !== undefined && raw !== 0 && raw < 40 * HOUR)
    add(
      'thanos-raw-retention',
      'error',
      ['retention', 'thanos', 'raw'],
      `raw retention ${th.raw} is under 40h: the compactor (since Thanos v0.25) refuses to start, because raw blocks would be deleted before they can be downsampled to 5m`,
      "set raw to 40h or more (e.g. 30d); a 2h figure is Prometheus's local retention: set that as retention.prometheus",
    )
  if (five !== undefined && five !== 0 && five < 10 * DAY)
    add(
      'thanos-5m-retention',
      'error',
      ['retention', 'thanos', '5m'],
      `5m retention ${th['5m']} is under 10d: the compactor refuses to start, because 5m blocks would be deleted before they can be downsampled to 1h`,
      'set 5m to 10d or more (e.g. 90d)',
    )
  if (raw && five && hour && !(raw <= five && five <= hour))
    add(
      'thanos-retention-order',
      'warning',
      ['retention', 'thanos'],
      'coarser resolutions are usually kept longer (raw <= 5m <= 1h)',
      'e.g. raw: 30d, 5m: 90d, 1h: 180d',
    )

  // Prometheus local retention with the sidecar
  if (durationSeconds(p.retention.prometheus) < 6 * HOUR)
    add(
      'prometheus-retention',
      'error',
      ['retention', 'prometheus'],
      `Prometheus local retention ${p.retention.prometheus} is under 6h: the Thanos sidecar uploads 2h blocks and needs local data to survive an upload outage or restart`,
      'set retention.prometheus to 6h or more',
    )
  const os = p.retention.opensearch
  if (durationSeconds(os.deleteAfter) < 2 * DAY)
    add(
      'opensearch-retention',
      'error',
      ['retention', 'opensearch', 'deleteAfter'],
      `indices and snapshots deleted after ${os.deleteAfter}: the snapshot management policy snapshots the daily log indices once a day, so an index could be deleted before any snapshot holds it`,
      'set retention.opensearch.deleteAfter to 2d or more (e.g. 180d)',
    )
  if (os.snapshotAfter)
    add(
      'opensearch-snapshot-after',
      'warning',
      ['retention', 'opensearch', 'snapshotAfter'],
      `retention.opensearch.snapshotAfter (${os.snapshotAfter}) is no longer used: the snapshot management policy snapshots fluent-bit-* every day and deletes snapshots after deleteAfter (snapshots made by an ISM snapshot action could never be deleted through OpenSearch)`,
      'remove retention.opensearch.snapshotAfter',
    )
  if (p.s3.buckets.snapshots.expireAfter)
    add('snapshot-expiry', 'error', ['s3', 'buckets', 'snapshots', 'expireAfter'], SNAPSHOT_EXPIRY_REASON, SNAPSHOT_EXPIRY_FIX)

  // Fluent Bit runs the Fluent operator's image; its 2.x builds were published elsewhere (kubesphere/fluent-bit:v2.x,
  // fluent-operator .github/workflows/build-fb-image.yaml), so an inventory written with the old default 2.2.0 would
  // render an image that is not there
  const fbMajor = Number(/^v?(\d+)\./.exec(p.versions.fluentBit)?.[1] ?? NaN)
  if (fbMajor < 3)
    add(
      'fluent-bit-version',
      'warning',
      ['versions', 'fluentBit'],
      `versions.fluentBit ${p.versions.fluentBit} is a tag of the Fluent operator's image ghcr.io/fluent/fluent-operator/fluent-bit, which is published from Fluent Bit 3 on (2.x builds went to kubesphere/fluent-bit); the pod would not start`,
      'set versions.fluentBit to 4.0.1 (the default of the fluent-operator 3.4.2 chart)',
    )

  // Argo CD HA needs >= 3 central nodes
  if (centrals.length === 1 && !argocdHA(p)) {
    const c = centralCluster(p)
    add(
      'argocd-ha',
      'info',
      ['clusters', centrals[0]!, 'nodes'],
      `central cluster ${c.name} has ${c.nodes.length} node(s): Argo CD's HA manifest needs at least 3 (its pods use required anti-affinity), so the non-HA manifest will be installed`,
      'add nodes to the central cluster for HA Argo CD',
    )
  }

  // remote-scrape: nodes/proxy warning, once
  const rs = p.clusters.findIndex((c) => metricsMode(c) === 'remote-scrape')
  if (rs >= 0) {
    const names = p.clusters.filter((c) => metricsMode(c) === 'remote-scrape').map((c) => c.name)
    add(
      'remote-scrape-nodes-proxy',
      'warning',
      ['clusters', rs, 'metrics'],
      `remote-scrape (${names.join(', ')}) runs one small Prometheus per edge on the central cluster (${names.map((n) => edgePrometheusName(n)).join(', ')}: external label cluster=<edge>, its own Thanos sidecar), holding a token with "get nodes/proxy" on that edge; Kubernetes documents that permission as more than read-only (it reaches the kubelet API, including exec over WebSocket). The ServiceAccount gets nothing else`,
      'use metrics: agent on an edge to keep that token off the central cluster and that Prometheus off its budget (a Prometheus Agent on the edge remote-writes instead)',
    )
  }

  for (const [component, n] of Object.entries(p.replicas)) {
    const fixed = FIXED_REPLICAS[component]
    if (fixed !== undefined)
      add(
        'replicas-fixed',
        'error',
        ['replicas', component],
        `replicas.${component} is not rendered: ${fixed}`,
        `remove replicas.${component}; the ones obsctl renders: ${SCALABLE_COMPONENTS.join(', ')}`,
      )
    else if (!SCALABLE_COMPONENTS.includes(component))
      add('replicas-component', 'error', ['replicas', component], `no scalable component "${component}"`, `use one of: ${SCALABLE_COMPONENTS.join(', ')}`)
    else if (n === 0)
      add(
        'replicas-zero',
        'warning',
        ['replicas', component],
        `replicas.${component} is 0: ${component} will not run${/^opensearch-(master|data)$/.test(component) ? ' (and the OpenSearch cluster cannot form or hold the logs without it)' : ''}`,
        `set replicas.${component} to 1 or more, or remove it for the profile's count`,
      )
    else if (component === 'prometheus' && n < 2)
      add(
        'prometheus-ha',
        'warning',
        ['replicas', component],
        `${n} Prometheus replica(s): the HA pair (deduplicated by Thanos on prometheus_replica) needs 2`,
        'set replicas.prometheus to 2 or more',
      )
  }

  // alerting: receivers and routes (config/alerting.ts)
  lintAlerting(
    p.alerting,
    p.clusters.map((c) => c.name),
    add,
  )

  // capacity budget per cluster
  const rows = p.clusters.map((c) => capacity(p, c))
  rows.forEach((r, i) => {
    if (r.cpuOk && r.memoryOk) return
    const what = [!r.cpuOk && 'CPU', !r.memoryOk && 'memory'].filter(Boolean).join(' and ')
    add(
      'capacity',
      opts.allowOvercommit ? 'warning' : 'error',
      ['clusters', i, 'nodes'],
      `the platform's requests for ${r.cluster} (${r.role}, profile ${p.profile}) exceed its declared ${what}`,
      `add nodes or CPU/memory, use profile: lab, or pass --allow-overcommit`,
    )
  })

  return {findings, workstationAt, capacity: rows}
}

/** What the run will read from this workstation: the files the inventory names, the passwords in the environment. */
function workstationFindings(inv: LoadedInventory, opts: LintOptions): Finding[] {
  const p = inv.platform
  const findings: Finding[] = []
  const add = finder(inv, findings)
  for (const f of checkFiles(inv)) add(f.id, 'error', f.at, f.message, f.fix)
  const env = opts.env ?? process.env
  if (p.git.private && p.git.tokenEnv && /^https?:\/\//.test(p.git.remote) && !env[p.git.tokenEnv]) {
    add(
      'git-token-env',
      'warning',
      ['git', 'tokenEnv'],
      `$${p.git.tokenEnv} is not set in this environment: the root-app phase will need it`,
      `export ${p.git.tokenEnv}=… before bootstrap`,
    )
  }
  // the CA `secrets apply` gives Fluent Bit (its --opensearch-ca-file flag is checked where it is read)
  const osCa = env.OBSCTL_OPENSEARCH_CA_FILE
  const osCaValue = osCa ? envValueProblem('OBSCTL_OPENSEARCH_CA_FILE', osCa) : undefined
  const osCaProblem = osCaValue
    ? {message: osCaValue, fix: envFix('OBSCTL_OPENSEARCH_CA_FILE', 'PATH', 'path')}
    : osCa
      ? caProblem(path.resolve(osCa))
      : undefined
  if (osCaProblem)
    findings.push({
      id: 'opensearch-ca-file',
      severity: 'error',
      path: '$OBSCTL_OPENSEARCH_CA_FILE',
      location: 'environment',
      message: osCaProblem.message,
      fix: osCaProblem.fix,
    })
  // the credentials the inventory names for a run: a blank or multi-line value would fail only once it reached the service
  // (the backup key is checked by backup create: a restore must take an older backup's key as it is)
  const named: [string, FieldPath][] = [
    [p.s3.accessKeyEnv, ['s3', 'accessKeyEnv']],
    [p.s3.secretKeyEnv, ['s3', 'secretKeyEnv']],
    ...(p.git.tokenEnv ? [[p.git.tokenEnv, ['git', 'tokenEnv']] as [string, FieldPath]] : []),
    ...receiverSecrets(p.alerting).map((r): [string, FieldPath] => [r.env, r.at]),
  ]
  const seen = new Set<string>()
  for (const [name, at] of named) {
    const v = env[name]
    const problem = v && !seen.has(name) ? envValueProblem(name, v, {secret: true}) : undefined
    seen.add(name)
    if (problem) add('env-value', 'error', at, problem, envFix(name))
  }
  for (const w of envPasswordProblems(env)) {
    findings.push({
      id: 'password-policy',
      severity: 'error',
      path: `$${w.env}`,
      location: 'environment',
      message: `$${w.env} ${w.problem}`,
      fix: `export ${w.env}=… with a password that passes (or unset it: secrets apply keeps, generates or asks)`,
    })
  }

  return findings
}

type AddFinding = (id: string, severity: Severity, at: FieldPath, message: string, fix: string) => void

/**
 * Addresses that would collide once the cluster runs: pod, service and load-balancer ranges that
 * overlap, nodes inside them, LB pools shared by two clusters, and edge API servers that the central
 * cluster's own pod or service range would swallow (central Prometheus and Argo CD reach them from pods).
 */
function lintNetworks(p: LoadedInventory['platform'], add: AddFinding): void {
  const pools: {range: AddressRange; at: FieldPath; cluster: string}[] = []
  const nets = p.clusters.map((c, i) => {
    const pod = parseCidr(c.podCidr)
    const svc = parseCidr(c.serviceCidr)
    if (pod && svc && overlaps(pod, svc))
      add(
        'cidr-overlap',
        'error',
        ['clusters', i, 'serviceCidr'],
        `${c.name}: serviceCidr ${c.serviceCidr} overlaps podCidr ${c.podCidr}: a Service address would also be a pod address`,
        'pick ranges that do not overlap, e.g. podCidr 10.244.0.0/16 and serviceCidr 10.96.0.0/12',
      )
    const lb: AddressRange[] = []
    c.loadBalancerIPs.forEach((e, k) => {
      const r = parseLbEntry(e)
      if (typeof r === 'string') return // the schema reported it
      const at: FieldPath = ['clusters', i, 'loadBalancerIPs', k]
      for (const [name, net] of [
        ['podCidr', pod],
        ['serviceCidr', svc],
      ] as const) {
        if (net && overlaps(r, net))
          add(
            'lb-overlap',
            'error',
            at,
            `${c.name}: load-balancer range ${e} overlaps ${name} ${net.text}: Cilium would hand out addresses the cluster already routes internally`,
            `take the pool from the nodes' network, outside ${net.text}`,
          )
      }
      for (const other of lb)
        if (overlaps(r, other))
          add('lb-overlap', 'error', at, `${c.name}: load-balancer range ${e} overlaps ${other.text} of the same pool`, 'list each address once')
      for (const o of pools)
        if (o.cluster !== c.name && overlaps(r, o.range))
          add(
            'lb-overlap',
            'error',
            at,
            `${c.name}: load-balancer range ${e} overlaps ${o.range.text} of ${o.cluster}: two clusters would announce the same address`,
            'give each cluster its own addresses',
          )
      lb.push(r)
      pools.push({range: r, at, cluster: c.name})
    })
    return {pod, svc}
  })
  p.clusters.forEach((c, i) => {
    c.nodes.forEach((n, j) => {
      const a = addressRange(n.host)
      if (!a) return
      const at: FieldPath = ['clusters', i, 'nodes', j, 'host']
      const {pod, svc} = nets[i]!
      if (pod && overlaps(a, pod))
        add(
          'node-in-cidr',
          'error',
          at,
          `node ${n.host} is inside ${c.name}'s podCidr ${c.podCidr}: traffic to the node would be routed to pods`,
          "move podCidr off the nodes' network (e.g. 10.244.0.0/16)",
        )
      if (svc && overlaps(a, svc))
        add(
          'node-in-cidr',
          'error',
          at,
          `node ${n.host} is inside ${c.name}'s serviceCidr ${c.serviceCidr}: traffic to the node would be taken for a Service`,
          "move serviceCidr off the nodes' network (e.g. 10.96.0.0/12)",
        )
      for (const o of pools)
        if (overlaps(a, o.range))
          add(
            'node-in-lb',
            'error',
            at,
            `node ${n.host} is inside the load-balancer range ${o.range.text} of ${o.cluster}: Cilium could give a Service the node's address`,
            'keep node addresses out of every loadBalancerIPs range',
          )
    })
  })
  const ci = p.clusters.findIndex((c) => c.role === 'central')
  if (ci < 0) return
  const {pod, svc} = nets[ci]!
  p.clusters.forEach((c, i) => {
    if (i === ci) return
    let host: string
    try {
      host = apiServerHost(c)
    } catch {
      return
    }
    const a = addressRange(host)
    if (!a) return
    for (const [name, net] of [
      ['podCidr', pod],
      ['serviceCidr', svc],
    ] as const) {
      if (net && overlaps(a, net))
        add(
          'edge-api-in-central-cidr',
          'error',
          ['clusters', i, 'apiServer'],
          `${c.name}'s API server ${host} is inside the central cluster's ${name} ${net.text}: central Prometheus and Argo CD, which run in pods, could not reach it`,
          `move the central cluster's ${name} off the edges' network`,
        )
    }
  })
}
