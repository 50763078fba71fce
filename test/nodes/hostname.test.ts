/**
 * A node addressed by host name (`host: localhost`, 127.0.0.1 through /etc/hosts: loopback only) against a real
 * OpenSSH server: obsctl looks its key up under the name it was given, as `ssh` does — `[localhost]:PORT` on a port
 * other than 22 — and the real `ssh` (OpenSSH, StrictHostKeyChecking, UserKnownHostsFile) is asked the same question
 * with the same file, so the two are compared rather than obsctl against our reading of the manual. A line only for
 * the address (`[127.0.0.1]:PORT`) does not vouch for the name: `ssh` checks the address only with CheckHostIP, which
 * is off by default since OpenSSH 8.5 and, when on, is an extra check of the address, never a substitute for the name's.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {lookup} from 'node:dns/promises'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {runNodeInstall, runNodePreflight} from '../../src/lib/nodes/run.js'
import {kubeadmInitConfig} from '../../src/lib/nodes/script.js'
import {sandboxInventory, startSandbox, type Sandbox} from '../support/sshd.js'

describe('a node addressed by host name (localhost)', () => {
  let sb: Sandbox
  let dir: string
  let port: number
  let pub: string
  beforeAll(async () => {
    // only ever loopback: the name must resolve to 127.0.0.1 here, as /etc/hosts says
    expect((await lookup('localhost', {all: true})).map((a) => a.address)).toContain('127.0.0.1')
    sb = await startSandbox([{ip: '127.0.0.1'}])
    port = sb.nodes[0]!.port
    pub = readFileSync(`${sb.nodes[0]!.hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
    dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-hostname-'))
  })
  afterAll(async () => sb?.stop())

  /** An inventory whose one node is `host: localhost`, in a folder of its own. */
  function inventory(name: string, extra: Parameters<typeof sandboxInventory>[2] = {}): LoadedInventory {
    const d = path.join(dir, name)
    execFileSync('mkdir', ['-p', d])
    const text = sandboxInventory(sb, [[0]], extra).replace('{host: 127.0.0.1,', '{host: localhost,')
    expect(text).toContain('{host: localhost,')
    writeFileSync(path.join(d, 'obsctl.yaml'), text)
    return loadInventory(path.join(d, 'obsctl.yaml'))
  }

  /** The real ssh, asked to log in with `file` as its only known_hosts: does it accept the host key? */
  function opensshAccepts(file: string, strict: 'yes' | 'accept-new', checkHostIp: 'yes' | 'no' = 'no'): {ok: boolean; stderr: string} {
    const config = path.join(dir, 'ssh_config')
    writeFileSync(config, '')
    const r = spawnSync(
      'ssh',
      [
        '-F',
        config,
        '-o',
        'BatchMode=yes',
        '-o',
        `StrictHostKeyChecking=${strict}`,
        '-o',
        `CheckHostIP=${checkHostIp}`,
        '-o',
        `UserKnownHostsFile=${file}`,
        '-o',
        'GlobalKnownHostsFile=none',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityAgent=none',
        '-o',
        'ConnectTimeout=10',
        '-i',
        sb.clientKey,
        '-p',
        String(port),
        'root@localhost',
        'true',
      ],
      {encoding: 'utf8', timeout: 30_000},
    )
    return {ok: r.status === 0, stderr: r.stderr}
  }

  const sshCheck = (r: Awaited<ReturnType<typeof runNodePreflight>>) => r.checks.find((c) => c.id === 'ssh')!

  test('first contact (accept-new): the key is saved under [localhost]:PORT, the line ssh itself writes', async () => {
    const inv = inventory('first')
    const notices: string[] = []
    const r = await runNodePreflight(inv, {onNotice: (l) => notices.push(l)})
    expect(sshCheck(r)).toMatchObject({status: 'pass', host: 'localhost', detail: `root@[localhost]:${port}`})
    expect(notices.join('\n')).toContain(`trusted new host key of [localhost]:${port}: ssh-ed25519 ${sb.nodes[0]!.hostKeyFingerprint()}`)
    const ours = readFileSync(path.join(inv.dir, '.obsctl', 'known_hosts'), 'utf8')
    expect(ours).toBe(`[localhost]:${port} ${pub}\n`)
    // ssh, first contact with its own empty file, writes the same line; and trusts ours as it is
    const theirs = path.join(dir, 'ssh-first')
    expect(opensshAccepts(theirs, 'accept-new').ok).toBe(true)
    expect(readFileSync(theirs, 'utf8')).toBe(ours)
    expect(opensshAccepts(path.join(inv.dir, '.obsctl', 'known_hosts'), 'yes').ok).toBe(true)
  })

  test('node install over the name: the kubeadm config carries no name where an address goes, and the node is Ready', async () => {
    const inv = inventory('install')
    const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 30})
    const t = r.phases.flatMap((p) => p.tasks)
    expect(t.map((x) => [x.target, x.status, x.error ?? ''])).toEqual([['cluster-01/localhost', 'done', '']])
    expect(t[0]!.summary).toMatch(/installed \(\d+ changes\), Ready/)
    // kubeadm takes only an IP as advertiseAddress: a name is left for kubeadm to choose (the default route's address)
    const config = kubeadmInitConfig(inv.platform, inv.platform.clusters[0]!)
    expect(config).not.toMatch(/advertiseAddress/)
    expect(config).toMatch(/certSANs:[^]*- localhost/)
  })

  test('strict: entries written for the name by ssh-keyscan (plain and hashed) are accepted', async () => {
    for (const hashed of [false, true]) {
      const inv = inventory(hashed ? 'keyscan-hashed' : 'keyscan', {hostKeyPolicy: 'strict'})
      const file = path.join(inv.dir, 'known_hosts')
      const scanned = execFileSync('ssh-keyscan', [...(hashed ? ['-H'] : []), '-t', 'ed25519', '-p', String(port), 'localhost'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      expect(scanned).toMatch(hashed ? /^\|1\|/m : new RegExp(`^\\[localhost\\]:${port} ssh-ed25519 `, 'm'))
      writeFileSync(file, scanned)
      expect(opensshAccepts(file, 'yes').ok).toBe(true)
      const notices: string[] = []
      const r = await runNodePreflight(inv, {knownHosts: file, onNotice: (l) => notices.push(l)})
      expect(sshCheck(r).status, sshCheck(r).detail).toBe('pass')
      expect(notices).toEqual([])
      expect(readFileSync(file, 'utf8')).toBe(scanned)
    }
  })

  test('a line only for the address does not vouch for the name: strict refuses as unknown, accept-new trusts it as new (as ssh does)', async () => {
    const addressOnly = `[127.0.0.1]:${port} ${pub}\n`
    // ssh with the default CheckHostIP=no, and with CheckHostIP=yes: the name is unknown either way
    for (const checkHostIp of ['no', 'yes'] as const) {
      const f = path.join(dir, `ssh-address-only-${checkHostIp}`)
      writeFileSync(f, addressOnly)
      const s = opensshAccepts(f, 'yes', checkHostIp)
      expect(s.ok, s.stderr).toBe(false)
      expect(s.stderr).toMatch(/No ED25519 host key is known for \[localhost\]:\d+|Host key verification failed/)
    }

    const strict = inventory('address-strict', {hostKeyPolicy: 'strict'})
    const file = path.join(strict.dir, 'known_hosts')
    writeFileSync(file, addressOnly)
    const r = await runNodePreflight(strict, {knownHosts: file})
    expect(sshCheck(r).status).toBe('fail')
    expect(sshCheck(r).detail).toContain(`[localhost]:${port}`)
    expect(sshCheck(r).detail).toMatch(/unknown|not known|no host key/i)
    expect(readFileSync(file, 'utf8')).toBe(addressOnly)

    // accept-new: trusted on first use under the name, the address line kept — as ssh accept-new does
    const tofu = inventory('address-accept-new')
    const f2 = path.join(tofu.dir, 'known_hosts')
    writeFileSync(f2, addressOnly)
    const notices: string[] = []
    const again = await runNodePreflight(tofu, {knownHosts: f2, onNotice: (l) => notices.push(l)})
    expect(sshCheck(again).status).toBe('pass')
    expect(notices.join('\n')).toContain(`trusted new host key of [localhost]:${port}`)
    const theirs = path.join(dir, 'ssh-address-accept-new')
    writeFileSync(theirs, addressOnly)
    expect(opensshAccepts(theirs, 'accept-new').ok).toBe(true)
    expect(readFileSync(f2, 'utf8')).toBe(readFileSync(theirs, 'utf8'))
    expect(readFileSync(f2, 'utf8')).toBe(`${addressOnly}[localhost]:${port} ${pub}\n`)
  })

  test('a different key under the name is refused as CHANGED, whatever the address line says', async () => {
    const inv = inventory('changed')
    const file = path.join(inv.dir, 'known_hosts')
    const other = readFileSync(`${sb.wrongKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
    writeFileSync(file, `[localhost]:${port} ${other}\n[127.0.0.1]:${port} ${pub}\n`)
    const s = opensshAccepts(file, 'accept-new')
    expect(s.ok).toBe(false)
    expect(s.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED')
    const r = await runNodePreflight(inv, {knownHosts: file})
    expect(sshCheck(r).status).toBe('fail')
    expect(sshCheck(r).detail).toContain('CHANGED')
    expect(sshCheck(r).hint).toContain(`ssh-keygen -R '[localhost]:${port}' -f ${file}`)
    expect(existsSync(path.join(inv.dir, '.obsctl', 'known_hosts'))).toBe(false)
  })
})
