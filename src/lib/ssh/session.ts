/**
 * The node's sshd process of an SSH connection: it ends with its connection (also when obsctl is killed or the network
 * dies), so a file named after it, or a marker naming it, tells a later run whether the run that made the file can
 * still be using it. `<pid>.<start>`: its pid and its start time in /proc/PID/stat, which together never name another
 * process. Files obsctl makes on a node under a name of their own carry it: transfer files in the login user's home
 * (`.obsctl-transfer-…`, ../lifecycle/etcd-node.ts) and an upload's temporary file beside its target
 * (`.obsctl-upload-…`, ./connection.ts upload); ../nodes/leftovers.ts judges and sweeps them.
 */
import {nodeCrypto} from '../hash.js'

/**
 * Shell functions (POSIX sh) over /proc: `start_of PID` prints the process's start time (field 22 of /proc/PID/stat,
 * after the name, which may hold spaces and parentheses), or fails when it is gone — a zombie (state Z or X: exited,
 * not yet reaped, as an sshd whose parent never waits) is gone; `session_of` prints
 * `<pid>.<start>` of this connection's sshd process (the first ancestor of the shell named sshd*: the login user's
 * own, also through sudo), or fails.
 */
export const SESSION_FUNCTIONS = `start_of() { _s=$(cat /proc/$1/stat 2>/dev/null) || return 1; _s=\${_s##*')'}; set -- $_s; case $1 in Z|X) return 1 ;; esac; echo "\${20}"; }
session_of() {
  _p=$$; _i=0
  while [ $_i -lt 8 ]; do
    case $(cat /proc/$_p/comm 2>/dev/null) in sshd*) echo "$_p.$(start_of $_p)"; return 0 ;; esac
    _s=$(cat /proc/$_p/stat 2>/dev/null) || return 1; _s=\${_s##*')'}; set -- $_s; _p=$2; _i=$((_i + 1))
    [ "$_p" -gt 1 ] 2>/dev/null || return 1
  done
  return 1
}`

/** A transfer file in the login user's home (../lifecycle/etcd-node.ts). */
export const TRANSFER_PREFIX = '.obsctl-transfer-'
/** An upload's temporary file, beside its target until it is renamed over it (./connection.ts upload). */
export const UPLOAD_PREFIX = '.obsctl-upload-'

/**
 * A name of its own for a file obsctl makes for a moment: `PREFIX<pid>.<start>-<16 hex>-<name>` with SESSION the
 * connection's sshd process, or `PREFIX<16 hex>-<name>` where it was not found (a node without /proc). The random
 * part keeps two runs at once on one node from sharing one.
 */
export const sessionFileName = (prefix: string, session: string | undefined, name: string): string =>
  `${prefix}${session ? `${session}-` : ''}${nodeCrypto().randomBytes(8).toString('hex')}-${name}`
