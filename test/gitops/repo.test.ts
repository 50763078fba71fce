import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS} from '../../src/lib/config/index.js'
import {MANIFEST_FILE, readManifest, renderFiles, renderRepo} from '../../src/lib/gitops/index.js'
import {planRender, renderDigests} from '../../src/lib/gitops/render.js'
import {sha256} from '../../src/lib/hash.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {platformOf, withoutCluster} from './support.js'

let tmp: string
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-repo-'))
})
afterEach(() => rmSync(tmp, {recursive: true, force: true}))

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'},
  }).trim()

async function rejects(p: Promise<unknown>): Promise<{code: string; exitCode: number; message: string; hints: string[]}> {
  try {
    await p
  } catch (error) {
    if (isObsctlError(error)) return error
    throw error
  }
  throw new Error('expected an error')
}

describe('renderRepo into a directory', () => {
  it('writes the tree and the manifest; a second run says no changes', async () => {
    const p = platformOf()
    const dir = path.join(tmp, 'repo')
    const first = await renderRepo(p, {dir, inventoryDir: tmp})
    expect(first.added.length).toBe(renderFiles(p).length)
    expect(Object.keys(readManifest(dir).files).sort()).toEqual(first.added.slice().sort())
    const second = await renderRepo(p, {dir, inventoryDir: tmp})
    expect(second.noChanges).toBe(true)
    expect(second.unchanged).toBe(first.added.length)
  })

  it('removing cluster-04 removes exactly its files and touches files obsctl did not render', async () => {
    const dir = path.join(tmp, 'repo')
    await renderRepo(platformOf(), {dir, inventoryDir: tmp})
    writeFileSync(path.join(dir, 'NOTES.md'), 'mine\n')
    writeFileSync(path.join(dir, 'deploy/overlays/cluster-04-edge/mine.txt'), 'mine too\n')
    const r = await renderRepo(platformOf(withoutCluster(EXAMPLE_ANSWERS, 'cluster-04')), {dir, inventoryDir: tmp})
    // its own files are its Cilium and Longhorn overlays (the ApplicationSets and the shared edge overlays stay)
    const own = (f: string) => f.startsWith('deploy/overlays/cluster-04-edge/')
    expect(r.removed.length).toBeGreaterThanOrEqual(2)
    expect(r.removed.every(own)).toBe(true)
    expect(
      renderFiles(platformOf())
        .filter((f) => own(f.path))
        .map((f) => f.path)
        .sort(),
    ).toEqual(r.removed.slice().sort())
    expect(r.added).toEqual([])
    expect(r.changed.some(own)).toBe(false)
    expect(readFileSync(path.join(dir, 'NOTES.md'), 'utf8')).toBe('mine\n')
    expect(existsSync(path.join(dir, 'deploy/overlays/cluster-04-edge/mine.txt'))).toBe(true)
    expect(existsSync(path.join(dir, 'deploy/overlays/cluster-04-edge/cilium'))).toBe(false)
  })

  it('folders deleted by hand: their files come back as added, the others stay unchanged (planRender does not read in absent folders)', async () => {
    const p = platformOf()
    const dir = path.join(tmp, 'repo')
    const first = await renderRepo(p, {dir, inventoryDir: tmp})
    const gone = (f: string) => f.startsWith('deploy/overlays/cluster-04-edge/') || f.startsWith('deploy/base/')
    expect(first.added.filter(gone).length).toBeGreaterThan(2)
    rmSync(path.join(dir, 'deploy/overlays/cluster-04-edge'), {recursive: true})
    rmSync(path.join(dir, 'deploy/base'), {recursive: true})
    const again = await renderRepo(p, {dir, inventoryDir: tmp})
    expect(again.added.slice().sort()).toEqual(first.added.filter(gone).sort())
    expect(again.changed).toEqual([])
    expect(again.removed).toEqual([])
    expect(again.unchanged).toBe(first.added.length - again.added.length)
    for (const f of renderFiles(p).filter((x) => gone(x.path))) expect(readFileSync(path.join(dir, f.path), 'utf8')).toBe(f.content)
    // and a render into a folder that does not exist yet adds everything, below a missing parent too
    const nested = await renderRepo(p, {dir: path.join(tmp, 'a', 'b', 'repo'), inventoryDir: tmp})
    expect(nested.added.length).toBe(first.added.length)
  })

  it('a hand-edited file is not overwritten without force; the error shows the diff; --force overwrites', async () => {
    const p = platformOf()
    const dir = path.join(tmp, 'repo')
    await renderRepo(p, {dir, inventoryDir: tmp})
    const rel = 'deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml'
    const file = path.join(dir, rel)
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace('retention: 6h', 'retention: 4h'))
    const changed = platformOf({...EXAMPLE_ANSWERS, domain: 'example.lab'})
    const e = await rejects(renderRepo(changed, {dir, inventoryDir: tmp}))
    expect(e.code).toBe('RENDER_CONFLICT')
    expect(e.exitCode).toBe(1)
    expect(e.message).toContain(rel)
    expect(e.message).toContain('-    retention: 4h')
    expect(e.message).toContain('+    retention: 6h')
    expect(e.hints.join('\n')).toContain('--force')
    // nothing was written
    expect(readFileSync(path.join(dir, 'argocd/install/ingress.yaml'), 'utf8')).toContain('miribit.lab')
    // the same inventory also leaves the edit alone
    await expect(renderRepo(p, {dir, inventoryDir: tmp})).rejects.toThrow(/edited by hand/)
    const forced = await renderRepo(changed, {dir, inventoryDir: tmp, force: true})
    expect(forced.changed).toContain(rel)
    expect(readFileSync(file, 'utf8')).toContain('retention: 6h')
  })

  it('plan and the done-check compare digests: the same plan as from the files, in every state of the folder', async () => {
    const p = platformOf()
    const fewer = platformOf(withoutCluster(EXAMPLE_ANSWERS, 'cluster-04'))
    const dir = path.join(tmp, 'repo')
    const digests = renderDigests(p)
    expect(digests).toEqual(renderFiles(p).map((f) => ({path: f.path, hash: sha256(f.content)})))
    const same = (what: string, q: typeof p, force = false) => {
      const {writes, ...fromFiles} = planRender(dir, renderFiles(q), {force})
      const {writes: paths, ...fromDigests} = planRender(dir, renderDigests(q), {force})
      expect(fromDigests, what).toEqual(fromFiles)
      expect(
        paths.map((w) => w.path),
        what,
      ).toEqual(writes.map((w) => w.path))
      return fromFiles
    }
    expect(same('nothing rendered yet', p).added.length).toBe(digests.length)
    await renderRepo(p, {dir, inventoryDir: tmp})
    expect(same('rendered', p).unchanged).toBe(digests.length)
    const edited = 'deploy/overlays/cluster-04-edge/cilium/lb-ippool.yaml'
    writeFileSync(path.join(dir, edited), 'edited by hand\n')
    writeFileSync(path.join(dir, 'argocd/install/ingress.yaml'), 'edited by hand\n')
    expect(same('two files edited by hand', p).conflicts.map((c) => c.reason)).toEqual(['edited', 'edited'])
    expect(same('a cluster less, one of its files edited', fewer).conflicts).toContainEqual({path: edited, reason: 'edited-removed'})
    expect(same('--force', fewer, true).removed).toContain(edited)
  })

  it('a file that exists but was never rendered is not overwritten', async () => {
    const dir = path.join(tmp, 'repo')
    const p = platformOf()
    await renderRepo(p, {dir, inventoryDir: tmp, dryRun: true})
    expect(existsSync(dir)).toBe(false)
    const {mkdirSync} = await import('node:fs')
    mkdirSync(path.join(dir, 'argocd'), {recursive: true})
    writeFileSync(path.join(dir, 'argocd/root-app.yaml'), 'hand written\n')
    const e = await rejects(renderRepo(p, {dir, inventoryDir: tmp}))
    expect(e.message).toContain('was not rendered by obsctl')
  })
})

describe('commit and push against a bare repository', () => {
  it('initialises the working copy, commits with a message naming the change, pushes; rejected push keeps the commit', async () => {
    const remote = path.join(tmp, 'remote.git')
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote])
    const answers = {...EXAMPLE_ANSWERS, gitRemote: remote}
    const dir = path.join(tmp, 'work')
    const first = await renderRepo(platformOf(answers), {dir, inventoryDir: tmp, commit: true, push: true})
    expect(first.commit?.message).toMatch(/^obsctl render: add cluster-01 \(\d+ files\), add cluster-02/)
    expect(first.push?.branch).toBe('main')
    expect(git(remote, 'rev-parse', 'main')).toBe(first.commit!.sha)
    expect(git(remote, 'ls-tree', '-r', '--name-only', 'main')).toContain(MANIFEST_FILE)

    // nothing changed: nothing to commit, push is a no-op
    const again = await renderRepo(platformOf(answers), {dir, inventoryDir: tmp, commit: true, push: true})
    expect(again.commit).toBeNull()

    // add a cluster: the message names it
    const more = {
      ...answers,
      clusters: [
        ...answers.clusters,
        {name: 'cluster-05', id: '05', role: 'edge' as const, metrics: 'agent' as const, hosts: ['192.168.101.199'], cpu: '4', memory: '16Gi'},
      ],
    }
    const added = await renderRepo(platformOf(more), {dir, inventoryDir: tmp, commit: true, push: true})
    expect(added.commit?.message).toMatch(/^obsctl render: add cluster-05 \(\d+ files\), update /)
    expect(git(remote, 'rev-parse', 'main')).toBe(added.commit!.sha)

    // someone else pushes first: our push is rejected, our commit stays
    const other = path.join(tmp, 'other')
    execFileSync('git', ['clone', '-q', remote, other])
    writeFileSync(path.join(other, 'README.md'), 'other change\n')
    git(other, 'add', 'README.md')
    git(other, 'commit', '-q', '-m', 'other')
    git(other, 'push', '-q', 'origin', 'main')
    const e = await rejects(renderRepo(platformOf(answers), {dir, inventoryDir: tmp, commit: true, push: true}))
    expect(e.code).toBe('PUSH_REJECTED')
    expect(e.exitCode).toBe(1)
    expect(e.hints.join('\n')).toContain('pull --rebase')
    const local = git(dir, 'log', '-1', '--format=%s')
    expect(local).toMatch(/^obsctl render: remove cluster-05/)
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toBe('other')
  })
})
