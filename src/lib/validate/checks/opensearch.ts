/** opensearch.*: cluster health, the S3 snapshot repository, the ISM policy and fresh logs from every cluster. */
import {sizeOf} from '../../config/sizing.js'
import {ISM_POLICY_ID, SNAPSHOT_REPOSITORY as RENDERED_REPOSITORY} from '../../gitops/context.js'
import {ObsctlError} from '../../errors.js'
import type {HttpOptions} from '../http.js'
import {okJson, parseJson} from '../http.js'
import type {Check, HttpResponse, ValidateContext} from '../types.js'
import {fail, list, pass, warn} from './util.js'

/** Names the GitOps repo's PostSync hook creates through the OpenSearch API (from the render context). */
export const SNAPSHOT_REPOSITORY = RENDERED_REPOSITORY
export const ISM_POLICY = ISM_POLICY_ID
export const indexPattern = (cluster: string) => `fluent-bit-${cluster}-*`

export const CREDENTIAL_ENV = {user: 'OBSCTL_OPENSEARCH_USER', password: 'OBSCTL_OPENSEARCH_PASSWORD'} as const

/** A request to OpenSearch with basic auth (from the context's credentials); 401 and --via-api-server are clear errors. */
export async function os(ctx: ValidateContext, path: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const creds = ctx.opensearch
  if ('missing' in creds) throw new ObsctlError(creds.missing, {hints: [`export ${CREDENTIAL_ENV.user}=… ${CREDENTIAL_ENV.password}=… (or run in a terminal to be asked)`]})
  if (ctx.http.where('opensearch').startsWith('API server proxy')) {
    throw new ObsctlError('OpenSearch needs basic auth, and the API server proxy drops Authorization headers (--via-api-server)', {
      hints: ['pass --endpoint opensearch=https://ADDRESS:9200 as well (an override wins over --via-api-server), or --skip the opensearch checks'],
    })
  }
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64')
  const res = await ctx.http.request('opensearch', path, {...opts, headers: {authorization: `Basic ${auth}`, 'content-type': 'application/json', ...opts.headers}})
  if (res.status === 401) throw new ObsctlError(`opensearch rejected the credentials (HTTP 401)`, {hints: [`check ${CREDENTIAL_ENV.user} / ${CREDENTIAL_ENV.password}`]})
  return res
}

/** OpenSearch's error envelope: {error: {type, reason, root_cause}, status} */
export function osError(res: HttpResponse): string {
  try {
    const e = (JSON.parse(res.body) as {error?: {type?: string; reason?: string} | string}).error
    if (typeof e === 'string') return e
    if (e) return `${e.type ?? 'error'}: ${e.reason ?? ''}`.trim()
  } catch {}
  return `HTTP ${res.status}`
}

interface ClusterHealth {
  cluster_name: string
  status: 'green' | 'yellow' | 'red'
  number_of_nodes: number
  number_of_data_nodes: number
  unassigned_shards?: number
}

const health: Check = {
  id: 'opensearch.health',
  component: 'opensearch',
  title: 'OpenSearch cluster health is green with every node',
  async run(ctx) {
    const h = okJson<ClusterHealth>(await os(ctx, '/_cluster/health'), 'opensearch')
    const want = sizeOf(ctx.platform, 'opensearch-master').replicas + sizeOf(ctx.platform, 'opensearch-data').replicas
    const detail = `${h.cluster_name}: ${h.status}, ${h.number_of_nodes}/${want} nodes (${h.number_of_data_nodes} data)${h.unassigned_shards ? `, ${h.unassigned_shards} unassigned shards` : ''}`
    if (h.status === 'red') return fail(detail, 'a primary shard is unassigned: GET _cluster/allocation/explain says why (often a full disk or a lost data node)')
    if (h.number_of_nodes < want) return fail(detail, 'kubectl -n logging get pods: a master or data pod is missing or not ready')
    if (h.status === 'yellow') return warn(detail, 'replica shards are unassigned: GET _cluster/allocation/explain')
    return pass(detail)
  },
}

const snapshots: Check = {
  id: 'opensearch.snapshots',
  component: 'opensearch',
  title: `The S3 snapshot repository ${SNAPSHOT_REPOSITORY} exists and verifies`,
  async run(ctx) {
    const repo = await os(ctx, `/_snapshot/${SNAPSHOT_REPOSITORY}`)
    if (repo.status === 404) return fail(`repository ${SNAPSHOT_REPOSITORY} does not exist (${osError(repo)})`, 'the PostSync hook Job of the OpenSearch Application creates it: kubectl -n logging logs job/opensearch-setup, then argocd app sync')
    const body = okJson<Record<string, {type: string; settings?: {bucket?: string}}>>(repo, 'opensearch')
    const def = body[SNAPSHOT_REPOSITORY]
    const verify = await os(ctx, `/_snapshot/${SNAPSHOT_REPOSITORY}/_verify`, {method: 'POST'})
    if (verify.status !== 200) return fail(`repository ${SNAPSHOT_REPOSITORY} (${def?.type ?? '?'}, bucket ${def?.settings?.bucket ?? '?'}) does not verify: ${osError(verify)}`, 'every node needs the S3 keys in its keystore (Secret opensearch-s3-keystore, obsctl secrets apply) and must reach the S3 endpoint')
    const nodes = Object.keys(parseJson<{nodes?: Record<string, unknown>}>(verify, 'opensearch').nodes ?? {}).length
    return pass(`${def?.type ?? '?'} repository, bucket ${def?.settings?.bucket ?? '?'}, verified by ${nodes} node(s)`)
  },
}

interface Explain {
  index?: string
  policy_id?: string
  enabled?: boolean
  action?: {name?: string; failed?: boolean}
  info?: {message?: string; cause?: string}
}

const ism: Check = {
  id: 'opensearch.ism',
  component: 'opensearch',
  title: `The ISM policy ${ISM_POLICY} exists and no managed index failed`,
  async run(ctx) {
    const pol = await os(ctx, `/_plugins/_ism/policies/${ISM_POLICY}`)
    if (pol.status === 404) return fail(`ISM policy ${ISM_POLICY} does not exist`, 'the PostSync hook Job of the OpenSearch Application creates it: kubectl -n logging logs job/opensearch-setup')
    okJson(pol, 'opensearch')
    const ex = okJson<Record<string, Explain | number>>(await os(ctx, `/_plugins/_ism/explain/${encodeURIComponent('fluent-bit-*')}`), 'opensearch')
    const managed = Object.entries(ex).filter((e): e is [string, Explain] => typeof e[1] === 'object' && e[1] !== null && Boolean(e[1].policy_id))
    const failed = managed.filter(([, e]) => e.action?.failed)
    if (failed.length) {
      return fail(`${failed.length}/${managed.length} managed indices failed: ${list(failed.map(([i, e]) => `${i} (${e.action?.name ?? '?'}: ${e.info?.message ?? e.info?.cause ?? 'failed'})`), 4)}`, 'fix the cause, then POST _plugins/_ism/retry/<index>')
    }
    return pass(`policy ${ISM_POLICY}, ${managed.length} managed indices, none failed`)
  },
}

const logs: Check = {
  id: 'opensearch.logs',
  component: 'opensearch',
  title: 'Every cluster shipped logs recently (fluent-bit-<cluster>-*)',
  async run(ctx) {
    const body = JSON.stringify({query: {range: {'@timestamp': {gte: `now-${Math.max(1, Math.round(ctx.sinceMs / 1000))}s`}}}})
    const results = await Promise.all(
      ctx.platform.clusters.map(async (c) => {
        const res = await os(ctx, `/${encodeURIComponent(indexPattern(c.name))}/_count?allow_no_indices=true&ignore_unavailable=true`, {method: 'POST', body})
        const n = okJson<{count: number}>(res, 'opensearch').count
        return [c.name, n] as const
      }),
    )
    const silent = results.filter(([, n]) => n === 0).map(([c]) => c)
    if (silent.length) {
      return fail(`no logs within ${ctx.since} from ${list(silent)}`, `kubectl -n logging logs daemonset/fluent-bit on those clusters; see fluent-bit.output (the ClusterOutput must point at the central OpenSearch)`, silent)
    }
    return pass(`within ${ctx.since}: ${results.map(([c, n]) => `${c} ${n}`).join(', ')}`)
  },
}

export const opensearchChecks: Check[] = [health, snapshots, ism, logs]
