/**
 * `obsctl rollback [--to COMMIT]`: undo obsctl's last change in the GitOps repository (or every change
 * after COMMIT) with `git revert`, put the inventory back to the text that went with it (kept in
 * .obsctl/inventory/ and named by the commits' trailers, see trailers.ts), commit, push and let the
 * change flow's sync phase wait for Argo CD (the caller passes it: ../flows/rollback.ts).
 *
 * It refuses (exit 2) rather than guess: commits obsctl did not make after that point (listed),
 * a cluster's addition or removal (more than Git changed: use cluster add/remove), an inventory edited
 * since the last render, an inventory text this machine did not keep, uncommitted changes in the
 * working copy, a working copy that diverged from the remote.
 *
 * Over 300 lines on purpose: a rollback, its resume and its finish share the refusal rules and the state read
 * from the commits' trailers; apart, each would re-derive which commits are obsctl's.
 */
import type {LoadedInventory} from '../config/load.js'
import {parseInventory} from '../config/load.js'
import {gitDir, relabelledEdges} from '../config/model.js'
import {ObsctlError, inputError} from '../errors.js'
import {writeFileAtomic} from '../fs.js'
import {shWord} from '../shell-quote.js'
import {kubeconfigFiles} from '../platform/kube.js'
import type {Lock, RendererChoice, RunResult} from '../engine/index.js'
import {ensureOrigin, git, isRepo, must, push as gitPush, type PushResult} from './git.js'
import {history, info, type CommitInfo, type LogEntry} from './history.js'
import {TRAILER, inventoryHash, recordFile, recordInventory, recordedInventory, type Trailers} from './trailers.js'

export type {CommitInfo} from './history.js'

export interface RollbackOptions {
  /** revert every commit after this one (else: obsctl's last change) */
  to?: string
  dryRun?: boolean
  yes?: boolean
  /** push the revert commit (default true) */
  push?: boolean
  /** capacity above the declared nodes' in the restored inventory is a warning (--allow-overcommit) */
  allowOvercommit?: boolean
  /** wait for Argo CD after the push (default true) */
  sync?: boolean
  kubeconfig?: string
  timeoutSeconds?: number
  intervalMs?: number
  renderer?: RendererChoice
  confirm?: (question: string) => Promise<boolean>
  onNotice?: (line: string) => void
  /** what will be done (commits, inventory diff, files), before the confirmation */
  onPlan?: (text: string) => void
  /** the wait for Argo CD after the push: the change flow's sync, passed by ../flows/rollback.ts (a domain never runs a flow) */
  runSync?: (
    next: LoadedInventory,
    o: Pick<RollbackOptions, 'kubeconfig' | 'timeoutSeconds' | 'intervalMs' | 'renderer' | 'onNotice' | 'sync'> & {labels?: boolean; lock?: Lock},
    command: string,
    revision?: string,
    /** pushed earlier (no `revision` of this run): Argo CD must report the branch head */
    pushed?: boolean,
  ) => Promise<{ok: boolean; summary: string; run: RunResult}>
  /** the Argo CD cluster Secret labels alone, after a push without the wait (--no-sync): the change flow's labelsOnly */
  runLabels?: (
    next: LoadedInventory,
    o: Pick<RollbackOptions, 'kubeconfig' | 'renderer'> & {lock?: Lock},
    command: string,
    revision: string,
    details?: unknown,
  ) => Promise<void>
}

export interface RollbackResult {
  dir: string
  remote: string
  branch: string
  /** the commit whose tree (and inventory) the repository goes back to */
  base: string
  /** the commits undone, newest first */
  reverted: CommitInfo[]
  inventory: {file: string; changed: boolean; diff: string}
  /** files that differ between the current tree and the base */
  files: string[]
  dryRun: boolean
  cancelled?: boolean
  /** a rollback commit a previous run made but did not push is pushed now */
  resumed?: boolean
  /**
   * nothing to roll back: the branch already holds the tree of `base` and the inventory is the one that went with it
   * (`rollback --to` run again); nothing is reverted, committed or pushed (the sync is still waited for)
   */
  noop?: boolean
  commit?: {sha: string; message: string} | null
  push?: PushResult | null
  sync?: {ok: boolean; summary: string} | null
}
const line = (c: CommitInfo) => `  ${c.sha.slice(0, 12)} ${c.date.slice(0, 19).replace('T', ' ')} ${c.author}  ${c.subject}`

/** Commands whose commits are more than Git: undoing them takes their own command. */
function notRevertable(command: string | undefined): string | undefined {
  if (!command) return undefined
  // the journal's command line: `cluster add NAME`, `cluster remove NAME`
  const name = command.split(' ')[2] ?? 'NAME'
  if (command.startsWith('cluster add'))
    return `a cluster was added (nodes, kubeconfig, Argo CD registration, Secrets): undo it with obsctl cluster remove ${name}`
  if (command.startsWith('cluster remove'))
    return `a cluster was removed (its Applications, Secrets and kubeconfig entries are gone): bring it back with obsctl cluster add ${name} --host ADDRESS (its nodes)`
  if (command === 'bootstrap') return 'the bootstrap render is the first state of the repository; there is nothing before it to go back to'
  return undefined
}

export async function rollback(inv: LoadedInventory, o: RollbackOptions = {}): Promise<RollbackResult> {
  const p = inv.platform
  const dir = gitDir(p, inv.dir)
  const branch = p.git.branch
  // a SHA or a ref, refused before the remote is fetched: a space or newline is no commit, and a leading '-' would be
  // read by git as an option
  if (o.to !== undefined && (o.to === '' || o.to.startsWith('-') || /[\s\p{Cc}]/u.test(o.to)))
    throw inputError(
      `--to ${JSON.stringify(o.to)}: expected a commit SHA or a ref on ${branch} (e.g. 3f2a9c1, HEAD~2)`,
      [`commits: git -C ${shWord(dir)} log --oneline`],
      'BAD_COMMIT',
    )
  if (!(await isRepo(dir)))
    throw inputError(`${dir} is not a Git working copy: obsctl has committed nothing to roll back`, ['obsctl render --push creates it'], 'NO_REPO')
  // the sync reads the kubeconfig once the revert is committed and pushed: a $KUBECONFIG it could not use is refused
  // now, exit 2, nothing reverted (paths only, as engine commands refuse it before their run)
  if (o.sync !== false) kubeconfigFiles(o.kubeconfig, {read: true})

  // uncommitted changes would be mixed into the revert (and an interrupted rollback leaves its revert staged)
  const dirty = (await must(dir, ['status', '--porcelain=v1', '--untracked-files=no'], 'git status')).trim()
  if (dirty) {
    throw inputError(
      `${dir} has uncommitted changes; rollback reverts commits only in a clean working copy:\n${dirty}`,
      [
        `look at them: git -C ${shWord(dir)} status`,
        `discard them (an interrupted rollback's staged revert included): git -C ${shWord(dir)} reset --hard HEAD`,
      ],
      'DIRTY_WORKING_COPY',
    )
  }

  // the remote is the truth: what Argo CD deploys is its branch. origin is git.remote as the drift check reads it
  // (an earlier obsctl wrote a relative path, which git took from the working copy): the revert is pushed there too
  await ensureOrigin(dir, p.git.remote, inv.dir)
  const fetched = await git(dir, ['fetch', '-q', 'origin', `refs/heads/${branch}`])
  if (fetched.exitCode !== 0)
    throw new ObsctlError(`cannot read ${branch} from ${p.git.remote}: ${fetched.stderr.trim()}`, {
      code: 'GIT_FETCH',
      hints: ['check git.remote and your credentials'],
    })
  const remoteTip = (await must(dir, ['rev-parse', 'FETCH_HEAD'], 'git rev-parse')).trim()
  const head = (await must(dir, ['rev-parse', 'HEAD'], 'git rev-parse')).trim()
  const isAncestor = async (a: string, b: string) => (await git(dir, ['merge-base', '--is-ancestor', a, b])).exitCode === 0

  const base: Pick<RollbackResult, 'dir' | 'remote' | 'branch' | 'dryRun'> = {dir, remote: p.git.remote, branch, dryRun: Boolean(o.dryRun)}

  // resume: an earlier rollback committed but did not push
  if (head !== remoteTip && (await isAncestor(remoteTip, head))) {
    const ahead = await history(dir, head, remoteTip)
    if (ahead.every((c) => c.command === 'rollback')) return resume(inv, ahead, o, base)
    throw inputError(
      `${dir} has ${ahead.length} commit(s) that ${branch} on ${p.git.remote} does not have:\n${ahead.map((c) => line(info(c))).join('\n')}`,
      [`push them first (obsctl render --push), or drop them: git -C ${shWord(dir)} reset --hard ${shWord(`origin/${branch}`)}`],
      'UNPUSHED_COMMITS',
    )
  }
  if (head !== remoteTip && !(await isAncestor(head, remoteTip))) {
    throw inputError(
      `${dir} and ${branch} on ${p.git.remote} have diverged`,
      [`bring in the remote's commits: git -C ${shWord(dir)} pull --rebase origin ${shWord(branch)}`],
      'DIVERGED',
    )
  }
  const tip = remoteTip

  // which commits to undo
  let target: LogEntry
  let undo: LogEntry[]
  if (o.to) {
    const resolved = await git(dir, ['rev-parse', '--verify', '-q', `${o.to}^{commit}`])
    if (resolved.exitCode !== 0) throw inputError(`--to ${o.to}: no such commit in ${dir}`, [`commits: git -C ${shWord(dir)} log --oneline`], 'BAD_COMMIT')
    const to = resolved.stdout.trim()
    const chain = await history(dir, tip, undefined, 10_000)
    const at = chain.findIndex((c) => c.sha === to)
    if (at < 0)
      throw inputError(
        `--to ${o.to}: ${to.slice(0, 12)} is not on the history of ${branch}`,
        [`commits: git -C ${shWord(dir)} log --first-parent --oneline ${shWord(branch)}`],
        'BAD_COMMIT',
      )
    if (at === 0) throw inputError(`--to ${o.to}: ${branch} is at ${to.slice(0, 12)} already: nothing to roll back`, [], 'NOTHING_TO_ROLL_BACK')
    undo = chain.slice(0, at)
    target = chain[at]!
  } else {
    const chain = await history(dir, tip)
    const last = chain.findIndex((c) => c.obsctl)
    if (last < 0) throw inputError(`${branch} has no commit made by obsctl: nothing to roll back`, [], 'NOTHING_TO_ROLL_BACK')
    undo = chain.slice(0, last + 1)
    const parent = chain[last + 1] ?? (await history(dir, `${chain[last]!.sha}~1`, undefined, 1).catch(() => []))[0]
    if (!parent)
      throw inputError(
        `${chain[last]!.sha.slice(0, 12)} (${chain[last]!.subject}) is the first commit of ${branch}: there is nothing before it`,
        [],
        'NOTHING_TO_ROLL_BACK',
      )
    target = parent
  }

  const foreign = undo.filter((c) => !c.obsctl)
  if (foreign.length > 0) {
    throw inputError(
      `${branch} has ${foreign.length} commit(s) obsctl did not make after ${target.sha.slice(0, 12)}; rollback does not revert other people's work:\n${foreign.map((c) => line(info(c))).join('\n')}`,
      [
        `revert them yourself (git -C ${shWord(dir)} revert SHA), then push`,
        'or roll back only what is after them: obsctl rollback --to SHA (the newest of them)',
      ],
      'FOREIGN_COMMITS',
      {commits: foreign.map(info)},
    )
  }
  for (const c of undo) {
    const why = notRevertable(c.command)
    if (why)
      throw inputError(
        `${c.sha.slice(0, 12)} (${c.subject}) cannot be rolled back: ${why}`,
        ['roll back only what came after it: obsctl rollback --to ' + c.sha.slice(0, 12)],
        'NOT_REVERTABLE',
      )
  }

  // the inventory that goes with the target: the oldest undone change's "before", else the target's own
  const oldest = undo.at(-1)!
  const wantedHash = oldest.trailers[TRAILER.before]?.[0] ?? target.trailers[TRAILER.inventory]?.[0]
  if (!wantedHash) {
    throw inputError(
      `obsctl does not know which inventory went with ${target.sha.slice(0, 12)} (${target.subject}): its commits carry no ${TRAILER.inventory} trailer (made by an older obsctl or by hand)`,
      [`revert by hand: git -C ${shWord(dir)} revert ${undo.map((c) => c.sha.slice(0, 12)).join(' ')}, edit ${inv.file} to match, then obsctl render --push`],
      'NO_INVENTORY_RECORD',
    )
  }
  const wanted = recordedInventory(inv.dir, wantedHash)
  if (wanted === undefined) {
    throw inputError(
      `the inventory that went with ${target.sha.slice(0, 12)} (${wantedHash.slice(0, 19)}…) is not kept on this machine (${inv.dir}/.obsctl/inventory/)`,
      [
        'run rollback where the change was made (its .obsctl/ keeps the inventory texts)',
        `or revert by hand: git -C ${shWord(dir)} revert ${undo.map((c) => c.sha.slice(0, 12)).join(' ')}, edit ${inv.file} to match, then obsctl render --push`,
      ],
      'NO_INVENTORY_RECORD',
    )
  }
  const current = inventoryHash(inv.text)
  const newest = undo[0]!.trailers[TRAILER.inventory]?.[0]
  if (current !== wantedHash && newest && current !== newest) {
    throw inputError(
      `${inv.file} was edited after ${undo[0]!.sha.slice(0, 12)} (${undo[0]!.subject}) was rendered from it; rollback would throw that edit away`,
      ['render and push the edit first (obsctl render --push), then roll back what you mean to', `or undo the edit by hand, then rerun obsctl rollback`],
      'INVENTORY_EDITED',
    )
  }

  // the same rollback run again (`--to` after it finished): the branch holds the target's tree and the inventory is
  // the target's; git revert would commit nothing, and the result would name commits it did not undo
  const noDiff = (await must(dir, ['diff', '--name-only', tip, target.sha], 'git diff')).trim() === ''
  if (noDiff && wanted === inv.text) return alreadyThere(inv, {...base, base: target.sha}, o)

  // the inventory it would restore is refused as render refuses one (an older obsctl rendered without linting);
  // parsed under the name of the file it is kept in, so each finding's file:line is one the user can open
  const {refuseLintErrors} = await import('../config/lint.js')
  refuseLintErrors(parseInventory(wanted, recordFile(inv.dir, wantedHash)), {allowOvercommit: o.allowOvercommit})

  const {unifiedDiff} = await import('../diff.js')
  const invDiff = unifiedDiff(`${inv.file} (now)`, `${inv.file} (after rollback)`, inv.text, wanted)
  const files = (await must(dir, ['diff', '--name-only', tip, target.sha], 'git diff')).split('\n').filter(Boolean)
  const reverted = undo.map(info)
  const result: RollbackResult = {...base, base: target.sha, reverted, inventory: {file: inv.file, changed: wanted !== inv.text, diff: invDiff}, files}

  const plan = [
    `roll ${branch} back to ${target.sha.slice(0, 12)} (${target.subject}), reverting ${undo.length} commit(s):`,
    ...reverted.map(line),
    // the diff ends with its own line end: one blank line before what follows, as in the dry run (formatRollback)
    invDiff ? `\n${invDiff.replace(/\n+$/, '')}` : `${inv.file}: unchanged`,
    `\n${files.length} rendered file(s) change:`,
    ...files.map((f) => `  ${f}`),
  ].join('\n')
  if (o.dryRun) return result
  o.onPlan?.(plan)
  const {confirmOrRefuse} = await import('../fleet/change.js')
  if (
    !(await confirmOrRefuse(
      'rollback',
      `revert ${undo.length} commit(s)${o.push === false ? '' : ' and push'}?`,
      o,
      'or --dry-run to see what would be reverted',
    ))
  ) {
    result.cancelled = true
    return result
  }

  // the revert, the inventory write, the commit, the push and the sync under the run lock; under it the inventory
  // and the working copy must still be what this rollback planned from (another run, or a hand commit or pull in between:
  // CONCURRENT_EDIT)
  const {lockInventory} = await import('../engine/inventory-lock.js')
  const lock = await lockInventory(inv, 'rollback', o.onNotice)
  try {
    const now = (await must(dir, ['rev-parse', 'HEAD'], 'git rev-parse')).trim()
    if (now !== head) {
      throw new ObsctlError(
        `HEAD of ${dir} moved from ${head.slice(0, 12)} to ${now.slice(0, 12)} since rollback read it (a commit, pull or checkout there, by another obsctl run or by hand); nothing was reverted`,
        {code: 'CONCURRENT_EDIT', hints: ['rerun obsctl rollback: it plans from the working copy as it is now']},
      )
    }
    if (head !== tip) await must(dir, ['merge', '-q', '--ff-only', tip], 'git merge --ff-only')
    // newest first: each revert applies to the tree the later commits left
    const rv = await git(dir, ['revert', '--no-commit', '--no-edit', ...undo.map((c) => c.sha)], {env: {GIT_EDITOR: 'true'}})
    if (rv.exitCode !== 0) {
      await git(dir, ['revert', '--abort'])
      throw new ObsctlError(`git revert failed: ${(rv.stderr || rv.stdout).trim()}`, {
        code: 'REVERT_FAILED',
        hints: [`nothing was committed; the working copy is back at ${tip.slice(0, 12)}`],
      })
    }
    const next = parseInventory(wanted, inv.file)
    if (result.inventory.changed) {
      await writeFileAtomic(inv.file, wanted)
      o.onNotice?.(`wrote ${inv.file}`)
    }
    // the render of the restored inventory is the truth for the tree (templates may have changed since)
    const {renderRepo, commitRender} = await import('./repo.js')
    await renderRepo(next.platform, {dir, inventoryDir: inv.dir})
    const message = `obsctl: rollback to ${target.sha.slice(0, 12)} (${target.subject})\n\n${reverted.map((c) => `Revert ${c.sha.slice(0, 12)} ${c.subject}`).join('\n')}\n`
    const trailers: Trailers = {
      [TRAILER.command]: 'rollback',
      [TRAILER.inventory]: await recordInventory(inv.dir, wanted),
      [TRAILER.before]: await recordInventory(inv.dir, inv.text),
      [TRAILER.reverts]: reverted.map((c) => c.sha),
    }
    const committed = await commitRender(next.platform, dir, message, trailers)
    // a revert that changed nothing Git tracks leaves the index staged: clean it
    if (!committed) await git(dir, ['reset', '-q', '--hard', 'HEAD'])
    result.commit = committed ? {sha: committed.sha, message: committed.message} : null
    if (committed) o.onNotice?.(`commit ${committed.sha.slice(0, 12)} ${committed.message}`)
    return await finish(inv, next, result, {...o, lock})
  } finally {
    lock.release()
  }
}

/** Push (unless --no-push) and wait for Argo CD (unless --no-sync). */
async function finish(before: LoadedInventory, next: LoadedInventory, result: RollbackResult, o: RollbackOptions & {lock: Lock}): Promise<RollbackResult> {
  const labels = relabelledEdges(before.platform, next.platform).length > 0
  result.push = o.push === false ? null : await gitPush(result.dir, result.branch)
  if (result.push) o.onNotice?.(`pushed to ${result.push.remote} (${result.branch})`)
  if (o.sync === false) {
    result.sync = null
    // a pushed rollback may change an edge's metrics mode: the cluster Secret labels follow it even without the waits
    if (result.push && o.runLabels && labels) await o.runLabels(next, o, 'rollback', result.push.commit, result)
    return result
  }
  if (!o.runSync)
    throw new ObsctlError('rollback was asked to sync but was given no sync to run', {
      code: 'NO_SYNC_RUNNER',
      hints: ['call the rollback of src/lib/flows/rollback.ts, or pass sync: false'],
    })
  const s = await o.runSync(next, {...o, labels}, 'rollback', result.push?.commit)
  result.sync = {ok: s.ok, summary: s.summary}
  if (!s.ok) {
    throw new ObsctlError(`the rollback is committed${result.push ? ' and pushed' : ''}, but the sync did not finish: ${s.summary}`, {
      code: 'SYNC_FAILED',
      exitCode: s.run.exitCode || 1,
      hints: ['obsctl argocd sync waits again', ...(s.run.logsDir ? [`task logs: ${s.run.logsDir}`] : [])],
      details: result,
    })
  }
  return result
}

/** Nothing to roll back (./rollback's `noop`): no revert, commit or push; the sync waited for all the same (unless --no-sync). */
async function alreadyThere(
  inv: LoadedInventory,
  base: Pick<RollbackResult, 'dir' | 'remote' | 'branch' | 'dryRun' | 'base'>,
  o: RollbackOptions,
): Promise<RollbackResult> {
  const result: RollbackResult = {...base, reverted: [], inventory: {file: inv.file, changed: false, diff: ''}, files: [], noop: true}
  if (o.dryRun) return result
  result.commit = null
  result.push = null
  if (o.sync === false) {
    result.sync = null
    return result
  }
  if (!o.runSync) throw new ObsctlError('rollback was asked to sync but was given no sync to run', {code: 'NO_SYNC_RUNNER'})
  // a first run that stopped in its wait (a timeout) is not turned into a success by its rerun: it waits again
  const s = await o.runSync(inv, o, 'rollback', undefined, o.push !== false)
  result.sync = {ok: s.ok, summary: s.summary}
  if (!s.ok)
    throw new ObsctlError(`nothing needed rolling back, but the sync did not finish: ${s.summary}`, {
      code: 'SYNC_FAILED',
      exitCode: s.run.exitCode || 1,
      hints: ['obsctl argocd sync waits again', ...(s.run.logsDir ? [`task logs: ${s.run.logsDir}`] : [])],
      details: result,
    })
  return result
}

/** An earlier rollback committed (and wrote the inventory) but did not push: push it and sync. */
async function resume(
  inv: LoadedInventory,
  ahead: LogEntry[],
  o: RollbackOptions,
  base: Pick<RollbackResult, 'dir' | 'remote' | 'branch' | 'dryRun'>,
): Promise<RollbackResult> {
  const top = ahead[0]!
  const wantedHash = top.trailers[TRAILER.inventory]?.[0]
  const wanted = wantedHash ? recordedInventory(inv.dir, wantedHash) : undefined
  const text = wanted ?? inv.text
  const result: RollbackResult = {
    ...base,
    base: top.sha,
    reverted: [],
    inventory: {file: inv.file, changed: text !== inv.text, diff: ''},
    files: [],
    resumed: true,
    commit: {sha: top.sha, message: top.subject},
  }
  o.onNotice?.(`the working copy has rollback commit ${top.sha.slice(0, 12)} that ${base.branch} does not have: pushing it`)
  if (o.dryRun) return result
  const {withInventoryLock} = await import('../engine/inventory-lock.js')
  return withInventoryLock(inv, 'rollback', o.onNotice, async (lock) => {
    if (result.inventory.changed) await writeFileAtomic(inv.file, text)
    return finish(inv, parseInventory(text, inv.file), result, {...o, lock})
  })
}

export function formatRollback(r: RollbackResult): string {
  if (r.noop) {
    const what = `${r.branch} already holds the tree of ${r.base.slice(0, 12)} and ${r.inventory.file} the inventory that went with it`
    if (r.dryRun) return `${what}: nothing would be rolled back\n\ndry run: nothing was written, committed or pushed`
    return `${what}: nothing to roll back\n${r.sync ? `sync    ${r.sync.summary}` : 'sync    skipped (--no-sync)'}`
  }
  if (r.dryRun) {
    return [
      `would roll ${r.branch} back to ${r.base.slice(0, 12)}, reverting ${r.reverted.length} commit(s):`,
      ...r.reverted.map(line),
      // the diff ends with its own line end: one blank line before what follows, as without a diff
      r.inventory.diff ? `\n${r.inventory.diff.replace(/\n+$/, '')}` : `${r.inventory.file}: unchanged`,
      `\n${r.files.length} rendered file(s) would change:`,
      ...r.files.map((f) => `  ${f}`),
      '\ndry run: nothing was written, committed or pushed',
    ].join('\n')
  }
  if (r.cancelled) return 'cancelled; nothing was changed'
  const lines = [r.resumed ? `resumed the rollback ${r.commit?.sha.slice(0, 12)}` : `rolled back ${r.reverted.length} commit(s) to ${r.base.slice(0, 12)}`]
  lines.push(r.inventory.changed ? `inventory ${r.inventory.file} restored` : `inventory ${r.inventory.file} unchanged`)
  lines.push(r.commit ? `commit  ${r.commit.sha.slice(0, 12)} ${r.commit.message}` : 'commit  (nothing to commit)')
  lines.push(r.push ? `push    ${r.push.remote} ${r.push.branch} at ${r.push.commit.slice(0, 12)}` : 'push    skipped (--no-push)')
  lines.push(r.sync ? `sync    ${r.sync.summary}` : 'sync    skipped (--no-sync)')
  return lines.join('\n')
}
