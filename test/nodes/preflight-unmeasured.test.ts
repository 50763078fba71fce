/**
 * `node preflight` on a node where the facts commands fail (broken tools put first on the node's PATH
 * in /usr/local/bin, and the sandbox's failure injection): every check that could not measure is a
 * failure saying why — never a pass with NaN.
 */
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {runNodePreflight} from '../../src/lib/nodes/run.js'
import {startSandbox, type Sandbox} from '../support/sshd.js'
import {inventoryFor} from './helpers.js'

const BROKEN = '#!/bin/sh\necho "$(basename "$0"): broken on purpose" >&2\nexit 3\n'

describe('preflight when the node cannot be measured', () => {
  let sb: Sandbox
  const dirs: string[] = []
  beforeAll(async () => {
    sb = await startSandbox(1, {firstIp: 141})
  })
  afterAll(async () => {
    await sb?.stop()
    for (const d of dirs) rmSync(d, {recursive: true, force: true})
  })

  test('a healthy sandbox node measures everything (the baseline the next test breaks)', async () => {
    const inv = inventoryFor(sb, [[0]])
    dirs.push(inv.dir)
    const r = await runNodePreflight(inv)
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]))
    for (const id of ['cpu', 'memory', 'disk', 'swap', 'port-6443', 'port-10250', 'clock', 'hostname']) {
      expect(byId[id]?.detail, id).not.toMatch(/could not measure|NaN/)
    }
  })

  test('cpu, memory, disk, swap, ports, clock, hostname and capacity fail with the reason, none passes with NaN', async () => {
    const node = sb.nodes[0]!
    for (const tool of ['awk', 'df', 'getconf', 'date']) node.writeFile(`/usr/local/bin/${tool}`, BROKEN, 0o755)
    node.setFailOn('ss') // the sandbox's ss shim exits 1
    const hostnameFile = `${node.dir}/state/hostname`
    rmSync(hostnameFile, {force: true}) // the hostname shim then exits 1 with no output
    try {
      const inv = inventoryFor(sb, [[0]])
      dirs.push(inv.dir)
      const r = await runNodePreflight(inv)
      expect(r.ok).toBe(false)
      const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]))
      expect(byId.ssh!.status).toBe('pass')
      for (const id of ['memory', 'disk', 'swap', 'port-6443', 'port-10250', 'clock', 'hostname', 'capacity']) {
        expect(byId[id]?.status, `${id}: ${byId[id]?.detail}`).toBe('fail')
        expect(byId[id]!.detail, id).toMatch(/^could not measure: /)
        expect(byId[id]!.detail, id).not.toContain('NaN')
      }
      expect(byId.memory!.detail).toContain('/proc/meminfo exited 3')
      expect(byId.disk!.detail).toContain('df -Pk /var/lib exited')
      expect(byId['port-6443']!.detail).toContain('ss -Hltn exited 3')
      expect(byId.clock!.detail).toContain('date +%s%3N exited')
      expect(byId.hostname!.detail).toMatch(/hostname (exited|printed nothing)/)
      expect(r.checks.every((c) => !/NaN/.test(c.detail))).toBe(true)
    } finally {
      node.setFailOn(undefined)
    }
  })
})
