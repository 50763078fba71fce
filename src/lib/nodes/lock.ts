/**
 * One obsctl step at a time on a node. sshd does not end a session's commands when its client goes away, so the
 * command of a killed run may still be working on the node when the rerun starts: the rerun's steps wait for it
 * instead of racing it (two `kubeadm init`, two `kubeadm upgrade` at once). One definition, `node_lock`, for
 * install-k8s.sh (its `{{NODE_LOCK_FUNCTIONS}}`, held for the whole script) and for each root step of upgrades,
 * certificate renewals, backups, restores and resets (rootStep): the same file, so none of them overlaps another.
 */
import {ObsctlError} from '../errors.js'
import {shQuote} from '../shell-quote.js'

/** The node's obsctl lock file (flock, util-linux). */
export const NODE_LOCK_FILE = '/var/lib/obsctl/install.lock'

/** How long a step waits for another one, in seconds. */
export const NODE_LOCK_WAIT_SECONDS = 1800

/**
 * Shell function (POSIX sh) `node_lock WHAT OTHER`: hold the node's lock on fd 9 for the rest of the calling shell,
 * waiting up to NODE_LOCK_WAIT_SECONDS for another holder (`another WHAT is running on this node …`, then `the other
 * OTHER ended: going on`). Said on stderr, so a step's stdout stays its own; a node without flock is told so and
 * goes on.
 */
export const NODE_LOCK_FUNCTIONS = `node_lock() {
  if ! command -v flock >/dev/null 2>&1; then
    printf 'obsctl: flock (util-linux) not found: another %s on this node is not waited for\\n' "$1" >&2
    return 0
  fi
  install -d -m 0700 ${shQuote(NODE_LOCK_FILE.slice(0, NODE_LOCK_FILE.lastIndexOf('/')))} || exit 1
  exec 9>${shQuote(NODE_LOCK_FILE)}
  if ! flock -n 9; then
    printf "obsctl: another %s is running on this node (a killed run's?): waiting for it to end\\n" "$1" >&2
    if ! flock -w ${NODE_LOCK_WAIT_SECONDS} 9; then
      printf 'obsctl: error: another %s still runs on this node after ${NODE_LOCK_WAIT_SECONDS / 60} minutes: %s\\n' "$1" ${shQuote(NODE_LOCK_FILE)} >&2
      exit 1
    fi
    printf 'obsctl: the other %s ended: going on\\n' "$2" >&2
  fi
}`

/** `command` (run as root by sh) holding the node's lock: a killed run's step still working there is waited for. */
function underNodeLock(command: string): string {
  return `${NODE_LOCK_FUNCTIONS}
node_lock 'obsctl step' step
${command}`
}

/** What a root step needs of a node's connection (SshConnection has it). */
export interface RootShell {
  label: string
  sudo(
    command: string,
    o?: {log?: (line: string) => void; signal?: AbortSignal},
  ): Promise<{code: number | null; signal?: string; stdout: string; stderr: string}>
}

/** node_lock's own lines on stderr: never the reason a step failed */
const LOCK_LINE = /^obsctl: (another |the other |flock \(util-linux\) not found)/

/**
 * One obsctl step run as root on a node (sh through sudo), holding the node's lock: a killed run's step still
 * working there is waited for, not raced. A non-zero exit is an error naming the step, the node, the exit and the
 * last line the step printed (stderr first), with `code` (default NODE_COMMAND) and `hints`. Returns its stdout.
 */
export async function rootStep(
  conn: RootShell,
  command: string,
  what: string,
  o: {log?: (line: string) => void; signal?: AbortSignal; code?: string; hints?: string[]} = {},
): Promise<string> {
  const r = await conn.sudo(underNodeLock(command), {log: o.log, signal: o.signal})
  if (r.code !== 0) {
    const last = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !LOCK_LINE.test(l))
        .pop()
    const why = last(r.stderr) ?? last(r.stdout)
    throw new ObsctlError(`${what} failed on ${conn.label} (exit ${r.code ?? r.signal})${why ? `: ${why}` : ''}`, {
      code: o.code ?? 'NODE_COMMAND',
      hints: o.hints ?? [],
    })
  }
  return r.stdout
}
