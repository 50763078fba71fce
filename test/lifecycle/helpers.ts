/**
 * Control-plane nodes for the certs and backup tests: sandbox nodes (real sshd, ../support/sshd.ts)
 * with kubeadm, crictl, etcdctl and etcdutl "installed" (wrappers back to the recording shim, as the
 * shim's own package installs make them) and a kubeadm control plane laid out at the real paths by the
 * emulated `kubeadm init phase certs|kubeconfig all` (real certificates with chosen dates, see
 * ../support/node-sandbox/shim-certs-etcd.sh), static pod manifests and an etcd data file.
 */
import {execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {BIN} from '../cli/helpers.js'
import {SHIM, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {waitFor} from '../support/wait.js'

export const TOOLS = ['kubeadm', 'crictl', 'etcdctl', 'etcdutl']

/** Put the tools on the node's PATH (its pkgbin), as installed packages are. */
export function installTools(sb: Sandbox, node: SandboxNode, tools = TOOLS): void {
  const dir = path.join(node.dir, 'pkgbin')
  mkdirSync(dir, {recursive: true})
  for (const t of tools) {
    const f = path.join(dir, t)
    writeFileSync(f, `#!/bin/bash\nexec /bin/bash ${SHIM} ${node.dir} ${node.ip} ${sb.clustersDir} ${t} "$@"\n`)
    chmodSync(f, 0o755)
  }
}

/** Run a shell command inside the node (its mount namespace and PATH), as root. */
export function onNode(node: SandboxNode, script: string, input?: string): string {
  const pathEnv = `${node.dir}/bin:${node.dir}/pkgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`
  return execFileSync('nsenter', ['-t', String(node.pid()), '-m', '--', 'env', `PATH=${pathEnv}`, 'bash', '-c', script], {encoding: 'utf8', input: input ?? ''})
}

/** Write bytes at a path inside the node (root, 0600). */
export function writeBytes(node: SandboxNode, p: string, data: Buffer): void {
  onNode(node, `mkdir -p "$(dirname '${p}')" && base64 -d > '${p}' && chmod 600 '${p}'`, data.toString('base64'))
}

/** A file the node wrote, as bytes (node.file reads text). */
export function nodeBytes(node: SandboxNode, p: string): Buffer {
  const overlay = ['/etc', '/var/lib', '/opt', '/usr/local', '/root'].find((o) => p.startsWith(`${o}/`))!
  return readFileSync(path.join(node.dir, 'upper', overlay, p.slice(overlay.length)))
}

/** YYYYMMDDHHMMSSZ, the form openssl ca takes */
export const certTime = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
export const days = (n: number) => new Date(Date.now() + n * 86_400_000)

export const POD_MANIFEST = (pod: string, ip: string, name: string) =>
  pod === 'etcd'
    ? `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=https://${ip}:2380\n    - --initial-cluster=${name}=https://${ip}:2380\n    - --name=${name}\n    image: registry.k8s.io/etcd:3.6.4-0\n    name: etcd\n`
    : `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${pod}\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - ${pod}\n    image: registry.k8s.io/${pod}:v1.34.1\n    name: ${pod}\n`

/**
 * A kubeadm control plane on the node: certificates valid from `from` to `until` (CAs 10 years), the
 * four kubeconfigs, the static pod manifests and an etcd data file (returned) of random bytes and a marker.
 */
export function seedControlPlane(sb: Sandbox, node: SandboxNode, o: {from?: Date; until?: Date; marker?: string} = {}): Buffer {
  installTools(sb, node)
  const st = path.join(node.dir, 'state')
  writeFileSync(path.join(st, 'cert-start'), certTime(o.from ?? days(-1)))
  writeFileSync(path.join(st, 'cert-end'), certTime(o.until ?? days(365)))
  onNode(node, 'kubeadm init phase certs all && kubeadm init phase kubeconfig all')
  rmSync(path.join(st, 'cert-start'))
  rmSync(path.join(st, 'cert-end'))
  for (const pod of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'])
    node.writeFile(`/etc/kubernetes/manifests/${pod}.yaml`, POD_MANIFEST(pod, node.ip, node.hostname))
  const db = Buffer.concat([Buffer.from(`etcd data of ${node.hostname}: ${o.marker ?? 'PLAINTEXT-MARKER'}\n`), randomBytes(64 * 1024)])
  writeBytes(node, '/var/lib/etcd/member/snap/db', db)
  if (!nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(db)) throw new Error('etcd data did not arrive intact')
  node.clearCalls()
  return db
}

/** Does any task log of the runs beside an inventory (its folder's .obsctl/logs/RUN/PHASE/TASK.log) say this? */
export function taskLogsSay(invDir: string, text: string): boolean {
  const logs = path.join(invDir, '.obsctl', 'logs')
  if (!existsSync(logs)) return false
  return (readdirSync(logs, {recursive: true}) as string[])
    .filter((f) => f.endsWith('.log'))
    .some((f) => readFileSync(path.join(logs, f), 'utf8').includes(text))
}

/**
 * A CLI run killed (SIGKILL) while a command it started on a node is held there (the shim's state/block-on: the
 * command waits until state/unblock exists), the command left going on, as sshd leaves it; then `rerun()` is started.
 * Resolves, with the rerun's promise, once the rerun's step on that node waits for the node's obsctl lock (a task
 * log beside the inventory says so) or has run something on the node anyway (`changes()` moved: the caller's
 * assertion then fails); the held command is then let go on. `changes()` is read after the kill and again then.
 */
export async function killWhileHeld<T>(o: {
  node: SandboxNode
  hold: string
  args: string[]
  env?: Record<string, string>
  invDir: string
  changes: () => unknown
  rerun: () => Promise<T>
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
      () => taskLogsSay(o.invDir, 'another obsctl step is running on this node') || JSON.stringify(o.changes()) !== same,
      120_000,
      `the rerun's step on ${o.node.hostname} to wait for the killed run's`,
    )
    return {rerun, atKill, whileWaiting: o.changes()}
  } finally {
    child.kill('SIGKILL')
    // the killed run's command ends; the rerun's steps go on after it
    writeFileSync(path.join(st, 'unblock'), '')
  }
}

/** After killWhileHeld's rerun: the node's block-on and unblock removed. */
export function releaseHold(node: SandboxNode): void {
  for (const f of ['block-on', 'unblock']) rmSync(path.join(node.dir, 'state', f), {force: true})
}
