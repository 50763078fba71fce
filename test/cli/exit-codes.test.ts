/**
 * The exit-code rule at a real terminal: a declined confirmation exits 1 ("declined; nothing was
 * changed"), Ctrl-C at a prompt exits 130. The CLI runs under `script` (util-linux), which gives it a
 * pseudo-terminal; keys are typed only once the question is on the screen (no timing guesses).
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, exampleDir, obsctl, requireBuild} from './helpers.js'

let dir: string

/** Run obsctl in a pty; when `question` appears on the screen, type `keys`. Resolves with the exit code and the screen. */
function atTerminal(args: string[], question: string, keys: string): Promise<{code: number | null; screen: string}> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', TERM: 'xterm'}
  delete env.CI
  for (const k of Object.keys(env)) if (k.startsWith('OBSCTL_')) delete env[k]
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', cmd, '/dev/null'], {cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe']})
  let screen = ''
  let typed = false
  return new Promise((resolve, reject) => {
    // a generous deadline for a loaded machine; the test fails (never hangs) if the question never comes
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no "${question}" within 90s; screen:\n${screen}`))
    }, 90_000)
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString()
      if (!typed && screen.includes(question)) {
        typed = true
        child.stdin.write(keys)
      }
    })
    // 'close': the whole screen is read (at 'exit' the child's stdout may still hold output)
    child.on('close', (code) => {
      clearTimeout(deadline)
      resolve({code, screen})
    })
  })
}

describe('exit codes at a terminal', () => {
  beforeAll(async () => {
    requireBuild()
    dir = await exampleDir('obsctl-exit-codes-')
  })
  afterAll(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('state reset: "no" exits 1 and resets nothing', async () => {
    const state = path.join(dir, '.obsctl/state.json')
    const before = existsSync(state) ? readFileSync(state, 'utf8') : undefined
    const r = await atTerminal(['state', 'reset'], 'Forget the whole run state?', 'n\r')
    expect(r.code, r.screen).toBe(1)
    expect(r.screen).toContain('declined; nothing was changed')
    expect(r.screen).not.toMatch(/task record\(s\) removed/)
    expect(existsSync(state) ? readFileSync(state, 'utf8') : undefined).toBe(before)
  })

  it('state reset: Ctrl-C at the question exits 130', async () => {
    const r = await atTerminal(['state', 'reset'], 'Forget the whole run state?', '\u0003')
    expect(r.code, r.screen).toBe(130)
    expect(r.screen).toContain('interrupted at a prompt (Ctrl-C)')
    expect(r.screen).not.toContain('ExitPromptError')
  })

  it('bootstrap: "no" exits 1; Ctrl-C exits 130; neither touches anything', async () => {
    const no = await atTerminal(['bootstrap', '--phase', 'buckets'], 'Go ahead?', 'n\r')
    expect(no.code, no.screen).toBe(1)
    expect(no.screen).toContain('declined; nothing was changed')
    const ctrlC = await atTerminal(['bootstrap', '--phase', 'buckets'], 'Go ahead?', '\u0003')
    expect(ctrlC.code, ctrlC.screen).toBe(130)
    expect(ctrlC.screen).toContain('interrupted at a prompt (Ctrl-C)')
    // nothing ran: no task was journalled
    const state = path.join(dir, '.obsctl/state.json')
    if (existsSync(state)) expect(JSON.parse(readFileSync(state, 'utf8')).tasks ?? {}).toEqual({})
  })

  it('Ctrl-C at a question asked while a run prepares a phase (the S3 keys) exits 130 and nothing is done', async () => {
    const r = await atTerminal(['bootstrap', '--phase', 'buckets', '--yes'], 'S3 access key (not set in $OBSCTL_S3_ACCESS_KEY)', '\u0003')
    expect(r.code, r.screen).toBe(130)
    expect(r.screen).toContain('interrupted by Ctrl-C at a prompt')
    const state = path.join(dir, '.obsctl/state.json')
    const tasks = existsSync(state) ? Object.values(JSON.parse(readFileSync(state, 'utf8')).tasks ?? {}) : []
    expect(tasks.filter((t) => (t as {status: string}).status === 'done')).toEqual([])
  })
})

describe('SIGTERM (a service manager, a CI runner, kill) in a command without a run of its own', () => {
  let dir2: string
  beforeAll(async () => {
    requireBuild()
    dir2 = await exampleDir('obsctl-sigterm-')
    // every check through an API server on a closed loopback port: it fails and is retried until stopped
    writeFileSync(
      path.join(dir2, 'closed.kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\n' +
        'contexts: [{name: cluster-01-context, context: {cluster: c, user: u}}]\ncurrent-context: cluster-01-context\n',
    )
  })
  afterAll(() => {
    if (dir2) rmSync(dir2, {recursive: true, force: true})
  })

  /** obsctl ARGS, sent SIGTERM once `ready` shows in its output: the exit status (null if the signal ended it) and the output. */
  async function terminatedWhen(args: string[], ready: RegExp): Promise<{status: number | null; out: string}> {
    const r = await obsctl(args, {cwd: dir2, signalWhen: {when: ready, signal: 'SIGTERM'}, timeoutMs: 90_000})
    return {status: r.status, out: r.stdout + r.stderr}
  }

  it('validate --wait: exit 130 and said in words, as Ctrl-C (Node alone ended it silently, 143)', async () => {
    const r = await terminatedWhen(
      ['validate', 'argocd', '--via-api-server', '--kubeconfig', 'closed.kubeconfig', '--wait', '--timeout', '600'],
      /waiting for: argocd/,
    )
    expect(r.status, r.out).toBe(130)
    expect(r.out).toMatch(/^Error: interrupted by SIGTERM before `obsctl validate` finished: it only reads, nothing was changed$/m)
    expect(r.out).toMatch(/^ {2}→ run the same command again for its result$/m)
  })

  it('status --watch, which stops on Ctrl-C at a point of its own, ends on SIGTERM the same way', async () => {
    const r = await terminatedWhen(['status', '--via-api-server', '--kubeconfig', 'closed.kubeconfig', '--watch', '--interval', '60', '--json'], /"clusters"/)
    expect(r.status, r.out).toBe(130)
    expect(r.out).toMatch(/"code": ?"INTERRUPTED"/)
    expect(r.out).toContain('interrupted by SIGTERM before `obsctl status` finished')
  })
})
