/**
 * `upgrade kubernetes` switches a node's Kubernetes package repository with a root script (src/lib/lifecycle/
 * upgrade-packages.ts switchRepository) that names ssh.aptMirror. A mirror URL may hold `$(…)`, backticks or `${…}`
 * (a URL allows them; the schema's httpUrlError takes it), so every place the script names it is one shell word in
 * single quotes: run here on a real sshd node (the sandbox, ../support/sshd.ts), as root through the node lock, the
 * text stays text and nothing of it runs.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseInventory} from '../../src/lib/config/load.js'
import {switchRepository} from '../../src/lib/lifecycle/upgrade-packages.js'
import type {SshConnection} from '../../src/lib/ssh/index.js'
import {connectNode, sandboxInventory, startSandbox, type Sandbox} from '../support/sshd.js'

/** a mirror URL that, unquoted in a shell, creates a file on the node as root */
const MIRROR = 'https://mirror.sandbox.test/$(touch${IFS}/var/lib/obsctl-injected)`touch${IFS}/var/lib/obsctl-backtick`'

describe('switchRepository: ssh.aptMirror reaches the root script as text', () => {
  let sb: Sandbox
  let conn: SshConnection
  beforeAll(async () => {
    sb = await startSandbox(1, {firstIp: 131})
    conn = await connectNode(sb)
  })
  afterAll(async () => {
    conn?.close()
    await sb?.stop()
  })

  it.each(['apt', 'dnf'] as const)('%s: the repository is the literal URL, and nothing in it ran', async (pm) => {
    const text = sandboxInventory(sb, [[0]]).replace('ssh:\n', `ssh:\n  aptMirror: '${MIRROR}'\n`)
    const p = parseInventory(text, '/virtual/obsctl.yaml').platform
    expect(p.ssh.aptMirror).toBe(MIRROR)
    // a node of the RHEL family has the folder (this one is Debian's: the dnf script is what is tested)
    if (pm === 'dnf') await conn.exec('mkdir -p /etc/yum.repos.d')
    const lines: string[] = []
    await switchRepository(conn, p, pm, '1.35', {log: (l) => lines.push(l), logFile: '/dev/null', signal: new AbortController().signal})
    const node = sb.nodes[0]!
    expect(node.list('/var/lib').filter((f) => f.startsWith('obsctl-injected') || f.startsWith('obsctl-backtick'))).toEqual([])
    const base = `${MIRROR}/core:/stable:/v1.35`
    expect(lines.join('\n')).toContain(`repository: ${base}`)
    if (pm === 'apt') expect(node.file('/etc/apt/sources.list.d/kubernetes.list')).toContain(`${base}/deb/ /`)
    else expect(node.file('/etc/yum.repos.d/kubernetes.repo')).toContain(`baseurl=${base}/rpm/`)
  })
})
