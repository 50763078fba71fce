/**
 * validate (and so status and opensearch snapshot) trusts the platform CA of `secrets apply`
 * (.obsctl/pki/ca.crt beside the inventory) without --ca-file; without it, the same endpoint is a TLS failure.
 */
import {mkdirSync, mkdtempSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ensurePlatformCa, issueServerCertificate} from '../../src/lib/kube/pki.js'
import {validate} from '../../src/lib/validate/index.js'
import {writeInventory} from '../s3/harness.js'
import {endpointsYaml} from './harness.js'

let server: Server
let url: string
const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-ca-'))

beforeAll(async () => {
  const ca = await ensurePlatformCa(dir, 'example.lab')
  const leaf = await issueServerCertificate(ca, {commonName: 'thanos-query', hosts: ['127.0.0.1']})
  server = createServer({cert: leaf.certPem, key: leaf.keyPem}, (_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        status: 'success',
        data: {
          sidecar: [{name: 'a'}, {name: 'b'}, {name: 'c', labelSets: [{cluster: 'cluster-03'}]}, {name: 'd', labelSets: [{cluster: 'cluster-04'}]}],
          store: [{name: 's'}],
          rule: [{name: 'r'}],
          receive: [{name: 'x'}],
        },
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('validate and the platform CA', () => {
  it('trusts .obsctl/pki/ca.crt beside the inventory; elsewhere the same endpoint fails TLS verification', async () => {
    const edit = endpointsYaml({'thanos-query': url})
    const withCa = writeInventory(dir, 'http://127.0.0.1:9', edit).inv
    const other = path.join(dir, 'elsewhere')
    mkdirSync(other)
    const withoutCa = writeInventory(other, 'http://127.0.0.1:9', edit).inv
    const only = {component: 'thanos' as const, skip: ['thanos.clusters', 'thanos.replicas', 'thanos.compactor', 'thanos.bucket'], requestTimeoutMs: 20_000}
    const ok = await validate(withCa, only)
    expect(ok.checks[0]).toMatchObject({id: 'thanos.stores', result: 'pass', detail: '4 sidecar, 1 store, 1 rule, 1 receive'})
    const bad = await validate(withoutCa, only)
    expect(bad.checks[0]).toMatchObject({
      id: 'thanos.stores',
      result: 'fail',
      detail: expect.stringMatching(/^thanos-query: TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/),
    })
  })
})
