// render --push never lets git send a credential unverified: the real `git` (run by the built CLI) against loopback
// listeners that record every request. A credential helper and an askpass program that would hand out a token are
// configured the way a user's machine has them (global git config, GIT_ASKPASS), and TLS verification is turned off
// the way a user might (http.sslVerify=false, GIT_SSL_NO_VERIFY=1): obsctl's git must ignore all of it.
// The recorders answer as a Git smart-HTTP server that wants a login does (401 with `WWW-Authenticate: Basic`
// to GET <repo>/info/refs?service=git-receive-pack: git's http.c, Documentation/technical/http-protocol.txt); a
// request that would carry the token is what they record.
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS} from '../../src/lib/config/index.js'
import {obsctl, requireBuild, runProcess, tmpDir} from '../cli/helpers.js'
import {platformTls, type PlatformTls} from '../support/platform-tls.js'
import {inventoryText} from './support.js'

const TOKEN = 'tok3n-from-the-credential-helper'
const ASKPASS_TOKEN = 'tok3n-from-askpass'

interface Seen {
  method: string
  url: string
  authorization?: string
  raw: string
}

interface Recorder {
  url: string
  seen: Seen[]
  close(): Promise<void>
}

/** A listener that records every request (headers as sent) and answers with `answer`. */
async function record(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void, tls?: PlatformTls): Promise<Recorder> {
  const seen: Seen[] = []
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, raw: req.rawHeaders.join('\n')})
    answer(req, res)
  }
  const server = tls ? https.createServer({cert: tls.cert, key: tls.key}, handler) : http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const wantLogin = (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(401, {'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain'})
  res.end('login required\n')
}

let root: string
let home: string
let askpass: string
const recorders: Recorder[] = []

beforeAll(() => {
  requireBuild()
  root = tmpDir('obsctl-git-credentials-')
  home = path.join(root, 'home')
  mkdirSync(home)
  // the user's git: a helper that answers every host with a token, and verification turned off
  writeFileSync(
    path.join(home, '.gitconfig'),
    `[credential]\n\thelper = "!f() { echo username=ops; echo password=${TOKEN}; }; f"\n[http]\n\tsslVerify = false\n[user]\n\tname = t\n\temail = t@example.lab\n`,
  )
  askpass = path.join(root, 'askpass.sh')
  writeFileSync(askpass, `#!/bin/sh\necho ${ASKPASS_TOKEN}\n`, {mode: 0o755})
})
afterAll(async () => {
  await Promise.all(recorders.map((r) => r.close()))
})

/** An inventory whose git.remote is `remote` (public: no token for Argo CD), its folder. */
function inventoryDir(name: string, remote: string): string {
  const dir = path.join(root, name)
  mkdirSync(dir)
  writeFileSync(path.join(dir, 'obsctl.yaml'), inventoryText({...EXAMPLE_ANSWERS, gitRemote: remote}))
  return dir
}

/** The environment of a user whose git would hand out a token and skip verification. */
const userEnv = (extra: Record<string, string> = {}) => ({
  HOME: home,
  XDG_CONFIG_HOME: path.join(home, '.config'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_ASKPASS: askpass,
  SSH_ASKPASS: askpass,
  GIT_SSL_NO_VERIFY: '1',
  // the suite allows git only file:// (test/support/global-setup.ts); this user allows http too
  GIT_ALLOW_PROTOCOL: 'file:http:https',
  ...extra,
})

const noToken = (seen: Seen[]) => {
  for (const s of seen) {
    expect(s.authorization, `${s.method} ${s.url}`).toBeUndefined()
    expect(s.raw).not.toContain(Buffer.from(`ops:${TOKEN}`).toString('base64'))
    expect(s.raw).not.toContain(TOKEN)
  }
}

describe('render --push never gives git a credential for a plain-http remote', () => {
  it('an http remote that wants a login: exit 2 naming git.remote at its line; the listener saw the unauthenticated request only, never the token', async () => {
    const rec = await record(wantLogin)
    recorders.push(rec)
    const remote = `${rec.url}/platform/gitops.git`
    const dir = inventoryDir('plain', remote)
    // the same user's git on its own sends the helper's token in cleartext: what obsctl must not do
    const probe = path.join(root, 'probe')
    execFileSync('git', ['init', '-q', probe])
    const own = await runProcess('git', ['ls-remote', remote], {cwd: probe, env: {...process.env, ...userEnv(), GIT_TERMINAL_PROMPT: '0'}})
    expect(own.status).not.toBe(0)
    expect(rec.seen.some((s) => s.authorization === `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`)).toBe(true)
    rec.seen.length = 0

    const r = await obsctl(['render', '--push', '--json'], {cwd: dir, env: userEnv()})
    expect(r.status, r.stderr).toBe(2)
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string; hints: string[]}}).error
    expect(e.code).toBe('GIT_PLAIN_HTTP')
    expect(e.message).toContain(remote)
    expect(e.hints.join('\n')).toMatch(/set git\.remote \(.*obsctl\.yaml:\d+:\d+\) to the repository's https:\/\/ \(or ssh:\/\/\) address/)
    // git asked (the push needs the remote's refs first) and was refused: the token never followed
    expect(rec.seen.length).toBeGreaterThan(0)
    noToken(rec.seen)
    // the commit is kept in the working copy, as for any failed push
    expect(execFileSync('git', ['-C', path.join(dir, 'gitops'), 'log', '--format=%s', '-1'], {encoding: 'utf8'}).trim()).not.toBe('')
  })
})

describe('render --push to an https remote keeps TLS verification and never follows it to http', () => {
  it('an https remote redirecting to http: the http listener receives no request at all', async () => {
    const dir = inventoryDir('redirect', 'https://placeholder.invalid/x.git')
    const tls = await platformTls(dir)
    const caFile = path.join(root, 'redirect-ca.pem')
    writeFileSync(caFile, tls.ca)
    const plain = await record(wantLogin)
    recorders.push(plain)
    const secure = await record((req, res) => {
      res.writeHead(302, {location: `${plain.url}${req.url ?? '/'}`})
      res.end()
    }, tls)
    recorders.push(secure)
    const remote = `${secure.url}/platform/gitops.git`
    writeFileSync(path.join(dir, 'obsctl.yaml'), inventoryText({...EXAMPLE_ANSWERS, gitRemote: remote}))
    // verification on, with the CA that signed the https listener's certificate (git's own setting for a private CA)
    const r = await obsctl(['render', '--push', '--json'], {cwd: dir, env: userEnv({GIT_SSL_CAINFO: caFile})})
    expect(r.status, r.stderr).toBe(1)
    expect((JSON.parse(r.stdout) as {error: {code: string}}).error.code).toBe('PUSH_FAILED')
    expect(secure.seen.length).toBeGreaterThan(0)
    noToken(secure.seen)
    expect(plain.seen).toEqual([])
  })

  it('an https remote whose certificate does not verify, with http.sslVerify=false and GIT_SSL_NO_VERIFY=1 set: no request gets past the handshake', async () => {
    const dir = inventoryDir('untrusted', 'https://placeholder.invalid/x.git')
    // a certificate from a CA git is not told about
    const tls = await platformTls(path.join(root, 'other-ca'))
    const secure = await record(wantLogin, tls)
    recorders.push(secure)
    writeFileSync(path.join(dir, 'obsctl.yaml'), inventoryText({...EXAMPLE_ANSWERS, gitRemote: `${secure.url}/platform/gitops.git`}))
    const r = await obsctl(['render', '--push', '--json'], {cwd: dir, env: userEnv()})
    expect(r.status, r.stderr).toBe(1)
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
    expect(e.code).toBe('PUSH_FAILED')
    expect(e.message).toMatch(/certificate|SSL/i)
    expect(secure.seen).toEqual([])
  })
})
