/** The `buckets` phase on its own (targets, fingerprint, isDone, run) and resumed through the engine. */
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {Resources, runPhases} from '../../src/lib/engine/index.js'
import type {RunContext, TaskIO} from '../../src/lib/engine/types.js'
import {bucketsPhase, s3Setup, type BucketReport, type BucketTarget} from '../../src/lib/s3/index.js'
import {ACCESS_KEY, BACKUPS_EXPIRY, SECRET_KEY, startS3rver, useS3Peer, writeInventory, type S3Peer} from './harness.js'

let peer: S3Peer
let work: string
useS3Peer(
  'obsctl-s3-phase-',
  (p) => (peer = p),
  (w) => (work = w),
)

function context(inv: ReturnType<typeof writeInventory>['inv']): {ctx: RunContext; resources: Resources} {
  const resources = new Resources()
  const ctx: RunContext = {
    inv,
    platform: inv.platform,
    stateDir: path.join(inv.dir, '.obsctl'),
    runId: 'test',
    dryRun: false,
    signal: new AbortController().signal,
    ssh: {},
    resources,
  }
  return {ctx, resources}
}

function io(lines: string[]): TaskIO {
  return {log: (l) => lines.push(l), logFile: '/dev/null', signal: new AbortController().signal}
}

describe('bucketsPhase', () => {
  it('one target per bucket; the fingerprint holds bucket settings, never credentials', async () => {
    const {inv} = writeInventory(work, peer.url, BACKUPS_EXPIRY)
    const {ctx} = context(inv)
    const phase = bucketsPhase()
    const targets = await phase.targets(ctx)
    expect(targets.map((t) => t.id)).toEqual(['thanos-metrics', 'opensearch-snapshots', 'longhorn-backups'])
    const fp = phase.fingerprint(targets[2]!, ctx)
    expect(fp).toEqual({endpoint: peer.url, region: 'us-east-1', pathStyle: true, name: 'longhorn-backups', versioning: false, expireDays: 180})
    expect(JSON.stringify(fp)).not.toContain(SECRET_KEY)
    expect(JSON.stringify(fp)).not.toContain(ACCESS_KEY)
    expect(await phase.describe(targets[2]!, ctx)).toBe('create bucket longhorn-backups if missing; expire objects after 180 days; versioning as is')
    // the snapshots bucket never gets an expiry rule (OpenSearch deletes its snapshots itself)
    expect(await phase.describe(targets[1]!, ctx)).toBe('create bucket opensearch-snapshots if missing; no expiry rule; versioning as is')
  })

  it('isDone is false for a missing bucket; run() creates it; then isDone is true (except where the server lacks lifecycle)', async () => {
    const {inv} = writeInventory(work, peer.url, {
      ...BACKUPS_EXPIRY,
      's3.buckets.metrics.name': 'phase-metrics',
      's3.buckets.snapshots.name': 'phase-snapshots',
      's3.buckets.backups.name': 'phase-backups',
    })
    const reports: BucketReport[] = []
    const {ctx, resources} = context(inv)
    const phase = bucketsPhase()
    // the reports each task hands back (what the engine keeps in the journal and the run result)
    const keep = <T extends {report?: BucketReport}>(out: T | boolean | string): T | boolean | string => {
      if (typeof out === 'object' && out.report) reports.push(out.report)
      return out
    }
    try {
      const [metrics, , backups] = (await phase.targets(ctx)) as BucketTarget[]
      const lines: string[] = []
      expect(keep(await phase.isDone!(metrics!, ctx, io(lines)))).toBe(false)
      expect(keep(await phase.run(metrics!, ctx, io(lines)))).toMatchObject({summary: 'created, lifecycle none, versioning off'})
      expect(keep(await phase.isDone!(metrics!, ctx, io(lines)))).toMatchObject({report: {bucket: 'exists'}})
      const expiring = (keep(await phase.run(backups!, ctx, io(lines))) as {summary: string}).summary
      expect(expiring).toMatch(/^created, lifecycle unsupported, versioning off, warning: the S3 server does not implement bucket lifecycle/)
      // the expiry the inventory asks for cannot be in place on this server: never "done" by the live check
      expect(keep(await phase.isDone!(backups!, ctx, io(lines)))).toBe(false)
      expect(reports.map((r) => [r.name, r.bucket])).toEqual([
        ['phase-metrics', 'created'],
        ['phase-metrics', 'exists'],
        ['phase-backups', 'created'],
      ])
      expect(lines.join('\n')).not.toContain(SECRET_KEY)
    } finally {
      await resources.closeAll()
    }
  })

  it('through the engine: s3 setup journals the buckets, and a later bootstrap-style run skips them as unchanged', async () => {
    const {inv} = writeInventory(work, peer.url, BACKUPS_EXPIRY)
    const first = await s3Setup(inv, {renderer: 'silent'})
    expect(first.run.phases[0]!.tasks.map((t) => t.status)).toEqual(['done', 'done', 'done'])
    const again = await runPhases([bucketsPhase()], {inv, renderer: 'silent'})
    expect(again.phases[0]!.tasks.map((t) => t.status)).toEqual(['unchanged', 'unchanged', 'unchanged'])
    // a changed bucket setting changes the fingerprint: that bucket runs again
    const {inv: changed} = writeInventory(work, peer.url, {'s3.buckets.backups.expireAfter': '200d'})
    const third = await runPhases([bucketsPhase()], {inv: changed, renderer: 'silent'})
    expect(third.phases[0]!.tasks.map((t) => [t.target, t.status])).toEqual([
      ['thanos-metrics', 'unchanged'],
      ['opensearch-snapshots', 'unchanged'],
      ['longhorn-backups', 'done'],
    ])
  })

  it('through the engine: an unreachable endpoint fails every task with the endpoint named', async () => {
    const closed = await startS3rver()
    await closed.close()
    const {inv} = writeInventory(work, closed.url)
    const r = await runPhases([bucketsPhase()], {inv, renderer: 'silent'})
    expect(r.ok).toBe(false)
    expect(r.exitCode).toBe(1)
    for (const t of r.phases[0]!.tasks) {
      expect(t.status).toBe('failed')
      expect(t.error).toContain(`cannot reach the S3 endpoint ${closed.url}`)
    }
  })
})
