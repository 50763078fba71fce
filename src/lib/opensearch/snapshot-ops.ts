/**
 * `obsctl opensearch snapshot list|restore|delete`: the snapshots of the S3 repository s3-snapshots, through
 * OpenSearch's snapshot API only (never the bucket: OpenSearch keeps the repository's index of snapshots,
 * and files removed behind its back corrupt it).
 *
 *   list     GET  _snapshot/<repo>/_all                       → {snapshots: [SnapshotInfo]}
 *   restore  GET  _snapshot/<repo>/<name>                     the snapshot's indices and state
 *            GET  _cat/indices?format=json&expand_wildcards=all  which target names exist, open or closed
 *            POST <indices>/_close                            only with --close
 *            POST _snapshot/<repo>/<name>/_restore?wait_for_completion=true
 *                 {indices, include_global_state: false, include_aliases: false, rename_pattern?, rename_replacement?}
 *   delete   DELETE _snapshot/<repo>/<name>                   → {acknowledged: true}
 *
 * Restore refuses, before sending anything that changes the cluster, to overwrite an open index (OpenSearch
 * would refuse too, with a 500 snapshot_restore_exception, but only after the other indices were started):
 * --rename-pattern/--rename-replacement restore under other names, --close closes the existing indices first
 * (OpenSearch reopens them when their restore is done, with the snapshot's data).
 *
 * Over 300 lines on purpose: restore's refusals (open indices, renames, closing) are most of it and depend on
 * one another; list and delete are short and share its reading of the repository.
 */
import {table} from '../cli/format.js'
import {ICONS} from '../checks/render.js'
import type {LoadedInventory} from '../config/load.js'
import {ObsctlError, inputError} from '../errors.js'
import {endDryRun} from '../engine/format.js'
import {SNAPSHOT_REPOSITORY, okJson, openPlatform, os, osError} from '../platform/index.js'
import type {PlatformContext, PlatformOptions} from '../platform/index.js'
import {
  badIndexPattern,
  errorType,
  matchesPattern,
  requireOpenSearch,
  requireRepository,
  snapshotNameProblem,
  type SnapshotInfo,
  type SnapshotState,
} from './snapshot.js'

export type AccessOptions = Pick<PlatformOptions, 'kubeconfig' | 'endpoints' | 'viaApiServer' | 'caFile' | 'requestTimeoutMs' | 'prompt'>

export interface SnapshotSummary {
  name: string
  state: SnapshotState
  indices: string[]
  startedAt?: string
  endedAt?: string
  shards: {total: number; successful: number; failed: number}
}

export interface SnapshotListResult {
  repository: string
  snapshots: SnapshotSummary[]
}

export interface RestoreOptions extends AccessOptions {
  name: string
  /** which of the snapshot's indices (commas, * wildcards, -exclusions; default: all of them) */
  indices?: string
  /** a regular expression over each index name; with renameReplacement ($1… for its groups) */
  renamePattern?: string
  renameReplacement?: string
  /** close the open indices the restore would overwrite */
  close?: boolean
  dryRun?: boolean
  /** how long the restore request may take (it waits for completion) */
  timeoutMs?: number
}

export interface RestoredIndex {
  /** the index in the snapshot */
  from: string
  /** the name it is restored under */
  to: string
  /** what is in the cluster under that name before the restore */
  existing: 'open' | 'closed' | 'none'
}

export interface RestoreResult {
  ok: boolean
  dryRun: boolean
  repository: string
  name: string
  indices: RestoredIndex[]
  /** indices obsctl closed before the restore (--close) */
  closed: string[]
  /** OpenSearch's answer (absent under --dry-run) */
  shards?: {total: number; successful: number; failed: number}
  restoredIndices: string[]
}

export interface DeleteOptions extends AccessOptions {
  name: string
  dryRun?: boolean
}

export interface DeleteResult {
  dryRun: boolean
  repository: string
  name: string
  /** deleted (false under --dry-run, and when it was not there) */
  deleted: boolean
  /** not in the repository: nothing to delete (deleted already, by an earlier run of the same command or otherwise) */
  absent?: boolean
  /** what the snapshot held */
  indices: string[]
  state?: SnapshotState
}

const iso = (ms?: number) => (ms && ms > 0 ? new Date(ms).toISOString() : undefined)

function summary(s: SnapshotInfo): SnapshotSummary {
  return {
    name: s.snapshot,
    state: s.state ?? 'IN_PROGRESS',
    indices: s.indices ?? [],
    ...(iso(s.start_time_in_millis) ? {startedAt: iso(s.start_time_in_millis)} : {}),
    ...(iso(s.end_time_in_millis) ? {endedAt: iso(s.end_time_in_millis)} : {}),
    shards: {total: s.shards?.total ?? 0, successful: s.shards?.successful ?? 0, failed: s.shards?.failed ?? 0},
  }
}

function checkName(name: string): void {
  const problem = snapshotNameProblem(name)
  if (problem)
    throw inputError(`${JSON.stringify(name)} is not a snapshot name: ${problem}`, ['obsctl opensearch snapshot list shows the snapshots'], 'BAD_SNAPSHOT_NAME')
}

async function withOpenSearch<T>(inv: LoadedInventory, o: AccessOptions, fn: (ctx: PlatformContext) => Promise<T>): Promise<T> {
  const opened = await openPlatform(inv, {...o, need: {opensearch: true, s3: false}})
  try {
    requireOpenSearch(opened.ctx)
    await requireRepository(opened.ctx, SNAPSHOT_REPOSITORY)
    return await fn(opened.ctx)
  } finally {
    opened.close()
  }
}

/** One snapshot; a missing one is bad input (exit 2) pointing at the list. */
async function findSnapshot(ctx: PlatformContext, name: string): Promise<SnapshotInfo> {
  const info = await snapshotIfThere(ctx, name)
  if (!info) throw inputError(`snapshot ${name} is not in ${SNAPSHOT_REPOSITORY}`, [LIST_HINT], 'SNAPSHOT_MISSING')
  return info
}

const LIST_HINT = 'obsctl opensearch snapshot list shows the snapshots there'

/** The snapshot, or undefined when the repository does not have it (OpenSearch's snapshot_missing_exception). */
async function snapshotIfThere(ctx: PlatformContext, name: string): Promise<SnapshotInfo | undefined> {
  const repo = SNAPSHOT_REPOSITORY
  const res = await os(ctx, `/_snapshot/${repo}/${encodeURIComponent(name)}`)
  if (res.status === 404 && errorType(res) === 'snapshot_missing_exception') return undefined
  const info = okJson<{snapshots?: SnapshotInfo[]}>(res, 'opensearch').snapshots?.find((s) => s.snapshot === name)
  if (!info) throw new ObsctlError(`opensearch: GET _snapshot/${repo}/${name} did not list the snapshot`, {code: 'SNAPSHOT_MISSING'})
  return info
}

export async function listSnapshots(inv: LoadedInventory, o: AccessOptions = {}): Promise<SnapshotListResult> {
  return withOpenSearch(inv, o, async (ctx) => {
    const res = await os(ctx, `/_snapshot/${SNAPSHOT_REPOSITORY}/_all`)
    const list = okJson<{snapshots?: SnapshotInfo[]}>(res, 'opensearch').snapshots ?? []
    const snapshots = list.map(summary).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.name.localeCompare(b.name))
    return {repository: SNAPSHOT_REPOSITORY, snapshots}
  })
}

/** Check the restore flags before anything is contacted. */
function checkRestoreInputs(o: RestoreOptions): RegExp | undefined {
  checkName(o.name)
  if (o.indices !== undefined && badIndexPattern(o.indices)) {
    throw inputError(
      `--indices ${JSON.stringify(o.indices)}: expected an index pattern without spaces or empty parts (nor a part . or ..), e.g. fluent-bit-cluster-02-*`,
      [],
      'BAD_INDICES',
    )
  }
  if ((o.renamePattern === undefined) !== (o.renameReplacement === undefined)) {
    throw inputError('--rename-pattern and --rename-replacement go together', ['e.g. --rename-pattern "(.+)" --rename-replacement "restored-$1"'], 'BAD_RENAME')
  }
  if (o.renamePattern === undefined) return undefined
  try {
    return new RegExp(o.renamePattern)
  } catch (e) {
    throw inputError(
      `--rename-pattern ${JSON.stringify(o.renamePattern)} is not a regular expression: ${(e as Error).message}`,
      ['e.g. --rename-pattern "(.+)" --rename-replacement "restored-$1"'],
      'BAD_RENAME',
    )
  }
}

/** OpenSearch renames with Java's Matcher.replaceAll: every match of the pattern, $N for groups (JavaScript's String.replace with a global regex does the same for these). */
export function renamedIndex(index: string, pattern: RegExp | undefined, replacement: string | undefined): string {
  if (!pattern || replacement === undefined) return index
  return index.replace(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`), replacement)
}

export async function restoreSnapshot(inv: LoadedInventory, o: RestoreOptions): Promise<RestoreResult> {
  const pattern = checkRestoreInputs(o)
  const repo = SNAPSHOT_REPOSITORY
  return withOpenSearch(inv, o, async (ctx) => {
    const info = await findSnapshot(ctx, o.name)
    const state = info.state ?? 'IN_PROGRESS'
    if (state !== 'SUCCESS' && state !== 'PARTIAL') {
      throw new ObsctlError(`snapshot ${o.name} is ${state}: only a SUCCESS or PARTIAL snapshot can be restored`, {
        code: 'SNAPSHOT_NOT_RESTORABLE',
        hints: ['obsctl opensearch snapshot list shows the state of each'],
      })
    }
    const selected = (info.indices ?? []).filter((i) => (o.indices ? matchesPattern(o.indices, i) : true)).sort()
    if (selected.length === 0) {
      throw inputError(
        `--indices ${o.indices ?? '(all)'} matches none of the indices in snapshot ${o.name}`,
        [`the snapshot holds: ${(info.indices ?? []).slice(0, 10).join(', ') || 'no index'}`],
        'BAD_INDICES',
      )
    }
    const cat = okJson<{index: string; status?: string}[]>(await os(ctx, '/_cat/indices?format=json&h=index,status&expand_wildcards=all'), 'opensearch')
    const live = new Map(cat.map((c) => [c.index, c.status === 'close' ? ('closed' as const) : ('open' as const)]))
    const plan: RestoredIndex[] = selected.map((from) => {
      const to = renamedIndex(from, pattern, o.renameReplacement)
      return {from, to, existing: live.get(to) ?? 'none'}
    })
    const targets = plan.map((p) => p.to)
    const dup = targets.find((t, i) => targets.indexOf(t) !== i)
    if (dup)
      throw inputError(
        `--rename-pattern/--rename-replacement map more than one index to ${dup}`,
        ['a replacement that keeps the part that differs, e.g. "restored-$1" with the pattern "(.+)"'],
        'BAD_RENAME',
      )
    const open = plan.filter((p) => p.existing === 'open').map((p) => p.to)
    if (open.length > 0 && !o.close) {
      throw inputError(
        `restoring snapshot ${o.name} would overwrite ${open.length} open ${open.length === 1 ? 'index' : 'indices'}: ${open.slice(0, 5).join(', ')}${open.length > 5 ? `, … (${open.length - 5} more)` : ''}`,
        [
          '--rename-pattern REGEX --rename-replacement TEXT: restore beside them under other names, e.g. --rename-pattern "(.+)" --rename-replacement "restored-$1"',
          "--close: close them first; the restore replaces their data with the snapshot's and reopens them",
        ],
        'RESTORE_WOULD_OVERWRITE',
      )
    }
    const base = {repository: repo, name: o.name, indices: plan}
    if (o.dryRun) return {ok: true, dryRun: true, ...base, closed: [], restoredIndices: []}

    const closed: string[] = []
    if (open.length > 0) {
      const res = await os(ctx, `/${open.map(encodeURIComponent).join(',')}/_close`, {method: 'POST'})
      const ack = okJson<{acknowledged?: boolean}>(res, 'opensearch')
      if (!ack.acknowledged) throw new ObsctlError(`opensearch did not acknowledge closing ${open.join(', ')}`, {code: 'INDEX_CLOSE'})
      closed.push(...open)
    }
    const body: Record<string, unknown> = {indices: selected.join(','), include_global_state: false, include_aliases: false, ignore_unavailable: false}
    if (pattern) Object.assign(body, {rename_pattern: o.renamePattern, rename_replacement: o.renameReplacement})
    const res = await os(ctx, `/_snapshot/${repo}/${encodeURIComponent(o.name)}/_restore?wait_for_completion=true`, {
      method: 'POST',
      body: JSON.stringify(body),
      timeoutMs: o.timeoutMs ?? 600_000,
    })
    if (res.status < 200 || res.status >= 300) {
      throw new ObsctlError(`opensearch: restoring snapshot ${o.name} failed: ${osError(res)}`, {
        code: 'SNAPSHOT_RESTORE',
        hints: closed.length ? [`obsctl closed ${closed.join(', ')} before the restore: POST /${closed.join(',')}/_open reopens them`] : [],
      })
    }
    const out = okJson<{snapshot?: {indices?: string[]; shards?: {total?: number; successful?: number; failed?: number}}}>(res, 'opensearch').snapshot
    const shards = {total: out?.shards?.total ?? 0, successful: out?.shards?.successful ?? 0, failed: out?.shards?.failed ?? 0}
    const restoredIndices = (out?.indices ?? []).sort()
    // ok only for what the answer shows done: every selected index restored, every shard of them successful (an
    // answer without its snapshot report, or with fewer indices or shards than asked, measured nothing for the rest)
    const ok = shards.total > 0 && shards.successful === shards.total && restoredIndices.length === selected.length
    return {ok, dryRun: false, ...base, closed, shards, restoredIndices}
  })
}

export async function deleteSnapshot(inv: LoadedInventory, o: DeleteOptions): Promise<DeleteResult> {
  checkName(o.name)
  const repo = SNAPSHOT_REPOSITORY
  return withOpenSearch(inv, o, async (ctx) => {
    // not there: what the command wants already holds (its rerun after a delete, a retry after a timeout): exit 0
    const gone = {repository: repo, name: o.name, indices: [], deleted: false, absent: true}
    const info = await snapshotIfThere(ctx, o.name)
    if (!info) return {dryRun: Boolean(o.dryRun), ...gone}
    const base = {repository: repo, name: o.name, indices: info.indices ?? [], ...(info.state ? {state: info.state} : {})}
    if (o.dryRun) return {dryRun: true, deleted: false, ...base}
    const res = await os(ctx, `/_snapshot/${repo}/${encodeURIComponent(o.name)}`, {method: 'DELETE'})
    // deleted meanwhile (the snapshot policy, another operator)
    if (res.status === 404 && errorType(res) === 'snapshot_missing_exception') return {dryRun: false, ...gone}
    if (res.status === 503 && errorType(res) === 'concurrent_snapshot_execution_exception') {
      throw new ObsctlError(`OpenSearch is busy with another snapshot operation (${osError(res)})`, {
        code: 'SNAPSHOT_BUSY',
        hints: ['the snapshot policy takes and deletes snapshots too: try again in a moment'],
      })
    }
    if (res.status < 200 || res.status >= 300)
      throw new ObsctlError(`opensearch: deleting snapshot ${o.name} failed: ${osError(res)}`, {code: 'SNAPSHOT_DELETE'})
    const ack = okJson<{acknowledged?: boolean}>(res, 'opensearch')
    if (!ack.acknowledged) throw new ObsctlError(`opensearch did not acknowledge deleting snapshot ${o.name}`, {code: 'SNAPSHOT_DELETE'})
    return {dryRun: false, deleted: true, ...base}
  })
}

export function formatSnapshotList(r: SnapshotListResult): string {
  if (r.snapshots.length === 0) return `no snapshot in ${r.repository}`
  return table(
    ['NAME', 'STATE', 'INDICES', 'SHARDS', 'STARTED'],
    r.snapshots.map((s) => [s.name, s.state, s.indices.length, s.shards.total ? `${s.shards.successful}/${s.shards.total}` : '-', s.startedAt ?? '-']),
  )
}

export function formatRestore(r: RestoreResult): string {
  const out: string[] = []
  const n = r.indices.length
  if (r.dryRun) out.push(`would restore ${n} ${n === 1 ? 'index' : 'indices'} of snapshot ${r.name} from ${r.repository}`)
  else
    out.push(
      `${r.ok ? ICONS.pass : ICONS.fail} restored ${r.restoredIndices.length} ${r.restoredIndices.length === 1 ? 'index' : 'indices'} of snapshot ${r.name} from ${r.repository}: ${r.shards!.successful}/${r.shards!.total} shards${r.shards!.failed ? ` (${r.shards!.failed} failed)` : ''}`,
    )
  for (const i of r.indices) {
    const note =
      i.existing === 'open'
        ? r.dryRun
          ? ' (open: closed first, then replaced)'
          : ' (was open: closed, replaced)'
        : i.existing === 'closed'
          ? ' (closed: replaced)'
          : ''
    out.push(`  ${i.from}${i.to !== i.from ? ` → ${i.to}` : ''}${note}`)
  }
  return r.dryRun ? endDryRun(out) : out.join('\n')
}

export function formatDelete(r: DeleteResult): string {
  if (r.absent) {
    const line = `snapshot ${r.name} is not in ${r.repository}: nothing to delete (${LIST_HINT})`
    return r.dryRun ? endDryRun(line) : line
  }
  const n = r.indices.length
  return r.dryRun
    ? endDryRun(`would delete snapshot ${r.name} (${r.state ?? 'state unknown'}, ${n} ${n === 1 ? 'index' : 'indices'}) from ${r.repository}`)
    : `${ICONS.pass} deleted snapshot ${r.name} (${n} ${n === 1 ? 'index' : 'indices'}) from ${r.repository} through the snapshot API`
}
