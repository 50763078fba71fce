// A command's output to a pipe, a file or /dev/null without Node's stream objects (src/lib/stdio.ts): the same bytes
// as through process.stdout and process.stderr, without loading node:net, node:tty or the stream modules; a reader
// gone (EPIPE) ends the output quietly; a pipe another process made non-blocking (EAGAIN while full) loses nothing.
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, constants, openSync, readFileSync, readSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, ROOT, exampleDir, requireBuild, runProcess} from './helpers.js'

let dir: string
let env: NodeJS.ProcessEnv
/** at exit, the builtin modules the run loaded, written to a file (a report on stderr would make the stream) */
let report: string
let preload: string
/** a preload that reads both streams first: the run as it was before src/lib/stdio.ts */
let streamsFirst: string

beforeAll(async () => {
  requireBuild()
  dir = await exampleDir('obsctl-stdio-')
  report = path.join(dir, 'report.json')
  preload = path.join(dir, 'builtins.cjs')
  writeFileSync(
    preload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.STDIO_REPORT, JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)))))\n",
  )
  streamsFirst = path.join(dir, 'streams-first.cjs')
  writeFileSync(streamsFirst, 'process.stdout; process.stderr\n')
  env = {...process.env, CI: '1', NO_COLOR: '1', XDG_CACHE_HOME: path.join(dir, 'cache'), OBSCTL_CONFIG: path.join(dir, 'obsctl.yaml'), STDIO_REPORT: report}
})
afterAll(() => {
  spawnSync('rm', ['-rf', dir])
})

const STREAM_MODULES = ['net', 'tty', 'stream', 'internal/fs/sync_write_stream']
const loaded = (): string[] => JSON.parse(readFileSync(report, 'utf8')) as string[]

describe('stdout and stderr to a pipe, a file or /dev/null (src/lib/stdio.ts)', () => {
  it('plan, config validate and state show print the same bytes as through the streams, which are never made', async () => {
    for (const args of [['plan'], ['config', 'validate'], ['state', 'show']]) {
      const before = await runProcess(process.execPath, ['--require', streamsFirst, BIN, ...args], {env, cwd: dir})
      expect(before.status, before.stderr).toBe(0)
      const now = await runProcess(process.execPath, ['--require', preload, BIN, ...args], {env, cwd: dir})
      expect(now.status, now.stderr).toBe(0)
      expect(now.stdout, args.join(' ')).toBe(before.stdout)
      expect(now.stderr).toBe(before.stderr)
      expect(now.stdout.length).toBeGreaterThan(100)
      expect(loaded().filter((m) => STREAM_MODULES.includes(m))).toEqual([])
    }
    // a warning goes to stderr the same way, and an error (exit 2, file:line) too
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, readFileSync(path.join(dir, 'obsctl.yaml'), 'utf8').replace(/^domain: .*$/m, 'domain: 12'))
    const refused = await runProcess(process.execPath, ['--require', preload, BIN, 'config', 'validate', '-c', bad], {env, cwd: dir})
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/bad\.yaml:\d+/)
    const refusedBefore = await runProcess(process.execPath, ['--require', streamsFirst, BIN, 'config', 'validate', '-c', bad], {env, cwd: dir})
    expect(refused.stderr).toBe(refusedBefore.stderr)
  })

  it('a file and /dev/null: the same bytes in the file; /dev/null is known for no terminal without node:tty', () => {
    const out = path.join(dir, 'plan.txt')
    const fd = openSync(out, 'w')
    try {
      const r = spawnSync(process.execPath, ['--require', preload, BIN, 'plan'], {env, cwd: dir, stdio: ['ignore', fd, 'pipe']})
      expect(r.status, String(r.stderr)).toBe(0)
    } finally {
      closeSync(fd)
    }
    const piped = spawnSync(process.execPath, [BIN, 'plan'], {env, cwd: dir, encoding: 'utf8'})
    expect(readFileSync(out, 'utf8')).toBe(piped.stdout)
    expect(loaded().filter((m) => STREAM_MODULES.includes(m))).toEqual([])

    if (process.platform !== 'linux') return
    const devNull = spawnSync(process.execPath, ['--require', preload, BIN, 'plan'], {env, cwd: dir, stdio: ['ignore', 'ignore', 'ignore']})
    expect(devNull.status).toBe(0)
    expect(loaded().filter((m) => STREAM_MODULES.includes(m))).toEqual([])
  })

  it('a full disk (/dev/full) is an error naming it, not a report cut short with exit 0', () => {
    if (process.platform !== 'linux') return
    const fd = openSync('/dev/full', 'w')
    try {
      const r = spawnSync(process.execPath, [BIN, 'plan'], {env, cwd: dir, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8'})
      expect(r.status).not.toBe(0)
      expect(r.stderr).toMatch(/no space left/i)
    } finally {
      closeSync(fd)
    }
  })

  it('a reader gone before anything is written (`obsctl plan | true`): exit 0, nothing on stderr', async () => {
    const child = spawn(process.execPath, [BIN, 'plan'], {env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
    // closed before the child has even started Node: every write of its report meets EPIPE
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stderr).toBe('')
  })

  it('writeFully: a non-blocking pipe that fills (EAGAIN) gets every byte, in order, once the reader reads', async () => {
    const fifo = path.join(dir, 'fifo')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    // the read end, open (so the writer's non-blocking open succeeds) and not read yet: the pipe fills
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
    // ~2 MB: more than a pipe holds (64 KiB by default, 1 MiB at most unless raised), so the writer meets a full pipe
    const data = Array.from({length: 60_000}, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`).join('')
    // the writer: src/lib/stdio.ts writeFully on a non-blocking write end, saying on stderr when a write first met
    // EAGAIN (fs.writeSync counted, as the module's named import sees it)
    const writer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          "import fs from 'node:fs'",
          "import {syncBuiltinESMExports} from 'node:module'",
          'const real = fs.writeSync',
          'let said = false',
          "fs.writeSync = (...a) => { try { return real(...a) } catch (e) { if (e.code === 'EAGAIN' && !said) { said = true; real(2, 'EAGAIN\\n') } throw e } }",
          'syncBuiltinESMExports()',
          `const {writeFully} = await import(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'stdio.js'))})`,
          `const fd = fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)`,
          `writeFully(fd, fs.readFileSync(0, 'utf8'))`,
          'fs.closeSync(fd)',
        ].join('\n'),
      ],
      {stdio: ['pipe', 'ignore', 'pipe']},
    )
    writer.stdin.end(data)
    // read only once the writer has met a full pipe
    await new Promise<void>((resolve, reject) => {
      let err = ''
      writer.stderr.on('data', (d) => {
        err += d
        if (err.includes('EAGAIN')) resolve()
      })
      writer.on('close', (code) => reject(new Error(`the writer exited (${code}) without meeting a full pipe: ${err}`)))
    })
    const closed = new Promise<number | null>((resolve) => writer.on('close', resolve))
    const chunks: Buffer[] = []
    const buf = Buffer.alloc(65536)
    for (;;) {
      let n: number
      try {
        n = readSync(reader, buf, 0, buf.length, null)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
        // nothing to read now: let the writer run (an event turn), then read again
        await new Promise((resolve) => setImmediate(resolve))
        continue
      }
      if (n === 0) break // the writer closed its end and everything was read
      chunks.push(Buffer.from(buf.subarray(0, n)))
    }
    closeSync(reader)
    expect(await closed).toBe(0)
    expect(Buffer.concat(chunks).toString('utf8')).toBe(data)
  })
})
