/** `obsctl s3 setup` as a user runs it (the built CLI, `npm run build` first) against s3rver. */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Client} from 'minio'
import {ACCESS_KEY, BACKUPS_EXPIRY, SECRET_KEY, credEnv, makeCerts, startS3rver, writeInventory, type S3Peer, type TestCerts} from './harness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/run.js')

let peer: S3Peer
let tlsPeer: S3Peer
let certs: TestCerts
let work: string

beforeAll(async () => {
  const manifest = path.join(root, 'oclif.manifest.json')
  if (!existsSync(path.join(root, 'dist/commands/s3/setup.js')) || (existsSync(manifest) && !readFileSync(manifest, 'utf8').includes('"s3:setup"'))) {
    throw new Error('the built CLI lacks `s3 setup`: run `npm run build` first (npm test does)')
  }
  peer = await startS3rver()
  certs = makeCerts()
  tlsPeer = await startS3rver({tls: {key: certs.key, cert: certs.cert}})
  work = mkdtempSync(path.join(tmpdir(), 'obsctl-s3-cli-'))
})
afterAll(async () => {
  await peer?.close()
  await tlsPeer?.close()
  if (certs) rmSync(certs.dir, {recursive: true, force: true})
  if (work) rmSync(work, {recursive: true, force: true})
})

async function obsctl(args: string[], env: Record<string, string>) {
  // a clean env: no inherited S3 variables; CI set, so nothing may prompt
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OBSCTL_'))) as Record<string, string>
  const r = await execa('node', [bin, ...args], {env: {...base, CI: '1', ...env}, extendEnv: false, reject: false, stdin: 'ignore'})
  const argv = r.command
  return {code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), argv}
}

function dirFor(name: string): string {
  const d = path.join(work, name)
  return mkdtempSync(`${d}-`)
}

describe('obsctl s3 setup (CLI)', () => {
  it('--json: exit 0 and the report (buckets, lifecycle warning, engine run); no credential anywhere in argv or output', async () => {
    const {file} = writeInventory(dirFor('json'), peer.url, BACKUPS_EXPIRY)
    const r = await obsctl(['s3', 'setup', '-c', file, '--json'], credEnv())
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.endpoint).toBe(peer.url)
    expect(report.buckets.map((b: {name: string; bucket: string}) => [b.name, b.bucket])).toEqual([
      ['thanos-metrics', 'created'],
      ['opensearch-snapshots', 'created'],
      ['longhorn-backups', 'created'],
    ])
    expect(report.buckets[1]).toMatchObject({role: 'snapshots', expireDays: null, lifecycle: 'none', versioningState: 'off'})
    expect(report.buckets[2]).toMatchObject({role: 'backups', expireDays: 180, lifecycle: 'unsupported', versioningState: 'off'})
    expect(report.warnings).toEqual([expect.stringMatching(/does not implement bucket lifecycle/)])
    expect(report.run.ok).toBe(true)
    for (const text of [r.argv, r.stdout, r.stderr]) {
      expect(text).not.toContain(SECRET_KEY)
      expect(text).not.toContain(ACCESS_KEY)
    }
  })

  it('human view: the same facts as a table; a rerun says "exists"; the warning goes to stderr', async () => {
    const {file} = writeInventory(dirFor('human'), peer.url, BACKUPS_EXPIRY)
    const first = await obsctl(['s3', 'setup', '-c', file], credEnv())
    expect(first.code, first.stderr).toBe(0)
    const again = await obsctl(['s3', 'setup', '-c', file], credEnv())
    expect(again.code, again.stderr).toBe(0)
    const lines = again.stdout.trim().split('\n')
    expect(lines[0]).toBe(`S3 endpoint ${peer.url} (region us-east-1)`)
    expect(lines[1]).toMatch(/^BUCKET\s+HOLDS\s+STATE\s+LIFECYCLE\s+VERSIONING$/)
    expect(lines[2]).toMatch(/^thanos-metrics\s+Thanos blocks\s+exists\s+none\s+off \(not asked\)$/)
    expect(lines[3]).toMatch(/^opensearch-snapshots\s+OpenSearch snapshots\s+exists\s+none\s+off \(not asked\)$/)
    expect(lines[4]).toMatch(/^longhorn-backups\s+Longhorn backups\s+exists\s+unsupported \(expire 180d\)\s+off \(not asked\)$/)
    expect(again.stderr).toContain('‼ warning: the S3 server does not implement bucket lifecycle')
    const logsDir = path.join(path.dirname(file), '.obsctl', 'logs')
    expect(existsSync(logsDir)).toBe(true)
    expect(again.stderr).not.toContain(SECRET_KEY)
  })

  it('--dry-run contacts nothing and needs no credentials', async () => {
    const {file} = writeInventory(dirFor('dry'), 'https://s3.obsctl-test.invalid', BACKUPS_EXPIRY)
    const r = await obsctl(['s3', 'setup', '-c', file, '--dry-run', '--json'], {})
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.dryRun).toBe(true)
    expect(report.buckets.map((b: {plan: string}) => b.plan)).toEqual([
      'create bucket thanos-metrics if missing; no expiry rule; versioning as is',
      'create bucket opensearch-snapshots if missing; no expiry rule; versioning as is',
      'create bucket longhorn-backups if missing; expire objects after 180 days; versioning as is',
    ])
  })

  it('an expiry on the snapshots bucket: the inventory is refused (exit 2) with the reason and the fix, nothing created', async () => {
    const {file} = writeInventory(dirFor('snapexpiry'), peer.url, {'s3.buckets.snapshots': {name: 'opensearch-snapshots-x', expireAfter: '180d'}})
    const r = await obsctl(['s3', 'setup', '-c', file, '--json'], credEnv())
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout) as {error: {message: string; code: string; hints: string[]}}
    // the lint's finding (snapshot-expiry), refused before S3 is reached, as config validate reports it
    expect(out.error.code).toBe('CONFIG_INVALID')
    expect(out.error.message).toMatch(/^invalid inventory .+:\n.+:\d+:\d+ s3\.buckets\.snapshots\.expireAfter: .*incremental and share segment files/)
    expect(out.error.hints.join('\n')).toContain('remove s3.buckets.snapshots.expireAfter')
    expect(
      (
        await new Client({
          endPoint: '127.0.0.1',
          port: peer.port,
          useSSL: false,
          accessKey: ACCESS_KEY,
          secretKey: SECRET_KEY,
          region: 'us-east-1',
          pathStyle: true,
        }).listBuckets()
      ).map((b) => b.name),
    ).not.toContain('opensearch-snapshots-x')
  })

  it('missing credentials without a TTY: exit 2 naming the env vars, no prompt', async () => {
    const {file} = writeInventory(dirFor('nocreds'), peer.url)
    const r = await obsctl(['s3', 'setup', '-c', file], {})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('$OBSCTL_S3_ACCESS_KEY and $OBSCTL_S3_SECRET_KEY')
  })

  it('an access key the server rejects: exit 2, JSON error naming the env vars, no secret', async () => {
    const {file} = writeInventory(dirFor('badkey'), peer.url)
    const r = await obsctl(['s3', 'setup', '-c', file, '--json'], credEnv({OBSCTL_S3_ACCESS_KEY: 'NOSUCHKEY'}))
    expect(r.code).toBe(2)
    const {error} = JSON.parse(r.stdout)
    expect(error.code).toBe('S3_CREDENTIALS')
    expect(error.message).toContain('InvalidAccessKeyId')
    expect(error.hints[0]).toContain('$OBSCTL_S3_ACCESS_KEY and $OBSCTL_S3_SECRET_KEY')
    expect(r.stdout + r.stderr).not.toContain(SECRET_KEY)
  })

  it('an unreachable endpoint: exit 1, names the endpoint and s3.endpoint with its file:line', async () => {
    const closed = await startS3rver()
    await closed.close()
    const {file} = writeInventory(dirFor('down'), closed.url)
    const r = await obsctl(['s3', 'setup', '-c', file], credEnv())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`Error: cannot reach the S3 endpoint ${closed.url} (ECONNREFUSED)`)
    expect(r.stderr).toMatch(new RegExp(`→ check s3\\.endpoint \\(${file.replaceAll('.', '\\.')}:\\d+:\\d+\\)`))
  })

  it('TLS: an untrusted certificate fails suggesting --ca-file; --ca-file with the CA succeeds', async () => {
    const {file} = writeInventory(dirFor('tls'), tlsPeer.url)
    const bad = await obsctl(['s3', 'setup', '-c', file], credEnv())
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`Error: the S3 endpoint ${tlsPeer.url} presented a certificate obsctl does not trust`)
    expect(bad.stderr).toContain('→ --ca-file PATH')
    const good = await obsctl(['s3', 'setup', '-c', file, '--ca-file', certs.caFile, '--json'], credEnv())
    expect(good.code, good.stderr).toBe(0)
    expect(JSON.parse(good.stdout).caFile).toBe(certs.caFile)
  })

  // util-linux `script` gives the CLI a real terminal on stdin, so the prompt path runs as a user sees it
  const hasScript = spawnSync('script', ['--version']).status === 0
  it.skipIf(!hasScript)('on a terminal, a missing secret is prompted (masked, on stderr), never echoed; stdout stays pure JSON', async () => {
    const dir = dirFor('tty')
    const {file} = writeInventory(dir, peer.url, {'s3.buckets.metrics.name': 'tty-metrics'})
    const out = path.join(dir, 'out.json')
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OBSCTL_') && k !== 'CI')) as Record<string, string>
    const child = spawn('script', ['-qec', `node ${bin} s3 setup -c ${file} --json > ${out}`, '/dev/null'], {env: {...env, OBSCTL_S3_ACCESS_KEY: ACCESS_KEY}})
    let screen = ''
    let answered = false
    child.stdout.on('data', (b: Buffer) => {
      screen += b.toString()
      if (!answered && screen.includes('S3 secret key (not set in $OBSCTL_S3_SECRET_KEY)')) {
        answered = true
        child.stdin.write(`${SECRET_KEY}\r`)
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(answered, screen).toBe(true)
    expect(code, screen).toBe(0)
    expect(screen).toContain('*'.repeat(SECRET_KEY.length))
    expect(screen).not.toContain(SECRET_KEY)
    // the access key came from its env var: no prompt for it
    expect(screen).not.toContain('S3 access key')
    const report = JSON.parse(readFileSync(out, 'utf8'))
    expect(report.buckets[0]).toMatchObject({name: 'tty-metrics', bucket: 'created'})
    expect(readFileSync(out, 'utf8')).not.toContain(SECRET_KEY)
  })
})
