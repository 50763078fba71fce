/**
 * An API server whose certificate has aged out (kubeadm issues them for a year) or is not valid yet (a clock that
 * is wrong): the error says so and points at `obsctl certs check` / `certs renew` or the clock, instead of the
 * CA hint of an untrusted certificate. A real TLS server with certificates dated by the real openssl
 * (test/support/kube/tls.ts servingDated), and @kubernetes/client-node as obsctl uses it; verification stays on.
 */
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Kube} from '../../src/lib/platform/kube.js'
import {tmpDir} from '../cli/helpers.js'
import {writeKubeconfigFile} from '../support/kube/kubeconfig.js'
import {CertificateAuthority} from '../support/kube/tls.js'
import {rejection} from '../support/errors.js'

const DAY = 86_400_000
let ca: CertificateAuthority
let dir: string
const servers: Server[] = []

beforeAll(() => {
  ca = CertificateAuthority.create('obsctl test dated ca')
  dir = tmpDir('obsctl-cert-dates-')
})
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  ca?.dispose()
})

/**
 * an API server on loopback presenting a certificate valid from `start` to `end`; a kubeconfig that trusts its CA
 * (`names`: the certificate's names, and the kubeconfig's tls-server-name when it lacks 127.0.0.1)
 */
async function serverWith(
  start: Date,
  end: Date,
  name: string,
  names?: {san: string; tlsServerName: string},
): Promise<{kubeconfig: string; url: string; cert: string; connections: () => number}> {
  const {key, cert} = ca.servingDated(start, end, names?.san)
  // what client-node asks for a get: the core group's resource list (its discovery), then the object
  const resources = {kind: 'APIResourceList', groupVersion: 'v1', resources: [{name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['get']}]}
  const server = createServer({key, cert}, (req, res) => {
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify(req.url === '/api/v1' ? resources : {kind: 'Namespace', apiVersion: 'v1', metadata: {name: 'default'}}))
  })
  // connections as accepted (TCP): the server sees one before the client's handshake can end, so a count read after a
  // client's request or handshake is whole
  let connections = 0
  server.on('connection', () => connections++)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = writeKubeconfigFile(path.join(dir, `${name}.kubeconfig`), [
    {
      server: url,
      caPem: ca.cert,
      clusterName: 'cluster-01',
      contextName: 'cluster-01-context',
      userName: 'u',
      token: 'not-a-secret',
      tlsServerName: names?.tlsServerName,
    },
  ])
  return {kubeconfig, url, cert, connections: () => connections}
}

describe('API server certificates out of their dates', () => {
  it('a valid one works (the test server itself is sound)', async () => {
    const s = await serverWith(new Date(Date.now() - DAY), new Date(Date.now() + 365 * DAY), 'valid')
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    expect((await kube.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
  })

  it('expired a month ago: KUBE_CERT_DATES pointing at certs check and renew, then the clock', async () => {
    const s = await serverWith(new Date(Date.now() - 400 * DAY), new Date(Date.now() - 30 * DAY), 'expired')
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    const e = await rejection(kube.get('v1', 'Namespace', 'default'))
    expect(e.code).toBe('KUBE_CERT_DATES')
    expect(e.message).toContain(`the API server of cluster-01-context at ${s.url} presents a certificate that has expired (CERT_HAS_EXPIRED)`)
    expect(e.hints).toEqual([
      'obsctl certs check reads every control plane certificate over SSH; obsctl certs renew --cluster NAME renews them',
      "or this machine's clock is ahead: timedatectl says whether it is synchronised, obsctl doctor --network measures it against each API server",
      'obsctl never skips TLS verification',
    ])
    // the certificate checks (validate, status): the request's handshake failed, so nothing was served on it; their own
    // handshake says what the certificate is
    const {liveCerts} = await import('../../src/lib/validate/checks/certificates.js')
    expect(kube.servingCertificate()).toBeUndefined()
    expect((await liveCerts(kube, 10_000)).problems).toEqual([`API server certificate: ${s.url} presents an EXPIRED certificate`])
  })

  it('valid only from next week: the clock first', async () => {
    const s = await serverWith(new Date(Date.now() + 7 * DAY), new Date(Date.now() + 365 * DAY), 'future')
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    const e = await rejection(kube.get('v1', 'Namespace', 'default'))
    expect(e.code).toBe('KUBE_CERT_DATES')
    expect(e.message).toContain('presents a certificate that is not valid yet (CERT_NOT_YET_VALID)')
    expect(e.hints[0]).toBe(
      "clocks disagree: this machine's is behind (timedatectl; obsctl doctor --network measures it against each API server), or the control plane's was ahead when it issued the certificate (obsctl node preflight measures each node's clock against this one)",
    )
  })
})

describe('a kubeconfig with tls-server-name (the certificate names the API server, not this address)', () => {
  it("client-node, the certificates check and doctor's clock check all verify the certificate against that name", async () => {
    const s = await serverWith(new Date(Date.now() - DAY), new Date(Date.now() + 200 * DAY), 'server-name', {
      san: 'DNS:kubernetes',
      tlsServerName: 'kubernetes',
    })
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    expect((await kube.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    // validate certificates.expiry and status measure the serving certificate as client-node verifies it
    const {liveCerts} = await import('../../src/lib/validate/checks/certificates.js')
    const live = await liveCerts(kube, 10_000)
    expect(live.problems).toEqual([])
    expect(live.certs.map((c) => [c.name, c.daysLeft])).toEqual([['apiserver (serving)', 199]])
    // doctor --network's clock check, reading the same kubeconfig entry
    const [{apiServerClockCheck}, {readChain, contextServer}] = await Promise.all([
      import('../../src/lib/doctor/network.js'),
      import('../../src/lib/kube/kubeconfig/chain.js'),
    ])
    const at = contextServer(readChain([s.kubeconfig]), 'cluster-01-context')
    expect(at?.tlsServerName).toBe('kubernetes')
    const check = apiServerClockCheck('cluster-01', 'cluster-01-context', async () => at)
    const finding = (await check.run({timeoutMs: 10_000} as Parameters<typeof check.run>[0], new AbortController().signal)) as {status: string; detail: string}
    expect(finding.status, finding.detail).toBe('pass')
  })
})

describe('the serving certificate, as the certificate checks read it', () => {
  it("after a request, the one that request's connection was served with: no handshake of their own; before any, their own", async () => {
    const s = await serverWith(new Date(Date.now() - DAY), new Date(Date.now() + 90 * DAY), 'served')
    const {liveCerts} = await import('../../src/lib/validate/checks/certificates.js')
    const {X509Certificate} = await import('node:crypto')
    const serving = new X509Certificate(s.cert)
    // a connection that has made no request: a handshake of its own
    const fresh = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    expect(fresh.servingCertificate()).toBeUndefined()
    const own = await liveCerts(fresh, 10_000)
    expect(own.problems).toEqual([])
    expect(own.certs.map((c) => [c.name, c.notAfter])).toEqual([['apiserver (serving)', new Date(serving.validTo).toISOString()]])
    expect(s.connections()).toBe(1)
    // after a request: the certificate that request's (verified) connection was served with, and no other connection
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    expect((await kube.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    expect(s.connections()).toBe(2)
    expect(kube.servingCertificate()?.fingerprint256).toBe(serving.fingerprint256)
    expect(await liveCerts(kube, 10_000)).toEqual(own)
    expect(s.connections()).toBe(2)
  })

  it('after a request that used up the timeout (status waits for its nodes request): no handshake begun, the timeout said', async () => {
    const s = await serverWith(new Date(Date.now() - DAY), new Date(Date.now() + 90 * DAY), 'spent')
    const {liveCerts} = await import('../../src/lib/validate/checks/certificates.js')
    const kube = await Kube.connect({kubeconfig: s.kubeconfig, context: 'cluster-01-context'})
    const r = await liveCerts(kube, 10_000, {since: Date.now() - 10_000})
    expect(r).toEqual({certs: [], problems: [`API server certificate: not measured: no answer from ${s.url} within 10s`]})
    expect(s.connections()).toBe(0)
  })
})
