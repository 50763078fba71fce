/**
 * `certs check` and `certs renew` against sandbox control planes (real sshd, see ../support/sshd.ts):
 * real X.509 certificates with chosen dates in /etc/kubernetes/pki and the kubeconfigs (made by the
 * shim's `kubeadm init phase certs|kubeconfig all` with the real openssl), `kubeadm certs renew all`
 * reissuing them for a year, and crictl answering for the static pods whose manifests are in
 * /etc/kubernetes/manifests (../support/node-sandbox/shim-certs-etcd.sh). The merged kubeconfig is made by
 * the real `kubeconfig merge` from the nodes' admin.conf.
 *
 * Shapes checked against upstream: kubeadm's certificate names and files (kubernetes/kubernetes
 * cmd/kubeadm/app/constants, the certs under pki/ and pki/etcd/, and the four kubeconfigs with embedded
 * client-certificate-data), `kubeadm certs renew all`'s "certificate … renewed" lines, and crictl's
 * `ps --name REGEX -q` printing one container id per line (kubernetes-sigs/cri-tools cmd/crictl/container.go).
 */
import {X509Certificate} from 'node:crypto'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import tls from 'node:tls'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {kubeconfigMerge} from '../../src/lib/kube/merge.js'
import {certsCheck, certsRenew, type CertsCheckResult} from '../../src/lib/flows/certs-run.js'
import {lastCerts} from '../../src/lib/lifecycle/certs.js'
import {formatCertsCheck} from '../../src/lib/lifecycle/certs-format.js'
import {obsctl, requireBuild} from '../cli/helpers.js'
import {startSandbox, sandboxInventory, type Sandbox} from '../support/sshd.js'
import {days, onNodeAsync, seedControlPlane} from './helpers.js'
import {killWhileHeld, releaseHold} from '../support/kill-held.js'
import {taskLogsSay} from '../support/task-logs.js'

let sb: Sandbox
let dir: string
let inv: LoadedInventory
let kubeconfig: string
/** cluster-01 on node 0 with an apiServer URL whose port nothing listens on at the node (it refuses at once) */
let portInv: LoadedInventory
const quiet = {renderer: 'silent' as const, handleSignals: false, ssh: {attempts: 2, backoffMs: 200}}

const notAfter = (pem: string | Buffer) => Date.parse(new X509Certificate(pem).validTo)
const kcUserCert = (file: string, user: string) => {
  const kc = YAML.parse(readFileSync(file, 'utf8')) as {users: {name: string; user: Record<string, string>}[]}
  return kc.users.find((u) => u.name === user)!.user['client-certificate-data']!
}
const confCert = (text: string) => /client-certificate-data: (\S+)/.exec(text)![1]!

/** What the node's kube-apiserver serves, measured by the test itself (straight to its address; verified against its CA). */
function servedBy(node: Sandbox['nodes'][number]): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({host: node.ip, port: node.apiServerPort, servername: 'kubernetes', ca: node.file('/etc/kubernetes/pki/ca.crt')})
    s.once('secureConnect', () => {
      resolve(s.getPeerX509Certificate()!)
      s.destroy()
    })
    s.once('error', reject)
  })
}
const fileCert = (node: Sandbox['nodes'][number]) => new X509Certificate(node.file('/etc/kubernetes/pki/apiserver.crt')!)
const iso = (x: X509Certificate) => new Date(x.validTo).toISOString()
/**
 * What each node and the kubeconfig reported for a cluster (why it could not be read, what is served): the message
 * of an assertion on its status, so that an unexpected `error` says where it came from
 */
const reported = (c: CertsCheckResult['clusters'][number]) =>
  JSON.stringify({nodes: c.nodes.map((n) => ({node: n.node, error: n.error, served: n.served})), kubeconfig: c.kubeconfig.error})
const switchFile = (node: Sandbox['nodes'][number], name: string) => path.join(node.dir, 'state', name)

beforeAll(async () => {
  // nodes 0-2: one control plane per cluster; nodes 3 and 4: the two control planes of the resumed renew's cluster
  sb = await startSandbox(5, {firstIp: 171})
}, 240_000)

afterAll(async () => {
  await sb?.stop()
})

/*
 * Two groups of tests that share nothing but the sandbox: each has its own nodes (0-2; 3 and 4), inventory,
 * journal and kubeconfig, so they run side by side (describe.concurrent); within a group the tests run in order
 * (describe.sequential), each on the state the previous ones left, as they were written.
 */
describe.concurrent('one control plane per cluster (nodes 0-2)', () => {
  beforeAll(async () => {
    // cluster-01: a year left; cluster-02: ten days left; cluster-03: expired a month ago
    await Promise.all([
      seedControlPlane(sb, sb.nodes[0]!),
      seedControlPlane(sb, sb.nodes[1]!, {until: days(10)}),
      seedControlPlane(sb, sb.nodes[2]!, {from: days(-400), until: days(-30)}),
    ])
    dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-certs-'))
    writeFileSync(path.join(dir, 'obsctl.yaml'), sandboxInventory(sb, [[0], [1], [2]]))
    inv = loadInventory(path.join(dir, 'obsctl.yaml'))
    kubeconfig = path.join(dir, 'kubeconfig')
    await kubeconfigMerge(inv, {...quiet, kubeconfig})
    const portDir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-certs-port-'))
    const node = sb.nodes[0]!
    writeFileSync(path.join(portDir, 'obsctl.yaml'), sandboxInventory(sb, [[0]]).replace(`https://${node.ip}:6443`, `https://${node.ip}:6449`))
    portInv = loadInventory(path.join(portDir, 'obsctl.yaml'))
  }, 240_000)

  describe.sequential('certs check', () => {
    it('reads every certificate of each control plane and the kubeconfig: ok, expiring within 30 days, expired', async () => {
      const r = await certsCheck(inv, {...quiet, kubeconfig})
      expect(
        r.clusters.map((c) => [c.cluster, c.status]),
        r.clusters.map(reported).join('\n'),
      ).toEqual([
        ['cluster-01', 'ok'],
        ['cluster-02', 'warn'],
        ['cluster-03', 'expired'],
      ])
      expect(r.ok).toBe(false)
      expect(r.exitCode).toBe(1)
      expect(r.summary).toEqual({ok: 1, warn: 1, expired: 1, error: 0, notServed: 0})

      const c1 = r.clusters[0]!
      const names = c1.nodes[0]!.certs.map((c) => c.name).sort()
      expect(names).toEqual(
        [
          'admin.conf',
          'apiserver',
          'apiserver-etcd-client',
          'apiserver-kubelet-client',
          'ca',
          'controller-manager.conf',
          'etcd-ca',
          'etcd-healthcheck-client',
          'etcd-peer',
          'etcd-server',
          'front-proxy-ca',
          'front-proxy-client',
          'scheduler.conf',
          'super-admin.conf',
        ].sort(),
      )
      // the dates are the certificates' own: compare with the file on the node
      const apiserver = c1.nodes[0]!.certs.find((c) => c.name === 'apiserver')!
      expect(Date.parse(apiserver.notAfter)).toBe(notAfter(sb.nodes[0]!.file('/etc/kubernetes/pki/apiserver.crt')!))
      expect(apiserver).toMatchObject({subject: 'CN=kube-apiserver', issuer: 'CN=kubernetes', ca: false, status: 'ok'})
      expect(c1.nodes[0]!.certs.find((c) => c.name === 'ca')).toMatchObject({ca: true, status: 'ok'})
      expect(c1.kubeconfig.cert).toMatchObject({status: 'ok'})
      expect(c1.kubeconfig.user).toBe('cluster-01-admin')

      // what each kube-apiserver serves, measured from its node: the file, as the test measures it itself
      for (const [i, status] of [
        [0, 'ok'],
        [1, 'warn'],
      ] as const) {
        const node = sb.nodes[i]!
        const file = fileCert(node)
        expect((await servedBy(node)).fingerprint256).toBe(file.fingerprint256)
        const served = r.clusters[i]!.nodes[0]!.served!
        expect(served, node.hostname).toEqual({
          endpoint: `${node.ip}:${node.apiServerPort}`,
          cert: {serial: file.serialNumber, sha256: file.fingerprint256, notAfter: iso(file), daysLeft: expect.any(Number), status},
          file: {serial: file.serialNumber, sha256: file.fingerprint256, notAfter: iso(file)},
          sameAsFile: true,
          status,
        })
      }
      expect([9, 10]).toContain(r.clusters[1]!.nodes[0]!.served!.cert!.daysLeft)

      const c2 = r.clusters[1]!
      expect(c2.soonest).toMatchObject({status: 'warn', where: sb.nodes[1]!.hostname})
      expect([9, 10]).toContain(c2.soonest!.daysLeft)
      const c3 = r.clusters[2]!
      expect(c3.nodes[0]!.certs.filter((c) => c.status === 'expired').length).toBe(11)
      expect(c3.kubeconfig.cert?.status).toBe('expired')
      // cluster-03 serves its expired apiserver.crt: TLS verification (never off) fails it, and the file fails it too
      const served3 = c3.nodes[0]!.served!
      expect(served3).toMatchObject({
        endpoint: `${sb.nodes[2]!.ip}:6443`,
        status: 'expired',
        verifyError: 'CERT_HAS_EXPIRED: certificate has expired',
        file: {sha256: fileCert(sb.nodes[2]!).fingerprint256},
        problem: {code: 'CERTS_SERVED_UNTRUSTED'},
      })
      expect(served3.sameAsFile).toBeUndefined()
      expect(served3.cert).toBeUndefined()
      expect(served3.problem!.message).toContain('/etc/kubernetes/pki/apiserver.crt on ')
      expect(served3.problem!.message).toContain('(not valid now')

      // the table: with --verbose, each node's line says it serves its apiserver.crt
      const table = formatCertsCheck(r, true)
      expect(table).toContain(`✔ ${sb.nodes[0]!.hostname} kube-apiserver at ${sb.nodes[0]!.ip}:6443 serves its apiserver.crt: `)
      expect(table).toMatch(new RegExp(`‼ expires soon ${sb.nodes[1]!.hostname} kube-apiserver at \\S+ serves its apiserver.crt: (9|10) days`))
      expect(table).toContain(`✖ EXPIRED ${sb.nodes[2]!.hostname} kube-apiserver at ${sb.nodes[2]!.ip}:6443: ${served3.problem!.message}`)

      // status reads the soonest expiry per cluster from the record
      expect(lastCerts(inv)?.clusters['cluster-02']?.soonest?.status).toBe('warn')
      // only the certificate field of the kubeconfigs left the node: no client key in any log
      const key = /client-key-data: (\S+)/.exec(sb.nodes[0]!.file('/etc/kubernetes/admin.conf')!)![1]!
      const logs = path.join(dir, '.obsctl', 'logs', r.run.runId)
      for (const f of readdirSync(logs, {recursive: true, withFileTypes: true}).filter((e) => e.isFile()))
        expect(readFileSync(path.join(f.parentPath, f.name), 'utf8')).not.toContain(key.slice(0, 40))
    }, 180_000)

    it('a node that cannot be read fails the check: it was not measured', async () => {
      await sb.nodes[0]!.stop()
      try {
        const r = await certsCheck(inv, {...quiet, kubeconfig, clusters: ['cluster-01']})
        expect(r.ok).toBe(false)
        expect(r.exitCode).toBe(1)
        expect(r.clusters[0]!.status).toBe('error')
        expect(r.clusters[0]!.nodes[0]!.error).toMatch(/cannot connect/)
        expect(r.clusters[0]!.nodes[0]!.served).toBeUndefined()
      } finally {
        await sb.nodes[0]!.start()
      }
    }, 180_000)

    it('the CLI exits 1 on an expired certificate and 0 when only warning, with --json an object', async () => {
      requireBuild()
      const env = {KUBECONFIG: kubeconfig}
      const bad = await obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'cluster-03', '--json'], {env})
      expect(bad.status, bad.stderr).toBe(1)
      // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
      expect(bad.stderr).toBe('')
      const j = JSON.parse(bad.stdout)
      expect(j.clusters[0], reported(j.clusters[0])).toMatchObject({cluster: 'cluster-03', status: 'expired'})
      expect(j.clusters[0].nodes[0].served).toMatchObject({status: 'expired', verifyError: 'CERT_HAS_EXPIRED: certificate has expired'})
      const warn = await obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'cluster-02'], {env})
      expect(warn.status, warn.stderr + warn.stdout).toBe(0)
      expect(warn.stdout).toMatch(/cluster-02: WARN — soonest \S+ on \S+: (9|10) days/)
      expect(warn.stdout).toMatch(/‼ expires soon .+ apiserver: (9|10) days/)
      expect(warn.stdout).toMatch(/‼ expires soon \S+ kube-apiserver at \S+:6443 serves its apiserver.crt: (9|10) days/)
      const unknown = await obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'nope'], {env})
      expect(unknown.status).toBe(2)
    }, 180_000)

    it('a kube-apiserver port that refuses is not measured: one handshake, not retried; the check fails naming the endpoint', async () => {
      const r = await certsCheck(portInv, {...quiet, kubeconfig})
      expect(r.exitCode).toBe(1)
      expect(r.summary).toMatchObject({ok: 0, error: 1})
      const n = r.clusters[0]!.nodes[0]!
      expect(r.clusters[0]!.status).toBe('error')
      // the files were read (and are fine); only what is served could not be measured
      expect(n.error).toBeUndefined()
      expect(n.certs.every((c) => c.status === 'ok')).toBe(true)
      expect(n.served).toMatchObject({endpoint: `${sb.nodes[0]!.ip}:6449`, status: 'error', problem: {code: 'APISERVER_UNREACHABLE'}})
      expect(n.served!.cert).toBeUndefined()
      // one attempt: the message of a retried wait says "within N s"
      expect(n.served!.problem!.message).toMatch(/no TLS handshake with 127\.0\.1\.171:6449 \(from the node\): .*nothing answered/)
      expect(n.served!.problem!.message).not.toContain('within')
      expect(n.served!.problem!.hints.join('\n')).toMatch(/crictl ps --name kube-apiserver.*\n.*apiServer URL/)
      expect(formatCertsCheck(r)).toContain(`✖ ${sb.nodes[0]!.hostname} kube-apiserver at ${sb.nodes[0]!.ip}:6449: could not measure`)
    }, 180_000)
  })

  describe.sequential('certs renew', () => {
    it('--dry-run says what it would do and touches nothing', async () => {
      const before = sb.nodes[1]!.file('/etc/kubernetes/pki/apiserver.crt')
      const r = await certsRenew(inv, {...quiet, kubeconfig, clusters: ['cluster-02'], dryRun: true})
      expect(r.plan?.map((p) => [p.phase, p.target])).toEqual([
        ['certs-renew', `cluster-02/${sb.nodes[1]!.ip}`],
        ['kubeconfig', 'cluster-02'],
      ])
      expect(r.plan![0]!.description).toMatch(/kubeadm certs renew all; restart kube-apiserver, kube-controller-manager, kube-scheduler, etcd one at a time/)
      expect(sb.nodes[1]!.file('/etc/kubernetes/pki/apiserver.crt')).toBe(before)
      expect(sb.nodes[1]!.calls().filter((c) => c.cmd === 'kubeadm')).toEqual([])
    }, 120_000)

    it('renews the certificates on the node, restarts each static pod and refreshes the kubeconfig', async () => {
      const node = sb.nodes[1]!
      node.clearCalls()
      const oldKc = kcUserCert(kubeconfig, 'cluster-02-admin')
      const oldApiserver = notAfter(node.file('/etc/kubernetes/pki/apiserver.crt')!)
      const oldCa = node.file('/etc/kubernetes/pki/ca.crt')
      const r = await certsRenew(inv, {...quiet, kubeconfig, clusters: ['cluster-02'], pollMs: 100})
      expect(r.ok, JSON.stringify(r.run.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)

      // the node: a year from now, the same CA
      const year = Date.now() + 365 * 86_400_000
      for (const f of ['apiserver.crt', 'apiserver-kubelet-client.crt', 'front-proxy-client.crt', 'etcd/server.crt', 'etcd/peer.crt']) {
        expect(Math.abs(notAfter(node.file(`/etc/kubernetes/pki/${f}`)!) - year), f).toBeLessThan(3600_000)
      }
      expect(notAfter(node.file('/etc/kubernetes/pki/apiserver.crt')!)).toBeGreaterThan(oldApiserver)
      expect(node.file('/etc/kubernetes/pki/ca.crt')).toBe(oldCa)
      expect(
        node
          .calls()
          .filter((c) => c.cmd === 'kubeadm')
          .map((c) => c.line),
      ).toEqual(['kubeadm certs renew all'])

      // each static pod was stopped (crictl saw no container) and started again (a new container), in order
      expect(r.nodes[0]).toMatchObject({cluster: 'cluster-02', restarted: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']})
      expect(r.nodes[0]!.renewed).toEqual(expect.arrayContaining(['apiserver', 'etcd-server', 'admin']))
      for (const pod of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'])
        expect(node.file(`/etc/kubernetes/manifests/${pod}.yaml`), pod).toBeDefined()
      const crictl = node
        .calls()
        .filter((c) => c.cmd === 'crictl')
        .map((c) => c.args.join(' '))
      const firstOf = (pod: string) => crictl.findIndex((a) => a.includes(`^${pod}$`))
      expect(firstOf('kube-apiserver')).toBeLessThan(firstOf('kube-controller-manager'))
      expect(firstOf('kube-scheduler')).toBeLessThan(firstOf('etcd'))

      // the restarted kube-apiserver serves the renewed apiserver.crt: what obsctl measured from the node, and
      // what the test measures itself
      const renewed = fileCert(node)
      expect(r.nodes[0]!.served).toEqual({
        endpoint: `${node.ip}:${node.apiServerPort}`,
        serial: renewed.serialNumber,
        sha256: renewed.fingerprint256,
        notAfter: new Date(renewed.validTo).toISOString(),
      })
      expect((await servedBy(node)).fingerprint256).toBe(renewed.fingerprint256)
      expect(r.run.phases[0]!.tasks[0]!.summary).toContain('kube-apiserver serves the renewed certificate')

      // the kubeconfig holds the renewed admin certificate
      const newKc = kcUserCert(kubeconfig, 'cluster-02-admin')
      expect(newKc).not.toBe(oldKc)
      expect(newKc).toBe(confCert(node.file('/etc/kubernetes/admin.conf')!))
      expect(r.kubeconfig[0]!.changes.find((c) => c.section === 'users')).toMatchObject({action: 'update'})

      // and a check now finds it fine
      const after = await certsCheck(inv, {...quiet, kubeconfig, clusters: ['cluster-02']})
      expect(after.clusters[0]!.status, reported(after.clusters[0]!)).toBe('ok')
      expect(after.ok).toBe(true)
    }, 240_000)

    it('a manifest left parked by an interrupted run is moved back before anything else', async () => {
      const node = sb.nodes[0]!
      // as if a run was killed between the two moves
      const {onNode} = await import('./helpers.js')
      onNode(
        node,
        'mkdir -p /etc/kubernetes/obsctl-parked-manifests && mv /etc/kubernetes/manifests/kube-scheduler.yaml /etc/kubernetes/obsctl-parked-manifests/',
      )
      expect(node.file('/etc/kubernetes/manifests/kube-scheduler.yaml')).toBeUndefined()
      const r = await certsRenew(inv, {...quiet, kubeconfig, clusters: ['cluster-01'], pollMs: 100})
      expect(r.ok).toBe(true)
      expect(node.file('/etc/kubernetes/manifests/kube-scheduler.yaml')).toBeDefined()
      expect(onNode(node, 'ls -A /etc/kubernetes/obsctl-parked-manifests').trim()).toBe('')
    }, 240_000)

    it('certs check of a kube-apiserver still serving a valid certificate that is not its apiserver.crt: a warning naming both (exit 0), in the table and the object', async () => {
      requireBuild()
      const node = sb.nodes[0]!
      const old = fileCert(node)
      // a restart that does not take: the files renewed on the node, the API server process goes on with the old one
      writeFileSync(switchFile(node, 'apiserver-no-restart'), '')
      try {
        await onNodeAsync(node, 'kubeadm certs renew all >/dev/null')
        const renewed = fileCert(node)
        expect(renewed.fingerprint256).not.toBe(old.fingerprint256)
        expect((await servedBy(node)).fingerprint256).toBe(old.fingerprint256)

        const r = await certsCheck(inv, {...quiet, kubeconfig, clusters: ['cluster-01']})
        const n = r.clusters[0]!.nodes[0]!
        // every file (and the kubeconfig, merged by the renew before) is fine: only what is served is not
        expect(n.certs.every((c) => c.status === 'ok')).toBe(true)
        expect(r.clusters[0]!.kubeconfig.cert?.status).toBe('ok')
        expect(n.served).toMatchObject({
          endpoint: `${node.ip}:6443`,
          cert: {serial: old.serialNumber, sha256: old.fingerprint256, notAfter: iso(old), status: 'ok'},
          file: {serial: renewed.serialNumber, sha256: renewed.fingerprint256, notAfter: iso(renewed)},
          sameAsFile: false,
          status: 'warn',
          problem: {code: 'CERTS_NOT_SERVED'},
        })
        expect(n.served!.problem!.message).toBe(
          `kube-apiserver on root@[${node.ip}]:${node.port} does not serve /etc/kubernetes/pki/apiserver.crt: at ${node.ip}:6443 it serves serial ${old.serialNumber}, until ${iso(old)}, /etc/kubernetes/pki/apiserver.crt is serial ${renewed.serialNumber}, until ${iso(renewed)}`,
        )
        expect(n.served!.problem!.hints.join('\n')).toContain('obsctl certs renew --cluster cluster-01')
        expect(r.clusters[0]!.status, reported(r.clusters[0]!)).toBe('warn')
        expect(r.summary).toEqual({ok: 0, warn: 1, expired: 0, error: 0, notServed: 1})
        expect(r.ok).toBe(true)
        // what clients get counts: the served certificate is among the soonest candidates
        expect(r.clusters[0]!.soonest?.notAfter).toBe(
          [iso(old), ...n.certs.map((c) => c.notAfter), r.clusters[0]!.kubeconfig.cert!.notAfter].sort((a, b) => Date.parse(a) - Date.parse(b))[0],
        )

        // the CLI: exit 0 (a warning, as a certificate expiring within 30 days), the table names both certificates
        const cli = await obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'cluster-01'], {env: {KUBECONFIG: kubeconfig}})
        expect(cli.status, cli.stderr + cli.stdout).toBe(0)
        expect(cli.stdout).toContain('cluster-01: WARN')
        expect(cli.stdout).toContain(
          `‼ NOT SERVED ${node.hostname} kube-apiserver at ${node.ip}:6443 serves another certificate than /etc/kubernetes/pki/apiserver.crt: serial ${old.serialNumber}, ${n.served!.cert!.daysLeft} days (until ${iso(old)}); the file: serial ${renewed.serialNumber}, until ${iso(renewed)}`,
        )
        expect(cli.stdout).toContain('kube-apiserver serves another certificate than its /etc/kubernetes/pki/apiserver.crt on 1 cluster(s)')
      } finally {
        rmSync(switchFile(node, 'apiserver-no-restart'))
        // a restart (the manifest's ctime makes a new container id): it serves the renewed file again
        await onNodeAsync(node, 'touch /etc/kubernetes/manifests/kube-apiserver.yaml && crictl ps -q >/dev/null')
      }
      expect((await servedBy(node)).fingerprint256).toBe(fileCert(node).fingerprint256)
    }, 240_000)

    it("a node whose sshd refuses TCP forwarding: what kube-apiserver serves cannot be measured, so the node's renew fails, naming AllowTcpForwarding", async () => {
      const node = sb.nodes[0]!
      const config = path.join(node.dir, 'sshd_config')
      const original = readFileSync(config, 'utf8')
      writeFileSync(config, original.replace('AllowTcpForwarding yes', 'AllowTcpForwarding no'))
      await node.stop()
      await node.start()
      try {
        const r = await certsRenew(inv, {...quiet, kubeconfig, clusters: ['cluster-01'], pollMs: 100, podTimeoutMs: 60_000})
        expect(r.ok).toBe(false)
        expect(r.exitCode).toBe(1)
        const task = r.run.phases[0]!.tasks[0]!
        expect(task.status).toBe('failed')
        expect(task.error).toMatch(/the node's sshd refused to open a TCP connection to 127\.0\.1\.171:6443/)
        expect(task.failure?.hints?.join('\n')).toContain('AllowTcpForwarding yes')
        // refused at once: not retried until the timeout
        expect(r.run.phases[1]!.status).toBe('not-run')

        // certs check: what is served cannot be measured there either, a failure naming the setting
        const c = await certsCheck(inv, {...quiet, kubeconfig, clusters: ['cluster-01']})
        expect(c.exitCode).toBe(1)
        expect(c.clusters[0]!.status).toBe('error')
        expect(c.clusters[0]!.nodes[0]!.served).toMatchObject({status: 'error', problem: {code: 'SSH_FORWARD_REFUSED'}})
        expect(c.clusters[0]!.nodes[0]!.served!.problem!.hints.join('\n')).toContain('AllowTcpForwarding yes')
      } finally {
        writeFileSync(config, original)
        await node.stop()
        await node.start()
      }
    }, 240_000)

    it('nothing answering at the API server port within the pod timeout fails the renew: a check that could not measure', async () => {
      // the inventory's apiServer URL names a port nothing listens on at the node. The pod timeout is waited out in
      // full (renew retries a refused port: an API server that is starting), so it is short: the static-pod
      // restarts it also bounds are seen at their first poll (the sandbox's crictl reads the manifest folder)
      const r = await certsRenew(portInv, {...quiet, kubeconfig, pollMs: 100, podTimeoutMs: 1000})
      expect(r.exitCode).toBe(1)
      const task = r.run.phases[0]!.tasks[0]!
      expect(task.error).toMatch(
        /could not measure the certificate kube-apiserver serves on .*no TLS handshake with 127\.0\.1\.171:6449 \(from the node\) within 1 s: .*nothing answered/,
      )
      expect(task.failure?.hints?.join('\n')).toMatch(/crictl ps --name kube-apiserver.*\n.*apiServer URL.*\n.*AllowTcpForwarding/)
    }, 240_000)
  })

  describe.sequential('certs renew of an expired control plane whose API server does not restart', () => {
    const node = () => sb.nodes[2]!
    // cluster-03's certificates expired a month ago; its kube-apiserver keeps serving the old one throughout
    beforeAll(() => writeFileSync(switchFile(node(), 'apiserver-no-restart'), ''))
    afterAll(() => rmSync(switchFile(node(), 'apiserver-no-restart'), {force: true}))

    it('what it serves fails verification (expired) while the renewed file verifies: CERTS_NOT_SERVED, with TLS verification on throughout', async () => {
      const r = await certsRenew(inv, {...quiet, kubeconfig, clusters: ['cluster-03'], pollMs: 100})
      expect(r.exitCode).toBe(1)
      const task = r.run.phases[0]!.tasks[0]!
      expect(task.status).toBe('failed')
      expect(task.failure?.code).toBe('CERTS_NOT_SERVED')
      const renewed = new X509Certificate(node().file('/etc/kubernetes/pki/apiserver.crt')!)
      expect(notAfter(renewed.raw)).toBeGreaterThan(Date.now())
      expect(task.error).toContain(
        `does not serve the renewed certificate: at ${node().ip}:6443 it serves a certificate that fails verification (CERT_HAS_EXPIRED: certificate has expired), /etc/kubernetes/pki/apiserver.crt is serial ${renewed.serialNumber}`,
      )
    }, 240_000)

    it('certs check then: every file fresh, the certificate served expired (it fails verification), so the check fails (exit 1), in --json and the table', async () => {
      requireBuild()
      // the renewed admin.conf in a kubeconfig of its own: nothing but what is served is out of date
      const kc3 = path.join(dir, 'kubeconfig-03')
      await kubeconfigMerge(inv, {...quiet, kubeconfig: kc3, clusters: ['cluster-03']})
      const renewed = fileCert(node())
      const out = await obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'cluster-03', '--json'], {env: {KUBECONFIG: kc3}})
      expect(out.status, out.stderr).toBe(1)
      const r = JSON.parse(out.stdout) as CertsCheckResult
      const c = r.clusters[0]!
      expect(c.nodes[0]!.certs.filter((x) => x.status !== 'ok')).toEqual([])
      expect(c.kubeconfig.cert?.status).toBe('ok')
      expect(c.status, reported(c)).toBe('expired')
      expect(r.summary).toEqual({ok: 0, warn: 0, expired: 1, error: 0, notServed: 1})
      const served = c.nodes[0]!.served!
      expect(served).toMatchObject({
        endpoint: `${node().ip}:6443`,
        file: {serial: renewed.serialNumber, sha256: renewed.fingerprint256, notAfter: iso(renewed)},
        sameAsFile: false,
        verifyError: 'CERT_HAS_EXPIRED: certificate has expired',
        status: 'expired',
        problem: {code: 'CERTS_NOT_SERVED'},
      })
      expect(served.cert).toBeUndefined()
      expect(served.problem!.message).toContain(
        `does not serve /etc/kubernetes/pki/apiserver.crt: at ${node().ip}:6443 it serves a certificate that fails verification (CERT_HAS_EXPIRED: certificate has expired), /etc/kubernetes/pki/apiserver.crt is serial ${renewed.serialNumber}`,
      )
      // the table the command prints for that object
      const table = formatCertsCheck(r)
      expect(table).toContain(`✖ EXPIRED ${node().hostname} kube-apiserver at ${node().ip}:6443: ${served.problem!.message}`)
      expect(table).toContain('0 ok, 0 expiring within 30 days or serving another certificate, 1 expired, 0 not measured')
    }, 240_000)
  })
})

describe.concurrent('two control planes in one cluster (nodes 3 and 4)', () => {
  /**
   * A renew of a cluster with two control planes (nodes 3 and 4, their own inventory and journal) stopped
   * after the first node: by a failure of the second, then by a SIGKILL of the CLI. The rerun takes the
   * renew up (the first node is not renewed or restarted again, asserted from the shims' call logs and
   * the certificate files), the kubeconfig is refreshed; a renew after a finished one renews every node.
   */
  describe.sequential('certs renew, resumed per node', () => {
    let inv2: LoadedInventory
    let kc2: string
    const a = () => sb.nodes[3]!
    const b = () => sb.nodes[4]!
    const kubeadmCalls = (n: Sandbox['nodes'][number]) =>
      n
        .calls()
        .filter((c) => c.cmd === 'kubeadm')
        .map((c) => c.line)
    const crictlCalls = (n: Sandbox['nodes'][number]) => n.calls().filter((c) => c.cmd === 'crictl').length
    const statuses = (r: {run: {phases: {name: string; tasks: {target: string; status: string}[]}[]}}) =>
      Object.fromEntries(r.run.phases.flatMap((p) => p.tasks.map((t) => [`${p.name} ${t.target}`, t.status])))
    const clear = () => {
      a().clearCalls()
      b().clearCalls()
    }

    beforeAll(async () => {
      await Promise.all([seedControlPlane(sb, a(), {until: days(20)}), seedControlPlane(sb, b(), {until: days(20)})])
      const dir2 = mkdtempSync(path.join(os.tmpdir(), 'obsctl-certs-2cp-'))
      const text = sandboxInventory(sb, [[3, 4]]).replace(`name: ${b().hostname}, roles: [worker]`, `name: ${b().hostname}, roles: [control-plane, worker]`)
      writeFileSync(path.join(dir2, 'obsctl.yaml'), text)
      inv2 = loadInventory(path.join(dir2, 'obsctl.yaml'))
      expect(inv2.platform.clusters[0]!.nodes.map((n) => n.roles.includes('control-plane'))).toEqual([true, true])
      kc2 = path.join(dir2, 'kubeconfig')
      await kubeconfigMerge(inv2, {...quiet, kubeconfig: kc2})
    }, 240_000)

    it('failed on the second control plane: the rerun renews only that node and refreshes the kubeconfig; the next renew renews both', async () => {
      const [ta, tb] = [`cluster-01/${a().ip}`, `cluster-01/${b().ip}`]
      const oldKc = kcUserCert(kc2, 'cluster-01-admin')
      clear()
      b().setFailOn('kubeadm certs renew')
      let first
      try {
        first = await certsRenew(inv2, {...quiet, kubeconfig: kc2, pollMs: 100})
      } finally {
        b().setFailOn(undefined)
      }
      expect(first.ok).toBe(false)
      expect(statuses(first)).toEqual({[`certs-renew ${ta}`]: 'done', [`certs-renew ${tb}`]: 'failed'})
      expect(first.run.phases.map((p) => [p.name, p.status])).toEqual([
        ['certs-renew', 'failed'],
        ['kubeconfig', 'not-run'],
      ])
      expect(kubeadmCalls(a())).toEqual(['kubeadm certs renew all'])
      const aCert = a().file('/etc/kubernetes/pki/apiserver.crt')
      const bCert = b().file('/etc/kubernetes/pki/apiserver.crt')
      expect(notAfter(aCert!)).toBeGreaterThan(Date.now() + 300 * 86_400_000)
      expect(notAfter(bCert!)).toBeLessThan(Date.now() + 30 * 86_400_000)
      expect(kcUserCert(kc2, 'cluster-01-admin')).toBe(oldKc)

      // the dry run of the rerun shows the first node skipped
      const dry = await certsRenew(inv2, {...quiet, kubeconfig: kc2, dryRun: true})
      expect(dry.plan?.map((p) => [p.target, p.skip])).toEqual([
        [ta, true],
        [tb, false],
        ['cluster-01', false],
      ])

      clear()
      const again = await certsRenew(inv2, {...quiet, kubeconfig: kc2, pollMs: 100})
      expect(again.ok, JSON.stringify(again.run.phases.flatMap((p) => p.tasks.map((t) => t.error)))).toBe(true)
      expect(statuses(again)).toEqual({[`certs-renew ${ta}`]: 'unchanged', [`certs-renew ${tb}`]: 'done', 'kubeconfig cluster-01': 'done'})
      // the first node: not renewed again, no static pod restarted; its certificate is the first run's
      expect(kubeadmCalls(a()).filter((l) => l.startsWith('kubeadm certs'))).toEqual([])
      expect(crictlCalls(a())).toBe(0)
      expect(a().file('/etc/kubernetes/pki/apiserver.crt')).toBe(aCert)
      expect(kubeadmCalls(b())).toEqual(['kubeadm certs renew all'])
      expect(notAfter(b().file('/etc/kubernetes/pki/apiserver.crt')!)).toBeGreaterThan(Date.now() + 300 * 86_400_000)
      // one renew, begun by the first run
      expect(again.nodes.map((n) => n.renew)).toEqual([first.run.runId, first.run.runId])
      // the kubeconfig holds the renewed admin certificate of the node it reads admin.conf from
      const newKc = kcUserCert(kc2, 'cluster-01-admin')
      expect(newKc).not.toBe(oldKc)
      expect([confCert(a().file('/etc/kubernetes/admin.conf')!), confCert(b().file('/etc/kubernetes/admin.conf')!)]).toContain(newKc)

      // that renew finished: the next one renews every node again
      clear()
      const fresh = await certsRenew(inv2, {...quiet, kubeconfig: kc2, pollMs: 100})
      expect(fresh.ok).toBe(true)
      expect(statuses(fresh)).toEqual({[`certs-renew ${ta}`]: 'done', [`certs-renew ${tb}`]: 'done', 'kubeconfig cluster-01': 'done'})
      expect(kubeadmCalls(a())).toEqual(['kubeadm certs renew all'])
      expect(kubeadmCalls(b())).toEqual(['kubeadm certs renew all'])
      expect(fresh.nodes.map((n) => n.renew)).toEqual([fresh.run.runId, fresh.run.runId])
    }, 360_000)

    it('the CLI killed (SIGKILL) after the first control plane: the rerun renews only the second', async () => {
      requireBuild()
      const env = {KUBECONFIG: kc2}
      const args = ['certs', 'renew', '-c', inv2.file, '--pod-timeout', '60']
      const oldKc = kcUserCert(kc2, 'cluster-01-admin')
      clear()
      // the second node's task is recorded running: the first one is done in the journal
      const killed = await obsctl(args, {env: {...env, OBSCTL_TEST_KILL_AT: 'certs-renew:start:2'}})
      expect(killed.status, killed.stderr).toBeNull()
      expect(kubeadmCalls(a())).toEqual(['kubeadm certs renew all'])
      expect(kubeadmCalls(b())).toEqual([])
      const aCert = a().file('/etc/kubernetes/pki/apiserver.crt')

      clear()
      const again = await obsctl([...args, '--json'], {env})
      expect(again.status, again.stderr + again.stdout.slice(0, 2000)).toBe(0)
      const j = JSON.parse(again.stdout) as {nodes: {host: string}[]; run: {phases: {name: string; tasks: {target: string; status: string}[]}[]}}
      expect(statuses(j)).toMatchObject({[`certs-renew cluster-01/${a().ip}`]: 'unchanged', [`certs-renew cluster-01/${b().ip}`]: 'done'})
      expect(kubeadmCalls(a()).filter((l) => l.startsWith('kubeadm certs'))).toEqual([])
      expect(crictlCalls(a())).toBe(0)
      expect(a().file('/etc/kubernetes/pki/apiserver.crt')).toBe(aCert)
      expect(kubeadmCalls(b())).toEqual(['kubeadm certs renew all'])
      expect(kcUserCert(kc2, 'cluster-01-admin')).not.toBe(oldKc)
    }, 360_000)

    it("the CLI killed (SIGKILL) inside the second control plane's kubeadm certs renew, which goes on on the node: the rerun's steps there wait for it (the node's obsctl lock)", async () => {
      requireBuild()
      clear()
      const args = ['certs', 'renew', '-c', inv2.file, '--pod-timeout', '60']
      const held = await killWhileHeld({
        node: b(),
        hold: 'kubeadm certs renew',
        args,
        env: {KUBECONFIG: kc2},
        invDir: inv2.dir,
        waiting: 'another obsctl step is running on this node',
        changes: () => b().calls().length,
        rerun: () => obsctl([...args, '--json'], {env: {KUBECONFIG: kc2}}),
      })
      // nothing run on the node beside the killed run's renew while it worked
      expect(held.whileWaiting).toBe(held.atKill)
      const again = await held.rerun
      releaseHold(b())
      expect(again.status, again.stderr + again.stdout.slice(0, 2000)).toBe(0)
      expect(taskLogsSay(inv2.dir, 'the other step ended: going on')).toBe(true)
      // the rerun renews the node again after the killed run's renew ended, and restarts its static pods
      expect(kubeadmCalls(b())).toEqual(['kubeadm certs renew all', 'kubeadm certs renew all'])
      expect(crictlCalls(b())).toBeGreaterThan(0)
    }, 600_000)

    it("a kube-apiserver that did not restart (its old process still serving the old certificate) fails that node's renew, naming served and file; the other node's work is kept and the rerun finishes", async () => {
      requireBuild()
      const env = {KUBECONFIG: kc2}
      const args = ['certs', 'renew', '-c', inv2.file, '--pod-timeout', '60']
      // the second control plane's API server process survives its container's restarts
      writeFileSync(switchFile(b(), 'apiserver-no-restart'), '')
      const oldServed = await servedBy(b())
      expect(oldServed.fingerprint256).toBe(fileCert(b()).fingerprint256)
      clear()
      let failed
      try {
        failed = await obsctl([...args, '--json'], {env})
      } finally {
        rmSync(switchFile(b(), 'apiserver-no-restart'))
      }
      expect(failed.status, failed.stderr + failed.stdout.slice(0, 2000)).toBe(1)
      // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
      expect(failed.stderr).toBe('')
      const j = JSON.parse(failed.stdout) as {
        ok: boolean
        run: {phases: {name: string; status: string; tasks: {target: string; status: string; failure?: {message: string; code: string; hints: string[]}}[]}[]}
      }
      expect(statuses(j)).toEqual({[`certs-renew cluster-01/${a().ip}`]: 'done', [`certs-renew cluster-01/${b().ip}`]: 'failed'})
      expect(j.run.phases.map((p) => [p.name, p.status])).toEqual([
        ['certs-renew', 'failed'],
        ['kubeconfig', 'not-run'],
      ])
      const failure = j.run.phases[0]!.tasks[1]!.failure!
      // the files were renewed and the pods "restarted"; what it serves is still the old certificate
      const renewedB = fileCert(b())
      expect(renewedB.fingerprint256).not.toBe(oldServed.fingerprint256)
      expect((await servedBy(b())).fingerprint256).toBe(oldServed.fingerprint256)
      expect(kubeadmCalls(b())).toEqual(['kubeadm certs renew all'])
      expect(failure.code).toBe('CERTS_NOT_SERVED')
      expect(failure.message).toContain(
        `does not serve the renewed certificate: at ${b().ip}:6443 it serves serial ${oldServed.serialNumber}, until ${new Date(oldServed.validTo).toISOString()}, /etc/kubernetes/pki/apiserver.crt is serial ${renewedB.serialNumber}, until ${new Date(renewedB.validTo).toISOString()}`,
      )
      expect(failure.hints.join('\n')).toContain('crictl ps --name kube-apiserver')
      expect(failure.hints.join('\n')).toContain('rerun obsctl certs renew --cluster cluster-01')
      // the first node's work stands: renewed, and its API server serves it
      const aCert = a().file('/etc/kubernetes/pki/apiserver.crt')
      expect((await servedBy(a())).fingerprint256).toBe(fileCert(a()).fingerprint256)

      // the API server restarts normally again: the rerun renews only the second node and finishes
      clear()
      const again = await obsctl([...args, '--json'], {env})
      expect(again.status, again.stderr + again.stdout.slice(0, 2000)).toBe(0)
      const k = JSON.parse(again.stdout) as {
        nodes: {host: string; served: {sha256: string}}[]
        run: {phases: {name: string; tasks: {target: string; status: string}[]}[]}
      }
      expect(statuses(k)).toEqual({
        [`certs-renew cluster-01/${a().ip}`]: 'unchanged',
        [`certs-renew cluster-01/${b().ip}`]: 'done',
        'kubeconfig cluster-01': 'done',
      })
      expect(kubeadmCalls(a()).filter((l) => l.startsWith('kubeadm certs'))).toEqual([])
      expect(a().file('/etc/kubernetes/pki/apiserver.crt')).toBe(aCert)
      expect(k.nodes.find((n) => n.host === b().ip)!.served.sha256).toBe(fileCert(b()).fingerprint256)
      expect((await servedBy(b())).fingerprint256).toBe(fileCert(b()).fingerprint256)
    }, 360_000)
  })
})
