/**
 * obsctl diff: the inventory's render vs a REAL Git remote (a bare repository the example lab's render
 * was pushed to, test/fleet/helpers.ts) vs the Applications on the Kubernetes API test server (the
 * rendered Application manifests applied as the root app would, their status set as Argo CD's
 * application controller sets it: status.sync.status, status.health.status). Each drift is made for
 * real — a commit pushed to the remote by hand, an inventory change not rendered, an Application
 * OutOfSync or deleted — and the outcome asserted per cluster and Application, with the exit code.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {computeDrift, formatDrift, type DriftResult} from '../../src/lib/gitops/drift.js'
import {gitBlobId} from '../../src/lib/gitops/remote-tree.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {Kube} from '../../src/lib/platform/index.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {workspace, type Workspace} from '../fleet/helpers.js'
import {obsctlAsync as obsctl, requireBuild} from '../cli/helpers.js'
import {waitFor} from '../support/wait.js'
import {exampleInventory} from '../support/inventory.js'
import {APPLICATION_CRD, appSets, clusterSecrets, generateApplications} from '../support/kube/argocd-controllers.js'
import {renderFiles} from '../../src/lib/gitops/index.js'

let ws: Workspace
let kube: KubeServer
let kubeconfig: string
let appNames: string[]

const APP_CRD = APPLICATION_CRD

/** the Applications Argo CD's ApplicationSet controller generates from the render and the fleet's cluster Secrets (test/support/kube/argocd-controllers.ts) */
function renderedApplications(): {metadata: {name: string; namespace: string}}[] {
  const inv = ws.inv()
  const files = renderFiles(inv.platform)
  return appSets(files).flatMap((s) => generateApplications(s, clusterSecrets(inv, files))) as {metadata: {name: string; namespace: string}}[]
}

function allSynced(): void {
  for (const a of renderedApplications()) {
    if (!kube.getObject('applications.argoproj.io', 'argocd', a.metadata.name)) kube.seed(a as never)
    kube.setApplicationStatus('argocd', a.metadata.name, {sync: 'Synced', health: 'Healthy', revision: ws.remoteGit('rev-parse', 'main').trim()})
  }
}

/** a clone of the remote in which a test commits by hand, then pushes */
function handCommit(edit: (dir: string) => void, message: string): void {
  const dir = path.join(ws.dir, `clone-${Date.now()}`)
  execFileSync('git', ['clone', '-q', ws.remote, dir])
  edit(dir)
  execFileSync('git', ['-C', dir, '-c', 'user.name=someone', '-c', 'user.email=someone@example.lab', 'commit', '-qam', message])
  execFileSync('git', ['-C', dir, 'push', '-q', 'origin', 'HEAD:main'])
}

const app = (r: DriftResult, name: string) => r.clusters.flatMap((c) => c.applications).find((a) => a.name === name)!

beforeAll(async () => {
  ;[ws, [kube]] = (await Promise.all([workspace(), startKubeServers(['cluster-01'])])) as [Workspace, KubeServer[]]
  kubeconfig = writeFleetKubeconfig(path.join(ws.dir, 'kubeconfig'), [kube])
  kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
  kube.seed(APP_CRD as never)
  await waitFor(
    () => {
      try {
        kube.type('applications.argoproj.io')
        return true
      } catch {
        return false
      }
    },
    60_000,
    'the Application kind',
  )
  appNames = renderedApplications()
    .map((a) => a.metadata.name)
    .sort()
}, 120_000)

afterAll(async () => {
  await (kube && stopKubeServers([kube]))
  ws?.cleanup()
})

beforeEach(() => allSynced())

describe('obsctl diff', () => {
  it('no drift: every rendered Application present and Synced, Git holds the render', async () => {
    const r = await computeDrift(ws.inv(), {kubeconfig})
    expect(formatDrift(r)).toMatch(/No drift/)
    expect(r.ok).toBe(true)
    expect(r.commit).toBe(ws.remoteGit('rev-parse', 'main').trim())
    expect(r.clusters.map((c) => c.name)).toEqual(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    expect(r.clusters.flatMap((c) => c.applications.map((a) => a.name)).sort()).toEqual(appNames)
    expect(r.summary).toMatchObject({applications: appNames.length, drifted: 0, outOfSync: 0, missing: 0, handEdits: 0, notPushed: 0})
    expect(r.platform).toEqual([])
  })

  it('Argo CD: an OutOfSync Application and a missing one are drift, on their clusters', async () => {
    kube.setApplicationStatus('argocd', 'thanos-cluster-01', {sync: 'OutOfSync', health: 'Healthy'})
    const gone = 'fluent-bit-cluster-03'
    expect(appNames).toContain(gone)
    const obj = kube.getObject('applications.argoproj.io', 'argocd', gone)!
    const k = await Kube.connect({kubeconfig, context: 'cluster-01-context'})
    // gone for good: as after Argo CD's resources finalizer ran (the generated Applications carry it)
    await k.mergePatch({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {name: gone, namespace: 'argocd', finalizers: null as unknown as string[]},
    })
    expect(await k.delete({apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {name: gone, namespace: 'argocd'}})).toBe(true)
    try {
      const r = await computeDrift(ws.inv(), {kubeconfig})
      expect(r.ok).toBe(false)
      expect(app(r, 'thanos-cluster-01')).toMatchObject({cluster: 'cluster-01', drift: true, live: {state: 'OutOfSync', health: 'Healthy'}, files: []})
      expect(app(r, gone)).toMatchObject({cluster: 'cluster-03', drift: true, live: {state: 'missing'}})
      expect(r.clusters.map((c) => [c.name, c.drift])).toEqual([
        ['cluster-01', true],
        ['cluster-02', false],
        ['cluster-03', true],
        ['cluster-04', false],
      ])
      expect(r.summary).toMatchObject({drifted: 2, outOfSync: 1, missing: 1, handEdits: 0, notPushed: 0})
      // --cluster keeps one cluster's
      const only = await computeDrift(ws.inv(), {kubeconfig, cluster: 'cluster-02'})
      expect(only.ok).toBe(true)
      expect(only.clusters.map((c) => c.name)).toEqual(['cluster-02'])
    } finally {
      kube.seed({...obj, metadata: {...obj.metadata, resourceVersion: undefined, uid: undefined}} as never)
    }
  })

  // per-cluster files (Longhorn's overlay): edge overlays shared by a metrics mode belong to no single Application
  it('Git: a file edited by hand in the remote is a hand edit of its Application, with the diff from Git to the render', async () => {
    const file = 'deploy/overlays/cluster-02-edge/longhorn/kustomization.yaml'
    const before = ws.remoteGit('show', `main:${file}`)
    handCommit((d) => writeFileSync(path.join(d, file), `${readFileSync(path.join(d, file), 'utf8')}# tuned by hand\n`), 'hand tweak')
    try {
      const r = await computeDrift(ws.inv(), {kubeconfig})
      expect(r.ok).toBe(false)
      const a = app(r, 'longhorn-cluster-02')
      expect(a.drift).toBe(true)
      expect(a.live.state).toBe('Synced')
      expect(a.files).toEqual([{path: file, kind: 'hand-edit', diff: expect.stringContaining('\n-# tuned by hand\n')}])
      expect(a.files[0]!.diff).toMatch(new RegExp(`^--- git/${file}\n\\+\\+\\+ render/${file}\n`))
      expect(r.summary).toMatchObject({drifted: 1, handEdits: 1, notPushed: 0})
      expect(formatDrift(r)).toContain(`${file}: edited in Git by hand`)
    } finally {
      handCommit((d) => writeFileSync(path.join(d, file), before), 'undo the hand tweak')
    }
    expect((await computeDrift(ws.inv(), {kubeconfig})).ok).toBe(true)
  })

  it('Git: a file added by hand under an Application path, and one deleted, are hand edits', async () => {
    const added = 'deploy/overlays/cluster-04-edge/longhorn/extra.yaml'
    const deleted = 'deploy/overlays/cluster-03-edge/longhorn/kustomization.yaml'
    const keep = ws.remoteGit('show', `main:${deleted}`)
    handCommit((d) => {
      writeFileSync(path.join(d, added), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n')
      execFileSync('git', ['-C', d, 'add', added])
      execFileSync('git', ['-C', d, 'rm', '-q', deleted])
    }, 'hand additions')
    try {
      const r = await computeDrift(ws.inv(), {kubeconfig})
      expect(app(r, 'longhorn-cluster-04').files).toMatchObject([{path: added, kind: 'added-in-git'}])
      expect(app(r, 'longhorn-cluster-03').files).toMatchObject([{path: deleted, kind: 'missing-in-git', deleted: true}])
      expect(r.summary.handEdits).toBe(2)
    } finally {
      handCommit((d) => {
        execFileSync('git', ['-C', d, 'rm', '-q', added])
        mkdirSync(path.dirname(path.join(d, deleted)), {recursive: true}) // git removed the emptied folder
        writeFileSync(path.join(d, deleted), keep)
        execFileSync('git', ['-C', d, 'add', deleted])
      }, 'undo')
    }
  })

  it('an inventory change not rendered and pushed: Git holds the older render (not a hand edit)', async () => {
    const text = readFileSync(ws.file, 'utf8')
    expect(ws.inv().platform.retention.prometheus).toBe('6h')
    const changed = path.join(ws.dir, 'changed.yaml')
    writeFileSync(changed, exampleInventory({'retention.prometheus': '12h'}, text))
    const r = await computeDrift(loadInventory(changed), {kubeconfig})
    expect(r.ok).toBe(false)
    const files = r.clusters.flatMap((c) => c.applications.flatMap((a) => a.files))
    expect(files.length).toBeGreaterThan(0)
    expect(new Set(files.map((f) => f.kind))).toEqual(new Set(['not-pushed']))
    expect(app(r, 'kube-prometheus-stack-cluster-01').files.map((f) => f.path)).toContain(
      'deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml',
    )
    expect(app(r, 'kube-prometheus-stack-cluster-01').files[0]!.diff).toMatch(/\n-\s+retention: 6h\n\+\s+retention: 12h\n/)
    expect(r.summary.handEdits).toBe(0)
  })

  it('blob ids are git’s own (so unchanged files are compared without reading them)', () => {
    const content = readFileSync(path.join(ws.gitops, 'argocd/root-app.yaml'), 'utf8')
    expect(gitBlobId(content)).toBe(ws.remoteGit('rev-parse', 'main:argocd/root-app.yaml').trim())
  })

  describe('the CLI', () => {
    beforeAll(() => requireBuild())
    const env = () => ({KUBECONFIG: kubeconfig, OBSCTL_CONFIG: ws.file})

    it('exit 0 without drift, 1 with (also --json, an object), 2 for an unknown cluster', async () => {
      const ok = await obsctl(['diff'], {env: env()})
      expect(ok.status, ok.stderr).toBe(0)
      expect(ok.stdout).toMatch(/No drift: \d+ Applications match/)
      kube.setApplicationStatus('argocd', 'opensearch-cluster-01', {sync: 'OutOfSync', health: 'Degraded', message: 'StatefulSet opensearch: 1/3 ready'})
      const bad = await obsctl(['diff', '--json'], {env: env()})
      expect(bad.status).toBe(1)
      const j = JSON.parse(bad.stdout) as DriftResult
      expect(j.ok).toBe(false)
      expect(app(j, 'opensearch-cluster-01').live).toMatchObject({state: 'OutOfSync', health: 'Degraded'})
      const text = await obsctl(['diff', '--cluster', 'cluster-01'], {env: env()})
      expect(text.status).toBe(1)
      expect(text.stdout).toContain('✖ opensearch-cluster-01: OutOfSync/Degraded (StatefulSet opensearch: 1/3 ready)')
      const unknown = await obsctl(['diff', '--cluster', 'cluster-9'], {env: env()})
      expect(unknown.status).toBe(2)
      expect(unknown.stderr).toMatch(/--cluster cluster-9: no such cluster/)
    })

    /**
     * git.remote `../gitops-mirror.git` with git.dir `some/deeper/dir`: taken from the inventory's folder (docs), it is
     * ROOT/gitops-mirror.git; taken from the working copy, as git takes a relative path it finds in origin, it is
     * INVENTORY/some/deeper/gitops-mirror.git. Both repositories exist here, so a push to the wrong one succeeds and
     * only the diff that reads the other tells.
     */
    function relativeRemote(name: string) {
      const root = path.join(ws.dir, name)
      const invDir = path.join(root, 'inventory')
      const mirror = path.join(root, 'gitops-mirror.git')
      const wrong = path.join(invDir, 'some', 'deeper', 'gitops-mirror.git')
      for (const bare of [mirror, wrong]) execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare])
      const file = path.join(invDir, 'obsctl.yaml')
      writeFileSync(file, exampleInventory({'git.remote': '../gitops-mirror.git', 'git.dir': 'some/deeper/dir'}, readFileSync(ws.file, 'utf8')))
      const heads = (bare: string) => execFileSync('git', ['--git-dir', bare, 'for-each-ref', '--format=%(refname) %(objectname)'], {encoding: 'utf8'})
      const gitops = path.join(invDir, 'some', 'deeper', 'dir')
      const wc = (...args: string[]) => execFileSync('git', ['-C', gitops, ...args], {encoding: 'utf8'}).trim()
      // from another folder: neither the working directory nor the working copy decides where the remote is
      const cli = (args: string[]) => obsctl(args, {env: {...env(), OBSCTL_CONFIG: file}, cwd: ws.dir})
      return {mirror, wrong, gitops, heads, wc, cli}
    }

    it("a relative local git.remote is one repository, from the inventory's folder: render --push writes the one diff reads", async () => {
      const t = relativeRemote('relative-remote')
      const push = await t.cli(['render', '--push'])
      expect(push.status, push.stderr).toBe(0)
      const head = t.wc('rev-parse', 'HEAD')
      expect(t.heads(t.mirror)).toBe(`refs/heads/main ${head}\n`)
      expect(t.heads(t.wrong)).toBe('')
      // what git itself will use from the working copy (obsctl's hints say `git -C <dir> pull --rebase origin …`)
      expect(t.wc('ls-remote', '--get-url', 'origin')).toBe(t.mirror)
      const diff = await t.cli(['diff', '--json'])
      expect(diff.status, diff.stdout + diff.stderr).toBe(0)
      expect(JSON.parse(diff.stdout)).toMatchObject({ok: true, commit: head, summary: {notPushed: 0, handEdits: 0}})
      // run again (a retry, a CI job's rerun): git pushes nothing, and obsctl says so rather than "pushed"
      expect(JSON.parse((await t.cli(['render', '--push', '--json'])).stdout)).toMatchObject({commit: null, push: {commit: head, upToDate: true}})
      const again = await t.cli(['render', '--push'])
      expect(again.status, again.stderr).toBe(0)
      expect(again.stdout).toContain(`main on ${t.mirror} is at ${head.slice(0, 12)} already: nothing to push`)
      expect(again.stdout).not.toMatch(/^pushed /m)
      expect(t.heads(t.mirror)).toBe(`refs/heads/main ${head}\n`)
    })

    it('a working copy whose origin holds the relative path (as earlier obsctl set it) is pointed at that repository, and its commit pushed there', async () => {
      const t = relativeRemote('relative-remote-old')
      const commit = await t.cli(['render', '--commit'])
      expect(commit.status, commit.stderr).toBe(0)
      // what an earlier obsctl left: origin = the text of git.remote, to which it pushed (git read it from the working copy)
      t.wc('remote', 'set-url', 'origin', '../gitops-mirror.git')
      t.wc('push', '-q', 'origin', 'HEAD:refs/heads/main')
      const head = t.wc('rev-parse', 'HEAD')
      expect(t.heads(t.wrong)).toBe(`refs/heads/main ${head}\n`)

      const push = await t.cli(['render', '--push'])
      expect(push.status, push.stderr).toBe(0)
      expect(t.wc('remote', 'get-url', 'origin')).toBe(t.mirror)
      expect(t.heads(t.mirror)).toBe(`refs/heads/main ${head}\n`)
      const diff = await t.cli(['diff', '--json'])
      expect(diff.status, diff.stdout + diff.stderr).toBe(0)
      expect(JSON.parse(diff.stdout)).toMatchObject({ok: true, commit: head})
      // the other repository is left as it was (obsctl never pushes or deletes there)
      expect(t.heads(t.wrong)).toBe(`refs/heads/main ${head}\n`)
    })

    it('a remote that cannot be read is a failure (exit 1), never "no drift"', async () => {
      const broken = path.join(ws.dir, 'broken.yaml')
      writeFileSync(broken, exampleInventory({'git.remote': path.join(ws.dir, 'no-such-remote.git')}, readFileSync(ws.file, 'utf8')))
      const r = await obsctl(['diff', '-c', broken, '--json'], {env: env()})
      expect(r.status).toBe(1)
      // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout).error.code).toBe('GIT_REMOTE_UNREADABLE')
    })
  })
})
