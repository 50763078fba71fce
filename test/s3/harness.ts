/**
 * S3 test peer: a real s3rver in-process on a random loopback port, in a temp dir, behind a front that checks
 * every request's AWS V4 signature as S3 and MinIO do (./sigv4.ts: s3rver itself does not), over http or https
 * (certificates made with the real openssl, test/support/kube/tls.ts), and inventories that point at it.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach} from 'vitest'
import S3rver from 's3rver'
import AWSAccount from 's3rver/lib/models/account.js'
import {exampleInventory} from '../support/inventory.js'
import {CertificateAuthority} from '../support/kube/tls.js'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {startSignatureFront} from './sigv4.js'

/**
 * s3rver knows one hard-wired account; we register a distinctive key pair with it so tests can grep
 * for the secret. s3rver rejects an unknown access key (InvalidAccessKeyId); the front before it refuses a
 * wrong secret for a known key (SignatureDoesNotMatch) and a region other than us-east-1.
 */
export const ACCESS_KEY = 'OBSCTLTESTACCESSKEY'
export const SECRET_KEY = 'obsctl-test-secret-Zq81xW'
AWSAccount.DUMMY_ACCOUNT.createKeyPair(ACCESS_KEY, SECRET_KEY)

export interface S3Peer {
  url: string
  port: number
  dir: string
  close(): Promise<void>
}

/** `clockOffsetMs`: the server's clock this far off this machine's (./sigv4.ts refuses requests 15 minutes off it) */
export async function startS3rver(opts: {tls?: {key: string; cert: string}; clockOffsetMs?: number} = {}): Promise<S3Peer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-s3rver-'))
  const server = new S3rver({address: '127.0.0.1', port: 0, silent: true, directory: dir, allowMismatchedSignatures: false})
  const addr = await server.run()
  const front = await startSignatureFront(addr.port, {tls: opts.tls, clockOffsetMs: opts.clockOffsetMs})
  const scheme = opts.tls ? 'https' : 'http'
  return {
    url: `${scheme}://127.0.0.1:${front.port}`,
    port: front.port,
    dir,
    async close() {
      await front.close()
      await server.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export interface TestCerts {
  dir: string
  caFile: string
  /** a second CA that signed nothing the server uses */
  otherCaFile: string
  key: string
  cert: string
}

/**
 * A CA and a server certificate for 127.0.0.1/localhost, from the test CA of the API test server (openssl,
 * test/support/kube/tls.ts), and a second CA that signed nothing; the CAs' certificates as files.
 */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-s3-tls-'))
  const ca = CertificateAuthority.create('obsctl test ca')
  const other = CertificateAuthority.create('obsctl test other-ca')
  try {
    const {key, cert} = ca.serving()
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert)
    writeFileSync(path.join(dir, 'other-ca.pem'), other.cert)
    return {dir, caFile: path.join(dir, 'ca.pem'), otherCaFile: path.join(dir, 'other-ca.pem'), key, cert}
  } finally {
    ca.dispose()
    other.dispose()
  }
}

/**
 * The example inventory (`obsctl init --example`), or `base`, pointed at `endpoint`, with fields set
 * (test/support/inventory.ts).
 */
export function writeInventory(dir: string, endpoint: string, sets: Record<string, unknown> = {}, base?: string): {file: string; inv: LoadedInventory} {
  const text = exampleInventory({'s3.endpoint': endpoint, ...sets}, base)
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, text)
  return {file, inv: loadInventory(file)}
}

/**
 * An expiry rule for the lifecycle tests, on the backups bucket: the snapshots bucket refuses one
 * (OpenSearch snapshots share files; only OpenSearch deletes them).
 */
export const BACKUPS_EXPIRY = {'s3.buckets.backups.expireAfter': '180d'} as const

/** Env with the test credentials in the inventory's default env vars, and no CI prompt surprises. */
export function credEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {OBSCTL_S3_ACCESS_KEY: ACCESS_KEY, OBSCTL_S3_SECRET_KEY: SECRET_KEY, ...extra}
}

/**
 * One s3rver for a test file, a fresh work folder and the credential env vars for each test (the
 * environment restored after it). The values reach the file's own variables through the setters.
 */
export function useS3Peer(prefix: string, setPeer: (p: S3Peer) => void, setWork: (dir: string) => void): void {
  let peer: S3Peer | undefined
  let work = ''
  const savedEnv = {...process.env}
  beforeAll(async () => {
    peer = await startS3rver()
    setPeer(peer)
  })
  afterAll(async () => {
    await peer?.close()
  })
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), prefix))
    setWork(work)
    Object.assign(process.env, credEnv({CI: '1'}))
  })
  afterEach(() => {
    rmSync(work, {recursive: true, force: true})
    process.env = {...savedEnv}
  })
}
