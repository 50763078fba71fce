/**
 * `node install` (the nodes phase) against real OpenSSH servers: the real rendered install-k8s.sh runs
 * over SSH in each sandboxed node; system commands are recording shims (test/support/README-nodes.md).
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {parse} from 'yaml'
import {loadInventory} from '../../src/lib/config/load.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {runNodeInstall} from '../../src/lib/nodes/run.js'
import type {RunEvent} from '../../src/lib/engine/index.js'
import {startSandbox, type Sandbox} from '../support/sshd.js'
import {MUTATING, filesUnder, inventoryFor, tasks} from './helpers.js'
import {killWhileHeld, releaseHold} from '../support/kill-held.js'
import {taskLogsSay} from '../support/task-logs.js'
import {waitFor} from '../support/wait.js'
import {BIN, obsctl, requireBuild} from '../cli/helpers.js'
import {NODE_LOCK_FILE} from '../../src/lib/nodes/lock.js'

describe('a two-node cluster (control plane + worker)', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(2, {firstIp: 11})
  })
  afterAll(async () => sb?.stop())

  test('first run installs: init + Cilium on the control plane, join on the worker; second run changes nothing', async () => {
    const inv = inventoryFor(sb, [[0, 1]])
    const [cp, worker] = sb.nodes as [Sandbox['nodes'][0], Sandbox['nodes'][0]]
    const events: RunEvent[] = []
    // what a run killed beyond its script's EXIT trap (SIGKILL, a reboot) leaves: a join configuration with a token
    for (const n of [cp, worker])
      n.writeFile('/root/.obsctl/kubeadm-join-0123456789ab.yaml', 'discovery: {bootstrapToken: {token: abcdef.0123456789abcdef}}\n', 0o600)
    const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20, onEvent: (e) => events.push(e)})
    expect(tasks(r).map((t) => [t.target, t.status])).toEqual([
      [`cluster-01/${cp.ip}`, 'done'],
      [`cluster-01/${worker.ip}`, 'done'],
    ])
    expect(tasks(r)[0]!.summary).toMatch(/^installed \(\d+ changes\), Ready$/)
    // the script removed it once it held the node's install lock (no other install script can be reading it then)
    expect(cp.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
    expect(readFileSync(tasks(r)[0]!.logFile!, 'utf8')).toContain(
      'removed /root/.obsctl/kubeadm-join-0123456789ab.yaml, a join configuration a killed run left',
    )

    const cpCalls = cp.calls().map((c) => c.line)
    const wCalls = worker.calls().map((c) => c.line)
    // control plane: packages pinned to the inventory's version, kubeadm init from a config file, Cilium, taint removed
    expect(cpCalls).toContain(
      'apt-get install -y -q -o DPkg::Lock::Timeout=300 --allow-change-held-packages kubelet=1.34.1-1.1 kubeadm=1.34.1-1.1 kubectl=1.34.1-1.1',
    )
    expect(cpCalls).toContain('apt-mark hold kubelet kubeadm kubectl')
    // without the join command's bootstrap token (or a certificate key) in its output: that goes to the task log
    expect(cpCalls).toContain('kubeadm init --config /var/lib/obsctl/kubeadm-init.yaml --skip-token-print --skip-certificate-key-print')
    expect(cpCalls).toContain('cilium install --version 1.18.2 --values /var/lib/obsctl/cilium-values.yaml')
    // the values file on the node is the repository's cilium values (one source; inline in the cluster's
    // cilium kustomization), and no LB pool is applied
    const kustomization = renderFiles(inv.platform).find(
      (f) => f.path === `deploy/overlays/${inv.platform.clusters[0]!.name}-central/cilium/kustomization.yaml`,
    )!
    const repoValues = (parse(kustomization.content) as {helmCharts: {valuesInline: Record<string, unknown>}[]}).helmCharts[0]!.valuesInline
    expect(parse(cp.file('/var/lib/obsctl/cilium-values.yaml')!)).toEqual(repoValues)
    expect(repoValues).toMatchObject({l2announcements: {enabled: true}, kubeProxyReplacement: true, k8sClientRateLimit: {qps: 50, burst: 100}})
    expect(cpCalls.some((l) => l.startsWith('kubectl apply'))).toBe(false)
    expect(cpCalls).toContain(`kubectl taint nodes ${cp.hostname} node-role.kubernetes.io/control-plane:NoSchedule-`)
    expect(cpCalls).toContain('kubeadm token create --print-join-command --ttl 30m')
    expect(cpCalls).toContain('modprobe br_netfilter')
    expect(cpCalls).toContain('systemctl enable --now containerd')
    expect(cpCalls.some((l) => l.startsWith('kubeadm join'))).toBe(false)
    // worker: the same node preparation, then kubeadm join from an uploaded config; no init, no Cilium
    // the join configuration's name is the run's own (a killed run's script removes only its own file)
    expect(wCalls.filter((l) => l.startsWith('kubeadm join'))).toEqual([
      expect.stringMatching(/^kubeadm join --config \/root\/\.obsctl\/kubeadm-join-[0-9a-f]{12}\.yaml$/),
    ])
    expect(wCalls).toContain('apt-get install -y -q -o DPkg::Lock::Timeout=300 ca-certificates curl gpg containerd open-iscsi nfs-common')
    expect(wCalls.some((l) => l.startsWith('kubeadm init') || l.startsWith('cilium'))).toBe(false)
    // readiness verified with kubectl on the control plane, for both nodes
    for (const n of [cp, worker]) expect(cpCalls.some((l) => l.startsWith(`kubectl --kubeconfig /etc/kubernetes/admin.conf get node ${n.hostname}`))).toBe(true)

    // files the script wrote, inside each node
    expect(cp.file('/etc/containerd/config.toml')).toContain('SystemdCgroup = true')
    expect(cp.file('/etc/apt/sources.list.d/kubernetes.list')).toBe(
      'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n',
    )
    expect(cp.file('/etc/sysctl.d/99-kubernetes.conf')).toContain('net.ipv4.ip_forward = 1')
    const init = cp.file('/var/lib/obsctl/kubeadm-init.yaml')!
    expect(init).toContain('podSubnet: 10.244.0.0/16')
    expect(init).toContain('serviceSubnet: 10.96.0.0/12')
    expect(init).toContain(`controlPlaneEndpoint: ${cp.ip}:6443`)
    expect(init).toContain('kubernetesVersion: "v1.34.1"')
    expect(init).toContain('- addon/kube-proxy')
    expect(cp.file('/etc/kubernetes/admin.conf')).toBeDefined()
    // the join configuration (it holds the bootstrap token) is gone from the worker, and no token is in a log (the
    // worker's, from kubeadm token create; kubeadm init's, withheld as kubeadm prints it under --skip-token-print)
    // nor in a progress event
    // (~/.obsctl holds the script only: no join configuration, no temporary file of an upload)
    expect(worker.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
    expect(readFileSync(tasks(r)[0]!.logFile!, 'utf8')).toContain('--token <value withheld>')
    const progress = events.flatMap((e) => (e.type === 'task-progress' ? [e.line] : []))
    expect(progress.length).toBeGreaterThan(0)
    for (const text of [...filesUnder(`${inv.dir}/.obsctl`).map((f) => f.content), progress.join('\n')]) {
      expect(text).not.toContain('0123456789abcdef')
      expect(text).not.toContain('sandboxinittoken')
    }

    // second run: the journal skips both nodes
    const again = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(tasks(again).map((t) => t.status)).toEqual(['unchanged', 'unchanged'])

    // --restart: the script runs again on both; every step finds its work done
    cp.clearCalls()
    worker.clearCalls()
    const restarted = await runNodeInstall(inv, {renderer: 'silent', restart: true, readyTimeoutSeconds: 20})
    expect(tasks(restarted).map((t) => [t.status, t.summary])).toEqual([
      ['done', 'already installed, Ready'],
      ['done', 'already installed, Ready'],
    ])
    for (const n of [cp, worker]) {
      const changed = n.calls().filter((c) => MUTATING.some((re) => re.test(c.line)))
      expect(
        changed.map((c) => c.line),
        n.ip,
      ).toEqual([])
    }
    // no new token was created for a worker that had already joined
    expect(cp.calls().some((c) => c.line.startsWith('kubeadm token create'))).toBe(false)
    const log = readFileSync(tasks(restarted)[0]!.logFile!, 'utf8')
    expect(log).toContain('already installed')
  })

  test("what a killed run left in a worker's home: node preflight names node install of that node alone, which removes it and touches no other node", async () => {
    requireBuild()
    const inv = inventoryFor(sb, [[0, 1]])
    const [cp, worker] = sb.nodes as [Sandbox['nodes'][0], Sandbox['nodes'][0]]
    // an earlier obsctl's upload file (named without its connection), two days old, on both nodes
    const left = '/root/.obsctl/.obsctl-upload-0123456789abcdef-install-k8s.sh'
    for (const n of [cp, worker]) {
      n.writeFile(left, 'script\n', 0o600)
      expect(spawnSync('nsenter', ['-t', String(n.pid()), '-m', 'touch', '-d', '2 days ago', left]).status).toBe(0)
    }
    const pre = await obsctl(['node', 'preflight', 'cluster-01', '-c', inv.file, '--json'])
    const checks = (JSON.parse(pre.stdout) as {checks: {host: string; id: string; status: string; hint?: string}[]}).checks
    const found = checks.find((c) => c.id === 'leftovers' && c.host === worker.ip)!
    expect(found.status).toBe('warn')
    const command = /^obsctl (node install \S+ --host \S+ --restart) removes the ones in the login user's home/.exec(found.hint ?? '')?.[1]
    expect(command, found.hint).toBe(`node install cluster-01 --host ${worker.ip} --restart`)

    cp.clearCalls()
    worker.clearCalls()
    const r = await obsctl([...command!.split(' '), '-c', inv.file, '--json'])
    expect(r.status, r.stderr).toBe(0)
    const run = JSON.parse(r.stdout) as {phases: {tasks: {target: string; status: string}[]}[]}
    expect(run.phases.flatMap((p) => p.tasks.map((t) => [t.target, t.status]))).toEqual([[`cluster-01/${worker.ip}`, 'done']])
    expect(worker.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
    // the control plane: not installed again, its own leftover for its own command (backup create)
    expect(cp.list('/root/.obsctl').sort()).toEqual(['.obsctl-upload-0123456789abcdef-install-k8s.sh', 'install-k8s.sh'])
    // (only read: the worker's Ready, which the control plane's kubectl answers)
    expect(cp.calls().filter((c) => !c.line.startsWith(`kubectl --kubeconfig /etc/kubernetes/admin.conf get node ${worker.hostname} `))).toEqual([])
    cp.writeFile(left, '', 0o600)
    expect(spawnSync('nsenter', ['-t', String(cp.pid()), '-m', 'rm', left]).status).toBe(0)

    // --host is a node of the clusters given, by address or name
    const byName = await obsctl(['node', 'install', 'cluster-01', '--host', worker.hostname, '-c', inv.file, '--dry-run', '--json'])
    expect(byName.status, byName.stderr).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(byName.stderr).toBe('')
    expect((JSON.parse(byName.stdout) as typeof run).phases.flatMap((p) => p.tasks.map((t) => t.target))).toEqual([`cluster-01/${worker.ip}`])
    const bad = await obsctl(['node', 'install', 'cluster-01', '--host', '127.0.1.250', '-c', inv.file])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('--host 127.0.1.250: no node of cluster-01 has that address or name')
    expect(bad.stderr).toContain(`${worker.ip} (${worker.hostname})`)
  })
})

describe('four single-node clusters', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(4, {firstIp: 21})
  })
  afterAll(async () => sb?.stop())

  test('one node failing leaves the others done; the rerun completes only it', async () => {
    const inv = inventoryFor(sb, [[0], [1], [2], [3]])
    const bad = sb.nodes[2]!
    bad.setFailOn('kubeadm init')
    const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(r.ok).toBe(false)
    expect(r.exitCode).toBe(1)
    const status = Object.fromEntries(tasks(r).map((t) => [t.target, t.status]))
    expect(status).toEqual({
      [`cluster-01/${sb.nodes[0]!.ip}`]: 'done',
      [`cluster-02/${sb.nodes[1]!.ip}`]: 'done',
      [`cluster-03/${bad.ip}`]: 'failed',
      [`cluster-04/${sb.nodes[3]!.ip}`]: 'done',
    })
    const failed = tasks(r).find((t) => t.status === 'failed')!
    expect(failed.error).toContain('install-k8s.sh failed')
    expect(failed.error).toContain('injected failure of: kubeadm init')
    expect(readFileSync(failed.logFile!, 'utf8')).toContain('sandbox: injected failure')

    bad.setFailOn(undefined)
    for (const n of sb.nodes) n.clearCalls()
    const rerun = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(rerun.ok).toBe(true)
    expect(tasks(rerun).map((t) => t.status)).toEqual(['unchanged', 'unchanged', 'done', 'unchanged'])
    expect(sb.nodes.map((n) => n.calls().length > 0)).toEqual([false, false, true, false])
    // the finished steps of the failed run are not repeated
    expect(bad.calls().some((c) => c.line.startsWith('apt-get install -y -q -o DPkg::Lock::Timeout=300 ca-certificates'))).toBe(false)
    expect(bad.calls().map((c) => c.line)).toContain('kubeadm init --config /var/lib/obsctl/kubeadm-init.yaml --skip-token-print --skip-certificate-key-print')
  })
})

describe('another process on the node: an apt holding its locks, a killed run still working', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(2, {firstIp: 15})
  })
  afterAll(async () => sb?.stop())
  /** node i's shim state folder (test/support/README-nodes.md), made before its first call */
  const stateOf = (i: number) => {
    const st = path.join(sb.nodes[i]!.dir, 'state')
    mkdirSync(st, {recursive: true})
    return st
  }

  test('unattended-upgrades at a first boot: apt-get update is tried again while the lists are locked, apt-get install waits for dpkg', async () => {
    const n = sb.nodes[0]!
    // the shim answers as apt 2.6 does: update fails at once on the lists lock; install fails at once on dpkg's
    // lock unless told to wait for it
    const st = stateOf(0)
    writeFileSync(path.join(st, 'apt-lists-locked'), '1')
    writeFileSync(path.join(st, 'dpkg-locked'), '')
    const r = await runNodeInstall(inventoryFor(sb, [[0]]), {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    const calls = n.calls().map((c) => c.line)
    // the first update found the lock, the second ran; the packages were installed after all
    expect(calls.filter((l) => l === 'apt-get update -q').length).toBeGreaterThanOrEqual(2)
    expect(readFileSync(path.join(st, 'apt-lists-locked'), 'utf8').trim()).toBe('0')
    expect(calls).toContain('apt-get install -y -q -o DPkg::Lock::Timeout=300 ca-certificates curl gpg containerd open-iscsi nfs-common')
    expect(existsSync(path.join(st, 'dpkg-locked'))).toBe(false)
    expect(readFileSync(tasks(r)[0]!.logFile!, 'utf8')).toContain('waiting for another apt to release its lock')
  })

  test("a killed run's script still working: the rerun waits for it instead of racing it through the same steps (one kubeadm init)", async () => {
    const n = sb.nodes[1]!
    const inv = inventoryFor(sb, [[1]])
    const kubeadmInits = () => n.calls().filter((c) => c.line.startsWith('kubeadm init')).length
    // the first run's kubeadm init held on the node, the run killed: its script goes on (sshd does not end it); the
    // rerun's script waits for the node's install lock (its task log says so, as it happens)
    const held = await killWhileHeld({
      node: n,
      hold: 'kubeadm init',
      args: ['node', 'install', '-c', inv.file],
      invDir: inv.dir,
      waiting: 'another install-k8s.sh is running on this node',
      changes: kubeadmInits,
      rerun: () => runNodeInstall(loadInventory(inv.file), {renderer: 'silent', readyTimeoutSeconds: 20}),
    })
    expect(held.whileWaiting).toBe(1)
    // the killed run's kubeadm init went on; its script ended, and the rerun's went on after it
    const r = await held.rerun
    releaseHold(n)
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    expect(kubeadmInits()).toBe(1)
    expect(taskLogsSay(inv.dir, 'the other install-k8s.sh ended: going on')).toBe(true)
  })
})

describe("a worker's join configuration (a join token) does not outlive a failed step", () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(2, {firstIp: 91})
  })
  afterAll(async () => sb?.stop())
  /** the join configurations in the worker's ~/.obsctl (each run's has a name of its own) */
  const joinFiles = (n: Sandbox['nodes'][0]) => n.list('/root/.obsctl').filter((f) => f.startsWith('kubeadm-join'))
  /** run a command in the node's mount namespace (its view of /root and /var/lib) */
  const inNode = (n: Sandbox['nodes'][0], args: string[]) => spawnSync('nsenter', ['-t', String(n.pid()), '-m', ...args], {encoding: 'utf8'})

  test('the step throws after the join configuration went up (the script cannot be uploaded): obsctl removes it', async () => {
    const [cp, worker] = sb.nodes as [Sandbox['nodes'][0], Sandbox['nodes'][0]]
    const inv = inventoryFor(sb, [[0, 1]])
    // a folder where the script goes: its upload fails after the join configuration's
    expect(inNode(worker, ['mkdir', '-p', '/root/.obsctl/install-k8s.sh']).status).toBe(0)
    try {
      const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
      expect(tasks(r).map((t) => t.status)).toEqual(['done', 'failed'])
      expect(tasks(r)[1]!.error).toMatch(/install-k8s\.sh/)
      expect(cp.calls().some((c) => c.line.startsWith('kubeadm token create'))).toBe(true)
      // nothing else left either: no temporary file of the failed upload
      expect(worker.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
      expect(worker.calls().some((c) => c.line.startsWith('kubeadm join'))).toBe(false)
    } finally {
      inNode(worker, ['rmdir', '/root/.obsctl/install-k8s.sh'])
    }
  })

  test("Ctrl-C while kubeadm join runs: the run's connections are closed, and the script removes it when it ends", async () => {
    requireBuild()
    const worker = sb.nodes[1]!
    const inv = inventoryFor(sb, [[0, 1]])
    const st = path.join(worker.dir, 'state')
    writeFileSync(path.join(st, 'block-on'), 'kubeadm join')
    const child = spawn(process.execPath, [BIN, 'node', 'install', '--restart', '-c', inv.file], {
      env: {...process.env, CI: '1', NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      await waitFor(() => existsSync(path.join(st, 'blocked')) || child.exitCode !== null, 120_000, 'kubeadm join on the worker')
      expect(child.exitCode, output).toBeNull()
      const [join, ...more] = joinFiles(worker)
      expect(more).toEqual([])
      expect(worker.file(`/root/.obsctl/${join}`)).toContain('token:')
      child.kill('SIGINT')
      expect(await closed, output).toBe(130)
      // the held kubeadm join ends as one whose session went away; the script's lock is free once it has ended
      writeFileSync(path.join(st, 'unblock'), 'fail')
      await waitFor(() => inNode(worker, ['flock', '-n', NODE_LOCK_FILE, 'true']).status === 0, 60_000, 'install-k8s.sh on the worker to end')
      expect(joinFiles(worker)).toEqual([])
    } finally {
      child.kill('SIGKILL')
      writeFileSync(path.join(st, 'unblock'), 'fail')
      releaseHold(worker)
    }
  })

  test("a killed run's script still running: its cleanup removes its own join configuration, not the rerun's", async () => {
    requireBuild()
    const worker = sb.nodes[1]!
    const inv = inventoryFor(sb, [[0, 1]])
    const joins = () => worker.calls().filter((c) => c.line.startsWith('kubeadm join'))
    const before = joins().length
    // the first run's kubeadm join held on the worker, the run killed: its script goes on. The rerun uploads its
    // join configuration and the script again, and its script waits for the node lock; then the held kubeadm join
    // fails (its session went away), and the killed run's script ends through its EXIT trap, which removes its
    // join configuration
    const held = await killWhileHeld({
      node: worker,
      hold: 'kubeadm join',
      args: ['node', 'install', '-c', inv.file],
      invDir: inv.dir,
      waiting: 'another install-k8s.sh is running on this node',
      changes: () => joinFiles(worker),
      rerun: () => runNodeInstall(loadInventory(inv.file), {renderer: 'silent', readyTimeoutSeconds: 20}),
      release: 'fail',
    })
    const r = await held.rerun
    releaseHold(worker)
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    // while the rerun waited: the killed run's join configuration and the rerun's, side by side
    expect(held.atKill).toHaveLength(1)
    expect(held.whileWaiting).toEqual(expect.arrayContaining(held.atKill as string[]))
    expect(held.whileWaiting).toHaveLength(2)
    // the rerun's script found its own file after the killed one's cleanup, and joined with it
    const ours = (held.whileWaiting as string[]).find((f) => !(held.atKill as string[]).includes(f))!
    expect(
      joins()
        .slice(before)
        .map((c) => c.line),
    ).toEqual([`kubeadm join --config /root/.obsctl/${(held.atKill as string[])[0]}`, `kubeadm join --config /root/.obsctl/${ours}`])
    expect(readFileSync(path.join(sb.clustersDir, sb.nodes[0]!.ip, worker.hostname), 'utf8').trim()).toBe('worker')
    expect(worker.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
  })

  test('a run killed while it uploads leaves the file beside its target, named after its connection: the next install removes it before it uploads', async () => {
    requireBuild()
    const inv = inventoryFor(sb, [[0, 1]])
    const killed = await obsctl(['node', 'install', '--restart', '-c', inv.file], {env: {OBSCTL_TEST_KILL_AT: 'ssh-upload:written'}})
    expect(killed.status, killed.stderr).toBeNull()
    // the upload that reached the point (and any other that had written its bytes), in ~/.obsctl on its node
    const left = sb.nodes.flatMap((n) =>
      n
        .list('/root/.obsctl')
        .filter((f) => f.startsWith('.obsctl-upload-'))
        .map((f) => ({n, f, m: /^\.obsctl-upload-(\d+)\.(\d+)-[0-9a-f]{16}-install-k8s\.sh$/.exec(f)})),
    )
    expect(left.length, sb.nodes.map((n) => n.list('/root/.obsctl').join(' ')).join(' | ')).toBeGreaterThan(0)
    for (const {n, f, m} of left) {
      expect(m, f).toBeTruthy()
      await waitFor(
        () => inNode(n, ['sh', '-c', `awk '{print $22}' /proc/${m![1]}/stat 2>/dev/null; true`]).stdout.trim() !== m![2],
        60_000,
        'the killed run’s connection to end',
      )
    }
    const r = await runNodeInstall(loadInventory(inv.file), {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    for (const {n, f} of left) {
      expect(n.list('/root/.obsctl')).toEqual(['install-k8s.sh'])
      expect(taskLogsSay(inv.dir, `removed what a run no longer running left on root@[${n.ip}]:${n.port}: /root/.obsctl/${f} (since `)).toBe(true)
    }
  })
})

describe('RHEL family', () => {
  let sb: Sandbox
  beforeAll(async () => {
    sb = await startSandbox(
      [{osRelease: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n'}],
      {firstIp: 51},
    )
  })
  afterAll(async () => sb?.stop())

  test("dnf, the rpm repository pinned to the minor, containerd.io from Docker's repository", async () => {
    const inv = inventoryFor(sb, [[0]])
    const r = await runNodeInstall(inv, {renderer: 'silent', readyTimeoutSeconds: 20})
    expect(r.ok, JSON.stringify(tasks(r))).toBe(true)
    const n = sb.nodes[0]!
    const calls = n.calls().map((c) => c.line)
    expect(calls).toContain('dnf install -y -q ca-certificates curl containerd.io iscsi-initiator-utils nfs-utils')
    expect(calls).toContain('dnf install -y -q --disableexcludes=kubernetes kubelet-1.34* kubeadm-1.34* kubectl-1.34*')
    expect(calls.some((l) => l.startsWith('apt-get'))).toBe(false)
    const repo = n.file('/etc/yum.repos.d/kubernetes.repo')!
    expect(repo).toContain('baseurl=https://pkgs.k8s.io/core:/stable:/v1.34/rpm/')
    expect(repo).toContain('gpgkey=https://pkgs.k8s.io/core:/stable:/v1.34/rpm/repodata/repomd.xml.key')
    expect(repo).toContain('exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni')
  })
})
