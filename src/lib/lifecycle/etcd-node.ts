/**
 * The node side of etcd backups and restores, over SSH as root: the tools (etcdctl, etcdutl: etcd's
 * release binaries of the cluster's etcd version), a snapshot taken and verified on the node, root-owned
 * files copied to and from this machine (through the login user's home when it is not root), the etcd
 * member as kubeadm's manifest declares it, and waiting for etcd to be healthy.
 */
import {randomBytes} from 'node:crypto'
import path from 'node:path'
import type {ClusterNode} from '../config/schema.js'
import type {RunContext} from '../engine/types.js'
import {ObsctlError} from '../errors.js'
import type {SshConnection} from '../ssh/connection.js'
import {shQuote} from '../ssh/quote.js'
import type {EtcdSnapshotMeta} from './backup-store.js'
import {rootStep} from '../nodes/lock.js'

/** kubeadm's etcd client credentials on a control-plane node (the health check's client certificate) */
export const ETCD_TLS =
  '--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key'
export const WORK_DIR = '/var/lib/obsctl/backup'
/** Where a restore places its snapshot copy and its record (./restore.ts). */
export const RESTORE_DIR = '/var/lib/obsctl/restore'
const ETCD_TOOLS_HINT = 'install etcdctl and etcdutl (etcd release binaries of the cluster’s etcd version) in /usr/local/bin on the control-plane node'

export async function connOf(ctx: RunContext, node: ClusterNode): Promise<SshConnection> {
  const {sshPool} = await import('../ssh/pool.js')
  return (await sshPool(ctx)).get(node)
}

export async function requireTools(conn: SshConnection, tools: string[], signal?: AbortSignal): Promise<void> {
  const r = await conn.sudo(tools.map((t) => `command -v ${t} >/dev/null || echo "missing ${t}"`).join('; '), {signal})
  const missing = [...r.stdout.matchAll(/missing (\S+)/g)].map((m) => m[1]!)
  if (missing.length > 0) throw new ObsctlError(`${missing.join(' and ')} not found on ${conn.label}`, {code: 'ETCD_TOOLS', hints: [ETCD_TOOLS_HINT]})
}

/**
 * Transfer files in the login user's home: `.obsctl-transfer-<pid>.<start>-<random>-<name>`, where `<pid>.<start>` is
 * the node's sshd process of the SSH connection that made the file (its pid and its start time in /proc/PID/stat,
 * which together never name another process), or `.obsctl-transfer-<random>-<name>` where that process was not found
 * (and in earlier obsctl). The random part keeps two transfers at once on one node (a backup and a restore of one
 * id, two backups) from sharing one; the connection's process tells a later transfer whether the one that made the
 * file can still be using it: that process ends with its connection, also when obsctl was killed or the network died
 * before the file was removed.
 */
const TRANSFER_PREFIX = '.obsctl-transfer-'
const SESSION_TRANSFER = /^\.obsctl-transfer-(\d+)\.(\d+)-[0-9a-f]{16}-[^/\n]+$/
const PLAIN_TRANSFER = /^\.obsctl-transfer-[0-9a-f]{16}-[^/\n]+$/
/** A transfer file without its connection's process in its name is removed once this old: no transfer lasts a day. */
export const STALE_TRANSFER_SECONDS = 24 * 3600

/**
 * Shell functions (POSIX sh) over /proc: `start_of PID` prints the process's start time (field 22 of
 * /proc/PID/stat, after the name, which may hold spaces and parentheses), or fails when it is gone; `session_of` prints
 * `<pid>.<start>` of this connection's sshd process (the first ancestor of the shell named sshd*: the login user's
 * own, also through sudo), or fails. Transfer files and run markers name that process: it ends with its connection.
 */
const SESSION_FUNCTIONS = `start_of() { _s=$(cat /proc/$1/stat 2>/dev/null) || return 1; _s=\${_s##*')'}; set -- $_s; echo "\${20}"; }
session_of() {
  _p=$$; _i=0
  while [ $_i -lt 8 ]; do
    case $(cat /proc/$_p/comm 2>/dev/null) in sshd*) echo "$_p.$(start_of $_p)"; return 0 ;; esac
    _s=$(cat /proc/$_p/stat 2>/dev/null) || return 1; _s=\${_s##*')'}; set -- $_s; _p=$2; _i=$((_i + 1))
    [ "$_p" -gt 1 ] 2>/dev/null || return 1
  done
  return 1
}`

/**
 * Run as the login user (files in its home are its own): prints `session=<pid>.<start>` of the sshd process of this
 * connection (session_of), `now=` (the node's clock) and, for each regular file (not a symlink) of this user named
 * .obsctl-transfer-* in HOME, `file <mtime> <start of the process its name gives, or -> <name>`.
 */
const transferScan = (home: string) => `${SESSION_FUNCTIONS}
me=$(id -u)
_ses=$(session_of) && echo "session=$_ses"
echo "now=$(date +%s)"
cd ${shQuote(home)} || exit 1
for f in ${TRANSFER_PREFIX}*; do
  [ -f "$f" ] && [ ! -h "$f" ] || continue
  set -- $(stat -c '%u %Y' -- "$f" 2>/dev/null)
  [ "$1" = "$me" ] || continue
  r=\${f#${TRANSFER_PREFIX}}; pid=\${r%%.*}; st=-
  case $pid in ''|*[!0-9]*) ;; *) st=$(start_of $pid) || st=- ;; esac
  printf 'file %s %s %s\n' "$2" "$st" "$f"
done`

/**
 * The transfer files of earlier runs in the login user's home that no transfer can be using any more: the connection
 * that made one has ended (its sshd process is gone), or, for a name without that process, it is older than
 * STALE_TRANSFER_SECONDS. Other names, other users' files and symlinks are never candidates.
 */
export function staleTransfers(out: string): string[] {
  const now = Number(/^now=(\d+)$/m.exec(out)?.[1])
  const stale: string[] = []
  for (const m of out.matchAll(/^file (\d+) (\S+) (.+)$/gm)) {
    const [, mtime, liveStart, name] = m as unknown as [string, string, string, string]
    const session = SESSION_TRANSFER.exec(name)
    if (session) {
      if (liveStart !== session[2]) stale.push(name)
    } else if (PLAIN_TRANSFER.test(name) && Number.isFinite(now) && now - Number(mtime) > STALE_TRANSFER_SECONDS) stale.push(name)
  }
  return stale
}

/**
 * A new transfer file for FILE in the login user's home, with a name of its own (see TRANSFER_PREFIX); first the
 * transfer files earlier runs left there (staleTransfers: an etcd snapshot in a file a killed run could not remove)
 * are removed. The caller creates it exclusively (writeNew).
 */
async function transferFile(conn: SshConnection, file: string, signal?: AbortSignal, log?: (l: string) => void): Promise<string> {
  const home = await conn.home()
  const r = await conn.exec(`sh -c ${shQuote(transferScan(home))}`, {signal})
  const stale = r.code === 0 ? staleTransfers(r.stdout) : []
  if (stale.length > 0) {
    const rm = await conn.exec(`cd ${shQuote(home)} && rm -f -- ${stale.map(shQuote).join(' ')}`, {signal})
    if (rm.code === 0) log?.(`removed ${stale.length} transfer file${stale.length === 1 ? '' : 's'} an interrupted run left in ${home}: ${stale.join(', ')}`)
  }
  const session = /^session=(\d+\.\d+)$/m.exec(r.stdout)?.[1]
  return `${home}/${TRANSFER_PREFIX}${session ? `${session}-` : ''}${randomBytes(8).toString('hex')}-${path.basename(file)}`
}

/**
 * Copy a root-owned file to this machine. As root, read as it is; else through a transfer file in the login user's
 * home: created by that user (exclusively, empty, 0600), filled by root (it keeps its owner and mode: readable by
 * nobody else, at no moment), read, and removed — also when a step fails, and by a later transfer when this run
 * could not (transferFile).
 */
export async function fetchRootFile(conn: SshConnection, file: string, signal?: AbortSignal, log?: (l: string) => void): Promise<Buffer> {
  if (conn.opts.user === 'root') return conn.download(file)
  const tmp = await transferFile(conn, file, signal, log)
  await conn.writeNew(tmp, '', 0o600)
  try {
    await rootStep(conn, `cat -- ${shQuote(file)} > ${shQuote(tmp)}`, `copying ${file} for transfer`, {signal})
    return await conn.download(tmp)
  } finally {
    await conn.remove(tmp)
  }
}

/**
 * Put bytes in a root-owned file (0600, its folder 0700) on the node. As root, written beside it under a name of its
 * own and renamed into place (upload); else through a transfer file in the login user's home (created exclusively,
 * 0600) that root installs as the file, removed after — also when a step fails, and by a later transfer when this
 * run could not (transferFile).
 */
export async function pushRootFile(conn: SshConnection, file: string, data: Buffer, signal?: AbortSignal, log?: (l: string) => void): Promise<void> {
  const dir = path.dirname(file)
  await rootStep(conn, `mkdir -p ${shQuote(dir)} && chmod 700 ${shQuote(dir)}`, 'preparing the restore folder', {signal})
  if (conn.opts.user === 'root') return conn.upload(file, data, 0o600)
  const tmp = await transferFile(conn, file, signal, log)
  await conn.writeNew(tmp, data, 0o600)
  try {
    await rootStep(conn, `install -m 600 -o root ${shQuote(tmp)} ${shQuote(file)}`, `placing ${file}`, {signal})
  } finally {
    await conn.remove(tmp)
  }
}

export async function remoteSha256(conn: SshConnection, file: string, signal?: AbortSignal): Promise<string> {
  const out = await rootStep(conn, `sha256sum ${file}`, `sha256sum ${file}`, {signal})
  const m = /^([0-9a-f]{64})\s/.exec(out.trim())
  if (!m) throw new ObsctlError(`sha256sum ${file} on ${conn.label} printed no checksum`, {code: 'CHECKSUM'})
  return m[1]!
}

/** The folder of backup ID's snapshot on a node: one run's own (claimSnapshotDir). */
export const snapshotDir = (id: string) => `${WORK_DIR}/${id}`

/**
 * The file in a snapshot folder (and beside a restore's snapshot copy, `<copy>.run`) that says whose it is:
 * `session=<pid>.<start>` the node's sshd process of the SSH connection of the run that made it (as transfer files
 * name it: that process ends with its connection, also when obsctl is killed), `run=` that run's id, `since=` when.
 */
export const RUN_MARKER = '.obsctl-run'
/** What has no session in its marker (an earlier obsctl's, or no /proc) is left over once this old: no run lasts a day. */
export const STALE_LEFTOVER_SECONDS = STALE_TRANSFER_SECONDS

/**
 * Shell functions for a root step (POSIX sh): SESSION_FUNCTIONS, and `run_marker RUN` prints a marker's lines; `leftover MARKER PATH` succeeds when PATH is no run's any more: its
 * marker's session process is gone (another process with that pid has another start time), or, without a session in
 * it, PATH is older than STALE_LEFTOVER_SECONDS.
 */
const LEFTOVER_FUNCTIONS = `${SESSION_FUNCTIONS}
run_marker() { printf 'session=%s\\nrun=%s\\nsince=%s\\n' "$(session_of)" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; }
leftover() {
  _ses=$(sed -n 's/^session=//p' "$1" 2>/dev/null)
  _pid=\${_ses%%.*}; _st=\${_ses#*.}
  case $_ses in *.*) ;; *) _pid= ;; esac
  case $_pid in '' | *[!0-9]*) _pid= ;; esac
  case $_st in '' | *[!0-9]*) _pid= ;; esac
  if [ -n "$_pid" ]; then [ "$(start_of $_pid)" != "$_st" ]; return; fi
  _m=$(stat -c %Y -- "$2" 2>/dev/null) || return 1
  [ $(($(date +%s) - _m)) -gt ${STALE_LEFTOVER_SECONDS} ]
}
removed() { printf 'removed %s %s %s\\n' "$1" "$(sed -n 's/^run=//p' "$2" 2>/dev/null | grep . || echo -)" "$(sed -n 's/^since=//p' "$2" 2>/dev/null | grep . || echo -)"; }`

/** A backup id as a shell pattern (checkBackupId's two forms): only folders and copies of such names are looked at. */
const ID_GLOB = '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'
const HEX6 = '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'

/**
 * Remove what runs that are no longer running left on the node (leftover): snapshot folders of `backup create`
 * (WORK_DIR/<id>, the etcd snapshot in plaintext) and restore snapshot copies (RESTORE_DIR/<id>-<cluster>.db with
 * their `.run` marker) — never a copy the restore record names (that restore may be resumed: only finishing it or
 * `backup restore --abandon` removes it), never one while the record names no backup (an earlier obsctl's record),
 * and never a symlink or a name obsctl does not make. Prints `removed PATH RUN SINCE` per path.
 */
const SWEEP = `for d in ${WORK_DIR}/*; do
  [ -d "$d" ] && [ ! -h "$d" ] || continue
  case \${d##*/} in ${ID_GLOB}|${ID_GLOB}-${HEX6}) ;; *) continue ;; esac
  leftover "$d/${RUN_MARKER}" "$d" || continue
  _r=$(removed "$d" "$d/${RUN_MARKER}"); rm -rf -- "$d" && echo "$_r"
done
_rid=; _rec=no
if [ -f ${RESTORE_DIR}/in-progress ]; then _rec=yes; _rid=$(sed -n 's/^id=//p' ${RESTORE_DIR}/in-progress); fi
for f in ${RESTORE_DIR}/*.db; do
  [ -f "$f" ] && [ ! -h "$f" ] || continue
  case \${f##*/} in ${ID_GLOB}*-*.db) ;; *) continue ;; esac
  if [ $_rec = yes ]; then
    [ -n "$_rid" ] || continue
    case \${f##*/} in "$_rid"-*) continue ;; esac
  fi
  leftover "$f.run" "$f" || continue
  _r=$(removed "$f" "$f.run"); rm -f -- "$f" "$f.run" && echo "$_r"
done
for m in ${RESTORE_DIR}/*.db.run; do
  [ -f "$m" ] && [ ! -h "$m" ] && [ ! -e "\${m%.run}" ] || continue
  leftover "$m" "$m" && rm -f -- "$m"
done
true`

/** A path on a node that a run no longer running left, and which run that was (from its marker; absent without one). */
export interface Leftover {
  path: string
  run?: string
  since?: string
}

const leftoversOf = (out: string): Leftover[] =>
  [...out.matchAll(/^removed (\S+) (\S+) (\S+)$/gm)].map(([, p, run, since]) => ({
    path: p!,
    ...(run !== '-' && {run}),
    ...(since !== '-' && {since}),
  }))

/** `removed 2 things runs that are no longer running left on NODE: PATH (run R, since T), …` */
export function leftoversLine(removed: Leftover[], label: string): string {
  const what = removed.map((l) => `${l.path}${l.run ? ` (run ${l.run}${l.since ? `, since ${l.since}` : ''})` : ''}`)
  return `removed ${removed.length === 1 ? 'what a run' : `${removed.length} things runs`} no longer running left on ${label}: ${what.join(', ')}`
}

/**
 * Create snapshotDir(id) on the node with its RUN_MARKER (this connection's session, RUN), never taking it over:
 * where it exists, another run of backup ID has it (running, or interrupted), and BACKUP_ID_IN_USE says so without
 * touching anything in it. First, in the same step, what runs that are no longer running left on the node is removed
 * (SWEEP: a killed backup's snapshot folder, a killed restore's copy no record names), and returned. The caller
 * removes the folder.
 */
export async function claimSnapshotDir(conn: SshConnection, id: string, run: string, signal?: AbortSignal): Promise<{dir: string; removed: Leftover[]}> {
  const dir = snapshotDir(id)
  const out = await rootStep(
    conn,
    [
      LEFTOVER_FUNCTIONS,
      `mkdir -p ${WORK_DIR} && chmod 700 ${WORK_DIR} || exit 1`,
      SWEEP,
      `if mkdir -m 700 ${shQuote(dir)}; then run_marker ${shQuote(run)} > ${shQuote(`${dir}/${RUN_MARKER}`)} || exit 1; else [ -e ${shQuote(dir)} ] || exit 1; echo in-use=yes; fi`,
    ].join('\n'),
    'preparing the snapshot folder',
    {signal},
  )
  const removed = leftoversOf(out)
  if (/^in-use=yes$/m.test(out))
    throw new ObsctlError(`${dir} exists on ${conn.label}: another backup create run of ${id} has it`, {
      code: 'BACKUP_ID_IN_USE',
      details: {removed},
      hints: [
        `${dir} on the node is another backup create run's with id ${id} (running, or interrupted): run obsctl backup create again (a new id); the next backup create on the node removes ${dir} once its run is gone`,
      ],
    })
  return {dir, removed}
}

/**
 * Before a restore places its snapshot copy FILE (RESTORE_DIR/<id>-<cluster>.db): `FILE.run`, its RUN_MARKER (this
 * connection's session, RUN), so that a later backup create removes a copy left by a restore killed before its record
 * named it, and never one a restore still running is placing.
 */
export async function markRestoreCopy(conn: SshConnection, file: string, run: string, signal?: AbortSignal): Promise<void> {
  const dir = path.posix.dirname(file)
  await rootStep(
    conn,
    [LEFTOVER_FUNCTIONS, `mkdir -p ${shQuote(dir)} && chmod 700 ${shQuote(dir)} && run_marker ${shQuote(run)} > ${shQuote(`${file}.run`)}`].join('\n'),
    "marking the restore copy as this run's",
    {signal},
  )
}

/** How long removing what an interrupted step left may take: within the runner's grace for tasks to stop (5 s). */
export const CLEANUP_AFTER_INTERRUPT_MS = 4000

/**
 * Run a root step that removes what this task put on NODE. On the run's connection with the run's signal; once the
 * run is interrupted (Ctrl-C, SIGTERM: its signal aborted and its connections closed), on a connection of its own with
 * a fresh signal that ends CLEANUP_AFTER_INTERRUPT_MS later, so an interrupt still removes it, bounded.
 */
export async function rootCleanup(ctx: RunContext, node: ClusterNode, conn: SshConnection, command: string, what: string): Promise<void> {
  if (!ctx.signal.aborted) {
    try {
      await rootStep(conn, command, what, {signal: ctx.signal})
      return
    } catch (error) {
      if (!ctx.signal.aborted) throw error
    }
  }
  const signal = AbortSignal.timeout(CLEANUP_AFTER_INTERRUPT_MS)
  const {sshPool} = await import('../ssh/pool.js')
  const own = await (await sshPool(ctx)).connectOwn(node, signal)
  try {
    await rootStep(own, command, what, {signal})
  } finally {
    own.close()
  }
}

/** Take and verify a snapshot on the node, as FILE (in a folder claimSnapshotDir made): its status and its sha256. */
export async function takeSnapshot(
  conn: SshConnection,
  file: string,
  log: (l: string) => void,
  signal?: AbortSignal,
): Promise<{etcd: EtcdSnapshotMeta['etcd']; sha256: string}> {
  await rootStep(conn, `ETCDCTL_API=3 etcdctl ${ETCD_TLS} snapshot save ${file}`, 'etcdctl snapshot save', {
    log,
    signal,
    code: 'ETCD_SNAPSHOT',
    hints: ['is etcd running? sudo crictl ps --name etcd', ETCD_TOOLS_HINT],
  })
  const status = await rootStep(conn, `etcdutl snapshot status ${file} -w json`, 'etcdutl snapshot status', {signal, code: 'ETCD_SNAPSHOT'})
  let etcd: EtcdSnapshotMeta['etcd']
  try {
    etcd = JSON.parse(status.trim().split('\n').pop() ?? '{}') as EtcdSnapshotMeta['etcd']
  } catch {
    throw new ObsctlError(`etcdutl snapshot status on ${conn.label} did not print JSON: ${status.slice(0, 200)}`, {code: 'ETCD_SNAPSHOT'})
  }
  log(`snapshot ${file}: revision ${etcd.revision ?? '?'}, ${etcd.totalKey ?? '?'} keys, ${etcd.totalSize ?? '?'} bytes`)
  return {etcd, sha256: await remoteSha256(conn, file, signal)}
}

/** etcd's --name, --initial-advertise-peer-urls and --data-dir from kubeadm's manifest (wherever it is parked). */
export async function etcdMember(conn: SshConnection, signal?: AbortSignal): Promise<{name: string; peerUrl: string; dataDir: string}> {
  const out = await rootStep(
    conn,
    'f=/etc/kubernetes/manifests/etcd.yaml; [ -f $f ] || f=/etc/kubernetes/obsctl-parked-manifests/etcd.yaml; cat $f',
    'reading the etcd manifest',
    {signal, code: 'ETCD_MANIFEST'},
  )
  const flag = (n: string) => new RegExp(`--${n}=(\\S+)`).exec(out)?.[1]
  const name = flag('name')
  const peerUrl = flag('initial-advertise-peer-urls')
  if (!name || !peerUrl)
    throw new ObsctlError(`the etcd manifest on ${conn.label} has no --name or --initial-advertise-peer-urls`, {
      code: 'ETCD_MANIFEST',
      hints: ['is this a kubeadm control plane with a local (stacked) etcd?'],
    })
  return {name, peerUrl, dataDir: flag('data-dir') ?? '/var/lib/etcd'}
}

export async function waitEtcdHealthy(
  conn: SshConnection,
  o: {timeoutMs?: number; intervalMs?: number; signal?: AbortSignal; log?: (l: string) => void},
): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 300_000)
  for (;;) {
    const r = await conn.sudo(`ETCDCTL_API=3 etcdctl ${ETCD_TLS} endpoint health`, {signal: o.signal})
    if (r.code === 0 && /is healthy/.test(r.stdout)) {
      o.log?.(r.stdout.trim())
      return
    }
    if (Date.now() > deadline)
      throw new ObsctlError(`etcd on ${conn.label} is not healthy after the restore: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, {
        code: 'ETCD_UNHEALTHY',
        hints: ['journalctl -u kubelet and sudo crictl logs $(sudo crictl ps -a --name etcd -q | head -1) on the node'],
      })
    await new Promise((res) => setTimeout(res, o.intervalMs ?? 1000))
  }
}
