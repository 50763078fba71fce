import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Marked, type Token} from 'marked'

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const BIN = path.join(ROOT, 'bin/run.js')

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Run the built CLI (bin/run.js) as a user would; CI is set so nothing ever prompts. Asynchronous, never
 * spawnSync: a worker blocked in a synchronous child process cannot answer its own test servers, nor
 * vitest's runner (whose calls time out after 60 s on a loaded machine and fail the run).
 */
export function obsctl(
  args: string[],
  opts: {cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; signalWhen?: {when: RegExp; signal: NodeJS.Signals}} = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return runProcess(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: env as NodeJS.ProcessEnv,
    input: opts.input,
    timeoutMs: opts.timeoutMs,
    signalWhen: opts.signalWhen,
  })
}

/** Any child process, asynchronously (see obsctl): exit status (null when killed), stdout and stderr. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: {
    cwd?: string
    env?: NodeJS.ProcessEnv
    input?: string
    timeoutMs?: number
    uid?: number
    gid?: number
    /** send `signal` once, as soon as stdout or stderr (together) match `when`: a stop placed on what the process printed */
    signalWhen?: {when: RegExp; signal: NodeJS.Signals}
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : {uid: opts.uid, gid: opts.gid ?? opts.uid}),
    })
    let stdout = ''
    let stderr = ''
    let both = ''
    let signalled = false
    const seen = (d: string) => {
      if (!opts.signalWhen || signalled) return
      both += d
      if (opts.signalWhen.when.test(both)) {
        signalled = true
        child.kill(opts.signalWhen.signal)
      }
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), seen(d)))
    child.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), seen(d)))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({status: signal ? null : code, stdout, stderr})
    })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/**
 * The built CLI, asynchronously: for tests whose peers (test servers, fakes) live in this process,
 * which spawnSync would block from answering.
 */
export function obsctlAsync(args: string[], opts: {cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number} = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = {...process.env, CI: '1', OBSCTL_CONFIG: undefined, NO_COLOR: '1', ...opts.env}
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, timeout: opts.timeoutMs ?? 240_000},
      (err, stdout, stderr) =>
        resolve({status: err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0, stdout, stderr}),
    )
  })
}

/**
 * A committed Git working copy that tests copy once per case, made cheap to copy: its objects packed and no sample
 * hooks, ~150 entries fewer (creating them is most of a copy's cost: ~0.2 s of system CPU for ~400 on ext4). The
 * commits are the same, and git add/commit in a copy still write loose objects, the index and the ref.
 */
export function packForCopies(gitDir: string): void {
  execFileSync('git', ['-C', gitDir, 'gc', '-q', '--prune=now'])
  rmSync(path.join(gitDir, '.git', 'hooks'), {recursive: true, force: true})
}

/**
 * DIR/home as a user's home for the example inventory: the SSH key it names (ssh.identityFile, else
 * ~/.ssh/id_ed25519) and an empty known_hosts. Returns the folder.
 */
export function userHome(dir: string, comment: string): string {
  const home = path.join(dir, 'home')
  mkdirSync(path.join(home, '.ssh'), {recursive: true})
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path.join(home, '.ssh', 'id_ed25519')])
  writeFileSync(path.join(home, '.ssh', 'known_hosts'), '')
  return home
}

export function tmpDir(prefix = 'obsctl-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

/** A new temporary folder holding the example inventory (`obsctl init --example`'s) as obsctl.yaml. */
export async function exampleDir(prefix: string): Promise<string> {
  // loaded here, not at the top: most files that import these helpers never read an inventory
  const {EXAMPLE_ANSWERS, renderInventoryYaml} = await import('../../src/lib/config/index.js')
  const dir = tmpDir(prefix)
  writeFileSync(path.join(dir, 'obsctl.yaml'), renderInventoryYaml(EXAMPLE_ANSWERS))
  return dir
}

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'oclif.manifest.json')) || !existsSync(path.join(ROOT, 'dist/commands'))) {
    throw new Error('the CLI is not built: run `npm run build` first (npm test does)')
  }
}

/**
 * A lazily loaded chunk of the built bundle by its name (dist/chunks/NAME-HASH.js, bin/bundle.mjs): its file, exactly
 * one, and the sources its source map names (what was bundled into it).
 */
export function bundleChunk(name: string): {file: string; sources: string[]} {
  requireBuild()
  const chunks = path.join(ROOT, 'dist', 'chunks')
  const files = readdirSync(chunks).filter((f) => new RegExp(`^${name}-\\w+\\.js$`).test(f))
  if (files.length !== 1) throw new Error(`dist/chunks holds ${files.length} ${name}-*.js chunks, not one: npm run build`)
  const file = path.join(chunks, files[0]!)
  return {file, sources: (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as {sources: string[]}).sources}
}

/**
 * The project's hand-written Markdown, as paths from ROOT: README, CONTRIBUTING, docs/*.md, and with `support`
 * the notes in test/support/. `generated` (docs/commands.md, made from the commands' own help) is left out
 * unless asked for.
 */
export function markdownPages(o: {support?: boolean; generated?: boolean} = {}): string[] {
  const md = (dir: string) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `${dir}/${f}`)
  return [
    'README.md',
    'CONTRIBUTING.md',
    ...md('docs').filter((p) => o.generated || p !== 'docs/commands.md'),
    ...(o.support ? md('test/support') : []),
  ].filter((p) => existsSync(path.join(ROOT, p)))
}

/**
 * A Markdown text's tokens as a reader sees it (marked's lexer, GitHub-flavoured): every token, nested ones
 * too, in document order. Code blocks and inline code are tokens of their own, so nothing in them is taken
 * for a link or a heading, and nothing outside them for code.
 */
export function walkMarkdown(text: string, visit: (t: Token) => void): void {
  const marked = new Marked()
  marked.walkTokens(marked.lexer(text), visit)
}

/** The text of inline tokens as GitHub renders it: inline code and emphasis without their marks. */
export function plainText(tokens: Token[]): string {
  return tokens.map((t) => ('tokens' in t && t.tokens ? plainText(t.tokens) : 'text' in t ? String(t.text) : '')).join('')
}

/**
 * One shell line as the commands its operators join (`a | b && c; d` is four), each as its words, quotes
 * removed. A redirection (`> file`, `2>&1`) and a `# comment` are left out. An unclosed quote throws.
 */
export function shellSegments(line: string): string[][] {
  const segments: string[][] = [[]]
  let cur: string | undefined
  const end = () => {
    if (cur !== undefined) segments.at(-1)!.push(cur)
    cur = undefined
  }
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (ch === "'" || ch === '"') {
      const close = line.indexOf(ch, i + 1)
      if (close < 0) throw new Error(`unclosed quote in: ${line}`)
      cur = (cur ?? '') + line.slice(i + 1, close)
      i = close
    } else if (/\s/.test(ch)) end()
    else if (ch === '#' && cur === undefined) break
    else if (ch === '>' || ch === '<') {
      if (cur !== undefined && /^\d+$/.test(cur)) cur = undefined // 2>
      end()
      while (line[i + 1] === '>' || line[i + 1] === '&') i++
      if (/\d/.test(line[i + 1] ?? '') && line[i] === '&')
        i++ // >&2
      else {
        // the target: skip blanks, then one word
        while (/\s/.test(line[i + 1] ?? '')) i++
        while (i + 1 < line.length && !/[\s|;&<>]/.test(line[i + 1]!)) i++
      }
    } else if (ch === '|' || ch === ';' || ch === '&') {
      end()
      if (line[i + 1] === ch && ch !== ';') i++ // || &&
      segments.push([])
    } else cur = (cur ?? '') + ch
  }
  end()
  return segments.filter((s) => s.length > 0)
}

/** The words of a shell line's first command (shellSegments): up to its first `|`, `>`, `;`, `&&` or comment. */
export function shellWords(line: string): string[] {
  return shellSegments(line)[0] ?? []
}
