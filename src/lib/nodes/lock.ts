/**
 * One obsctl step at a time on a node. sshd does not end a session's commands when its client goes away, so the
 * command of a killed run may still be working on the node when the rerun starts: the rerun's steps wait for it
 * instead of racing it (two `kubeadm upgrade` at once). The lock is the one install-k8s.sh holds for its whole
 * run (templates/scripts/install-k8s.sh, same file), so an install and an upgrade step do not overlap either.
 */
import {shQuote} from '../ssh/quote.js'

/** The node's obsctl lock file (flock, util-linux). */
export const NODE_LOCK_FILE = '/var/lib/obsctl/install.lock'

/** How long a step waits for another one, in seconds (install-k8s.sh waits as long). */
export const NODE_LOCK_WAIT_SECONDS = 1800

/**
 * `command` (run as root by sh) holding the node's lock, waiting up to NODE_LOCK_WAIT_SECONDS for another obsctl
 * step to let go of it. The waiting is said on stderr (the task log), so the command's stdout stays its own. A node
 * without flock is told so and goes on.
 */
export function underNodeLock(command: string): string {
  const file = shQuote(NODE_LOCK_FILE)
  return `if command -v flock >/dev/null 2>&1; then
  install -d -m 0700 ${shQuote(NODE_LOCK_FILE.slice(0, NODE_LOCK_FILE.lastIndexOf('/')))} && exec 9>${file} || exit 1
  if ! flock -n 9; then
    echo 'obsctl: another obsctl step is running on this node (a killed run'"'"'s?): waiting for it to end' >&2
    flock -w ${NODE_LOCK_WAIT_SECONDS} 9 || { echo ${shQuote(`obsctl: another obsctl step still runs on this node after ${NODE_LOCK_WAIT_SECONDS / 60} minutes: ${NODE_LOCK_FILE}`)} >&2; exit 1; }
    echo 'obsctl: the other step ended: going on' >&2
  fi
else
  echo 'obsctl: flock (util-linux) not found: another obsctl step on this node is not waited for' >&2
fi
${command}`
}
