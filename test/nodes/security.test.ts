/**
 * SSH security against real OpenSSH servers: trust on first use with the SHA256 fingerprint, a changed
 * host key refused, a wrong key a clear auth error, sudo by password on stdin (never in argv, logs or
 * state), connection retries bounded and only for connection errors.
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {ObsctlError} from '../../src/lib/errors.js'
import {runNodeInstall, runNodePreflight} from '../../src/lib/nodes/run.js'
import {SshConnection, checkHostKey, fingerprint} from '../../src/lib/ssh/index.js'
import {startSandbox, type Sandbox} from '../support/sshd.js'
import {waitFor} from '../support/wait.js'
import {filesUnder, inventoryFor, tasks} from './helpers.js'

const SUDO_PASSWORD = 'S3cret-sudo-pw-71f3'

describe('host keys and authentication', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(2, {firstIp: 31})
  })
  afterAll(async () => sb?.stop())

  test('first contact trusts and prints the SHA256 fingerprint; a changed key is refused with both fingerprints', async () => {
    const inv = inventoryFor(sb, [[0], [1]])
    const notices: string[] = []
    const first = await runNodePreflight(inv, {onNotice: (l) => notices.push(l)})
    expect(first.checks.filter((c) => c.id === 'ssh').map((c) => c.status)).toEqual(['pass', 'pass'])
    const node = sb.nodes[0]!
    const oldFp = node.hostKeyFingerprint()
    expect(notices.some((n) => n.includes(oldFp) && n.includes('trusted new host key'))).toBe(true)
    const kh = readFileSync(path.join(inv.dir, '.obsctl', 'known_hosts'), 'utf8')
    expect(kh).toContain(`[${node.ip}]:${node.port} ssh-ed25519 `)

    // a second contact: known, no notice
    const again: string[] = []
    await runNodePreflight(inv, {onNotice: (l) => again.push(l)})
    expect(again.filter((l) => l.includes('trusted new host key'))).toEqual([])

    await node.rotateHostKey()
    const newFp = node.hostKeyFingerprint()
    const r = await runNodePreflight(inv)
    expect(r.ok).toBe(false)
    const ssh = r.checks.find((c) => c.host === node.ip && c.id === 'ssh')!
    expect(ssh.status).toBe('fail')
    expect(ssh.detail).toContain('CHANGED')
    expect(ssh.detail).toContain(oldFp)
    expect(ssh.detail).toContain(newFp)
    expect(ssh.hint).toContain(`ssh-keygen -R '[${node.ip}]:${node.port}' -f ${path.join(inv.dir, '.obsctl', 'known_hosts')}`)
    // the other node is unaffected, and the file still holds only the old key
    expect(r.checks.find((c) => c.host === sb.nodes[1]!.ip && c.id === 'ssh')!.status).toBe('pass')
    expect(readFileSync(path.join(inv.dir, '.obsctl', 'known_hosts'), 'utf8')).toBe(kh)

    // install refuses too (the phase fails on that node, without running anything there)
    node.clearCalls()
    const inst = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 10})
    const t = tasks(inst).find((x) => x.target.endsWith(node.ip))!
    expect(t.status).toBe('failed')
    expect(t.error).toContain('host key')
    expect(node.calls()).toEqual([])
  })

  test('--known-hosts FILE: hashed entries (ssh-keygen -H) are honoured', async () => {
    const node = sb.nodes[1]!
    const inv = inventoryFor(sb, [[1]])
    const file = path.join(inv.dir, 'my_known_hosts')
    const pub = readFileSync(`${node.hostKeyFile}.pub`, 'utf8').trim().split(/\s+/)
    writeFileSync(file, `[${node.ip}]:${node.port} ${pub[0]} ${pub[1]}\n`)
    const {execFileSync} = await import('node:child_process')
    execFileSync('ssh-keygen', ['-H', '-f', file], {stdio: 'ignore'})
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/)
    expect(checkHostKey(file, node.ip, node.port, Buffer.from(pub[1]!, 'base64')).status).toBe('known')
    const notices: string[] = []
    const r = await runNodePreflight(inv, {knownHosts: file, onNotice: (l) => notices.push(l)})
    expect(r.checks.find((c) => c.id === 'ssh')!.status).toBe('pass')
    expect(notices).toEqual([])
    expect(fingerprint(Buffer.from(pub[1]!, 'base64'))).toBe(node.hostKeyFingerprint())
  })

  test('a key the node does not authorize: a clear authentication error, not retried', async () => {
    const inv = inventoryFor(sb, [[1]], {identityFile: sb.wrongKey})
    const notices: string[] = []
    const r = await runNodePreflight(inv, {onNotice: (l) => notices.push(l)})
    const ssh = r.checks.find((c) => c.id === 'ssh')!
    expect(ssh.status).toBe('fail')
    expect(ssh.detail).toMatch(/root@\[127\.0\.1\.32\]:\d+: authentication failed \(tried: key file\)/)
    // the command ssh-copy-id takes (its -p, never ssh's [host]:port, which a shell would also read as a glob)
    const node = sb.nodes[1]!
    expect(ssh.hint).toContain(`authorize the public key on the node: ssh-copy-id -i KEY.pub -p ${node.port} root@${node.ip}`)
    expect(notices.filter((n) => n.includes('retrying'))).toEqual([])
  })
})

describe('sudo with a password', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox([{sudoPassword: SUDO_PASSWORD}, {sudoPassword: SUDO_PASSWORD}], {firstIp: 41})
  })
  afterAll(async () => sb?.stop())

  test('the password goes to sudo on stdin: absent from argv (/proc/*/cmdline), logs, state and node files', async () => {
    const inv = inventoryFor(sb, [[0, 1]], {sudo: 'password'})
    process.env.OBSCTL_SUDO_PASSWORD = SUDO_PASSWORD
    const seenInArgv: string[] = []
    let scans = 0
    let running = true
    const scan = (async () => {
      while (running) {
        for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
          try {
            const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1')
            if (cmdline.includes(SUDO_PASSWORD)) seenInArgv.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`)
          } catch {
            // the process is gone
          }
        }
        scans++
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    let r
    try {
      r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
    } finally {
      running = false
      await scan
      delete process.env.OBSCTL_SUDO_PASSWORD
    }
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    expect(scans).toBeGreaterThan(5)
    expect(seenInArgv).toEqual([])
    // sudo really checked the password (the shim compares its hash) on both nodes
    for (const n of sb.nodes) expect(n.file('/etc/containerd/config.toml')).toContain('SystemdCgroup = true')
    for (const n of sb.nodes) expect(readFileSync(path.join(n.dir, 'state', 'sudo-accepted'), 'utf8').length).toBeGreaterThan(0)
    const everything = [...filesUnder(path.join(inv.dir, '.obsctl')), ...sb.nodes.flatMap((n) => filesUnder(n.dir))]
    expect(everything.length).toBeGreaterThan(10)
    for (const f of everything) expect(f.content.includes(SUDO_PASSWORD), f.file).toBe(false)
    // the sudo calls never carried it either
    const sudoCalls = sb.nodes.flatMap((n) => n.calls()).filter((c) => c.cmd === 'sudo')
    expect(sudoCalls.length).toBeGreaterThan(0)
    expect(sudoCalls.every((c) => c.args.slice(0, 4).join(' ') === '-S -k -p ')).toBe(true)
  })

  test('a wrong sudo password: the sudo check fails with a clear message', async () => {
    const inv = inventoryFor(sb, [[0]], {sudo: 'password'})
    process.env.OBSCTL_SUDO_PASSWORD = 'not-the-password'
    try {
      const r = await runNodePreflight(inv)
      const sudo = r.checks.find((c) => c.id === 'sudo')!
      expect(sudo.status).toBe('fail')
      expect(sudo.detail).toContain('incorrect password')
      expect(sudo.detail).not.toContain('not-the-password')
    } finally {
      delete process.env.OBSCTL_SUDO_PASSWORD
    }
  })

  test('nopasswd configured but the node wants a password: the error says how to fix it', async () => {
    const inv = inventoryFor(sb, [[0]], {sudo: 'nopasswd'})
    // root logs in without sudo; a non-root login would go through `sudo -n`
    const {SshPool} = await import('../../src/lib/ssh/pool.js')
    const pool = new SshPool({platform: {...inv.platform, ssh: {...inv.platform.ssh}}, inventoryDir: inv.dir})
    try {
      const conn = await pool.get(inv.platform.clusters[0]!.nodes[0]!)
      const asUser = Object.create(conn) as SshConnection
      Object.defineProperty(asUser, 'opts', {value: {...conn.opts, user: 'deploy'}})
      await expect(asUser.sudo('id -u')).rejects.toMatchObject({code: 'SUDO', hints: expect.arrayContaining([expect.stringContaining('ssh.sudo: password')])})
    } finally {
      pool.close()
    }
  })
})

describe('connection errors', () => {
  test('refused connections are retried with backoff, a bounded number of times', async () => {
    // a port with nothing listening on it
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.1.50', () => {
        const p = (s.address() as net.AddressInfo).port
        s.close(() => resolve(p))
      })
    })
    const notices: string[] = []
    const t0 = Date.now()
    const err = await SshConnection.connect({
      host: '127.0.1.50',
      port,
      user: 'root',
      knownHostsFile: '/nonexistent/known_hosts',
      attempts: 3,
      backoffMs: 50,
      onNotice: (l) => notices.push(l),
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ObsctlError)
    expect((err as ObsctlError).code).toBe('SSH_CONNECT')
    expect((err as ObsctlError).message).toContain('after 3 attempts')
    expect(notices.filter((n) => n.includes('retrying'))).toHaveLength(2)
    expect(notices[1]).toContain('retrying in 100 ms')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150)
  })

  test("Ctrl-C (the run's abort signal) closes every pooled connection", async () => {
    const sb = await startSandbox(2, {firstIp: 55})
    try {
      const inv = inventoryFor(sb, [[0], [1]])
      const {SshPool} = await import('../../src/lib/ssh/pool.js')
      const ac = new AbortController()
      const pool = new SshPool({platform: inv.platform, inventoryDir: inv.dir, signal: ac.signal})
      const conns = await Promise.all(inv.platform.clusters.map((c) => pool.get(c.nodes[0]!)))
      expect(await pool.get(inv.platform.clusters[0]!.nodes[0]!)).toBe(conns[0]) // reused within the run
      const running = conns[0]!.exec('sleep 30')
      ac.abort()
      await expect(running).rejects.toMatchObject({exitCode: 130})
      await waitFor(() => conns.every((c) => c.isClosed), 60_000, 'every pooled connection to close')
      expect(conns.map((c) => c.isClosed)).toEqual([true, true])
      await expect(pool.get(inv.platform.clusters[0]!.nodes[0]!)).rejects.toMatchObject({exitCode: 130})
    } finally {
      await sb.stop()
    }
  })

  test('an aborted signal stops the retries (Ctrl-C)', async () => {
    const ac = new AbortController()
    ac.abort()
    const err = await SshConnection.connect({host: '127.0.1.51', port: 1, user: 'root', knownHostsFile: '/nonexistent', signal: ac.signal}).catch(
      (e: unknown) => e,
    )
    expect((err as ObsctlError).exitCode).toBe(130)
  })
})
