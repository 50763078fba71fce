/** OpenSearch's REST API as the platform serves it: basic auth from the platform credentials. */
import {ObsctlError} from '../errors.js'
import {CREDENTIAL_ENV} from './catalogue.js'
import type {OpenSearchCredentials} from './credentials.js'
import {requireCredentialRoute, type HttpClient, type HttpOptions, type HttpResponse} from './http.js'

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
    const e = (JSON.parse(res.body) as {error?: {type?: string; reason?: string} | string}).error
    if (typeof e === 'string') return e
    if (e) return `${e.type ?? 'error'}: ${e.reason ?? ''}`.trim()
  } catch {}
  return `HTTP ${res.status}`
}
