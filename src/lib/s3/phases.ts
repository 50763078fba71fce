/**
 * The `buckets` phase (DESIGN.md §3): one target per bucket of the inventory; each task's report is
 * the bucket's BucketReport. The S3 session (and the credentials, read once from env or a prompt) is
 * shared by the phase's tasks through the run's resources.
 */
import type {Phase, RunContext, Target} from '../engine/types.js'
import {bucketFingerprint, bucketIsDone, describeBucket, ensureBucket, inStateReport, wantedBuckets, type BucketReport, type WantedBucket} from './buckets.js'
import type {S3Credentials, S3Flags, S3Session} from '../platform/s3.js'
import {ObsctlError} from '../errors.js'

export interface BucketTarget extends Target {
  bucket: WantedBucket
}

/** Options of the buckets phase (all optional). */
export interface BucketsPhaseOptions {
  /** --ca-file (else s3.caFile of the inventory) */
  caFile?: string
  timeoutSeconds?: number
  /** already resolved (kept in memory only); else env vars, else a prompt on a TTY */
  credentials?: S3Credentials
  /** the running command's flags for caFile and timeoutSeconds, named in hints (bootstrap has none) */
  flags?: S3Flags
}

const SESSION_KEY = 's3.session'

/**
 * Open a session and check that the endpoint answers and accepts the credentials (ListBuckets).
 * A user allowed only its own buckets gets AccessDenied there, which is not an error yet.
 */
export async function connectS3(
  inv: RunContext['inv'],
  opts: {caFile?: string; timeoutSeconds?: number; signal?: AbortSignal; credentials?: S3Credentials; flags?: S3Flags} = {},
): Promise<S3Session> {
  // the S3 client loads when a session opens, not when plan describes the buckets
  const {openS3, resolveCredentials} = await import('../platform/s3.js')
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

function session(ctx: RunContext, o: BucketsPhaseOptions): Promise<S3Session> {
  return ctx.resources.getOrCreate<S3Session>(
    SESSION_KEY,
    () =>
      connectS3(ctx.inv, {
        caFile: o.caFile,
        timeoutSeconds: o.timeoutSeconds,
        credentials: o.credentials,
        flags: o.flags,
        signal: ctx.signal,
      }),
    (s) => s.close(),
  )
}

function find(target: BucketTarget, ctx: RunContext): WantedBucket {
  // re-read the bucket from this run's inventory so a changed setting counts
  return wantedBuckets(ctx.platform).find((w) => w.role === target.bucket.role) ?? target.bucket
}

export function bucketsPhase(o: BucketsPhaseOptions = {}): Phase<BucketTarget, BucketReport> {
  return {
    name: 'buckets',
    title: 'S3 buckets and lifecycle',
    targets: (ctx) => wantedBuckets(ctx.platform).map((w) => ({id: w.name, title: `bucket ${w.name} (${w.use})`, bucket: w})),
    fingerprint: (t, ctx) => bucketFingerprint(find(t, ctx), ctx.platform),
    describe: (t, ctx) => describeBucket(find(t, ctx)),
    prepare: async (_t, ctx) => void (await session(ctx, o)),
    async isDone(t, ctx, io) {
      const w = find(t, ctx)
      if (!(await bucketIsDone(await session(ctx, o), w))) return false
      io.log(`bucket ${w.name}: exists with the wanted settings`)
      return {report: inStateReport(w)}
    },
    async run(t, ctx, io) {
      const r = await ensureBucket(await session(ctx, o), find(t, ctx), (l) => io.log(l))
      const parts = [`${r.bucket}`, `lifecycle ${r.lifecycle}`, `versioning ${r.versioningState}`]
      if (r.warnings.length > 0) parts.push(`warning: ${r.warnings.join('; ')}`)
      return {summary: parts.join(', '), report: r}
    },
  }
}
