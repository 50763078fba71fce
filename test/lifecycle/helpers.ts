/**
 * Control-plane nodes for the certs and backup tests: sandbox nodes (real sshd, ../support/sshd.ts)
 * with kubeadm, crictl, etcdctl and etcdutl "installed" (wrappers back to the recording shim, as the
 * shim's own package installs make them) and a kubeadm control plane laid out at the real paths by the
 * emulated `kubeadm init phase certs|kubeconfig all` (real certificates with chosen dates, see
 * ../support/node-sandbox/shim-certs-etcd.sh), static pod manifests (kube-apiserver's serving
 * apiserver.crt over TLS at the node's address and apiServerPort) and an etcd data file.
 */
import {execFile, execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {type Sandbox, type SandboxNode, writeShimWrapper} from '../support/sshd.js'

export const TOOLS = ['kubeadm', 'crictl', 'etcdctl', 'etcdutl']

/** Put the tools on the node's PATH (its pkgbin), as installed packages are. */
export function installTools(sb: Sandbox, node: SandboxNode, tools = TOOLS): void {
  const dir = path.join(node.dir, 'pkgbin')
  mkdirSync(dir, {recursive: true})
  for (const t of tools) writeShimWrapper(path.join(dir, t), node, sb.clustersDir, t)
}

const nodeShell = (node: SandboxNode, script: string) => {
  const pathEnv = `${node.dir}/bin:${node.dir}/pkgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`
  return ['-t', String(node.pid()), '-m', '--', 'env', `PATH=${pathEnv}`, 'bash', '-c', script]
}

/** Run a shell command inside the node (its mount namespace and PATH), as root. */
export function onNode(node: SandboxNode, script: string, input?: string): string {
  return execFileSync('nsenter', nodeShell(node, script), {encoding: 'utf8', input: input ?? ''})
}

/** onNode without blocking this process: several nodes' set-ups run side by side. */
export function onNodeAsync(node: SandboxNode, script: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nsenter', nodeShell(node, script), {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024}, (err, stdout, stderr) =>
      err ? reject(new Error(`on ${node.hostname}: ${script}: ${stderr || err.message}`)) : resolve(stdout),
    )
    child.stdin!.end(input ?? '')
  })
}

const writeBytesScript = (p: string) => `mkdir -p "$(dirname '${p}')" && base64 -d > '${p}' && chmod 600 '${p}'`

/** Write bytes at a path inside the node (root, 0600). */
export function writeBytes(node: SandboxNode, p: string, data: Buffer): void {
  onNode(node, writeBytesScript(p), data.toString('base64'))
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
 * Asynchronous: several nodes are seeded side by side (each node's state is its own).
 */
export async function seedControlPlane(sb: Sandbox, node: SandboxNode, o: {from?: Date; until?: Date; marker?: string} = {}): Promise<Buffer> {
  installTools(sb, node)
  const st = path.join(node.dir, 'state')
  writeFileSync(path.join(st, 'cert-start'), certTime(o.from ?? days(-1)))
  writeFileSync(path.join(st, 'cert-end'), certTime(o.until ?? days(365)))
  await onNodeAsync(node, 'kubeadm init phase certs all && kubeadm init phase kubeconfig all')
  rmSync(path.join(st, 'cert-start'))
  rmSync(path.join(st, 'cert-end'))
  for (const pod of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'])
    node.writeFile(`/etc/kubernetes/manifests/${pod}.yaml`, POD_MANIFEST(pod, node.ip, node.hostname))
  const db = Buffer.concat([Buffer.from(`etcd data of ${node.hostname}: ${o.marker ?? 'PLAINTEXT-MARKER'}\n`), randomBytes(64 * 1024)])
  await onNodeAsync(node, writeBytesScript('/var/lib/etcd/member/snap/db'), db.toString('base64'))
  if (!nodeBytes(node, '/var/lib/etcd/member/snap/db').equals(db)) throw new Error('etcd data did not arrive intact')
  // the "kubelet" starts the pods (any shim call syncs them): kube-apiserver serves its certificate from here on
  await onNodeAsync(node, 'crictl ps -q >/dev/null')
  node.clearCalls()
  return db
}
