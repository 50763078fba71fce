/** OpenSearch's REST API as the platform serves it: basic auth from the platform credentials. */
import {ObsctlError} from '../errors.js'
import {CREDENTIAL_ENV} from './catalogue.js'
import type {OpenSearchCredentials} from './credentials.js'
import {okJson, requireCredentialRoute, type HttpClient, type HttpOptions, type HttpResponse} from './http.js'

/** A request to OpenSearch with basic auth (from the context's credentials); 401, --via-api-server and plain http are clear errors. */
export async function os(
  ctx: {http: HttpClient; opensearch: OpenSearchCredentials | {missing: string}},
  path: string,
  opts: HttpOptions = {},
): Promise<HttpResponse> {
  const creds = ctx.opensearch
  if ('missing' in creds)
    throw new ObsctlError(creds.missing, {hints: [`export ${CREDENTIAL_ENV.user}=… ${CREDENTIAL_ENV.password}=… (or run in a terminal to be asked)`]})
  requireCredentialRoute(ctx.http, 'opensearch')
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64')
  const res = await ctx.http.request('opensearch', path, {
    ...opts,
    headers: {authorization: `Basic ${auth}`, 'content-type': 'application/json', ...opts.headers},
  })
  if (res.status === 401)
    throw new ObsctlError(`opensearch rejected the credentials (HTTP 401)`, {hints: [`check ${CREDENTIAL_ENV.user} / ${CREDENTIAL_ENV.password}`]})
  return res
}

/** OpenSearch's error envelope: {error: {type, reason, root_cause}, status} */
export function osError(res: HttpResponse): string {
  try {
    return errorText(JSON.parse(res.body) as ErrorEnvelope, res.status)
  } catch {
    return `HTTP ${res.status}`
  }
}

type ErrorEnvelope = {error?: {type?: string; reason?: string} | string; status?: number}

/** The envelope's error as one line: `type: reason` (or its text), else the HTTP status. */
function errorText(envelope: ErrorEnvelope, status: number | undefined): string {
  const e = envelope.error
  if (typeof e === 'string') return e
  if (e) return `${e.type ?? 'error'}: ${e.reason ?? ''}`.trim()
  return `HTTP ${status ?? 0}`
}

/** One search of a multi-search: the index expression it reads and the search's body (the Search API's). */
export interface OneSearch {
  index: string
  body: Record<string, unknown>
}

/** What a search of a multi-search answered: its response (hits, aggregations), or its own error. */
export type SearchAnswer = {ok: true; response: Record<string, unknown>} | {ok: false; error: string}

/**
 * Several searches in one request (`POST /_msearch`, NDJSON: a metadata line — the index, `ignore_unavailable` and
 * `allow_no_indices` as the per-cluster searches had in their query — and the body, each on one line): one request for
 * a fleet's clusters where one each would reach OpenSearch at once (1,000 clusters, 1,000 searches, each a shard request
 * per index it matches, against a search queue of 1,000 by default: rejected with 429). OpenSearch runs them at the
 * pace its `max_concurrent_searches` allows and answers `{responses: [...]}` in the order asked, each a search response
 * with its `status`, or `{error, status}` for a search that failed alone. A failure of the request is thrown.
 */
export async function msearch(
  ctx: {http: HttpClient; opensearch: OpenSearchCredentials | {missing: string}},
  searches: readonly OneSearch[],
  what: string,
): Promise<SearchAnswer[]> {
  if (searches.length === 0) return []
  const body = searches
    .map((s) => `${JSON.stringify({index: s.index, ignore_unavailable: true, allow_no_indices: true})}\n${JSON.stringify(s.body)}\n`)
    .join('')
  const res = await os(ctx, '/_msearch', {method: 'POST', body, headers: {'content-type': 'application/x-ndjson'}})
  const {responses} = okJson<{responses?: ({error?: unknown; status?: number} & Record<string, unknown>)[]}>(res, what)
  if (!Array.isArray(responses) || responses.length !== searches.length)
    throw new ObsctlError(`${what}: _msearch answered ${Array.isArray(responses) ? responses.length : 'no'} responses for ${searches.length} searches`)
  return responses.map((r) => (r.error === undefined ? {ok: true, response: r} : {ok: false, error: errorText(r as ErrorEnvelope, r.status)}))
}
