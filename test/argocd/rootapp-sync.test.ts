/** The `root-app` and `sync` phases, and the admin password, against the Kubernetes API test servers. */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {
  INITIAL_ADMIN_SECRET,
  argocdPhase,
  readInitialPassword,
  repoSecretName,
  rootAppPhase,
  rotateAdminPassword,
  syncPhase,
  verifyPassword,
  waitForApps,
  type RootAppReport,
  type SyncReport,
} from '../../src/lib/argocd/index.js'
import {runStandalone, type Phase, type Target} from '../../src/lib/engine/index.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {Kube} from '../../src/lib/kube/index.js'
import {withRealBcryptCost} from '../support/fast-bcrypt.js'
import {INITIAL_PASSWORD, autoRollout, runContext, startFleet, taskIO, writeManifest, type Fleet} from './harness.js'

const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')
type Make<R> = (o: {intervalMs?: number; timeoutSeconds?: number; manifest?: string}) => Phase<Target, R>
/** One phase through the engine as its command runs it; its report is read from the run result. */
const run = async <R>(fleet: Fleet, [make]: [Make<R>], options: {timeoutSeconds?: number; manifest?: string} = {}, inv = fleet.inv) => {
  const r = await runStandalone(make({intervalMs: 25, ...options}), {
    inv,
    command: 'test',
    renderer: 'silent',
    handleSignals: false,
    kubeconfig: fleet.kubeconfig,
  })
  return {run: r.run, rootApp: r.reports[0] as RootAppReport | undefined, sync: r.reports[0] as SyncReport | undefined}
}

describe('root app, sync, password', () => {
  let fleet: Fleet
  let central: Kube
  beforeAll(async () => {
    fleet = await startFleet()
    const stop = autoRollout(fleet.central)
    try {
      await run(fleet, [argocdPhase], {manifest: writeManifest(fleet.dir)})
    } finally {
      stop()
    }
    central = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
  })
  afterAll(async () => {
    await fleet.stop()
  })

  it('root-app applies the rendered argocd/root-app.yaml (public remote: no repository Secret)', async () => {
    const r = await run(fleet, [rootAppPhase])
    expect(r.rootApp?.applied).toEqual(['Application argocd/root-app'])
    expect(r.rootApp?.repoSecret).toBeUndefined()
    const app = fleet.central.getObject('applications.argoproj.io', 'argocd', 'root-app')!
    expect(app.spec.source).toMatchObject({repoURL: fleet.inv.platform.git.remote, targetRevision: 'main', path: 'argocd/applications'})
    expect(app.spec.destination.server).toBe('https://kubernetes.default.svc')
    expect(fleet.central.listObjects('secrets', 'argocd').filter((s) => s.metadata.labels?.['argocd.argoproj.io/secret-type'] === 'repository')).toEqual([])
    const {ctx, resources} = runContext(fleet)
    const phase = rootAppPhase()
    const [t] = await phase.targets(ctx)
    expect(await phase.isDone!(t!, ctx, taskIO([]))).toBe(true)
    await resources.closeAll()
  })

  it('private https remote: the token from git.tokenEnv goes into a repository Secret, never into the fingerprint', async () => {
    const file = path.join(fleet.dir, 'obsctl.yaml')
    const {readFileSync} = await import('node:fs')
    const text = readFileSync(file, 'utf8').replace('  dir: gitops', '  dir: gitops\n  private: true\n  tokenEnv: OBSCTL_TEST_GIT_TOKEN')
    const privFile = path.join(fleet.dir, 'private.yaml')
    writeFileSync(privFile, text)
    const inv = loadInventory(privFile)
    delete process.env.OBSCTL_TEST_GIT_TOKEN
    const err = await run(fleet, [rootAppPhase], {}, inv).catch((e) => e)
    expect(err).toMatchObject({exitCode: 2, code: 'GIT_CREDENTIALS'})
    expect(err.hints[0]).toBe('export OBSCTL_TEST_GIT_TOKEN=<token with read access to the repo>')
    process.env.OBSCTL_TEST_GIT_TOKEN = 'glpat-secret-token-123'
    try {
      const r = await run(fleet, [rootAppPhase], {}, inv)
      expect(r.rootApp?.credentialFrom).toBe('$OBSCTL_TEST_GIT_TOKEN')
      const s = fleet.central.getObject('secrets', 'argocd', repoSecretName(inv.platform.git.remote))!
      expect(s.metadata.labels['argocd.argoproj.io/secret-type']).toBe('repository')
      expect(Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, unb64(v)]))).toEqual({
        type: 'git',
        url: inv.platform.git.remote,
        username: 'git',
        password: 'glpat-secret-token-123',
      })
      const {ctx} = runContext(fleet)
      const phase = rootAppPhase()
      const fp = JSON.stringify(phase.fingerprint((await phase.targets({...ctx, inv, platform: inv.platform}))[0]!, {...ctx, inv, platform: inv.platform}))
      expect(fp).not.toContain('glpat')
      // nothing of it in the GitOps working copy
      const {execFileSync} = await import('node:child_process')
      const grep = (() => {
        try {
          return execFileSync('grep', ['-r', 'glpat-secret-token-123', path.join(fleet.dir, 'gitops')], {encoding: 'utf8'})
        } catch {
          return ''
        }
      })()
      expect(grep).toBe('')
    } finally {
      delete process.env.OBSCTL_TEST_GIT_TOKEN
    }
  })

  it('private ssh remote: the deploy key file becomes sshPrivateKey', async () => {
    const keyDir = mkdtempSync(path.join(tmpdir(), 'obsctl-key-'))
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAtest\n-----END OPENSSH PRIVATE KEY-----\n'
    writeFileSync(path.join(keyDir, 'deploy_key'), key, {mode: 0o600})
    const {readFileSync} = await import('node:fs')
    const text = readFileSync(path.join(fleet.dir, 'obsctl.yaml'), 'utf8')
      .replace(/remote: .*/, 'remote: git@git.miribit.lab:platform/thanos-multi-cluster.git')
      .replace('  dir: gitops', `  dir: gitops\n  private: true\n  sshKeyFile: ${path.join(keyDir, 'deploy_key')}`)
    const f = path.join(fleet.dir, 'ssh.yaml')
    writeFileSync(f, text)
    const inv = loadInventory(f)
    const r = await run(fleet, [rootAppPhase], {}, inv)
    expect(r.rootApp?.repoSecret).toBe(`argocd/${repoSecretName('git@git.miribit.lab:platform/thanos-multi-cluster.git')}`)
    const s = fleet.central.getObject('secrets', 'argocd', repoSecretName('git@git.miribit.lab:platform/thanos-multi-cluster.git'))!
    expect(unb64(s.data.sshPrivateKey)).toBe(key)
    expect(unb64(s.data.url)).toBe('git@git.miribit.lab:platform/thanos-multi-cluster.git')
    // back to the public root app for the sync tests
    await run(fleet, [rootAppPhase])
  })

  describe('sync', () => {
    const apps = ['root-app', 'prometheus-cluster-02', 'thanos-cluster-01']
    beforeAll(() => {
      for (const name of apps.slice(1)) {
        fleet.central.seed({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {name, namespace: 'argocd'},
          spec: {
            project: 'default',
            source: {repoURL: fleet.inv.platform.git.remote, path: `deploy/${name}`},
            destination: {server: 'https://kubernetes.default.svc'},
          },
        })
      }
      for (const name of apps) fleet.central.setApplicationStatus('argocd', name, {sync: 'OutOfSync', health: 'Progressing'})
    })

    it('times out listing the apps that are not Synced and Healthy, with conditions and operation messages (exit 1)', async () => {
      fleet.central.setApplicationStatus('argocd', 'root-app', {sync: 'Synced', health: 'Healthy'})
      fleet.central.setApplicationStatus('argocd', 'thanos-cluster-01', {
        sync: 'Synced',
        health: 'Degraded',
        message: 'Deployment thanos-query has 0/2 ready replicas',
      })
      fleet.central.setApplicationStatus('argocd', 'prometheus-cluster-02', {
        sync: 'OutOfSync',
        health: 'Progressing',
        conditions: [{type: 'ComparisonError', message: 'cluster https://192.168.101.196:6443 has no credentials'}],
      })
      // the last sync operation failed (what the controller writes into status.operationState)
      await central.apply(
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {name: 'prometheus-cluster-02', namespace: 'argocd'},
          status: {operationState: {phase: 'Failed', message: 'one or more objects failed to apply'}},
        },
        {fieldManager: 'test-controller'},
      )
      const err = await run(fleet, [syncPhase], {timeoutSeconds: 1}).catch((e) => e)
      expect(err).toMatchObject({exitCode: 1, code: 'SYNC_TIMEOUT'})
      expect(err.message).toContain('2 of 3 Applications are not Synced and Healthy')
      expect(err.message).toContain(
        'prometheus-cluster-02: OutOfSync/Progressing — ComparisonError: cluster https://192.168.101.196:6443 has no credentials; operation Failed: one or more objects failed to apply',
      )
      expect(err.message).toContain('thanos-cluster-01: Synced/Degraded — health: Deployment thanos-query has 0/2 ready replicas')
      expect(err.message).not.toMatch(/root-app:/)
    })

    it('waits with live per-app status until every Application is Synced and Healthy', async () => {
      const lines: string[] = []
      // Argo CD (played here) moves on only after the waiter has shown the previous state, so the
      // test sees every intermediate line however slowly the machine runs
      const next: [RegExp, () => void][] = [
        [/./, () => fleet.central.setApplicationStatus('argocd', 'thanos-cluster-01', {sync: 'Synced', health: 'Healthy'})],
        [
          /^thanos-cluster-01: Synced\/Healthy$/,
          () => fleet.central.setApplicationStatus('argocd', 'prometheus-cluster-02', {sync: 'Synced', health: 'Progressing'}),
        ],
        [
          /^prometheus-cluster-02: Synced\/Progressing/,
          () => fleet.central.setApplicationStatus('argocd', 'prometheus-cluster-02', {sync: 'Synced', health: 'Healthy'}),
        ],
      ]
      const r = await waitForApps(central, {
        timeoutMs: 120_000,
        intervalMs: 25,
        log: (l) => {
          lines.push(l)
          if (next[0]?.[0].test(l)) next.shift()![1]()
        },
      })
      expect(r).toMatchObject({ok: true, ready: 3, total: 3})
      expect(lines).toContain('thanos-cluster-01: Synced/Healthy')
      expect(lines, lines.join('\n')).toContain('prometheus-cluster-02: Synced/Progressing (operation Failed)')
      expect(lines.at(-1)).toBe('all 3 Applications Synced and Healthy')
      // the progress line: how many, how long of how long, and which are still pending
      expect(lines.find((l) => l.includes(' · '))).toMatch(/^[0-2]\/3 Synced and Healthy · \d+s of 2m · waiting for: [a-z0-9-]+(, [a-z0-9-]+)*$/)
      expect(lines).toContainEqual(expect.stringMatching(/^2\/3 Synced and Healthy · \d+s of 2m · waiting for: prometheus-cluster-02$/))
      const done = await run(fleet, [syncPhase])
      expect(done.sync?.apps.map((a) => `${a.name}:${a.sync}/${a.health}`)).toEqual([
        'prometheus-cluster-02:Synced/Healthy',
        'root-app:Synced/Healthy',
        'thanos-cluster-01:Synced/Healthy',
      ])
    })

    it('interrupted while waiting: exit 130; the next run completes', async () => {
      fleet.central.setApplicationStatus('argocd', 'root-app', {sync: 'OutOfSync', health: 'Progressing'})
      const ac = new AbortController()
      const {ctx, resources} = runContext(fleet, ac.signal)
      const phase = syncPhase({intervalMs: 25})
      const [t] = await phase.targets(ctx)
      setTimeout(() => ac.abort(), 100)
      await expect(phase.run(t!, ctx, taskIO([], ac.signal))).rejects.toMatchObject({exitCode: 130})
      await resources.closeAll()
      setTimeout(() => fleet.central.setApplicationStatus('argocd', 'root-app', {sync: 'Synced', health: 'Healthy'}), 100)
      const r = await run(fleet, [syncPhase])
      expect(r.run.ok).toBe(true)
    })
  })

  describe('admin password', () => {
    afterEach(() => {})
    it('reads the initial password; rotate stores a bcrypt hash + RFC 3339 mtime and deletes the initial secret', async () => {
      expect(await readInitialPassword(central)).toBe(INITIAL_PASSWORD)
      const before = Date.now()
      // the real cost: the hash's own text is asserted below (elsewhere the workers hash at cost 4: test/support/fast-bcrypt.ts)
      const r = await withRealBcryptCost(() => rotateAdminPassword(central, 'n3w-Admin-pass'))
      expect(r.initialDeleted).toBe(true)
      expect(r.passwordMtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      expect(Date.parse(r.passwordMtime)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      const s = fleet.central.getObject('secrets', 'argocd', 'argocd-secret')!
      const hash = unb64(s.data['admin.password'])
      expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/)
      expect(await verifyPassword('n3w-Admin-pass', hash)).toBe(true)
      expect(await verifyPassword(INITIAL_PASSWORD, hash)).toBe(false)
      expect(unb64(s.data['admin.passwordMtime'])).toBe(r.passwordMtime)
      expect(s.metadata.labels['app.kubernetes.io/name']).toBe('argocd-secret')
      expect(fleet.central.getObject('secrets', 'argocd', INITIAL_ADMIN_SECRET)).toBeUndefined()
      expect(await readInitialPassword(central)).toBeUndefined()
      await expect(rotateAdminPassword(central, 'short')).rejects.toMatchObject({exitCode: 2, code: 'WEAK_PASSWORD'})
    })
  })
})
