/**
 * Hints that print a command for the user to paste name paths and values as one shell word each: a folder with a
 * space, a quote or a `$` in its name gives a command that, pasted into bash, reaches exactly that folder (and runs
 * nothing of its name). Each hint comes from the code that makes it, in process; bash parses the pasted command with
 * the commands replaced by functions that print their arguments. Ordinary values stay bare (shWord).
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {shQuote, shWord} from '../../src/lib/shell-quote.js'
import {must, push} from '../../src/lib/gitops/git.js'
import {MANIFEST_FILE, readManifest} from '../../src/lib/gitops/render.js'
import {rollback} from '../../src/lib/gitops/rollback.js'
import {hostKeyChangedError, unknownKeyError} from '../../src/lib/ssh/known-hosts.js'
import {assertFolderPath} from '../../src/lib/fs.js'
import {acquireFileLock} from '../../src/lib/file-lock.js'
import {parseInventory} from '../../src/lib/config/load.js'
import {isObsctlError, type ObsctlError} from '../../src/lib/errors.js'
import {exampleInventory} from '../support/inventory.js'

const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-paste-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
/** a folder name that a shell would split, expand and unquote */
const LAB = path.join(tmp, `my lab's $HOME \`id\``)
mkdirSync(LAB)

const COMMANDS = ['git', 'rm', 'mv', 'ssh-keygen', 'ssh-keyscan', 'sudo']
/** COMMAND as bash runs it pasted: each command a function printing its name and arguments, NUL after each */
function pasted(command: string): string[] {
  const fns = COMMANDS.map((c) => `${c}() { printf '%s\\0' ${c} "$@"; }`).join('\n')
  return execFileSync('bash', ['-c', `${fns}\n${command}`], {encoding: 'utf8', cwd: tmp})
    .split('\0')
    .slice(0, -1)
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<ObsctlError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (isObsctlError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

/** the command after `: ` (or inside `(…)`) in the one hint that holds `start` */
function commandIn(texts: string[], start: string): string {
  const hint = texts.find((h) => h.includes(start))
  expect(hint, `${start} in ${JSON.stringify(texts)}`).toBeDefined()
  const from = hint!.slice(hint!.indexOf(start))
  return from.replace(/\)( and rerun)?$/, '')
}

const gitEnv = {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}
const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, {cwd, env: gitEnv, encoding: 'utf8'})

describe('shWord', () => {
  it('leaves a plain word bare and quotes anything a shell would read otherwise', () => {
    for (const w of ['main', '/srv/lab/gitops', 'root@192.0.2.7', 'fd00::1', 'cluster-01', 'a=b,c:d%e+f']) expect(shWord(w)).toBe(w)
    for (const w of ['my lab', "it's", '$HOME', '`id`', 'a;b', '~/x', '[::1]:22', '*', '']) expect(shWord(w)).toBe(shQuote(w))
    expect(pasted(`printf '%s\\0' ${[`my lab's $HOME`, '', 'x'].map(shWord).join(' ')}`)).toEqual([`my lab's $HOME`, '', 'x'])
  })
})

describe('hints with a command to paste reach the folder they name', () => {
  it('render --push rejected: git -C DIR pull --rebase origin BRANCH', async () => {
    const remote = path.join(LAB, 'remote.git')
    sh(tmp, 'init', '-q', '--bare', '-b', 'main', remote)
    const other = path.join(LAB, 'other')
    sh(tmp, 'clone', '-q', remote, other)
    writeFileSync(path.join(other, 'a'), 'a\n')
    sh(other, 'add', 'a')
    sh(other, 'commit', '-qm', 'theirs')
    sh(other, 'push', '-q', 'origin', 'HEAD:main')
    const dir = path.join(LAB, 'gitops')
    sh(tmp, 'init', '-q', '-b', 'main', dir)
    sh(dir, 'remote', 'add', 'origin', remote)
    writeFileSync(path.join(dir, 'b'), 'b\n')
    sh(dir, 'add', 'b')
    sh(dir, 'commit', '-qm', 'ours')
    const e = await caught(push(dir, 'main'))
    expect(e.code).toBe('PUSH_REJECTED')
    expect(pasted(commandIn(e.hints, 'git -C'))).toEqual(['git', '-C', dir, 'pull', '--rebase', 'origin', 'main'])
  })

  it('a stale index.lock: rm PATH, and the git command that failed, in its folder', async () => {
    const dir = path.join(LAB, 'locked')
    sh(tmp, 'init', '-q', '-b', 'main', dir)
    writeFileSync(path.join(dir, 'f'), 'f\n')
    writeFileSync(path.join(dir, '.git', 'index.lock'), '')
    const e = await caught(must(dir, ['add', '--', 'f'], 'git add'))
    expect(pasted(commandIn([e.message], 'rm '))).toEqual(['rm', path.join(dir, '.git', 'index.lock')])
    expect(pasted(commandIn(e.hints, 'git '))).toEqual(['git', '-C', dir, 'add', '--', 'f'])
  })

  it('an unreadable render manifest: git -C DIR checkout / log', async () => {
    const dir = path.join(LAB, 'rendered')
    mkdirSync(dir)
    writeFileSync(path.join(dir, MANIFEST_FILE), 'not json')
    const e = await caught(() => readManifest(dir))
    expect(pasted(commandIn(e.hints, 'git -C'))).toEqual(['git', '-C', dir, 'checkout', '--', MANIFEST_FILE])
    writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({version: 1, files: {'../x': 'h'}}))
    const outside = await caught(() => readManifest(dir))
    expect(pasted(commandIn(outside.hints, 'git -C'))).toEqual(['git', '-C', dir, 'log', '-p', '--', MANIFEST_FILE])
  })

  it('rollback: git -C DIR log / status / reset', async () => {
    const file = path.join(LAB, 'obsctl.yaml')
    const inv = parseInventory(exampleInventory(), file)
    const e = await caught(rollback(inv, {to: '-x'}))
    expect(pasted(commandIn(e.hints, 'git -C'))).toEqual(['git', '-C', path.join(LAB, 'gitops'), 'log', '--oneline'])
  })

  it('known_hosts: ssh-keygen -R … -f FILE, ssh-keyscan … >> FILE', () => {
    const file = path.join(LAB, 'known_hosts')
    const changed = hostKeyChangedError(file, '192.0.2.7', 2222, {fingerprint: 'SHA256:x', known: ['SHA256:y']})
    expect(pasted(commandIn(changed.hints, 'ssh-keygen -R'))).toEqual(['ssh-keygen', '-R', '[192.0.2.7]:2222', '-f', file])
    const unknown = unknownKeyError(file, '192.0.2.7', 2222, 'SHA256:x', 'ssh-ed25519')
    pasted(commandIn(unknown.hints, 'ssh-keyscan'))
    expect(readFileSync(file, 'utf8').split('\0').slice(0, -1)).toEqual(['ssh-keyscan', '-p', '2222', '-t', 'ssh-ed25519', '192.0.2.7'])
  })

  it('.obsctl is a file: mv P P.old', async () => {
    const lab = path.join(LAB, 'inv')
    mkdirSync(lab)
    writeFileSync(path.join(lab, '.obsctl'), '')
    const e = await caught(() => assertFolderPath(path.join(lab, '.obsctl', 'logs')))
    const p = path.join(lab, '.obsctl')
    expect(pasted(commandIn(e.hints, 'mv '))).toEqual(['mv', p, `${p}.old`])
  })

  it('a file lock left behind: rm LOCK LOCK.takeover-*', async () => {
    const lock = path.join(LAB, 'config.lock')
    const release = await acquireFileLock(lock)
    try {
      const e = await caught(acquireFileLock(lock, {timeoutMs: 50}))
      expect(e.code).toBe('FILE_LOCKED')
      expect(pasted(commandIn(e.hints, 'rm '))).toEqual(['rm', lock, `${lock}.takeover-*`])
    } finally {
      release()
    }
  })
})
