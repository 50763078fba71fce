/**
 * S3 (MinIO) operations: `obsctl s3 setup` and the `buckets` phase.
 * Public surface of src/lib/s3; `minio` loads only when a session opens.
 */
import type {LoadedInventory} from '../config/load.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import {dryRunReport, wantedBuckets, type BucketReport} from './buckets.js'
import {resolveCaFile, resolveCredentials, type S3ConnectOptions, type S3Credentials} from '../platform/s3.js'
import {bucketsPhase} from './phases.js'
import {envValue} from '../env.js'

export * from './buckets.js'
export {openS3, parseEndpoint, resolveCaFile, resolveCredentials, translateS3Error, isNotImplemented} from '../platform/s3.js'
export type {S3ConnectOptions, S3Credentials, S3Endpoint, S3Session} from '../platform/s3.js'
export {bucketsPhase, connectS3, type BucketTarget, type BucketsPhaseOptions} from './phases.js'

export interface S3SetupOptions extends S3ConnectOptions {
  /** touch nothing remote: report what would be done */
  dryRun?: boolean
  /** credentials already resolved (else env vars, else a prompt on a TTY) */
  credentials?: S3Credentials
  /** the engine's screen output (default auto; `silent` under --json) */
  renderer?: RendererChoice
  onEvent?: RunEventSink
}

export interface S3SetupReport {
  endpoint: string
  region: string
  /** the CA bundle added to the system roots, if any */
  caFile: string | null
  dryRun: boolean
  buckets: BucketReport[]
  /** every bucket's warnings, e.g. a feature the server does not implement */
  warnings: string[]
  /** the engine run (state file, logs, per-task outcome) */
  run: RunResult
}

/**
 * `obsctl s3 setup`: the `buckets` phase through the engine (journal, lock, per-task logs), every
 * bucket rechecked against the server (an explicit setup always looks; `bootstrap` trusts the journal).
 * Credentials are resolved before the engine starts, so a prompt never fights the progress display.
 */
export async function s3Setup(inv: LoadedInventory, opts: S3SetupOptions = {}): Promise<S3SetupReport> {
  const wanted = wantedBuckets(inv.platform)
  const caFile = resolveCaFile(inv, opts.caFile) ?? null
  const dryRun = Boolean(opts.dryRun)
  // a dry run asks for no credential, but one set badly (blank, a line end) is refused as the real run would refuse it
  if (dryRun) for (const name of [inv.platform.s3.accessKeyEnv, inv.platform.s3.secretKeyEnv]) envValue(name, {secret: true})
  const credentials = dryRun ? undefined : (opts.credentials ?? (await resolveCredentials(inv.platform)))
  const {runStandalone} = await import('../engine/standalone.js')
  // every task shares one session, so they usually fail for one reason: the first failure is thrown with its hints
  const {run, reports: list} = await runStandalone(
    bucketsPhase({caFile: opts.caFile, timeoutSeconds: opts.timeoutSeconds, credentials, flags: {caFile: true, timeout: '--timeout'}}),
    {
      inv,
      dryRun,
      renderer: opts.renderer,
      onEvent: opts.onEvent,
      command: 's3 setup',
      failureCode: 'S3_SETUP_FAILED',
    },
  )
  const reports = new Map<string, BucketReport>(list.map((r) => [r.name, r]))
  const buckets = wanted.map((w) => (dryRun ? dryRunReport(w) : (reports.get(w.name) ?? dryRunReport(w))))
  return {endpoint: inv.platform.s3.endpoint, region: inv.platform.s3.region, caFile, dryRun, buckets, warnings: buckets.flatMap((b) => b.warnings), run}
}
