/**
 * A killed run whose command goes on on a sandbox node (sshd does not end it), and the rerun that must wait for it:
 * the node lock's tests (node install, upgrade, certs renew) share this sequence.
 */
import {spawn} from 'node:child_process'
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {BIN} from '../cli/helpers.js'
import type {SandboxNode} from './sshd.js'
import {taskLogsSay} from './task-logs.js'
import {waitFor} from './wait.js'

/**
 * A CLI run killed (SIGKILL) while a command it started on a node is held there (the shim's state/block-on: the
 * command waits until state/unblock exists), the command left going on, as sshd leaves it; then `rerun()` is started.
 * Resolves, with the rerun's promise, once the rerun's step on that node waits for the node's obsctl lock (a task
 * log beside the inventory says `waiting`) or has run something on the node anyway (`changes()` moved: the caller's
 * assertion then fails); the held command is then let go on. `changes()` is read after the kill and again then.
 */
export async function killWhileHeld<T>(o: {
  node: SandboxNode
  hold: string
  args: string[]
  env?: Record<string, string>
  invDir: string
  /** what the rerun's task log says while it waits (node_lock's `another WHAT is running on this node`) */
  waiting: string
  changes: () => unknown
  rerun: () => Promise<T>
  /** how the held command ends once let go: goes on (default), or fails as one whose session went away */
  release?: 'fail'
}): Promise<{rerun: Promise<T>; atKill: unknown; whileWaiting: unknown}> {
  const st = path.join(o.node.dir, 'state')
  writeFileSync(path.join(st, 'block-on'), o.hold)
  const child = spawn(process.execPath, [BIN, ...o.args], {env: {...process.env, CI: '1', NO_COLOR: '1', ...o.env}, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const closed = new Promise((resolve) => child.on('close', resolve))
  try {
    await waitFor(() => existsSync(path.join(st, 'blocked')) || child.exitCode !== null, 400_000, `${o.hold} on ${o.node.hostname}`)
    if (child.exitCode !== null) throw new Error(`the run ended before ${o.hold} on ${o.node.hostname}: ${output}`)
    child.kill('SIGKILL')
    await closed
    const atKill = o.changes()
    const same = JSON.stringify(atKill)
    const rerun = o.rerun()
    await waitFor(
      () => taskLogsSay(o.invDir, o.waiting) || JSON.stringify(o.changes()) !== same,
      120_000,
      `the rerun's step on ${o.node.hostname} to wait for the killed run's`,
    )
    return {rerun, atKill, whileWaiting: o.changes()}
  } finally {
    child.kill('SIGKILL')
    // the killed run's command ends; the rerun's steps go on after it
    writeFileSync(path.join(st, 'unblock'), o.release ?? '')
  }
}

/** After killWhileHeld's rerun: the node's block-on and unblock removed. */
export function releaseHold(node: SandboxNode): void {
  for (const f of ['block-on', 'unblock']) rmSync(path.join(node.dir, 'state', f), {force: true})
}
