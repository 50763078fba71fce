/**
 * S3 (MinIO) operations: `obsctl s3 setup` and the `buckets` phase.
 * Public surface of src/lib/s3; `minio` loads only when a session opens.
 */
import type {LoadedInventory} from '../config/load.js'
import {ObsctlError} from '../errors.js'
import {dryRunReport, ensureBucket, wantedBuckets, type BucketReport} from './buckets.js'
import {openS3, resolveCaFile, resolveCredentials, type S3ConnectOptions, type S3Credentials, type S3Session} from './client.js'

export * from './buckets.js'
export {openS3, parseEndpoint, resolveCaFile, resolveCredentials, translateS3Error, isNotImplemented} from './client.js'
export type {S3ConnectOptions, S3Credentials, S3Endpoint, S3Session} from './client.js'

export interface S3SetupOptions extends S3ConnectOptions {
  /** touch nothing remote: report what would be done */
  dryRun?: boolean
  /** credentials already resolved (else env vars, else a prompt on a TTY) */
  credentials?: S3Credentials
  /** one line per step (never a credential) */
  log?: (line: string) => void
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
}

/**
 * Open a session and check that the endpoint answers and accepts the credentials (ListBuckets).
 * A user allowed only its own buckets gets AccessDenied there, which is not an error yet.
 */
export async function connectS3(inv: LoadedInventory, opts: S3ConnectOptions & {credentials?: S3Credentials} = {}): Promise<S3Session> {
  const creds = opts.credentials ?? (await resolveCredentials(inv.platform))
  const session = await openS3(inv, creds, opts)
  try {
    await session.call('list buckets', (c) => c.listBuckets())
  } catch (e) {
    if (!(e instanceof ObsctlError && e.code === 'S3_ACCESS_DENIED')) {
      session.close()
      throw e
    }
  }
  return session
}

/** Create the inventory's buckets if missing, with the expiry lifecycle and versioning it asks for. */
export async function s3Setup(inv: LoadedInventory, opts: S3SetupOptions = {}): Promise<S3SetupReport> {
  const wanted = wantedBuckets(inv.platform)
  const caFile = resolveCaFile(inv, opts.caFile) ?? null
  const base = {endpoint: inv.platform.s3.endpoint, region: inv.platform.s3.region, caFile, dryRun: Boolean(opts.dryRun)}
  if (opts.dryRun) return {...base, buckets: wanted.map((w) => dryRunReport(w)), warnings: []}
  const session = await connectS3(inv, opts)
  try {
    const buckets = await Promise.all(wanted.map((w) => ensureBucket(session, w, opts.log)))
    return {...base, buckets, warnings: buckets.flatMap((b) => b.warnings)}
  } finally {
    session.close()
  }
}
