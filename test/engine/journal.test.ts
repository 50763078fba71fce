/**
 * The journal can always be recovered: an unusable state.json (truncated, foreign, wrong shape) is a
 * clear exit-2 error whose hint (`obsctl state reset --yes`) works — it moves the bad file aside —;
 * one lock per real inventory (two symlinks share it); a stale lock is taken over by exactly one of
 * several starters. Real processes: the built CLI and the built engine (npm run build first).
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {loadInventory} from '../../src/lib/config/load.js'
import {resetState} from '../../src/lib/engine/index.js'
import {obsctl, requireBuild} from '../cli/helpers.js'
import {ROOT} from './helpers.js'
import {waitForValue} from '../support/wait.js'

const HOLD = path.join(ROOT, 'test/engine/fixtures/hold-lock.mjs')
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
beforeAll(() => requireBuild())

function inventory(): {dir: string; file: string; state: string} {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-journal-'))
  dirs.push(dir)
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS))
  mkdirSync(path.join(dir, '.obsctl'), {mode: 0o700})
  return {dir, file, state: path.join(dir, '.obsctl', 'state.json')}
}

/** TEXT as a regular expression matching it literally */
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const record = (phase: string, target: string) => ({
  phase,
  target,
  status: 'done',
  fingerprint: 'f',
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
  summary: 'ok',
})

describe('an unusable journal', () => {
  const cases: [string, string, RegExp][] = [
    ['truncated (a kill in the middle of a foreign write)', '{"version": 1, "inventory": "/x", "tas', /not valid JSON/],
    ['foreign JSON (another tool’s file)', JSON.stringify({name: 'some-package', version: '1.0.0', dependencies: {}}), /version: /],
    [
      'tasks that are not task objects',
      JSON.stringify({version: 1, inventory: '/x', updatedAt: '2026-01-01T00:00:00.000Z', tasks: {'nodes/a': 42, 'nodes/b': record('nodes', 'b')}}),
      /tasks\["nodes\/a"\]: /,
    ],
    [
      'a task with an unknown status',
      JSON.stringify({version: 1, tasks: {'nodes/a': {...record('nodes', 'a'), status: 'great'}}}),
      /tasks\["nodes\/a"\]\.status: /,
    ],
    ['a record filed under another key', JSON.stringify({version: 1, tasks: {'nodes/a': record('nodes', 'b')}}), /holds the record of nodes\/b/],
  ]
  for (const [what, content, why] of cases) {
    it(`${what}: every reader exits 2 naming the file, what is wrong and the reset; the reset moves it aside and works`, async () => {
      const t = inventory()
      writeFileSync(t.state, content, {mode: 0o600})
      for (const args of [['state', 'show'], ['plan']]) {
        const r = await obsctl([...args, '-c', t.file])
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2)
        expect(r.stderr).toContain(`${t.state} is not a usable obsctl journal`)
        expect(r.stderr).toMatch(why)
        expect(r.stderr).toContain('obsctl state reset --yes')
        expect(r.stderr).not.toContain('undefined')
      }
      const reset = await obsctl(['state', 'reset', '--yes', '-c', t.file])
      expect(reset.status, reset.stderr).toBe(0)
      const bad = readdirSync(path.dirname(t.state)).filter((f) => f.startsWith('state.json.bad-'))
      expect(bad).toHaveLength(1)
      expect(bad[0]).toMatch(/^state\.json\.bad-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/)
      const moved = path.join(path.dirname(t.state), bad[0]!)
      // said once, with why: the result line (not a notice repeating it)
      expect(reset.stdout).toMatch(
        new RegExp(`^${re(t.state)} is not a usable obsctl journal: .+; moved it aside to ${re(moved)}; ${re(t.state)} starts empty\n$`),
      )
      expect(reset.stdout).toMatch(why)
      expect(reset.stderr).not.toContain(moved)
      expect(readFileSync(moved, 'utf8')).toBe(content) // kept as it was, for a post-mortem
      expect(statSync(moved).mode & 0o777).toBe(0o600)
      const fresh = JSON.parse(readFileSync(t.state, 'utf8'))
      expect(fresh).toMatchObject({version: 1, tasks: {}})
      expect(statSync(t.state).mode & 0o777).toBe(0o600)
      const show = await obsctl(['state', 'show', '-c', t.file, '--json'])
      expect(show.status, show.stderr).toBe(0)
      expect(JSON.parse(show.stdout).tasks).toEqual([])
    })
  }

  it('state reset tells the move once, in its result (the --json object: movedAside and problem), not also as a notice', () => {
    const t = inventory()
    writeFileSync(t.state, '{"version": 1, "tas', {mode: 0o600})
    const notices: string[] = []
    const r = resetState(loadInventory(t.file), {onNotice: (m) => notices.push(m)})
    expect(notices).toEqual([])
    const bad = readdirSync(path.dirname(t.state)).filter((f) => f.startsWith('state.json.bad-'))
    expect(r).toEqual({
      stateFile: t.state,
      phases: 'all',
      removed: 0,
      movedAside: path.join(path.dirname(t.state), bad[0]!),
      problem: expect.stringMatching(new RegExp(`^${re(t.state)} is not a usable obsctl journal: not valid JSON`)),
    })
  })

  it('a folder where state.json should be: exit 2 with the reset hint; the reset moves it aside', async () => {
    const t = inventory()
    mkdirSync(t.state)
    writeFileSync(path.join(t.state, 'x'), 'x')
    const show = await obsctl(['state', 'show', '-c', t.file])
    expect(show.status, show.stderr).toBe(2)
    expect(show.stderr).toContain(`${t.state} is not a usable obsctl journal: cannot be read (EISDIR)`)
    expect((await obsctl(['state', 'reset', '--yes', '-c', t.file])).status).toBe(0)
    expect(statSync(t.state).isFile()).toBe(true)
    expect(readdirSync(path.dirname(t.state)).filter((f) => f.startsWith('state.json.bad-'))).toHaveLength(1)
  })

  it('a good journal is shown with its rows (no undefined), and reset of one phase keeps the others', async () => {
    const t = inventory()
    writeFileSync(
      t.state,
      JSON.stringify({
        version: 1,
        inventory: t.file,
        updatedAt: '2026-01-01T00:00:02.000Z',
        tasks: {'nodes/a': record('nodes', 'a'), 'buckets/b': record('buckets', 'b')},
      }),
      {mode: 0o600},
    )
    const show = await obsctl(['state', 'show', '-c', t.file])
    expect(show.status, show.stderr).toBe(0)
    expect(show.stdout).toContain('nodes')
    expect(show.stdout).not.toContain('undefined')
    const reset = await obsctl(['state', 'reset', '--phase', 'nodes', '--yes', '-c', t.file])
    expect(reset.status, reset.stderr).toBe(0)
    expect(Object.keys(JSON.parse(readFileSync(t.state, 'utf8')).tasks)).toEqual(['buckets/b'])
  })
})

interface Held {
  ready: Promise<void>
  out: Promise<{ok: boolean; code?: string; message?: string; pid?: number; takenOver?: {pid: number} | null}>
  exited: Promise<number | null>
}

function hold(file: string, go: string, release: string, pauseMs = 0, env: Record<string, string> = {}): Held {
  const child = spawn(process.execPath, [HOLD, file, go, release], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, HOLD_LOCK_PAUSE_MS: String(pauseMs), ...env},
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const lines: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  child.stdout.on('data', (d) => {
    stdout += d
    const all = stdout.split('\n')
    stdout = all.pop()!
    for (const l of all) lines.push(JSON.parse(l))
    for (const w of waiters) w()
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const nth = (i: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => lines[i] && resolve(lines[i]!)
      waiters.push(check)
      check()
      void exited.then(() => (lines[i] ? resolve(lines[i]!) : reject(new Error(`hold-lock exited early: ${stderr}`))))
    })
  return {ready: nth(0).then(() => undefined), out: nth(1) as Held['out'], exited}
}

describe('the run lock', () => {
  it('two symlinks to one inventory share one lock (and one .obsctl/)', async () => {
    const t = inventory()
    const other = mkdtempSync(path.join(tmpdir(), 'obsctl-journal-link-'))
    dirs.push(other)
    const link = path.join(other, 'obsctl.yaml')
    symlinkSync(t.file, link)
    const go = path.join(t.dir, 'go')
    const release = path.join(t.dir, 'release')
    writeFileSync(go, '')
    const holder = hold(link, go, release)
    const got = await holder.out
    expect(got.ok).toBe(true)
    expect(existsSync(path.join(t.dir, '.obsctl', 'lock'))).toBe(true) // beside the real file
    expect(existsSync(path.join(other, '.obsctl'))).toBe(false)
    // the real path, and a second symlink in a third folder, both meet the held lock
    const third = mkdtempSync(path.join(tmpdir(), 'obsctl-journal-link-'))
    dirs.push(third)
    symlinkSync(link, path.join(third, 'obsctl.yaml'))
    for (const f of [t.file, path.join(third, 'obsctl.yaml')]) {
      const r = await obsctl(['state', 'reset', '--yes', '-c', f])
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr).toContain(`another obsctl run holds ${path.join(t.dir, '.obsctl', 'lock')}`)
    }
    writeFileSync(release, '')
    expect(await holder.exited).toBe(0)
    expect((await obsctl(['state', 'reset', '--yes', '-c', link])).status).toBe(0)
  })

  it('a stale lock (dead pid) is taken over by exactly one of two starters that both read it (the race lined up)', async () => {
    // a pid that is certainly not running: a child that has exited
    const dead = spawnSync(process.execPath, ['-e', ''], {stdio: 'ignore'}).pid!
    for (let round = 0; round < 3; round++) {
      const t = inventory()
      const lockFile = path.join(t.dir, '.obsctl', 'lock')
      writeFileSync(lockFile, `${JSON.stringify({pid: dead, startedAt: `2026-01-01T00:00:0${round}.000Z`, command: 'bootstrap', host: hostname()})}\n`, {
        mode: 0o600,
      })
      const go = path.join(t.dir, 'go')
      const release = path.join(t.dir, 'release')
      // both read the same stale content first; the first acts 100 ms later, the second 400 ms later,
      // after the first has replaced the lock: the second must not remove the live lock
      const starters = [hold(t.file, go, release, 100), hold(t.file, go, release, 400)]
      await Promise.all(starters.map((s) => s.ready))
      writeFileSync(go, '')
      const results = await Promise.all(starters.map((s) => s.out))
      const winners = results.filter((r) => r.ok)
      expect(winners, `round ${round}: ${JSON.stringify(results)}`).toHaveLength(1)
      expect(winners[0]!.takenOver?.pid).toBe(dead)
      const loser = results.find((r) => !r.ok)!
      expect(loser.code).toBe('LOCKED')
      expect(loser.message).toMatch(/another obsctl run (holds|is taking over)/)
      const held = JSON.parse(readFileSync(lockFile, 'utf8'))
      expect(held.pid).toBe((winners[0] as {pid?: number}).pid)
      expect(readdirSync(path.dirname(lockFile)).filter((f) => f.includes('takeover') || f.endsWith('.tmp'))).toEqual([])
      writeFileSync(release, '')
      await Promise.all(starters.map((s) => s.exited))
      expect(existsSync(lockFile)).toBe(false)
    }
  })

  // a pid namespace of its own needs user namespaces and a fresh /proc mount: a container whose seccomp profile or
  // masked /proc refuses them skips this, saying why (as the disk-full tests do); without unshare at all it fails
  const pidnsRefused = (() => {
    const probe = spawnSync('unshare', ['-rpf', '--mount-proc', 'true'], {encoding: 'utf8'})
    if (probe.error) throw probe.error
    return probe.status === 0 ? undefined : `the kernel refused unshare -rpf --mount-proc here: ${(probe.stderr || `exit ${probe.status}`).trim()}`
  })()
  if (pidnsRefused) process.stderr.write(`pid-namespace lock test skipped: ${pidnsRefused}\n`)
  it.skipIf(pidnsRefused !== undefined)(
    `a lock taken in another pid namespace on this host (another container sharing the folder) is never taken over: its pid means another process here, or none${pidnsRefused ? ` (skipped: ${pidnsRefused})` : ''}`,
    async () => {
      // a real holder in its own pid namespace (unshare: user + pid namespace, its own /proc), as a container is
      const t = inventory()
      const lockFile = path.join(t.dir, '.obsctl', 'lock')
      const go = path.join(t.dir, 'go')
      const release = path.join(t.dir, 'release')
      writeFileSync(go, '')
      const ours = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]
      const child = spawn('unshare', ['-rpf', '--mount-proc', process.execPath, HOLD, t.file, go, release], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      try {
        await waitForValue('the namespaced holder has the lock', async () => out.includes('"ok":true'), 60_000)
        const held = JSON.parse(readFileSync(lockFile, 'utf8')) as {pid: number; host: string; pidns?: string}
        expect(held.host).toBe(hostname())
        expect(held.pidns).toMatch(/^\d+$/)
        expect(held.pidns).not.toBe(ours)
        const r = await obsctl(['state', 'reset', '--yes', '-c', t.file])
        expect(r.status, r.stderr).toBe(1)
        expect(r.stderr).toContain(`another obsctl run holds ${lockFile}: pid ${held.pid} on ${hostname()}`)
        expect(r.stderr).toContain('in another pid namespace')
        expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual(held)
      } finally {
        writeFileSync(release, '')
        await exited
      }
      expect(existsSync(lockFile)).toBe(false)

      // its pid need not be alive here: a lock of another namespace whose pid is no process here is still not stale
      const dead = spawnSync(process.execPath, ['-e', ''], {stdio: 'ignore'}).pid!
      const foreign = `${JSON.stringify({pid: dead, startedAt: '2026-01-01T00:00:00.000Z', command: 'bootstrap', host: hostname(), pidns: `${ours}0`})}\n`
      writeFileSync(lockFile, foreign, {mode: 0o600})
      const r = await obsctl(['state', 'reset', '--yes', '-c', t.file])
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr).toContain('in another pid namespace')
      expect(readFileSync(lockFile, 'utf8')).toBe(foreign)
      // a lock without pidns (an older obsctl's) is judged by its pid, as before
      writeFileSync(lockFile, `${JSON.stringify({pid: dead, startedAt: '2026-01-01T00:00:00.000Z', command: 'bootstrap', host: hostname()})}\n`, {mode: 0o600})
      expect((await obsctl(['state', 'reset', '--yes', '-c', t.file])).status).toBe(0)
    },
  )

  it('a run killed while it takes over a stale lock leaves its takeover file: the next run judges that file by its pid, as the lock, and takes the lock', async () => {
    const dead = spawnSync(process.execPath, ['-e', ''], {stdio: 'ignore'}).pid!
    const t = inventory()
    const lockFile = path.join(t.dir, '.obsctl', 'lock')
    const stale = `${JSON.stringify({pid: dead, startedAt: '2026-01-01T00:00:00.000Z', command: 'bootstrap', host: hostname()})}\n`
    writeFileSync(lockFile, stale, {mode: 0o600})
    const go = path.join(t.dir, 'go')
    const release = path.join(t.dir, 'release')
    writeFileSync(go, '')
    // killed with its takeover file made, the stale lock not yet removed
    const killed = hold(t.file, go, release, 0, {OBSCTL_TEST_KILL_AT: 'lock:takeover'})
    killed.out.catch(() => {})
    expect(await killed.exited).toBeNull()
    const left = () => readdirSync(path.dirname(lockFile)).filter((f) => f.includes('takeover'))
    expect(left()).toEqual([expect.stringMatching(/^lock\.takeover-[0-9a-f]{16}$/)])
    expect(readFileSync(lockFile, 'utf8')).toBe(stale)

    const next = hold(t.file, go, release)
    const got = await next.out
    expect(got, JSON.stringify(got)).toMatchObject({ok: true, takenOver: {pid: dead}})
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(got.pid)
    expect(left()).toEqual([])
    writeFileSync(release, '')
    expect(await next.exited).toBe(0)
    expect(existsSync(lockFile)).toBe(false)
  })
})
