/** Thanos Query (and Prometheus: the same HTTP API) as the platform serves it. */
import {ObsctlError} from '../errors.js'
import type {HttpClient} from './http.js'
import {okJson} from './http.js'

/** Prometheus HTTP API envelope (Prometheus and Thanos Query answer the same). */
export interface PromEnvelope<T> {
  status: 'success' | 'error'
  data: T
  errorType?: string
  error?: string
  warnings?: string[]
}

export interface PromVector {
  resultType: 'vector'
  result: {metric: Record<string, string>; value: [number, string]}[]
}

/** Instant query through Thanos Query; any `warnings` are failures (a partial answer is not an answer). */
export async function thanosQuery(ctx: {http: HttpClient}, query: string, dedup: boolean): Promise<PromVector['result']> {
  const q = new URLSearchParams({query, dedup: String(dedup), partial_response: 'false'})
  const body = okJson<PromEnvelope<PromVector>>(await ctx.http.request('thanos-query', `/api/v1/query?${q}`), 'thanos-query')
  if (body.status !== 'success') throw new ObsctlError(`thanos-query: ${query}: ${body.errorType ?? 'error'}: ${body.error ?? ''}`)
  if (body.warnings?.length) {
    throw new ObsctlError(`thanos-query answered ${query} with warnings: ${body.warnings.join('; ')}`, {
      hints: ['a store is failing or unreachable: see thanos.stores, and `kubectl -n monitoring logs deploy/thanos-query`'],
    })
  }
  return body.data.result
}
