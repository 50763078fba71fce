/**
 * The HTTP client of the platform's services sends a credential only over verified https (src/lib/platform/http.ts
 * credentialRefusal): every request to OpenSearch, Grafana or Argo CD at a plain-http URL, or through the API
 * server's service proxy (which does not verify the backend's certificate), is refused before anything is sent —
 * also when the URL did not come through the flag parser or the schema (defence in depth). A loopback plain-http
 * listener records whatever arrives: nothing may.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseEndpointFlags} from '../../src/lib/platform/access.js'
import {CREDENTIAL_SERVICES, SERVICE_KEYS, isCredentialService} from '../../src/lib/platform/catalogue.js'
import {apiServerClient, directClient} from '../../src/lib/platform/http.js'
import {os} from '../../src/lib/platform/opensearch.js'
import {parseInventory} from '../../src/lib/config/index.js'
import {exampleInventory} from '../support/inventory.js'
import {rejection} from '../support/errors.js'

let server: Server
let plain: string
/** every request that reached the plain-http listener, with its Authorization header and body */
const arrived: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      arrived.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${Buffer.concat(chunks).toString('utf8')}`)
      res.setHeader('content-type', 'application/json')
      res.end('{"status":"success","data":{}}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  plain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const platform = () => parseInventory(exampleInventory(), '/lab/obsctl.yaml').platform

describe('credentials never go to a plain-http service', () => {
  it('the credential services are OpenSearch, Grafana and Argo CD', () => {
    expect(Object.keys(CREDENTIAL_SERVICES).sort()).toEqual(['argocd', 'grafana', 'opensearch'])
    expect(SERVICE_KEYS.filter(isCredentialService).sort()).toEqual(['argocd', 'grafana', 'opensearch'])
  })

  it('--endpoint NAME=http://… is refused for them (exit 2 naming the flag); the others keep http', () => {
    for (const s of ['opensearch', 'grafana', 'argocd']) {
      let e: unknown
      try {
        parseEndpointFlags([`${s}=${plain}`])
      } catch (x) {
        e = x
      }
      expect(e, s).toMatchObject({exitCode: 2, code: 'ENDPOINT_PLAIN_HTTP', hints: [`--endpoint ${s}=https://…`]})
      expect((e as Error).message).toMatch(new RegExp(`^--endpoint ${s}=http://127\\.0\\.0\\.1:\\d+: plain http is refused for ${s}`))
    }
    expect(parseEndpointFlags([`prometheus=${plain}`, `thanos-query=${plain}`, `alertmanager=${plain}`])).toEqual({
      prometheus: plain,
      'thanos-query': plain,
      alertmanager: plain,
    })
  })

  it('the client refuses a plain-http URL for them however it got there; nothing arrives', async () => {
    const h = await directClient({platform: platform(), overrides: {opensearch: plain, grafana: plain, argocd: plain, 'thanos-query': plain}, timeoutMs: 5000})
    const basic = `Basic ${Buffer.from('admin:Adm1n-Pa55').toString('base64')}`
    const os1 = await rejection(os({http: h, opensearch: {user: 'admin', password: 'Adm1n-Pa55'}}, '/_cluster/health'))
    expect(os1).toMatchObject({exitCode: 2, code: 'ENDPOINT_PLAIN_HTTP', hints: ['--endpoint opensearch=https://…']})
    expect(os1.message).toBe(
      `opensearch: ${plain} is plain http, and obsctl sends it OpenSearch passwords (Basic auth: the admin, or the user being rotated): refused (credentials go only over verified https)`,
    )
    const graf = await rejection(h.request('grafana', '/api/user', {headers: {authorization: basic}}))
    expect(graf).toMatchObject({code: 'ENDPOINT_PLAIN_HTTP'})
    const argo = await rejection(h.request('argocd', '/api/v1/session', {method: 'POST', body: JSON.stringify({username: 'admin', password: 'argo-Pw-1'})}))
    expect(argo).toMatchObject({code: 'ENDPOINT_PLAIN_HTTP'})
    expect(arrived).toEqual([])
    // a service that gets no credential is still reached over http
    expect((await h.request('thanos-query', '/api/v1/stores')).status).toBe(200)
    expect(arrived).toEqual([`GET /api/v1/stores  `])
    arrived.length = 0
  })

  it('through the API server proxy (--via-api-server) they are refused before the API server is contacted, unless an https --endpoint overrides it', async () => {
    const h = apiServerClient({
      platform: platform(),
      kube: () => Promise.reject(new Error('the API server must not be contacted for a credential service')),
      overrides: {grafana: 'https://127.0.0.1:9'},
      timeoutMs: 5000,
    })
    for (const s of ['opensearch', 'argocd'] as const) {
      const e = await rejection(h.request(s, '/x'))
      expect(e, s).toMatchObject({exitCode: 2, code: 'CREDENTIALS_VIA_PROXY'})
      expect(e.hints[0]).toMatch(new RegExp(`^pass --endpoint ${s}=https://… as well`))
    }
    expect(h.credentialRefusal('argocd')?.message).toBe(
      "Argo CD's admin password and session token would go through the API server's service proxy, which does not verify argocd-server's certificate (--via-api-server)",
    )
    // an https override is taken directly (here: nothing listens, so it cannot be reached, but it is not refused)
    expect(h.credentialRefusal('grafana')).toBeUndefined()
    expect(await rejection(h.request('grafana', '/api/user'))).toMatchObject({code: 'HTTP_UNREACHABLE'})
    // a service without credentials goes through the proxy as before
    expect(h.credentialRefusal('prometheus')).toBeUndefined()
    expect(arrived).toEqual([])
  })
})
