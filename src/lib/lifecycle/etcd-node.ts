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
 * Run as the login user (files in its home are its own): prints `session=<pid>.<start>` of the sshd process of this
 * connection (this shell's parent, or its grandparent where the login shell did not exec `sh`: the first ancestor
 * named sshd* that runs as this user), `now=` (the node's clock) and, for each regular file (not a symlink) of this
 * user named .obsctl-transfer-* in HOME, `file <mtime> <start of the process its name gives, or -> <name>`.
 */
const transferScan = (home: string) => `me=$(id -u)
start_of() { s=$(cat /proc/$1/stat 2>/dev/null) || return 1; s=\${s##*')'}; set -- $s; echo "\${20}"; }
p=$PPID
for i in 1 2 3; do
  case $(cat /proc/$p/comm 2>/dev/null) in sshd*) [ "$(stat -c %u /proc/$p 2>/dev/null)" = "$me" ] && echo "session=$p.$(start_of $p)"; break ;; esac
  s=$(cat /proc/$p/stat 2>/dev/null) || break; s=\${s##*')'}; set -- $s; p=$2
done
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
 * Create snapshotDir(id) on the node, never taking it over: where it exists, another run of backup ID has it
 * (running, or interrupted), and BACKUP_ID_IN_USE says so without touching anything in it. The caller removes it.
 */
export async function claimSnapshotDir(conn: SshConnection, id: string, signal?: AbortSignal): Promise<string> {
  const dir = snapshotDir(id)
  await rootStep(conn, `mkdir -p ${WORK_DIR} && chmod 700 ${WORK_DIR} && mkdir -m 700 ${shQuote(dir)}`, 'preparing the snapshot folder', {
    signal,
    code: 'BACKUP_ID_IN_USE',
    hints: [
      `${dir} on the node is another backup create run's with id ${id} (running, or interrupted): run obsctl backup create again (a new id); remove ${dir} once no run of ${id} is left`,
    ],
  })
  return dir
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
