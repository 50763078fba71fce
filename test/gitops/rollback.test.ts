/**
 * obsctl rollback against a real bare Git remote (git CLI): config set / upgrade chart commits are
 * reverted with git revert, the inventory goes back byte for byte, the revert is pushed; commits obsctl
 * did not make stop it (exit 2, listed) and nothing changes; a working copy whose HEAD moved after rollback planned
 * (another obsctl run committed, a hand `git pull`) stops it under the lock (exit 1, CONCURRENT_EDIT) and nothing changes.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {setInventoryValue} from '../../src/lib/config/edit.js'
import {configSet, upgradeChart} from '../../src/lib/flows/change-run.js'
import {renderRepo, repoInSync} from '../../src/lib/gitops/repo.js'
import {formatRollback, rollback} from '../../src/lib/gitops/rollback.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {inventoryHash, recordInventory, withTrailers} from '../../src/lib/gitops/trailers.js'
import {holdAt, jsonError, workspace, type Workspace} from '../fleet/helpers.js'
import {pushedRevision} from '../../src/lib/fleet/change.js'
import {exampleInventory} from '../support/inventory.js'
import {obsctlAsync, requireBuild, type CliResult} from '../cli/helpers.js'
import {waitFor} from '../support/wait.js'

let ws: Workspace | undefined
afterEach(() => {
  ws?.cleanup()
  ws = undefined
})

async function expectExit2(p: Promise<unknown>, code: string): Promise<ObsctlError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(e).toBeInstanceOf(ObsctlError)
  expect((e as ObsctlError).code).toBe(code)
  expect((e as ObsctlError).exitCode).toBe(2)
  return e as ObsctlError
}

const tree = (w: Workspace, ref = 'main') => w.remoteGit('rev-parse', `${ref}^{tree}`).trim()

/** git in `dir` as someone else (Ada), not obsctl */
const asAda =
  (dir: string) =>
  (...a: string[]) =>
    execFileSync('git', ['-C', dir, ...a], {
      encoding: 'utf8',
      env: {...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test'},
    })

/** a commit someone else pushes to the remote (a clone of their own) */
function foreignCommit(w: Workspace, file: string, subject: string): string {
  const clone = mkdtempSync(path.join(tmpdir(), 'obsctl-foreign-'))
  const g = asAda(clone)
  execFileSync('git', ['clone', '-q', '-b', 'main', w.remote, clone])
  writeFileSync(path.join(clone, file), 'by hand\n')
  g('add', file)
  g('commit', '-q', '-m', subject)
  g('push', '-q', 'origin', 'main')
  return g('rev-parse', 'HEAD').trim()
}

describe('obsctl rollback', () => {
  it('reverts the last config set: the remote tree is the one before it, the inventory is back byte for byte, the commit says what it reverted', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const start = ws.remoteGit('rev-parse', 'main').trim()
    const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    expect(readFileSync(ws.file, 'utf8')).not.toBe(before)
    // the change commit is recognisably obsctl's and names the inventories (kept 0600 under .obsctl/inventory/)
    const body = ws.remoteGit('log', '-1', '--format=%B', 'main')
    expect(body).toMatch(/^Obsctl-Command: config set$/m)
    const beforeHash = /^Obsctl-Inventory-Before: sha256:([0-9a-f]{64})$/m.exec(body)![1]!
    const kept = path.join(ws.dir, '.obsctl', 'inventory', `${beforeHash}.yaml`)
    expect(readFileSync(kept, 'utf8')).toBe(before)
    expect(statSync(kept).mode & 0o777).toBe(0o600)

    // dry run: names the commit and the inventory diff, changes nothing
    const dry = await rollback(ws.inv(), {dryRun: true})
    expect(dry.reverted.map((c) => c.sha)).toEqual([set.commit!.sha])
    expect(dry.base).toBe(start)
    expect(dry.inventory.diff).toMatch(/^-.*8h/m)
    expect(dry.inventory.diff).toMatch(/^\+.*6h/m)
    expect(dry.files.some((f) => f.endsWith('kube-prometheus-stack/values.yaml'))).toBe(true)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(set.commit!.sha)
    expect(readFileSync(ws.file, 'utf8')).not.toBe(before)

    const r = await rollback(ws.inv(), {yes: true, sync: false})
    expect(r.commit).toBeTruthy()
    expect(r.push!.commit).toBe(r.commit!.sha)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(r.commit!.sha)
    // the remote holds exactly the tree from before the change, on top of it (history kept)
    expect(tree(ws)).toBe(tree(ws, start))
    expect(ws.remoteGit('rev-list', '--count', `${start}..main`).trim()).toBe('2')
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    const msg = ws.remoteGit('log', '-1', '--format=%B', 'main')
    expect(msg).toMatch(new RegExp(`^obsctl: rollback to ${start.slice(0, 12)}`))
    expect(msg).toContain(`Revert ${set.commit!.sha.slice(0, 12)} obsctl: set retention.prometheus 6h → 8h`)
    expect(msg).toMatch(/^Obsctl-Command: rollback$/m)
    expect(msg).toContain(`Obsctl-Reverts: ${set.commit!.sha}`)
    // the working copy renders clean from the restored inventory
    const values = set.render.changed.find((f) => f.endsWith('kube-prometheus-stack/values.yaml'))!
    expect(readFileSync(path.join(ws.gitops, values), 'utf8')).not.toContain('8h')

    // rolling back the rollback redoes the change
    const redo = await rollback(ws.inv(), {yes: true, sync: false})
    expect(redo.reverted[0]!.sha).toBe(r.commit!.sha)
    expect(tree(ws)).toBe(tree(ws, set.commit!.sha))
    expect(readFileSync(ws.file, 'utf8')).toContain('8h')
  })

  it('--to COMMIT reverts every obsctl change after it (config set and upgrade chart) in one commit', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const start = ws.remoteGit('rev-parse', 'main').trim()
    await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const up = await upgradeChart(ws.inv(), 'kube-prometheus-stack', '79.0.0', {yes: true, sync: false})
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(up.commit!.sha)
    const r = await rollback(ws.inv(), {to: start.slice(0, 10), yes: true, sync: false})
    expect(r.reverted).toHaveLength(2)
    expect(r.reverted[0]!.sha).toBe(up.commit!.sha)
    expect(tree(ws)).toBe(tree(ws, start))
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    // the same command again (a retry, a CI job's rerun): the branch holds that tree and the inventory is that one — nothing to roll back,
    // no second commit (a plain `rollback` again would revert the rollback: that one redoes the change)
    const commits = ws.remoteGit('rev-list', '--count', 'main').trim()
    const dry = await rollback(ws.inv(), {to: start.slice(0, 10), dryRun: true})
    expect(dry).toMatchObject({noop: true, reverted: [], files: [], inventory: {changed: false}})
    const again = await rollback(ws.inv(), {to: start.slice(0, 10), yes: true, sync: false})
    expect(again).toMatchObject({noop: true, reverted: [], files: [], inventory: {changed: false}, commit: null, push: null})
    expect(formatRollback(again)).toBe(
      `main already holds the tree of ${start.slice(0, 12)} and ${ws.file} the inventory that went with it: nothing to roll back\nsync    skipped (--no-sync)`,
    )
    expect([ws.remoteGit('rev-parse', 'main').trim(), ws.remoteGit('rev-list', '--count', 'main').trim()]).toEqual([r.commit!.sha, commits])
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    // --to the branch's head, or a commit that is not there: exit 2
    await expectExit2(rollback(ws.inv(), {to: 'main', yes: true, sync: false}), 'NOTHING_TO_ROLL_BACK')
    await expectExit2(rollback(ws.inv(), {to: 'deadbeef', yes: true, sync: false}), 'BAD_COMMIT')
  })

  it('refuses (exit 2) when the branch has a commit obsctl did not make after that point, showing it; nothing changes', async () => {
    ws = await workspace()
    await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const foreign = foreignCommit(ws, 'NOTES.md', 'notes by hand')
    const inventory = readFileSync(ws.file, 'utf8')
    const e = await expectExit2(rollback(ws.inv(), {yes: true, sync: false}), 'FOREIGN_COMMITS')
    expect(e.message).toContain(foreign.slice(0, 12))
    expect(e.message).toContain('notes by hand')
    expect(e.message).toContain('Ada <ada@example.test>')
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(foreign)
    expect(readFileSync(ws.file, 'utf8')).toBe(inventory)
    // --to the foreign commit undoes nothing before it: nothing of obsctl's is after it
    await expectExit2(rollback(ws.inv(), {to: foreign, yes: true, sync: false}), 'NOTHING_TO_ROLL_BACK')
  })

  it('refuses an inventory edited since the last render, and without a terminal or --yes; nothing changes', async () => {
    ws = await workspace()
    const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    await expectExit2(rollback(ws.inv(), {sync: false}), 'NO_TTY')
    writeFileSync(ws.file, readFileSync(ws.file, 'utf8').replace('retention:', '# edited by hand\nretention:'))
    await expectExit2(rollback(ws.inv(), {yes: true, sync: false}), 'INVENTORY_EDITED')
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(set.commit!.sha)
  })

  it('refuses (exit 2, also --dry-run) to restore an inventory config validate rejects; nothing changes', async () => {
    ws = await workspace()
    const inventory = readFileSync(ws.file, 'utf8')
    // an older obsctl rendered without linting: a change whose "before" inventory has two clusters with id "01"
    const invalid = inventory.replace(/id: "02"/, 'id: "01"')
    expect(invalid).not.toBe(inventory)
    const bad = await recordInventory(ws.dir, invalid)
    const g = (...a: string[]) => execFileSync('git', ['-C', ws!.gitops, ...a], {encoding: 'utf8'})
    writeFileSync(path.join(ws.gitops, 'NOTES.md'), 'a change\n')
    g('add', 'NOTES.md')
    const message = withTrailers('obsctl: a change', {
      'Obsctl-Command': 'config set',
      'Obsctl-Inventory': inventoryHash(inventory),
      'Obsctl-Inventory-Before': bad,
    })
    g('-c', 'user.name=obsctl', '-c', 'user.email=obsctl@localhost', 'commit', '-q', '-m', message)
    g('push', '-q', 'origin', 'HEAD:refs/heads/main')
    const head = ws.remoteGit('rev-parse', 'main').trim()

    const kept = path.join(ws.dir, '.obsctl', 'inventory', `${bad.replace('sha256:', '')}.yaml`)
    for (const dryRun of [true, false]) {
      const e = await expectExit2(rollback(ws.inv(), {dryRun, yes: true, sync: false}), 'CONFIG_INVALID')
      // each error at the line of the kept text that has it
      expect(e.message).toMatch(new RegExp(`^${kept.replaceAll('.', '\\.')}:\\d+:\\d+ clusters\\[1\\]\\.id: duplicate cluster id "01"`, 'm'))
    }
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
    expect(readFileSync(ws.file, 'utf8')).toBe(inventory)
    expect(g('status', '--porcelain')).toBe('')
  })

  it("a working copy whose origin holds a relative git.remote (as an earlier obsctl wrote it; git takes it from the working copy): config set, a resumed push, rollback and the sync wait all reach the repository named from the inventory's folder", async () => {
    // ROOT/inventory/obsctl.yaml with git.remote ../gitops-mirror.git = ROOT/gitops-mirror.git; from the working copy
    // INVENTORY/some/deeper/dir the same text is INVENTORY/some/deeper/gitops-mirror.git, which exists too
    const root = mkdtempSync(path.join(tmpdir(), 'obsctl-relative-remote-'))
    const invDir = path.join(root, 'inventory')
    const mirror = path.join(root, 'gitops-mirror.git')
    const wrong = path.join(invDir, 'some', 'deeper', 'gitops-mirror.git')
    for (const bare of [mirror, wrong]) execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare])
    ws = await workspace({dir: invDir, edit: (y) => exampleInventory({'git.remote': '../gitops-mirror.git', 'git.dir': 'some/deeper/dir'}, y)})
    const wc = (...a: string[]) => execFileSync('git', ['-C', ws!.gitops, ...a], {encoding: 'utf8'}).trim()
    const head = (bare: string) => execFileSync('git', ['--git-dir', bare, 'rev-parse', '-q', '--verify', 'refs/heads/main'], {encoding: 'utf8'}).trim()
    /** what an earlier obsctl left: origin = the text of git.remote, and its pushes in the repository git found from there */
    const asBefore = () => {
      wc('remote', 'set-url', 'origin', '../gitops-mirror.git')
      wc('push', '-q', '-f', 'origin', 'HEAD:refs/heads/main')
    }
    try {
      asBefore()
      const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
      expect(head(mirror)).toBe(set.commit!.sha)
      expect(wc('remote', 'get-url', 'origin')).toBe(mirror)

      // a rollback committed, not pushed, then pushed by hand through the relative origin: the mirror lacks it
      const local = await rollback(ws.inv(), {yes: true, sync: false, push: false})
      asBefore()
      expect(head(wrong)).toBe(local.commit!.sha)
      expect(head(mirror)).toBe(set.commit!.sha)
      // the same value again: nothing to change, but the commit the mirror lacks is pushed there
      const resumed = await configSet(ws.inv(), 'retention.prometheus', '6h', {yes: true, sync: false})
      expect(resumed.push?.commit).toBe(local.commit!.sha)
      expect(head(mirror)).toBe(local.commit!.sha)

      asBefore()
      const redo = await rollback(ws.inv(), {yes: true, sync: false})
      expect(redo.reverted[0]!.sha).toBe(local.commit!.sha)
      expect(head(mirror)).toBe(redo.commit!.sha)
      expect(head(wrong)).toBe(local.commit!.sha)

      // the sync wait reads the mirror's head too (the other repository, at an older commit, reads as a rewritten branch)
      wc('remote', 'set-url', 'origin', '../gitops-mirror.git')
      expect((await pushedRevision(ws.inv())).revision).toBe(redo.commit!.sha)

      // bootstrap's render phase is not done while origin is the relative text, though the repository git finds from there holds HEAD
      asBefore()
      expect(await repoInSync(ws.inv().platform, ws.gitops, invDir, {commit: true, push: true})).toBe(false)
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })

  it('--no-push commits only; the next run pushes that rollback commit instead of reverting it', async () => {
    ws = await workspace()
    const start = ws.remoteGit('rev-parse', 'main').trim()
    const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const r = await rollback(ws.inv(), {yes: true, sync: false, push: false})
    expect(r.push).toBeNull()
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(set.commit!.sha)
    const again = await rollback(ws.inv(), {yes: true, sync: false})
    expect(again.resumed).toBe(true)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(r.commit!.sha)
    expect(tree(ws)).toBe(tree(ws, start))
  })

  it('a config set resumed after its first attempt stopped before the commit (a full disk at git add) commits with its title and the inventory before; rollback restores that inventory byte for byte', async () => {
    ws = await workspace()
    const start = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const before = readFileSync(ws.file, 'utf8')
    // what the first attempt of `config set retention.prometheus 9h` left (test/cli/disk-full.test.ts makes it on a
    // full disk): the inventory written, the repository rendered, nothing committed
    await setInventoryValue(ws.inv(), 'retention.prometheus', '9h')
    await renderRepo(ws.inv().platform, {dir: ws.gitops, inventoryDir: ws.dir})
    expect(execFileSync('git', ['-C', ws.gitops, 'status', '--porcelain'], {encoding: 'utf8'})).not.toBe('')

    const resumed = await configSet(ws.inv(), 'retention.prometheus', '9h', {yes: true, sync: false})
    expect(resumed.commit?.message).toBe('obsctl: set retention.prometheus 8h → 9h')
    const body = ws.remoteGit('log', '-1', '--format=%B', 'main')
    expect(body).toMatch(/^Obsctl-Command: config set$/m)
    const beforeHash = /^Obsctl-Inventory-Before: sha256:([0-9a-f]{64})$/m.exec(body)?.[1]
    expect(beforeHash, body).toBeDefined()
    expect(readFileSync(path.join(ws.dir, '.obsctl', 'inventory', `${beforeHash}.yaml`), 'utf8')).toBe(before)

    await rollback(ws.inv(), {yes: true, sync: false})
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    expect(tree(ws)).toBe(tree(ws, start.commit!.sha))
  })

  it('through the CLI: --dry-run --json is an object naming the commit; the rollback pushes; a foreign commit is exit 2 with its code', async () => {
    requireBuild()
    ws = await workspace()
    const start = ws.remoteGit('rev-parse', 'main').trim()
    const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const dry = await obsctlAsync(['rollback', '--dry-run', '--json', '-c', ws.file])
    expect(dry.status).toBe(0)
    const plan = JSON.parse(dry.stdout)
    expect(plan.reverted[0].sha).toBe(set.commit!.sha)
    expect(plan.dryRun).toBe(true)
    // the human dry run: the inventory's diff, one blank line (the diff's own line end made two), the files
    const human = await obsctlAsync(['rollback', '--dry-run', '-c', ws.file])
    expect(human.status).toBe(0)
    expect(human.stdout).toMatch(/\n- {2}prometheus: 8h .*\n\+ {2}prometheus: 6h /)
    expect(human.stdout).toMatch(/[^\n]\n\n\d+ rendered file\(s\) would change:/)
    expect(human.stdout).not.toContain('\n\n\n')
    const run = await obsctlAsync(['rollback', '--yes', '--no-sync', '-c', ws.file])
    expect(run.status).toBe(0)
    expect(run.stdout).toContain(`rolled back 1 commit(s) to ${start.slice(0, 12)}`)
    expect(tree(ws)).toBe(tree(ws, start))
    foreignCommit(ws, 'NOTES.md', 'notes by hand')
    const refused = await obsctlAsync(['rollback', '--yes', '--no-sync', '--json', '-c', ws.file])
    expect(refused.status).toBe(2)
    expect(JSON.parse(refused.stdout).error.code).toBe('FOREIGN_COMMITS')
    expect(JSON.parse(refused.stdout).error.message).toContain('notes by hand')
  })

  it('another obsctl run commits after rollback planned (its confirmed plan is stale): exit 1, CONCURRENT_EDIT, nothing written; the rerun plans from the new commit', async () => {
    requireBuild()
    ws = await workspace()
    const w = ws
    const git = (...a: string[]) => execFileSync('git', ['-C', w.gitops, ...a], {encoding: 'utf8'}).trim()
    const original = readFileSync(w.file, 'utf8')
    const start = w.remoteGit('rev-parse', 'main').trim()
    const set = await configSet(w.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const changed = readFileSync(w.file, 'utf8')
    // the change undone by hand in the inventory, not yet rendered: rollback may still undo it in Git (the inventory
    // is already the one it restores), and a render --push would publish it — the one way another obsctl run moves
    // the working copy while the inventory stays the text rollback planned from (else the inventory check stops it first)
    writeFileSync(w.file, original)

    const h = holdAt(w, 'rollback', 'inventory-lock:before')
    let ended: CliResult | undefined
    const first = obsctlAsync(['rollback', '--yes', '--no-sync', '--json', '-c', w.file], {env: h.env}).then((r) => (ended = r))
    // planned and confirmed, the lock not yet taken
    await waitFor(() => h.held() || ended !== undefined, 120_000, 'rollback to plan and reach the lock')
    expect(h.held(), ended && ended.stdout + ended.stderr).toBe(true)
    const render = await obsctlAsync(['render', '--push', '-c', w.file])
    expect(render.status, render.stderr).toBe(0)
    const rendered = w.remoteGit('rev-parse', 'main').trim()
    expect(rendered).not.toBe(set.commit!.sha)
    expect(tree(w)).toBe(tree(w, start))
    const records = readdirSync(path.join(w.dir, '.obsctl', 'inventory')).sort()

    h.go()
    expectConcurrentEdit(await first, w.gitops, set.commit!.sha, rendered)
    // nothing written: the inventory, the working copy (HEAD, index, files), the remote, the kept inventories; the lock released
    expect(readFileSync(w.file, 'utf8')).toBe(original)
    expect(git('rev-parse', 'HEAD')).toBe(rendered)
    expect(git('status', '--porcelain')).toBe('')
    expect(w.remoteGit('rev-parse', 'main').trim()).toBe(rendered)
    expect(readdirSync(path.join(w.dir, '.obsctl', 'inventory')).sort()).toEqual(records)
    expect(existsSync(path.join(w.dir, '.obsctl', 'lock'))).toBe(false)

    // the rerun plans from the working copy as it is now: obsctl's last change is that render, which it reverts
    const again = await obsctlAsync(['rollback', '--yes', '--no-sync', '--json', '-c', w.file])
    expect(again.status, again.stderr).toBe(0)
    const out = JSON.parse(again.stdout) as {reverted: {sha: string}[]; base: string; commit: {sha: string}}
    expect(out.reverted.map((c) => c.sha)).toEqual([rendered])
    expect(out.base).toBe(set.commit!.sha)
    expect(w.remoteGit('rev-parse', 'main').trim()).toBe(out.commit.sha)
    expect(tree(w)).toBe(tree(w, set.commit!.sha))
    expect(readFileSync(w.file, 'utf8')).toBe(changed)
  })

  it('a hand git pull in the working copy after rollback planned: the same CONCURRENT_EDIT, naming what moved (HEAD, from and to); the rerun then finds the pulled commit', async () => {
    requireBuild()
    ws = await workspace()
    const w = ws
    const git = (...a: string[]) => execFileSync('git', ['-C', w.gitops, ...a], {encoding: 'utf8'}).trim()
    const set = await configSet(w.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const changed = readFileSync(w.file, 'utf8')

    const h = holdAt(w, 'rollback', 'inventory-lock:before')
    let ended: CliResult | undefined
    const first = obsctlAsync(['rollback', '--yes', '--no-sync', '--json', '-c', w.file], {env: h.env}).then((r) => (ended = r))
    await waitFor(() => h.held() || ended !== undefined, 120_000, 'rollback to plan and reach the lock')
    expect(h.held(), ended && ended.stdout + ended.stderr).toBe(true)
    // someone pushed a note by hand, and it is pulled into the working copy while rollback waits for the lock
    const pushed = foreignCommit(w, 'NOTES.md', 'notes by hand')
    git('pull', '-q', '--ff-only', 'origin', 'main')
    expect(git('rev-parse', 'HEAD')).toBe(pushed)

    h.go()
    expectConcurrentEdit(await first, w.gitops, set.commit!.sha, pushed)
    expect(readFileSync(w.file, 'utf8')).toBe(changed)
    expect(git('rev-parse', 'HEAD')).toBe(pushed)
    expect(w.remoteGit('rev-parse', 'main').trim()).toBe(pushed)
    expect(existsSync(path.join(w.dir, '.obsctl', 'lock'))).toBe(false)

    // the rerun plans from that HEAD: the hand commit is not obsctl's, so it refuses and lists it
    const again = await obsctlAsync(['rollback', '--yes', '--no-sync', '--json', '-c', w.file])
    expect(again.status, again.stderr).toBe(2)
    expect(jsonError(again)).toMatchObject({code: 'FOREIGN_COMMITS', message: expect.stringContaining('notes by hand')})
  })
})

describe('git.remote changed to another repository', () => {
  it('the sync wait follows the new remote: what the working copy knew of the old one is dropped, not read as a rewritten branch', async () => {
    ws = await workspace()
    const set = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false})
    const wc = (...a: string[]) => execFileSync('git', ['-C', ws!.gitops, ...a], {encoding: 'utf8'}).trim()
    expect(wc('rev-parse', 'refs/remotes/origin/main')).toBe(set.commit!.sha)
    // the platform moved to another server: a repository of its own history (pushed there by someone else)
    const moved = path.join(ws.dir, 'moved.git')
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', moved])
    const seed = mkdtempSync(path.join(tmpdir(), 'obsctl-moved-'))
    try {
      const g = asAda(seed)
      g('init', '-q', '-b', 'main')
      writeFileSync(path.join(seed, 'README.md'), 'imported\n')
      g('add', 'README.md')
      g('commit', '-q', '-m', 'import')
      g('push', '-q', moved, 'main')
      const head = g('rev-parse', 'HEAD').trim()
      writeFileSync(ws.file, readFileSync(ws.file, 'utf8').replace(ws.remote, moved))
      // before: origin followed git.remote but refs/remotes/origin/main still held the old repository's head, which the
      // new one does not contain: PUSHED_COMMIT_GONE, "the branch was rewritten"
      expect((await pushedRevision(ws.inv())).revision).toBe(head)
      expect(wc('remote', 'get-url', 'origin')).toBe(moved)
      expect(wc('for-each-ref', 'refs/remotes/origin/')).toBe('')
    } finally {
      rmSync(seed, {recursive: true, force: true})
    }
  })
})

/** rollback's own CONCURRENT_EDIT: exit 1, HEAD of the working copy named as moved from FROM to TO, nothing reverted */
function expectConcurrentEdit(r: CliResult, gitops: string, from: string, to: string): void {
  expect(r.status, r.stdout + r.stderr).toBe(1)
  const e = jsonError(r)
  expect(e.code).toBe('CONCURRENT_EDIT')
  expect(e.message).toBe(
    `HEAD of ${gitops} moved from ${from.slice(0, 12)} to ${to.slice(0, 12)} since rollback read it (a commit, pull or checkout there, by another obsctl run or by hand); nothing was reverted`,
  )
  expect(e.hints).toEqual(['rerun obsctl rollback: it plans from the working copy as it is now'])
}
