/**
 * The `buckets` phase (DESIGN.md §3): one target per bucket of the inventory. The S3 session (and the
 * credentials, read once from env or a prompt) is shared by the phase's tasks through the run's resources.
 */
import type {Phase, RunContext, Target} from '../engine/types.js'
import {bucketFingerprint, bucketIsDone, describeBucket, ensureBucket, wantedBuckets, type WantedBucket} from './buckets.js'
import type {S3Session} from './client.js'
import {connectS3} from './index.js'

export interface BucketTarget extends Target {
  bucket: WantedBucket
}

const SESSION_KEY = 's3.session'

function session(ctx: RunContext): Promise<S3Session> {
  return ctx.resources.getOrCreate<S3Session>(
    SESSION_KEY,
    () =>
      connectS3(ctx.inv, {
        caFile: typeof ctx.options.caFile === 'string' ? ctx.options.caFile : undefined,
        timeoutSeconds: typeof ctx.options.timeoutSeconds === 'number' ? ctx.options.timeoutSeconds : undefined,
        signal: ctx.signal,
      }),
    (s) => s.close(),
  )
}

function find(target: BucketTarget, ctx: RunContext): WantedBucket {
  // the target carries its bucket, but re-read it from this run's inventory so a changed setting counts
  return wantedBuckets(ctx.platform).find((w) => w.role === target.bucket.role) ?? target.bucket
}

export const bucketsPhase: Phase<BucketTarget> = {
  name: 'buckets',
  title: 'S3 buckets and lifecycle',
  targets: (ctx) => wantedBuckets(ctx.platform).map((w) => ({id: w.name, title: `bucket ${w.name} (${w.use})`, bucket: w})),
  fingerprint: (t, ctx) => bucketFingerprint(find(t, ctx), ctx.platform),
  describe: (t, ctx) => describeBucket(find(t, ctx)),
  async isDone(t, ctx) {
    return bucketIsDone(await session(ctx), find(t, ctx))
  },
  async run(t, ctx, io) {
    const r = await ensureBucket(await session(ctx), find(t, ctx), (l) => io.log(l))
    const parts = [`${r.name}: ${r.bucket}`, `lifecycle ${r.lifecycle}`, `versioning ${r.versioningState}`]
    if (r.warnings.length > 0) parts.push(`warning: ${r.warnings.join('; ')}`)
    return parts.join(', ')
  },
}
