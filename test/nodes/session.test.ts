/**
 * The node-side shell functions that judge whether the run that made a leftover file can still be using it
 * (src/lib/ssh/session.ts SESSION_FUNCTIONS), run here by the local /bin/sh over this machine's /proc — the same
 * POSIX sh and Linux /proc a node has. The sshd sandbox tests (test/lifecycle/transfer.test.ts) run them on a node.
 */
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {SESSION_FUNCTIONS} from '../../src/lib/ssh/session.js'
import {waitFor} from '../support/wait.js'

/** `start_of PID` in sh: its output, or undefined when it fails */
function startOf(pid: number): string | undefined {
  try {
    return execFileSync('sh', ['-c', `${SESSION_FUNCTIONS}\nstart_of "$1"`, 'sh', String(pid)], {encoding: 'utf8'}).trim()
  } catch {
    return undefined
  }
}

const procState = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.charAt(stat.lastIndexOf(')') + 2)
  } catch {
    return undefined
  }
}

describe.runIf(process.platform === 'linux')('start_of (a leftover file’s run: alive or gone)', () => {
  it('prints a live process’s start time (field 22 of /proc/PID/stat) and fails for a pid that is gone', () => {
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8')
    expect(startOf(process.pid)).toBe(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    expect(startOf(2 ** 22 + 1)).toBeUndefined()
  })

  it('judges a zombie gone: an sshd that exited but whose parent never reaped it ended its connection', async () => {
    // sh starts a background child, then becomes a `sleep` (exec: same pid) that never waits: once the child exits it
    // stays a zombie until the parent ends. The child waits for a byte on fd 3 that the test writes only after the exec:
    // a child that exited first could be reaped by sh before it exec'd (it was, once, on a loaded machine), and no
    // zombie would ever appear
    const parent = spawn('sh', ['-c', 'head -c 1 <&3 >/dev/null & echo $!; exec sleep 600'], {stdio: ['ignore', 'pipe', 'ignore', 'pipe']})
    try {
      const child = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))))
      const comm = () => {
        try {
          return readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim()
        } catch {
          return undefined
        }
      }
      await waitFor(() => comm() === 'sleep', 60_000, 'the parent shell to exec sleep')
      ;(parent.stdio[3] as NodeJS.WritableStream).write('x')
      await waitFor(() => procState(child) === 'Z', 60_000, 'the background child to exit and stay a zombie')
      // the case a bare read of /proc/PID/stat gets wrong: the zombie's stat is still there
      expect(readFileSync(`/proc/${child}/stat`, 'utf8')).toContain(' Z ')
      expect(startOf(child)).toBeUndefined()
    } finally {
      parent.kill('SIGKILL')
    }
  })
})
