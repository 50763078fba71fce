/**
 * rootStep (src/lib/nodes/lock.ts), the one way obsctl runs a root step on a node: the command reaches sudo inside
 * the node lock's shell, and a failure names the step, the node, the exit and the step's own last line, never
 * node_lock's waiting lines. (The lock itself is tested on real sshd nodes: test/support/kill-held.ts's users.)
 */
import {describe, expect, it} from 'vitest'
import {NODE_LOCK_FUNCTIONS, rootStep} from '../../src/lib/nodes/lock.js'
import {rejection} from '../support/errors.js'

const shell = (r: {code: number | null; signal?: string; stdout?: string; stderr?: string}) => {
  const sent: string[] = []
  return {
    sent,
    conn: {
      label: 'node-1 (127.0.1.9)',
      sudo: (command: string) => {
        sent.push(command)
        return Promise.resolve({stdout: '', stderr: '', ...r})
      },
    },
  }
}

describe('rootStep', () => {
  it('runs the command after taking the node lock and returns its stdout', async () => {
    const s = shell({code: 0, stdout: 'done\n'})
    expect(await rootStep(s.conn, 'kubeadm reset -f', 'kubeadm reset -f')).toBe('done\n')
    expect(s.sent).toEqual([`${NODE_LOCK_FUNCTIONS}\nnode_lock 'obsctl step' step\nkubeadm reset -f`])
  })

  it("a failure names the step, node and exit, with the step's last line, not the lock's", async () => {
    const waited = "obsctl: another obsctl step is running on this node (a killed run's?): waiting for it to end\nobsctl: the other step ended: going on\n"
    const e = await rejection(
      rootStep(shell({code: 1, stderr: `${waited}[reset] error: unmount failed\n`}).conn, 'kubeadm reset -f', 'kubeadm reset -f', {
        code: 'RESET_FAILED',
        hints: ['h'],
      }),
    )
    expect(e.message).toBe('kubeadm reset -f failed on node-1 (127.0.1.9) (exit 1): [reset] error: unmount failed')
    expect(e).toMatchObject({code: 'RESET_FAILED', hints: ['h']})
    // nothing of its own on stderr: its stdout's last line; nothing at all: the exit alone
    expect((await rejection(rootStep(shell({code: 2, stderr: waited, stdout: 'a\nb\n'}).conn, 'x', 'step'))).message).toBe(
      'step failed on node-1 (127.0.1.9) (exit 2): b',
    )
    const bare = await rejection(rootStep(shell({code: null, signal: 'TERM'}).conn, 'x', 'step'))
    expect(bare).toMatchObject({message: 'step failed on node-1 (127.0.1.9) (exit TERM)', code: 'NODE_COMMAND'})
  })
})
