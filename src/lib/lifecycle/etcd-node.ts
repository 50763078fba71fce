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
 * A transfer file for FILE in DIR with a name of its own (a random suffix): two runs at once on one node (a backup and
 * a restore of one id, two backups) never share one. The caller creates it exclusively (writeNew).
 */
function transferFile(dir: string, file: string): string {
  return `${dir}/.obsctl-transfer-${randomBytes(8).toString('hex')}-${path.basename(file)}`
}

/**
 * Copy a root-owned file to this machine. As root, read as it is; else through a transfer file in the login user's
 * home: created by that user (exclusively, empty, 0600), filled by root (it keeps its owner and mode: readable by
 * nobody else, at no moment), read, and removed — also when a step fails.
 */
export async function fetchRootFile(conn: SshConnection, file: string, signal?: AbortSignal): Promise<Buffer> {
  if (conn.opts.user === 'root') return conn.download(file)
  const tmp = transferFile(await conn.home(), file)
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
 * 0600) that root installs as the file, removed after — also when a step fails.
 */
export async function pushRootFile(conn: SshConnection, file: string, data: Buffer, signal?: AbortSignal): Promise<void> {
  const dir = path.dirname(file)
  await rootStep(conn, `mkdir -p ${shQuote(dir)} && chmod 700 ${shQuote(dir)}`, 'preparing the restore folder', {signal})
  if (conn.opts.user === 'root') return conn.upload(file, data, 0o600)
  const tmp = transferFile(await conn.home(), file)
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

/** Take and verify a snapshot on the node: the file path, its status and its sha256. */
export async function takeSnapshot(
  conn: SshConnection,
  file: string,
  log: (l: string) => void,
  signal?: AbortSignal,
): Promise<{etcd: EtcdSnapshotMeta['etcd']; sha256: string}> {
  await requireTools(conn, ['etcdctl', 'etcdutl'], signal)
  await rootStep(conn, `mkdir -p ${WORK_DIR} && chmod 700 ${WORK_DIR} && rm -f ${file}`, 'preparing the snapshot folder', {signal})
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
