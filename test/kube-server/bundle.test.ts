/**
 * The built CLI's Kubernetes client (`npm run build` first) on the two paths where the bundle hands client-node a
 * module of its own (bin/bundle.mjs slimImports): a kubeconfig whose proxy-url is a SOCKS5 proxy
 * (socks-proxy-agent, required when the agent is made) and a gcp auth-provider, whose token the client reads out
 * of its command's JSON with jsonpath-plus (required at the first read). Each against the kube test server, with
 * the package's client-node beside it for the same outcome; and what is not in it. The other two ways a kubeconfig
 * has client-node run a command for a token (an azure auth-provider, an exec credential plugin) go through the
 * bundle's client-node as well.
 */
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import net from 'node:net'
import path from 'node:path'
import * as k8s from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bundleChunk, runProcess} from '../cli/helpers.js'
import {freePorts, readyOrExit, spawnDaemon, type Daemon} from '../support/daemon.js'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {startSandbox} from '../support/sshd.js'
import {waitFor} from '../support/wait.js'
import {tempDir} from './fixtures.js'

type Lib = Pick<typeof k8s, 'KubeConfig' | 'KubernetesObjectApi'>

/**
 * A SOCKS5 proxy (RFC 1928: no authentication, CONNECT to an IPv4 address or a domain name) that relays to loopback
 * only and records where each connection went: our stand-in, for counting what went through it. The real SOCKS5
 * server of the test below is OpenSSH's dynamic forwarding (`ssh -D`), which records nothing.
 */
async function startSocks5(): Promise<{port: number; connects: string[]; close(): void}> {
  const connects: string[] = []
  const server = net.createServer((client) => {
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy()
      client.write(Buffer.from([5, 0]))
      client.once('data', (req) => {
        const atyp = req[3]
        let host: string
        let at: number
        if (atyp === 1) {
          host = [...req.subarray(4, 8)].join('.')
          at = 8
        } else if (atyp === 3) {
          host = req.subarray(5, 5 + req[4]!).toString()
          at = 5 + req[4]!
        } else return client.destroy()
        const port = req.readUInt16BE(at)
        connects.push(`${host}:${port}`)
        if (req[1] !== 1 || !/^(127\.|localhost$)/.test(host)) return client.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]))
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]))
          client.pipe(upstream).pipe(client)
        })
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as net.AddressInfo).port, connects, close: () => server.close()}
}

let kube: KubeServer
let tmp: ReturnType<typeof tempDir>
let socks: Awaited<ReturnType<typeof startSocks5>>
beforeAll(async () => {
  tmp = tempDir()
  kube = await startKubeServer({name: 'cluster-02'})
  socks = await startSocks5()
})
afterAll(async () => {
  socks?.close()
  await kube?.stop()
  tmp?.cleanup()
})

function bundled(): Lib {
  return createRequire(import.meta.url)(bundleChunk('client-node').file) as Lib
}

function config(lib: Lib, o: {proxyUrl?: string; user: Record<string, unknown>}): k8s.KubeConfig {
  const kc = new lib.KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'c', server: kube.url, caData: Buffer.from(kube.kubeconfigEntry().caPem).toString('base64'), proxyUrl: o.proxyUrl}],
    users: [{name: 'u', ...o.user}],
    contexts: [{name: 'ctx', cluster: 'c', user: 'u'}],
    currentContext: 'ctx',
  })
  return kc
}

async function readNamespace(lib: Lib, kc: k8s.KubeConfig): Promise<string> {
  try {
    const ns = await lib.KubernetesObjectApi.makeApiClient(kc).read({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'kube-system'}})
    return `read ${ns.metadata?.name}`
  } catch (e) {
    return `failed: ${(e as {code?: number}).code ?? (e as Error).message}`
  }
}

describe("the bundle's client-node (bin/bundle.mjs slimImports)", () => {
  it("a kubeconfig cluster's socks5 proxy-url: the request goes through the proxy, as with the package", async () => {
    const token = kube.credentials().token
    const port = new URL(kube.url).port
    const through: string[][] = []
    for (const lib of [k8s, bundled()]) {
      const before = socks.connects.length
      expect(await readNamespace(lib, config(lib, {proxyUrl: `socks5://127.0.0.1:${socks.port}`, user: {token}}))).toBe('read kube-system')
      through.push(socks.connects.slice(before))
    }
    // every connection to the API server went through the proxy, as many for the bundle's client as for the package's
    expect(through[0]!.length).toBeGreaterThan(0)
    expect(new Set(through[0])).toEqual(new Set([`127.0.0.1:${port}`]))
    expect(through[1]).toEqual(through[0])
  })

  it("a gcp auth-provider: the token is read out of its command's JSON by the token-key path, as with the package", async () => {
    const token = kube.credentials().token
    const cmd = path.join(tmp.dir, 'gcp-token')
    writeFileSync(cmd, `#!/bin/sh\necho '{"credential": {"access_token": "${token}", "token_expiry": "2099-01-01T00:00:00Z"}}'\n`)
    chmodSync(cmd, 0o700)
    const user = (tokenKey: string) => ({
      authProvider: {name: 'gcp', config: {'cmd-path': cmd, 'token-key': tokenKey, 'expiry-key': '{.credential.token_expiry}'}},
    })
    for (const lib of [k8s, bundled()]) {
      expect(await readNamespace(lib, config(lib, {user: user('{.credential.access_token}')}))).toBe('read kube-system')
      // a path to nothing: no token, and the server refuses the request
      expect(await readNamespace(lib, config(lib, {user: user('{.credential.nothing}')}))).toBe('failed: 401')
    }
  })

  it("an azure auth-provider: the same, by its own command (client-node's azure_auth.js)", async () => {
    const token = kube.credentials().token
    const cmd = path.join(tmp.dir, 'azure-token')
    writeFileSync(cmd, `#!/bin/sh\necho '{"accessToken": "${token}", "expiresOn": "2099-01-01 00:00:00.000000"}'\n`)
    chmodSync(cmd, 0o700)
    const user = {authProvider: {name: 'azure', config: {'cmd-path': cmd, 'token-key': '{.accessToken}', 'expiry-key': '{.expiresOn}'}}}
    for (const lib of [k8s, bundled()]) expect(await readNamespace(lib, config(lib, {user}))).toBe('read kube-system')
  })

  it('an exec credential plugin (client.authentication.k8s.io/v1): the token its command prints authenticates, as with the package; a failing command fails the request', async () => {
    const token = kube.credentials().token
    const cmd = path.join(tmp.dir, 'exec-token')
    writeFileSync(
      cmd,
      `#!/bin/sh\n[ "$OBSCTL_TEST_FAIL" = 1 ] && exit 3\necho '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "${token}"}}'\n`,
    )
    chmodSync(cmd, 0o700)
    const user = (fail: boolean) => ({
      exec: {apiVersion: 'client.authentication.k8s.io/v1', command: cmd, args: [], env: [{name: 'OBSCTL_TEST_FAIL', value: fail ? '1' : '0'}]},
    })
    for (const lib of [k8s, bundled()]) {
      expect(await readNamespace(lib, config(lib, {user: user(false)}))).toBe('read kube-system')
      expect(await readNamespace(lib, config(lib, {user: user(true)}))).toMatch(/^failed: /)
    }
  })

  it("the same through a real SOCKS5 server: OpenSSH's dynamic forwarding (ssh -D) over a sandbox sshd; without it the request fails", async () => {
    const token = kube.credentials().token
    const sb = await startSandbox(1, {firstIp: 195})
    let ssh: Daemon | undefined
    try {
      const node = sb.nodes[0]!
      const knownHosts = path.join(tmp.dir, 'known_hosts')
      writeFileSync(knownHosts, `[${node.ip}]:${node.port} ${readFileSync(`${node.hostKeyFile}.pub`, 'utf8')}`)
      const listening = (port: number) =>
        new Promise<boolean>((resolve) =>
          net
            .connect(port, '127.0.0.1', function (this: net.Socket) {
              this.destroy()
              resolve(true)
            })
            .on('error', () => resolve(false)),
        )
      let port = 0
      // a port taken between choosing and binding it: ssh exits saying so (ExitOnForwardFailure), and another is chosen
      for (let attempt = 1; !ssh; attempt++) {
        ;[port] = await freePorts(1)
        const d = spawnDaemon('ssh', [
          ...['-N', '-D', `127.0.0.1:${port!}`, '-o', 'ExitOnForwardFailure=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'],
          ...['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=none', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none'],
          ...['-i', sb.clientKey, '-p', String(node.port), `root@${node.ip}`],
        ])
        try {
          await readyOrExit([d], (gone) => waitFor(async () => gone() || (await listening(port!)), 60_000, 'ssh -D to listen'))
          ssh = d
        } catch (e) {
          if (attempt >= 5 || !/address already in use/i.test((e as Error).message)) throw e
        }
      }
      for (const lib of [k8s, bundled()]) {
        expect(await readNamespace(lib, config(lib, {proxyUrl: `socks5://127.0.0.1:${port}`, user: {token}}))).toBe('read kube-system')
      }
      await ssh.stop()
      // the proxy gone, the same request fails: it went through the proxy, not around it
      for (const lib of [k8s, bundled()]) {
        expect(await readNamespace(lib, config(lib, {proxyUrl: `socks5://127.0.0.1:${port}`, user: {token}}))).toMatch(/^failed: .*ECONNREFUSED/)
      }
    } finally {
      await ssh?.stop()
      await sb.stop()
    }
  })

  it("reads client-node's model classes (chunks/lazy/client-node-models.js) at the first use, after the first request is sent, not with the chunk", async () => {
    // a process of its own, as a command is: what it had loaded when it opened its first connection, and after a read
    const chunk = bundleChunk('client-node').file
    const models = path.join(path.dirname(chunk), 'lazy', 'client-node-models.js')
    const script = [
      "const net = require('node:net')",
      `const models = ${JSON.stringify(models)}`,
      'const seen = {}',
      'const loaded = () => Object.keys(require.cache).includes(models)',
      'const connect = net.Socket.prototype.connect',
      'net.Socket.prototype.connect = function (...a) { seen.atConnect ??= loaded(); return connect.apply(this, a) }',
      `const lib = require(${JSON.stringify(chunk)})`,
      'seen.withChunk = loaded()',
      'const kc = new lib.KubeConfig()',
      "kc.loadFromOptions({clusters: [{name: 'c', server: process.env.URL, caData: process.env.CA}], users: [{name: 'u', token: process.env.TOKEN}], contexts: [{name: 'x', cluster: 'c', user: 'u'}], currentContext: 'x'})",
      "lib.KubernetesObjectApi.makeApiClient(kc).read({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'kube-system'}}).then((ns) => {",
      '  seen.read = ns.metadata.name',
      '  seen.after = loaded()',
      '  console.log(JSON.stringify({seen, object: ns}))',
      '})',
    ].join('\n')
    const env = {...process.env, URL: kube.url, CA: Buffer.from(kube.kubeconfigEntry().caPem).toString('base64'), TOKEN: kube.credentials().token}
    // (not spawnSync: the kube test server answers from this process)
    const r = await runProcess(process.execPath, ['-e', script], {env, timeoutMs: 60_000})
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {seen: unknown; object: unknown}
    expect(out.seen).toEqual({withChunk: false, atConnect: false, read: 'kube-system', after: true})
    // decoded by the models read late as the package's own client-node decodes it
    const token = kube.credentials().token
    const pkg = await k8s.KubernetesObjectApi.makeApiClient(config(k8s, {user: {token}})).read({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {name: 'kube-system'},
    })
    expect(out.object).toEqual(JSON.parse(JSON.stringify(pkg)))
  })

  it("takes node-fetch's URL class from node:url: whatwg-url, tr46 with its 260 KB table and punycode are not in the bundle (test/status/status.test.ts makes the built CLI's requests through it)", () => {
    const {sources} = bundleChunk('client-node')
    expect(sources.filter((s) => s.endsWith('node-fetch/lib/index.js'))).toHaveLength(1)
    expect(sources.filter((s) => /node_modules\/(whatwg-url|tr46|punycode|webidl-conversions)\//.test(s))).toEqual([])
  })
})
