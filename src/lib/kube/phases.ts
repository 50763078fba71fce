/**
 * The phases of the kube domain (DESIGN.md §3), factories registered in ../flows/registry.ts:
 * - `kubeconfig`: one target per cluster; reads admin.conf (SSH + sudo, or --from-file) and merges
 *   it into the target kubeconfig. Tasks run concurrently, but the file is edited by one task at a
 *   time, and backed up once per run.
 * - `secrets`: one target per cluster; server-side applies the credentials Secrets (see secrets.ts).
 *
 * Over 300 lines on purpose: the two phases share the per-cluster connection, the one-writer lock on the
 * kubeconfig file and its single backup per run.
 */
import {statSync} from 'node:fs'
import {yaml} from '../lazy-deps.js'
import {runClusters} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {centralCluster, findCluster, firstControlPlane, kubeClusterName, kubeContextName, kubeUserName, nodeLogin, sshTarget} from '../config/model.js'
import {receiverSecrets} from '../config/alerting.js'
import type {Cluster} from '../config/schema.js'
import {inputError} from '../errors.js'
import path from 'node:path'
// each from its own module, not the domain barrels: plan describes and fingerprints these phases, and the
// barrels would load every writer and client with them (the run-time ones load inside run/isDone below)
import {kubeconfigFiles, resolveKubeconfigPath} from '../platform/kube.js'
import {kubeForCluster} from './run.js'
import {ENV, type SecretValues} from './secrets/shared.js'
import type {SecretResult} from './secrets/apply.js'
import {resolveSecretValues} from './secrets/values.js'
import {secretShapes} from './secrets/catalogue.js'
import {tlsSecretSpecs} from './secrets/tls.js'
import {ADMIN_CONF_PATH, entriesFor, readAdminConfFile, readKubeconfigFile, type AdminConf} from './kubeconfig/parse.js'
import {conflictError, describeChanges, type EntryChange} from './kubeconfig/plan.js'
import {mergedView, planChainMerge} from './kubeconfig/chain.js'
import {envValue} from '../env.js'

export interface ClusterTarget extends Target {
  cluster: string
}

/** Options of the kubeconfig phase, set by `kubeconfig merge`, `cluster add` and `bootstrap` (the file is the run's --kubeconfig). */
export interface KubeconfigPhaseOptions {
  /** cluster → admin.conf path the user already has (--from-file) */
  fromFiles?: Record<string, string>
  /** replace entries whose names are taken by a different cluster */
  overwrite?: boolean
  /** always read admin.conf and compare (the explicit command); bootstrap trusts a matching file */
  recheck?: boolean
}

export interface KubeconfigClusterReport {
  cluster: string
  source: string
  changes: EntryChange[]
  written: boolean
  backup?: string
  summary: string
}

export function kubeconfigFile(ctx: Pick<RunContext, 'kubeconfig'>): string {
  return resolveKubeconfigPath(ctx.kubeconfig)
}

function clusterOf(ctx: RunContext, name: string): Cluster {
  const c = findCluster(ctx.platform, name)
  if (!c) throw inputError(`cluster ${name} is not in the inventory`, [`clusters: ${ctx.platform.clusters.map((x) => x.name).join(', ')}`])
  return c
}

function sourceOf(ctx: RunContext, c: Cluster, o: KubeconfigPhaseOptions): {kind: 'file'; file: string} | {kind: 'ssh'; label: string; key: string} {
  const file = o.fromFiles?.[c.name]
  if (file) return {kind: 'file', file}
  const node = firstControlPlane(c)
  // key: the fingerprint's form of the login, as journals hold it (user@host:port)
  const t = sshTarget(ctx.platform, node)
  return {kind: 'ssh', label: nodeLogin(ctx.platform, node), key: `${t.user}@${t.host}:${t.port}`}
}

/** admin.conf of one cluster: from --from-file, else over SSH from its first control-plane node. */
export async function fetchAdminConf(ctx: RunContext, c: Cluster, o: KubeconfigPhaseOptions = {}): Promise<AdminConf> {
  const src = sourceOf(ctx, c, o)
  if (src.kind === 'file') return readAdminConfFile(src.file)
  const {sshPool} = await import('../ssh/index.js')
  const pool = await sshPool(ctx)
  const conn = await pool.get(firstControlPlane(c))
  const {readAdminConfOverSsh} = await import('./kubeconfig/ssh.js')
  return readAdminConfOverSsh(conn, c.name)
}

/** Edits of the one file are serialised within a run. */
async function serially<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  const q = await ctx.resources.getOrCreate('kubeconfig:queue', () => ({tail: Promise.resolve() as Promise<unknown>}))
  const run = q.tail.then(fn, fn)
  q.tail = run.catch(() => undefined)
  return run
}

/** Merge one cluster's admin.conf into the run's kubeconfig; the file is backed up once per run. */
export async function mergeCluster(
  ctx: RunContext,
  c: Cluster,
  o: KubeconfigPhaseOptions,
  log: (line: string) => void = () => undefined,
): Promise<KubeconfigClusterReport> {
  const src = sourceOf(ctx, c, o)
  const sourceText = src.kind === 'file' ? src.file : `${ADMIN_CONF_PATH} on ${src.label} (sudo)`
  log(`reading admin.conf of ${c.name} from ${sourceText}`)
  const admin = await fetchAdminConf(ctx, c, o)
  if (admin.server && admin.server !== c.apiServer) log(`admin.conf names server ${admin.server}; using the inventory's ${c.apiServer}`)
  const entries = entriesFor(c, admin)
  const files = kubeconfigFiles(ctx.kubeconfig)
  const central = centralCluster(ctx.platform)
  const {writeMerge, withKubeconfigLocks} = await import('./kubeconfig/write.js')
  return serially(ctx, async () => {
    const written: string[] = []
    let backup: string | undefined
    // read, planned and written under kubectl's lock files: another obsctl (another inventory) or kubectl
    // writing the same file meanwhile is waited for and merged into, never overwritten
    const changes = await withKubeconfigLocks(files, async () => {
      // one file, or each entry in the $KUBECONFIG file that holds it (new ones where kubectl creates them)
      const plans = planChainMerge(files, [entries], {overwrite: o.overwrite, currentContext: c.name === central.name ? kubeContextName(central) : undefined})
      const {changes, conflicts} = plans[0]!
      if (conflicts.length > 0 && !o.overwrite) throw conflictError({file: files.join(path.delimiter), conflicts})
      for (const plan of plans) {
        const backupKey = `kubeconfig:backup:${plan.file}`
        const res = await writeMerge(plan, {backup: !ctx.resources.get(backupKey)})
        // the backup holds the file as it was before this run: later writes of the same run make none
        if (res.written) {
          ctx.resources.set(backupKey, res.backup ?? 'none')
          written.push(plan.file)
        }
        backup ??= res.backup
      }
      return changes
    })
    const where = written.length > 0 ? written.join(', ') : kubeconfigFile(ctx)
    const summary = `${where}: ${describeChanges(changes)}${backup ? ` (previous file backed up to ${backup})` : ''}`
    log(summary)
    return {cluster: c.name, source: sourceText, changes, written: written.length > 0, backup, summary}
  })
}

/** The file (or the $KUBECONFIG files, merged) already holds this cluster's entries with the inventory's server (bootstrap's live check). */
export function kubeconfigHasCluster(file: string | string[], c: Cluster): boolean {
  const objs: Record<string, unknown>[] = []
  for (const f of Array.isArray(file) ? file : [file]) {
    const text = readKubeconfigFile(f)
    if (!text) continue
    try {
      objs.push(yaml().parse(text) ?? {})
    } catch {
      return false
    }
  }
  const kc = mergedView(objs) as {
    clusters?: {name?: string; cluster?: Record<string, unknown>}[]
    users?: {name?: string}[]
    contexts?: {name?: string; context?: Record<string, unknown>}[]
  }
  const cl = kc.clusters?.find((x) => x?.name === kubeClusterName(c))
  const user = kc.users?.find((x) => x?.name === kubeUserName(c))
  const ctx = kc.contexts?.find((x) => x?.name === kubeContextName(c))
  return Boolean(
    cl?.cluster?.server === c.apiServer &&
    cl.cluster['certificate-authority-data'] &&
    user &&
    ctx?.context?.cluster === kubeClusterName(c) &&
    ctx.context.user === kubeUserName(c),
  )
}

export function kubeconfigPhase(o: KubeconfigPhaseOptions = {}): Phase<ClusterTarget, KubeconfigClusterReport> {
  return {
    name: 'kubeconfig',
    kubeconfig: 'write',
    title: 'Merge admin kubeconfigs',
    targets(ctx) {
      return runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} → ${kubeContextName(c)}`}))
    },
    fingerprint(t, ctx) {
      const c = clusterOf(ctx, t.cluster)
      const src = sourceOf(ctx, c, o)
      let fileStamp: string | undefined
      if (src.kind === 'file') {
        try {
          const st = statSync(src.file)
          fileStamp = `${st.size}:${st.mtimeMs}`
        } catch {
          fileStamp = 'missing'
        }
      }
      return {
        cluster: c.name,
        apiServer: c.apiServer,
        source: src.kind === 'file' ? {file: src.file, stamp: fileStamp} : src.key,
        kubeconfig: kubeconfigFile(ctx),
      }
    },
    // admin.conf comes over SSH (with sudo) unless --from-file gave it
    async prepare(targets, ctx) {
      if (targets.some((t) => sourceOf(ctx, clusterOf(ctx, t.cluster), o).kind === 'ssh')) await (await import('../ssh/index.js')).prepareSsh(ctx)
    },
    // recheck: a run that trusts the journal (certs renew) still merges again
    recheck: Boolean(o.recheck),
    async isDone(t, ctx) {
      if (o.recheck) return false
      return kubeconfigHasCluster(kubeconfigFiles(ctx.kubeconfig), clusterOf(ctx, t.cluster))
    },
    describe(t, ctx) {
      const c = clusterOf(ctx, t.cluster)
      const src = sourceOf(ctx, c, o)
      const from = src.kind === 'file' ? src.file : `${ADMIN_CONF_PATH} on ${src.label} (sudo)`
      return `read ${from}; merge cluster ${kubeClusterName(c)}, user ${kubeUserName(c)}, context ${kubeContextName(c)} (server ${c.apiServer}) into ${kubeconfigFile(ctx)}`
    },
    async run(t, ctx, io) {
      const r = await mergeCluster(ctx, clusterOf(ctx, t.cluster), o, (l) => io.log(l))
      return {summary: r.summary, report: r}
    },
  }
}

// ---------------------------------------------------------------------------------------------
// secrets

/** Options of the secrets phase, set by `secrets apply`, `cluster add` and `bootstrap`. */
export interface SecretsPhaseOptions {
  /** values resolved before the run (the command does this, so prompts never fight the progress display) */
  values?: SecretValues
  /** --generate-passwords (bootstrap: when values are resolved inside the run) */
  generatePasswords?: boolean
  /** --opensearch-ca-file */
  opensearchCaFile?: string
  /** always compare with the live Secrets (the explicit command); bootstrap trusts the journal */
  recheck?: boolean
}

export interface SecretsClusterReport {
  cluster: string
  namespaces: string[]
  secrets: SecretResult[]
}

/** The run's values: given by the command, else resolved once (env, cluster, generated, prompt). */
export function secretValues(ctx: RunContext, o: SecretsPhaseOptions): Promise<SecretValues> {
  if (o.values) return Promise.resolve(o.values)
  return ctx.resources.getOrCreate('secrets:values', () =>
    resolveSecretValues(ctx.inv, {
      generate: o.generatePasswords,
      opensearchCaFile: o.opensearchCaFile,
      central: () => kubeForCluster(ctx, centralCluster(ctx.platform).name),
    }),
  )
}

/** Secret shapes: Fluent Bit's ca.crt is there (the platform CA, a given file or the live one), AWS_CERT with s3.caFile. */
function shapeOptions(ctx: Pick<RunContext, 'platform'>): {opensearchCa: boolean; s3Ca: boolean} {
  return {opensearchCa: true, s3Ca: Boolean(ctx.platform.s3.caFile)}
}

export function secretsPhase(o: SecretsPhaseOptions = {}): Phase<ClusterTarget, SecretsClusterReport> {
  return {
    name: 'secrets',
    kubeconfig: 'read',
    title: 'Credentials as Secrets in the clusters',
    targets(ctx) {
      return runClusters(ctx).map((c) => ({id: c.name, cluster: c.name, title: `${c.name} (${c.role})`}))
    },
    // names, keys and where values come from — never a value, nor a hash of one (see docs/readme/45-kubeconfig-secrets.md);
    // the hosts of the central TLS certificates (inventory facts, not secrets) so a new endpoint reissues them
    fingerprint(t, ctx) {
      const c = clusterOf(ctx, t.cluster)
      const p = ctx.platform
      const central = c.name === centralCluster(p).name
      return {
        cluster: c.name,
        context: kubeContextName(c),
        secrets: secretShapes(p, c, shapeOptions(ctx)).map((s) => ({ns: s.namespace, name: s.name, keys: s.keys})),
        ...(central ? {tls: tlsSecretSpecs(p).map((s) => ({name: s.name, hosts: s.hosts}))} : {}),
        env: [
          p.s3.accessKeyEnv,
          p.s3.secretKeyEnv,
          ENV.opensearchAdminPassword,
          ENV.fluentbitPassword,
          ENV.grafanaAdminPassword,
          ENV.grafanaOpensearchPassword,
          ...receiverSecrets(p.alerting).map((r) => r.env),
        ],
        s3: {endpoint: p.s3.endpoint, region: p.s3.region, pathStyle: p.s3.pathStyle, buckets: p.s3.buckets, caFile: p.s3.caFile ?? null},
        opensearchCaFile: o.opensearchCaFile ?? envValue(ENV.opensearchCaFile) ?? null,
      }
    },
    prepare: async (_t, ctx) => void (await secretValues(ctx, o)),
    async isDone(t, ctx) {
      if (o.recheck) return false
      const c = clusterOf(ctx, t.cluster)
      const {clusterSecretsMatch} = await import('./secrets/apply.js')
      return clusterSecretsMatch(await kubeForCluster(ctx, c.name), {platform: ctx.platform, cluster: c, values: await secretValues(ctx, o)})
    },
    describe(t, ctx) {
      const c = clusterOf(ctx, t.cluster)
      const list = secretShapes(ctx.platform, c, shapeOptions(ctx)).map((s) => `${s.namespace}/${s.name} [${s.keys.join(', ')}]`)
      const tls =
        c.name === centralCluster(ctx.platform).name
          ? ' (TLS certificates from the platform CA in .obsctl/pki, unless a TLS Secret without the obsctl label is already there: that one is kept)'
          : ''
      return `server-side apply (field manager obsctl) on ${kubeContextName(c)}: ${list.join('; ')}${tls}`
    },
    async run(t, ctx, io) {
      const c = clusterOf(ctx, t.cluster)
      const values = await secretValues(ctx, o)
      const kube = await kubeForCluster(ctx, c.name)
      const {applyClusterSecrets} = await import('./secrets/apply.js')
      const r = await applyClusterSecrets(kube, {platform: ctx.platform, cluster: c, values}, (l) => io.log(l))
      const central = centralCluster(ctx.platform)
      if (c.name !== central.name && ctx.clusters?.length && !ctx.clusters.includes(central.name)) {
        // its own OpenSearch user must be in central's security config (a run over every cluster writes it there whole)
        const {ensureFluentbitUser, fluentbitUser} = await import('./secrets/index.js')
        const done = await ensureFluentbitUser(await kubeForCluster(ctx, central.name), c.name, values)
        if (done !== 'unchanged') io.log(`${fluentbitUser(c.name)} in ${central.name}'s opensearch-security-config: ${done}`)
      }
      // a name in two namespaces (obsctl-ingress-tls) is shown with its namespace
      const twice = new Set(r.secrets.map((s) => s.name).filter((n, i, all) => all.indexOf(n) !== i))
      const by = (a: string) => r.secrets.filter((s) => s.action === a).map((s) => (twice.has(s.name) ? `${s.namespace}/${s.name}` : s.name))
      const parts = (['created', 'updated', 'unchanged', 'kept'] as const).filter((a) => by(a).length > 0).map((a) => `${a}: ${by(a).join(', ')}`)
      if (r.namespaces.length > 0) parts.unshift(`namespaces created: ${r.namespaces.join(', ')}`)
      return {summary: parts.join('; '), report: {cluster: c.name, ...r}}
    },
  }
}
