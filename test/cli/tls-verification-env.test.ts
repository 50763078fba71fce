// NODE_TLS_REJECT_UNAUTHORIZED=0 would turn TLS verification off for @kubernetes/client-node, which leaves
// rejectUnauthorized unset (node_modules/@kubernetes/client-node/dist/config.js): the API server's bearer token would
// go to a server whose certificate the kubeconfig's CA did not sign. obsctl refuses to run with it (exit 2 naming the
// variable) before any connection. The listener stands in for an API server: an https server on 127.0.0.1 whose
// certificate comes from a CA the kubeconfig does not trust, recording every request it gets past the handshake.
import {writeFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS} from '../../src/lib/config/index.js'
import {refuseTlsVerificationOff} from '../../src/lib/cli/base.js'
import {inventoryText} from '../gitops/support.js'
import {platformTls} from '../support/platform-tls.js'
import {obsctl, requireBuild, tmpDir} from './helpers.js'

const TOKEN = 'api-server-bearer-t0ken-never-unverified'
let dir: string
let server: https.Server
const seen: {url: string; authorization?: string}[] = []

beforeAll(async () => {
  requireBuild()
  dir = tmpDir('obsctl-tls-env-')
  const served = await platformTls(path.join(dir, 'untrusted'))
  const trusted = await platformTls(path.join(dir, 'trusted'))
  server = https.createServer({cert: served.cert, key: served.key}, (req, res) => {
    seen.push({url: req.url ?? '', authorization: req.headers.authorization})
    res.writeHead(200, {'content-type': 'application/json'})
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  writeFileSync(path.join(dir, 'obsctl.yaml'), inventoryText(EXAMPLE_ANSWERS))
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  writeFileSync(
    path.join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'cluster-01', cluster: {server: url, 'certificate-authority-data': b64(trusted.ca)}}],
      users: [{name: 'admin', user: {token: TOKEN}}],
      contexts: [{name: 'cluster-01-context', context: {cluster: 'cluster-01', user: 'admin'}}],
      'current-context': 'cluster-01-context',
    }),
  )
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
  it('without it, the API server whose certificate the kubeconfig does not trust gets no request (the handshake fails)', async () => {
    const r = await obsctl(['status', '--kubeconfig', path.join(dir, 'kubeconfig'), '--json'], {
      cwd: dir,
    })
    // status reports what it could not reach; nothing got past the handshake
    expect(r.stdout).toContain('cluster-01')
    expect(seen).toEqual([])
  })

  it('with it: exit 2 naming the variable, before any connection; the token never reaches the unverified server', async () => {
    const r = await obsctl(['status', '--kubeconfig', path.join(dir, 'kubeconfig'), '--json'], {
      cwd: dir,
      env: {NODE_TLS_REJECT_UNAUTHORIZED: '0'},
    })
    expect(seen).toEqual([])
    expect(r.status, r.stderr).toBe(2)
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string; hints: string[]}}).error
    expect(e.code).toBe('TLS_VERIFICATION_OFF')
    expect(e.message).toContain('NODE_TLS_REJECT_UNAUTHORIZED=0')
    expect(e.hints.join('\n')).toContain('unset NODE_TLS_REJECT_UNAUTHORIZED')
  })

  it('only "0" turns verification off in Node (lib/internal/options getAllowUnauthorized), so only "0" is refused', () => {
    expect(() => refuseTlsVerificationOff({NODE_TLS_REJECT_UNAUTHORIZED: '0'})).toThrow(/NODE_TLS_REJECT_UNAUTHORIZED=0/)
    for (const v of [undefined, '1', '']) expect(() => refuseTlsVerificationOff(v === undefined ? {} : {NODE_TLS_REJECT_UNAUTHORIZED: v})).not.toThrow()
  })
})
