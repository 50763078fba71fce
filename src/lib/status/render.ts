/** The human form of `obsctl status`: one row per cluster, then what is wrong, one line each. */
import {ICONS} from '../checks/render.js'
import {table} from '../table.js'
import type {ClusterStatus, FleetStatus, Freshness, ProbeError} from './types.js'

/** 42s, 5m, 3h, 2d (rounded down) */
export function formatAge(seconds: number): string {
  if (seconds < 90) return `${seconds}s`
  if (seconds < 90 * 60) return `${Math.floor(seconds / 60)}m`
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86400)}d`
}

const failed = (x: object): x is ProbeError => 'error' in x

function freshCell(f: Freshness | ProbeError): string {
  if (failed(f)) return 'unknown'
  if (f.ageSeconds === null) return 'none'
  return `${f.fresh ? '' : 'stale '}${formatAge(f.ageSeconds)} ago`
}

function certsCell(c: ClusterStatus['certs']): string {
  if (failed(c) || !c.soonest) return 'unknown'
  const s = c.soonest
  return s.status === 'expired' ? 'EXPIRED' : `${s.status === 'warn' ? `${ICONS.warn} ` : ''}${s.daysLeft}d`
}

function row(c: ClusterStatus): string[] {
  const nodes = failed(c.nodes) ? 'unknown' : `${c.nodes.ready}/${c.nodes.total} Ready`
  const apps = failed(c.apps) ? 'unknown' : c.apps.total === 0 ? 'none' : `${c.apps.total - c.apps.problems.length}/${c.apps.total} Synced+Healthy`
  const v = c.validation ? `${c.validation.result} ${formatAge(c.validation.ageSeconds)} ago` : 'never'
  return [c.name, c.role, nodes, apps, freshCell(c.metrics), freshCell(c.logs), certsCell(c.certs), v, c.ok ? 'ok' : 'DEGRADED']
}

/** Why each degraded cell is degraded. */
function problems(s: FleetStatus): string[] {
  const out: string[] = []
  for (const c of s.clusters) {
    const say = (what: string, text: string) => out.push(`${c.name} ${what}: ${text}`)
    if (failed(c.nodes)) say('nodes', c.nodes.error)
    else if (c.nodes.total === 0) say('nodes', 'the API server lists no nodes')
    else if (c.nodes.notReady.length) say('nodes', `not Ready: ${c.nodes.notReady.join(', ')}`)
    if (failed(c.apps)) say('apps', c.apps.error)
    else if (c.apps.total === 0) say('apps', 'no Argo CD Application deploys to it (obsctl render, then obsctl argocd sync)')
    else if (c.apps.problems.length) say('apps', c.apps.problems.join(', '))
    if (failed(c.metrics)) say('metrics', c.metrics.error)
    else if (c.metrics.ageSeconds === null) say('metrics', 'no samples with this cluster label in Thanos Query')
    else if (!c.metrics.fresh) say('metrics', `newest sample ${formatAge(c.metrics.ageSeconds)} old (stale after ${s.thresholds.metrics})`)
    if (failed(c.logs)) say('logs', c.logs.error)
    else if (c.logs.ageSeconds === null) say('logs', 'no log lines in its fluent-bit indices')
    else if (!c.logs.fresh) say('logs', `newest line ${formatAge(c.logs.ageSeconds)} old (stale after ${s.thresholds.logs})`)
    if (failed(c.certs)) say('certs', c.certs.error)
    else {
      const s = c.certs.soonest
      if (s && s.status !== 'ok')
        say(
          'certs',
          `${s.name} (${s.where}) ${s.status === 'expired' ? 'expired' : 'expires'} ${s.notAfter.slice(0, 10)}: obsctl certs renew --cluster ${c.name}`,
        )
      if (c.certs.problems.length) say('certs', c.certs.problems.join('; '))
    }
    if (c.validation?.checks.length) say('validation', c.validation.checks.join(', '))
  }
  return out
}

export function formatStatus(s: FleetStatus): string {
  const lines = [table(['CLUSTER', 'ROLE', 'NODES', 'APPS', 'METRICS', 'LOGS', 'CERTS', 'VALIDATED', 'STATUS'], s.clusters.map(row))]
  const why = problems(s)
  if (why.length) lines.push('', ...why.map((w) => `  ${ICONS.fail} ${w}`))
  const v = s.validation
  const last = v
    ? `last validation ${formatAge(v.ageSeconds)} ago${v.oldestAt !== v.at ? ` (oldest result ${formatAge(v.oldestAgeSeconds)} ago)` : ''}: ${v.summary.pass} passed, ${v.summary.warn} warnings, ${v.summary.fail} failed${v.failed.length ? ` (${v.failed.join(', ')})` : ''}`
    : 'no validation recorded yet (obsctl validate)'
  const bad = s.clusters.filter((c) => !c.ok).length
  lines.push('', `${bad ? `${bad}/${s.clusters.length} clusters degraded` : `all ${s.clusters.length} clusters ok`}; ${last}`)
  return lines.join('\n')
}
