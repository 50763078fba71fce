/**
 * HTTPS for the loopback fakes of the services obsctl sends credentials to (OpenSearch, Grafana, Argo CD): obsctl
 * reaches those only over verified https (src/lib/platform/http.ts credentialRefusal), so their fakes serve TLS with
 * a certificate for 127.0.0.1 issued by the platform CA beside the test's inventory (`<dir>/.obsctl/pki`, created
 * by the same code as `secrets apply`'s). obsctl trusts that CA without --ca-file, as it trusts the real platform's.
 */
import {copyFileSync, mkdirSync} from 'node:fs'
import {request} from 'node:https'
import path from 'node:path'
import {pkiDir} from '../../src/lib/platform/credentials.js'
import {ensurePlatformCa, issueServerCertificate} from '../../src/lib/kube/pki.js'
import {ISM_POLICY_ID, SNAPSHOT_REPOSITORY} from '../../src/lib/platform/catalogue.js'
import {startOpenSearchFake, type OpenSearchFake} from './opensearch-fake.js'

export interface PlatformTls {
  /** serving certificate and key (PEM) for 127.0.0.1, for startFake / startOpenSearchFake `tls` */
  cert: string
  key: string
  /** the platform CA's certificate (PEM) */
  ca: string
}

/** A serving certificate for 127.0.0.1 from the platform CA of the inventory folder `dir` (the CA is created when missing). */
export async function platformTls(dir: string, domain = 'miribit.lab'): Promise<PlatformTls> {
  const ca = await ensurePlatformCa(dir, domain)
  const leaf = await issueServerCertificate(ca, {commonName: 'loopback', hosts: ['127.0.0.1']})
  return {cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem}
}

/**
 * The OpenSearch stand-in as the platform sets OpenSearch up — its ISM policy and snapshot repository (catalogue.ts),
 * the inventory's default snapshot bucket — serving https with `tls` (platformTls), for the admin `auth`.
 */
export function startPlatformOpenSearch(tls: PlatformTls, auth: {user: string; password: string}): Promise<OpenSearchFake> {
  return startOpenSearchFake({
    ...auth,
    policy: ISM_POLICY_ID,
    repository: SNAPSHOT_REPOSITORY,
    bucket: 'opensearch-snapshots',
    tls: {cert: tls.cert, key: tls.key},
  })
}

/** The same platform CA (certificate and key) in another inventory folder `to`, so its inventory trusts the same fakes. */
export function sharePlatformCa(from: string, to: string): void {
  const src = pkiDir(from)
  const dst = pkiDir(to)
  mkdirSync(dst, {recursive: true, mode: 0o700})
  copyFileSync(path.join(src, 'ca.crt'), path.join(dst, 'ca.crt'))
  copyFileSync(path.join(src, 'ca.key'), path.join(dst, 'ca.key'))
}

/** A test's own request to a fake serving `tls` (fetch trusts only the system roots): its status and body. */
export function tlsRequest(
  url: string,
  ca: string,
  o: {method?: string; headers?: Record<string, string>; body?: string} = {},
): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: o.method ?? 'GET', headers: o.headers, ca}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body)
  })
}
