/**
 * known_hosts as OpenSSH reads it (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): @revoked, @cert-authority,
 * hashed names, wildcards and negations, [host]:port — first as pure matching, then against real
 * OpenSSH servers (the node sandbox): a revoked key is refused and never recorded, and
 * ssh.hostKeyPolicy: strict refuses an unknown key instead of trusting it on first use.
 */
import {execFileSync} from 'node:child_process'
import {createHmac} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {runNodeInstall, runNodePreflight} from '../../src/lib/nodes/run.js'
import {check, hostsFieldMatches, parseKnownHosts, wildcardMatch} from '../../src/lib/ssh/known-hosts.js'
import {startSandbox, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {inventoryFor, tasks} from './helpers.js'

/** A throwaway ed25519 public key blob (base64), made by ssh-keygen. */
function freshKey(dir: string, name: string): {type: string; b64: string} {
  const f = path.join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f], {stdio: 'ignore'})
  const [type, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/)
  return {type: type!, b64: b64!}
}

/** A hashed host name as ssh-keygen -H writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashed(name: string, salt = Buffer.from('0123456789abcdef0123')): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

describe('matching (OpenSSH semantics)', () => {
  test('wildcards * and ?, case-insensitive', () => {
    expect(wildcardMatch('node1.lab', '*.lab')).toBe(true)
    expect(wildcardMatch('NODE1.LAB', '*.lab')).toBe(true)
    expect(wildcardMatch('node1.lab.example', '*.lab')).toBe(false)
    expect(wildcardMatch('10.0.0.7', '10.0.0.?')).toBe(true)
    expect(wildcardMatch('10.0.0.17', '10.0.0.?')).toBe(false)
    expect(wildcardMatch('[10.0.0.7]:2222', '[10.0.0.*]:2222')).toBe(true)
    expect(wildcardMatch('[10.0.0.7]:22', '[10.0.0.*]:2222')).toBe(false)
    expect(wildcardMatch('a', '**')).toBe(true)
  })

  test('a matching negation rejects the line whatever else matches', () => {
    expect(hostsFieldMatches('*.lab,!bad.lab', 'good.lab')).toBe(true)
    expect(hostsFieldMatches('*.lab,!bad.lab', 'bad.lab')).toBe(false)
    expect(hostsFieldMatches('!bad.lab', 'good.lab')).toBe(false) // a negation alone never matches
  })

  test('[host]:port for ports other than 22; plain host for 22', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kh-'))
    try {
      const k = freshKey(dir, 'k')
      const file = path.join(dir, 'known_hosts')
      writeFileSync(file, `[n1.lab]:2222 ${k.type} ${k.b64}\n`)
      const key = Buffer.from(k.b64, 'base64')
      expect(check(file, 'n1.lab', 2222, key).status).toBe('known')
      expect(check(file, 'n1.lab', 22, key).status).toBe('new')
      writeFileSync(file, `n1.lab ${k.type} ${k.b64}\n`)
      expect(check(file, 'n1.lab', 22, key).status).toBe('known')
      expect(check(file, 'n1.lab', 2222, key).status).toBe('new')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('hashed names (ssh-keygen -H), @revoked before plain lines, @cert-authority, unknown markers skipped', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kh-'))
    try {
      const good = freshKey(dir, 'good')
      const bad = freshKey(dir, 'bad')
      const ca = freshKey(dir, 'ca')
      const file = path.join(dir, 'known_hosts')
      writeFileSync(
        file,
        [
          '# comment',
          `${hashed('[n1.lab]:2222')} ${good.type} ${good.b64}`,
          `n2.lab ${bad.type} ${bad.b64}`,
          `@revoked * ${bad.type} ${bad.b64}`,
          `@cert-authority *.ca.lab ${ca.type} ${ca.b64}`,
          `@future-marker n3.lab ${good.type} ${good.b64}`,
          '',
        ].join('\n'),
      )
      expect(parseKnownHosts(readFileSync(file, 'utf8')).map((e) => e.marker ?? 'plain')).toEqual(['plain', 'plain', 'revoked', 'cert-authority'])
      expect(check(file, 'n1.lab', 2222, Buffer.from(good.b64, 'base64')).status).toBe('known')
      expect(check(file, 'n1.lab', 22, Buffer.from(good.b64, 'base64')).status).toBe('new')
      // listed as plain for n2.lab, but revoked everywhere: revoked wins
      expect(check(file, 'n2.lab', 22, Buffer.from(bad.b64, 'base64'))).toMatchObject({status: 'revoked', line: 4})
      expect(check(file, 'x.ca.lab', 22, Buffer.from(good.b64, 'base64'))).toMatchObject({status: 'cert-authority', lines: [5]})
      expect(check(file, 'n3.lab', 22, Buffer.from(good.b64, 'base64')).status).toBe('new')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('against real OpenSSH servers', () => {
  let sb: Sandbox
  let keys: string
  const dirs: string[] = []
  const pub = (n: SandboxNode) => readFileSync(`${n.hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
  beforeAll(async () => {
    sb = await startSandbox(2, {firstIp: 151})
    keys = mkdtempSync(path.join(tmpdir(), 'obsctl-kh-keys-'))
    dirs.push(keys)
  })
  afterAll(async () => {
    await sb?.stop()
    for (const d of dirs) rmSync(d, {recursive: true, force: true})
  })

  test('@revoked: the revoked key is refused (never trusted on first use, never appended); install runs nothing there', async () => {
    const node = sb.nodes[0]!
    const inv = inventoryFor(sb, [[0]])
    dirs.push(inv.dir)
    const file = path.join(inv.dir, '.obsctl', 'known_hosts')
    mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    const text = `@revoked * ${pub(node)}\n`
    writeFileSync(file, text, {mode: 0o600})
    const notices: string[] = []
    const r = await runNodePreflight(inv, {onNotice: (l) => notices.push(l)})
    const ssh = r.checks.find((c) => c.id === 'ssh')!
    expect(ssh.status).toBe('fail')
    expect(ssh.detail).toContain('REVOKED')
    expect(ssh.detail).toContain(node.hostKeyFingerprint())
    expect(ssh.detail).toContain(`${file}:1`)
    expect(notices.filter((n) => n.includes('trusted new host key'))).toEqual([])
    expect(readFileSync(file, 'utf8')).toBe(text)

    // a plain line for the same key does not rescue it
    writeFileSync(file, `[${node.ip}]:${node.port} ${pub(node)}\n${text}`, {mode: 0o600})
    const again = await runNodePreflight(inv)
    expect(again.checks.find((c) => c.id === 'ssh')!.detail).toContain('REVOKED')

    node.clearCalls()
    const inst = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 10})
    const t = tasks(inst).find((x) => x.target.endsWith(node.ip))!
    expect(t.status).toBe('failed')
    expect(t.error).toContain('REVOKED')
    expect(node.calls()).toEqual([])
  })

  test('ssh.hostKeyPolicy: strict refuses an unknown key and writes nothing; a wildcard line with a negation decides per host', async () => {
    const [a, b] = sb.nodes as [SandboxNode, SandboxNode]
    const inv = inventoryFor(sb, [[0, 1]], {hostKeyPolicy: 'strict'})
    dirs.push(inv.dir)
    expect(inv.platform.ssh.hostKeyPolicy).toBe('strict')
    const file = path.join(inv.dir, '.obsctl', 'known_hosts')
    const first = await runNodePreflight(inv)
    for (const n of [a, b]) {
      const ssh = first.checks.find((c) => c.host === n.ip && c.id === 'ssh')!
      expect(ssh.status).toBe('fail')
      expect(ssh.detail).toContain('hostKeyPolicy is strict')
      expect(ssh.detail).toContain(n.hostKeyFingerprint())
      expect(ssh.hint).toContain(`ssh-keyscan -p ${n.port}`)
    }
    expect(existsSync(file)).toBe(false) // nothing trusted, nothing written

    // a wildcard line for the second node's key that excludes the first node by a negation: the
    // first stays unknown (refused), the second is known
    mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    writeFileSync(file, `[127.0.1.*]:*,![${a.ip}]:* ${pub(b)}\n`, {mode: 0o600})
    const second = await runNodePreflight(inv)
    expect(second.checks.find((c) => c.host === a.ip && c.id === 'ssh')!.detail).toContain('hostKeyPolicy is strict')
    expect(second.checks.find((c) => c.host === b.ip && c.id === 'ssh')!.status).toBe('pass')

    // the first node's key as a hashed entry (ssh-keygen -H form): now both pass, nothing appended
    const both = `[127.0.1.*]:*,![${a.ip}]:* ${pub(b)}\n${hashed(`[${a.ip}]:${a.port}`)} ${pub(a)}\n`
    writeFileSync(file, both, {mode: 0o600})
    const third = await runNodePreflight(inv)
    expect(third.checks.filter((c) => c.id === 'ssh').map((c) => c.status)).toEqual(['pass', 'pass'])
    expect(readFileSync(file, 'utf8')).toBe(both)
  })

  test('@cert-authority only: refused with the reason (ssh2 cannot negotiate host certificates), not trusted on first use', async () => {
    const inv = inventoryFor(sb, [[1]])
    dirs.push(inv.dir)
    const ca = freshKey(keys, 'host-ca')
    const file = path.join(inv.dir, '.obsctl', 'known_hosts')
    mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    const text = `@cert-authority 127.0.1.* ${ca.type} ${ca.b64}\n@cert-authority [127.0.1.*]:* ${ca.type} ${ca.b64}\n`
    writeFileSync(file, text, {mode: 0o600})
    const r = await runNodePreflight(inv)
    const ssh = r.checks.find((c) => c.id === 'ssh')!
    expect(ssh.status).toBe('fail')
    expect(ssh.detail).toContain('@cert-authority')
    expect(ssh.detail).toContain('cannot negotiate host certificates')
    expect(readFileSync(file, 'utf8')).toBe(text)
  })
})
