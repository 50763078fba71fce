/**
 * `s3 setup` against a real s3rver: buckets created, idempotent rerun, lifecycle/versioning warnings
 * (s3rver answers NotImplemented for both), unreachable endpoint, bad credentials, TLS trust.
 */
import {createServer, type Server} from 'node:net'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Client} from 'minio'
import {
  s3Setup as s3SetupLib,
  type S3SetupOptions,
  parseEndpoint,
  planLifecycle,
  expiryRule,
  translateS3Error,
  wantedBuckets,
  LIFECYCLE_RULE_ID,
  openS3,
  bucketsPhase,
} from '../../src/lib/s3/index.js'
import {ACCESS_KEY, BACKUPS_EXPIRY, SECRET_KEY, makeCerts, startS3rver, useS3Peer, writeInventory, type S3Peer, type TestCerts} from './harness.js'
import {rejection} from '../support/errors.js'
import {runStandalone} from '../../src/lib/engine/standalone.js'

let peer: S3Peer
let work: string
useS3Peer(
  'obsctl-s3-',
  (p) => (peer = p),
  (w) => (work = w),
)

function listClient(p: S3Peer): Client {
  const u = new URL(p.url)
  return new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: 'us-east-1',
    pathStyle: true,
  })
}

/** the lib through the engine, without screen output */
function s3Setup(inv: Parameters<typeof s3SetupLib>[0], opts: S3SetupOptions = {}) {
  return s3SetupLib(inv, {renderer: 'silent', ...opts})
}

describe('s3 setup against s3rver', () => {
  it('creates the three buckets of the inventory (seen through minio) and warns that lifecycle is not implemented', async () => {
    const before = await listClient(peer).listBuckets()
    const {inv} = writeInventory(work, peer.url, BACKUPS_EXPIRY)
    const r = await s3Setup(inv)
    const names = (await listClient(peer).listBuckets()).map((b) => b.name)
    expect(names).toEqual(expect.arrayContaining(['thanos-metrics', 'opensearch-snapshots', 'longhorn-backups']))
    expect(before.map((b) => b.name)).not.toContain('thanos-metrics')
    expect(r.buckets.map((b) => [b.name, b.bucket])).toEqual([
      ['thanos-metrics', 'created'],
      ['opensearch-snapshots', 'created'],
      ['longhorn-backups', 'created'],
    ])
    const expiring = r.buckets.find((b) => b.role === 'backups')!
    expect(expiring.expireDays).toBe(180)
    expect(expiring.lifecycle).toBe('unsupported')
    expect(r.warnings).toHaveLength(1)
    expect(r.warnings[0]).toMatch(/does not implement bucket lifecycle.*180 days.*longhorn-backups/)
    // no expiry asked: s3rver's missing lifecycle support is not worth a warning there
    expect(r.buckets.find((b) => b.role === 'metrics')!.lifecycle).toBe('none')
    expect(r.buckets.find((b) => b.role === 'snapshots')!).toMatchObject({expireDays: null, lifecycle: 'none'})
    expect(r.buckets.every((b) => b.versioningState === 'off')).toBe(true)
    // the engine's journal and task logs say what happened, never the credentials
    expect(r.run.ok).toBe(true)
    const logs = readdirSync(r.run.logsDir!, {recursive: true, withFileTypes: true}).filter((d) => d.isFile())
    expect(logs.map((d) => d.name).sort()).toEqual(['longhorn-backups.log', 'opensearch-snapshots.log', 'thanos-metrics.log'])
    const logText = logs.map((d) => readFileSync(path.join(d.parentPath, d.name), 'utf8')).join('\n')
    expect(logText).toContain('bucket opensearch-snapshots: created')
    const journal = readFileSync(r.run.stateFile, 'utf8')
    expect(journal).toContain('"buckets/thanos-metrics"')
    for (const text of [logText, journal, JSON.stringify(r)]) {
      expect(text).not.toContain(SECRET_KEY)
      expect(text).not.toContain(ACCESS_KEY)
    }
  })

  it('is idempotent: a rerun reports every bucket as "exists"', async () => {
    const {inv} = writeInventory(work, peer.url)
    await s3Setup(inv)
    const again = await s3Setup(inv)
    expect(again.buckets.map((b) => b.bucket)).toEqual(['exists', 'exists', 'exists'])
    const names = (await listClient(peer).listBuckets()).map((b) => b.name).filter((n) => n === 'thanos-metrics')
    expect(names).toHaveLength(1)
  })

  it('warns, naming versioning, when versioning is asked of a server that does not implement it', async () => {
    const {inv} = writeInventory(work, peer.url, {'s3.buckets.backups': {name: 'longhorn-backups-v', versioning: true}})
    const r = await s3Setup(inv)
    const b = r.buckets.find((x) => x.role === 'backups')!
    expect(b.bucket).toBe('created')
    expect(b.versioningState).toBe('unsupported')
    expect(r.warnings.some((w) => /does not implement bucket versioning.*longhorn-backups-v/.test(w))).toBe(true)
  })

  it('--dry-run touches nothing', async () => {
    const {inv} = writeInventory(work, peer.url, {'s3.buckets.metrics.name': 'dry-run-metrics'})
    const r = await s3Setup(inv, {dryRun: true})
    expect(r.dryRun).toBe(true)
    expect(r.buckets.find((b) => b.role === 'snapshots')!.plan).toBe('create bucket opensearch-snapshots if missing; no expiry rule; versioning as is')
    expect((await listClient(peer).listBuckets()).map((b) => b.name)).not.toContain('dry-run-metrics')
  })
})

describe('s3 setup errors', () => {
  it('an endpoint nobody listens on: names the endpoint and the inventory field', async () => {
    const closed = await startS3rver()
    await closed.close()
    const {inv, file} = writeInventory(work, closed.url)
    const e = await rejection(s3Setup(inv))
    expect(e.code).toBe('S3_UNREACHABLE')
    expect(e.exitCode).toBe(1)
    expect(e.message).toContain(closed.url)
    expect(e.message).toContain('ECONNREFUSED')
    expect(e.hints[0]).toContain('s3.endpoint')
    expect(e.hints[0]).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}:\\d+:\\d+`))
    expect(e.hints).toContain('--timeout SECONDS for a slow link')
  })

  it('a host name that does not resolve', async () => {
    const {inv} = writeInventory(work, 'https://s3.obsctl-test.invalid:9000')
    const e = await rejection(s3Setup(inv, {timeoutSeconds: 10}))
    expect(e.code).toBe('S3_UNREACHABLE')
    expect(e.message).toContain('https://s3.obsctl-test.invalid:9000')
  })

  it('a server that accepts connections but never answers: times out naming the endpoint', async () => {
    const silent: Server = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as {port: number}).port
    try {
      const {inv} = writeInventory(work, `http://127.0.0.1:${port}`)
      const started = Date.now()
      const e = await rejection(s3Setup(inv, {timeoutSeconds: 1}))
      expect(e.code).toBe('S3_UNREACHABLE')
      expect(e.message).toContain('no answer within 1s')
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      silent.close()
    }
  })

  it('an access key the server does not know: names the env vars, exit 2, never prints the secret', async () => {
    process.env.OBSCTL_S3_ACCESS_KEY = 'NOSUCHKEY'
    const {inv} = writeInventory(work, peer.url)
    const e = await rejection(s3Setup(inv))
    expect(e.code).toBe('S3_CREDENTIALS')
    expect(e.exitCode).toBe(2)
    expect(e.message).toContain('InvalidAccessKeyId')
    expect(e.hints.join(' ')).toContain('$OBSCTL_S3_ACCESS_KEY and $OBSCTL_S3_SECRET_KEY')
    expect(JSON.stringify(e.toJSON())).not.toContain(SECRET_KEY)
  })

  it('a known access key with a wrong secret key (the peer checks V4 signatures as MinIO does): the same error, exit 2', async () => {
    process.env.OBSCTL_S3_SECRET_KEY = `${SECRET_KEY}-old`
    const {inv} = writeInventory(work, peer.url)
    const e = await rejection(s3Setup(inv))
    expect(e).toMatchObject({code: 'S3_CREDENTIALS', exitCode: 2})
    expect(e.message).toContain('SignatureDoesNotMatch')
    expect(JSON.stringify(e.toJSON())).not.toContain(SECRET_KEY)
  })

  it("s3.region other than the server's: exit 2 naming the field, its line and the region the server expects", async () => {
    const {inv, file} = writeInventory(work, peer.url, {'s3.region': 'eu-west-1'})
    const e = await rejection(s3Setup(inv))
    expect(e).toMatchObject({code: 'S3_REGION', exitCode: 2})
    expect(e.message).toContain('not in the region eu-west-1')
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => /^\s+region: eu-west-1$/.test(l)) + 1
    expect(line).toBeGreaterThan(0)
    // the position of the value, as every inventory position obsctl names
    const column = readFileSync(file, 'utf8').split('\n')[line - 1]!.indexOf('eu-west-1') + 1
    expect(e.hints[0]).toBe(`set s3.region (${file}:${line}:${column}) to 'us-east-1': requests are signed for that region`)
  })

  it("MinIO's own wording of a region mismatch is understood too (minio cmd/api-errors.go, ErrAuthorizationHeaderMalformed)", () => {
    // the test peer answers in AWS S3's words ("the region 'x' is wrong"); MinIO says it without the region it got
    const {inv, file} = writeInventory(work, peer.url, {'s3.region': 'eu-west-1'})
    const minio = Object.assign(new Error("The authorization header is malformed; the region is wrong; expecting 'us-east-1'."), {
      code: 'AuthorizationHeaderMalformed',
    })
    const e = translateS3Error(minio, 'list buckets', {inv, endpoint: parseEndpoint(peer.url)})
    expect(e).toMatchObject({code: 'S3_REGION', exitCode: 2})
    expect(e.hints[0]).toContain(`set s3.region (${file}:`)
    expect(e.hints[0]).toContain(") to 'us-east-1': requests are signed for that region")
  })

  it("this machine's clock 20 minutes off the server's: S3_CLOCK with the measured gap, not a credentials error", async () => {
    // the server refuses before it looks at the key (RequestTimeTooSkewed); a HEAD's refusal is a bare 403, which
    // minio reads as AccessDenied: the server's Date header tells
    for (const [offset, words] of [
      [20 * 60_000, "this machine's clock is 20m behind the endpoint's (its Date header)"],
      [-20 * 60_000, "this machine's clock is 20m ahead of the endpoint's (its Date header)"],
    ] as const) {
      const skewed = await startS3rver({clockOffsetMs: offset})
      try {
        const {inv} = writeInventory(work, skewed.url)
        const e = await rejection(s3Setup(inv))
        expect(e).toMatchObject({code: 'S3_CLOCK', exitCode: 1})
        expect(e.message).toContain('(RequestTimeTooSkewed) while trying to list buckets')
        expect(e.message).toContain(words)
        expect(e.hints.slice(0, 2)).toEqual([
          "synchronise this machine's clock (chrony or systemd-timesyncd; timedatectl says whether it is), or the S3 server's",
          'obsctl doctor --network measures the skew against the S3 endpoint',
        ])
        const s = await openS3(inv, {accessKey: ACCESS_KEY, secretKey: SECRET_KEY})
        try {
          const head = await rejection(s.call('check bucket obsctl-x', (c) => c.bucketExists('obsctl-x')))
          expect(head).toMatchObject({code: 'S3_CLOCK'})
          expect(head.message).toContain('(AccessDenied) while trying to check bucket obsctl-x')
          expect(head.message).toContain(words)
        } finally {
          s.close()
        }
        expect(readdirSync(skewed.dir).filter((f) => !f.startsWith('.'))).toEqual([])
      } finally {
        await skewed.close()
      }
    }
    // within S3's 15 minutes the same setup works, and a refusal that is not about time stays what it is
    const near = await startS3rver({clockOffsetMs: 10 * 60_000})
    try {
      const {inv} = writeInventory(work, near.url)
      expect((await s3Setup(inv)).buckets).toHaveLength(3)
      const denied = Object.assign(new Error('Access Denied.'), {code: 'AccessDenied'})
      const e = translateS3Error(denied, 'create bucket x', {inv, endpoint: parseEndpoint(near.url), clock: {gapMs: 10 * 60_000}})
      expect(e.code).toBe('S3_ACCESS_DENIED')
      // a Date header has whole seconds and comes after a round trip: a gap of minutes is said in whole minutes
      const skew = Object.assign(new Error("The difference between the request time and the server's time is too large."), {code: 'RequestTimeTooSkewed'})
      const at = (gapMs: number) => translateS3Error(skew, 'list buckets', {inv, endpoint: parseEndpoint(near.url), clock: {gapMs}}).message
      expect(at(20 * 60_000 - 1400)).toContain("this machine's clock is 20m behind")
      expect(at(-(20 * 60_000 + 900))).toContain("this machine's clock is 20m ahead of")
      expect(at(95_300)).toContain("this machine's clock is 1m35s behind")
    } finally {
      await near.close()
    }
  })

  it('credentials come from the env vars the inventory names; missing ones fail without a TTY (no prompt)', async () => {
    process.env.MY_MINIO_KEY = ACCESS_KEY
    process.env.MY_MINIO_SECRET = SECRET_KEY
    const custom = {'s3.accessKeyEnv': 'MY_MINIO_KEY', 's3.secretKeyEnv': 'MY_MINIO_SECRET'}
    delete process.env.OBSCTL_S3_ACCESS_KEY
    delete process.env.OBSCTL_S3_SECRET_KEY
    const {inv} = writeInventory(work, peer.url, custom)
    const ok = await s3Setup(inv)
    expect(ok.buckets).toHaveLength(3)
    delete process.env.MY_MINIO_SECRET
    const e = await rejection(s3Setup(inv))
    expect(e.code).toBe('S3_CREDENTIALS_MISSING')
    expect(e.exitCode).toBe(2)
    expect(e.message).toContain('$MY_MINIO_SECRET')
    expect(e.message).not.toContain('MY_MINIO_KEY')
  })
})

describe('s3 setup over TLS (s3rver with an openssl-made certificate)', () => {
  let certs: TestCerts
  let tlsPeer: S3Peer
  beforeAll(async () => {
    certs = makeCerts()
    tlsPeer = await startS3rver({tls: {key: certs.key, cert: certs.cert}})
  })
  afterAll(async () => {
    await tlsPeer.close()
    rmSync(certs.dir, {recursive: true, force: true})
  })

  it('a certificate from an unknown CA fails, suggesting --ca-file, never insecure', async () => {
    const {inv} = writeInventory(work, tlsPeer.url)
    const e = await rejection(s3Setup(inv))
    expect(e.code).toBe('S3_TLS')
    expect(e.message).toContain(tlsPeer.url)
    expect(e.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/)
    expect(e.hints[0]).toContain('--ca-file')
    expect(e.hints.join(' ')).toContain('never turns TLS verification off')
  })

  it("bootstrap's buckets phase (no --timeout, no --ca-file) names neither flag: s3.endpoint, s3.caFile", async () => {
    const closed = await startS3rver()
    await closed.close()
    const {inv} = writeInventory(work, closed.url)
    const credentials = {accessKey: ACCESS_KEY, secretKey: SECRET_KEY}
    const down = await rejection(runStandalone(bucketsPhase({credentials}), {inv, renderer: 'silent', command: 'bootstrap'}))
    expect(down.code).toBe('S3_UNREACHABLE')
    expect(down.hints.join('\n')).toContain('s3.endpoint')
    const untrusted = await rejection(
      runStandalone(bucketsPhase({credentials}), {inv: writeInventory(work, tlsPeer.url).inv, renderer: 'silent', command: 'bootstrap'}),
    )
    expect(untrusted.code).toBe('S3_TLS')
    expect(untrusted.hints[0]).toMatch(/^s3\.caFile in .*obsctl\.yaml: the PEM of the CA/)
    for (const e of [down, untrusted]) expect(e.hints.join('\n')).not.toMatch(/--timeout|--ca-file|--request-timeout/)
  })

  it('the wrong CA file is still a TLS failure, naming the file', async () => {
    const {inv} = writeInventory(work, tlsPeer.url)
    const e = await rejection(s3Setup(inv, {caFile: certs.otherCaFile}))
    expect(e.code).toBe('S3_TLS')
    expect(e.message).toContain(certs.otherCaFile)
  })

  it('--ca-file with the right CA succeeds', async () => {
    const {inv} = writeInventory(work, tlsPeer.url)
    const r = await s3Setup(inv, {caFile: certs.caFile})
    expect(r.caFile).toBe(certs.caFile)
    expect(r.buckets.map((b) => b.bucket)).toEqual(['created', 'created', 'created'])
  })

  it('s3.caFile in the inventory (relative to it) works too', async () => {
    const rel = path.relative(work, certs.caFile)
    const {inv} = writeInventory(work, tlsPeer.url, {'s3.caFile': rel})
    expect(inv.platform.s3.caFile).toBe(rel)
    const r = await s3Setup(inv)
    expect(r.buckets.map((b) => b.bucket)).toEqual(['exists', 'exists', 'exists'])
  })

  it('a missing CA file is bad input (exit 2)', async () => {
    const {inv} = writeInventory(work, tlsPeer.url)
    const e = await rejection(s3Setup(inv, {caFile: path.join(work, 'nope.pem')}))
    expect(e.code).toBe('S3_CA_FILE')
    expect(e.exitCode).toBe(2)
  })
})

describe('lifecycle rules (what a server that implements lifecycle gets)', () => {
  it("adds obsctl's expiry rule and keeps the bucket's other rules", () => {
    const other = {ID: 'keep-me', Status: 'Enabled', Filter: {Prefix: 'tmp/'}, Expiration: {Days: 1}}
    expect(planLifecycle([other], 180)).toEqual({change: 'apply', rules: [other, expiryRule(180)]})
  })
  it('is unchanged when the rule is already there (numbers parsed from XML as strings too)', () => {
    const parsed = {ID: LIFECYCLE_RULE_ID, Status: 'Enabled', Filter: {Prefix: ''}, Expiration: {Days: '180' as unknown as number}}
    expect(planLifecycle([parsed], 180)).toBeNull()
  })
  it("replaces a rule with another period, and removes obsctl's rule when the inventory no longer asks", () => {
    expect(planLifecycle([expiryRule(90)], 180)).toEqual({change: 'apply', rules: [expiryRule(180)]})
    expect(planLifecycle([expiryRule(90)], null)).toEqual({change: 'remove', rules: []})
    expect(planLifecycle([], null)).toBeNull()
  })
  it('takes whole days from the inventory and refuses less than a day', () => {
    const {inv} = writeInventory(mkdtempSync(path.join(tmpdir(), 'obsctl-s3-')), 'http://127.0.0.1:1', {'s3.buckets.backups.expireAfter': '26w'})
    expect(wantedBuckets(inv.platform).find((b) => b.role === 'backups')!.expireDays).toBe(182)
    const {inv: bad} = writeInventory(mkdtempSync(path.join(tmpdir(), 'obsctl-s3-')), 'http://127.0.0.1:1', {'s3.buckets.backups.expireAfter': '12h'})
    expect(() => wantedBuckets(bad.platform)).toThrow(/whole days/)
  })
  it('never an expiry on the snapshots bucket: asking is bad input (exit 2); the rule obsctl once set there is removed', () => {
    const {inv} = writeInventory(mkdtempSync(path.join(tmpdir(), 'obsctl-s3-')), 'http://127.0.0.1:1', {'s3.buckets.snapshots.expireAfter': '400d'})
    try {
      wantedBuckets(inv.platform)
      throw new Error('expected a refusal')
    } catch (e) {
      expect(e).toMatchObject({exitCode: 2, code: 'S3_SNAPSHOT_EXPIRY', message: expect.stringMatching(/incremental and share segment files/)})
    }
    const {inv: ok} = writeInventory(mkdtempSync(path.join(tmpdir(), 'obsctl-s3-')), 'http://127.0.0.1:1')
    expect(wantedBuckets(ok.platform).find((b) => b.role === 'snapshots')!.expireDays).toBeNull()
    expect(planLifecycle([expiryRule(180)], null)).toEqual({change: 'remove', rules: []})
  })
})
