/**
 * `obsctl secrets apply`: the `secrets` phase through the engine (journal, lock, per-task logs), every
 * Secret compared with the live one. Values are resolved before the engine starts (prompts never fight
 * the progress display) and stay in memory; generated passwords are returned only with showGenerated.
 * Resolving them also issues the central TLS certificates (from the platform CA in .obsctl/pki, created
 * on first need) that are missing or no longer right; a dry run does neither.
 */
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, kubeContextName} from '../config/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {Kube} from './client.js'
import {secretsPhase, type SecretsClusterReport, type SecretsPhaseOptions} from './phases.js'
import {resolveSecretValues, secretShapes, type SecretValues} from './secrets.js'

export interface SecretsApplyOptions {
  kubeconfig?: string
  clusters?: string[]
  generatePasswords?: boolean
  /** return (and so print, once) the passwords generated in this run */
  showGenerated?: boolean
  opensearchCaFile?: string
  dryRun?: boolean
  renderer?: RendererChoice
  onEvent?: RunEventSink
  /** values already resolved (tests, bootstrap) */
  values?: SecretValues
}

export interface SecretsApplyReport {
  dryRun: boolean
  clusters: (SecretsClusterReport | {cluster: string; plan: {namespace: string; name: string; keys: string[]; purpose: string}[]})[]
  /** names of the passwords generated in this run */
  generated: string[]
  /**
   * where each value came from (names of env vars, "cluster (kept)", "generated", "prompt"); per TLS Secret
   * ("logging/opensearch-http-tls"): "cluster (reused)", "cluster (yours, left alone)", "new from the platform CA: <why>"
   */
  sources: Record<string, string>
  /** the platform CA certificate (path) when the run needed it; created: in this run */
  platformCa?: {file: string; created: boolean}
  /** only with showGenerated: the generated passwords, by name */
  generatedPasswords?: Record<string, string>
  run?: RunResult
}

export async function secretsApply(inv: LoadedInventory, opts: SecretsApplyOptions = {}): Promise<SecretsApplyReport> {
  const p = inv.platform
  const names = p.clusters.map((c) => c.name)
  for (const n of opts.clusters ?? []) if (!names.includes(n)) throw inputError(`cluster ${n} is not in the inventory`, [`clusters: ${names.join(', ')}`], 'BAD_ARGS')
  const clusters = opts.clusters?.length ? names.filter((n) => opts.clusters!.includes(n)) : names
  if (opts.showGenerated && !opts.generatePasswords) throw inputError('--show-generated needs --generate-passwords', [], 'BAD_FLAGS')

  if (opts.dryRun) {
    // names and keys only: no value is resolved, no CA created, nothing contacted
    const shape = {opensearchCa: true, s3Ca: Boolean(p.s3.caFile)}
    return {
      dryRun: true,
      clusters: clusters.map((n) => ({cluster: n, plan: secretShapes(p, p.clusters.find((c) => c.name === n)!, shape)})),
      generated: [],
      sources: {},
    }
  }

  const central = centralCluster(p)
  const values =
    opts.values ??
    (await resolveSecretValues(inv, {
      generate: opts.generatePasswords,
      opensearchCaFile: opts.opensearchCaFile,
      central: () => Kube.connect({kubeconfig: opts.kubeconfig, context: kubeContextName(central)}),
    }))

  const reports = new Map<string, SecretsClusterReport>()
  const errors: unknown[] = []
  const options: SecretsPhaseOptions & Record<string, unknown> = {
    kubeconfig: opts.kubeconfig,
    clusters,
    secretValues: values,
    secretsRecheck: true,
    secretsCollector: {report: (r) => reports.set(r.cluster, r), error: (_c, e) => errors.push(e)},
  }
  const {runPhases} = await import('../engine/index.js')
  const run = await runPhases([secretsPhase], {inv, restart: true, renderer: opts.renderer, onEvent: opts.onEvent, command: 'secrets apply', options})
  const list = clusters.map((c) => reports.get(c)).filter((r): r is SecretsClusterReport => Boolean(r))
  if (!run.ok) {
    if (run.interrupted) throw new ObsctlError('secrets apply interrupted', {exitCode: 130, code: 'INTERRUPTED', details: run})
    const failed = run.phases.flatMap((ph) => ph.tasks).filter((t) => t.status === 'failed')
    const logs = run.logsDir ? [`task logs: ${run.logsDir}`] : []
    const first = errors.find((e) => e instanceof ObsctlError) as ObsctlError | undefined
    const message = failed.length > 1 ? `secrets apply failed on ${failed.map((t) => t.target).join(', ')}: ${first?.message ?? failed[0]?.error}` : (first?.message ?? `secrets apply failed: ${failed.map((t) => `${t.target}: ${t.error}`).join('; ') || errorMessage(run.phases[0]?.error)}`)
    throw new ObsctlError(message, {exitCode: first?.exitCode ?? 1, code: first?.code ?? 'SECRETS_APPLY_FAILED', hints: [...(first?.hints ?? []), ...logs], details: {clusters: list, run}})
  }
  const report: SecretsApplyReport = {dryRun: false, clusters: list, generated: values.generated, sources: values.sources, ...(values.platformCa ? {platformCa: values.platformCa} : {}), run}
  if (opts.showGenerated && values.generated.length > 0) {
    const byName: Record<string, string> = {
      'OpenSearch admin password': values.opensearchAdminPassword,
      'Fluent Bit OpenSearch password': values.fluentbitPassword,
      'Grafana admin password': values.grafanaAdminPassword,
    }
    report.generatedPasswords = Object.fromEntries(values.generated.map((n) => [n, byName[n]!]))
  }
  return report
}
