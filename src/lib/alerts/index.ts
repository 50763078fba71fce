/**
 * `obsctl alerts list|silence|unsilence`: the central Alertmanager's alerts and silences through its API
 * v2 (./api.ts). A silence is created, then read back to check Alertmanager holds it active; an
 * unsilence expires it and reads it back expired. Nothing is printed as done that was not verified.
 * A silence asked for again (the same matchers, author and comment: a retry, a CI job's rerun) is the
 * active one already there, extended when it would end before the new --for: never a second silence.
 */
import os from 'node:os'
import type {LoadedInventory} from '../config/load.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {ObsctlError, inputError} from '../errors.js'
import {endDryRun} from '../engine/format.js'
import {
  alertmanagerWhere,
  amExpireSilence,
  amAlerts,
  amSilence,
  amSilences,
  openPlatform,
  amPostSilence,
  type AmAlert,
  type AmSilence,
  type PlatformContext,
  type PlatformOptions,
} from '../platform/index.js'
import {checkSilenceMatchers, formatMatcher, fromApiMatcher, parseMatchers, toApiMatcher, type Matcher} from './matchers.js'

export type AlertsAccess = Pick<PlatformOptions, 'kubeconfig' | 'endpoints' | 'viaApiServer' | 'caFile' | 'requestTimeoutMs'>

export interface AlertRow {
  alertname: string
  severity?: string
  cluster?: string
  state: AmAlert['status']['state']
  silencedBy: string[]
  inhibitedBy: string[]
  startsAt: string
  summary?: string
  labels: Record<string, string>
  receivers: string[]
  fingerprint: string
}

export interface SilenceRow {
  id: string
  state: AmSilence['status']['state']
  matchers: string[]
  startsAt: string
  endsAt: string
  createdBy: string
  comment: string
}

export interface AlertsListResult {
  alertmanager: string
  cluster?: string
  alerts: AlertRow[]
  /** active and pending silences (expired ones are left out) */
  silences: SilenceRow[]
}

export interface SilenceResult {
  alertmanager: string
  dryRun: boolean
  /**
   * created: a new silence; unchanged: an active silence with the same matchers, author and comment already lasts
   * as long (or within a minute, at most a tenth of --for, of it); extended: that silence ended earlier and now ends
   * at endsAt. Under --dry-run: what the run would do.
   */
  action: 'created' | 'unchanged' | 'extended'
  /** false when Alertmanager was left as it was (unchanged, and every dry run) */
  changed: boolean
  /** set once Alertmanager holds it; under --dry-run only for the silence already there */
  id?: string
  /** extended: the silence as it was (Alertmanager gives an updated silence a new id when it cannot update it in place) */
  previous?: {id: string; endsAt: string}
  state?: AmSilence['status']['state']
  matchers: string[]
  startsAt: string
  endsAt: string
  createdBy: string
  comment: string
  /** alerts firing now that it silences (would silence, under --dry-run) */
  matching: AlertRow[]
}

export interface UnsilenceResult {
  alertmanager: string
  dryRun: boolean
  id: string
  matchers: string[]
  /** the state before: an expired silence is left as it is */
  before: AmSilence['status']['state']
  /** the state read back after (under --dry-run: unchanged) */
  state: AmSilence['status']['state']
  changed: boolean
}

async function withAlertmanager<T>(inv: LoadedInventory, o: AlertsAccess, fn: (ctx: PlatformContext) => Promise<T>): Promise<T> {
  const {ctx, close} = await openPlatform(inv, {...o, prompt: false, need: {opensearch: false, s3: false}})
  try {
    return await fn(ctx)
  } finally {
    close()
  }
}

function alertRow(a: AmAlert): AlertRow {
  return {
    alertname: a.labels.alertname ?? '',
    ...(a.labels.severity ? {severity: a.labels.severity} : {}),
    ...(a.labels.cluster ? {cluster: a.labels.cluster} : {}),
    state: a.status.state,
    silencedBy: a.status.silencedBy ?? [],
    inhibitedBy: a.status.inhibitedBy ?? [],
    startsAt: a.startsAt,
    ...(a.annotations?.summary ? {summary: a.annotations.summary} : {}),
    labels: a.labels,
    receivers: (a.receivers ?? []).map((r) => r.name),
    fingerprint: a.fingerprint,
  }
}

function silenceRow(s: AmSilence): SilenceRow {
  return {
    id: s.id,
    state: s.status.state,
    matchers: s.matchers.map((m) => formatMatcher(fromApiMatcher(m))),
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    createdBy: s.createdBy,
    comment: s.comment,
  }
}

function checkCluster(inv: LoadedInventory, cluster?: string): void {
  if (cluster && !inv.platform.clusters.some((c) => c.name === cluster)) {
    throw inputError(
      `--cluster ${cluster}: no such cluster in ${inv.file}`,
      [`clusters: ${inv.platform.clusters.map((c) => c.name).join(', ')}`],
      'UNKNOWN_CLUSTER',
    )
  }
}

/** Alerts (every state), optionally of one cluster (label cluster), and the silences that are not expired. */
export async function listAlerts(inv: LoadedInventory, o: AlertsAccess & {cluster?: string}): Promise<AlertsListResult> {
  checkCluster(inv, o.cluster)
  return withAlertmanager(inv, o, async (ctx) => {
    const [alerts, silences] = await Promise.all([
      amAlerts(ctx, o.cluster ? [formatMatcher({name: 'cluster', op: '=', value: o.cluster})] : []),
      amSilences(ctx),
    ])
    return {
      alertmanager: alertmanagerWhere(ctx),
      ...(o.cluster ? {cluster: o.cluster} : {}),
      alerts: alerts.map(alertRow).sort((a, b) => a.alertname.localeCompare(b.alertname) || (a.cluster ?? '').localeCompare(b.cluster ?? '')),
      silences: silences
        .filter((s) => s.status.state !== 'expired')
        .map(silenceRow)
        .sort((a, b) => a.endsAt.localeCompare(b.endsAt)),
    }
  })
}

export interface SilenceOptions extends AlertsAccess {
  matchers: string[]
  /** Prometheus duration, e.g. 2h */
  for: string
  comment: string
  /** default: obsctl/<login name> */
  author?: string
  dryRun?: boolean
  now?: () => Date
}

/** The author Alertmanager records: obsctl/<login name>. */
export function defaultAuthor(): string {
  let user = process.env.USER || 'unknown'
  try {
    user = os.userInfo().username
  } catch {
    // no passwd entry (a container's arbitrary uid): $USER
  }
  return `obsctl/${user}`
}

export async function silence(inv: LoadedInventory, o: SilenceOptions): Promise<SilenceResult> {
  const matchers: Matcher[] = parseMatchers(o.matchers)
  checkSilenceMatchers(matchers)
  if (!isDuration(o.for) || durationSeconds(o.for) <= 0)
    throw inputError(`--for ${o.for}: expected a positive duration such as 30m, 2h or 1d`, ['--for 2h'], 'BAD_DURATION')
  const comment = o.comment.trim()
  if (!comment)
    throw inputError('--comment: say why (Alertmanager records it with the silence)', ['--comment "node-3 kernel upgrade, ticket OPS-123"'], 'NO_COMMENT')
  const start = (o.now ?? (() => new Date()))()
  const end = new Date(start.getTime() + durationSeconds(o.for) * 1000)
  const createdBy = o.author?.trim() || defaultAuthor()
  return withAlertmanager(inv, o, async (ctx) => {
    const [firing, existing] = await Promise.all([amAlerts(ctx, matchers.map(formatMatcher)), amSilences(ctx)])
    const base = {
      alertmanager: alertmanagerWhere(ctx),
      matchers: matchers.map(formatMatcher),
      startsAt: start.toISOString(),
      endsAt: end.toISOString(),
      createdBy,
      comment,
      matching: firing.map(alertRow),
    }
    const same = sameSilence(existing, matchers, createdBy, comment)
    // a minute (a tenth of a short silence) is the same request made a little later: not worth an update
    const slack = Math.min(60_000, durationSeconds(o.for) * 100)
    if (same && Date.parse(same.endsAt) >= end.getTime() - slack) {
      return {...base, ...held(same), dryRun: Boolean(o.dryRun), action: 'unchanged', changed: false}
    }
    const action = same ? ('extended' as const) : ('created' as const)
    const previous = same ? {previous: {id: same.id, endsAt: same.endsAt}} : {}
    if (o.dryRun) return {...base, ...previous, dryRun: true, action, changed: false, ...(same ? {id: same.id} : {})}
    // an update keeps the silence's matchers and start as Alertmanager holds them (else it replaces the silence)
    const posted = same
      ? {id: same.id, matchers: same.matchers, startsAt: same.startsAt, endsAt: base.endsAt, createdBy, comment}
      : {matchers: matchers.map(toApiMatcher), startsAt: base.startsAt, endsAt: base.endsAt, createdBy, comment}
    const id = await amPostSilence(ctx, posted)
    const back = await amSilence(ctx, id)
    if (!back) throw new ObsctlError(`alertmanager answered silence ${id} ${action}, but GET /api/v2/silence/${id} does not find it`, {code: 'SILENCE_LOST'})
    if (back.status.state === 'expired')
      throw new ObsctlError(`silence ${id} was ${action} already expired (ends ${back.endsAt}): check this machine's clock`, {code: 'SILENCE_EXPIRED'})
    return {...base, ...previous, ...held(back), dryRun: false, action, changed: true}
  })
}

/** A silence's fields as Alertmanager holds them. */
const held = (s: AmSilence) => ({
  id: s.id,
  state: s.status.state,
  matchers: s.matchers.map((m) => formatMatcher(fromApiMatcher(m))),
  startsAt: s.startsAt,
  endsAt: s.endsAt,
})

/** The active silence (latest end first) with these matchers (in any order), author and comment: what this silence command made before. */
function sameSilence(silences: AmSilence[], matchers: Matcher[], createdBy: string, comment: string): AmSilence | undefined {
  const key = (ms: string[]) => JSON.stringify([...new Set(ms)].sort())
  const want = key(matchers.map(formatMatcher))
  return silences
    .filter((s) => s.status.state === 'active' && s.createdBy === createdBy && s.comment.trim() === comment)
    .filter((s) => key(s.matchers.map((m) => formatMatcher(fromApiMatcher(m)))) === want)
    .sort((a, b) => b.endsAt.localeCompare(a.endsAt))[0]
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export async function unsilence(inv: LoadedInventory, o: AlertsAccess & {id: string; dryRun?: boolean}): Promise<UnsilenceResult> {
  const id = o.id.trim()
  if (!UUID.test(id))
    throw inputError(`silence id ${o.id}: expected a UUID such as 3f2a…-…`, ['obsctl alerts list shows the silences and their ids'], 'BAD_SILENCE_ID')
  return withAlertmanager(inv, o, async (ctx) => {
    const before = await amSilence(ctx, id)
    if (!before) throw inputError(`alertmanager has no silence ${id}`, ['obsctl alerts list shows the silences and their ids'], 'NO_SILENCE')
    const base = {alertmanager: alertmanagerWhere(ctx), id, matchers: before.matchers.map((m) => formatMatcher(fromApiMatcher(m))), before: before.status.state}
    if (before.status.state === 'expired' || o.dryRun) return {...base, dryRun: Boolean(o.dryRun), state: before.status.state, changed: false}
    await amExpireSilence(ctx, id)
    const after = await amSilence(ctx, id)
    if (after?.status.state !== 'expired')
      throw new ObsctlError(`alertmanager accepted expiring silence ${id}, but it reads back ${after ? after.status.state : 'gone'}`, {
        code: 'SILENCE_NOT_EXPIRED',
      })
    return {...base, dryRun: false, state: 'expired', changed: true}
  })
}

// ------------------------------------------------------------------ text output

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

const ago = (iso: string, now = Date.now()) => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`
}

function stateText(a: AlertRow): string {
  if (a.silencedBy.length) return `silenced (${a.silencedBy.map((s) => s.slice(0, 8)).join(', ')})`
  if (a.inhibitedBy.length) return 'inhibited'
  return a.state
}

export function formatAlertsList(r: AlertsListResult): string {
  const out: string[] = []
  const where = r.cluster ? ` of ${r.cluster}` : ''
  if (r.alerts.length === 0) out.push(`No alerts${where} (Alertmanager at ${r.alertmanager}).`)
  else {
    out.push(`${r.alerts.length} alert(s)${where}:`)
    out.push(
      table([
        ['ALERTNAME', 'SEVERITY', 'CLUSTER', 'STATE', 'SINCE', 'SUMMARY'],
        ...r.alerts.map((a) => [a.alertname, a.severity ?? '-', a.cluster ?? '-', stateText(a), ago(a.startsAt), a.summary ?? '']),
      ]),
    )
  }
  out.push('')
  if (r.silences.length === 0) out.push('No active silences.')
  else {
    out.push(`${r.silences.length} silence(s):`)
    out.push(
      table([
        ['ID', 'STATE', 'ENDS', 'MATCHERS', 'BY', 'COMMENT'],
        ...r.silences.map((s) => [s.id, s.state, s.endsAt, s.matchers.join(' '), s.createdBy, s.comment]),
      ]),
    )
  }
  return out.join('\n')
}

/** The first line of a silence's report: what was (or would be) done with it. */
function silenceHead(r: SilenceResult): string {
  const what = `${r.matchers.join(' ')} until ${r.endsAt} (by ${r.createdBy}: ${r.comment})`
  if (r.action === 'unchanged')
    return r.dryRun ? `Silence ${r.id} is already active: ${what}; nothing would change` : `Silence ${r.id} already active: ${what}; nothing changed`
  if (r.action === 'extended') {
    if (r.dryRun) return `Would extend silence ${r.id} (it ends at ${r.previous?.endsAt}): ${what}`
    const replaced = r.previous && r.previous.id !== r.id ? `, as silence ${r.previous.id}, now expired` : ''
    return `Silence ${r.id} extended: ${what} (it ended at ${r.previous?.endsAt}${replaced})`
  }
  return r.dryRun ? `Would create a silence: ${what}` : `Silence ${r.id} ${r.state}: ${what}`
}

export function formatSilence(r: SilenceResult): string {
  const lines = [silenceHead(r)]
  lines.push(
    r.matching.length
      ? `${r.dryRun && r.action !== 'unchanged' ? 'It would silence' : 'It silences'} ${r.matching.length} alert(s) firing now: ${r.matching.map((a) => `${a.alertname}${a.cluster ? `{cluster=${a.cluster}}` : ''}`).join(', ')}`
      : 'No alert firing now matches it (it applies to alerts that start before it ends).',
  )
  if (r.dryRun) return endDryRun(lines)
  lines.push(`Undo: obsctl alerts unsilence ${r.id}`)
  return lines.join('\n')
}

export function formatUnsilence(r: UnsilenceResult): string {
  if (r.dryRun)
    return endDryRun(
      r.before === 'expired' ? `Silence ${r.id} is already expired; nothing to do.` : `Would expire silence ${r.id} (${r.before}): ${r.matchers.join(' ')}`,
    )
  if (!r.changed) return `Silence ${r.id} was already expired; nothing changed.`
  return `Silence ${r.id} expired: ${r.matchers.join(' ')}`
}
