/**
 * The pieces of the day-2 change path of `config set` and `upgrade chart` (issue 9 item 5; the driver,
 * which runs the change flow, is ../flows/change-run.ts): the dry render and its diff, the texts shown,
 * the confirmation, render + commit + push, the push check of a resumed change, and the wait until
 * Argo CD has seen a commit (the `argocd-refresh` phase).
 */
import type {LoadedInventory} from '../config/load.js'
import {gitDir} from '../config/model.js'
import {canPrompt} from '../prompt.js'
import type {RendererChoice, RunResult} from '../engine/index.js'
import {ObsctlError, inputError} from '../errors.js'
import {pollMs} from '../poll.js'
import {shWord} from '../shell-quote.js'

export interface ChangeOptions {
  dryRun?: boolean
  /** answer the confirmation */
  yes?: boolean
  /** push after the commit (default true) */
  push?: boolean
  /** run the sync phase after the push (default true) */
  sync?: boolean
  /** overwrite files edited by hand in the working copy */
  force?: boolean
  allowOvercommit?: boolean
  /** upgrade chart: accept a version older than the inventory's */
  allowDowngrade?: boolean
  kubeconfig?: string
  timeoutSeconds?: number
  /** sync poll interval (tests) */
  intervalMs?: number
  renderer?: RendererChoice
  /** asks the user; resolves true to go on */
  confirm?: (question: string) => Promise<boolean>
  /** progress lines (stderr) */
  onNotice?: (line: string) => void
  /** the change and its rendered diff, shown before the confirmation (stdout) */
  onDiff?: (text: string) => void
}

export interface RenderedDiff {
  dir: string
  added: string[]
  changed: string[]
  removed: string[]
  /** unified diff of every added/changed/removed file */
  diff: string
}

export interface ChangeResult {
  /** what the change is, e.g. `upgrade kube-prometheus-stack 78.2.1 → 79.0.0` */
  title: string
  path: string
  previous: unknown
  /** `previous` is the schema's default (the inventory did not set it) */
  previousIsDefault?: boolean
  value: unknown
  inventory: {file: string; changed: boolean}
  render: RenderedDiff
  dryRun: boolean
  /** nothing to change: the inventory already says so and the working copy is rendered */
  noop: boolean
  cancelled?: boolean
  commit?: {sha: string; message: string} | null
  push?: {remote: string; branch: string; commit: string} | null
  sync?: {ok: boolean; summary: string; run: RunResult} | null
}

/** A value as the change's messages show it. */
export const showValue = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v))
const show = showValue

/** Render `inv` into its GitOps working copy in dry-run mode and diff it against what is on disk. */
export async function previewRender(inv: LoadedInventory, opts: {force?: boolean} = {}): Promise<RenderedDiff> {
  const {renderRepo, renderFiles, unifiedDiff} = await import('../gitops/index.js')
  const dir = gitDir(inv.platform, inv.dir)
  const r = await renderRepo(inv.platform, {dir, inventoryDir: inv.dir, dryRun: true, force: opts.force})
  const wanted = new Map(renderFiles(inv.platform).map((f) => [f.path, f.content]))
  const parts: string[] = []
  // one diff library for every diff (src/lib/diff.ts through gitops' unifiedDiff): an added file diffs from /dev/null
  for (const f of [...r.added, ...r.changed, ...r.removed].sort())
    parts.push((await unifiedDiff(dir, f, r.removed.includes(f) ? undefined : (wanted.get(f) ?? ''))).trimEnd())
  return {dir, added: r.added, changed: r.changed, removed: r.removed, diff: parts.filter(Boolean).join('\n')}
}

/** The human summary of a rendered diff: file list, then the unified diff. */
export function formatRenderedDiff(d: RenderedDiff): string {
  const files = [...d.added.map((f) => `  added   ${f}`), ...d.changed.map((f) => `  changed ${f}`), ...d.removed.map((f) => `  removed ${f}`)]
  if (files.length === 0) return `${d.dir}: no rendered file changes`
  return `${d.dir}: ${d.added.length} added, ${d.changed.length} changed, ${d.removed.length} removed\n${files.join('\n')}\n\n${d.diff}`
}

/** Ask (or refuse without a terminal unless yes). Returns false when the user says no. */
export async function confirmOrRefuse(
  what: string,
  question: string,
  o: {yes?: boolean; confirm?: (q: string) => Promise<boolean>},
  dryRunHint = 'or --dry-run to see the diff only',
): Promise<boolean> {
  if (o.yes) return true
  if (!canPrompt() || !o.confirm) {
    throw inputError(`${what} asks first, and there is no terminal to ask on`, ['pass --yes to go ahead', dryRunHint], 'NO_TTY')
  }
  return o.confirm(question)
}

/** The change and its rendered diff. */
export function formatChangeDiff(r: ChangeResult): string {
  const inv = r.inventory.changed
    ? `${r.inventory.file}: ${r.path}: ${show(r.previous)}${r.previousIsDefault ? ' (default)' : ''} → ${show(r.value)}`
    : `${r.inventory.file}: ${r.path} is already ${show(r.value)}`
  return `${r.title}\n${inv}\n${formatRenderedDiff(r.render)}`
}

/** What the command prints: the diff on a dry run, else what was done. */
export function formatChange(r: ChangeResult): string {
  if (r.dryRun) return `${formatChangeDiff(r)}\n\ndry run: nothing was written, committed or pushed`
  if (r.noop) return `${r.path} is already ${show(r.value)} and the repository is rendered: nothing to change${r.sync ? `\nsync    ${r.sync.summary}` : ''}`
  if (r.cancelled) return 'cancelled; nothing was changed'
  const lines = [`${r.title}`]
  lines.push(r.commit ? `commit  ${r.commit.sha.slice(0, 12)} ${r.commit.message}` : 'commit  (nothing new to commit)')
  lines.push(r.push ? `push    ${r.push.remote} ${r.push.branch} at ${r.push.commit.slice(0, 12)}` : 'push    skipped (--no-push)')
  lines.push(r.sync ? `sync    ${r.sync.summary}` : 'sync    skipped (--no-sync)')
  return lines.join('\n')
}

/** Commit message: the title as subject, the files in the body. */
export function changeMessage(title: string, d: Pick<RenderedDiff, 'added' | 'changed' | 'removed'>): string {
  const body = [...d.added.map((f) => `A ${f}`), ...d.changed.map((f) => `M ${f}`), ...d.removed.map((f) => `D ${f}`)]
  return `obsctl: ${title}${body.length ? `\n\n${body.join('\n')}\n` : ''}`
}

/** Render `next` into its working copy and commit what of the rendered tree differs from Git HEAD with `message`; push when asked. */
export async function renderCommitPush(
  next: LoadedInventory,
  message: string,
  o: {push?: boolean; force?: boolean; command: string; before?: string},
): Promise<{commit: {sha: string; message: string} | null; push: ChangeResult['push']; files: Pick<RenderedDiff, 'added' | 'changed' | 'removed'>}> {
  const {ensureRepo, renderRepo, commitRender, push, git, inventoryTrailers} = await import('../gitops/index.js')
  const p = next.platform
  const dir = gitDir(p, next.dir)
  await ensureRepo(dir, p.git.remote, p.git.branch, next.dir)
  const r = await renderRepo(p, {dir, inventoryDir: next.dir, force: o.force})
  // the commit names the command and the inventory before/after (kept in .obsctl/inventory/): obsctl rollback undoes it
  const trailers = await inventoryTrailers(next.dir, o.command, next.text, o.before)
  // against Git, not the render: files an interrupted run wrote but never committed go in too
  const sha = (await commitRender(p, dir, message, trailers))?.sha
  let pushed: ChangeResult['push'] = null
  if (o.push !== false) {
    // push also when an earlier run committed but did not push (resume)
    const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD'])
    if (head.exitCode === 0) pushed = await push(dir, p.git.branch)
  }
  return {commit: sha ? {sha, message: message.split('\n')[0]!} : null, push: pushed, files: r}
}

/**
 * How many of obsctl's rendered files in the working copy Git HEAD does not hold: an earlier run rendered them and
 * stopped before its commit (a full disk at `git add`, a kill). The inventory and the render then already say what
 * the change wanted, and only the commit (and push) is left to do.
 */
export async function uncommittedRender(inv: LoadedInventory): Promise<number> {
  const {isRepo} = await import('../gitops/index.js')
  const {uncommittedCount} = await import('../gitops/repo.js')
  const dir = gitDir(inv.platform, inv.dir)
  return (await isRepo(dir)) ? uncommittedCount(dir) : 0
}

/**
 * The inventory text HEAD's commit was rendered from (its Obsctl-Inventory trailer, the text kept in
 * `.obsctl/inventory/`), or undefined (no repository, no commit, a commit not obsctl's, a text not kept here). A change
 * resumed after its first attempt wrote the inventory but stopped before the commit (a full disk at `git add`) finds
 * the inventory already changed: this is the inventory before it, as far as the repository knows.
 */
export async function headInventory(inv: LoadedInventory): Promise<string | undefined> {
  const {git, isRepo, parseTrailers, recordedInventory, TRAILER} = await import('../gitops/index.js')
  const dir = gitDir(inv.platform, inv.dir)
  if (!(await isRepo(dir))) return undefined
  const r = await git(dir, ['log', '-1', '--format=%(trailers:only,unfold)', 'HEAD', '--'])
  const hash = r.exitCode === 0 ? parseTrailers(r.stdout)[TRAILER.inventory]?.[0] : undefined
  return hash ? recordedInventory(inv.dir, hash) : undefined
}

/**
 * HEAD of the working copy when the remote branch does not have it (an earlier run committed, then failed to push).
 * The remote is git.remote as remoteLocation resolves it, which the push will set origin to (ensureRepo): read-only,
 * since a dry run asks too.
 */
export async function unpushedHead(inv: LoadedInventory): Promise<string | undefined> {
  const {git, isRepo, readRemoteHead, remoteLocation} = await import('../gitops/index.js')
  const dir = gitDir(inv.platform, inv.dir)
  if (!(await isRepo(dir))) return undefined
  const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD'])
  if (head.exitCode !== 0) return undefined
  const remote = await readRemoteHead(dir, remoteLocation(inv.platform.git.remote, inv.dir), inv.platform.git.branch)
  if ('error' in remote) return undefined
  const sha = head.stdout.trim()
  return remote.commit === sha ? undefined : sha
}

/**
 * The commit Argo CD must report before its Synced means anything: the head of git.branch on git.remote, read
 * from the remote (`git ls-remote`, with the user's SSH key or credential helper as git does here). Not HEAD: a
 * commit kept local (--no-push) is one Argo CD cannot fetch.
 * - With the GitOps working copy here, the commit it last pushed (`refs/remotes/origin/<branch>`, which every push
 *   and fetch of obsctl's moves) must be in that head: when the remote moved on (another push since), the head is
 *   waited for only if it contains it (fetched, `git merge-base --is-ancestor`); a head without it (the branch
 *   rewritten) is an error, since Argo CD would never deploy it. A remote that cannot be read then falls back to
 *   the pushed commit (said in `notes`).
 * - Without a working copy (obsctl run from another machine) the remote's head is all there is; a remote that
 *   cannot be read is an error (GIT_REMOTE_UNREADABLE), not a sync judged alone.
 * A branch with no commit yet gives nothing to wait for (`why` says so).
 */
export async function pushedRevision(inv: LoadedInventory): Promise<{revision?: string; why?: string; notes: string[]}> {
  const {ensureOrigin, git, isRepo, readRemoteHead, remoteLocation} = await import('../gitops/index.js')
  const {remoteUnreadable} = await import('../gitops/remote-tree.js')
  const p = inv.platform
  const dir = gitDir(p, inv.dir)
  const where = `${p.git.remote} (${p.git.branch})`
  if (!(await isRepo(dir))) {
    const remote = await readRemoteHead(inv.dir, remoteLocation(p.git.remote, inv.dir), p.git.branch)
    if ('error' in remote) throw remoteUnreadable(p.git.remote, remote.error, [`or run it where the GitOps working copy is (there is none at ${dir})`])
    if (!remote.commit) return {why: `nothing on ${where} yet`, notes: []}
    return {revision: remote.commit, notes: [`no GitOps working copy at ${dir}: the head of ${where} is ${remote.commit.slice(0, 12)}`]}
  }
  // origin read below is git.remote as the drift check reads it (an earlier obsctl wrote a relative path git took from here)
  await ensureOrigin(dir, p.git.remote, inv.dir)
  const sha = async (ref: string) => {
    const r = await git(dir, ['rev-parse', '--verify', '-q', `${ref}^{commit}`])
    return r.exitCode === 0 ? r.stdout.trim() : undefined
  }
  const pushed = await sha(`refs/remotes/origin/${p.git.branch}`)
  const head = await sha('HEAD')
  // a commit kept local (--no-push) is not what Argo CD can see: said, not waited for
  const local = (revision: string) =>
    head && head !== revision && head !== pushed ? [`HEAD ${head.slice(0, 12)} is not on ${where}; Argo CD can see ${revision.slice(0, 12)}`] : []
  const remote = await readRemoteHead(dir, 'origin', p.git.branch)
  if ('error' in remote) {
    if (!pushed) throw remoteUnreadable(p.git.remote, remote.error, [`nothing was pushed from ${dir} to it yet`])
    return {
      revision: pushed,
      notes: [`cannot read ${where} (${remote.error}): waiting for ${pushed.slice(0, 12)}, the commit the working copy last pushed`, ...local(pushed)],
    }
  }
  if (!remote.commit) return {why: `nothing on ${where} yet`, notes: []}
  if (!pushed || pushed === remote.commit) return {revision: remote.commit, notes: local(remote.commit)}
  // the remote moved on since this working copy last pushed or fetched: its head counts only if it contains that commit
  const fetched = await git(dir, ['fetch', '-q', '--no-tags', 'origin', `refs/heads/${p.git.branch}`])
  if (fetched.exitCode !== 0) throw remoteUnreadable(p.git.remote, (fetched.stderr || fetched.stdout).trim().split('\n').at(-1) ?? 'git fetch failed')
  const contains = await git(dir, ['merge-base', '--is-ancestor', pushed, remote.commit])
  if (contains.exitCode === 0) {
    return {
      revision: remote.commit,
      notes: [
        `${where} moved on to ${remote.commit.slice(0, 12)}, which contains ${pushed.slice(0, 12)}, the head this working copy last pushed or fetched`,
        ...local(remote.commit),
      ],
    }
  }
  throw new ObsctlError(
    `${where} is at ${remote.commit.slice(0, 12)}, which does not contain ${pushed.slice(0, 12)}, the head the working copy ${dir} last pushed or fetched: the branch was rewritten`,
    {
      code: 'PUSHED_COMMIT_GONE',
      hints: [
        `Argo CD deploys ${remote.commit.slice(0, 12)}; see what it lacks: git -C ${shWord(dir)} log --oneline ${remote.commit.slice(0, 12)}..${pushed.slice(0, 12)}`,
        `to publish the working copy's render again on top of it: git -C ${shWord(dir)} pull --rebase origin ${shWord(p.git.branch)}, then obsctl render --push`,
      ],
      details: {remote: p.git.remote, branch: p.git.branch, remoteCommit: remote.commit, pushed},
    },
  )
}

/**
 * After a push Argo CD may still report Synced for the previous revision: ask every Application that
 * tracks the repository to refresh (what `argocd app get --refresh` does) and wait until it has seen
 * `revision`. Applications of other repositories are left alone; while none tracks the repository (the root
 * app not applied yet) there is nothing that could report the commit, so that waits too and fails at the deadline.
 */
export async function waitForRevision(
  inv: LoadedInventory,
  revision: string,
  o: {kubeconfig?: string; timeoutMs: number; intervalMs?: number; onNotice?: (l: string) => void; signal?: AbortSignal},
): Promise<void> {
  const {Kube, sleep} = await import('../kube/index.js')
  const {centralCluster, kubeContextName, NAMESPACES} = await import('../config/model.js')
  const kube = await Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(centralCluster(inv.platform))})
  // the fields of an Argo CD Application read here (argoproj.io/v1alpha1: spec.source.repoURL, status.sync.revision)
  const ours = async () =>
    (await kube.list('argoproj.io/v1alpha1', 'Application', {namespace: NAMESPACES.argocd}))
      .map((a) => ({
        name: a.metadata.name,
        repo: (a.spec as {source?: {repoURL?: string}} | undefined)?.source?.repoURL,
        revision: (a.status as {sync?: {revision?: string}} | undefined)?.sync?.revision,
      }))
      .filter((a) => a.repo === inv.platform.git.remote)
  const refreshed = new Set<string>()
  const deadline = Date.now() + o.timeoutMs
  for (;;) {
    if (o.signal?.aborted) throw new ObsctlError('interrupted while waiting for Argo CD to see the commit', {exitCode: 130, code: 'INTERRUPTED'})
    const apps = await ours()
    // ask each once (one that appears later, e.g. generated from the new commit, is compared by Argo CD on creation)
    for (const a of apps.filter((x) => !refreshed.has(x.name) && x.revision !== revision)) {
      await kube.apply(
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {name: a.name, namespace: NAMESPACES.argocd, annotations: {'argocd.argoproj.io/refresh': 'normal'}},
        },
        {fieldManager: 'obsctl-refresh'},
      )
      refreshed.add(a.name)
    }
    const behind = apps.filter((a) => a.revision !== revision)
    if (apps.length > 0 && behind.length === 0) return
    if (Date.now() > deadline) {
      if (apps.length === 0) {
        throw new ObsctlError(
          `Argo CD cannot have seen commit ${revision.slice(0, 12)}: no Application in ${NAMESPACES.argocd} tracks ${inv.platform.git.remote}`,
          {code: 'SYNC_REVISION', hints: ['apply the root app first: obsctl bootstrap --phase root-app', 'then obsctl argocd sync waits again']},
        )
      }
      throw new ObsctlError(
        `Argo CD has not seen commit ${revision.slice(0, 12)} yet: ${behind.map((a) => `${a.name} (at ${a.revision?.slice(0, 12) ?? 'none'})`).join(', ')}`,
        {
          code: 'SYNC_REVISION',
          hints: ['check the repository URL and credentials Argo CD uses (obsctl validate argocd)', 'obsctl argocd sync waits again'],
        },
      )
    }
    await sleep(Math.min(o.intervalMs ?? pollMs(5000), Math.max(0, deadline - Date.now())), o.signal)
  }
}
