/**
 * `obsctl secrets apply`: the `secrets` phase through the engine (journal, lock, per-task logs), every
 * Secret compared with the live one. Values are resolved before the engine starts (prompts never fight
 * the progress display) and stay in memory; generated passwords are returned only with showGenerated.
 * Resolving them also issues the central TLS certificates (from the platform CA in .obsctl/pki, created
 * on first need) that are missing or no longer right; a dry run does neither.
 */
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import {centralCluster, kubeContextName} from '../config/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import {inputError} from '../errors.js'
import {caProblem} from '../config/files.js'
import {envPasswordProblems} from '../config/passwords.js'
import {ENV} from './secrets/shared.js'
import {Kube} from '../platform/index.js'
import {secretsPhase, type SecretsClusterReport} from './phases.js'
import {resolveSecretValues, secretShapes, type SecretValues} from './secrets/index.js'
import {envValue} from '../env.js'

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
  /** --concurrency: clusters at once (default: all) */
  concurrency?: number
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
  for (const n of opts.clusters ?? [])
    if (!names.includes(n)) throw inputError(`cluster ${n} is not in the inventory`, [`clusters: ${names.join(', ')}`], 'BAD_ARGS')
  const clusters = opts.clusters?.length ? names.filter((n) => opts.clusters!.includes(n)) : names
  if (opts.showGenerated && !opts.generatePasswords) throw inputError('--show-generated needs --generate-passwords', [], 'BAD_FLAGS')
  // what this workstation gives the run is bad input before anything is planned or contacted (also --dry-run, which
  // resolves no value): the OpenSearch CA file of $OBSCTL_OPENSEARCH_CA_FILE (--opensearch-ca-file is checked with
  // the other file flags) and the passwords set in the environment, as config validate judges them
  refuseWorkstationInputs(opts)

  if (opts.dryRun) {
    // names and keys only: no value is resolved, no CA created, nothing contacted
    const shape = {opensearchCa: true, s3Ca: Boolean(p.s3.caFile)}
    return {
      dryRun: true,
      clusters: clusters.map((n) => ({
        cluster: n,
        plan: secretShapes(
          p,
          p.clusters.find((c) => c.name === n)!,
          shape,
        ),
      })),
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

  const {runStandalone} = await import('../engine/standalone.js')
  const {run, reports: list} = await runStandalone(secretsPhase({values, recheck: true}), {
    inv,
    kubeconfig: opts.kubeconfig,
    clusters,
    concurrency: opts.concurrency,
    renderer: opts.renderer,
    onEvent: opts.onEvent,
    command: 'secrets apply',
    failureCode: 'SECRETS_APPLY_FAILED',
  })
  const report: SecretsApplyReport = {
    dryRun: false,
    clusters: list,
    generated: values.generated,
    sources: values.sources,
    ...(values.platformCa ? {platformCa: values.platformCa} : {}),
    run,
  }
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

function refuseWorkstationInputs(opts: SecretsApplyOptions): void {
  const caEnv = envValue(ENV.opensearchCaFile)
  if (opts.opensearchCaFile === undefined && caEnv) {
    const p = caProblem(path.resolve(caEnv), {parse: false})
    if (p)
      throw inputError(
        `$${ENV.opensearchCaFile}: ${p.message}`,
        [`export ${ENV.opensearchCaFile}=PATH: ${p.fix}`, 'or pass --opensearch-ca-file PATH'],
        'SECRETS_CA_FILE',
      )
  }
  const [bad] = envPasswordProblems()
  if (bad)
    throw inputError(
      `$${bad.env} ${bad.problem}`,
      [`export ${bad.env}=… with a password that passes`, 'or unset it and pass --generate-passwords'],
      'WEAK_PASSWORD',
    )
}
