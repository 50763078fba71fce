/**
 * `obsctl node add` and `obsctl node remove` through the built CLI (`npm run build` first), on real sshd
 * nodes (the real rendered install-k8s.sh runs on the new node; shims keep package and kubeadm state)
 * and a Kubernetes API test server played by ./helpers.ts's kubelet player.
 *
 * Longhorn objects keep the shape of longhorn.io/v1beta2 Volume and Replica at the pinned Longhorn
 * (asserted below against ../shared/upstream crds.json.gz: Replica spec.nodeID, spec.volumeName,
 * spec.healthyAt, spec.failedAt, status.currentState). The Eviction API is the one of upgrade.test.ts.
 * Outcomes: the inventory entry, the node joined and labelled, no join token in any argv (the shims
 * record every command line), log, journal or output; a control plane joined with the certificate key of
 * `kubeadm init phase upload-certs` in its JoinConfiguration (kubeadm's v1beta4 JoinConfiguration
 * controlPlane.certificateKey: cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go), never in argv either; a removal refused while a Longhorn volume would
 * lose its last healthy replica (nothing touched), then forced: drained, kubeadm reset, Node deleted,
 * inventory entry gone.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {loadInventory} from '../../src/lib/config/load.js'
import {startKubeServer, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {sandboxInventory, startSandbox, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {upstream} from '../support/upstream/index.js'
import {waitFor} from '../support/wait.js'
import {filesUnder} from '../nodes/helpers.js'
import {killWhileHeld, releaseHold} from '../support/kill-held.js'
import {taskLogsSay} from '../support/task-logs.js'
import {adminConfOf, obsctl, seedInstalled, seedLonghornCrds, seedPod, startPlayer, type Player} from './kube-play.js'

const root = process.getuid?.() === 0
const built = existsSync('dist/commands/node/add.js')
/** the token the sandbox's `kubeadm token create` hands out */
const TOKEN = 'abcdef.0123456789abcdef'
const TOKEN_SECRET = '0123456789abcdef'
/** the certificate key the sandbox's `kubeadm init phase upload-certs --upload-certs` prints */
const CERT_KEY = 'b'.repeat(64)

describe.skipIf(!root || !built)('obsctl node add | remove', () => {
  let sb: Sandbox
  let kube: KubeServer
  let player: Player
  let dir: string
  let file: string
  let kubeconfig: string
  const n = (i: number): SandboxNode => sb.nodes[i]!
  /** `node add` of node 3 to cluster-01 as its second control plane (--json). */
  const addSecondControlPlane = (): string[] => [
    'node',
    'add',
    'cluster-01',
    '--host',
    n(3).ip,
    '--port',
    String(n(3).port),
    '--name',
    n(3).hostname,
    '--role',
    'control-plane',
    '--timeout',
    '120',
    '--json',
  ]
  const cli = (args: string[], env: Record<string, string> = {}) => obsctl([...args, '-c', file, '--kubeconfig', kubeconfig], env)

  beforeAll(async () => {
    ;[sb, kube] = await Promise.all([startSandbox(4, {firstIp: 163}), startKubeServer({name: 'cluster-01'})])
    seedInstalled(sb, n(0), n(0).ip, '1.34.1', 'control-plane', adminConfOf(kube))
    seedInstalled(sb, n(1), n(0).ip, '1.34.1', 'worker')
    player = startPlayer(sb, [{kube, cpIp: n(0).ip, nodes: [n(0), n(1), n(2), n(3)]}])
    dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-node-'))
    file = path.join(dir, 'obsctl.yaml')
    writeFileSync(file, sandboxInventory(sb, [[0, 1]]))
    kubeconfig = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), [kube])
    await waitFor(() => kube.listObjects('nodes').length === 2, 60_000, 'the two Nodes')
    for (const x of sb.nodes) x.clearCalls()
  }, 120_000)

  afterAll(async () => {
    player?.stop()
    await Promise.all([sb?.stop(), kube?.stop()])
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  test('bad input: an unknown cluster, the first control plane, the only node (exit 2, nothing written)', async () => {
    const before = readFileSync(file, 'utf8')
    const a = await cli(['node', 'add', 'cluster-09', '--host', '127.0.1.250'])
    expect(a.code).toBe(2)
    expect(a.stderr).toContain('no cluster cluster-09')
    const b = await cli(['node', 'remove', 'cluster-01', n(0).hostname, '--yes'])
    expect(b.code).toBe(2)
    expect(b.stderr).toContain('first control plane of cluster-01')
    // cluster-01 is central: the hint does not send the user to a cluster remove that refuses it
    expect(b.stderr).toContain('remove the other nodes first; the central cluster itself cannot be removed')
    const c = await cli(['node', 'add', 'cluster-01', '--host', n(1).ip, '--role', 'control-plane'])
    expect(c.code).toBe(2)
    expect(readFileSync(file, 'utf8')).toBe(before)
    const dry = await cli(['node', 'add', 'cluster-01', '--host', '127.0.1.250', '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain('would add 127.0.1.250 (worker) to cluster-01')
    expect(dry.stdout).toMatch(/nodes cluster-01\/127\.0\.1\.250: would .*join cluster-01 as worker/)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  test('node add: inventory entry, install and join with a fresh token that is in no argv, log or journal, Ready, labelled', async () => {
    const r = await cli(['node', 'add', 'cluster-01', '--host', n(2).ip, '--port', String(n(2).port), '--name', n(2).hostname, '--timeout', '120', '--json'])
    expect(r.code, r.stderr + r.stdout.slice(0, 3000)).toBe(0)
    const out = JSON.parse(r.stdout) as {ok: boolean; inventory: {added: boolean}; run: {phases: {name: string; tasks: {target: string; status: string}[]}[]}}
    expect(out.ok).toBe(true)
    expect(out.inventory.added).toBe(true)
    // only the new node was checked and installed
    for (const p of out.run.phases)
      expect(
        p.tasks.map((t) => t.target),
        p.name,
      ).toEqual([`cluster-01/${n(2).ip}`])
    const c = loadInventory(file).platform.clusters[0]!
    expect(c.nodes.map((x) => x.host)).toEqual([n(0).ip, n(1).ip, n(2).ip])
    expect(c.nodes[2]).toMatchObject({name: n(2).hostname, port: n(2).port, roles: ['worker']})
    // joined through the control plane's fresh token; the JoinConfiguration file is gone again
    expect(
      n(0)
        .calls()
        .map((x) => x.line),
    ).toContain('kubeadm token create --print-join-command --ttl 30m')
    expect(
      n(2)
        .calls()
        .some((x) => x.line.startsWith('kubeadm join --config')),
    ).toBe(true)
    expect(n(2).list('/root/.obsctl')).toEqual(['install-k8s.sh'])
    expect(readFileSync(path.join(sb.clustersDir, n(0).ip, n(2).hostname), 'utf8').trim()).toBe('worker')
    const node = kube.getObject('nodes', undefined, n(2).hostname)!
    expect(node.metadata.labels).toMatchObject({'obsctl.dev/cluster': 'cluster-01', 'node-role.kubernetes.io/worker': ''})
    expect(node.status.conditions.find((x: {type: string}) => x.type === 'Ready').status).toBe('True')
    // no secret: the join token is in no command line on any node, no log, the journal, the output
    for (const x of sb.nodes) expect(readFileSync(path.join(x.dir, 'state', 'calls.log'), 'utf8'), x.hostname).not.toContain(TOKEN_SECRET)
    for (const f of filesUnder(path.join(dir, '.obsctl'))) expect(f.content, f.file).not.toContain(TOKEN_SECRET)
    expect(r.stdout + r.stderr).not.toContain(TOKEN)

    // a rerun finds it there: nothing is installed again
    n(2).clearCalls()
    const again = await cli(['node', 'add', 'cluster-01', '--host', n(2).ip, '--port', String(n(2).port), '--name', n(2).hostname, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).inventory.added).toBe(false)
    expect(
      n(2)
        .calls()
        .filter((x) => /^(apt-get install|kubeadm join)/.test(x.line)),
    ).toEqual([])
  }, 600_000)

  test('node remove: refused while a Longhorn volume has its last healthy replica there; --force drains, resets, deletes, forgets', async () => {
    // the Replica fields read are those of Longhorn's CRD
    const replica = upstream().crds['longhorn.io/v1beta2/Replica']!.schema as {
      properties: {spec: {properties: Record<string, unknown>}; status: {properties: Record<string, unknown>}}
    }
    for (const f of ['nodeID', 'volumeName', 'healthyAt', 'failedAt']) expect(replica.properties.spec.properties, f).toHaveProperty(f)
    expect(replica.properties.status.properties).toHaveProperty('currentState')

    seedLonghornCrds(kube)
    await waitFor(
      () => {
        try {
          kube.type('replicas.longhorn.io')
          return true
        } catch {
          return false
        }
      },
      30_000,
      'the Longhorn CRDs',
    )
    const ns = 'longhorn-system'
    kube.seed(
      {apiVersion: 'longhorn.io/v1beta2', kind: 'Volume', metadata: {name: 'pvc-data', namespace: ns}, spec: {numberOfReplicas: 2, size: '1073741824'}},
      {apiVersion: 'longhorn.io/v1beta2', kind: 'Volume', metadata: {name: 'pvc-safe', namespace: ns}, spec: {numberOfReplicas: 2, size: '1073741824'}},
      // detached: its replicas are stopped (not running), and still its only copies of the data
      {apiVersion: 'longhorn.io/v1beta2', kind: 'Volume', metadata: {name: 'pvc-detached', namespace: ns}, spec: {numberOfReplicas: 1, size: '1073741824'}},
    )
    const rep = (name: string, volume: string, node: string, healthy: boolean, state = healthy ? 'running' : 'error') => {
      const [o] = kube.seed({
        apiVersion: 'longhorn.io/v1beta2',
        kind: 'Replica',
        metadata: {name, namespace: ns},
        spec: {nodeID: node, volumeName: volume, healthyAt: '2026-12-01T10:00:00Z', failedAt: healthy ? '' : '2026-12-02T09:00:00Z'},
      })
      kube.objects.update(
        kube.type('replicas.longhorn.io'),
        ns,
        name,
        {...o, status: {currentState: state}},
        {manager: 'longhorn-manager', dryRun: false, fieldValidation: 'Ignore', warnings: []},
        'main',
      )
    }
    rep('pvc-data-r-1', 'pvc-data', n(2).hostname, true)
    rep('pvc-data-r-2', 'pvc-data', n(1).hostname, false)
    rep('pvc-safe-r-1', 'pvc-safe', n(2).hostname, true)
    rep('pvc-safe-r-2', 'pvc-safe', n(1).hostname, true)
    rep('pvc-detached-r-1', 'pvc-detached', n(2).hostname, true, 'stopped')
    seedPod(kube, 'app-0', n(2).hostname, {app: 'app'})
    n(2).clearCalls()
    kube.clearRequestLog()

    const refused = await cli(['node', 'remove', 'cluster-01', n(2).hostname, '--yes'])
    expect(refused.code, refused.stderr + refused.stdout).toBe(1)
    expect(refused.stderr).toContain(
      `removing ${n(2).hostname} would lose data: Longhorn volume(s) pvc-data, pvc-detached have their last healthy replica on it`,
    )
    expect(refused.stderr).toContain('--force removes the node anyway')
    // nothing touched: schedulable, its pod there, not reset, still in the inventory
    expect(kube.getObject('nodes', undefined, n(2).hostname)!.spec.unschedulable).toBeFalsy()
    expect(kube.getObject('pods', 'default', 'app-0')).toBeDefined()
    expect(
      n(2)
        .calls()
        .filter((x) => x.line.startsWith('kubeadm reset')),
    ).toEqual([])
    expect(loadInventory(file).platform.clusters[0]!.nodes).toHaveLength(3)

    const forced = await cli(['node', 'remove', 'cluster-01', n(2).hostname, '--force', '--yes', '--json'])
    expect(forced.code, forced.stderr + forced.stdout.slice(0, 3000)).toBe(0)
    const out = JSON.parse(forced.stdout) as {
      ok: boolean
      run: {phases: {name: string; tasks: {report?: {longhorn?: {volume: string}[]; evicted?: string[]}}[]}[]}
    }
    expect(out.ok).toBe(true)
    const drain = out.run.phases.find((p) => p.name === 'node-drain')!.tasks[0]!.report!
    expect(drain.longhorn!.map((x) => x.volume)).toEqual(['pvc-data', 'pvc-detached'])
    expect(drain.evicted).toEqual(['default/app-0'])
    expect(kube.requestLog.filter((x) => x.path.endsWith('/eviction')).map((x) => x.path)).toEqual(['/api/v1/namespaces/default/pods/app-0/eviction'])
    expect(
      n(2)
        .calls()
        .map((x) => x.line),
    ).toContain('kubeadm reset -f')
    expect(existsSync(path.join(sb.clustersDir, n(0).ip, n(2).hostname))).toBe(false)
    expect(kube.getObject('nodes', undefined, n(2).hostname)).toBeUndefined()
    expect(loadInventory(file).platform.clusters[0]!.nodes.map((x) => x.host)).toEqual([n(0).ip, n(1).ip])

    // a rerun: nothing left to remove
    const again = await cli(['node', 'remove', 'cluster-01', n(2).hostname, '--yes'])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('nothing to remove')
  }, 600_000)

  test('node add --role control-plane: joins as a control plane with the certificate key in its 0600 JoinConfiguration; token and key in no argv, log, journal or output', async () => {
    for (const x of sb.nodes) x.clearCalls()
    const r = await cli(addSecondControlPlane())
    expect(r.code, r.stderr + r.stdout.slice(0, 3000)).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ok: true, role: 'control-plane', inventory: {added: true}})
    const c = loadInventory(file).platform.clusters[0]!
    expect(c.nodes.find((x) => x.host === n(3).ip)).toMatchObject({name: n(3).hostname, roles: ['control-plane']})
    // the first control plane handed out a fresh token and uploaded the certificates under a fresh key
    const cpCalls = n(0)
      .calls()
      .map((x) => x.line)
    expect(cpCalls).toContain('kubeadm token create --print-join-command --ttl 30m')
    expect(cpCalls).toContain('kubeadm init phase upload-certs --upload-certs')
    // the join reads everything from the uploaded file: no token, key or --control-plane flag on its command line
    const joins = n(3)
      .calls()
      .filter((x) => x.cmd === 'kubeadm' && x.args[0] === 'join')
      .map((x) => x.args)
    expect(joins).toHaveLength(1)
    expect(joins[0]![1]).toBe('--config')
    expect(joins[0]!.join(' ')).not.toMatch(/--token|--certificate-key|--control-plane|--discovery-token/)
    // kubeadm saw a control-plane join with the key upload-certs printed (the shim keeps only its sha256)
    expect(readFileSync(path.join(n(3).dir, 'state', 'join-certificate-key.sha256'), 'utf8').trim()).toBe(createHash('sha256').update(CERT_KEY).digest('hex'))
    expect(readFileSync(path.join(sb.clustersDir, n(0).ip, n(3).hostname), 'utf8').trim()).toBe('control-plane')
    expect(n(3).file('/etc/kubernetes/admin.conf')).toBeDefined()
    expect(n(3).list('/root/.obsctl')).toEqual(['install-k8s.sh'])
    const node = kube.getObject('nodes', undefined, n(3).hostname)!
    expect(node.status.conditions.find((x: {type: string}) => x.type === 'Ready').status).toBe('True')
    // kubeadm labels a control plane itself: obsctl adds only the cluster label, no worker role
    expect(node.metadata.labels['obsctl.dev/cluster']).toBe('cluster-01')
    expect(node.metadata.labels).not.toHaveProperty('node-role.kubernetes.io/worker')
    // no secret anywhere: argv on every node, obsctl's logs and journal, the output
    for (const x of sb.nodes) {
      const calls = readFileSync(path.join(x.dir, 'state', 'calls.log'), 'utf8')
      expect(calls, x.hostname).not.toContain(TOKEN_SECRET)
      expect(calls, x.hostname).not.toContain(CERT_KEY)
    }
    for (const f of filesUnder(path.join(dir, '.obsctl'))) {
      expect(f.content, f.file).not.toContain(TOKEN_SECRET)
      expect(f.content, f.file).not.toContain(CERT_KEY)
    }
    expect(r.stdout + r.stderr).not.toContain(TOKEN)
    expect(r.stdout + r.stderr).not.toContain(CERT_KEY)
  }, 600_000)

  test("node remove killed inside kubeadm reset, left running there: the rerun's reset waits for it, then resets and forgets the node", async () => {
    for (const x of sb.nodes) x.clearCalls()
    const resets = () =>
      n(1)
        .calls()
        .filter((x) => x.line.startsWith('kubeadm reset'))
        .map((x) => x.line)
    const args = ['node', 'remove', 'cluster-01', n(1).hostname, '--force', '--yes', '-c', file, '--kubeconfig', kubeconfig]
    const held = await killWhileHeld({
      node: n(1),
      hold: 'kubeadm reset',
      args,
      invDir: dir,
      waiting: 'another obsctl step is running on this node',
      changes: () => n(1).calls().length,
      rerun: () => obsctl([...args, '--json']),
    })
    // nothing run on the node beside the killed run's reset while it worked
    expect(held.whileWaiting).toBe(held.atKill)
    const again = await held.rerun
    releaseHold(n(1))
    expect(again.code, again.stderr + again.stdout.slice(0, 2000)).toBe(0)
    expect(taskLogsSay(dir, 'the other step ended: going on')).toBe(true)
    // the rerun reset the node again after the killed run's reset ended; the Node and the inventory entry are gone
    expect(resets()).toEqual(['kubeadm reset -f', 'kubeadm reset -f'])
    expect(kube.getObject('nodes', undefined, n(1).hostname)).toBeUndefined()
    expect(loadInventory(file).platform.clusters[0]!.nodes.map((x) => x.host)).not.toContain(n(1).ip)
  }, 600_000)
  test('node remove killed (SIGKILL) once the node was reset, its rerun once the Node was deleted: the next run finishes, and the journal forgets the node, so node add of that host installs and joins it again', async () => {
    for (const x of sb.nodes) x.clearCalls()
    const target = `cluster-01/${n(3).ip}`
    const args = ['node', 'remove', 'cluster-01', n(3).hostname, '--yes']
    const resets = () =>
      n(3)
        .calls()
        .filter((x) => x.line.startsWith('kubeadm reset'))
        .map((x) => x.line)
    const journal = () =>
      Object.values(
        (JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {phase: string; target: string; status: string}>})
          .tasks,
      )
        .filter((r) => r.target === target)
        .map((r) => `${r.phase} ${r.status}`)
        .sort()
    // the node add left its tasks done in the journal
    expect(journal()).toEqual(expect.arrayContaining(['node-labels done', 'nodes done', 'preflight done']))

    // 1. killed with the machine reset (it left the cluster), its Node still in the API and the node in the inventory
    const first = await cli(args, {OBSCTL_TEST_KILL_AT: 'node-reset:after-run'})
    expect(first.signal, first.stderr).toBe('SIGKILL')
    expect(resets()).toEqual(['kubeadm reset -f'])
    expect(kube.getObject('nodes', undefined, n(3).hostname)).toBeDefined()
    expect(kube.getObject('nodes', undefined, n(3).hostname)!.spec.unschedulable).toBe(true)
    expect(loadInventory(file).platform.clusters[0]!.nodes.map((x) => x.host)).toContain(n(3).ip)

    // 2. its rerun killed once the Node was deleted: the drain found nothing left to evict, the reset ran again
    const second = await cli(args, {OBSCTL_TEST_KILL_AT: 'node-delete:after-run'})
    expect(second.signal, second.stderr).toBe('SIGKILL')
    expect(kube.getObject('nodes', undefined, n(3).hostname)).toBeUndefined()
    expect(loadInventory(file).platform.clusters[0]!.nodes.map((x) => x.host)).toContain(n(3).ip)

    // 3. the next run finishes: the Node gone (not there to drain), reset once more, forgotten by the inventory and the journal
    const third = await cli([...args, '--json'])
    expect(third.code, third.stderr + third.stdout.slice(0, 2000)).toBe(0)
    const out = JSON.parse(third.stdout) as {ok: boolean; run: {phases: {name: string; tasks: {summary?: string}[]}[]}}
    expect(out.ok).toBe(true)
    expect(out.run.phases.find((p) => p.name === 'node-drain')!.tasks[0]!.summary).toContain('not in the cluster')
    expect(resets()).toEqual(['kubeadm reset -f', 'kubeadm reset -f', 'kubeadm reset -f'])
    expect(kube.getObject('nodes', undefined, n(3).hostname)).toBeUndefined()
    expect(loadInventory(file).platform.clusters[0]!.nodes.map((x) => x.host)).toEqual([n(0).ip])
    expect(journal()).toEqual(['node-forget done'])

    // 4. so the same host added again is checked, installed and joined again: not found done in the journal
    n(3).clearCalls()
    const readd = await cli(addSecondControlPlane())
    expect(readd.code, readd.stderr + readd.stdout.slice(0, 2000)).toBe(0)
    const added = JSON.parse(readd.stdout) as {run: {phases: {name: string; tasks: {status: string}[]}[]}}
    expect(Object.fromEntries(added.run.phases.map((p) => [p.name, p.tasks[0]!.status]))).toEqual({preflight: 'done', nodes: 'done', 'node-labels': 'done'})
    expect(
      n(3)
        .calls()
        .some((x) => x.cmd === 'kubeadm' && x.args[0] === 'join'),
    ).toBe(true)
    expect(kube.getObject('nodes', undefined, n(3).hostname)).toBeDefined()
  }, 600_000)
})
