/**
 * `obsctl argocd sync` after a push Argo CD has not fetched yet: it must not report done while the Applications are
 * Synced at an older commit. Against a Kubernetes API test server (central) with Argo CD's application controller
 * played by fetchRevisions (test/support/kube/argocd-controllers.ts: a new Application at the branch head, an existing
 * one only after a refresh, the annotation then removed; status.sync.revision as argo-cd v3.1.9's Application has
 * it), and the example inventory's GitOps repository pushed to a bare remote.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {argocdSync, configSet} from '../../src/lib/flows/change-run.js'
import {formatChange} from '../../src/lib/fleet/change.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {Kube} from '../../src/lib/kube/index.js'
import {APPLICATION_CRD, REFRESH_ANNOTATION, fetchRevisions, type RevisionMove} from '../support/kube/argocd-controllers.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {withValues} from '../support/inventory.js'
import {workspace, type Workspace} from './helpers.js'

describe('argocd sync waits for the pushed commit', () => {
  let central: KubeServer
  let ws: Workspace
  let kubeconfig: string
  /** Argo CD's application controller, played every 20 ms while `playing` */
  let playing = false
  const moves: RevisionMove[] = []
  let timer: NodeJS.Timeout
  const head = () => ws.remoteGit('rev-parse', 'main').trim()
  const rootApp = () =>
    central.getObject('applications.argoproj.io', 'argocd', 'root-app') as {
      metadata: {annotations?: Record<string, string>}
      status: {sync: {revision?: string; status: string}}
    }
  const options = {kubeconfig: '', renderer: 'silent' as const, handleSignals: false, intervalMs: 25}

  beforeAll(async () => {
    vi.stubEnv('OBSCTL_S3_ACCESS_KEY', 'test-access-key')
    vi.stubEnv('OBSCTL_S3_SECRET_KEY', 'test-secret-key-0123456789')
    ;[central] = (await startKubeServers(['cluster-01'])) as [KubeServer]
    ws = await workspace({edit: withValues({'clusters.cluster-01.apiServer': central.url})})
    kubeconfig = writeFleetKubeconfig(path.join(ws.dir, 'kubeconfig'), [central])
    options.kubeconfig = kubeconfig
    const kube = await Kube.connect({kubeconfig, context: 'cluster-01-context'})
    await kube.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
    await kube.apply(APPLICATION_CRD)
    // the root app as the root-app phase applies it (rendered argocd/root-app.yaml)
    await kube.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name: 'root-app', namespace: 'argocd'},
      spec: {
        project: 'default',
        source: {repoURL: ws.remote, path: 'argocd/applications', targetRevision: 'main'},
        destination: {server: 'https://kubernetes.default.svc'},
      },
    })
    timer = setInterval(() => {
      if (playing) moves.push(...fetchRevisions(central, head(), {sync: 'Synced', health: 'Healthy'}))
    }, 20)
    // Argo CD compares the new root app at once: Synced and Healthy at the first commit
    playing = true
    await vi.waitFor(() => expect(rootApp().status?.sync?.revision).toBe(head()), {timeout: 60_000, interval: 20})
  })
  afterAll(async () => {
    clearInterval(timer)
    vi.unstubAllEnvs()
    await stopKubeServers([central])
    ws.cleanup()
  })

  it('a commit pushed without --sync: argocd sync asks Argo CD to refresh and is done only once every Application reports it', async () => {
    const before = head()
    await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false, kubeconfig, renderer: 'silent'})
    const pushed = head()
    expect(pushed).not.toBe(before)
    // Argo CD has not fetched it: Synced and Healthy, at the commit before
    expect(rootApp().status.sync).toMatchObject({status: 'Synced', revision: before})
    moves.length = 0
    const r = await argocdSync(ws.inv(), {...options, timeoutSeconds: 120})
    // done means: Argo CD reports the pushed commit (it moved there because obsctl asked it to refresh)
    expect(rootApp().status.sync).toMatchObject({status: 'Synced', revision: pushed})
    expect(moves).toContainEqual({app: 'root-app', from: before, to: pushed})
    expect(r.revision).toBe(pushed)
    expect(r.sync).toMatchObject({ok: true, ready: 1, total: 1})
    expect(r.run.phases.map((p) => [p.name, p.tasks.map((t) => t.status)])).toEqual([
      ['argocd-refresh', ['done']],
      ['sync', ['in-state']],
    ])
    expect(r.run.phases[0]!.tasks[0]!.summary).toBe(`Argo CD is at ${pushed.slice(0, 12)}`)
    // Argo CD removed the annotation once it had refreshed
    expect(rootApp().metadata.annotations?.[REFRESH_ANNOTATION]).toBeUndefined()

    // run again: Argo CD is at the commit already — nothing asked of it (no write), done at once
    central.clearRequestLog()
    const again = await argocdSync(ws.inv(), {...options, timeoutSeconds: 120})
    expect(again.revision).toBe(pushed)
    expect(again.run.phases.map((p) => [p.name, p.tasks.map((t) => t.status)])).toEqual([
      ['argocd-refresh', ['done']],
      ['sync', ['in-state']],
    ])
    expect(central.requestLog.filter((q) => !['GET', 'HEAD'].includes(q.method)).map((q) => `${q.method} ${q.path}`)).toEqual([])
  })

  it('Argo CD never fetches the pushed commit: exit 1 naming the commit and where each Application is, not done', async () => {
    playing = false
    try {
      const before = head()
      await configSet(ws.inv(), 'retention.prometheus', '9h', {yes: true, sync: false, kubeconfig, renderer: 'silent'})
      const pushed = head()
      const e = await argocdSync(ws.inv(), {...options, timeoutSeconds: 1}).catch((x: unknown) => x)
      expect(e).toMatchObject({exitCode: 1, code: 'SYNC_REVISION'})
      expect((e as Error).message).toBe(`Argo CD has not seen commit ${pushed.slice(0, 12)} yet: root-app (at ${before.slice(0, 12)})`)
      // what it did: asked Argo CD to refresh
      expect(rootApp().metadata.annotations?.[REFRESH_ANNOTATION]).toBe('normal')
    } finally {
      playing = true
    }
    await vi.waitFor(() => expect(rootApp().status.sync.revision).toBe(head()), {timeout: 60_000, interval: 20})
  })

  it('config set whose sync timed out, run again (a CI retry): it waits for Argo CD again instead of exit 0 with nothing done; no second commit', async () => {
    const commits = () => ws.remoteGit('rev-list', '--count', 'main').trim()
    const set = (timeoutSeconds: number) => configSet(ws.inv(), 'retention.prometheus', '11h', {...options, yes: true, timeoutSeconds})
    let pushed: string
    let count: string
    playing = false
    try {
      expect(await set(1).catch((x: unknown) => x)).toMatchObject({exitCode: 1, code: 'SYNC_FAILED'})
      pushed = head()
      count = commits()
      // the same command again: inventory, render and remote have the change, and Argo CD has still not fetched it
      const again = await set(1).catch((x: unknown) => x)
      expect(again).toMatchObject({exitCode: 1, code: 'SYNC_FAILED'})
      expect((again as Error).message).toContain(`Argo CD has not seen commit ${pushed.slice(0, 12)} yet`)
      expect([head(), commits()]).toEqual([pushed, count])
    } finally {
      playing = true
    }
    // and once Argo CD fetches it: done, nothing committed or pushed again
    const done = await set(60)
    expect(done).toMatchObject({noop: true, sync: {ok: true}})
    expect(done.commit ?? null).toBeNull()
    expect(done.push ?? null).toBeNull()
    expect(rootApp().status.sync).toMatchObject({status: 'Synced', revision: pushed})
    expect([head(), commits()]).toEqual([pushed, count])
    expect(formatChange(done)).toBe(`retention.prometheus is already 11h and the repository is rendered: nothing to change\nsync    ${done.sync!.summary}`)
  })

  it('a commit kept local (--no-push): it waits for the branch head it pushed, which is what Argo CD can fetch', async () => {
    const pushed = head()
    await configSet(ws.inv(), 'retention.prometheus', '10h', {yes: true, push: false, sync: false, kubeconfig, renderer: 'silent'})
    const local = execFileSync('git', ['-C', ws.gitops, 'rev-parse', 'HEAD'], {encoding: 'utf8'}).trim()
    expect(local).not.toBe(pushed)
    const r = await argocdSync(ws.inv(), {...options, timeoutSeconds: 60})
    expect(rootApp().status.sync.revision).toBe(pushed)
    expect(r.revision).toBe(pushed)
    const task = r.run.phases[0]!.tasks[0]!
    expect(task.summary).toBe(`Argo CD is at ${pushed.slice(0, 12)}`)
    expect(readFileSync(task.logFile!, 'utf8')).toContain(`HEAD ${local.slice(0, 12)} is not on ${ws.remote} (main); Argo CD can see ${pushed.slice(0, 12)}`)
  })

  /** a commit pushed to the remote from another clone (another operator), on top of its head or (rewrite) replacing it */
  let otherCommits = 0
  const pushElsewhere = (o: {rewrite?: boolean} = {}) => {
    // a message of its own: the same empty commit on the same parent within a second would be the same commit
    const other = mkdtempSync(path.join(tmpdir(), 'obsctl-other-'))
    const g = (...args: string[]) => execFileSync('git', ['-C', other, ...args], {encoding: 'utf8'}).trim()
    execFileSync('git', ['clone', '-q', ws.remote, other])
    if (o.rewrite) g('reset', '-q', '--hard', 'HEAD~1')
    g('-c', 'user.name=other', '-c', 'user.email=other@example.org', 'commit', '-q', '--allow-empty', '-m', `another operator's commit ${++otherCommits}`)
    g('push', '-q', ...(o.rewrite ? ['--force'] : []), 'origin', 'HEAD:main')
    return head()
  }

  it('the remote moved on since this working copy pushed: it waits for the head, which contains that commit', async () => {
    const pushed = execFileSync('git', ['-C', ws.gitops, 'rev-parse', 'origin/main'], {encoding: 'utf8'}).trim()
    const newer = pushElsewhere()
    expect(newer).not.toBe(pushed)
    const r = await argocdSync(ws.inv(), {...options, timeoutSeconds: 60})
    // waiting for the commit this copy pushed would never end: Argo CD reports the head of the branch
    expect(rootApp().status.sync.revision).toBe(newer)
    expect(r.revision).toBe(newer)
    expect(readFileSync(r.run.phases[0]!.tasks[0]!.logFile!, 'utf8')).toContain(
      `${ws.remote} (main) moved on to ${newer.slice(0, 12)}, which contains ${pushed.slice(0, 12)}, the head this working copy last pushed or fetched`,
    )
  })

  it('no GitOps working copy here (another machine): it reads the head from the remote and waits for it', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'obsctl-nocopy-'))
    writeFileSync(path.join(elsewhere, 'obsctl.yaml'), readFileSync(ws.file, 'utf8'))
    const newer = pushElsewhere()
    const r = await argocdSync(loadInventory(path.join(elsewhere, 'obsctl.yaml')), {...options, timeoutSeconds: 60})
    // it used to be "not checked", the sync judged alone while Argo CD was still at the commit before
    expect(rootApp().status.sync.revision).toBe(newer)
    expect(r.revision).toBe(newer)
    expect(r.run.phases[0]!.tasks[0]!.summary).toBe(`Argo CD is at ${newer.slice(0, 12)}`)

    // a remote it cannot read: a failure saying so, not a sync judged without the commit
    writeFileSync(path.join(elsewhere, 'obsctl.yaml'), readFileSync(ws.file, 'utf8').replace(ws.remote, path.join(elsewhere, 'gone.git')))
    const e = await argocdSync(loadInventory(path.join(elsewhere, 'obsctl.yaml')), {...options, timeoutSeconds: 5}).catch((x: unknown) => x)
    expect(e).toMatchObject({exitCode: 1})
    expect(String((e as Error).message)).toContain(`cannot read the GitOps remote ${path.join(elsewhere, 'gone.git')}`)
  })

  it('the branch was rewritten without the commit pushed from here: an error naming both, nothing waited for', async () => {
    // the working copy last saw the branch head (fetched); another clone replaces the branch with one that lacks it
    execFileSync('git', ['-C', ws.gitops, 'fetch', '-q', 'origin'])
    const fetched = execFileSync('git', ['-C', ws.gitops, 'rev-parse', 'origin/main'], {encoding: 'utf8'}).trim()
    const rewritten = pushElsewhere({rewrite: true})
    const e = await argocdSync(ws.inv(), {...options, timeoutSeconds: 60}).catch((x: unknown) => x)
    expect(e).toMatchObject({exitCode: 1})
    expect(String((e as Error).message)).toContain(
      `${ws.remote} (main) is at ${rewritten.slice(0, 12)}, which does not contain ${fetched.slice(0, 12)}, the head the working copy ${ws.gitops} last pushed or fetched: the branch was rewritten`,
    )
    expect(e).toMatchObject({code: 'PUSHED_COMMIT_GONE'})
    // nothing waited for: Argo CD was not asked to refresh for a commit it would never deploy
    expect(rootApp().status.sync.revision).not.toBe(rewritten)
  })
})
