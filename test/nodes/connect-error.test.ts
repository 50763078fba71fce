/**
 * An SSH connection that cannot be made says why in words, with the code: "connection refused (ECONNREFUSED)",
 * not Node's "connect ECONNREFUSED 127.0.1.51:40000 - Local (0.0.0.0:0)" (that "Local" part showed in every
 * failed preflight of a fleet that could not be reached). A real refused port on loopback; no sshd needed.
 */
import net from 'node:net'
import {expect, test} from 'vitest'
import {netReason, ObsctlError} from '../../src/lib/errors.js'
import {SshConnection} from '../../src/lib/ssh/index.js'

test('a refused connection: the reason in words, its code, the hint; none of Node’s socket detail', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.1.51', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
  const notices: string[] = []
  const err = await SshConnection.connect({
    host: '127.0.1.51',
    port,
    user: 'root',
    knownHostsFile: '/nonexistent/known_hosts',
    attempts: 2,
    backoffMs: 10,
    onNotice: (l) => notices.push(l),
  }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(ObsctlError)
  const e = err as ObsctlError
  expect(e.message).toMatch(/^ssh root@\S+: cannot connect: connection refused \(ECONNREFUSED\) \(after 2 attempts\)$/)
  expect(e.message).not.toMatch(/Local|0\.0\.0\.0/)
  expect(e.hints[0]).toMatch(/is the node up and sshd listening/)
  expect(notices[0]).toMatch(/: connection refused \(ECONNREFUSED\); retrying in 10 ms/)
})

test('netReason: the codes in words; any other error as its message', () => {
  const err = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:22 - Local (0.0.0.0:0)`), {code})
  expect(netReason(err('ENETUNREACH'))).toBe('network unreachable (ENETUNREACH)')
  expect(netReason(err('EHOSTUNREACH'))).toBe('no route to the host (EHOSTUNREACH)')
  expect(netReason(err('ETIMEDOUT'))).toBe('timed out (ETIMEDOUT)')
  expect(netReason(new Error('something else'))).toBe('something else')
})
