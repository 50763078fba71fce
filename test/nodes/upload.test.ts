/**
 * SshConnection.upload against a real OpenSSH server (sftp-server): the file is renamed into place, so a bash that is
 * running the old script (a killed run's install-k8s.sh going on on the node) reads its own bytes to the end.
 */
import {existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {SshConnection} from '../../src/lib/ssh/index.js'
import {releaseHold} from '../support/kill-held.js'
import {connectNode, startSandbox, type Sandbox} from '../support/sshd.js'
import {waitFor} from '../support/wait.js'

describe('upload: renamed into place', () => {
  let sb: Sandbox
  let conn: SshConnection
  beforeAll(async () => {
    sb = await startSandbox(1, {firstIp: 97})
    conn = await connectNode(sb)
  })
  afterAll(async () => {
    conn?.close()
    await sb?.stop()
  })

  /** a script whose middle step (the shim's `hostname`) can be held; the same length for every tag */
  const script = (tag: string) => `echo ${tag}-start\nhostname\necho ${tag}-end\n`

  test('a bash running the uploaded script while it is uploaded again runs its own script to the end', async () => {
    const node = sb.nodes[0]!
    const st = path.join(node.dir, 'state')
    await conn.mkdir('/root/.obsctl', 0o700)
    await conn.upload('/root/.obsctl/install-k8s.sh', script('old'), 0o700)
    writeFileSync(path.join(st, 'block-on'), 'hostname')
    try {
      // started as a run does, left running on the node as a killed run's script is (its output to a file here)
      const started = await conn.exec('setsid bash /root/.obsctl/install-k8s.sh >/root/.obsctl/out 2>&1 </dev/null &')
      expect(started.code).toBe(0)
      await waitFor(() => existsSync(path.join(st, 'blocked')), 60_000, 'the old script to reach its held step')

      // the rerun's upload: the same path, new bytes, while the old bash is in the middle of its script
      await conn.upload('/root/.obsctl/install-k8s.sh', script('new'), 0o700)
      expect(node.file('/root/.obsctl/install-k8s.sh')).toBe(script('new'))
      writeFileSync(path.join(st, 'unblock'), '')

      const out = () => node.file('/root/.obsctl/out') ?? ''
      await waitFor(() => /-end\n/.test(out()), 60_000, 'the old script to end')
      // its own last line, not the new script's bytes read at its old offset
      expect(out()).toBe(`old-start\n${node.hostname}\nold-end\n`)
      // the new file has the mode asked for, and no temporary file is left beside it
      expect((await conn.exec('stat -c %a /root/.obsctl/install-k8s.sh')).stdout.trim()).toBe('700')
      expect(node.list('/root/.obsctl').sort()).toEqual(['install-k8s.sh', 'out'])
    } finally {
      writeFileSync(path.join(st, 'unblock'), '')
      releaseHold(node)
    }
  })

  test('an upload that cannot be renamed into place fails, leaving the old path as it was and no temporary file', async () => {
    await conn.mkdir('/root/.obsctl/busy', 0o700)
    await conn.mkdir('/root/.obsctl/busy/a-folder', 0o700)
    const err = await conn.upload('/root/.obsctl/busy/a-folder', 'x').catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'SSH_UPLOAD', message: expect.stringContaining('upload of /root/.obsctl/busy/a-folder failed')})
    expect(sb.nodes[0]!.list('/root/.obsctl/busy')).toEqual(['a-folder'])
  })
})
