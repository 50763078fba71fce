/**
 * Request traces under --verbose (src/lib/trace.ts): one line per request on stderr, never on stdout (so
 * --json still parses), redacted (URL credentials, secret query parameters and assignments, secret env
 * values), never headers or bodies; nothing without --verbose. Against real peers: the Kubernetes API
 * test server (client-node), s3rver (minio), an HTTP server (the platform's HttpClient) and the sshd
 * sandbox (ssh2).
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {redactText} from '../../src/lib/config/validators.js'
import {send} from '../../src/lib/platform/http.js'
import {git} from '../../src/lib/gitops/git.js'
import {dnsCheck, tcpProbe} from '../../src/lib/doctor/network.js'
import {readManifestText} from '../../src/lib/argocd/manifest.js'
import {disableTraces, enableTraces} from '../../src/lib/trace.js'
import {obsctlAsync, requireBuild} from './helpers.js'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {startFake, type FakeServer} from '../support/http-fake.js'
import {platformTls} from '../support/platform-tls.js'
import {connectNode, startSandbox} from '../support/sshd.js'
import {ACCESS_KEY, SECRET_KEY, credEnv, startS3rver, writeInventory, type S3Peer} from '../s3/harness.js'

const TRACE = /^trace: /m
const traceLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('trace: '))

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-trace-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))
afterEach(() => disableTraces())

describe('redactText (what every trace line goes through)', () => {
  it('masks secret query parameters, shell assignments and flags; leaves the rest', () => {
    expect(redactText('GET https://u:pw@h.lab/q?query=up&token=abc123&X-Amz-Signature=ff00 → 200', {})).toBe(
      'GET https://h.lab/q?query=up&token=***&X-Amz-Signature=*** → 200',
    )
    expect(redactText(`exec 'DB_PASSWORD=hunter22 export API_TOKEN="a b" kubeadm join 10.0.0.1:6443 --token abc.def -o short'`, {})).toBe(
      `exec 'DB_PASSWORD=*** export API_TOKEN=*** kubeadm join 10.0.0.1:6443 --token *** -o short'`,
    )
    expect(redactText('kubeadm version -o short; labelSelector=app%3Dx --key-file /k', {})).toBe(
      'kubeadm version -o short; labelSelector=app%3Dx --key-file /k',
    )
  })

  it("kubeadm's join command as kubeadm init prints it: the token and certificate key masked (also at a line's start), the CA hash and withheld values kept", () => {
    const hash = `sha256:${'c'.repeat(64)}`
    const key = 'e'.repeat(64)
    expect(
      redactText(
        [
          `  kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \\`,
          `    --discovery-token-ca-cert-hash ${hash} \\`,
          `    --control-plane --certificate-key ${key}`,
          `--certificate-key ${key}`,
          `--token=abcdef.0123456789abcdef --discovery-token-ca-cert-hash=${hash}`,
          'kubeadm join 10.0.0.1:6443 --token <value withheld> \\',
        ].join('\n'),
        {},
      ),
    ).toBe(
      [
        '  kubeadm join 10.0.0.1:6443 --token *** \\',
        `    --discovery-token-ca-cert-hash ${hash} \\`,
        '    --control-plane --certificate-key ***',
        '--certificate-key ***',
        `--token=*** --discovery-token-ca-cert-hash=${hash}`,
        'kubeadm join 10.0.0.1:6443 --token <value withheld> \\',
      ].join('\n'),
    )
  })
})

describe('Kubernetes API (client-node through Kube)', () => {
  let kube: KubeServer
  let inventory: string
  let kubeconfig: string
  const central = EXAMPLE_ANSWERS.clusters[0]!.name
  beforeAll(async () => {
    requireBuild()
    kube = await startKubeServer({name: central})
    inventory = path.join(dir, 'obsctl.yaml')
    writeFileSync(inventory, renderInventoryYaml(EXAMPLE_ANSWERS))
    kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contextName: `${central}-context`})
  })
  afterAll(async () => {
    await kube?.stop()
  })

  it('--verbose --json: a trace line per request on stderr (method, URL, status, ms); stdout parses; no token, no secret env value', async () => {
    const token = kube.credentials('admin').token
    expect(readFileSync(kubeconfig, 'utf8')).toContain(token)
    // a secret-named env var whose value shows up in a request URL: the trace masks it
    const env = {OBSCTL_TRACE_TEST_SECRET: 'argocd-initial-admin-secret'}
    kube.clearRequestLog()
    const r = await obsctlAsync(['argocd', 'password', '--config', inventory, '--kubeconfig', kubeconfig, '--json', '--verbose'], {env})
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({namespace: 'argocd', initialSecret: false})
    expect(r.stdout).not.toMatch(TRACE)
    const lines = traceLines(r.stderr)
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^trace: GET ${kube.url}/api/v1/namespaces/argocd/secrets/\\*\\*\\* → 404 \\(\\d+ ms\\)$`)))
    // one line per request the server saw
    expect(lines).toHaveLength(kube.requestLog.length)
    expect(r.stderr).not.toContain(token)
    expect(r.stderr).not.toContain('argocd-initial-admin-secret')
    expect(r.stderr).not.toMatch(/authorization/i)
  })

  it('without --verbose: no trace lines', async () => {
    const r = await obsctlAsync(['argocd', 'password', '--config', inventory, '--kubeconfig', kubeconfig, '--json'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr + r.stdout).not.toMatch(TRACE)
  })
})

describe('S3 (minio through openS3)', () => {
  let peer: S3Peer
  beforeAll(async () => {
    requireBuild()
    peer = await startS3rver()
  })
  afterAll(async () => {
    await peer?.close()
  })

  it('s3 setup --verbose --json: each S3 request traced with method, bucket URL and status; no key in stderr', async () => {
    const {file} = writeInventory(mkdtempSync(path.join(dir, 's3-')), peer.url)
    const r = await obsctlAsync(['s3', 'setup', '-c', file, '--json', '--verbose'], {env: credEnv()})
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toBeTypeOf('object')
    const lines = traceLines(r.stderr)
    expect(lines.length).toBeGreaterThan(0)
    expect(
      lines.every((l) => new RegExp(`^trace: s3 (GET|HEAD|PUT|POST|DELETE) ${peer.url}/\\S* → \\d{3} \\(\\d+ ms\\)$`).test(l)),
      lines.join('\n'),
    ).toBe(true)
    expect(lines).toContainEqual(expect.stringMatching(/^trace: s3 PUT \S+\/\S+ → 200 /)) // a bucket made
    expect(r.stderr).not.toContain(SECRET_KEY)
    expect(r.stderr).not.toContain(ACCESS_KEY)
  })
})

describe('HTTP client of the platform services (platform/http.ts send)', () => {
  let fake: FakeServer
  beforeAll(async () => {
    fake = await startFake([['GET', /^\/api\/v1\/query$/, () => ({json: {status: 'success'}})]])
  })
  afterAll(async () => {
    await fake?.close()
  })

  it('traces method, URL and status; URL credentials and a secret query parameter never appear', async () => {
    const lines: string[] = []
    await enableTraces((l) => lines.push(l))
    const url = new URL(`${fake.url}/api/v1/query?query=up&access_token=tok-Qx81`)
    url.username = 'admin'
    url.password = 'pw-Zk42'
    const res = await send(url, {what: 'prometheus'})
    expect(res.status).toBe(200)
    await send(new URL('http://127.0.0.1:9/x'), {what: 'prometheus'}).catch(() => undefined)
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^trace: GET ${fake.url}/api/v1/query\\?query=up&access_token=\\*\\*\\* → 200 \\(\\d+ ms\\)$`)),
      expect.stringMatching(/^trace: GET http:\/\/127\.0\.0\.1:9\/x → error ECONNREFUSED \(\d+ ms\)$/),
    ])
    expect(lines.join('\n')).not.toMatch(/pw-Zk42|tok-Qx81|admin/)
  })

  it('the Argo CD manifest download (https only): a line with its status', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-trace-manifest-'))
    const tls = await platformTls(dir)
    const mirror = await startFake([['GET', /^\/install\.yaml$/, () => ({text: 'kind: List\n'})]], {tls})
    try {
      const lines: string[] = []
      await enableTraces((l) => lines.push(l))
      expect((await readManifestText(`${mirror.url}/install.yaml`, {ca: tls.ca})).text).toBe('kind: List\n')
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^trace: GET ${mirror.url}/install\\.yaml → 200 \\(\\d+ ms\\)$`))])
    } finally {
      await mirror.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it("doctor's TCP probe: a line per connection, with its outcome", async () => {
    const lines: string[] = []
    await enableTraces((l) => lines.push(l))
    expect((await tcpProbe('127.0.0.1', fake.port, 10_000)).status).toBe('pass')
    expect((await tcpProbe('127.0.0.1', 9, 10_000)).status).toBe('fail')
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^trace: tcp 127\\.0\\.0\\.1:${fake.port} connect → ok \\(\\d+ ms\\)$`)),
      expect.stringMatching(/^trace: tcp 127\.0\.0\.1:9 connect → ECONNREFUSED \(\d+ ms\)$/),
    ])
  })

  it("doctor's DNS lookup: a line with the addresses it found", async () => {
    const lines: string[] = []
    await enableTraces((l) => lines.push(l))
    // localhost: answered from /etc/hosts, no resolver asked
    const check = dnsCheck('localhost', [{what: 'a test', optional: false}] as Parameters<typeof dnsCheck>[1])
    const result = await check.run({timeoutMs: 10_000} as Parameters<typeof check.run>[0], new AbortController().signal)
    expect(result).toMatchObject({status: 'pass'})
    expect(lines).toEqual([expect.stringMatching(/^trace: dns localhost → [\d.:, ]*(127\.0\.0\.1|::1)[\d.:, ]* \(\d+ ms\)$/)])
  })

  it('off: nothing is traced', async () => {
    const lines: string[] = []
    await enableTraces((l) => lines.push(l))
    disableTraces()
    await send(new URL(`${fake.url}/api/v1/query`), {what: 'prometheus'})
    expect(lines).toEqual([])
  })
})

describe('git (the GitOps remote)', () => {
  it('traces the commands that reach a remote (ls-remote, fetch, push…) with their exit code, not local ones', async () => {
    const bare = path.join(dir, 'remote.git')
    execFileSync('git', ['init', '-q', '--bare', bare])
    const lines: string[] = []
    await enableTraces((l) => lines.push(l))
    expect((await git(dir, ['ls-remote', bare, 'refs/heads/main'])).exitCode).toBe(0)
    await git(bare, ['rev-parse', '--git-dir'])
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^trace: git ls-remote ${escape(bare)} refs/heads/main → exit 0 \\(\\d+ ms\\)$`))])
  })
})

describe('SSH (ssh2 through SshConnection, the sshd sandbox)', () => {
  it('traces connect, each command line with its exit code (env-assigned secrets masked) and SFTP', async () => {
    const sb = await startSandbox(1, {firstIp: 235})
    const lines: string[] = []
    try {
      await enableTraces((l) => lines.push(l))
      const node = sb.nodes[0]!
      const conn = await connectNode(sb, node, {knownHostsFile: path.join(dir, 'known_hosts')})
      try {
        expect((await conn.exec('DB_PASSWORD=hunter2-Wq9 sh -c "exit 3"')).code).toBe(3)
        await conn.upload('/tmp/obsctl-trace-test', 'x')
      } finally {
        conn.close()
      }
      const at = `root@${node.port === 22 ? node.ip : `[${node.ip}]:${node.port}`}`
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^trace: ssh ${escape(at)} connect → ok \\(\\d+ ms\\)$`)),
        expect.stringMatching(new RegExp(`^trace: ssh ${escape(at)} exec 'DB_PASSWORD=\\*\\*\\* sh -c "exit 3"' → exit 3 \\(\\d+ ms\\)$`)),
        // the upload's temporary file is named after the connection's sshd process, asked once per connection
        expect.stringMatching(new RegExp(`^trace: ssh ${escape(at)} exec 'sh -c 'start_of\\(\\) .*' → exit 0 \\(\\d+ ms\\)$`)),
        expect.stringMatching(new RegExp(`^trace: ssh ${escape(at)} sftp put /tmp/obsctl-trace-test → ok \\(\\d+ ms\\)$`)),
      ])
      expect(lines.join('\n')).not.toContain('hunter2-Wq9')
    } finally {
      await sb.stop()
    }
  })
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
