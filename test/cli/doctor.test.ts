/**
 * `obsctl doctor` as a user runs it (the built CLI in a child process, CI set so nothing prompts):
 * PATH without git, a missing credential env var, --network against a loopback HTTP listener (real TCP,
 * the Date header Node's http server sends, or one we skew) and a port nothing listens on; and
 * bootstrap stopping on the pre-check before anything runs. Outcomes: exit codes, the --json report's
 * checks, the checklist text, and that no secret value is printed.
 */
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, obsctl, requireBuild} from './helpers.js'
import {writeKubeconfigFile} from '../support/kube/kubeconfig.js'
import {keygen} from '../support/sshd.js'
import {CertificateAuthority} from '../support/kube/tls.js'

interface Report {
  ok: boolean
  network: boolean
  summary: {pass: number; warn: number; fail: number}
  checks: {id: string; title: string; status: string; detail: string; hint?: string; group?: string}[]
}

const SECRET = 'AKIA-doctor-secret-value-1234'
let dir: string
let inv: string
let server: http.Server
let port: number
let refused: number
/** what the listener's Date header says, relative to now */
let skewMs = 0

const byId = (r: Report, id: string) => {
  const c = r.checks.find((x) => x.id === id)
  if (!c) throw new Error(`no check ${id} in ${r.checks.map((x) => x.id).join(', ')}`)
  return c
}

beforeAll(async () => {
  requireBuild()
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-doctor-'))
  server = http.createServer((_req, res) => {
    if (skewMs) res.setHeader('Date', new Date(Date.now() + skewMs).toUTCString())
    res.writeHead(403).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
  // nothing listens on the discard port: refused at once (a port taken and released could be bound again by another peer meanwhile)
  refused = 9
  // by ssh-keygen: ssh2's generateKeyPairSync('ed25519') drops a public key's leading zero byte, and its own parser then
  // refuses the key as malformed (15 of 3,000 keys here, ~1/256: the doctor's ssh.identity check failed one suite run)
  keygen(path.join(dir, 'id_ed25519'), 'obsctl-doctor-test')
  const endpoint = `http://127.0.0.1:${port}`
  const tlsEndpoint = `https://127.0.0.1:${port}`
  inv = path.join(dir, 'obsctl.yaml')
  writeFileSync(
    inv,
    [
      'apiVersion: obsctl.dev/v1alpha1',
      'kind: Platform',
      'domain: doctor.test',
      `ssh: {user: root, identityFile: ${path.join(dir, 'id_ed25519')}, agent: false, port: ${port}}`,
      `s3: {endpoint: "${endpoint}", buckets: {}}`,
      `git: {remote: "http://localhost:${port}/platform.git"}`,
      // the services that get credentials are https only (doctor opens a TCP connection to each, never sends one)
      `endpoints: {prometheus: "${endpoint}", thanos-query: "${endpoint}", thanos-compactor: "${endpoint}", opensearch: "${tlsEndpoint}", argocd: "${tlsEndpoint}", alertmanager: "${endpoint}", grafana: "${tlsEndpoint}"}`,
      'clusters:',
      '  - name: cluster-01',
      '    id: "01"',
      '    role: central',
      `    apiServer: https://127.0.0.1:${refused}`,
      '    nodes:',
      '      - {host: 127.0.0.1, name: node-1, roles: [control-plane, worker], cpu: 16, memory: 64Gi}',
      '',
    ].join('\n'),
  )
}, 120_000)

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()))
})

const keys = {OBSCTL_S3_ACCESS_KEY: SECRET, OBSCTL_S3_SECRET_KEY: 'also-secret-5678', SSH_AUTH_SOCK: undefined}

describe('obsctl doctor', () => {
  it('passes on a ready workstation: Node, git, the key file, both S3 env vars, DNS; no secret value printed', async () => {
    const r = await obsctl(['doctor', '-c', inv, '--json'], {env: keys})
    expect(r.status, r.stdout + r.stderr).toBe(0)
    const rep = JSON.parse(r.stdout) as Report
    expect(rep.ok).toBe(true)
    for (const id of ['node', 'tools.git', 'ssh.identity', 'env.OBSCTL_S3_ACCESS_KEY', 'env.OBSCTL_S3_SECRET_KEY', 'dns.localhost'])
      expect(byId(rep, id).status, id).toBe('pass')
    expect(byId(rep, 'tools.git').detail).toMatch(/^git \d+\.\d+/)
    expect(byId(rep, 'ssh.identity').detail).toContain(path.join(dir, 'id_ed25519'))
    // no network checks without --network
    expect(rep.checks.some((c) => c.id.startsWith('tcp.') || c.id.startsWith('clock.'))).toBe(false)
    const human = await obsctl(['doctor', '-c', inv], {env: keys})
    expect(human.status).toBe(0)
    expect(human.stdout).toMatch(/^workstation\n-----------\n✔ Node\.js version \[node\]/)
    expect(human.stdout).toMatch(/✔ \d+ passed, 0 warnings, 0 failed in [\d.]+s \(--network also checks/)
    for (const out of [r.stdout, r.stderr, human.stdout, human.stderr]) {
      expect(out).not.toContain(SECRET)
      expect(out).not.toContain('also-secret-5678')
    }
  })

  it('fails (exit 1) with a hint when git is not on PATH', async () => {
    const empty = path.join(dir, 'empty-bin')
    mkdirSync(empty, {recursive: true})
    const r = await obsctl(['doctor', '-c', inv, '--json'], {env: {...keys, PATH: empty}})
    expect(r.status, r.stderr).toBe(1)
    const rep = JSON.parse(r.stdout) as Report
    expect(rep.ok).toBe(false)
    expect(byId(rep, 'tools.git')).toMatchObject({status: 'fail', detail: 'git is not on PATH'})
    expect(byId(rep, 'tools.git').hint).toMatch(/install git/)
    expect(byId(rep, 'node').status).toBe('pass')
    const human = await obsctl(['doctor', '-c', inv], {env: {...keys, PATH: empty}})
    expect(human.status).toBe(1)
    expect(human.stdout).toContain('✖ git [tools.git]\n    git is not on PATH\n    → install git')
  })

  it('fails (exit 1) naming a credential env var set to a value with a line end, never showing it (it passed as "set")', async () => {
    const r = await obsctl(['doctor', '-c', inv, '--json'], {env: {...keys, OBSCTL_S3_ACCESS_KEY: `${SECRET}\n`}})
    expect(r.status, r.stderr).toBe(1)
    const rep = JSON.parse(r.stdout) as Report
    expect(byId(rep, 'env.OBSCTL_S3_ACCESS_KEY')).toMatchObject({status: 'fail', detail: '$OBSCTL_S3_ACCESS_KEY holds a newline at its end'})
    expect(byId(rep, 'env.OBSCTL_S3_SECRET_KEY').status).toBe('pass')
    expect(r.stdout + r.stderr).not.toContain(SECRET)
  })

  it('fails (exit 1) naming a credential env var the inventory names that is not set', async () => {
    const r = await obsctl(['doctor', '-c', inv, '--json'], {env: {...keys, OBSCTL_S3_SECRET_KEY: undefined}})
    expect(r.status, r.stderr).toBe(1)
    const rep = JSON.parse(r.stdout) as Report
    expect(byId(rep, 'env.OBSCTL_S3_ACCESS_KEY').status).toBe('pass')
    const miss = byId(rep, 'env.OBSCTL_S3_SECRET_KEY')
    expect(miss).toMatchObject({status: 'fail', group: 'credentials'})
    expect(miss.detail).toContain('$OBSCTL_S3_SECRET_KEY is not set')
    expect(miss.hint).toContain('export OBSCTL_S3_SECRET_KEY=…')
    expect(r.stdout).not.toContain(SECRET)
  })

  it('--network: TCP to the loopback listener passes, the refused port fails; clock skew from the Date header', async () => {
    const r = await obsctl(['doctor', '-c', inv, '--network', '--json'], {env: keys})
    expect(r.status, r.stderr).toBe(1)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(r.stderr).toBe('')
    const rep = JSON.parse(r.stdout) as Report
    expect(rep.network).toBe(true)
    expect(byId(rep, `tcp.127.0.0.1:${port}`)).toMatchObject({status: 'pass'})
    expect(byId(rep, `tcp.127.0.0.1:${port}`).detail).toContain('S3 endpoint')
    const bad = byId(rep, `tcp.127.0.0.1:${refused}`)
    expect(bad).toMatchObject({status: 'fail'})
    expect(bad.detail).toContain('ECONNREFUSED')
    expect(bad.detail).toContain('cluster-01 API server')
    expect(byId(rep, 'clock.127.0.0.1')).toMatchObject({status: 'pass'})
    expect(byId(rep, 'clock.127.0.0.1').detail).toMatch(/^-?\d+\.\d s against http:\/\/127\.0\.0\.1:\d+\/ \(HTTP Date header\)$/)
    expect(rep.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([`tcp.127.0.0.1:${refused}`])

    skewMs = 10 * 60_000
    try {
      const skewed = JSON.parse(
        (await obsctl(['doctor', '-c', inv, '--network', '--json', '--skip', `tcp.127.0.0.1:${refused}`], {env: keys})).stdout,
      ) as Report
      const clock = byId(skewed, 'clock.127.0.0.1')
      expect(clock.status).toBe('fail')
      expect(Number.parseFloat(clock.detail)).toBeGreaterThan(590)
      expect(clock.hint).toMatch(/chrony/)
    } finally {
      skewMs = 0
    }
  })

  it("--network: the clock against each API server, reached as the kubeconfig's context says (its CA verified, no credentials)", async () => {
    const ca = CertificateAuthority.create('obsctl doctor api ca')
    const other = CertificateAuthority.create('obsctl doctor other ca')
    let apiSkewMs = 0
    const seen: (string | undefined)[] = []
    const api = https.createServer(ca.serving(), (req, res) => {
      seen.push(req.headers.authorization)
      if (apiSkewMs) res.setHeader('Date', new Date(Date.now() + apiSkewMs).toUTCString())
      res.writeHead(401).end()
    })
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r))
    const server = `https://127.0.0.1:${(api.address() as AddressInfo).port}`
    const kubeconfig = (name: string, caPem: string) =>
      writeKubeconfigFile(path.join(dir, name), [
        {server, caPem, clusterName: 'cluster-01', contextName: 'cluster-01-context', userName: 'cluster-01-admin', token: 'doctor-never-sends-this'},
      ])
    const doctor = async (...extra: string[]) =>
      JSON.parse((await obsctl(['doctor', '-c', inv, '--network', '--json', '--skip', `tcp.127.0.0.1:${refused}`, ...extra], {env: keys})).stdout) as Report
    try {
      const good = kubeconfig('kubeconfig', ca.cert)
      const ok = byId(await doctor('--kubeconfig', good), 'clock.cluster-01')
      expect(ok).toMatchObject({status: 'pass', title: 'Clock skew vs cluster-01 API server'})
      expect(ok.detail).toMatch(new RegExp(`^-?\\d+\\.\\d s against ${server.replaceAll('.', '\\.')}/version \\(HTTP Date header\\)$`))
      apiSkewMs = -10 * 60_000
      const skewed = byId(await doctor('--kubeconfig', good), 'clock.cluster-01')
      expect(skewed.status).toBe('fail')
      expect(Number.parseFloat(skewed.detail)).toBeLessThan(-590)
      expect(skewed.hint).toMatch(/chrony/)
      // a CA that did not sign the server's certificate: not measured, a failure (never read over unverified TLS)
      const untrusted = byId(await doctor('--kubeconfig', kubeconfig('other.kubeconfig', other.cert)), 'clock.cluster-01')
      expect(untrusted.status).toBe('fail')
      expect(untrusted.detail).toMatch(/^could not measure: .*(self-signed|unable to verify|self signed)/i)
      // no kubeconfig context for the cluster (before kubeconfig merge): not measured, a warning naming the command
      const none = byId(await doctor('--kubeconfig', path.join(dir, 'no-such-kubeconfig')), 'clock.cluster-01')
      expect(none).toMatchObject({status: 'warn', detail: 'not measured: no context cluster-01-context in the kubeconfig'})
      expect(none.hint).toContain('obsctl kubeconfig merge')
      // no credential ever went to the API server
      expect(seen.length).toBeGreaterThanOrEqual(2)
      expect(seen.every((a) => a === undefined)).toBe(true)
    } finally {
      await new Promise<void>((r) => api.close(() => r()))
      ca.dispose()
      other.dispose()
    }
  })

  it('--network: a bad $KUBECONFIG is one finding that names the variable and the fix, not a failed clock check per cluster', async () => {
    const doctor = async (KUBECONFIG: string) => {
      const r = await obsctl(['doctor', '-c', inv, '--network', '--json', '--skip', `tcp.127.0.0.1:${refused}`], {env: {...keys, KUBECONFIG}})
      expect(r.status, r.stderr).toBe(1)
      return JSON.parse(r.stdout) as Report
    }
    const garbage = path.join(dir, 'garbage.kubeconfig')
    writeFileSync(garbage, '::: not: [a kubeconfig\n')
    const empty = path.join(dir, 'empty.kubeconfig')
    writeFileSync(empty, '')
    for (const [file, detail] of [
      [dir, `$KUBECONFIG: ${dir} is a folder, not a kubeconfig file`],
      [garbage, `cannot read kubeconfig ${garbage} (from $KUBECONFIG): bad indentation of a mapping entry (1:8)`],
      [empty, `cannot read kubeconfig ${empty} (from $KUBECONFIG): it is empty or not a kubeconfig (no clusters, users and contexts)`],
    ]) {
      const rep = await doctor(file!)
      expect(byId(rep, 'kubeconfig')).toMatchObject({status: 'fail', detail})
      expect(byId(rep, 'kubeconfig').hint).toMatch(/set KUBECONFIG .*--kubeconfig/)
      // the clock against the API server is not measured (a warning), and is not where the problem is told
      expect(byId(rep, 'clock.cluster-01').status).toBe('warn')
      expect(rep.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['kubeconfig'])
    }
    // none of its files there yet (before kubeconfig merge): a warning, as for a missing ~/.kube/config
    const missing = path.join(dir, 'not-yet.kubeconfig')
    const rep = await obsctl(['doctor', '-c', inv, '--network', '--json', '--skip', `tcp.127.0.0.1:${refused}`], {env: {...keys, KUBECONFIG: missing}})
    expect(rep.status, rep.stderr).toBe(0)
    expect(byId(JSON.parse(rep.stdout) as Report, 'kubeconfig')).toMatchObject({status: 'warn', detail: `${missing}: not there yet`})
  })

  it('--network: an IPv6 Git remote (ssh://git@[ADDRESS]:PORT/…) is one TCP check on that address and port, never a DNS lookup; run in a network namespace of its own (unshare -rn), so nothing leaves this machine', () => {
    const v6 = path.join(dir, 'obsctl-ipv6-remote.yaml')
    writeFileSync(v6, readFileSync(inv, 'utf8').replace(/git: \{remote: "[^"]*"\}/, 'git: {remote: "ssh://git@[fd00::1]:2222/platform/gitops.git"}'))
    const r = spawnSync('unshare', ['-rn', process.execPath, BIN, 'doctor', '-c', v6, '--network', '--json'], {
      encoding: 'utf8',
      env: {...process.env, ...keys, SSH_AUTH_SOCK: '', CI: '1', NO_COLOR: '1', OBSCTL_CONFIG: ''},
      timeout: 60_000,
    })
    const rep = JSON.parse(r.stdout) as Report
    expect(rep.checks.filter((c) => c.id.startsWith('dns.') && c.id.includes('fd00'))).toEqual([])
    const tcp = byId(rep, 'tcp.fd00::1:2222')
    // no route in the empty namespace: the connection is refused by this kernel, never sent
    expect(tcp.detail).toMatch(/^fd00::1:2222: (ENETUNREACH|EADDRNOTAVAIL) \(Git remote\)/)
  })

  it('an unknown --skip id is bad input (exit 2)', async () => {
    const r = await obsctl(['doctor', '-c', inv, '--skip', 'no.such'], {env: keys})
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--skip no.such: no such check')
  })
})

describe('bootstrap runs the offline doctor checks its phases need first', () => {
  it('a real run stops before anything runs (exit 1, the checklist); a dry run says so and goes on', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'obsctl-doctor-boot-'))
    const file = path.join(work, 'obsctl.yaml')
    copyFileSync(inv, file)
    const env = {OBSCTL_S3_ACCESS_KEY: undefined, OBSCTL_S3_SECRET_KEY: undefined}
    const r = await obsctl(['bootstrap', '-c', file, '--phase', 'buckets', '--yes'], {env})
    expect(r.status, r.stdout + r.stderr).toBe(1)
    expect(r.stderr).toContain('this workstation is not ready (nothing was changed)')
    expect(r.stderr).toContain('✖ $OBSCTL_S3_ACCESS_KEY (s3.accessKeyEnv) [env.OBSCTL_S3_ACCESS_KEY]')
    expect(r.stderr).toContain('obsctl doctor shows every check')
    // only what the buckets phase needs: no git or SSH check stands in its way
    expect(r.stderr).not.toContain('[tools.git]')
    expect(existsSync(path.join(work, '.obsctl', 'state.json'))).toBe(false)
    const json = await obsctl(['bootstrap', '-c', file, '--phase', 'buckets', '--yes', '--json'], {env})
    expect(json.status).toBe(1)
    const err = JSON.parse(json.stdout) as {error: {code: string; details: Report}}
    expect(err.error.code).toBe('DOCTOR_FAILED')
    expect(
      err.error.details.checks
        .filter((c) => c.status === 'fail')
        .map((c) => c.id)
        .sort(),
    ).toEqual(['env.OBSCTL_S3_ACCESS_KEY', 'env.OBSCTL_S3_SECRET_KEY'])

    const dry = await obsctl(['bootstrap', '-c', file, '--phase', 'buckets', '--dry-run'], {env})
    expect(dry.status, dry.stdout + dry.stderr).toBe(0)
    expect(dry.stderr).toContain('this workstation is not ready; a real run would stop here (obsctl doctor)')
    expect(dry.stderr).toContain('[env.OBSCTL_S3_SECRET_KEY]')
  })
})
