/**
 * `bootstrap --all` end to end (issue 9): four loopback sshd nodes with the node sandbox, four
 * Kubernetes API test servers, s3rver, a bare Git remote, and for the validate phase real Prometheus
 * (behind the Thanos Query fake), the OpenSearch fake and argocd-server's API. The test plays the
 * controllers: rollouts, kubelets, and Argo CD (the root app's children from the pushed repo, health,
 * the deployed workloads). A run SIGKILLed in the middle of the sync phase is rerun and completes —
 * sync and validate — without redoing finished tasks and without duplicate side effects; then
 * `obsctl status` reports every cluster ok. A rerun after an inventory edit pushes a new commit and
 * finishes sync only once Argo CD (asked to refresh) reports it.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {deployPlatform} from '../validate/deployed.js'
import {exampleInventory} from '../support/inventory.js'
import {loadInventory} from '../../src/lib/config/load.js'
import type {FleetStatus} from '../../src/lib/status/index.js'
import {obsctlAsync} from '../cli/helpers.js'
import {CLUSTERS, PHASES, startLab, type Lab} from './lab.js'

const root = process.getuid?.() === 0
/** added on day 2 by `obsctl cluster add` (its machine and API server exist from the start) */
const NEW = 'cluster-05'
/** OBSCTL_CAPTURE_DIR=DIR: write the human output of each step there (for the README) */
const CAPTURE = process.env.OBSCTL_CAPTURE_DIR

let lab: Lab
const env = () => lab.env()
const runBootstrap = (json: boolean) => lab.bootstrap({json})
const state = () => lab.state()

function capture(name: string, command: string, output: string): void {
  if (!CAPTURE) return
  const shown = `${command}\n${output}`.replaceAll(lab.dir, '~/lab').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
  writeFileSync(path.join(CAPTURE, `${name}.txt`), shown)
}

describe.skipIf(!root)('bootstrap --all end to end with a SIGKILL in the middle, then cluster add', () => {
  beforeAll(async () => {
    lab = await startLab({extraClusters: [NEW], firstIp: 201})
  }, 300_000)

  afterAll(async () => {
    await lab?.stop()
  })

  it('is killed during sync, then a rerun completes (sync, validate) without redoing or duplicating work; status is ok', async () => {
    const {sb, kubes, dir, remote, platform, argocdApi} = lab
    // first run: everything up to sync; Applications stay Progressing, so sync waits — kill it there
    let exited: {stdout: string; stderr: string} | undefined
    const first = runBootstrap(false).then((r) => (exited = r))
    const until = Date.now() + 90_000
    while (!Object.entries(state()).some(([k, v]) => k.startsWith('sync/') && v.status === 'running')) {
      if (exited) throw new Error(`the first run ended before the sync phase:\n${exited.stdout}\n${exited.stderr}`)
      if (Date.now() > until) throw new Error(`never reached the sync phase: ${JSON.stringify(state())}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const pid = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'lock'), 'utf8')).pid as number
    process.kill(pid, 'SIGKILL')
    const killed = await first
    expect(killed.signal).toBe('SIGKILL')
    capture('1-bootstrap-killed', '$ obsctl bootstrap --all --yes    # SIGKILLed during sync', killed.stdout + killed.stderr)

    const before = state()
    for (const p of PHASES.slice(0, -2)) {
      const tasks = Object.entries(before).filter(([k]) => k.startsWith(`${p}/`))
      expect(tasks.length, `tasks of ${p}`).toBeGreaterThan(0)
      for (const [k, v] of tasks) expect(v.status, k).toBe('done')
    }
    // meanwhile Argo CD deploys the platform: the root app's children, the workloads, a first Thanos block
    lab.playRootApp()
    lab.playKubelets()
    await lab.deploy()
    const minio = lab.minio()

    const calls = sb.nodes.map((n) => n.calls().length)
    const commits = execFileSync('git', ['--git-dir', remote, 'rev-list', '--count', 'main'], {encoding: 'utf8'}).trim()
    const secretVersions = kubes[0]!
      .listObjects('secrets', 'argocd')
      .map(
        (s) =>
          `${(s as {metadata: {name: string; resourceVersion: string}}).metadata.name}@${(s as {metadata: {resourceVersion: string}}).metadata.resourceVersion}`,
      )
      .sort()

    // rerun: Argo CD now reports health; only argocd-refresh, sync and validate run. They change nothing, so bootstrap
    // asks nothing: without --yes and without a terminal it runs (it used to be exit 2, NO_TTY, listing them as changes)
    lab.healthy = true
    const second = await lab.bootstrap({json: true, yes: false})
    expect(
      second.code,
      `${second.stderr}\n${JSON.stringify(JSON.parse(second.stdout || '{}').run?.phases?.flatMap((p: {tasks: {error?: string}[]}) => p.tasks.filter((t) => t.error)))}`,
    ).toBe(0)
    const result = JSON.parse(second.stdout)
    expect(result.ok).toBe(true)
    const statuses = Object.fromEntries(
      result.run.phases.map((p: {name: string; tasks: {status: string}[]}) => [p.name, [...new Set(p.tasks.map((t) => t.status))]]),
    )
    for (const p of PHASES.slice(0, -3)) expect(statuses[p], p).toEqual(['unchanged'])
    // Argo CD must report the pushed commit on every run (it may have moved on, or a rerun may have pushed)
    expect(statuses['argocd-refresh']).toEqual(['done'])
    expect(['done', 'in-state']).toContain(statuses.sync[0])
    expect(statuses.validate).toEqual(['done'])
    const validation = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'validation.json'), 'utf8'))
    expect(
      validation.checks.filter((c: {result: string}) => c.result !== 'pass'),
      JSON.stringify(validation.checks, null, 1),
    ).toEqual([])
    expect(validation.summary).toEqual({pass: 20, warn: 0, fail: 0, skipped: 0})

    // no duplicate side effects: node commands, Git history, Argo CD objects, buckets
    expect(sb.nodes.map((n) => n.calls().length)).toEqual(calls)
    expect(execFileSync('git', ['--git-dir', remote, 'rev-list', '--count', 'main'], {encoding: 'utf8'}).trim()).toBe(commits)
    expect(
      kubes[0]!
        .listObjects('secrets', 'argocd')
        .map((s) => `${(s as {metadata: {name: string}}).metadata.name}@${(s as {metadata: {resourceVersion: string}}).metadata.resourceVersion}`)
        .sort(),
    ).toEqual(secretVersions)
    expect((await minio.listBuckets()).map((b) => b.name).sort()).toEqual(['longhorn-backups', 'opensearch-snapshots', 'thanos-metrics'])

    // outcomes: kubeconfig contexts, cluster Secrets for the three edges (registered, labelled for the
    // ApplicationSets) and central's in-cluster one (from Git), the root app, the pushed repo
    const kc = readFileSync(path.join(dir, 'kubeconfig'), 'utf8')
    for (const c of CLUSTERS) expect(kc).toContain(`name: ${c}-context`)
    const clusterSecrets = kubes[0]!
      .listObjects('secrets', 'argocd')
      .filter((s) => (s as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster')
    expect(clusterSecrets.map((s) => (s as {metadata: {labels: Record<string, string>}}).metadata.labels['obsctl.dev/role']).sort()).toEqual([
      'central',
      'edge',
      'edge',
      'edge',
    ])
    expect(kubes[0]!.getObject('applications.argoproj.io', 'argocd', 'root-app')).toBeTruthy()
    expect(execFileSync('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'], {encoding: 'utf8'})).toContain('argocd/root-app.yaml')

    // day 1 done: the fleet at a glance
    const st = await obsctlAsync(['status', '--json'], {cwd: dir, env: env()})
    const fleet = JSON.parse(st.stdout) as FleetStatus
    expect(
      fleet.clusters.filter((c) => !c.ok),
      st.stdout,
    ).toEqual([])
    expect(st.status).toBe(0)
    for (const c of fleet.clusters) {
      expect(c.nodes).toMatchObject({ready: 1, total: 1})
      expect((c.apps as {total: number}).total, c.name).toBeGreaterThan(0)
      expect(c.validation).toMatchObject({result: 'pass', checks: []})
    }
    if (CAPTURE) {
      const again = await runBootstrap(false)
      capture('2-bootstrap-rerun', '$ obsctl bootstrap --all --yes', again.stdout + again.stderr)
      const human = await obsctlAsync(['status'], {cwd: dir, env: env()})
      capture('3-status', '$ obsctl status', human.stdout + human.stderr)
    }

    // a rerun after an inventory edit: render commits and pushes it, while Argo CD (played) still reports every
    // Application Synced and Healthy at the previous commit — it fetches a new one only when asked to refresh
    // (or at its 3-minute reconciliation). sync must not pass before the Applications report the pushed commit.
    const invFile = path.join(dir, 'obsctl.yaml')
    const oldHead = lab.git('rev-parse', 'main').trim()
    const tracking = () =>
      (
        kubes[0]!.listObjects('applications.argoproj.io', 'argocd') as {
          metadata: {name: string}
          spec?: {source?: {repoURL?: string}}
          status?: {sync?: {status?: string; revision?: string}; health?: {status?: string}}
        }[]
      ).filter((a) => a.spec?.source?.repoURL === remote)
    expect(tracking().map((a) => [a.metadata.name, a.status?.sync?.revision])).toContainEqual(['root-app', oldHead])
    writeFileSync(invFile, exampleInventory({'retention.prometheus': '8h'}, readFileSync(invFile, 'utf8')))
    type Rec = {status: string; runId?: string}
    const moved: {app: string; from: string; to: string; render?: Rec; sync?: Rec}[] = []
    lab.onNewRevision = (app, from, to) => moved.push({app, from, to, render: state()['render/platform'], sync: state()['sync/applications']})
    const edited = await runBootstrap(true)
    lab.onNewRevision = undefined
    expect(edited.code, edited.stderr + edited.stdout.slice(0, 4000)).toBe(0)
    const newHead = lab.git('rev-parse', 'main').trim()
    expect(newHead).not.toBe(oldHead)
    expect(lab.git('show', `${newHead}:deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml`)).toContain('retention: 8h')
    // Argo CD saw the pushed commit (obsctl asked it to refresh) while this run had rendered and pushed it and its sync had not run yet
    const rootMove = moved.find((m) => m.app === 'root-app')
    expect(rootMove, `Argo CD was never asked to refresh; moves: ${JSON.stringify(moved)}`).toMatchObject({
      from: oldHead,
      to: newHead,
      render: {status: 'done'},
    })
    expect(rootMove!.sync?.runId, 'sync had already run in this bootstrap when Argo CD first reported the new commit').not.toBe(rootMove!.render?.runId)
    const after = state()
    expect(after['sync/applications']).toMatchObject({status: 'done', runId: after['render/platform']!.runId})
    expect(JSON.parse(edited.stdout).run.phases.find((p: {name: string}) => p.name === 'argocd-refresh').tasks[0].summary).toBe(
      `Argo CD is at ${newHead.slice(0, 12)}`,
    )
    // and every Application of the repository is Synced and Healthy at that commit
    expect(tracking().map((a) => [a.metadata.name, a.status?.sync?.revision, a.status?.sync?.status, a.status?.health?.status])).toEqual(
      tracking().map((a) => [a.metadata.name, newHead, 'Synced', 'Healthy']),
    )

    // day 2: a fifth cluster, end to end — its machine, its API server; Argo CD (played) deploys what the add pushes
    const n5 = sb.nodes[4]!
    const inv = loadInventory(path.join(dir, 'obsctl.yaml'))
    await deployPlatform(platform, [kubes[0]!, kubes[4]!], ['cluster-01', NEW], {inv, argocd: argocdApi, registerEdges: false})
    const before5 = n5.calls().length
    const add = await obsctlAsync(
      [
        'cluster',
        'add',
        NEW,
        '--host',
        n5.ip,
        '--port',
        String(n5.port),
        '--api-server',
        kubes[4]!.url,
        '--metrics',
        'remote-scrape',
        '--yes',
        '--timeout',
        '60',
      ],
      {cwd: dir, env: env(), timeoutMs: 180_000},
    )
    capture('4-cluster-add', `$ obsctl cluster add ${NEW} --host ${n5.ip} --port ${n5.port} --api-server ${kubes[4]!.url} --yes`, add.stdout + add.stderr)
    expect(add.status, add.stdout + add.stderr).toBe(0)
    // outcomes: the inventory, the node (install ran), the kubeconfig, the Argo CD cluster Secret, the pushed overlay, its Applications
    expect(readFileSync(path.join(dir, 'obsctl.yaml'), 'utf8')).toMatch(new RegExp(`- name: ${NEW}\\n {4}id: "05"\\n {4}role: edge`))
    expect(n5.calls().length).toBeGreaterThan(before5)
    expect(readFileSync(path.join(dir, 'kubeconfig'), 'utf8')).toContain(`name: ${NEW}-context`)
    expect(
      kubes[0]!
        .listObjects('secrets', 'argocd')
        .filter(
          (x) =>
            (x as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['obsctl.dev/cluster'] === NEW &&
            (x as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster',
        ),
    ).toHaveLength(1)
    expect(execFileSync('git', ['--git-dir', remote, 'log', '-1', '--format=%s', 'main'], {encoding: 'utf8'})).toContain(NEW)
    expect(execFileSync('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'], {encoding: 'utf8'})).toContain(`deploy/overlays/${NEW}-edge/`)
    const validation5 = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'validation.json'), 'utf8'))
    expect(validation5.ok, JSON.stringify(validation5.checks.filter((c: {result: string}) => c.result !== 'pass'))).toBe(true)
    const st5 = await obsctlAsync(['status', '--json'], {cwd: dir, env: env()})
    const fleet5 = JSON.parse(st5.stdout) as FleetStatus
    expect(fleet5.clusters.map((c) => [c.name, c.ok])).toEqual([...CLUSTERS, NEW].map((c) => [c, true]))
    expect((fleet5.clusters[4]!.apps as {total: number}).total).toBeGreaterThan(0)
    if (CAPTURE) {
      const human = await obsctlAsync(['status'], {cwd: dir, env: env()})
      capture('5-status', '$ obsctl status', human.stdout + human.stderr)
    }

    // day 2: a chart upgrade through render → diff → commit → push → Argo CD sees it → sync
    const from = loadInventory(path.join(dir, 'obsctl.yaml')).platform.versions.charts['kube-prometheus-stack']
    const to = from === '79.0.0' ? '79.0.1' : '79.0.0'
    const up = await obsctlAsync(['upgrade', 'chart', 'kube-prometheus-stack', '--version', to, '--yes', '--timeout', '60'], {
      cwd: dir,
      env: env(),
      timeoutMs: 120_000,
    })
    capture('6-upgrade-chart', `$ obsctl upgrade chart kube-prometheus-stack --version ${to} --yes`, up.stdout + up.stderr)
    expect(up.status, up.stdout + up.stderr).toBe(0)
    const upHead = execFileSync('git', ['--git-dir', remote, 'rev-parse', 'main'], {encoding: 'utf8'}).trim()
    expect(execFileSync('git', ['--git-dir', remote, 'log', '-1', '--format=%s', 'main'], {encoding: 'utf8'})).toContain(
      `upgrade kube-prometheus-stack ${from} → ${to}`,
    )
    // the edges share one kube-prometheus-stack overlay per metrics mode (NEW is remote-scrape)
    expect(
      execFileSync('git', ['--git-dir', remote, 'show', 'main:deploy/overlays/edge-remote-scrape/kube-prometheus-stack/kustomization.yaml'], {
        encoding: 'utf8',
      }),
    ).toContain(`version: "${to}"`)
    expect(up.stdout).toMatch(/sync +(already in wanted state: )?\d+\/\d+ Applications Synced and Healthy/)
    const rootApp = kubes[0]!.getObject('applications.argoproj.io', 'argocd', 'root-app') as {status: {sync: {revision: string}}}
    expect(rootApp.status.sync.revision).toBe(upHead)

    // day 2: the fifth cluster removed again, its node reset (kubeadm reset -f over SSH, recorded by the shim)
    const labelled = (kind: string, ns: string) =>
      kubes[0]!.listObjects(kind, ns).filter((o) => (o as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['obsctl.dev/cluster'] === NEW)
    expect(labelled('applications.argoproj.io', 'argocd').length).toBeGreaterThan(0)
    n5.clearCalls()
    const rm = await obsctlAsync(['cluster', 'remove', NEW, '--reset-nodes', '--yes'], {cwd: dir, env: env(), timeoutMs: 120_000})
    capture('7-cluster-remove', `$ obsctl cluster remove ${NEW} --reset-nodes --yes`, rm.stdout + rm.stderr)
    expect(rm.status, rm.stdout + rm.stderr).toBe(0)
    expect(labelled('applications.argoproj.io', 'argocd')).toEqual([])
    expect(labelled('secrets', 'argocd')).toEqual([])
    expect(execFileSync('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'], {encoding: 'utf8'})).not.toContain(`${NEW}-edge/`)
    expect(readFileSync(path.join(dir, 'kubeconfig'), 'utf8')).not.toContain(`${NEW}-context`)
    expect(readFileSync(path.join(dir, 'obsctl.yaml'), 'utf8')).not.toContain(`name: ${NEW}`)
    expect(n5.calls().some((c) => c.cmd === 'kubeadm' && c.args.join(' ') === 'reset -f')).toBe(true)
    for (const n of sb.nodes.slice(0, 4)) expect(n.calls().some((c) => c.cmd === 'kubeadm' && c.args[0] === 'reset')).toBe(false)
    const st4 = JSON.parse((await obsctlAsync(['status', '--json'], {cwd: dir, env: env()})).stdout) as FleetStatus
    expect(
      st4.clusters.map((c) => [c.name, c.ok]),
      JSON.stringify(st4.clusters, null, 1),
    ).toEqual(CLUSTERS.map((c) => [c, true]))
  }, 600_000)
})
