/**
 * How a rotation tells whether a consumer accepts a password (src/lib/kube/rotate/common.ts accepts): the answer of
 * GET /api/user (Grafana) or GET /_plugins/_security/authinfo (OpenSearch) with basic auth. Both answer any signed-in
 * user; 401 is a refused password (both products' answer to wrong credentials), and 403 a user the server
 * authenticated but does not let read the path: the password works, so an old password answered 403 is not refused.
 */
import {describe, expect, it} from 'vitest'
import {accepts} from '../../src/lib/kube/rotate/common.js'
import type {HttpClient} from '../../src/lib/platform/index.js'
import {rejection} from '../support/errors.js'

/** an HttpClient whose every request gets `status` (the shape accepts reads: status and body) */
const answering = (status: number) =>
  ({request: async () => ({status, body: '{}', headers: {}, url: 'https://opensearch.test/_plugins/_security/authinfo'})}) as unknown as HttpClient

describe('rotate: does the consumer accept this password', () => {
  it('200 and 403 (authenticated, the path not allowed) accept; 401 refuses', async () => {
    expect(await accepts(answering(200), 'opensearch', 'fluentbit-cluster-02', 'pw')).toBe(true)
    expect(await accepts(answering(403), 'opensearch', 'fluentbit-cluster-02', 'pw')).toBe(true)
    expect(await accepts(answering(401), 'grafana', 'admin', 'pw')).toBe(false)
  })

  it('anything else cannot be measured: an error, never a verdict', async () => {
    const e = await rejection(accepts(answering(503), 'grafana', 'admin', 'pw'))
    expect(e.code).toBe('ROTATE_UNMEASURABLE')
  })
})
