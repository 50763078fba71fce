/**
 * opensearch.*: cluster health, the S3 snapshot repository and the snapshot management policy, the ISM policy
 * (and that every log index runs its current version) and fresh logs from every cluster.
 */
import {ObsctlError} from '../../errors.js'
import {sizeOf} from '../../config/sizing.js'
import {
  ISM_POLICY_ID,
  LOG_INDEX_PATTERN,
  SNAPSHOT_POLICY,
  SNAPSHOT_REPOSITORY,
  indexPattern,
  msearch,
  okJson,
  os,
  osError,
  parseJson,
} from '../../platform/index.js'
import type {Check} from '../types.js'
import {fail, list, pass, warn} from './util.js'

const ISM_POLICY = ISM_POLICY_ID

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
    if (h.status === 'red')
      return fail(detail, 'a primary shard is unassigned: GET _cluster/allocation/explain says why (often a full disk or a lost data node)')
    if (h.number_of_nodes < want) return fail(detail, 'kubectl -n logging get pods: a master or data pod is missing or not ready')
    if (h.status === 'yellow') return warn(detail, 'replica shards are unassigned: GET _cluster/allocation/explain')
    return pass(detail)
  },
}

/** GET _plugins/_sm/policies/<name>/_explain (OpenSearch snapshot management API docs) */
interface SmExecution {
  status?: 'IN_PROGRESS' | 'SUCCESS' | 'RETRYING' | 'FAILED' | 'TIME_LIMIT_EXCEEDED'
  info?: {message?: string; cause?: string}
}
interface SmExplain {
  policies?: {name: string; enabled?: boolean; creation?: {latest_execution?: SmExecution}; deletion?: {latest_execution?: SmExecution}}[]
}

const snapshots: Check = {
  id: 'opensearch.snapshots',
  component: 'opensearch',
  title: `The S3 snapshot repository ${SNAPSHOT_REPOSITORY} verifies and the snapshot policy ${SNAPSHOT_POLICY} runs`,
  async run(ctx) {
    const repo = await os(ctx, `/_snapshot/${SNAPSHOT_REPOSITORY}`)
    if (repo.status === 404)
      return fail(
        `repository ${SNAPSHOT_REPOSITORY} does not exist (${osError(repo)})`,
        'the OpenSearch operator registers it from the OpenSearchCluster (spec.general.snapshotRepositories): kubectl -n logging describe opensearchcluster opensearch-cluster shows why it did not',
      )
    const body = okJson<Record<string, {type: string; settings?: {bucket?: string}}>>(repo, 'opensearch')
    const def = body[SNAPSHOT_REPOSITORY]
    const verify = await os(ctx, `/_snapshot/${SNAPSHOT_REPOSITORY}/_verify`, {method: 'POST'})
    if (verify.status !== 200)
      return fail(
        `repository ${SNAPSHOT_REPOSITORY} (${def?.type ?? '?'}, bucket ${def?.settings?.bucket ?? '?'}) does not verify: ${osError(verify)}`,
        'every node needs the S3 keys in its keystore (Secret opensearch-s3-keystore, obsctl secrets apply) and must reach the S3 endpoint',
      )
    const nodes = Object.keys(parseJson<{nodes?: Record<string, unknown>}>(verify, 'opensearch').nodes ?? {}).length
    const repoDetail = `${def?.type ?? '?'} repository, bucket ${def?.settings?.bucket ?? '?'}, verified by ${nodes} node(s)`
    const hint = `the OpensearchSnapshotPolicy ${SNAPSHOT_POLICY} (deploy/base/opensearch/snapshot-policy.yaml): kubectl -n logging describe opensearchsnapshotpolicy ${SNAPSHOT_POLICY}`
    const ex = await os(ctx, `/_plugins/_sm/policies/${SNAPSHOT_POLICY}/_explain`)
    const policy = ex.status === 404 ? undefined : okJson<SmExplain>(ex, 'opensearch').policies?.find((x) => x.name === SNAPSHOT_POLICY)
    if (!policy) return fail(`${repoDetail}; snapshot policy ${SNAPSHOT_POLICY} does not exist: no snapshot is taken and none deleted`, hint)
    if (policy.enabled === false)
      return fail(`${repoDetail}; snapshot policy ${SNAPSHOT_POLICY} is stopped`, `POST _plugins/_sm/policies/${SNAPSHOT_POLICY}/_start, or see ${hint}`)
    const bad = (['creation', 'deletion'] as const).flatMap((w) => {
      const e = policy[w]?.latest_execution
      return e?.status === 'FAILED' || e?.status === 'TIME_LIMIT_EXCEEDED'
        ? [`last ${w} ${e.status}${e.info?.cause || e.info?.message ? ` (${e.info.cause ?? e.info.message})` : ''}`]
        : []
    })
    if (bad.length)
      return warn(
        `${repoDetail}; snapshot policy ${SNAPSHOT_POLICY}: ${bad.join(', ')}`,
        `GET _plugins/_sm/policies/${SNAPSHOT_POLICY}/_explain; the repository must stay writable (bucket, keys)`,
      )
    const last = policy.creation?.latest_execution?.status
    return pass(`${repoDetail}; snapshot policy ${SNAPSHOT_POLICY} enabled${last ? `, last creation ${last}` : ', no snapshot yet'}`)
  },
}

/** one index of GET _plugins/_ism/explain/<pattern> (unmanaged: only the two settings, null) */
interface Explain {
  'index.plugins.index_state_management.policy_id'?: string | null
  index?: string
  policy_id?: string
  policy_seq_no?: number
  policy_primary_term?: number
  enabled?: boolean
  action?: {name?: string; failed?: boolean}
  info?: {message?: string; cause?: string}
}

const ism: Check = {
  id: 'opensearch.ism',
  component: 'opensearch',
  title: `The ISM policy ${ISM_POLICY} exists and every log index runs its current version`,
  async run(ctx) {
    const pol = await os(ctx, `/_plugins/_ism/policies/${ISM_POLICY}`)
    if (pol.status === 404)
      return fail(
        `ISM policy ${ISM_POLICY} does not exist`,
        `the OpenSearch operator creates it from the OpenSearchISMPolicy ${ISM_POLICY}: kubectl -n logging describe opensearchismpolicy ${ISM_POLICY}`,
      )
    const version = okJson<{_seq_no?: number; _primary_term?: number}>(pol, 'opensearch')
    const ex = okJson<Record<string, Explain | number>>(await os(ctx, `/_plugins/_ism/explain/${encodeURIComponent(LOG_INDEX_PATTERN)}`), 'opensearch')
    // one key per index the pattern matches, beside `total_managed_indices`; none matched: `{"total_managed_indices": 0}`
    const entries = Object.entries(ex).filter((e): e is [string, Explain] => typeof e[1] === 'object' && e[1] !== null)
    // no index to look at measures nothing: a check that could not measure fails
    if (entries.length === 0)
      return fail(
        `no log index matches ${LOG_INDEX_PATTERN} yet: no index to check the policy on`,
        'fluent-bit creates the indices when it ships its first logs: see opensearch.logs and fluent-bit.output, and kubectl -n logging logs daemonset/fluent-bit',
      )
    const managed = entries.filter(([, e]) => Boolean(e.policy_id))
    const unmanaged = entries.filter(([, e]) => !e.policy_id && !e['index.plugins.index_state_management.policy_id']).map(([i]) => i)
    const failed = managed.filter(([, e]) => e.action?.failed)
    if (failed.length) {
      return fail(
        `${failed.length}/${managed.length} managed indices failed: ${list(
          failed.map(([i, e]) => `${i} (${e.action?.name ?? '?'}: ${e.info?.message ?? e.info?.cause ?? 'failed'})`),
          4,
        )}`,
        'fix the cause, then POST _plugins/_ism/retry/<index>',
      )
    }
    // a managed index keeps the policy version it started with; the opensearch-setup Job moves it (change_policy)
    const stale = managed.filter(
      ([, e]) =>
        e.policy_id !== ISM_POLICY ||
        (e.policy_seq_no !== undefined && (e.policy_seq_no !== version._seq_no || e.policy_primary_term !== version._primary_term)),
    )
    if (stale.length || unmanaged.length) {
      const parts = [
        ...(stale.length
          ? [
              `${stale.length} on an older policy (${list(
                stale.map(([i, e]) => `${i}: ${e.policy_id} ${e.policy_seq_no ?? '?'}/${e.policy_primary_term ?? '?'}`),
                3,
              )})`,
            ]
          : []),
        ...(unmanaged.length ? [`${unmanaged.length} unmanaged (${list(unmanaged, 3)})`] : []),
      ]
      return warn(
        `policy ${ISM_POLICY} version ${version._seq_no ?? '?'}/${version._primary_term ?? '?'}: ${parts.join('; ')}`,
        'the opensearch-setup PostSync Job moves them at the next sync of the opensearch Application: kubectl -n logging logs job/opensearch-setup',
      )
    }
    return pass(`policy ${ISM_POLICY}, ${managed.length} managed indices on its current version, none failed`)
  },
}

const logs: Check = {
  id: 'opensearch.logs',
  component: 'opensearch',
  title: 'Every cluster shipped logs recently (fluent-bit-<cluster>-*)',
  async run(ctx) {
    // every cluster's count in one multi-search (platform/opensearch.ts msearch: one request however many clusters),
    // exact (track_total_hits), as _count gave it
    const body = {size: 0, track_total_hits: true, query: {range: {'@timestamp': {gte: `now-${Math.max(1, Math.round(ctx.sinceMs / 1000))}s`}}}}
    const names = ctx.platform.clusters.map((c) => c.name)
    const answers = await msearch(
      ctx,
      names.map((c) => ({index: indexPattern(c), body})),
      'opensearch',
    )
    const results = names.map((c, i) => {
      const a = answers[i]!
      if (!a.ok) throw new ObsctlError(`opensearch: counting ${indexPattern(c)}: ${a.error}`)
      return [c, (a.response as {hits?: {total?: {value?: number}}}).hits?.total?.value ?? 0] as const
    })
    const silent = results.filter(([, n]) => n === 0).map(([c]) => c)
    if (silent.length) {
      return fail(
        `no logs within ${ctx.since} from ${list(silent)}`,
        `kubectl -n logging logs daemonset/fluent-bit on those clusters; see fluent-bit.output (the ClusterOutput must point at the central OpenSearch)`,
        silent,
      )
    }
    return pass(`within ${ctx.since}: ${list(results.map(([c, n]) => `${c} ${n}`))}`)
  },
}

export const opensearchChecks: Check[] = [health, snapshots, ism, logs]
