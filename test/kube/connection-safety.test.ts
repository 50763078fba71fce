/**
 * Connections to API servers: a request is cancelled at its deadline (a server that accepts and never
 * answers does not keep `status` or `validate` alive after the verdict), and credentials are never sent
 * to an API server that the kubeconfig says not to verify (insecure-skip-tls-verify) or names by an http:// URL.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {BIN, obsctlAsync, requireBuild} from '../cli/helpers.js'
import {rejection} from '../support/errors.js'
import {Kube} from '../../src/lib/platform/kube.js'
import {buildKubeconfig} from '../support/kube/kubeconfig.js'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'

const CLUSTERS = EXAMPLE_ANSWERS.clusters.map((c) => c.name)

let dir: string
let inventory: string
let kube: KubeServer
let silent: net.Server
let silentPort: number
const held = new Set<net.Socket>()
let accepted = 0

beforeAll(async () => {
  requireBuild()
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-connsafety-'))
  inventory = path.join(dir, 'obsctl.yaml')
  writeFileSync(inventory, renderInventoryYaml(EXAMPLE_ANSWERS))
  kube = await startKubeServer({name: CLUSTERS[0]})
  // accepts every connection and never sends a byte
  silent = net.createServer((sock) => {
    accepted++
    held.add(sock)
    sock.on('error', () => {})
    sock.resume() // read (and drop) what is sent, so a client's close is seen
    sock.on('close', () => held.delete(sock))
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  silentPort = (silent.address() as net.AddressInfo).port
})

afterAll(async () => {
  for (const s of held) s.destroy()
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()))
  await kube?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** Run the CLI and wait for it to EXIT by itself; a process still alive after deadlineMs is killed and reported. */
function runUntilExit(args: string[], deadlineMs: number): Promise<{code: number | null; stdout: string; stderr: string; ms: number; killed: boolean}> {
  const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1'}
  for (const k of [
    'OBSCTL_CONFIG',
    'OPENSEARCH_USERNAME',
    'OPENSEARCH_PASSWORD',
    'OBSCTL_OPENSEARCH_USERNAME',
    'OBSCTL_OPENSEARCH_PASSWORD',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'OBSCTL_S3_ACCESS_KEY',
    'OBSCTL_S3_SECRET_KEY',
  ])
    delete env[k]
  const t0 = Date.now()
  const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let killed = false
  const timer = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, deadlineMs)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr, ms: Date.now() - t0, killed})
    }),
  )
}

function silentKubeconfig(): string {
  const file = path.join(dir, 'silent-kubeconfig')
  const entries = CLUSTERS.map((name) => ({
    server: `https://127.0.0.1:${silentPort}`,
    caPem: kube.kubeconfigEntry().caPem,
    clusterName: name,
    contextName: `${name}-context`,
    userName: `${name}-admin`,
    token: 'not-sent-anywhere-else',
  }))
  writeFileSync(file, stringify(buildKubeconfig(entries)), {mode: 0o600})
  return file
}

const endpoints = () =>
  ['prometheus', 'thanos-query', 'thanos-compactor', 'opensearch', 'argocd'].flatMap((s) => ['--endpoint', `${s}=https://127.0.0.1:${silentPort}`])

describe('a server that accepts and never answers', () => {
  it('obsctl status --json prints the timed-out verdict and EXITS (the request is cancelled, not raced)', async () => {
    const before = accepted
    const r = await runUntilExit(
      ['status', '--json', '--config', inventory, '--kubeconfig', silentKubeconfig(), '--request-timeout', '1', ...endpoints()],
      60_000,
    )
    expect(r.killed, `still running after 60 s; stderr: ${r.stderr}`).toBe(false)
    expect(r.code).toBe(1)
    expect(accepted).toBeGreaterThan(before) // it really connected to the silent server
    const s = JSON.parse(r.stdout) as {ok: boolean; clusters: {name: string; nodes: {error?: string}; apps: {error?: string}}[]}
    expect(s.ok).toBe(false)
    for (const c of s.clusters)
      expect(c.nodes.error, c.name).toMatch(/no answer from the API server of .*-context at https:\/\/127\.0\.0\.1:\d+ within 1 s|timed out after/)
    expect(s.clusters[0]!.apps.error).toMatch(/no answer|timed out/)
  })

  it('obsctl validate prints its verdict and EXITS', async () => {
    const r = await runUntilExit(['validate', '--config', inventory, '--kubeconfig', silentKubeconfig(), '--request-timeout', '1', ...endpoints()], 60_000)
    expect(r.killed, `still running after 60 s; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(false)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/no answer from .*within 1s|no answer from the API server/)
    // every socket the run opened was closed by it (none left held open on our side by a live client)
    await expect.poll(() => held.size, {timeout: 30_000}).toBe(0)
  })
})

describe('a request the API server turns away for now', () => {
  // as kubectl does (test/kube-server/kubectl.test.ts): a 429 or 5xx with Retry-After is sent again after that many seconds
  const connect = (o: {requestTimeoutMs?: number} = {}) =>
    Kube.connect({kubeconfig: kube.writeKubeconfig(path.join(dir, 'turned-away.kubeconfig')), context: `${CLUSTERS[0]}-context`, ...o})
  const cm = (name: string) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data: {a: '1'}})

  it('429 with Retry-After (API Priority and Fairness), twice: the apply is sent again and lands', async () => {
    const k = await connect()
    kube.clearRequestLog()
    kube.failNext('/api/v1/namespaces/default/configmaps/throttled', 2, {status: 429, retryAfterSeconds: 1, method: 'PATCH'})
    await k.apply(cm('throttled'))
    expect(kube.statusesOf('PATCH', '/api/v1/namespaces/default/configmaps/throttled')).toEqual([429, 429, 201])
    expect(kube.getObject('ConfigMap', 'default', 'throttled')?.data).toEqual({a: '1'})
  })

  it('a 503 with Retry-After on a read is sent again; a 429 without Retry-After is the error at once, named', async () => {
    const k = await connect()
    kube.clearRequestLog()
    kube.failNext('/api/v1/namespaces/default/configmaps', 1, {status: 503, retryAfterSeconds: 1, method: 'GET'})
    expect((await k.list('v1', 'ConfigMap', {namespace: 'default'})).length).toBeGreaterThan(0)
    expect(kube.statusesOf('GET', '/api/v1/namespaces/default/configmaps')).toEqual([503, 200])
    kube.failNext('/api/v1/namespaces/default/configmaps', 1, {status: 429, method: 'GET'})
    const e = await rejection(k.list('v1', 'ConfigMap', {namespace: 'default'}))
    expect(e.message).toMatch(/list ConfigMap in default.*(429|TooManyRequests|Too many requests)/i)
    expect(kube.statusesOf('GET', '/api/v1/namespaces/default/configmaps')).toEqual([503, 200, 429])
  })

  it("a Retry-After past the request's deadline: the 429 is the answer (not a timeout), after the deadline", async () => {
    const k = await connect({requestTimeoutMs: 1000})
    kube.clearRequestLog()
    kube.failNext('/api/v1/namespaces/default/configmaps/late', 1, {status: 429, retryAfterSeconds: 30, method: 'GET'})
    const t0 = Date.now()
    const e = await rejection(k.get('v1', 'ConfigMap', 'late', 'default'))
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(e.code).not.toBe('KUBE_TIMEOUT')
    expect(e.message).toMatch(/(429|TooManyRequests|Too many requests)/i)
    expect(kube.statusesOf('GET', '/api/v1/namespaces/default/configmaps/late')).toEqual([429])
  })
})

describe('the timeout hint names only a flag the command has', () => {
  const silentError = async (requestTimeoutMs?: number) => {
    const {Kube} = await import('../../src/lib/platform/kube.js')
    const k = await Kube.connect({kubeconfig: silentKubeconfig(), context: `${CLUSTERS[0]}-context`, requestTimeoutMs})
    // a real deadline for --request-timeout; the 60 s default's error as the deadline's abort reports it
    if (requestTimeoutMs) return rejection(k.list('v1', 'Node'))
    return k.error(Object.assign(new Error('The operation was aborted due to timeout'), {name: 'TimeoutError'}), 'list Node')
  }

  it('with --request-timeout (service commands): the flag, after what to check', async () => {
    const e = await silentError(500)
    expect(e.code).toBe('KUBE_TIMEOUT')
    expect(e.message).toMatch(/no answer from the API server of cluster-01-context at https:\/\/127\.0\.0\.1:\d+ within 0\.5 s/)
    expect(e.hints).toEqual([
      'check that the API server is up and answering (kubectl --context cluster-01-context get --raw /readyz); obsctl doctor --network reaches each one',
      '--request-timeout SECONDS for a slow link',
    ])
  })

  it('without it (bootstrap, cluster register, argocd …, whose requests have 60 s): no flag named', async () => {
    const e = await silentError()
    expect(e.code).toBe('KUBE_TIMEOUT')
    expect(e.message).toContain('within 60 s')
    expect(e.hints.join('\n')).not.toMatch(/--request-timeout|--timeout/)
  })
})

describe('insecure-skip-tls-verify', () => {
  it('is refused before any credential is sent: exit 2, naming the cluster, context and how to supply the CA', async () => {
    const file = path.join(dir, 'insecure-kubeconfig')
    const kc = kube.kubeconfig({clusterName: CLUSTERS[0], contextName: `${CLUSTERS[0]}-context`}) as {clusters: {cluster: Record<string, unknown>}[]}
    delete kc.clusters[0]!.cluster['certificate-authority-data']
    kc.clusters[0]!.cluster['insecure-skip-tls-verify'] = true
    writeFileSync(file, stringify(kc), {mode: 0o600})
    kube.clearRequestLog()
    const seen = kube.requestLog.length
    const r = await obsctlAsync(['argocd', 'password', '--config', inventory, '--kubeconfig', file])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`cluster ${CLUSTERS[0]} (context ${CLUSTERS[0]}-context) sets insecure-skip-tls-verify: true`)
    expect(r.stderr).toContain('certificate-authority-data')
    expect(r.stderr).toContain('obsctl kubeconfig merge')
    expect(kube.requestLog.length).toBe(seen) // nothing reached the server, no token was sent
  })
})

describe('an http:// server in the kubeconfig', () => {
  it('is refused before any connection: exit 2, naming the cluster, context and the https fix', async () => {
    // the silent listener on loopback stands for a plain-http API server: a connection to it is what must not happen
    const file = path.join(dir, 'plain-http-kubeconfig')
    const kc = kube.kubeconfig({clusterName: CLUSTERS[0], contextName: `${CLUSTERS[0]}-context`}) as {clusters: {cluster: Record<string, unknown>}[]}
    delete kc.clusters[0]!.cluster['certificate-authority-data']
    kc.clusters[0]!.cluster.server = `http://127.0.0.1:${silentPort}`
    writeFileSync(file, stringify(kc), {mode: 0o600})
    const before = accepted
    const r = await obsctlAsync(['argocd', 'password', '--config', inventory, '--kubeconfig', file])
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`cluster ${CLUSTERS[0]} (context ${CLUSTERS[0]}-context) has server http://127.0.0.1:${silentPort}: plain http`)
    expect(r.stderr).toContain('to the https:// URL')
    expect(accepted).toBe(before) // not even a connection: no token was sent
  })
})
