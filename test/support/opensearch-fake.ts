/**
 * OpenSearch stand-in built from the documented REST responses: `_cluster/health`, `_snapshot/<repo>`
 * (+ `_verify`), `_plugins/_ism/policies/<id>`, `_plugins/_ism/explain/<index pattern>`,
 * `<index pattern>/_count` with a `range` on `@timestamp` (now-Ns), `<index pattern>/_search` with a `max`
 * aggregation on `@timestamp` and `track_total_hits`, `_msearch` of such searches (NDJSON; checked against
 * docs.opensearch.org, Search APIs > Multi-search: metadata line, body line, a final newline, `responses` in order
 * each with its `status`), `_cat/indices?format=json` and `_cat/indices/<index expression>?format=json` (`h`
 * columns; a missing concrete index 404, a wildcard matching nothing no row; a user whose roles lack
 * indices:monitor/settings/get gets the security plugin's 403 security_exception), and
 * errors in OpenSearch's envelope ({error: {root_cause, type, reason}, status}). Basic auth is enforced.
 * ISM as the index-management plugin answers: `GET|DELETE _plugins/_ism/policies/<id>` (with `_seq_no` /
 * `_primary_term`), explain per index (managed: index, index_uuid, policy_id, policy_seq_no, policy_primary_term
 * in that order; unmanaged: the two policy_id settings null), `POST _plugins/_ism/change_policy|add/<index>`
 * ({updated_indices, failures, failed_indices}); the fake applies a change at once (ISM does at the index's
 * next run). Snapshot management: `GET _plugins/_sm/policies/<name>/_explain` ({policies: [...]}).
 * OpenSearch Dashboards (same server): `GET /api/status`, `POST /api/saved_objects/index-pattern/<id>`.
 * Snapshots: `PUT _snapshot/<repo>/<name>` (?wait_for_completion) answers `{accepted: true}` or
 * `{snapshot: SnapshotInfo}`, `GET _snapshot/<repo>/<name>` answers `{snapshots: [SnapshotInfo]}` with the
 * documented fields (state IN_PROGRESS|SUCCESS|PARTIAL|FAILED, shards, failures, start/end_time_in_millis).
 * Snapshot operations (checked against the OpenSearch 2.x API reference: Get Snapshot, Delete Snapshot, Restore
 * Snapshot, Close Index, and the RestoreService source for the error text): `GET _snapshot/<repo>/_all` answers
 * `{snapshots: [SnapshotInfo]}`; `DELETE _snapshot/<repo>/<name>` answers `{acknowledged: true}` (404
 * snapshot_missing_exception when it is not there); `POST _snapshot/<repo>/<name>/_restore` takes `{indices,
 * rename_pattern, rename_replacement, include_global_state, include_aliases, ignore_unavailable}`, refuses an
 * open index of the same name with HTTP 500 `snapshot_restore_exception` ("cannot restore index [X] because an
 * open index with same name already exists in the cluster. …"), replaces a closed one (reopened), and answers
 * `{snapshot: {snapshot, indices, shards: {total, failed, successful}}}` with wait_for_completion=true, else
 * `{accepted: true}`; `POST <indices>/_close` answers `{acknowledged, shards_acknowledged, indices: {<index>:
 * {closed: true}}}`; `_cat/indices` shows status open|close.
 * Security plugin (checked against docs.opensearch.org: Internal user APIs — Get User, Create or Update User —
 * and the Authentication Information API): basic auth against `users` (a plain password, or a bcrypt `hash` as
 * internal_users.yml holds it); `GET _plugins/_security/authinfo` ({user, user_name, backend_roles, roles, …});
 * `GET _plugins/_security/api/internalusers/<name>` ({<name>: {hash: "", reserved, hidden, backend_roles,
 * attributes, opendistro_security_roles, static}}); `PUT` the same with {password | hash, backend_roles,
 * attributes, …}: 200 {status: "OK", message: "'<name>' updated."}, 201 for a new user, 403 {status:
 * "FORBIDDEN", message: "Resource '<name>' is reserved."} for a reserved user; only users with the backend
 * role admin (all_access / security_rest_api_access) reach the REST API, others get 403.
 */
import bcrypt from 'bcryptjs'
import {startFake, type FakeServer} from './http-fake.js'

/** The parts of a search (or count) body the fake reads */
interface SearchBody {
  query?: {range?: Record<string, {gte?: string}>}
  aggs?: Record<string, {max?: {field?: string}}>
  track_total_hits?: boolean
}

export interface LogDoc {
  index: string
  timestamp: number
}

/** An internal user of the security plugin: a plain password (tests) or the bcrypt hash of internal_users.yml. */
export interface FakeUser {
  password?: string
  hash?: string
  reserved?: boolean
  backend_roles?: string[]
  attributes?: Record<string, string>
  description?: string
  /** transport actions its roles do not grant, e.g. indices:monitor/settings/get (_cat/indices): 403 security_exception */
  denied?: string[]
}

export interface OpenSearchFake extends FakeServer {
  /** the security plugin's internal users (the constructor's user is an admin) */
  users: Record<string, FakeUser>
  /** every PUT internalusers request, the body as sent (the password replaced by its length) */
  userUpdates: {user: string; status: number; body: Record<string, unknown>}[]
  health: {cluster_name: string; status: 'green' | 'yellow' | 'red'; number_of_nodes: number; number_of_data_nodes: number; unassigned_shards: number}
  repositories: Record<string, {type: string; settings: Record<string, string>}>
  /** repository name → verification failure reason */
  verifyFailure: Record<string, string>
  /** ISM policies by id: the document and its version */
  policies: Record<string, FakePolicy>
  /** index → the ISM policy (and version) it runs; an index of `docs` not listed runs opts.policy at its current version */
  managed: Record<string, {policyId: string; seqNo?: number; primaryTerm?: number}>
  /** indices of `docs` no policy manages */
  unmanaged: Set<string>
  /** every ISM change_policy / add request, as sent */
  ismRequests: {action: 'change_policy' | 'add'; index: string; body: Record<string, unknown>}[]
  /** snapshot management policies by name, as GET …/_explain shows them */
  smPolicies: Record<
    string,
    {enabled: boolean; creation?: {latest_execution?: Record<string, unknown>}; deletion?: {latest_execution?: Record<string, unknown>}}
  >
  /** OpenSearch Dashboards saved objects (type/id → attributes) */
  savedObjects: Record<string, unknown>
  /** index → failed action (name + message) */
  failedIndices: Record<string, {action: string; message: string}>
  docs: LogDoc[]
  /** every _msearch request: how many searches it carried */
  msearches: number[]
  /** index expression → reason: a search of it fails alone (in an _msearch, its own `{error, status}` entry) */
  failSearch: Record<string, string>
  addLogs(cluster: string, n: number, ageMs?: number): void
  /** repository → snapshot name → the snapshot (its create request and how it runs) */
  snapshots: Record<string, Record<string, FakeSnapshot>>
  /** how the next created snapshot runs (consumed by the PUT; default: SUCCESS at once) */
  nextSnapshot: SnapshotPlan
  /** closed indices (POST <index>/_close; a restore reopens them) */
  closed: Set<string>
  /** every restore request's body, as sent */
  restoreRequests: {repository: string; snapshot: string; body: Record<string, unknown>}[]
  /** indices whose shard the next restores fail (OpenSearch restores the rest and counts it in shards.failed, the index not listed) */
  failRestoreOf: Set<string>
}

export interface FakePolicy {
  seqNo: number
  primaryTerm: number
  policy: Record<string, unknown>
}

/** IN_PROGRESS for `polls` GETs of the snapshot, then `state` (with `reason` on failed shards). */
export interface SnapshotPlan {
  polls?: number
  state?: 'SUCCESS' | 'PARTIAL' | 'FAILED'
  reason?: string
}

export interface FakeSnapshot {
  /** the create request's body as sent */
  request: {indices?: string | string[]; ignore_unavailable?: boolean; include_global_state?: boolean; partial?: boolean; [k: string]: unknown}
  /** the indices the request resolved to */
  indices: string[]
  startMs: number
  /** GETs still to answer IN_PROGRESS */
  pollsLeft: number
  plan: Required<Pick<SnapshotPlan, 'state'>> & SnapshotPlan
  /** GETs answered so far */
  gets: number
  /** when it was first seen finished */
  endMs?: number
  /** the documents of its indices when it was taken (a restore brings these back) */
  docs: LogDoc[]
}

/** OpenSearch's SnapshotInfo as GET _snapshot/<repo>/<name> and PUT …?wait_for_completion=true show it */
function snapshotInfo(name: string, s: FakeSnapshot, done: boolean): Record<string, unknown> {
  const total = s.indices.length
  const base = {
    snapshot: name,
    uuid: Buffer.from(name).toString('base64url').slice(0, 22).padEnd(22, 'A'),
    version_id: 136_407_827,
    version: '2.19.3',
    indices: s.indices,
    data_streams: [],
    include_global_state: s.request.include_global_state ?? true,
    start_time: new Date(s.startMs).toISOString(),
    start_time_in_millis: s.startMs,
  }
  if (!done) return {...base, state: 'IN_PROGRESS', failures: [], shards: {total: 0, failed: 0, successful: 0}}
  const endMs = (s.endMs ??= Math.max(Date.now(), s.startMs + 1))
  const failedIndices = s.plan.state === 'FAILED' ? s.indices : s.plan.state === 'PARTIAL' ? s.indices.slice(0, 1) : []
  const reason = s.plan.reason ?? 'IOException[Unable to upload object to S3]'
  return {
    ...base,
    state: s.plan.state,
    ...(s.plan.state === 'FAILED' ? {reason: `Indices don't have primary shards ${JSON.stringify(failedIndices)}`} : {}),
    end_time: new Date(endMs).toISOString(),
    end_time_in_millis: endMs,
    duration_in_millis: endMs - s.startMs,
    failures: failedIndices.map((index) => ({
      index,
      index_uuid: Buffer.from(index).toString('hex').slice(0, 22),
      shard_id: 0,
      reason,
      node_id: 'node3id',
      status: 'INTERNAL_SERVER_ERROR',
    })),
    shards: {total, failed: failedIndices.length, successful: total - failedIndices.length},
  }
}

const uuidOf = (index: string) => Buffer.from(index).toString('hex').slice(0, 22)

const err = (status: number, type: string, reason: string) => ({status, json: {error: {root_cause: [{type, reason}], type, reason}, status}})

/** `fluent-bit-*` style patterns (comma lists of * wildcards) */
function matches(pattern: string, index: string): boolean {
  return pattern.split(',').some((p) =>
    new RegExp(
      `^${p
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(index),
  )
}

/**
 * An index expression resolved as OpenSearch's IndexNameExpressionResolver does it: comma parts in order, `*`
 * wildcards over `visible` (the indices expand_wildcards admits), a `-pattern` after a wildcard removes what it
 * matches, a concrete name must exist in `all` (else `missing`, unless `lenient`: ignore_unavailable).
 */
function resolveExpression(expr: string, all: string[], visible: string[], lenient = false): {indices: string[]; missing?: string} {
  const chosen = new Set<string>()
  let wildcardSeen = false
  for (const part of expr.split(',').filter(Boolean)) {
    if (part.startsWith('-') && wildcardSeen) {
      for (const i of [...chosen]) if (matches(part.slice(1), i)) chosen.delete(i)
    } else if (part.includes('*')) {
      wildcardSeen = true
      for (const i of visible) if (matches(part, i)) chosen.add(i)
    } else if (all.includes(part)) chosen.add(part)
    else if (!lenient) return {indices: [], missing: part}
  }
  return {indices: [...chosen].sort()}
}

/** OpenSearch's IndexNotFoundException as the REST layer answers it (404, with the index and resource fields) */
function indexNotFound(index: string) {
  const cause = {
    type: 'index_not_found_exception',
    reason: `no such index [${index}]`,
    index,
    'resource.id': index,
    'resource.type': 'index_or_alias',
    index_uuid: '_na_',
  }
  return {status: 404, json: {error: {root_cause: [cause], ...cause}, status: 404}}
}

/** _cat/indices rows (format=json), only the columns `h` names when it is given, as the cat API answers */
function catRowsOf(self: {docs: LogDoc[]; closed: Set<string>}, names: string[], query: URLSearchParams): Record<string, string>[] {
  const h = query.get('h')?.split(',').filter(Boolean)
  return names.map((index) => {
    const row: Record<string, string> = {
      health: self.closed.has(index) ? '' : 'green',
      status: self.closed.has(index) ? 'close' : 'open',
      index,
      uuid: index,
      pri: '1',
      rep: '1',
      'docs.count': String(self.docs.filter((d) => d.index === index).length),
      'docs.deleted': '0',
      'store.size': '1kb',
      'pri.store.size': '1kb',
    }
    return h ? Object.fromEntries(h.filter((k) => k in row).map((k) => [k, row[k]!])) : row
  })
}

export async function startOpenSearchFake(opts: {
  user: string
  password: string
  nodes?: number
  policy: string
  repository: string
  bucket: string
  snapshotPolicy?: string
  tls?: {cert: string; key: string}
}): Promise<OpenSearchFake> {
  let self!: OpenSearchFake
  const verdicts = new Map<string, boolean>()
  /** the authenticated user's name, or undefined */
  const who = (h: Record<string, unknown>): string | undefined => {
    const m = typeof h.authorization === 'string' ? /^Basic (.+)$/.exec(h.authorization) : null
    if (!m) return undefined
    const raw = Buffer.from(m[1]!, 'base64').toString('utf8')
    const i = raw.indexOf(':')
    const [name, pw] = [raw.slice(0, i), raw.slice(i + 1)]
    const u = self.users[name]
    if (!u || i < 0) return undefined
    if (u.password !== undefined) return u.password === pw ? name : undefined
    if (!u.hash) return undefined
    // bcrypt is slow on purpose: a verdict is remembered per hash and password (as the security plugin caches users)
    const k = `${u.hash}\u0000${pw}`
    if (!verdicts.has(k)) verdicts.set(k, bcrypt.compareSync(pw, u.hash))
    return verdicts.get(k) ? name : undefined
  }
  const authOk = (h: Record<string, unknown>) => who(h) !== undefined
  const guard =
    (fn: Parameters<typeof startFake>[0][number][2]): Parameters<typeof startFake>[0][number][2] =>
    (req) =>
      authOk(req.headers) ? fn(req) : {status: 401, text: 'Unauthorized', headers: {'www-authenticate': 'Basic realm="OpenSearch Security"'}}
  /** the security plugin's refusal of an action the user's roles do not grant (its 403 as OpenSearch 2.x answers it) */
  const deniedAction = (h: Record<string, unknown>, action: string) => {
    const name = who(h)!
    if (!(self.users[name]?.denied ?? []).includes(action)) return undefined
    const reason = `no permissions for [${action}] and User [name=${name}, backend_roles=[${(self.users[name]?.backend_roles ?? []).join(', ')}], requestedTenant=null]`
    return err(403, 'security_exception', reason)
  }
  const isAdmin = (name: string) => (self.users[name]?.backend_roles ?? []).includes('admin')
  const restForbidden = (name: string, method: string) => ({
    status: 403,
    json: {
      status: 'FORBIDDEN',
      message: `No permission to access REST API: User ${name} with Security roles [own_index] does not have any access to endpoint INTERNALUSERS and method ${method}`,
    },
  })
  /** the documents a search or count reads: its index expression's, within a `range` on `@timestamp` (now-Ns) */
  const matching = (expression: string, body: SearchBody) => {
    const gte = body.query?.range?.['@timestamp']?.gte
    const m = gte ? /^now-(\d+)([smhd])$/.exec(gte) : null
    const since = m ? Date.now() - Number(m[1]) * {s: 1000, m: 60_000, h: 3600_000, d: 86_400_000}[m[2] as 's'] : 0
    return self.docs.filter((d) => matches(expression, d.index) && d.timestamp >= since)
  }
  /**
   * A search response (the Search API's shape) for the bodies obsctl sends: `size` 0, `max` aggregations on @timestamp,
   * `track_total_hits` (false: no `hits.total`; true: exact; unset: exact up to 10,000, then `gte`)
   */
  const searchResponse = (expression: string, body: SearchBody): Record<string, unknown> => {
    const mine = matching(expression, body)
    const aggregations: Record<string, {value: number | null; value_as_string?: string}> = {}
    for (const [name, agg] of Object.entries(body.aggs ?? {})) {
      if (agg.max?.field !== '@timestamp') continue
      const max = mine.length ? Math.max(...mine.map((d) => d.timestamp)) : null
      aggregations[name] = max === null ? {value: null} : {value: max, value_as_string: new Date(max).toISOString()}
    }
    const track = body.track_total_hits
    const total =
      track === false ? undefined : track === true || mine.length <= 10_000 ? {value: mine.length, relation: 'eq'} : {value: 10_000, relation: 'gte'}
    return {
      took: 1,
      timed_out: false,
      _shards: {total: 1, successful: 1, skipped: 0, failed: 0},
      hits: {...(total ? {total} : {}), max_score: null, hits: []},
      ...(body.aggs ? {aggregations} : {}),
    }
  }
  const indices = () => [...new Set(self.docs.map((d) => d.index))].sort()
  const catRows = (names: string[], query: URLSearchParams) => catRowsOf(self, names, query)
  const fake = await startFake(
    [
      [
        'GET',
        /^\/_cluster\/health$/,
        guard(() => ({json: {...self.health, timed_out: false, active_primary_shards: 10, active_shards: 20, relocating_shards: 0, initializing_shards: 0}})),
        'health',
      ],
      [
        'GET',
        /^\/_snapshot\/([^/]+)$/,
        guard((req) => {
          const repo = self.repositories[req.params[0]!]
          return repo ? {json: {[req.params[0]!]: repo}} : err(404, 'repository_missing_exception', `[${req.params[0]}] missing`)
        }),
        'snapshot',
      ],
      [
        'POST',
        /^\/_snapshot\/([^/]+)\/_verify$/,
        guard((req) => {
          const name = req.params[0]!
          if (!self.repositories[name]) return err(404, 'repository_missing_exception', `[${name}] missing`)
          if (self.verifyFailure[name]) return err(500, 'repository_verification_exception', `[${name}] ${self.verifyFailure[name]}`)
          return {
            json: {
              nodes: Object.fromEntries(
                Array.from({length: self.health.number_of_nodes}, (_, i) => [`node${i}id`, {name: `opensearch-${i < 3 ? 'masters' : 'data'}-${i % 3}`}]),
              ),
            },
          }
        }),
        'verify',
      ],
      [
        'GET',
        /^\/_plugins\/_ism\/policies\/([^/]+)$/,
        guard((req) => {
          const p = self.policies[req.params[0]!]
          return p
            ? {
                json: {
                  _id: req.params[0],
                  _version: p.seqNo + 1,
                  _primary_term: p.primaryTerm,
                  _seq_no: p.seqNo,
                  policy: {policy_id: req.params[0], ...p.policy},
                },
              }
            : err(404, 'status_exception', 'Policy not found')
        }),
        'policy',
      ],
      [
        'DELETE',
        /^\/_plugins\/_ism\/policies\/([^/]+)$/,
        guard((req) => {
          const id = req.params[0]!
          const p = self.policies[id]
          if (!p) return err(404, 'status_exception', 'Policy not found')
          delete self.policies[id]
          return {
            json: {
              _index: '.opendistro-ism-config',
              _id: id,
              _version: p.seqNo + 2,
              result: 'deleted',
              forced_refresh: true,
              _shards: {total: 2, successful: 2, failed: 0},
              _seq_no: p.seqNo + 1,
              _primary_term: p.primaryTerm,
            },
          }
        }),
        'policy-delete',
      ],
      [
        'POST',
        /^\/_plugins\/_ism\/(change_policy|add)\/([^/]+)$/,
        guard((req) => {
          const action = req.params[0] as 'change_policy' | 'add'
          const body = JSON.parse(req.body || '{}') as {policy_id?: string}
          self.ismRequests.push({action, index: req.params[1]!, body})
          const target = body.policy_id ? self.policies[body.policy_id] : undefined
          if (!target) return err(404, 'status_exception', `Could not find policy=${body.policy_id}`)
          const failed: {index_name: string; index_uuid: string; reason: string}[] = []
          let updated = 0
          for (const index of indices().filter((i) => matches(req.params[1]!, i))) {
            const isManaged = !self.unmanaged.has(index)
            if (action === 'change_policy' && !isManaged) failed.push({index_name: index, index_uuid: uuidOf(index), reason: 'This index is not being managed'})
            else if (action === 'add' && isManaged)
              failed.push({
                index_name: index,
                index_uuid: uuidOf(index),
                reason: 'This index already has a policy, use the update policy API to update index policies',
              })
            else {
              self.unmanaged.delete(index)
              self.managed[index] = {policyId: body.policy_id!, seqNo: target.seqNo, primaryTerm: target.primaryTerm}
              updated++
            }
          }
          return {json: {updated_indices: updated, failures: failed.length > 0, failed_indices: failed}}
        }),
        'ism-change',
      ],
      [
        'GET',
        /^\/_plugins\/_sm\/policies\/([^/]+)\/_explain$/,
        guard((req) => {
          const found = Object.entries(self.smPolicies).filter(([name]) => matches(req.params[0]!, name))
          return {
            json: {
              policies: found.map(([name, p]) => ({
                name,
                creation: {current_state: 'CREATION_START', trigger: {time: Date.now() + 3600_000}, ...p.creation},
                deletion: {current_state: 'DELETION_START', trigger: {time: Date.now() + 3600_000}, ...p.deletion},
                policy_seq_no: 3,
                policy_primary_term: 1,
                enabled: p.enabled,
              })),
            },
          }
        }),
        'sm-explain',
      ],
      [
        'GET',
        /^\/api\/status$/,
        guard(() => ({json: {name: 'opensearch-dashboards', version: {number: '2.19.3'}, status: {overall: {state: 'green'}}}})),
        'osd-status',
      ],
      [
        'POST',
        /^\/api\/saved_objects\/([^/]+)\/([^/]+)$/,
        guard((req) => {
          if (req.headers['osd-xsrf'] === undefined)
            return {status: 400, json: {statusCode: 400, error: 'Bad Request', message: 'Request must contain a osd-xsrf header.'}}
          const key = `${req.params[0]}/${req.params[1]}`
          if (self.savedObjects[key] && req.query.get('overwrite') !== 'true')
            return {status: 409, json: {statusCode: 409, error: 'Conflict', message: `Saved object [${key}] conflict`}}
          const attributes = (JSON.parse(req.body || '{}') as {attributes?: unknown}).attributes
          self.savedObjects[key] = attributes
          return {json: {type: req.params[0], id: req.params[1], attributes, references: [], updated_at: new Date().toISOString(), version: 'WzEsMV0='}}
        }),
        'osd-saved-object',
      ],
      [
        'GET',
        /^\/_plugins\/_ism\/explain\/([^/]+)$/,
        guard((req) => {
          const mine = indices().filter((i) => matches(req.params[0]!, i))
          const out: Record<string, unknown> = {}
          let managedCount = 0
          for (const index of mine) {
            if (self.unmanaged.has(index)) {
              out[index] = {'index.plugins.index_state_management.policy_id': null, 'index.opendistro.index_state_management.policy_id': null, enabled: null}
              continue
            }
            managedCount++
            const f = self.failedIndices[index]
            const current = self.policies[opts.policy]
            const m = self.managed[index] ?? {policyId: opts.policy, seqNo: current?.seqNo ?? 0, primaryTerm: current?.primaryTerm ?? 1}
            out[index] = {
              'index.plugins.index_state_management.policy_id': m.policyId,
              'index.opendistro.index_state_management.policy_id': m.policyId,
              index,
              index_uuid: uuidOf(index),
              policy_id: m.policyId,
              ...(m.seqNo === undefined ? {} : {policy_seq_no: m.seqNo, policy_primary_term: m.primaryTerm}),
              enabled: !f,
              state: {name: 'hot', start_time: Date.now() - 3600_000},
              action: f
                ? {name: f.action, start_time: Date.now() - 60_000, index: 0, failed: true, consumed_retries: 3, last_retry_time: Date.now()}
                : {name: 'transition', start_time: Date.now() - 60_000, index: -1, failed: false, consumed_retries: 0, last_retry_time: 0},
              info: f ? {message: f.message} : {message: 'Transitioning to next state'},
            }
          }
          return {json: {...out, total_managed_indices: managedCount}}
        }),
        'explain',
      ],
      [
        '*',
        /^\/([^_/][^/]*)\/_count$/,
        guard((req) => {
          const mine = matching(req.params[0]!, req.body ? (JSON.parse(req.body) as SearchBody) : {})
          return {json: {count: mine.length, _shards: {total: 1, successful: 1, skipped: 0, failed: 0}}}
        }),
        'count',
      ],
      [
        '*',
        /^\/([^_/][^/]*)\/_search$/,
        guard((req) => ({json: searchResponse(req.params[0]!, req.body ? (JSON.parse(req.body) as SearchBody) : {})})),
        'search',
      ],
      // the Multi-search API (docs.opensearch.org, Search APIs > Multi-search): NDJSON, a metadata line ({index, …}) and a
      // search body per search, the whole ending with a newline (else 400, as RestMultiSearchAction refuses it); the
      // answer {took, responses: [search response + status: 200, in the order asked]}
      [
        'POST',
        /^\/_msearch$/,
        guard((req) => {
          const text = req.body ?? ''
          if (!text.endsWith('\n')) return err(400, 'illegal_argument_exception', 'The msearch request must be terminated by a newline [\n]')
          const lines = text.split('\n').slice(0, -1)
          if (lines.length % 2 !== 0) return err(400, 'illegal_argument_exception', 'Validation Failed: 1: no requests added;')
          self.msearches.push(lines.length / 2)
          const responses: Record<string, unknown>[] = []
          for (let i = 0; i < lines.length; i += 2) {
            const meta = JSON.parse(lines[i]!) as {index?: string}
            const failed = self.failSearch[meta.index ?? '*']
            // a search whose every shard failed: OpenSearch's search_phase_execution_exception, in its entry only
            if (failed !== undefined) {
              const rootCause = [{type: 'query_shard_exception', reason: failed, index: meta.index}]
              responses.push({
                error: {root_cause: rootCause, type: 'search_phase_execution_exception', reason: 'all shards failed', phase: 'query', grouped: true},
                status: 503,
              })
              continue
            }
            responses.push({...searchResponse(meta.index ?? '*', JSON.parse(lines[i + 1]!) as SearchBody), status: 200})
          }
          return {json: {took: 1, responses}}
        }),
        'msearch',
      ],
      ['GET', /^\/_cat\/indices$/, guard((req) => ({json: catRows(indices(), req.query)})), 'cat'],
      // GET _cat/indices/{index} (OpenSearch 2.x RestIndicesAction: IndicesOptions.fromRequest(request, strictExpand())):
      // a concrete name that does not exist is a 404 index_not_found_exception, a wildcard that matches nothing is no
      // row (allow_no_indices), wildcards expand to open and closed indices (expand_wildcards narrows), and a -pattern
      // after a wildcard removes what it matches
      [
        'GET',
        /^\/_cat\/indices\/([^/_][^/]*)$/,
        guard((req) => {
          const denied = deniedAction(req.headers, 'indices:monitor/settings/get')
          if (denied) return denied
          const expand = (req.query.get('expand_wildcards') ?? 'open,closed').split(',')
          const visible = indices().filter((i) => expand.includes('all') || expand.includes(self.closed.has(i) ? 'closed' : 'open'))
          const r = resolveExpression(req.params[0]!, indices(), visible)
          return r.missing !== undefined ? indexNotFound(r.missing) : {json: catRows(r.indices, req.query)}
        }),
        'cat-pattern',
      ],
      [
        'GET',
        /^\/_plugins\/_security\/authinfo$/,
        guard((req) => {
          const name = who(req.headers)!
          const roles = self.users[name]?.backend_roles ?? []
          return {
            json: {
              user: `User [name=${name}, backend_roles=[${roles.join(', ')}], requestedTenant=null]`,
              user_name: name,
              user_requested_tenant: null,
              remote_address: '127.0.0.1:0',
              backend_roles: roles,
              custom_attribute_names: [],
              roles: isAdmin(name) ? ['all_access', 'own_index'] : ['own_index'],
              tenants: {[name]: true},
              principal: null,
              peer_certificates: '0',
              sso_logout_url: null,
            },
          }
        }),
        'authinfo',
      ],
      [
        'GET',
        /^\/_plugins\/_security\/api\/internalusers\/([^/]+)$/,
        guard((req) => {
          const caller = who(req.headers)!
          if (!isAdmin(caller)) return restForbidden(caller, 'GET')
          const u = self.users[req.params[0]!]
          if (!u) return {status: 404, json: {status: 'NOT_FOUND', message: `Resource '${req.params[0]}' not found.`}}
          return {
            json: {
              [req.params[0]!]: {
                hash: '',
                reserved: Boolean(u.reserved),
                hidden: false,
                backend_roles: u.backend_roles ?? [],
                attributes: u.attributes ?? {},
                ...(u.description ? {description: u.description} : {}),
                opendistro_security_roles: [],
                static: false,
              },
            },
          }
        }),
        'internaluser-get',
      ],
      [
        'PUT',
        /^\/_plugins\/_security\/api\/internalusers\/([^/]+)$/,
        guard((req) => {
          const caller = who(req.headers)!
          const name = req.params[0]!
          const body = JSON.parse(req.body || '{}') as {
            password?: string
            hash?: string
            backend_roles?: string[]
            attributes?: Record<string, string>
            description?: string
          }
          const shown = {...body, ...(body.password !== undefined ? {password: `(${body.password.length} characters)`} : {})}
          const answer = (status: number, json: unknown) => {
            self.userUpdates.push({user: name, status, body: shown})
            return {status, json}
          }
          if (!isAdmin(caller)) return answer(403, restForbidden(caller, 'PUT').json)
          const u = self.users[name]
          if (u?.reserved) return answer(403, {status: 'FORBIDDEN', message: `Resource '${name}' is reserved.`})
          if (!body.password && !body.hash)
            return answer(400, {status: 'error', reason: "Please specify either 'hash' or 'password' when creating a new internal user."})
          self.users[name] = {
            ...u,
            ...(body.password ? {password: body.password, hash: undefined} : {password: undefined, hash: body.hash}),
            backend_roles: body.backend_roles ?? [],
            attributes: body.attributes ?? {},
            ...(body.description ? {description: body.description} : {}),
          }
          return u ? answer(200, {status: 'OK', message: `'${name}' updated.`}) : answer(201, {status: 'CREATED', message: `'${name}' created.`})
        }),
        'internaluser-put',
      ],
      [
        'GET',
        /^\/_snapshot\/([^/_][^/]*)\/_all$/,
        guard((req) => {
          const repo = req.params[0]!
          if (!self.repositories[repo]) return err(404, 'repository_missing_exception', `[${repo}] missing`)
          return {json: {snapshots: Object.entries(self.snapshots[repo] ?? {}).map(([name, snap]) => snapshotInfo(name, snap, snap.pollsLeft <= 0))}}
        }),
        'snapshot-all',
      ],
      [
        'DELETE',
        /^\/_snapshot\/([^/_][^/]*)\/([^/_][^/]*)$/,
        guard((req) => {
          const [repo, name] = [req.params[0]!, req.params[1]!]
          if (!self.repositories[repo]) return err(404, 'repository_missing_exception', `[${repo}] missing`)
          if (!self.snapshots[repo]?.[name]) return err(404, 'snapshot_missing_exception', `[${repo}:${name}] is missing`)
          delete self.snapshots[repo]![name]
          return {json: {acknowledged: true}}
        }),
        'snapshot-delete',
      ],
      [
        'POST',
        /^\/_snapshot\/([^/_][^/]*)\/([^/_][^/]*)\/_restore$/,
        guard((req) => {
          const [repo, name] = [req.params[0]!, req.params[1]!]
          if (!self.repositories[repo]) return err(404, 'repository_missing_exception', `[${repo}] missing`)
          const snap = self.snapshots[repo]?.[name]
          if (!snap) return err(404, 'snapshot_missing_exception', `[${repo}:${name}] is missing`)
          const body = (req.body ? JSON.parse(req.body) : {}) as {indices?: string | string[]; rename_pattern?: string; rename_replacement?: string}
          self.restoreRequests.push({repository: repo, snapshot: name, body})
          const uuid = Buffer.from(name).toString('base64url').slice(0, 22)
          const patterns = Array.isArray(body.indices) ? body.indices.join(',') : (body.indices ?? '*')
          const chosen = snap.indices.filter((i) => matches(patterns, i))
          const rename = (i: string) => (body.rename_pattern !== undefined ? i.replace(new RegExp(body.rename_pattern, 'g'), body.rename_replacement ?? '') : i)
          for (const i of chosen) {
            const target = rename(i)
            if (indices().includes(target) && !self.closed.has(target)) {
              return err(
                500,
                'snapshot_restore_exception',
                `[${repo}:${name}/${uuid}] cannot restore index [${target}] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name`,
              )
            }
          }
          const restored: string[] = []
          let failed = 0
          for (const i of chosen) {
            const target = rename(i)
            if (self.failRestoreOf.has(target)) {
              failed++
              continue
            }
            self.docs = self.docs.filter((d) => d.index !== target).concat(snap.docs.filter((d) => d.index === i).map((d) => ({...d, index: target})))
            self.closed.delete(target)
            restored.push(target)
          }
          if (req.query.get('wait_for_completion') !== 'true') return {json: {accepted: true}}
          return {json: {snapshot: {snapshot: name, indices: restored, shards: {total: restored.length + failed, failed, successful: restored.length}}}}
        }),
        'snapshot-restore',
      ],
      [
        'POST',
        /^\/([^_/][^/]*)\/_close$/,
        guard((req) => {
          const names = req.params[0]!.split(',')
          const missing = names.find((n) => !indices().includes(n))
          if (missing) return err(404, 'index_not_found_exception', `no such index [${missing}]`)
          for (const n of names) self.closed.add(n)
          return {json: {acknowledged: true, shards_acknowledged: true, indices: Object.fromEntries(names.map((n) => [n, {closed: true}]))}}
        }),
        'index-close',
      ],
      [
        'PUT',
        /^\/_snapshot\/([^/_][^/]*)\/([^/_][^/]*)$/,
        guard((req) => {
          const [repo, name] = [req.params[0]!, req.params[1]!]
          if (!self.repositories[repo]) return err(404, 'repository_missing_exception', `[${repo}] missing`)
          if (self.snapshots[repo]?.[name])
            return err(400, 'invalid_snapshot_name_exception', `[${repo}:${name}] Invalid snapshot name [${name}], snapshot with the same name already exists`)
          const body = (req.body ? JSON.parse(req.body) : {}) as FakeSnapshot['request']
          const patterns = Array.isArray(body.indices) ? body.indices.join(',') : (body.indices ?? '*')
          // CreateSnapshotRequest's indices options: strictExpandHidden, lenient for a missing concrete name under ignore_unavailable
          const resolved = resolveExpression(patterns, indices(), indices(), Boolean(body.ignore_unavailable))
          if (resolved.missing !== undefined) return indexNotFound(resolved.missing)
          const plan = {state: 'SUCCESS' as const, ...self.nextSnapshot}
          self.nextSnapshot = {}
          const waitForCompletion = req.query.get('wait_for_completion') === 'true'
          const chosen = resolved.indices
          const snap: FakeSnapshot = {
            request: body,
            indices: chosen,
            startMs: Date.now(),
            pollsLeft: waitForCompletion ? 0 : (plan.polls ?? 0),
            plan,
            gets: 0,
            docs: self.docs.filter((d) => chosen.includes(d.index)).map((d) => ({...d})),
          }
          ;(self.snapshots[repo] ??= {})[name] = snap
          return waitForCompletion ? {json: {snapshot: snapshotInfo(name, snap, true)}} : {json: {accepted: true}}
        }),
        'snapshot-create',
      ],
      [
        'GET',
        /^\/_snapshot\/([^/_][^/]*)\/([^/_][^/]*)$/,
        guard((req) => {
          const [repo, name] = [req.params[0]!, req.params[1]!]
          if (!self.repositories[repo]) return err(404, 'repository_missing_exception', `[${repo}] missing`)
          const snap = self.snapshots[repo]?.[name]
          if (!snap) return err(404, 'snapshot_missing_exception', `[${repo}:${name}] is missing`)
          const done = snap.pollsLeft <= 0
          if (!done) snap.pollsLeft--
          snap.gets++
          return {json: {snapshots: [snapshotInfo(name, snap, done)]}}
        }),
        'snapshot-get',
      ],
      // delete-user as documented (docs.opensearch.org security/api/users): {"status":"OK","message":"'kirk' deleted."};
      // a missing user 404 and a reserved one 403 in the plugin's {status, message}
      [
        'DELETE',
        /^\/_plugins\/_security\/api\/internalusers\/([^/]+)$/,
        guard((req) => {
          const caller = who(req.headers)!
          if (!isAdmin(caller)) return restForbidden(caller, 'DELETE')
          const name = decodeURIComponent(req.params[0]!)
          const u = self.users[name]
          if (!u) return {status: 404, json: {status: 'NOT_FOUND', message: `Resource '${name}' not found.`}}
          if (u.reserved) return {status: 403, json: {status: 'FORBIDDEN', message: `Resource '${name}' is reserved.`}}
          delete self.users[name]
          return {json: {status: 'OK', message: `'${name}' deleted.`}}
        }),
        'internaluser-delete',
      ],
    ],
    {tls: opts.tls},
  )
  const nodes = opts.nodes ?? 6
  self = Object.assign(fake, {
    health: {cluster_name: 'opensearch', status: 'green' as const, number_of_nodes: nodes, number_of_data_nodes: Math.floor(nodes / 2), unassigned_shards: 0},
    repositories: {[opts.repository]: {type: 's3', settings: {bucket: opts.bucket, base_path: 'snapshots', client: 'default'}}},
    verifyFailure: {},
    policies: {
      [opts.policy]: {
        seqNo: 7,
        primaryTerm: 1,
        policy: {
          description: 'fluent-bit-* log indices: delete after 180d',
          default_state: 'hot',
          states: [],
          ism_template: [{index_patterns: ['fluent-bit-*'], priority: 200}],
        },
      },
    },
    managed: {},
    unmanaged: new Set<string>(),
    ismRequests: [],
    smPolicies: {
      [opts.snapshotPolicy ?? 'fluent-bit-snapshots']: {
        enabled: true,
        creation: {
          latest_execution: {status: 'SUCCESS', start_time: Date.now() - 3600_000, end_time: Date.now() - 3500_000, info: {message: 'Snapshot created'}},
        },
      },
    },
    savedObjects: {},
    failedIndices: {},
    docs: [],
    msearches: [],
    failSearch: {},
    snapshots: {},
    nextSnapshot: {},
    closed: new Set<string>(),
    restoreRequests: [],
    failRestoreOf: new Set<string>(),
    users: {[opts.user]: {password: opts.password, backend_roles: ['admin']}},
    userUpdates: [],
    addLogs(cluster: string, n: number, ageMs = 0) {
      const t = Date.now() - ageMs
      const d = new Date(t)
      const index = `fluent-bit-${cluster}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`
      for (let i = 0; i < n; i++) self.docs.push({index, timestamp: t})
    },
  })
  return self
}
