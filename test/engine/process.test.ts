/**
 * The engine in real processes (the built dist/ engine driven by fixtures/run.mjs): SIGKILL mid-phase,
 * lock contention between two runs, Ctrl-C (SIGINT) → 130 and `interrupted` in state.json.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {FIXTURE_RUN, readState, requireDist, runsOf, statuses, tmpInventory, waitFor} from './helpers.js'

interface Done {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function start(file: string, opts: object): {child: ChildProcess; done: Promise<Done>} {
  const child = spawn(process.execPath, [FIXTURE_RUN, file, JSON.stringify(opts)], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, CI: '1'}})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const done = new Promise<Done>((resolve) => child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})))
  return {child, done}
}

const started = (dir: string, id: string) => existsSync(path.join(dir, `started-${id.replace(/\W/g, '_')}`))

beforeAll(() => requireDist())

describe('engine in real processes', () => {
  it('a run SIGKILLed mid-phase leaves a whole state file that loads, and the next run resumes', async () => {
    const t = tmpInventory()
    const {child, done} = start(t.file, {dir: t.dir, hang: ['c']})
    await waitFor(
      () => started(t.dir, 'c') && existsSync(t.stateFile) && statuses(t.stateFile)['alpha/a'] === 'done' && statuses(t.stateFile)['alpha/b/x'] === 'done',
      120_000,
      'c to start and a, b/x to finish',
    )
    child.kill('SIGKILL')
    const r = await done
    expect(r.signal).toBe('SIGKILL')
    // whole JSON, with the truth at the moment of death
    expect(statuses(t.stateFile)).toMatchObject({'alpha/a': 'done', 'alpha/b/x': 'done', 'alpha/c': 'running'})
    expect(existsSync(t.lockFile)).toBe(true) // left behind by the killed process

    const second = start(t.file, {dir: t.dir})
    const r2 = await second.done
    expect(r2.code).toBe(0)
    expect(r2.stderr).toContain('taking over a stale lock')
    const result = JSON.parse(r2.stdout)
    expect(result.phases[0].tasks.map((x: {status: string}) => x.status)).toEqual(['unchanged', 'unchanged', 'done'])
    expect(runsOf(t.dir)).toEqual(['alpha/a', 'alpha/b/x', 'alpha/c', 'alpha/c', 'beta/p', 'beta/q'])
    expect(Object.values(statuses(t.stateFile)).every((s) => s === 'done')).toBe(true)
    expect(existsSync(t.lockFile)).toBe(false)
  })

  it('a second run is refused while the first holds the lock; Ctrl-C on the first exits 130 with interrupted tasks', async () => {
    const t = tmpInventory()
    const first = start(t.file, {dir: t.dir, hang: ['b/x']})
    await waitFor(() => started(t.dir, 'b/x'), 120_000, 'b/x to start')
    const holder = JSON.parse(readFileSync(t.lockFile, 'utf8'))
    expect(holder.pid).toBe(first.child.pid)

    const second = await start(t.file, {dir: t.dir}).done
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`pid ${first.child.pid}`)
    expect(second.stderr).toContain(`started ${holder.startedAt}`)
    expect(runsOf(t.dir).filter((x) => x.startsWith('beta'))).toEqual([])

    first.child.kill('SIGINT')
    const r = await first.done
    expect(r.code).toBe(130)
    expect(r.stderr).toContain('interrupted by SIGINT')
    expect(r.stderr).toMatch(/alpha b\/x: interrupted/)
    expect(statuses(t.stateFile)).toMatchObject({'alpha/a': 'done', 'alpha/b/x': 'interrupted', 'alpha/c': 'done'})
    expect(readState(t.stateFile).tasks['beta/p']).toBeUndefined()
    const details = JSON.parse(r.stdout)
    expect(details.interrupted).toBe(true)
    expect(details.phases.map((p: {status: string}) => p.status)).toEqual(['interrupted', 'not-run'])
    expect(existsSync(t.lockFile)).toBe(false)
  })
})
