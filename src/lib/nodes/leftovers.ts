/**
 * What obsctl runs leave on a node when they are stopped before they could remove it (killed, the machine or the
 * connection lost), how a later run tells it from what a run still going uses, and the one sweep that removes it or,
 * for `node preflight`, lists it. Each thing names the run that made it by the node's sshd process of that run's
 * connection (../ssh/session.ts: that process ends with its connection), in its name or in a marker beside it:
 *
 *   /var/lib/obsctl/backup/<id>/                  backup create's snapshot folder (the etcd snapshot in plaintext), marker `.obsctl-run` in it
 *   /var/lib/obsctl/restore/<id>-<cluster>.db     a restore's snapshot copy, marker `<copy>.run` beside it; never while the node's
 *                                                 restore record names its backup (that restore may be resumed)
 *   /var/lib/obsctl/restore/.obsctl-upload-…      a restore's copy on its way (as root: SFTP upload's temporary file)
 *   ~/.obsctl-transfer-…                          a transfer file (a snapshot on its way, login user not root)
 *   ~/.obsctl/.obsctl-upload-…                    node install's uploads on their way (install-k8s.sh, a join configuration)
 *
 * The folders are these and no others; only regular files and folders (never a symlink) of exactly these name forms
 * are looked at, in the home only the login user's own (and removed as that user). A thing
 * without its run's process (an earlier obsctl's, a node without /proc; and an earlier obsctl's `.<name>.<hex>.part`
 * upload files) once it is a day old.
 */
import type {SshConnection} from '../ssh/connection.js'
import {shQuote} from '../shell-quote.js'
import {SESSION_FUNCTIONS, TRANSFER_PREFIX, UPLOAD_PREFIX} from '../ssh/session.js'
import {rootStep} from './lock.js'

/** backup create's snapshot folders: WORK_DIR/<id> (../lifecycle/etcd-node.ts claimSnapshotDir). */
export const WORK_DIR = '/var/lib/obsctl/backup'
/** Where a restore places its snapshot copy and its record (../lifecycle/restore.ts). */
export const RESTORE_DIR = '/var/lib/obsctl/restore'
/** The restore record, a restore in progress: its fields in ../lifecycle/restore.ts. */
export const RESTORE_RECORD = `${RESTORE_DIR}/in-progress`
/** node install's folder in the login user's home (install-k8s.sh, join configurations). */
export const HOME_UPLOAD_DIR = '.obsctl'

/**
 * The file in a snapshot folder (and beside a restore's snapshot copy, `<copy>.run`) that says whose it is:
 * `session=<pid>.<start>` the node's sshd process of the SSH connection of the run that made it, `run=` that run's
 * id, `since=` when.
 */
export const RUN_MARKER = '.obsctl-run'
/** What has no session in its name or marker (an earlier obsctl's, or no /proc) is left over once this old: no run lasts a day. */
export const STALE_LEFTOVER_SECONDS = 24 * 3600

const hex = (n: number) => '[0-9a-f]'.repeat(n)
/** A backup id as a shell pattern (checkBackupId's two forms): only folders and copies of such names are looked at. */
const ID_GLOB = `${'[0-9]'.repeat(8)}T${'[0-9]'.repeat(6)}Z`

/**
 * Shell functions (POSIX sh): SESSION_FUNCTIONS; `run_marker RUN` prints a marker's lines; `leftover MARKER PATH`
 * succeeds when PATH is no run's any more (its marker's session process is gone, or, without a session in it, PATH is
 * older than STALE_LEFTOVER_SECONDS); `named_leftover FILE PREFIX UID` the same for a regular file of owner UID named
 * `PREFIX<pid>.<start>-<16 hex>-<name>` (or `PREFIX<16 hex>-<name>`, by its age); `old_part FILE UID` an earlier
 * obsctl's upload file `.<name>.<12 hex>.part` a day old; `sweep_root` and `sweep_home HOME UID` the sweep (the header
 * above), each thing it finds printed as `$_verb RUN SINCE PATH` and removed unless `_verb` is `found`.
 */
export const LEFTOVER_FUNCTIONS = `${SESSION_FUNCTIONS}
run_marker() { printf 'session=%s\\nrun=%s\\nsince=%s\\n' "$(session_of)" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; }
stale_age() {
  _m=$(stat -c %Y -- "$1" 2>/dev/null) || return 1
  [ $(($(date +%s) - _m)) -gt ${STALE_LEFTOVER_SECONDS} ]
}
leftover() {
  _ses=$(sed -n 's/^session=//p' "$1" 2>/dev/null)
  _pid=\${_ses%%.*}; _st=\${_ses#*.}
  case $_ses in *.*) ;; *) _pid= ;; esac
  case $_pid in '' | *[!0-9]*) _pid= ;; esac
  case $_st in '' | *[!0-9]*) _pid= ;; esac
  if [ -n "$_pid" ]; then [ "$(start_of $_pid)" != "$_st" ]; return; fi
  stale_age "$2"
}
own_file() { [ -f "$1" ] && [ ! -h "$1" ] && [ "$(stat -c %u -- "$1" 2>/dev/null)" = "$2" ]; }
named_leftover() {
  own_file "$1" "$3" || return 1
  _r=\${1##*/}; _r=\${_r#"$2"}
  case $_r in
    *'
'*) return 1 ;;
    ${hex(16)}-?*) stale_age "$1"; return ;;
  esac
  _pid=\${_r%%.*}; _x=\${_r#*.}; _st=\${_x%%-*}; _x=\${_x#*-}
  case $_pid in '' | *[!0-9]*) return 1 ;; esac
  case $_st in '' | *[!0-9]*) return 1 ;; esac
  case $_x in ${hex(16)}-?*) ;; *) return 1 ;; esac
  [ "$(start_of $_pid)" != "$_st" ]
}
old_part() {
  own_file "$1" "$2" || return 1
  case \${1##*/} in
    *'
'*) return 1 ;;
    .?*.${hex(12)}.part) stale_age "$1" ;;
    *) return 1 ;;
  esac
}
field() { sed -n "s/^$1=//p" "$2" 2>/dev/null | grep . || echo -; }
mtime() { date -u -d "@$(stat -c %Y -- "$1")" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo -; }
drop() { [ "$_verb" = found ] || rm -rf -- "$@"; }
say_drop() { _l="$_verb $1"; shift; drop "$@" && echo "$_l"; }
named_files() {
  for f in "$1/$2"*; do
    named_leftover "$f" "$2" "$3" || continue
    say_drop "- $(mtime "$f") $f" "$f"
  done
  for f in "$1"/.*.part; do
    old_part "$f" "$3" || continue
    say_drop "- $(mtime "$f") $f" "$f"
  done
}
sweep_root() {
  for d in ${WORK_DIR}/*; do
    [ -d "$d" ] && [ ! -h "$d" ] || continue
    case \${d##*/} in ${ID_GLOB}|${ID_GLOB}-${hex(6)}) ;; *) continue ;; esac
    leftover "$d/${RUN_MARKER}" "$d" || continue
    say_drop "$(field run "$d/${RUN_MARKER}") $(field since "$d/${RUN_MARKER}") $d" "$d"
  done
  _rid=; _rec=no
  if [ -f ${RESTORE_RECORD} ]; then _rec=yes; _rid=$(sed -n 's/^id=//p' ${RESTORE_RECORD}); fi
  for f in ${RESTORE_DIR}/*.db; do
    [ -f "$f" ] && [ ! -h "$f" ] || continue
    case \${f##*/} in ${ID_GLOB}*-*.db) ;; *) continue ;; esac
    if [ $_rec = yes ]; then
      [ -n "$_rid" ] || continue
      case \${f##*/} in "$_rid"-*) continue ;; esac
    fi
    leftover "$f.run" "$f" || continue
    say_drop "$(field run "$f.run") $(field since "$f.run") $f" "$f" "$f.run"
  done
  if [ "$_verb" != found ]; then
    for m in ${RESTORE_DIR}/*.db.run; do
      [ -f "$m" ] && [ ! -h "$m" ] && [ ! -e "\${m%.run}" ] || continue
      leftover "$m" "$m" && rm -f -- "$m"
    done
  fi
  [ -d ${RESTORE_DIR} ] && [ ! -h ${RESTORE_DIR} ] && named_files ${RESTORE_DIR} ${UPLOAD_PREFIX} 0
  true
}
sweep_home() {
  [ -n "$1" ] && [ -d "$1" ] && [ ! -h "$1" ] || return 0
  for f in "$1/${TRANSFER_PREFIX}"*; do
    named_leftover "$f" ${TRANSFER_PREFIX} "$2" || continue
    say_drop "- $(mtime "$f") $f" "$f"
  done
  [ -d "$1/${HOME_UPLOAD_DIR}" ] && [ ! -h "$1/${HOME_UPLOAD_DIR}" ] && named_files "$1/${HOME_UPLOAD_DIR}" ${UPLOAD_PREFIX} "$2"
  true
}`

/** A path on a node that a run no longer running left, and which run that was (from its marker) or since when. */
export interface Leftover {
  path: string
  run?: string
  since?: string
}

/** The `VERB RUN SINCE PATH` lines of a sweep. */
export const leftoversOf = (out: string, verb: 'removed' | 'found' = 'removed'): Leftover[] =>
  [...out.matchAll(new RegExp(`^${verb} (\\S+) (\\S+) (.+)$`, 'gm'))].map(([, run, since, p]) => ({
    path: p!,
    ...(run !== '-' && {run}),
    ...(since !== '-' && {since}),
  }))

/** `removed 2 things runs that are no longer running left on NODE: PATH (run R, since T), …` */
export function leftoversLine(removed: Leftover[], label: string): string {
  const what = removed.map((l) => `${l.path}${l.run ? ` (run ${l.run}${l.since ? `, since ${l.since}` : ''})` : l.since ? ` (since ${l.since})` : ''}`)
  return `removed ${removed.length === 1 ? 'what a run' : `${removed.length} things runs`} no longer running left on ${label}: ${what.join(', ')}`
}

/** The root part of the sweep, for a root step of its own (claimSnapshotDir runs it before its claim, in one step). */
export const SWEEP_ROOT = `${LEFTOVER_FUNCTIONS}\n_verb=removed\nsweep_root`

/** The login user's part, run as that user: its own files in its home (resolved: the path SFTP gives). */
const SWEEP_HOME = `${LEFTOVER_FUNCTIONS}\n_verb=removed\nsweep_home "$(cd && pwd -P)" "$(id -u)"`

/**
 * Remove what runs no longer running left in the login user's home (transfer files, node install's upload files), as
 * that user: its own files only. Without the node's lock (as transfers always swept): an upload file is written over
 * SFTP by the connection it is named after, which is gone; a transfer file is filled by a root step of its run, which
 * a killed run's may still be doing, into the file it opened (removed, its bytes go with it).
 */
export async function sweepHome(conn: SshConnection, signal?: AbortSignal): Promise<Leftover[]> {
  const r = await conn.exec(`sh -c ${shQuote(SWEEP_HOME)}`, {signal})
  return leftoversOf(r.stdout)
}

/**
 * The whole sweep: the root part in a root step (holding the node's lock: a killed run's step still working there,
 * e.g. its `etcdctl snapshot save`, is waited for), then the login user's home. Returns what it removed.
 */
export async function sweepLeftovers(conn: SshConnection, signal?: AbortSignal): Promise<Leftover[]> {
  const root = leftoversOf(await rootStep(conn, SWEEP_ROOT, 'removing what interrupted runs left', {signal}))
  return [...root, ...(await sweepHome(conn, signal))]
}

/**
 * A root shell script that lists (never removes) what the sweep would remove, for the login user USER (its home and
 * uid from the passwd database): `found RUN SINCE PATH` lines. Read-only, so it takes no node lock.
 */
export const listLeftoversScript = (user: string): string =>
  `${LEFTOVER_FUNCTIONS}
_verb=found
sweep_root
_h=$(getent passwd ${shQuote(user)} | cut -d: -f6)
[ -z "$_h" ] || _h=$(cd "$_h" 2>/dev/null && pwd -P) || _h=
sweep_home "$_h" "$(id -u ${shQuote(user)} 2>/dev/null)"`
