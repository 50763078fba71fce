/** The GitOps working copy through the real `git` CLI (execa, loaded only when git is used). */
import {existsSync} from 'node:fs'
import {ensureDir, readText} from '../fs.js'
import path from 'node:path'
import {ObsctlError, inputError} from '../errors.js'
import {killPoint} from '../engine/kill-point.js'
import {traced} from '../trace.js'
import {withTrailers, type Trailers} from './trailers.js'
import {isGitUrl, scpLikeRemote} from '../config/validators.js'
import {shWord} from '../shell-quote.js'

export interface GitResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** The git commands that talk to a remote: traced under --verbose (../trace.ts) with their exit code. */
const REMOTE_COMMANDS = new Set(['clone', 'fetch', 'ls-remote', 'pull', 'push'])

/** Options of the remote commands whose value is the next argument (never the remote). */
const OPTIONS_WITH_VALUE = new Set([
  '--depth',
  '-o',
  '--push-option',
  '--server-option',
  '--upload-pack',
  '--receive-pack',
  '--exec',
  '--shallow-exclude',
  '--shallow-since',
  '-b',
  '--branch',
  '--origin',
  '--reference',
  '-c',
  '--config',
])

/**
 * The URL a remote command reaches, as git will use it (`url.<base>.insteadOf` and, for push, `pushInsteadOf`
 * applied): the remote is args' first operand, a remote's name or a URL. Undefined when git cannot say (no such
 * remote): git then fails on its own without reaching anything.
 */
async function effectiveRemoteUrl(
  dir: string,
  args: string[],
  run: (a: string[]) => Promise<{exitCode?: number; stdout?: unknown}>,
): Promise<string | undefined> {
  let remote: string | undefined
  for (let i = 1; i < args.length && !remote; i++) {
    if (OPTIONS_WITH_VALUE.has(args[i]!)) i++
    else if (!args[i]!.startsWith('-')) remote = args[i]
  }
  if (!remote) return undefined
  const r = args[0] === 'push' && !/[:/]/.test(remote) ? await run(['remote', 'get-url', '--push', remote]) : await run(['ls-remote', '--get-url', remote])
  return r.exitCode === 0 ? String(r.stdout ?? '').trim() : undefined
}

/** True for a plain-http URL: nothing obsctl runs may hand git a credential for it. */
export function isPlainHttp(url: string | undefined): boolean {
  return /^http:\/\//i.test(url ?? '')
}

/**
 * The settings every remote command runs with, so that git never sends a credential unverified (docs/architecture.md
 * "Credentials and TLS"):
 * - TLS verification stays on whatever the user's git config or environment says (`http.sslVerify=true`, and
 *   GIT_SSL_NO_VERIFY removed: git reads it after its config and it would win); a private CA goes in
 *   `http.sslCAInfo`;
 * - towards an https remote, a redirect to plain http is refused (`protocol.http.allow=never`, and http taken out of
 *   GIT_ALLOW_PROTOCOL, which overrides it: git gives curl its allowed protocols as CURLOPT_REDIR_PROTOCOLS), since git would answer the http server's 401 with the credential
 *   helper's token for the redirected URL;
 * - towards a plain-http remote, no credential helper and no askpass program is asked (`credential.helper=` empties
 *   the helper list, URL-specific ones included; an empty GIT_ASKPASS ends git's askpass chain, core.askPass and
 *   SSH_ASKPASS included; terminal prompts are already off): a server that wants a login is refused by git with
 *   "could not read Username", and the token never leaves in cleartext. An http remote that needs no login still works.
 */
function remoteSafety(url: string | undefined): {config: string[]; env: Record<string, string | undefined>} {
  const config = ['-c', 'http.sslVerify=true']
  const env: Record<string, string | undefined> = {GIT_SSL_NO_VERIFY: undefined}
  if (isPlainHttp(url)) {
    config.push('-c', 'credential.helper=')
    env.GIT_ASKPASS = ''
  } else {
    config.push('-c', 'protocol.http.allow=never')
    // GIT_ALLOW_PROTOCOL overrides every protocol.*.allow setting: keep the user's list, without http
    const allowed = process.env.GIT_ALLOW_PROTOCOL
    if (allowed !== undefined)
      env.GIT_ALLOW_PROTOCOL = allowed
        .split(':')
        .filter((p) => p.toLowerCase() !== 'http')
        .join(':')
  }
  return {config, env}
}

/** Run git in dir; never throws for a non-zero exit (callers decide). */
export async function git(dir: string, args: string[], opts: {input?: string; env?: Record<string, string>} = {}): Promise<GitResult> {
  const {execa} = await import('execa')
  const exec = (a: string[], extraEnv: Record<string, string | undefined> = {}) =>
    execa('git', a, {
      cwd: dir,
      reject: false,
      input: opts.input,
      env: {GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env, ...extraEnv},
      stripFinalNewline: true,
    })
  const remote = REMOTE_COMMANDS.has(args[0] ?? '')
  const safety = remote ? remoteSafety(await effectiveRemoteUrl(dir, args, (a) => exec(a))) : undefined
  const run = () => (safety ? exec([...safety.config, ...args], safety.env) : exec(args))
  const r = remote ? await traced(`git ${args.join(' ')}`, run, (x) => `exit ${x.exitCode ?? '?'}`) : await run()
  if (r.failed && r.exitCode === undefined) {
    throw new ObsctlError(`cannot run git: ${r.shortMessage ?? r.message}`, {code: 'GIT_MISSING', hints: ['install git (apt-get install git)']})
  }
  return {stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1}
}

/** git ARGS in DIR, its stdout; a failure is GIT_FAILED naming the command (and a stale index.lock when that is why). */
export async function must(dir: string, args: string[], what: string, opts: {input?: string; env?: Record<string, string>} = {}): Promise<string> {
  const r = await git(dir, args, opts)
  if (r.exitCode !== 0) {
    // a git process killed together with obsctl can leave its lock behind (said in the message: a task shows only that)
    const lock = /index\.lock': File exists/.test(r.stderr)
      ? `; if no git process is running in ${dir}, remove the stale lock: rm ${shWord(path.join(dir, '.git', 'index.lock'))}`
      : ''
    throw new ObsctlError(`${what} failed: ${(r.stderr || r.stdout).trim()}${lock}`, {
      code: 'GIT_FAILED',
      hints: [`git -C ${shWord(dir)} ${args.map(shWord).join(' ')}`],
    })
  }
  return r.stdout
}

export async function isRepo(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false
  const r = await git(dir, ['rev-parse', '--show-toplevel'])
  return r.exitCode === 0 && path.resolve(r.stdout.trim()) === (await realDir(dir))
}

async function realDir(dir: string): Promise<string> {
  const {realpathSync} = await import('node:fs')
  return realpathSync(dir)
}

/**
 * Make dir a Git working copy on `branch` with `origin` = git.remote as remoteLocation resolves it (only what is
 * missing; ensureOrigin).
 */
export async function ensureRepo(dir: string, remote: string, branch: string, inventoryDir: string): Promise<{initialised: boolean}> {
  ensureDir(dir)
  let initialised = false
  if (!(await isRepo(dir))) {
    await must(dir, ['init', '-q', '-b', branch], 'git init')
    initialised = true
  }
  await ensureOrigin(dir, remote, inventoryDir)
  return {initialised}
}

/**
 * Point the working copy's `origin` at git.remote as remoteLocation resolves it: the repository the drift check and
 * the sync wait read. A relative local path goes in absolute, since git would take a relative one from the working
 * copy (git.dir), not from the inventory's folder — an earlier obsctl wrote it so, and that origin is set right here.
 * The inventory's git.remote is the truth: a changed remote is followed, not pushed past, and the remote-tracking
 * refs of the old one are dropped.
 */
export async function ensureOrigin(dir: string, remote: string, inventoryDir: string): Promise<void> {
  const url = remoteLocation(remote, inventoryDir)
  const cur = await git(dir, ['remote', 'get-url', 'origin'])
  if (cur.exitCode !== 0) await must(dir, ['remote', 'add', 'origin', url], 'git remote add')
  else if (cur.stdout.trim() !== url) {
    await must(dir, ['remote', 'set-url', 'origin', url], 'git remote set-url')
    // what this copy knew of the old origin (refs/remotes/origin/*: the head it last pushed or fetched) is not the new
    // one's: the sync wait would read a head another repository lacks as a rewritten branch. Dropped; the next
    // push or fetch writes them from the new remote (a relative path made absolute loses them once, harmlessly)
    const refs = await must(dir, ['for-each-ref', '--format=%(refname)', 'refs/remotes/origin/'], 'git for-each-ref')
    const gone = refs.split('\n').filter(Boolean)
    if (gone.length > 0) await must(dir, ['update-ref', '--stdin'], 'git update-ref --stdin', {input: gone.map((ref) => `delete ${ref}\n`).join('')})
  }
}

/** Identity for obsctl's commits when the user has none configured (CI, fresh machines). */
async function identityEnv(dir: string): Promise<Record<string, string>> {
  const email = await git(dir, ['config', 'user.email'])
  if (email.exitCode === 0 && email.stdout.trim()) return {}
  return {GIT_AUTHOR_NAME: 'obsctl', GIT_AUTHOR_EMAIL: 'obsctl@localhost', GIT_COMMITTER_NAME: 'obsctl', GIT_COMMITTER_EMAIL: 'obsctl@localhost'}
}

export interface GitChanges {
  added: string[]
  changed: string[]
  removed: string[]
}

/** Paths among `managed` whose working-tree or staged state differs from HEAD (git status). */
export async function dirtyPaths(dir: string, managed: Set<string>): Promise<string[]> {
  const out = await must(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'], 'git status')
  return out
    .split('\0')
    .filter((e) => e.length > 3)
    .map((e) => e.slice(3))
    .filter((p) => managed.has(p))
    .sort()
}

/**
 * Commit whatever of `managed` differs from HEAD — files written now or by an earlier run that never
 * committed them — and nothing else (other staged or unstaged changes are left alone). `message`
 * may be built from what is actually committed. Returns null when Git already has it all.
 */
export async function commitManaged(
  dir: string,
  managed: Set<string>,
  message: string | ((c: GitChanges) => string),
  trailers?: Trailers,
): Promise<{sha: string; message: string; changes: GitChanges} | null> {
  const dirty = await dirtyPaths(dir, managed)
  if (dirty.length === 0) return null
  // paths, not patterns (a rendered name is never a glob)
  const literal = {GIT_LITERAL_PATHSPECS: '1'}
  await must(dir, ['add', '-A', '--pathspec-from-file=-'], 'git add', {input: `${dirty.join('\n')}\n`, env: literal})
  const staged = (await must(dir, ['diff', '--cached', '--name-status', '--no-renames', '-z'], 'git diff')).split('\0')
  const changes: GitChanges = {added: [], changed: [], removed: []}
  for (let i = 0; i + 1 < staged.length; i += 2) {
    const [st, p] = [staged[i]!, staged[i + 1]!]
    if (!managed.has(p)) continue
    if (st === 'A') changes.added.push(p)
    else if (st === 'D') changes.removed.push(p)
    else changes.changed.push(p)
  }
  const paths = [...changes.added, ...changes.changed, ...changes.removed]
  if (paths.length === 0) return null
  killPoint('render:staged')
  // the trailers make the commit recognisably obsctl's (and name the inventory it was rendered from: rollback)
  const text = withTrailers(typeof message === 'function' ? message(changes) : message, trailers)
  const env = await identityEnv(dir)
  await must(dir, ['commit', '-q', '-m', text, '--pathspec-from-file=-'], 'git commit', {input: `${paths.join('\n')}\n`, env: {...env, ...literal}})
  const sha = (await must(dir, ['rev-parse', 'HEAD'], 'git rev-parse')).trim()
  killPoint('render:committed')
  return {sha, message: text, changes}
}

/** The commit at refs/heads/<branch> on origin ('' when the branch does not exist), or null when origin cannot be read. */
export async function remoteHead(dir: string, branch: string): Promise<string | null> {
  const r = await readRemoteHead(dir, 'origin', branch)
  return 'error' in r ? null : r.commit
}

/**
 * The commit at refs/heads/<branch> of `remote` (a remote's name in `dir`, or a URL/path) as `git ls-remote` run in
 * `dir` reads it — with the user's SSH key or credential helper, as git does here: '' when the branch does not exist,
 * or git's last line of error when the remote cannot be read.
 */
export async function readRemoteHead(dir: string, remote: string, branch: string): Promise<{commit: string} | {error: string}> {
  const r = await git(dir, ['ls-remote', remote, `refs/heads/${branch}`])
  if (r.exitCode !== 0) return {error: (r.stderr || r.stdout).trim().split('\n').at(-1) ?? `git ls-remote exit ${r.exitCode}`}
  return {commit: r.stdout.split(/\s/)[0] ?? ''}
}

/**
 * git.remote as git can reach it, the one resolution every reader and the working copy's origin use: a URL and a
 * scp-like [user@]host:path (git's rule, scpLikeRemote) as they are; a relative local path from the inventory's
 * folder (docs/inventory.md: the inventory's relative paths are), made absolute.
 */
export function remoteLocation(remote: string, inventoryDir: string): string {
  return isGitUrl(remote) || scpLikeRemote(remote) || path.isAbsolute(remote) ? remote : path.resolve(inventoryDir, remote)
}

export interface PushResult {
  remote: string
  branch: string
  commit: string
  /** the branch was at `commit` already: git pushed nothing (its porcelain `=` line) */
  upToDate: boolean
}

/** GIT_PLAIN_HTTP: the http remote wants a login, and obsctl never gives git a credential for plain http. */
export function plainHttpLoginError(remote: string, branch: string, at = 'git.remote'): ObsctlError {
  return inputError(
    `push to ${remote} (${branch}) needs a login, and the remote is plain http: obsctl does not let git send a credential (credential helper, askpass) in cleartext`,
    [`set ${at} to the repository's https:// (or ssh://) address`],
    'GIT_PLAIN_HTTP',
    {remote, branch},
  )
}

/**
 * Push HEAD to origin/<branch>. A rejected push (the remote has commits this copy lacks) is an
 * exit-1 error that keeps the local commit and says how to recover.
 */
export async function push(dir: string, branch: string): Promise<PushResult> {
  const head = (await must(dir, ['rev-parse', 'HEAD'], 'git rev-parse')).trim()
  const remote = (await git(dir, ['remote', 'get-url', '--push', 'origin'])).stdout.trim()
  const r = await git(dir, ['push', '--porcelain', 'origin', `HEAD:refs/heads/${branch}`])
  if (r.exitCode !== 0) {
    const text = `${r.stdout}\n${r.stderr}`
    if (isPlainHttp(remote) && /could not read (Username|Password)|Authentication failed|HTTP Basic: Access denied/i.test(text))
      throw plainHttpLoginError(remote, branch)
    if (/\[rejected\]|non-fast-forward|fetch first|\(rejected\)|failed to push some refs/i.test(text) && /reject/i.test(text)) {
      throw new ObsctlError(`push to ${remote} (${branch}) was rejected: the remote has commits this working copy does not have`, {
        code: 'PUSH_REJECTED',
        hints: [
          `your commit ${head.slice(0, 12)} is kept in ${dir}`,
          `bring in the remote's commits: git -C ${shWord(dir)} pull --rebase origin ${shWord(branch)}`,
          'then push again: obsctl render --push',
        ],
        details: {remote, branch, commit: head},
      })
    }
    throw new ObsctlError(`push to ${remote} (${branch}) failed: ${r.stderr.trim() || r.stdout.trim()}`, {
      code: 'PUSH_FAILED',
      hints: [`your commit ${head.slice(0, 12)} is kept in ${dir}`, 'check git.remote and your credentials, then: obsctl render --push'],
      details: {remote, branch, commit: head},
    })
  }
  killPoint('render:pushed')
  // git push --porcelain: one line per ref, `<flag>\t<from>:<to>\t<summary>`; `=` is a ref that was up to date
  const upToDate = /^=\t[^\t]*:refs\/heads\//m.test(r.stdout)
  return {remote, branch, commit: head, upToDate}
}

/**
 * Unified diff between a file on disk (absent: /dev/null) and wanted content (undefined: removed), with
 * the shared diff library (src/lib/diff.ts) and git's context of 3 lines.
 */
export async function unifiedDiff(dir: string, rel: string, wanted: string | undefined): Promise<string> {
  const {unifiedDiff: diff} = await import('../diff.js')
  const onDisk = await readText(path.join(dir, rel)).catch(() => undefined)
  return diff(onDisk === undefined ? '/dev/null' : `a/${rel} (on disk)`, wanted === undefined ? '/dev/null' : `b/${rel} (rendered)`, onDisk ?? '', wanted ?? '')
}
