/**
 * `obsctl opensearch snapshot`: an on-demand snapshot of the log indices to the S3 snapshot repository
 * that the rendered GitOps repo declares (`s3-snapshots`, OpenSearchCluster spec.general.snapshotRepositories,
 * registered by the OpenSearch operator).
 * OpenSearch is reached exactly as `obsctl validate` reaches it (lib/platform: openPlatform and the basic-auth
 * request helper). The index pattern is resolved against the live indices first (GET _cat/indices/<pattern>):
 * a pattern, or a part of a comma list, that matches no index is refused before anything is created — the
 * create request's ignore_unavailable would otherwise make it an empty snapshot that reports SUCCESS. The
 * snapshot is started with wait_for_completion=false and, with --wait, followed by polling
 * GET _snapshot/<repo>/<name> until it is SUCCESS, PARTIAL or FAILED, or the time is up; one that holds no
 * index (its indices deleted in between) is a failure, whatever its state.
 *
 * Over 300 lines on purpose: starting, waiting for and reporting one snapshot share the repository checks and
 * the SnapshotInfo reading that list/restore/delete (./snapshot-ops.ts) reuse from here.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {ICONS} from '../checks/render.js'
import type {LoadedInventory} from '../config/load.js'
import {NAMESPACES} from '../config/model.js'
import {ObsctlError, inputError} from '../errors.js'
import {CREDENTIAL_ENV, SNAPSHOT_REPOSITORY, okJson, openPlatform, os, osError, parseJson, requireCredentialRoute} from '../platform/index.js'
import type {HttpResponse, PlatformContext, PlatformOptions} from '../platform/index.js'
import {pollMs as pollInterval} from '../poll.js'

/** The log indices Fluent Bit writes (fluent-bit-<cluster>-YYYY.MM.DD). */
export const DEFAULT_INDICES = 'fluent-bit-*'
export const DEFAULT_TIMEOUT_MS = 600_000
const DEFAULT_POLL_MS = 1000
/** a progress line at least this often while the state does not change */
const PROGRESS_EVERY_MS = 10_000

/** OpenSearch's SnapshotState: IN_PROGRESS while running; the others are final. */
export type SnapshotState = 'IN_PROGRESS' | 'SUCCESS' | 'PARTIAL' | 'FAILED' | 'INCOMPATIBLE'

export interface SnapshotFailure {
  index: string
  shard?: number
  node?: string
  reason: string
}

export interface SnapshotResult {
  /** SUCCESS; or, without --wait, started and not failed (yet) */
  ok: boolean
  repository: string
  name: string
  /** the index pattern asked for */
  indices: string
  /** the indices OpenSearch put in the snapshot (known once it says) */
  snapshotIndices: string[]
  state: SnapshotState
  /** --wait was given: the snapshot was followed to the end (or to --timeout) */
  waited: boolean
  /** --wait ran out of time; the snapshot keeps running in OpenSearch */
  timedOut: boolean
  startedAt?: string
  endedAt?: string
  shards: {total: number; successful: number; failed: number}
  failures: SnapshotFailure[]
  /** OpenSearch's reason for a snapshot that failed as a whole */
  reason?: string
  /** how to look at the snapshot later (no credentials in it) */
  follow: string
  /**
   * the name was taken already, by a snapshot of the same indices (the same command run before: a retry, a CI job's
   * rerun): that snapshot is reported (and followed under --wait), and no second one is taken
   */
  existing?: boolean
}

export interface SnapshotOptions extends Pick<PlatformOptions, 'kubeconfig' | 'endpoints' | 'viaApiServer' | 'caFile' | 'requestTimeoutMs' | 'prompt'> {
  /** snapshot name (default obsctl-<UTC yyyymmdd-hhmmss>) */
  name?: string
  /** index pattern (default fluent-bit-*) */
  indices?: string
  /** follow the snapshot until it ends or timeoutMs passes */
  wait?: boolean
  timeoutMs?: number
  /** between polls under wait (default 1 s) */
  pollMs?: number
  /** the clock of the default name */
  now?: () => Date
  /** progress lines while waiting (the command prints them on stderr) */
  onProgress?: (line: string) => void
}

/** obsctl-<UTC yyyymmdd-hhmmss> */
export function defaultSnapshotName(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `obsctl-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}

const FORBIDDEN = ['\\', '/', '*', '?', '"', '<', '>', '|', ',', '#']

/** Why OpenSearch would refuse this snapshot name, or undefined when it is valid. */
export function snapshotNameProblem(name: string): string | undefined {
  if (!name) return 'it is empty'
  // a URL path's . and .. segments are resolved away (WHATWG URL, as every HTTP client does): PUT _snapshot/REPO/. is
  // PUT _snapshot/REPO/, the repository's own settings
  if (name === '.' || name === '..')
    return `it is ${name}, which a URL path cannot carry (_snapshot/<repository>/${name} is read as the repository${name === '..' ? ' list' : ''})`
  if (/\s/.test(name)) return 'it contains whitespace'
  const bad = FORBIDDEN.filter((c) => name.includes(c))
  if (bad.length) return `it contains ${bad.join(' ')}`
  if (name.startsWith('_') || name.startsWith('-')) return `it starts with ${name[0]}`
  if (name !== name.toLowerCase()) return 'it has uppercase letters'
  return undefined
}

function checkInputs(name: string, indices: string): void {
  const problem = snapshotNameProblem(name)
  if (problem) {
    throw inputError(
      `--name ${JSON.stringify(name)} is not a valid snapshot name: ${problem}`,
      [
        `snapshot names are lowercase, without whitespace or any of ${FORBIDDEN.join(' ')}, and do not start with _ or -`,
        'leave --name out for obsctl-<UTC yyyymmdd-hhmmss>',
      ],
      'BAD_SNAPSHOT_NAME',
    )
  }
  if (badIndexPattern(indices)) {
    throw inputError(
      `--indices ${JSON.stringify(indices)}: expected an index pattern without spaces or empty parts (nor a part . or ..), e.g. ${DEFAULT_INDICES} or fluent-bit-cluster-02-*,fluent-bit-cluster-03-*`,
      [],
      'BAD_INDICES',
    )
  }
}

/** `fluent-bit-*` style patterns: commas, * wildcards, a leading - excludes (in order, as OpenSearch resolves them). */
export function matchesPattern(pattern: string, index: string): boolean {
  const re = (p: string) =>
    new RegExp(
      `^${p
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    )
  let hit = false
  for (const p of pattern.split(',').filter(Boolean)) {
    if (p.startsWith('-')) {
      if (re(p.slice(1)).test(index)) hit = false
    } else if (re(p).test(index)) hit = true
  }
  return hit
}

/**
 * The live indices `indices` selects, resolved by OpenSearch before a snapshot is taken: GET
 * _cat/indices/<its included parts> (OpenSearch resolves them strictly — a missing concrete name is a 404
 * index_not_found_exception, a wildcard may match nothing; expand_wildcards=all counts closed indices, which the
 * snapshot's own resolution expands to as well), the exclusions applied as OpenSearch applies them. Refuses (exit 2)
 * a pattern that selects no index, and an included part that matches none (a typo'd cluster in a list would
 * be left out silently); one that cannot be checked is exit 1.
 */
export async function resolveIndices(ctx: PlatformContext, indices: string): Promise<string[]> {
  const include = indices.split(',').filter((p) => p && !p.startsWith('-'))
  if (include.length === 0)
    throw inputError(`--indices ${indices} only excludes: it selects no index`, [`e.g. --indices "${DEFAULT_INDICES},-fluent-bit-cluster-01-*"`], 'BAD_INDICES')
  const res = await os(ctx, `/_cat/indices/${include.map(encodeURIComponent).join(',')}?format=json&h=index,status&expand_wildcards=all`).catch(
    (e: unknown) => {
      throw cannotCheck(indices, e instanceof Error ? e.message : String(e))
    },
  )
  if (res.status === 404 && errorType(res) === 'index_not_found_exception') {
    throw inputError(`--indices ${indices} matches no index in OpenSearch (${osError(res)}): nothing to snapshot`, [LIST_HINT], 'SNAPSHOT_NO_INDICES')
  }
  if (res.status < 200 || res.status >= 300) throw cannotCheck(indices, `HTTP ${res.status}: ${osError(res)}`, res.status)
  let rows: {index?: string}[]
  try {
    rows = parseJson<{index?: string}[]>(res, 'opensearch')
  } catch (e) {
    throw cannotCheck(indices, (e as Error).message)
  }
  if (!Array.isArray(rows)) throw cannotCheck(indices, `GET _cat/indices did not answer a list: ${res.body.slice(0, 120)}`)
  const live = rows.map((r) => r.index).filter((i): i is string => typeof i === 'string')
  const selected = live.filter((i) => matchesPattern(indices, i)).sort()
  if (selected.length === 0) throw inputError(`--indices ${indices} matches no index in OpenSearch: nothing to snapshot`, [LIST_HINT], 'SNAPSHOT_NO_INDICES')
  const unmatched = include.filter((p) => !live.some((i) => matchesPattern(p, i)))
  if (unmatched.length > 0) {
    throw inputError(
      `--indices ${indices}: ${unmatched.join(', ')} ${unmatched.length === 1 ? 'matches' : 'match'} no index in OpenSearch; the snapshot would leave ${unmatched.length === 1 ? 'it' : 'them'} out`,
      [`drop ${unmatched.length === 1 ? 'it' : 'them'} from --indices, or fix the name`, LIST_HINT],
      'SNAPSHOT_NO_INDICES',
    )
  }
  return selected
}

const LIST_HINT = `the log indices are fluent-bit-<cluster>-YYYY.MM.DD: GET _cat/indices/${DEFAULT_INDICES}?v lists them`

function cannotCheck(indices: string, why: string, status?: number): ObsctlError {
  return new ObsctlError(`could not check which indices --indices ${indices} matches, so no snapshot was started: ${why}`, {
    code: 'SNAPSHOT_INDICES_CHECK',
    hints: [
      status === 403
        ? "the user's roles must allow indices:monitor/settings/get (GET _cat/indices) on the indices as well as taking snapshots"
        : 'obsctl validate opensearch shows whether OpenSearch answers',
    ],
  })
}

/** OpenSearch's SnapshotInfo (GET _snapshot/<repo>/<name>, documented fields) */
export interface SnapshotInfo {
  snapshot: string
  state?: SnapshotState
  indices?: string[]
  reason?: string
  start_time_in_millis?: number
  end_time_in_millis?: number
  shards?: {total?: number; successful?: number; failed?: number}
  failures?: {index?: string; shard_id?: number | string; node_id?: string; reason?: string}[]
}

/** The error type OpenSearch put in its envelope, if any. */
export function errorType(res: HttpResponse): string | undefined {
  try {
    const e = (JSON.parse(res.body) as {error?: {type?: string}}).error
    return typeof e === 'object' && e ? e.type : undefined
  } catch {
    return undefined
  }
}

/** Create a snapshot (and follow it under `wait`) with a context of its own. */
export async function createSnapshot(inv: LoadedInventory, o: SnapshotOptions = {}): Promise<SnapshotResult> {
  const name = o.name ?? defaultSnapshotName(o.now?.() ?? new Date())
  const indices = o.indices ?? DEFAULT_INDICES
  checkInputs(name, indices)
  const opened = await openPlatform(inv, {...o, need: {opensearch: true, s3: false}})
  try {
    return await takeSnapshot(opened.ctx, {...o, name, indices})
  } finally {
    opened.close()
  }
}

/** Credentials are there and may go to OpenSearch (verified https, not the API server proxy); else exit 2 naming the fix. */
export function requireOpenSearch(ctx: PlatformContext): void {
  const creds = ctx.opensearch
  if ('missing' in creds)
    throw inputError(
      creds.missing,
      [`export ${CREDENTIAL_ENV.user}=… ${CREDENTIAL_ENV.password}=… (or run in a terminal to be asked)`],
      'OPENSEARCH_CREDENTIALS',
    )
  requireCredentialRoute(ctx.http, 'opensearch')
}

/** The snapshot repository is registered (GET _snapshot/<repo>); a missing one points at the operator and validate. */
export async function requireRepository(ctx: PlatformContext, repo: string): Promise<void> {
  const repoRes = await os(ctx, `/_snapshot/${repo}`)
  if (repoRes.status === 404) {
    throw new ObsctlError(`the snapshot repository ${repo} is not registered in OpenSearch (${osError(repoRes)})`, {
      code: 'SNAPSHOT_REPOSITORY_MISSING',
      hints: [
        `the OpenSearch operator registers it from the OpenSearchCluster of the rendered GitOps repo (spec.general.snapshotRepositories): kubectl -n ${NAMESPACES.logging} describe opensearchcluster opensearch-cluster shows why it did not`,
        'obsctl validate opensearch shows it (check opensearch.snapshots)',
      ],
    })
  }
  okJson(repoRes, 'opensearch')
}

/** The snapshot against an open context (validate's): repository check, create, then read or follow. */
export async function takeSnapshot(ctx: PlatformContext, o: SnapshotOptions & {name: string; indices: string}): Promise<SnapshotResult> {
  const {name, indices} = o
  checkInputs(name, indices)
  const repo = SNAPSHOT_REPOSITORY
  requireOpenSearch(ctx)
  await requireRepository(ctx, repo)
  // nothing is created for a pattern that matches nothing: with ignore_unavailable OpenSearch would take an empty snapshot and call it SUCCESS
  const resolved = await resolveIndices(ctx, indices)

  const path = `/_snapshot/${repo}/${encodeURIComponent(name)}`
  const follow = `GET ${ctx.http.where('opensearch').replace(/\/$/, '')}${path}`
  const body = JSON.stringify({indices, ignore_unavailable: true, include_global_state: false})
  const created = await os(ctx, `${path}?wait_for_completion=false`, {method: 'PUT', body})
  let existing = false
  if (created.status === 400 && errorType(created) === 'invalid_snapshot_name_exception') {
    const why = osError(created)
    if (!/already exists|already in-progress/.test(why)) throw inputError(`--name ${name}: OpenSearch refuses the name (${why})`, [], 'BAD_SNAPSHOT_NAME')
    // the same command run again: the snapshot of these very indices is there, taken (or being taken) by that run
    const there = await readSnapshot(ctx, repo, name)
    const others = sameIndices(there.indices, resolved) ? undefined : (there.indices ?? [])
    if (others) {
      throw inputError(
        `snapshot ${name} already exists in ${repo}, of other indices than ${indices} selects now (${others.length ? others.slice(0, 3).join(', ') + (others.length > 3 ? ', …' : '') : 'none'})`,
        ['--name NAME: another name (or leave --name out for obsctl-<UTC yyyymmdd-hhmmss>)', `the existing one: ${follow}`],
        'SNAPSHOT_EXISTS',
      )
    }
    existing = true
  }
  if (created.status === 503 && errorType(created) === 'concurrent_snapshot_execution_exception') {
    throw new ObsctlError(`OpenSearch is busy with another snapshot operation (${osError(created)})`, {
      code: 'SNAPSHOT_BUSY',
      hints: ['the ISM policy takes snapshots too: try again in a moment'],
    })
  }
  if (!existing && (created.status < 200 || created.status >= 300)) {
    throw new ObsctlError(`opensearch: could not start snapshot ${name} in ${repo}: ${osError(created)}`, {code: 'SNAPSHOT_CREATE'})
  }
  if (!existing) parseJson(created, 'opensearch')

  // from here on the snapshot runs in OpenSearch whatever happens to us
  const base = {repository: repo, name, indices, follow, ...(existing ? {existing} : {})}
  try {
    if (!o.wait) {
      const info = await readSnapshot(ctx, repo, name)
      return resultOf(info, base, {waited: false, timedOut: false})
    }
    return await waitForSnapshot(ctx, repo, name, base, o)
  } catch (e) {
    if (e instanceof ObsctlError)
      throw new ObsctlError(e.message, {
        code: e.code,
        exitCode: e.exitCode,
        details: e.details,
        cause: e,
        hints: [...e.hints, `snapshot ${name} was started and keeps running in OpenSearch: ${follow}`],
      })
    throw e
  }
}

export async function readSnapshot(ctx: PlatformContext, repo: string, name: string): Promise<SnapshotInfo> {
  const res = await os(ctx, `/_snapshot/${repo}/${encodeURIComponent(name)}`)
  if (res.status === 404) throw new ObsctlError(`snapshot ${name} is not in ${repo} (${osError(res)}): was it deleted?`, {code: 'SNAPSHOT_MISSING'})
  const info = okJson<{snapshots?: SnapshotInfo[]}>(res, 'opensearch').snapshots?.find((s) => s.snapshot === name)
  if (!info) throw new ObsctlError(`opensearch: GET _snapshot/${repo}/${name} did not list the snapshot`, {code: 'SNAPSHOT_MISSING'})
  return info
}

const TRANSIENT = new Set(['HTTP_TIMEOUT', 'HTTP_UNREACHABLE', 'HTTP_ERROR'])

async function waitForSnapshot(
  ctx: PlatformContext,
  repo: string,
  name: string,
  base: Pick<SnapshotResult, 'repository' | 'name' | 'indices' | 'follow' | 'existing'>,
  o: SnapshotOptions,
): Promise<SnapshotResult> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const pollMs = o.pollMs ?? pollInterval(DEFAULT_POLL_MS)
  const progress = o.onProgress ?? (() => undefined)
  const t0 = Date.now()
  const deadline = t0 + timeoutMs
  progress(`… waiting for snapshot ${name} in ${repo} (up to ${Math.round(timeoutMs / 1000)}s; Ctrl-C stops the waiting, not the snapshot)`)
  let info = await readSnapshot(ctx, repo, name)
  let shown = ''
  let shownAt = 0
  while (info.state === 'IN_PROGRESS' || info.state === undefined) {
    const what = `${info.state ?? 'state unknown'}${info.shards?.total ? `, ${info.shards.successful ?? 0}/${info.shards.total} shards` : ''}`
    if (what !== shown || Date.now() - shownAt >= PROGRESS_EVERY_MS) {
      progress(`… ${name}: ${what} (${Math.round((Date.now() - t0) / 1000)}s)`)
      shown = what
      shownAt = Date.now()
    }
    if (Date.now() + pollMs > deadline) return resultOf(info, base, {waited: true, timedOut: true})
    await sleep(pollMs)
    try {
      info = await readSnapshot(ctx, repo, name)
    } catch (e) {
      // a blip of the network is no reason to stop following; anything else is
      if (!(e instanceof ObsctlError && TRANSIENT.has(e.code))) throw e
      progress(`${ICONS.warn} ${name}: ${e.message}; trying again`)
    }
  }
  return resultOf(info, base, {waited: true, timedOut: false})
}

/** A snapshot's indices are the ones the pattern selects now (in any order). */
function sameIndices(held: string[] | undefined, resolved: string[]): boolean {
  const a = [...new Set(held ?? [])].sort()
  const b = [...new Set(resolved)].sort()
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function resultOf(
  info: SnapshotInfo,
  base: Pick<SnapshotResult, 'repository' | 'name' | 'indices' | 'follow' | 'existing'>,
  how: {waited: boolean; timedOut: boolean},
): SnapshotResult {
  const state = info.state ?? 'IN_PROGRESS'
  const iso = (ms?: number) => (ms && ms > 0 ? new Date(ms).toISOString() : undefined)
  // a snapshot of no index saved nothing, whatever OpenSearch calls it (its indices were deleted after obsctl checked them)
  const empty = (info.indices ?? []).length === 0 && (state !== 'IN_PROGRESS' || info.indices !== undefined)
  const ok = !empty && (state === 'SUCCESS' || (state === 'IN_PROGRESS' && !how.waited))
  return {
    ok,
    repository: base.repository,
    name: base.name,
    indices: base.indices,
    snapshotIndices: info.indices ?? [],
    state,
    waited: how.waited,
    timedOut: how.timedOut,
    startedAt: iso(info.start_time_in_millis),
    endedAt: iso(info.end_time_in_millis),
    shards: {total: info.shards?.total ?? 0, successful: info.shards?.successful ?? 0, failed: info.shards?.failed ?? 0},
    failures: (info.failures ?? []).map((f) => ({
      index: f.index ?? '?',
      ...(f.shard_id !== undefined ? {shard: Number(f.shard_id)} : {}),
      ...(f.node_id ? {node: f.node_id} : {}),
      reason: f.reason ?? 'no reason given',
    })),
    ...(info.reason ? {reason: info.reason} : {}),
    follow: base.follow,
    ...(base.existing ? {existing: true} : {}),
  }
}

/** The human view: one summary line, then the reasons of a failure or how to follow a running snapshot. */
export function formatSnapshot(r: SnapshotResult): string {
  const what = `snapshot ${r.name} of ${r.indices} in ${r.repository}`
  const n = r.snapshotIndices.length
  const idx = `${n} ${n === 1 ? 'index' : 'indices'}`
  const shards = r.shards.total ? `${r.shards.successful}/${r.shards.total} shards${r.shards.failed ? ` (${r.shards.failed} failed)` : ''}, ${idx}` : idx
  const took = r.startedAt && r.endedAt ? ` in ${((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)}s` : ''
  if (n === 0 && !r.ok && !r.timedOut)
    return [
      `${ICONS.fail} ${what}: ${r.state}, but it holds no index: nothing was saved`,
      `  the indices ${r.indices} matched when obsctl checked them were gone when OpenSearch took it (deleted in between?)`,
      `  → delete it (obsctl opensearch snapshot delete ${r.name}) and take another`,
    ].join('\n')
  // taken by an earlier run of the same command: said, so nobody counts two snapshots
  const again = r.existing ? '; it was there already (the same name and indices): not taken again' : ''
  if (r.state === 'SUCCESS') return `${ICONS.pass} ${what}: SUCCESS, ${shards}${took}${again}`
  if (r.state === 'IN_PROGRESS' && !r.waited)
    return [
      `${ICONS.pass} ${what}: ${r.existing ? 'running' : 'started'} (IN_PROGRESS${r.startedAt ? ` since ${r.startedAt}` : ''})${again}`,
      `  → follow it: ${r.follow} (or add --wait next time)`,
    ].join('\n')
  if (r.timedOut)
    return [`${ICONS.warn} ${what}: still IN_PROGRESS when --timeout passed; it keeps running in OpenSearch`, `  → follow it: ${r.follow}`].join('\n')
  const out = [`${ICONS.fail} ${what}: ${r.state}, ${shards}${took}${again}`]
  if (r.existing) out.push(`  → to take it again: obsctl opensearch snapshot delete ${r.name}, then this command`)
  if (r.reason) out.push(`  reason: ${r.reason}`)
  for (const f of r.failures.slice(0, 10))
    out.push(`  ${ICONS.fail} ${f.index}${f.shard !== undefined ? `[${f.shard}]` : ''}${f.node ? ` on ${f.node}` : ''}: ${f.reason}`)
  if (r.failures.length > 10) out.push(`  … and ${r.failures.length - 10} more (--json lists them all)`)
  return out.join('\n')
}

/** An --indices value OpenSearch cannot take: empty, with a space, or with an empty part between commas (`a,,b`). */
export function badIndexPattern(indices: string): boolean {
  // OpenSearch has no index named . or .. (it refuses the names), and a URL path resolves them away
  return !indices || /\s/.test(indices) || indices.split(',').some((part) => ['', '.', '..', '-.', '-..'].includes(part))
}
