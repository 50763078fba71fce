/**
 * The node side of etcd backups and restores, over SSH as root: the tools (etcdctl, etcdutl: etcd's
 * release binaries of the cluster's etcd version), a snapshot taken and verified on the node, root-owned
 * files copied to and from this machine (through the login user's home when it is not root), the etcd
 * member as kubeadm's manifest declares it, and waiting for etcd to be healthy.
 */
import path from 'node:path'
import type {ClusterNode} from '../config/schema.js'
import type {RunContext} from '../engine/types.js'
import {ObsctlError} from '../errors.js'
import type {SshConnection} from '../ssh/connection.js'
import {shQuote} from '../shell-quote.js'
import {TRANSFER_PREFIX, sessionFileName} from '../ssh/session.js'
import {LEFTOVER_FUNCTIONS, RUN_MARKER, SWEEP_ROOT, WORK_DIR, leftoversOf, type Leftover} from '../nodes/leftovers.js'
import type {EtcdSnapshotMeta} from './backup-store.js'
import {rootStep} from '../nodes/lock.js'
import {pollMs} from '../poll.js'
import {yamlOrUndefined} from '../yaml-lenient.js'

/** kubeadm's etcd client credentials on a control-plane node (the health check's client certificate) */
export const ETCD_TLS =
  '--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key'
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
 * A new transfer file for FILE in the login user's home, with a name of its own: `.obsctl-transfer-<pid>.<start>-<random>-<name>`
 * (../ssh/session.ts: `<pid>.<start>` the node's sshd process of this connection, which ends with it). The random part
 * keeps two transfers at once on one node (a backup and a restore of one id, two backups) from sharing one; the
 * process tells a later sweep (../nodes/leftovers.ts) whether the transfer that made the file can still be using it.
 * The caller creates it exclusively (writeNew).
 */
async function transferFile(conn: SshConnection, file: string): Promise<string> {
  const [home, session] = await Promise.all([conn.home(), conn.session()])
  return `${home}/${sessionFileName(TRANSFER_PREFIX, session, path.basename(file))}`
}

/**
 * Copy a root-owned file to this machine. As root, read as it is; else through a transfer file in the login user's
 * home: created by that user (exclusively, empty, 0600), filled by root (it keeps its owner and mode: readable by
 * nobody else, at no moment), read, and removed — also when a step fails, and by a later sweep when this run could
 * not (transferFile). Root writes into the file that is there and never creates one (dd conv=nocreat, GNU coreutils:
 * Debian, Ubuntu, RHEL): a killed run's copy that runs only after the next run's sweep removed its transfer file
 * fails, where a redirection would make a new file of root's (umask's mode) that no sweep removes.
 */
export async function fetchRootFile(conn: SshConnection, file: string, signal?: AbortSignal): Promise<Buffer> {
  if (conn.opts.user === 'root') return conn.download(file)
  const tmp = await transferFile(conn, file)
  await conn.writeNew(tmp, '', 0o600)
  try {
    await rootStep(conn, `dd if=${shQuote(file)} of=${shQuote(tmp)} conv=nocreat bs=1M status=none`, `copying ${file} for transfer`, {signal})
    return await conn.download(tmp)
  } finally {
    await conn.remove(tmp)
  }
}

/**
 * Put bytes in a root-owned file (0600, its folder 0700) on the node. As root, written beside it under a name of its
 * own and renamed into place (upload: its temporary name carries this connection's sshd process, so a later sweep
 * removes it after a kill); else through a transfer file in the login user's home (created exclusively, 0600) that
 * root installs as the file, removed after — also when a step fails, and by a later sweep when this run could not
 * (transferFile).
 */
export async function pushRootFile(conn: SshConnection, file: string, data: Buffer, signal?: AbortSignal): Promise<void> {
  const dir = path.dirname(file)
  await rootStep(conn, `mkdir -p ${shQuote(dir)} && chmod 700 ${shQuote(dir)}`, 'preparing the restore folder', {signal})
  if (conn.opts.user === 'root') return conn.upload(file, data, 0o600)
  const tmp = await transferFile(conn, file)
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
 * Create snapshotDir(id) on the node with its RUN_MARKER (this connection's session, RUN), never taking it over:
 * where it exists, another run of backup ID has it (running, or interrupted), and BACKUP_ID_IN_USE says so without
 * touching anything in it. First, in the same step, what runs that are no longer running left in root's folders on the
 * node is removed (SWEEP_ROOT, ../nodes/leftovers.ts: a killed backup's snapshot folder, a killed restore's copy no
 * record names or its upload file), and returned. The caller removes the folder.
 */
export async function claimSnapshotDir(conn: SshConnection, id: string, run: string, signal?: AbortSignal): Promise<{dir: string; removed: Leftover[]}> {
  const dir = snapshotDir(id)
  const out = await rootStep(
    conn,
    [
      `mkdir -p ${WORK_DIR} && chmod 700 ${WORK_DIR} || exit 1`,
      SWEEP_ROOT,
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
        `${dir} on the node is another backup create run's with id ${id} (running, or interrupted): run obsctl backup create again (a new id); the next backup create or backup restore on the node removes ${dir} once its run is gone`,
      ],
    })
  return {dir, removed}
}

/**
 * Before a restore places its snapshot copy FILE (RESTORE_DIR/<id>-<cluster>.db): `FILE.run`, its RUN_MARKER (this
 * connection's session, RUN), so that a later sweep (../nodes/leftovers.ts) removes a copy left by a restore killed
 * before its record named it, and never one a restore still running is placing.
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
/**
 * The etcd member as kubeadm's manifest on the node declares it: --name, --initial-advertise-peer-urls and --data-dir
 * (default /var/lib/etcd), each the exact text of its `--flag=value` argument in the etcd container's command (the
 * manifest is read as YAML, so a value may hold a space). These go into root commands: the callers quote them
 * (shQuote); a value holding a control character (a newline would split the restore record's lines) is refused.
 */
export async function etcdMember(conn: SshConnection, signal?: AbortSignal): Promise<{name: string; peerUrl: string; dataDir: string}> {
  const out = await rootStep(
    conn,
    'f=/etc/kubernetes/manifests/etcd.yaml; [ -f $f ] || f=/etc/kubernetes/obsctl-parked-manifests/etcd.yaml; cat $f',
    'reading the etcd manifest',
    {signal, code: 'ETCD_MANIFEST'},
  )
  const args = containerArgs(out)
  const flag = (n: string) =>
    args
      .filter((a) => a.startsWith(`--${n}=`))
      .map((a) => a.slice(n.length + 3))
      .pop() || undefined
  const name = flag('name')
  const peerUrl = flag('initial-advertise-peer-urls')
  if (!name || !peerUrl)
    throw new ObsctlError(`the etcd manifest on ${conn.label} has no --name or --initial-advertise-peer-urls`, {
      code: 'ETCD_MANIFEST',
      hints: ['is this a kubeadm control plane with a local (stacked) etcd?'],
    })
  const member = {name, peerUrl, dataDir: flag('data-dir') ?? '/var/lib/etcd'}
  const odd = Object.entries(member).find(([, v]) => /\p{Cc}/u.test(v))
  if (odd)
    throw new ObsctlError(`the etcd manifest on ${conn.label} gives a ${odd[0]} with a control character: ${JSON.stringify(odd[1])}`, {
      code: 'ETCD_MANIFEST',
      hints: ['check /etc/kubernetes/manifests/etcd.yaml on the node'],
    })
  return member
}

/** The command and args of the etcd container (else the first) of a static pod manifest; none when it is no such YAML. */
function containerArgs(text: string): string[] {
  const containers = (yamlOrUndefined(text) as {spec?: {containers?: unknown}} | null)?.spec?.containers
  if (!Array.isArray(containers)) return []
  const c = (containers.find((x) => (x as {name?: unknown})?.name === 'etcd') ?? containers[0]) as {command?: unknown; args?: unknown} | undefined
  return [c?.command, c?.args].flatMap((l) => (Array.isArray(l) ? l.filter((a): a is string => typeof a === 'string') : []))
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
    await new Promise((res) => setTimeout(res, o.intervalMs ?? pollMs(1000)))
  }
}
