/**
 * A cluster's requests reuse one connection while they follow one another (src/lib/platform/kube.ts keepConnections):
 * client-node made a new https.Agent, so a new TCP and TLS connection, at every request. obsctl closes one idle for
 * KUBE_IDLE_MS, and one the server closed is not used again. So do the requests obsctl sends the API server itself (pod
 * logs, the service and pod proxies: ../../src/lib/platform/http.ts kubeRequestOptions), which client-node's
 * applyToHTTPSOptions gave an agent of their own each (a connection per pod log: ~20 a cluster in a diagnose). Seen at
 * the API test server, which counts the TLS connections it accepts and holds open.
 */
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubeRequestOptions, send, viaApiServer} from '../../src/lib/platform/http.js'
import {Kube, KUBE_IDLE_MS} from '../../src/lib/platform/kube.js'
import {tmpDir} from '../cli/helpers.js'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {waitFor} from '../support/wait.js'

let kube: KubeServer
let kubeconfig: string
beforeAll(async () => {
  kube = await startKubeServer({name: 'cluster-01'})
  kubeconfig = kube.writeKubeconfig(path.join(tmpDir('obsctl-keep-alive-'), 'kubeconfig'))
})
afterAll(async () => {
  await kube?.stop()
})

const connect = () => Kube.connect({kubeconfig, context: 'cluster-01-context'})
const closedByObsctl = () => waitFor(() => kube.connections().open === 0, 120_000, 'the idle connection closed')

describe("a cluster's connection, kept while requests follow one another", () => {
  it('five requests one after another, and three at once after them: one connection for the five (five before)', async () => {
    const k = await connect()
    const before = kube.connections().accepted
    for (let i = 0; i < 5; i++) expect((await k.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    expect(kube.connections().accepted - before).toBe(1)
    // at once, each needs a connection of its own: the kept one and new ones, all kept for the next
    await Promise.all([0, 1, 2].map(() => k.get('v1', 'Namespace', 'default')))
    expect(kube.connections().accepted - before).toBe(3)
  })

  it("the requests obsctl sends itself (a pod's log, an API server proxy) share the cluster's connection with the client's", async () => {
    kube.seed(
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}},
      {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'fb-1', namespace: 'logging'}, spec: {containers: [{name: 'fluent-bit', image: 'x'}]}},
    )
    kube.setPodLog('logging', 'fb-1', 'fluent-bit', 'one\ntwo\n')
    kube.onProxy('pods/logging/fb-1:2020', () => ({status: 200, body: {ok: true}}))
    const k = await connect()
    const before = kube.connections().accepted
    expect((await k.get('v1', 'Namespace', 'logging'))?.metadata.name).toBe('logging')
    const tls = await kubeRequestOptions(k)
    for (let i = 0; i < 5; i++) {
      const log = await send(new URL(`${k.server}/api/v1/namespaces/logging/pods/fb-1/log?container=fluent-bit`), {tls, what: 'log'})
      expect(log.body).toBe('one\ntwo\n')
      const proxied = await viaApiServer(k, '/api/v1/namespaces/logging/pods/fb-1:2020/proxy', '/api/v1/health', {what: 'fluent-bit'})
      expect(JSON.parse(proxied.body)).toEqual({ok: true})
    }
    expect(kube.connections().accepted - before).toBe(1)
  })

  it(`closed by obsctl once idle for ${KUBE_IDLE_MS} ms; the next request opens another`, async () => {
    const k = await connect()
    await k.get('v1', 'Namespace', 'default')
    expect(kube.connections().open).toBeGreaterThan(0)
    await closedByObsctl()
    const before = kube.connections().accepted
    expect((await k.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    expect(kube.connections().accepted - before).toBe(1)
  })

  it(`a request in flight longer than ${KUBE_IDLE_MS} ms is not cut by the idle limit: only its own deadline ends it`, async () => {
    const k = await connect()
    const hold = kube.hold('GET', '/api/v1/namespaces/kube-public')
    const asked = k.get('v1', 'Namespace', 'kube-public')
    try {
      await waitFor(() => hold.held() === 1, 120_000, 'the request to reach the server')
      // past the idle limit, with the request unanswered: its connection is still open
      await new Promise((r) => setTimeout(r, KUBE_IDLE_MS + 500))
      expect(kube.connections().open).toBeGreaterThan(0)
    } finally {
      hold.release()
    }
    expect((await asked)?.metadata.name).toBe('kube-public')
  })

  it('a connection the server closed (its idle timeout, a restart) is not used again: the next request succeeds on a new one', async () => {
    const k = await connect()
    await k.get('v1', 'Namespace', 'default')
    const before = kube.connections().accepted
    kube.closeIdleConnections()
    await waitFor(() => kube.connections().open === 0, 120_000, 'the server to close it')
    expect((await k.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    expect(kube.connections().accepted - before).toBe(1)
  })
})
