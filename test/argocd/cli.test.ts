/** The built CLI (bin/run.js) against the test fleet: argocd install, cluster register, argocd password, argocd sync. */
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, ROOT, requireBuild} from '../cli/helpers.js'
import {gitDir} from '../../src/lib/config/model.js'
import {renderRepo} from '../../src/lib/gitops/index.js'
import {INITIAL_PASSWORD, autoRollout, startFleet, writeManifest, type Fleet} from './harness.js'

interface Result {
  status: number | null
  stdout: string
  stderr: string
}

/** async: the test servers live in this process and must keep answering while the CLI runs */
function obsctl(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: {...process.env, CI: '1', NO_COLOR: '1', ...env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

describe('obsctl argocd / cluster register (built CLI)', () => {
  let fleet: Fleet
  let stop: () => void
  let common: string[]
  /** the GitOps remote: a bare repository here (argocd sync reads the branch head from it with git ls-remote) */
  let remote: string
  beforeAll(async () => {
    requireBuild()
    remote = path.join(mkdtempSync(path.join(tmpdir(), 'obsctl-remote-')), 'gitops.git')
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote])
    fleet = await startFleet({edit: (t) => t.replace('https://git.miribit.lab/platform/thanos-multi-cluster.git', remote)})
    await renderRepo(fleet.inv.platform, {dir: gitDir(fleet.inv.platform, fleet.inv.dir), inventoryDir: fleet.inv.dir, commit: true, push: true})
    stop = autoRollout(fleet.central)
    common = ['-c', path.join(fleet.dir, 'obsctl.yaml'), '--kubeconfig', fleet.kubeconfig]
  })
  afterAll(async () => {
    stop()
    await fleet.stop()
    rmSync(path.dirname(remote), {recursive: true, force: true})
  })

  it('argocd install --manifest FILE prints the choice, the rollout and the URL', async () => {
    const r = await obsctl(['argocd', 'install', ...common, '--manifest', writeManifest(fleet.dir), '--timeout', '60'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('Argo CD v3.1.9 on cluster-01 (cluster-01-context), non-HA manifest')
    expect(r.stdout).toContain('URL: https://argocd.k8s-cluster-01.miribit.lab')
    expect(r.stdout).toMatch(/StatefulSet\s+argocd\/argocd-application-controller\s+yes/)

    // run again, and --dry-run after it: nothing to do, nothing planned, no object written
    const writes = () => fleet.central.requestLog.filter((x) => !['GET', 'HEAD'].includes(x.method) && !x.path.includes('/tokenreviews'))
    fleet.central.clearRequestLog()
    const dry = await obsctl(['argocd', 'install', ...common, '--manifest', writeManifest(fleet.dir), '--dry-run'])
    expect(dry.status, dry.stderr).toBe(0)
    expect(dry.stdout).toBe(`would skip: done, unchanged\n\ndry run: nothing was changed\n`)
    const again = await obsctl(['argocd', 'install', ...common, '--manifest', writeManifest(fleet.dir), '--timeout', '60'])
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain('Argo CD v3.1.9 is already installed and rolled out (live check); nothing to do')
    expect(writes()).toEqual([])
  })

  it('a wrong version manifest is bad input: exit 2 naming the flag, before the cluster is contacted', async () => {
    const wrong = writeManifest(fleet.dir, 'non-ha', 'v2.14.0')
    fleet.central.clearRequestLog()
    const r = await obsctl(['argocd', 'install', ...common, '--manifest', wrong])
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`--manifest ${wrong} is Argo CD v2.14.0, but the inventory pins v3.1.9 (versions.argocd)`)
    expect(r.stderr).toContain('→ pass --manifest the v3.1.9 manifest')
    expect(r.stderr).toContain('or set versions.argocd')
    expect(fleet.central.requestLog).toEqual([])
    // bootstrap reads its --argocd-manifest FILE before anything runs, its dry run too
    const b = await obsctl(['bootstrap', '--all', '--dry-run', ...common, '--argocd-manifest', wrong])
    expect(b.status, b.stderr).toBe(2)
    expect(b.stderr).toContain(`--argocd-manifest ${wrong} is Argo CD v2.14.0`)
  })

  it('cluster register: every edge, then --json; the central cluster is refused with exit 2', async () => {
    const r = await obsctl(['cluster', 'register', ...common])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/cluster-02\s+agent\s+argocd\/cluster-127\.0\.0\.1-\d+\s+-\s+kept/)
    expect(r.stdout).toMatch(/cluster-03\s+remote-scrape\s+argocd\/cluster-127\.0\.0\.1-\d+\s+monitoring\/obsctl-scrape-cluster-03\s+kept/)
    // --dry-run after it: every edge registered, nothing planned
    const dry = await obsctl(['cluster', 'register', ...common, '--dry-run'])
    expect(dry.status, dry.stderr).toBe(0)
    expect(dry.stdout).toBe(
      `${['cluster-02', 'cluster-03', 'cluster-04'].map((c) => `${c}: would skip: done, unchanged`).join('\n')}\n\ndry run: nothing was changed\n`,
    )
    const bad = await obsctl(['cluster', 'register', ...common, 'cluster-01'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('cluster-01 is the central cluster')
  })

  it('argocd password: hidden without --show; --rotate without a terminal needs --generate; --generate shows it once', async () => {
    const hidden = await obsctl(['argocd', 'password', ...common])
    expect(hidden.status).toBe(0)
    expect(hidden.stdout).not.toContain(INITIAL_PASSWORD)
    const shown = await obsctl(['argocd', 'password', ...common, '--show'])
    expect(shown.stdout.trim()).toBe(INITIAL_PASSWORD)
    const noTty = await obsctl(['argocd', 'password', ...common, '--rotate'])
    expect(noTty.status).toBe(2)
    expect(noTty.stderr).toContain('→ add --generate')
    const gen = await obsctl(['argocd', 'password', ...common, '--rotate', '--generate', '--json'])
    expect(gen.status).toBe(0)
    const rep = JSON.parse(gen.stdout)
    expect(rep).toMatchObject({rotated: true, generated: true, initialSecret: false})
    expect(rep.password).toMatch(/^[A-Za-z0-9]{24}$/)
  })

  it('argocd sync times out with exit 1 listing the unhealthy apps', async () => {
    // the root app at the pushed commit (so argocd-refresh is done at once): its sync and health are what is judged
    const head = execFileSync('git', ['-C', remote, 'rev-parse', 'main'], {encoding: 'utf8'}).trim()
    fleet.central.seed({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name: 'root-app', namespace: 'argocd'},
      spec: {project: 'default', source: {repoURL: remote, path: 'argocd/applications', targetRevision: 'main'}},
    })
    fleet.central.setApplicationStatus('argocd', 'root-app', {sync: 'OutOfSync', health: 'Missing', revision: head})
    const r = await obsctl(['argocd', 'sync', ...common, '--timeout', '2'])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('1 of 1 Applications are not Synced and Healthy')
    expect(r.stderr).toContain('root-app: OutOfSync/Missing')
    fleet.central.setApplicationStatus('argocd', 'root-app', {sync: 'Synced', health: 'Healthy', revision: head})
    const ok = await obsctl(['argocd', 'sync', ...common, '--timeout', '10'])
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/root-app\s+Synced\s+Healthy/)
  })
})
