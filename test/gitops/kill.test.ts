/**
 * Issue 13 §1: the GitOps push is the truth. The built CLI (`bootstrap --phase render`) against a bare
 * Git remote: the README's `render` then `bootstrap` sequence, `--no-push`, a remote reset behind the
 * journal's back, and the render task SIGKILLed at every step — before, during and after the file
 * writes, the commit and the push. Kills are deterministic: obsctl's test-only crash points
 * (OBSCTL_TEST_KILL_AT, src/lib/engine/kill-point.ts) and, for "inside git", real Git hooks that kill
 * the obsctl process from within `git commit` / `git push` (and the remote's post-receive). After each
 * kill a rerun must leave the whole rendered tree, byte for byte, on the remote in one or two commits,
 * never a RENDER_CONFLICT on a file obsctl wrote.
 */
import {execFileSync, spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, type InitAnswers} from '../../src/lib/config/index.js'
import {MANIFEST_FILE, renderFiles} from '../../src/lib/gitops/index.js'
import {sha256} from '../../src/lib/hash.js'
import {manifestText} from '../../src/lib/gitops/render.js'
import {inventoryText, platformOf, withoutCluster} from './support.js'

const BIN = path.resolve('bin/run.js')
const root = mkdtempSync(path.join(tmpdir(), 'obsctl-render-kill-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

const A: InitAnswers = EXAMPLE_ANSWERS
/** a day-2 change: cluster-04 removed (files removed) and another domain (files changed) */
const B: InitAnswers = {...withoutCluster(EXAMPLE_ANSWERS, 'cluster-04'), domain: 'example.lab'}
const N = renderFiles(platformOf(A)).length

/** Kill the obsctl process (or send it OBSCTL_KILL_HOOK_SIGNAL) from inside a git hook, then fail (pre-*) or carry on (post-*). */
const HOOK = `#!/bin/sh
[ "$OBSCTL_KILL_HOOK" = "$(basename "$0")" ] || exit 0
p=$PPID; pids=""
while [ "$p" -gt 1 ]; do
  if tr '\\0' ' ' < /proc/$p/cmdline | grep -q 'bin/run.js'; then
    echo "$pids" > "$OBSCTL_KILL_HOOK_PIDS"; kill -"\${OBSCTL_KILL_HOOK_SIGNAL:-KILL}" "$p"
    case "$(basename "$0")" in pre-*) exit 1;; esac
    exit 0
  fi
  pids="$pids $p"
  p=$(awk '/^PPid:/ {print $2}' /proc/$p/status)
done
exit 0
`
const HOOKS = ['pre-commit', 'post-receive']

let n = 0
function lab(answers: InitAnswers = A): {dir: string; remote: string; hooks: string; pids: string; write(a: InitAnswers): void} {
  const dir = path.join(root, `lab-${++n}`)
  const remote = path.join(dir, 'remote.git')
  const hooks = path.join(dir, 'hooks')
  mkdirSync(hooks, {recursive: true})
  execFileSync('git', ['init', '--bare', '-q', '-b', 'main', remote])
  for (const h of HOOKS) {
    for (const d of [hooks, path.join(remote, 'hooks')]) {
      writeFileSync(path.join(d, h), HOOK)
      chmodSync(path.join(d, h), 0o755)
    }
  }
  const write = (a: InitAnswers) => writeFileSync(path.join(dir, 'obsctl.yaml'), inventoryText({...a, gitRemote: remote}))
  write(answers)
  return {dir, remote, hooks, pids: path.join(dir, 'hook-pids'), write}
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** the render task's status, from --json */
  status?: string
}

function obsctl(l: ReturnType<typeof lab>, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: l.dir,
      env: {
        ...process.env,
        CI: '1',
        NO_COLOR: '1',
        // real Git hooks from the test's folder (they act only when OBSCTL_KILL_HOOK names them)
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'core.hooksPath',
        GIT_CONFIG_VALUE_0: l.hooks,
        OBSCTL_KILL_HOOK_PIDS: l.pids,
        ...env,
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    // 'close', not 'exit': at 'exit' the child's stdout may still hold unread output (the --json below came
    // truncated once under load, the status undefined)
    child.on('close', (code, signal) => {
      let status: string | undefined
      try {
        status = JSON.parse(stdout).run.phases[0].tasks[0].status
      } catch {}
      resolve({code, signal, stdout, stderr, status})
    })
  })
}

const bootstrap = (l: ReturnType<typeof lab>, env: Record<string, string> = {}, extra: string[] = []) =>
  obsctl(l, ['bootstrap', '--phase', 'render', '--yes', '--json', ...extra], env)

/** After a kill from a git hook, the git processes it interrupted finish on their own: wait for them. */
async function orphansGone(l: ReturnType<typeof lab>): Promise<void> {
  if (!existsSync(l.pids)) return
  const pids = readFileSync(l.pids, 'utf8').trim().split(/\s+/).filter(Boolean)
  const alive = (pid: string) => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
    } catch {
      return false
    }
  }
  const until = Date.now() + 60_000
  while (pids.some(alive)) {
    if (Date.now() > until) throw new Error(`git processes ${pids.join(' ')} did not finish`)
    await new Promise((r) => setTimeout(r, 50))
  }
  rmSync(l.pids)
}

const git = (remote: string, ...args: string[]) => execFileSync('git', ['--git-dir', remote, ...args], {encoding: 'utf8'})

/** Every file at the remote's main, with its content. */
function remoteTree(remote: string): Map<string, string> {
  const names = git(remote, 'ls-tree', '-r', '-z', '--name-only', 'main').split('\0').filter(Boolean)
  const out = execFileSync('git', ['--git-dir', remote, 'cat-file', '--batch'], {input: names.map((f) => `main:${f}\n`).join('')})
  const tree = new Map<string, string>()
  let at = 0
  for (const f of names) {
    const nl = out.indexOf(10, at)
    const size = Number(out.subarray(at, nl).toString().split(' ')[2])
    tree.set(f, out.subarray(nl + 1, nl + 1 + size).toString())
    at = nl + 1 + size + 1
  }
  return tree
}

/** What the remote must hold for an inventory: every rendered file and the manifest, nothing else. */
function expectedTree(a: InitAnswers): Map<string, string> {
  const files = renderFiles(platformOf(a))
  const m = new Map(files.map((f) => [f.path, f.content]))
  m.set(MANIFEST_FILE, manifestText({version: 1, files: Object.fromEntries(files.map((f) => [f.path, sha256(f.content)]))}))
  return m
}

function expectRemoteHolds(l: ReturnType<typeof lab>, a: InitAnswers): void {
  const have = remoteTree(l.remote)
  const want = expectedTree({...a, gitRemote: l.remote})
  expect([...have.keys()].sort()).toEqual([...want.keys()].sort())
  for (const [f, content] of want) expect(have.get(f), f).toBe(content)
}

const commits = (l: ReturnType<typeof lab>) => Number(git(l.remote, 'rev-list', '--count', 'main').trim())

function leftovers(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      if (e.name === '.git') continue
      if (e.isDirectory()) walk(path.join(d, e.name))
      else if (e.name.endsWith('.obsctl-tmp')) out.push(path.join(d, e.name))
    }
  }
  if (existsSync(dir)) walk(dir)
  return out
}

/** The rerun's outcome: exit 0, the whole tree on the remote, a clean working copy; with `verify`, a third run finds it done. */
async function expectRecovered(l: ReturnType<typeof lab>, a: InitAnswers, maxCommits: number, verify = false): Promise<void> {
  const again = await bootstrap(l)
  expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0)
  expect(again.stdout).not.toContain('RENDER_CONFLICT')
  expectRemoteHolds(l, a)
  const count = commits(l)
  expect(count).toBeGreaterThanOrEqual(1)
  expect(count).toBeLessThanOrEqual(maxCommits)
  const work = path.join(l.dir, 'gitops')
  expect(execFileSync('git', ['status', '--porcelain'], {cwd: work, encoding: 'utf8'})).toBe('')
  expect(leftovers(work)).toEqual([])
  if (!verify) return
  const third = await bootstrap(l)
  expect(third.code, `${third.stdout}\n${third.stderr}`).toBe(0)
  expect(third.status, `${third.stdout}\n${third.stderr}`).toBe('unchanged')
  expect(commits(l)).toBe(count)
}

describe('render then bootstrap: Git, not the render manifest, decides what to commit', () => {
  it('`obsctl render` then `bootstrap --phase render` pushes the whole tree in one commit', async () => {
    const l = lab()
    const r = await obsctl(l, ['render'])
    expect(r.code, r.stderr).toBe(0)
    // the plan already says what the run will do: nothing to write, everything to commit
    const plan = await obsctl(l, ['bootstrap', '--phase', 'render', '--dry-run'])
    expect(plan.stdout).toContain(`no changes; ${N + 1} rendered file(s) not committed yet`)
    const b = await bootstrap(l)
    expect(b.code, b.stdout + b.stderr).toBe(0)
    expect(b.status).toBe('done')
    expect(JSON.parse(b.stdout).run.phases[0].tasks[0].summary).toMatch(new RegExp(`no file changes, commit [0-9a-f]{12} \\(${N + 1} files\\), pushed main`))
    expectRemoteHolds(l, A)
    expect(commits(l)).toBe(1)
  })

  it('--no-push commits locally and pushes nothing; the next bootstrap pushes although the journal says done', async () => {
    const l = lab()
    const local = await bootstrap(l, {}, ['--no-push'])
    expect(local.code, local.stdout + local.stderr).toBe(0)
    expect(
      git(path.join(l.dir, 'gitops', '.git'), 'ls-tree', '-r', '--name-only', 'HEAD')
        .split('\n')
        .filter(Boolean),
    ).toHaveLength(N + 1)
    expect(git(l.remote, 'for-each-ref').trim()).toBe('')
    const pushed = await bootstrap(l)
    expect(pushed.code, pushed.stdout + pushed.stderr).toBe(0)
    expect(pushed.status).toBe('done')
    expectRemoteHolds(l, A)
    expect(commits(l)).toBe(1)
  })

  it("someone else's commit on the remote that touches no rendered file: render is still done", async () => {
    const l = lab()
    expect((await bootstrap(l)).code).toBe(0)
    const other = path.join(l.dir, 'other')
    execFileSync('git', ['clone', '-q', l.remote, other])
    writeFileSync(path.join(other, 'README.md'), 'ours\n')
    const g = (...a: string[]) =>
      execFileSync('git', a, {
        cwd: other,
        env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'},
      })
    g('add', 'README.md')
    g('commit', '-q', '-m', 'a README')
    g('push', '-q', 'origin', 'main')
    const again = await bootstrap(l)
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.status).toBe('unchanged')
    expect(commits(l)).toBe(2)
  })

  it("a remote emptied behind the journal's back is pushed again on the next run", async () => {
    const l = lab()
    expect((await bootstrap(l)).code).toBe(0)
    rmSync(l.remote, {recursive: true})
    execFileSync('git', ['init', '--bare', '-q', '-b', 'main', l.remote])
    const again = await bootstrap(l)
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.status).toBe('done')
    expectRemoteHolds(l, A)
  })
})

/** Kill points of a first render into an empty remote: obsctl's own (OBSCTL_TEST_KILL_AT) and inside git (hooks). */
const FIRST: {name: string; env: Record<string, string>; verify?: boolean}[] = [
  // before the file writes (the pending manifest only), during, after; between add and commit; after the commit; after the push
  ...[
    'render:pending-manifest',
    `render:write:${Math.floor(N / 2)}`,
    `render:write:${N}`,
    'render:manifest',
    'render:staged',
    'render:committed',
    'render:pushed',
  ].map((p) => ({name: p, env: {OBSCTL_TEST_KILL_AT: p}, verify: p === 'render:committed'})),
  // inside git: commit aborted with the index staged; the remote updated but obsctl never told
  // (post-commit and pre-push leave the states of render:committed)
  ...['pre-commit', 'post-receive'].map((h) => ({name: `git ${h} hook`, env: {OBSCTL_KILL_HOOK: h}, verify: h === 'post-receive'})),
]

describe.concurrent('the render task SIGKILLed at every step of a first render; the rerun pushes the whole tree', () => {
  it.each(FIRST)('killed at $name', async ({env, verify}) => {
    const l = lab()
    const killed = await bootstrap(l, env)
    expect(killed.signal, `${killed.code} ${killed.stdout}\n${killed.stderr}`).toBe('SIGKILL')
    await orphansGone(l)
    await expectRecovered(l, A, 2, verify)
  })
})

/** A day-2 render (files changed and removed) killed part-way; the rerun with the same or yet another inventory. */
const CHANGE: {name: string; at: string; rerun: InitAnswers; want: InitAnswers}[] = [
  {name: 'mid-writes, rerun the same change', at: 'render:write:5', rerun: B, want: B},
  {name: 'mid-removals, rerun the same change', at: 'render:remove:3', rerun: B, want: B},
  {name: 'mid-writes, then the inventory changed back', at: 'render:write:5', rerun: A, want: A},
  {name: 'after the commit, then the inventory changed back', at: 'render:committed', rerun: A, want: A},
]

describe.concurrent('a changing render SIGKILLed part-way: files obsctl wrote are never a conflict', () => {
  it.each(CHANGE)('$name', async ({at, rerun, want}) => {
    const l = lab()
    expect((await bootstrap(l)).code).toBe(0)
    l.write(B)
    const killed = await bootstrap(l, {OBSCTL_TEST_KILL_AT: at})
    expect(killed.signal).toBe('SIGKILL')
    l.write(rerun)
    // the first render's commit, then at most two more
    await expectRecovered(l, want, 3, at === 'render:committed')
  })
})

describe('a git process killed together with obsctl', () => {
  it('a stale index.lock is named with the command that clears it', async () => {
    const l = lab()
    expect((await obsctl(l, ['render'])).code).toBe(0)
    execFileSync('git', ['init', '-q', '-b', 'main'], {cwd: path.join(l.dir, 'gitops')})
    writeFileSync(path.join(l.dir, 'gitops', '.git', 'index.lock'), '')
    const r = await bootstrap(l)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`remove the stale lock: rm ${path.join(l.dir, 'gitops', '.git', 'index.lock')}`)
  })
})

/** Every rendered file (and the manifest) in the working copy, whole, and no temporary file left. */
function expectWorkingCopyHolds(l: ReturnType<typeof lab>, a: InitAnswers): void {
  const work = path.join(l.dir, 'gitops')
  for (const [f, content] of expectedTree({...a, gitRemote: l.remote})) expect(readFileSync(path.join(work, f), 'utf8'), f).toBe(content)
  expect(leftovers(work)).toEqual([])
}

const head = (l: ReturnType<typeof lab>) => {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '-q', 'HEAD'], {cwd: path.join(l.dir, 'gitops'), encoding: 'utf8'}).trim()
  } catch {
    return undefined
  }
}

/**
 * `obsctl render --push` (not an engine run) gets SIGTERM or Ctrl-C's SIGINT at an exact point: obsctl's kill points
 * send the signal instead of SIGKILL (OBSCTL_TEST_KILL_SIGNAL), a git hook sends it from inside `git commit`.
 */
describe.concurrent('obsctl render --push stopped by SIGTERM / SIGINT: exit 130 at a safe point, the working copy intact, the rerun finishes', () => {
  it('SIGTERM while the files are written: they are all written whole, nothing committed', async () => {
    const l = lab()
    const r = await obsctl(l, ['render', '--push'], {OBSCTL_TEST_KILL_AT: `render:write:${Math.floor(N / 2)}`, OBSCTL_TEST_KILL_SIGNAL: 'SIGTERM'})
    expect(r.code, `${r.signal} ${r.stdout}\n${r.stderr}`).toBe(130)
    expect(r.stderr).toContain('Error: interrupted by SIGTERM after writing the files, before the commit;')
    expect(r.stderr).toContain('→ rerun the same obsctl render to finish')
    expectWorkingCopyHolds(l, A)
    expect(head(l)).toBeUndefined()
    expect(git(l.remote, 'for-each-ref').trim()).toBe('')
    const again = await obsctl(l, ['render', '--push'])
    expect(again.code, again.stderr).toBe(0)
    expectRemoteHolds(l, A)
    expect(commits(l)).toBe(1)
  })

  it('SIGINT after the commit (--json): the error object on stdout, the commit kept and not pushed; the rerun pushes it', async () => {
    const l = lab()
    const r = await obsctl(l, ['render', '--push', '--json'], {OBSCTL_TEST_KILL_AT: 'render:committed', OBSCTL_TEST_KILL_SIGNAL: 'SIGINT'})
    expect(r.code, `${r.signal} ${r.stdout}\n${r.stderr}`).toBe(130)
    const e = JSON.parse(r.stdout) as {error: {code: string; exitCode: number; message: string; hints: string[]}}
    expect(e.error).toMatchObject({code: 'INTERRUPTED', exitCode: 130, message: 'interrupted by SIGINT after the commit, before the push; nothing was pushed'})
    expect(e.error.hints[0]).toMatch(/^rerun the same obsctl render to finish/)
    const committed = head(l)
    expect(committed).toMatch(/^[0-9a-f]{40}$/)
    expect(execFileSync('git', ['status', '--porcelain'], {cwd: path.join(l.dir, 'gitops'), encoding: 'utf8'})).toBe('')
    expect(git(l.remote, 'for-each-ref').trim()).toBe('')
    const again = await obsctl(l, ['render', '--push'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('nothing to commit')
    expectRemoteHolds(l, A)
    expect(git(l.remote, 'rev-parse', 'main').trim()).toBe(committed)
  })

  it('SIGTERM from inside git commit (its pre-commit hook, which then fails it): reported as the interruption, no commit', async () => {
    const l = lab()
    const r = await obsctl(l, ['render', '--push'], {OBSCTL_KILL_HOOK: 'pre-commit', OBSCTL_KILL_HOOK_SIGNAL: 'TERM'})
    expect(r.code, `${r.signal} ${r.stdout}\n${r.stderr}`).toBe(130)
    expect(r.stderr).toContain('Error: interrupted by SIGTERM after writing the files, before the commit;')
    expect(r.stderr).not.toContain('git commit failed')
    expectWorkingCopyHolds(l, A)
    expect(head(l)).toBeUndefined()
    const again = await obsctl(l, ['render', '--push'])
    expect(again.code, again.stderr).toBe(0)
    expectRemoteHolds(l, A)
    expect(commits(l)).toBe(1)
  })
})

describe('plan of a rendered repository (src/lib/gitops/render-state.ts): read again only when it changed', () => {
  it('plan describes an unchanged repository again without running git; git init and a commit by hand, a file edited by hand each work it out again', async () => {
    const l = lab()
    const work = path.join(l.dir, 'gitops')
    expect((await obsctl(l, ['render'])).code).toBe(0)
    // every git obsctl runs, through a git of its own on PATH that logs its arguments and runs the real one
    const realGit = execFileSync('sh', ['-c', 'command -v git'], {encoding: 'utf8'}).trim()
    const bin = path.join(l.dir, 'bin')
    const log = path.join(l.dir, 'git.log')
    mkdirSync(bin)
    writeFileSync(path.join(bin, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realGit}' "$@"\n`)
    chmodSync(path.join(bin, 'git'), 0o755)
    const described = async (): Promise<{text?: string; git: string[]}> => {
      rmSync(log, {force: true})
      const r = await obsctl(l, ['plan', '--phase', 'render'], {PATH: `${bin}:${process.env.PATH}`})
      expect(r.code, r.stderr).toBe(0)
      return {text: /^render +platform +pending +(.*)$/m.exec(r.stdout)?.[1], git: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []}
    }
    const byHand = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.lab', ...args], {cwd: work})

    const first = await described()
    expect(first.text).toBe(`render ${work}: no changes; ${N + 1} rendered file(s) not committed yet`)
    expect(first.git).not.toEqual([])
    expect(await described()).toEqual({text: first.text, git: []})

    byHand('init', '-q', '-b', 'main')
    byHand('add', '-A')
    byHand('commit', '-qm', 'by hand')
    const committed = await described()
    expect(committed.text).toBe(`render ${work}: no changes`)
    expect(committed.git).toEqual(expect.arrayContaining([expect.stringMatching(/^status /)]))
    expect(await described()).toEqual({text: committed.text, git: []})

    // git rewrites its index when a file is as new as the index ("racy git"), which changes what every plan's entry was
    // worked out from: every file an hour old and the index refreshed once (git status), so that no git status below
    // rewrites it
    const past = new Date(Date.now() - 3_600_000)
    for (const f of readdirSync(work, {recursive: true}).map(String))
      if (f !== '.git' && !f.startsWith(`.git${path.sep}`)) utimesSync(path.join(work, f), past, past)
    byHand('status', '--porcelain')
    expect((await described()).text).toBe(committed.text)
    expect(await described()).toEqual({text: committed.text, git: []})

    // a second inventory beside the first, rendering into the same folder with another domain: each keeps what it
    // worked out (the entry was one per folder, so each plan of one worked it out again after a plan of the other)
    const other = path.join(l.dir, 'other.yaml')
    writeFileSync(other, readFileSync(path.join(l.dir, 'obsctl.yaml'), 'utf8').replace(/^domain: .*$/m, 'domain: other.example.lab'))
    rmSync(log, {force: true})
    const o = await obsctl(l, ['plan', '--phase', 'render', '-c', other], {PATH: `${bin}:${process.env.PATH}`})
    expect(o.code, o.stderr).toBe(0)
    expect(o.stdout).toMatch(/would add \d+, change [1-9]\d*, remove \d+ file/)
    expect(readFileSync(log, 'utf8')).toMatch(/^status /m)
    expect(await described()).toEqual({text: committed.text, git: []})

    // the same size and a later mtime: a stamp of its own
    const file = path.join(work, 'argocd', 'root-app.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^# /, '#!'))
    const edited = await described()
    expect(edited.text).toBe(
      `render ${work}: no changes; 1 rendered file(s) not committed yet; 1 file(s) edited by hand would block it (obsctl render --force discards the edits)`,
    )
    expect(edited.git).not.toEqual([])
    expect(await described()).toEqual({text: edited.text, git: []})

    expect(await described()).toEqual({text: edited.text, git: []})
  })
})
