/**
 * Issue 13 §1: `bootstrap --all` SIGKILLed inside every phase, one fleet, kills chained: the first run
 * dies inside preflight, the rerun resumes it and dies inside nodes, … inside validate; a last rerun
 * completes. Kills are deterministic (OBSCTL_TEST_KILL_AT, a test-only crash point in the engine —
 * src/lib/engine/kill-point.ts): mostly `<phase>:after-run:N`, the worst place (the side effect is
 * done, the journal still says running), and mid-phase log lines where a kill leaves nothing running
 * elsewhere. Killed runs use --concurrency 1 so no sibling task is half-way on a node when the process
 * dies. Across the whole history there must be no duplicate side effect: node commands recorded by
 * the sandbox shims (one `kubeadm init` per node, nothing but reads after `nodes` completed), Git
 * commits on the remote (the tree in one commit), buckets, and Secrets' resourceVersions (a task
 * resumed after its Secrets were written rewrites none of them).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {PHASES, secretVersions, startLab, tokensFilled, type Lab} from './lab.js'
import {waitFor} from '../support/wait.js'
import path from 'node:path'

const root = process.getuid?.() === 0

/**
 * Kills in bootstrap order, two in most phases (the second run dies in the same phase again, after
 * resuming it): after a task's side effect and before the journal records it (`after-run`), and at a
 * log line in the middle of a task. Counts are per process: `nodes:after-run:2` is the second task of
 * that run to finish.
 * nodes and buckets have one: the second kill they had, `after-run:1` again, left the journal as the first one
 * had (nodes: the same task running, the same tasks done, no machine changed since; buckets: the next bucket
 * running), so the run after it resumed the phase the same way as the run before it. Every phase that keeps two
 * pairs `after-run` with a mid-task kill (a log line; render: a file write and the commit).
 */
const KILLS: {phase: string; at: string}[] = [
  {phase: 'preflight', at: 'preflight:log:6'},
  {phase: 'preflight', at: 'preflight:after-run:2'},
  {phase: 'nodes', at: 'nodes:after-run:2'},
  {phase: 'kubeconfig', at: 'kubeconfig:after-run:2'},
  {phase: 'kubeconfig', at: 'kubeconfig:log:1'},
  {phase: 'buckets', at: 'buckets:after-run:2'},
  {phase: 'render', at: 'render:write:40'},
  {phase: 'render', at: 'render:committed'},
  {phase: 'argocd', at: 'argocd:log:3'},
  {phase: 'argocd', at: 'argocd:after-run:1'},
  {phase: 'register', at: 'register:after-run:2'},
  {phase: 'register', at: 'register:log:2'},
  {phase: 'secrets', at: 'secrets:after-run:2'},
  {phase: 'secrets', at: 'secrets:log:1'},
  {phase: 'root-app', at: 'root-app:after-run:1'},
  {phase: 'argocd-refresh', at: 'argocd-refresh:after-run:1'},
  {phase: 'sync', at: 'sync:log:1'},
  {phase: 'validate', at: 'validate:log:2'},
  {phase: 'validate', at: 'validate:after-run:1'},
]

/** Node commands that change a machine (the shims record reads too). */
const MUTATING =
  /^(kubeadm (init|join|reset)|apt-get install|apt-mark hold|systemctl (enable|restart)|swapoff|modprobe|sysctl -q -w|gpg |cilium install|kubectl taint)/

let lab: Lab
let started = 0

describe.skipIf(!root)('bootstrap --all SIGKILLed inside every phase, chained on one fleet', () => {
  beforeAll(async () => {
    lab = await startLab({firstIp: 221})
  }, 300_000)
  afterAll(async () => {
    await lab?.stop()
  })

  it('each rerun resumes the killed phase; the last completes; no side effect happens twice', async () => {
    started = Date.now()
    const report: {phase: string; at: string; recovered: boolean; seconds: number}[] = []
    let secretsBefore: Record<string, string> | undefined
    let mutatingAfterNodes: string[][] | undefined

    for (const [i, k] of KILLS.entries()) {
      const firstInPhase = KILLS.findIndex((x) => x.phase === k.phase) === i
      if (k.phase === 'sync' && firstInPhase) {
        // the root app exists now: the kubelets register and Argo CD deploys, but reports health only later
        lab.playKubelets()
      }
      if (k.phase === 'validate' && firstInPhase) {
        lab.playRootApp()
        await lab.deploy()
        lab.healthy = true
      }
      const t0 = Date.now()
      const run = await lab.bootstrap({args: ['--concurrency', '1'], env: {OBSCTL_TEST_KILL_AT: k.at}})
      const st = lab.state()
      expect(run.signal, `run ${i + 1} (${k.at}) was not killed: exit ${run.code}\n${run.stdout}\n${run.stderr}`).toBe('SIGKILL')
      // the kill landed inside the phase: one of its tasks is recorded running; every earlier phase is done
      expect(
        Object.entries(st).some(([key, v]) => key.startsWith(`${k.phase}/`) && v.status === 'running'),
        `${k.at}: ${JSON.stringify(st)}`,
      ).toBe(true)
      for (const p of PHASES.slice(0, PHASES.indexOf(k.phase))) {
        const tasks = Object.entries(st).filter(([key]) => key.startsWith(`${p}/`))
        expect(tasks.length, `tasks of ${p}`).toBeGreaterThan(0)
        for (const [key, v] of tasks) expect(v.status, `${key} after the kill in ${k.phase}`).toBe('done')
      }
      // the phases killed in earlier runs were recovered once a later run got past them
      for (const r of report) if (PHASES.indexOf(r.phase) < PHASES.indexOf(k.phase)) r.recovered = true
      report.push({phase: k.phase, at: k.at, recovered: false, seconds: (Date.now() - t0) / 1000})

      // Secrets: those written before a kill inside `secrets` (or `register`) are not rewritten by the rerun
      // (compared once the token controller has filled the token Secrets a killed run created)
      await waitFor(() => tokensFilled(lab.kubes), 120_000, 'the token controller to fill every service-account token Secret')
      if (secretsBefore) {
        const now = secretVersions(lab.kubes)
        for (const [key, rv] of Object.entries(secretsBefore)) expect(now[key], `${key} rewritten after the kill`).toBe(rv)
      }
      secretsBefore = ['register', 'secrets', 'root-app', 'argocd-refresh', 'sync', 'validate'].includes(k.phase) ? secretVersions(lab.kubes) : undefined
      if (k.phase === 'kubeconfig')
        mutatingAfterNodes ??= lab.sb.nodes.slice(0, 4).map((n) =>
          n
            .calls()
            .map((c) => c.line)
            .filter((l) => MUTATING.test(l)),
        )
    }

    // the last rerun completes: every phase done, validation passes
    const t0 = Date.now()
    const last = await lab.bootstrap({json: true})
    expect(last.code, `${last.stderr}\n${last.stdout.slice(0, 4000)}`).toBe(0)
    for (const r of report) r.recovered = true
    const result = JSON.parse(last.stdout)
    expect(result.ok).toBe(true)
    const statuses = Object.fromEntries(
      result.run.phases.map((p: {name: string; tasks: {status: string}[]}) => [p.name, [...new Set(p.tasks.map((t) => t.status))]]),
    )
    for (const p of PHASES.slice(0, -3)) expect(statuses[p], p).toEqual(['unchanged'])
    expect(statuses['argocd-refresh']).toEqual(['done'])
    expect(statuses.validate).toEqual(['done'])
    for (const [key, v] of Object.entries(lab.state())) expect(v.status, key).toBe('done')

    // no duplicate side effects over the whole history
    // nodes: one kubeadm init each, no reset, and nothing changed on a machine after `nodes` completed
    for (const [i, n] of lab.sb.nodes.slice(0, 4).entries()) {
      const lines = n.calls().map((c) => c.line)
      expect(
        lines.filter((l) => l.startsWith('kubeadm init')),
        n.hostname,
      ).toHaveLength(1)
      expect(
        lines.filter((l) => l.startsWith('kubeadm reset')),
        n.hostname,
      ).toHaveLength(0)
      expect(
        lines.filter((l) => MUTATING.test(l)),
        `${n.hostname}: machine changes after the nodes phase`,
      ).toEqual(mutatingAfterNodes![i])
      const installs = lines.filter((l) => /^apt-get install/.test(l))
      expect(new Set(installs).size, `${n.hostname}: a package installed twice`).toBe(installs.length)
    }
    // Git: the whole rendered tree, in one commit
    expect(lab.git('rev-list', '--count', 'main').trim()).toBe('1')
    const tree = lab.git('ls-tree', '-r', '--name-only', 'main').split('\n').filter(Boolean).sort()
    const want = renderFiles(loadInventory(path.join(lab.dir, 'obsctl.yaml')).platform).map((f) => f.path)
    expect(tree).toEqual([...want, '.obsctl-render.json'].sort())
    // buckets: the three, once
    expect((await lab.minio().listBuckets()).map((b) => b.name).sort()).toEqual(['longhorn-backups', 'opensearch-snapshots', 'thanos-metrics'])
    // Secrets: the final run rewrote none
    const finalSecrets = secretVersions(lab.kubes)
    for (const [key, rv] of Object.entries(secretsBefore!)) expect(finalSecrets[key], key).toBe(rv)
    // Argo CD: one cluster Secret per edge (registration), and central's in-cluster Secret (from Git, for the ApplicationSets' generators)
    const clusterSecrets = lab.kubes[0]!.listObjects('secrets', 'argocd').filter(
      (x) => (x as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster',
    )
    expect(clusterSecrets).toHaveLength(4)
    expect(clusterSecrets.filter((x) => (x as {metadata: {labels?: Record<string, string>}}).metadata.labels?.['obsctl.dev/role'] === 'edge')).toHaveLength(3)

    const lines = report.map((r) => `${r.phase.padEnd(14)} ${r.at.padEnd(26)} killed, recovered: ${r.recovered ? 'yes' : 'no'} (run ${r.seconds.toFixed(1)}s)`)
    lines.push(`final run completed in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
    process.stdout.write(
      `kill chain: ${KILLS.length} kills in ${new Set(KILLS.map((x) => x.phase)).size} phases, ${((Date.now() - started) / 1000).toFixed(1)}s:\n${lines.join('\n')}\n`,
    )
    expect(report.filter((r) => r.recovered)).toHaveLength(KILLS.length)
    expect(new Set(KILLS.map((x) => x.phase))).toEqual(new Set(PHASES))
  }, 600_000)
})
