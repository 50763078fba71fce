/**
 * The `buckets` phase (DESIGN.md §3): one target per bucket of the inventory. The S3 session (and the
 * credentials, read once from env or a prompt) is shared by the phase's tasks through the run's resources.
 *
 * Options it reads from ctx.options (all optional): `s3CaFile` (string), `s3TimeoutSeconds` (number),
 * `s3Credentials` ({accessKey, secretKey}, already resolved: kept in memory only), `s3Collector`
 * (receives each bucket's report and each error, for `obsctl s3 setup`).
 */
import type {Phase, RunContext, Target} from '../engine/types.js'
import {bucketFingerprint, bucketIsDone, describeBucket, ensureBucket, inStateReport, wantedBuckets, type BucketReport, type WantedBucket} from './buckets.js'
import {openS3, resolveCredentials, type S3Credentials, type S3Session} from './client.js'
import {ObsctlError} from '../errors.js'

export interface BucketTarget extends Target {
  bucket: WantedBucket
}

/** How `obsctl s3 setup` gets structured results out of the engine. */
export interface BucketsCollector {
  report(r: BucketReport): void
  error(target: string, e: unknown): void
}

const SESSION_KEY = 's3.session'

/**
 * Open a session and check that the endpoint answers and accepts the credentials (ListBuckets).
 * A user allowed only its own buckets gets AccessDenied there, which is not an error yet.
 */
export async function connectS3(
  inv: RunContext['inv'],
  opts: {caFile?: string; timeoutSeconds?: number; signal?: AbortSignal; credentials?: S3Credentials} = {},
): Promise<S3Session> {
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

function option<T>(ctx: RunContext, key: string, type: 'string' | 'number' | 'object'): T | undefined {
  const v = ctx.options[key]
  return typeof v === type && v !== null ? (v as T) : undefined
}

function session(ctx: RunContext): Promise<S3Session> {
  return ctx.resources.getOrCreate<S3Session>(
    SESSION_KEY,
    () =>
      connectS3(ctx.inv, {
        caFile: option<string>(ctx, 's3CaFile', 'string'),
        timeoutSeconds: option<number>(ctx, 's3TimeoutSeconds', 'number'),
        credentials: option<S3Credentials>(ctx, 's3Credentials', 'object'),
        signal: ctx.signal,
      }),
    (s) => s.close(),
  )
}

function find(target: BucketTarget, ctx: RunContext): WantedBucket {
  // re-read the bucket from this run's inventory so a changed setting counts
  return wantedBuckets(ctx.platform).find((w) => w.role === target.bucket.role) ?? target.bucket
}

async function collecting<T>(t: BucketTarget, ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    option<BucketsCollector>(ctx, 's3Collector', 'object')?.error(t.id, e)
    throw e
  }
}

export const bucketsPhase: Phase<BucketTarget> = {
  name: 'buckets',
  title: 'S3 buckets and lifecycle',
  targets: (ctx) => wantedBuckets(ctx.platform).map((w) => ({id: w.name, title: `bucket ${w.name} (${w.use})`, bucket: w})),
  fingerprint: (t, ctx) => bucketFingerprint(find(t, ctx), ctx.platform),
  describe: (t, ctx) => describeBucket(find(t, ctx)),
  prepare: async (_t, ctx) => void (await session(ctx)),
  isDone: (t, ctx, io) =>
    collecting(t, ctx, async () => {
      const w = find(t, ctx)
      const done = await bucketIsDone(await session(ctx), w)
      if (done) {
        io.log(`bucket ${w.name}: exists with the wanted settings`)
        option<BucketsCollector>(ctx, 's3Collector', 'object')?.report(inStateReport(w))
      }
      return done
    }),
  run: (t, ctx, io) =>
    collecting(t, ctx, async () => {
      const r = await ensureBucket(await session(ctx), find(t, ctx), (l) => io.log(l))
      option<BucketsCollector>(ctx, 's3Collector', 'object')?.report(r)
      const parts = [`${r.bucket}`, `lifecycle ${r.lifecycle}`, `versioning ${r.versioningState}`]
      if (r.warnings.length > 0) parts.push(`warning: ${r.warnings.join('; ')}`)
      return parts.join(', ')
    }),
}
