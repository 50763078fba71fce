/**
 * The buckets of the inventory and how to bring one into the wanted state: exists, the lifecycle
 * expiry rule where asked, versioning where asked. Each step checks before it acts, so a rerun
 * changes nothing and says "exists" / "unchanged".
 */
import {inputError} from '../errors.js'
import type {Platform} from '../config/schema.js'
import {durationDays} from '../config/units.js'
import {SNAPSHOT_EXPIRY_FIX, SNAPSHOT_EXPIRY_REASON} from '../config/snapshot-expiry.js'
import type {S3Session} from '../platform/s3.js'
import type {LifecycleConfig, LifecycleRule} from 'minio'

export const BUCKET_ROLES = ['metrics', 'snapshots', 'backups'] as const
export type BucketRole = (typeof BUCKET_ROLES)[number]

const ROLE_USE: Record<BucketRole, string> = {
  metrics: 'Thanos blocks',
  snapshots: 'OpenSearch snapshots',
  backups: 'Longhorn backups',
}

/** The id of the one lifecycle rule obsctl owns in a bucket; other rules are left as they are. */
export const LIFECYCLE_RULE_ID = 'obsctl-expire'

export interface WantedBucket {
  role: BucketRole
  name: string
  /** what the bucket holds */
  use: string
  versioning: boolean
  /** expire objects after this many days; null = no expiry rule */
  expireDays: number | null
}

export type BucketState = 'created' | 'exists' | 'dry-run'
export type LifecycleState = 'applied' | 'unchanged' | 'removed' | 'none' | 'unsupported' | 'dry-run'
export type VersioningState = 'enabled' | 'unchanged' | 'off' | 'unsupported' | 'dry-run'

export interface BucketReport extends WantedBucket {
  /** what ensuring the bucket does (describeBucket) */
  plan: string
  bucket: BucketState
  lifecycle: LifecycleState
  versioningState: VersioningState
  /** features the server does not implement, named */
  warnings: string[]
}

/** The inventory's buckets (s3.buckets.{metrics,snapshots,backups}) with expiry in whole days. */
export function wantedBuckets(platform: Platform): WantedBucket[] {
  const seen = new Map<string, BucketRole>()
  return BUCKET_ROLES.map((role) => {
    const b = platform.s3.buckets[role]
    const other = seen.get(b.name)
    if (other) throw inputError(`s3.buckets.${role}.name and s3.buckets.${other}.name are both ${b.name}`, ['give each bucket its own name'], 'S3_BUCKET_NAME')
    seen.set(b.name, role)
    let expireDays: number | null = null
    // never on the snapshots bucket: the rule obsctl once set there (obsctl-expire) is removed by planLifecycle
    if (role === 'snapshots' && b.expireAfter)
      throw inputError(`s3.buckets.snapshots.expireAfter is ${b.expireAfter}: ${SNAPSHOT_EXPIRY_REASON}`, [SNAPSHOT_EXPIRY_FIX], 'S3_SNAPSHOT_EXPIRY')
    if (b.expireAfter) {
      expireDays = durationDays(b.expireAfter)
      if (expireDays < 1)
        throw inputError(
          `s3.buckets.${role}.expireAfter is ${b.expireAfter}: S3 lifecycle rules count whole days`,
          [`set s3.buckets.${role}.expireAfter to 1d or more`],
          'S3_EXPIRE_AFTER',
        )
    }
    return {role, name: b.name, use: ROLE_USE[role], versioning: b.versioning, expireDays}
  })
}

/** One line: what ensuring this bucket does (dry runs, plan). */
export function describeBucket(w: WantedBucket): string {
  const parts = [`create bucket ${w.name} if missing`]
  parts.push(w.expireDays ? `expire objects after ${w.expireDays} days` : 'no expiry rule')
  parts.push(w.versioning ? 'enable versioning' : 'versioning as is')
  return parts.join('; ')
}

/** The settings of a bucket that count for "done" (no credentials). */
export function bucketFingerprint(w: WantedBucket, platform: Platform): Record<string, unknown> {
  const s3 = platform.s3
  return {endpoint: s3.endpoint, region: s3.region, pathStyle: s3.pathStyle, name: w.name, versioning: w.versioning, expireDays: w.expireDays}
}

function asArray<T>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/** The rule obsctl wants for an expiry of `days`. */
export function expiryRule(days: number): LifecycleRule {
  return {ID: LIFECYCLE_RULE_ID, Status: 'Enabled', Filter: {Prefix: ''}, Expiration: {Days: days}}
}

/** Does the (parsed) lifecycle rule match obsctl's rule for `days`? */
export function ruleMatches(rule: LifecycleRule | undefined, days: number): boolean {
  if (!rule) return false
  return rule.Status === 'Enabled' && Number(rule.Expiration?.Days) === days && !rule.Filter?.And && !rule.Filter?.Tag && !(rule.Filter?.Prefix || rule.Prefix)
}

/**
 * The lifecycle configuration to write: every rule of the bucket that is not obsctl's, plus obsctl's rule
 * when an expiry is wanted. Returns null when nothing needs to change.
 */
export function planLifecycle(existing: LifecycleRule[], days: number | null): {rules: LifecycleRule[]; change: 'apply' | 'remove'} | null {
  const ours = existing.find((r) => r.ID === LIFECYCLE_RULE_ID)
  const others = existing.filter((r) => r.ID !== LIFECYCLE_RULE_ID)
  if (days === null) return ours ? {rules: others, change: 'remove'} : null
  if (ruleMatches(ours, days)) return null
  return {rules: [...others, expiryRule(days)], change: 'apply'}
}

// the S3 client's error helpers load with a session (the buckets phase's describe and fingerprint need neither)
const s3Errors = () => import('../platform/s3.js')

/** Rules of a bucket; [] when it has none; 'unsupported' when the server does not implement lifecycle. */
async function readRules(s: S3Session, name: string): Promise<LifecycleRule[] | 'unsupported'> {
  try {
    const cfg = await s.call(`read the lifecycle of bucket ${name}`, (c) => getLifecycleRaw(c, name))
    return asArray(cfg?.Rule)
  } catch (e) {
    const {isNotImplemented, s3Code} = await s3Errors()
    const cause = (e as {cause?: unknown}).cause
    if (isNotImplemented(cause)) return 'unsupported'
    if (s3Code(cause) === 'NoSuchLifecycleConfiguration') return []
    throw e
  }
}

// minio types getBucketLifecycle as the parsed object; isolate the call so its shape is checked in one place
async function getLifecycleRaw(c: S3Session['client'], name: string): Promise<LifecycleConfig | null | undefined> {
  return c.getBucketLifecycle(name)
}

/** Is versioning Enabled? 'unsupported' when the server does not implement it. */
async function readVersioning(s: S3Session, name: string): Promise<boolean | 'unsupported'> {
  try {
    const v: unknown = await s.call(`read the versioning of bucket ${name}`, (c) => c.getBucketVersioning(name))
    // no <VersioningConfiguration> in the answer: the server ignored the subresource (s3rver lists the bucket)
    if (v === undefined) return 'unsupported'
    return (v as {Status?: string} | null)?.Status === 'Enabled'
  } catch (e) {
    if ((await s3Errors()).isNotImplemented((e as {cause?: unknown}).cause)) return 'unsupported'
    throw e
  }
}

/** Live check: the bucket exists with the wanted expiry rule and versioning. */
export async function bucketIsDone(s: S3Session, w: WantedBucket): Promise<boolean> {
  if (!(await s.call(`check bucket ${w.name}`, (c) => c.bucketExists(w.name)))) return false
  const rules = await readRules(s, w.name)
  if (rules === 'unsupported') {
    if (w.expireDays !== null) return false
  } else if (planLifecycle(rules, w.expireDays) !== null) return false
  if (w.versioning) {
    const v = await readVersioning(s, w.name)
    if (v !== true) return false
  }
  return true
}

/** Bring one bucket into the wanted state; `log` gets one line per step. */
export async function ensureBucket(s: S3Session, w: WantedBucket, log: (line: string) => void = () => {}): Promise<BucketReport> {
  const {isNotImplemented, s3Code} = await s3Errors()
  const warnings: string[] = []
  let bucket: BucketState = 'exists'
  if (!(await s.call(`check bucket ${w.name}`, (c) => c.bucketExists(w.name)))) {
    try {
      await s.call(`create bucket ${w.name}`, (c) => c.makeBucket(w.name))
      bucket = 'created'
    } catch (e) {
      // created meanwhile by a concurrent run: that is the wanted state
      const code = s3Code((e as {cause?: unknown}).cause)
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw e
      if (code === 'BucketAlreadyExists' && !(await s.call(`check bucket ${w.name}`, (c) => c.bucketExists(w.name)))) throw e
    }
  }
  log(`bucket ${w.name}: ${bucket}`)

  let lifecycle: LifecycleState = 'none'
  const rules = await readRules(s, w.name)
  if (rules === 'unsupported') {
    if (w.expireDays !== null) {
      lifecycle = 'unsupported'
      warnings.push(
        `the S3 server does not implement bucket lifecycle (expire objects after ${w.expireDays} days in ${w.name}); set the rule on the server by other means`,
      )
    }
  } else {
    const plan = planLifecycle(rules, w.expireDays)
    if (!plan) lifecycle = w.expireDays === null ? 'none' : 'unchanged'
    else {
      try {
        if (plan.rules.length === 0) await s.call(`remove the lifecycle of bucket ${w.name}`, (c) => c.removeBucketLifecycle(w.name))
        else await s.call(`set the lifecycle of bucket ${w.name}`, (c) => c.setBucketLifecycle(w.name, {Rule: plan.rules}))
        lifecycle = plan.change === 'apply' ? 'applied' : 'removed'
      } catch (e) {
        if (!isNotImplemented((e as {cause?: unknown}).cause)) throw e
        lifecycle = 'unsupported'
        warnings.push(
          `the S3 server does not implement bucket lifecycle (expire objects after ${w.expireDays} days in ${w.name}); set the rule on the server by other means`,
        )
      }
    }
  }
  log(`lifecycle ${w.name}: ${lifecycle}${w.expireDays ? ` (expire after ${w.expireDays} days)` : ''}`)

  let versioningState: VersioningState = 'off'
  if (w.versioning) {
    const v = await readVersioning(s, w.name)
    if (v === true) versioningState = 'unchanged'
    else if (v === 'unsupported') versioningState = 'unsupported'
    else {
      try {
        await s.call(`enable versioning on bucket ${w.name}`, (c) => c.setBucketVersioning(w.name, {Status: 'Enabled'}))
        versioningState = 'enabled'
      } catch (e) {
        // a server that ignores ?versioning takes the PUT for CreateBucket and answers "already exists"
        const cause = (e as {cause?: unknown}).cause
        const ignored = ['BucketAlreadyExists', 'BucketAlreadyOwnedByYou'].includes(s3Code(cause) ?? '')
        if (!isNotImplemented(cause) && !ignored) throw e
        versioningState = 'unsupported'
      }
    }
    if (versioningState === 'unsupported') warnings.push(`the S3 server does not implement bucket versioning (wanted on ${w.name})`)
  }
  log(`versioning ${w.name}: ${versioningState}`)
  for (const warning of warnings) log(`warning: ${warning}`)
  return {...w, plan: describeBucket(w), bucket, lifecycle, versioningState, warnings}
}

/** The report of a bucket the live check found already in the wanted state. */
export function inStateReport(w: WantedBucket): BucketReport {
  return {
    ...w,
    plan: describeBucket(w),
    bucket: 'exists',
    lifecycle: w.expireDays === null ? 'none' : 'unchanged',
    versioningState: w.versioning ? 'unchanged' : 'off',
    warnings: [],
  }
}

/** The report of a dry run: what would be done, nothing touched. */
export function dryRunReport(w: WantedBucket): BucketReport {
  return {...w, plan: describeBucket(w), bucket: 'dry-run', lifecycle: 'dry-run', versioningState: 'dry-run', warnings: []}
}
