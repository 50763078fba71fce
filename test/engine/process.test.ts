/**
 * The engine in real processes (the built dist/ engine driven by fixtures/run.mjs): SIGKILL mid-phase,
 * lock contention between two runs, Ctrl-C (SIGINT) → 130 and `interrupted` in state.json, a lock holder
 * killed but not reaped by its parent (a zombie).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {pidAlive} from '../../src/lib/engine/lock.js'
import {showState} from '../../src/lib/engine/plan.js'
import {acquireFileLock} from '../../src/lib/file-lock.js'
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
    // state show, while that run holds the lock: its phase's run is running
    expect(showState(t.inv).phaseRuns.map((x) => [x.phase, x.status])).toEqual([['alpha', 'running']])
    child.kill('SIGKILL')
    const r = await done
    expect(r.signal).toBe('SIGKILL')
    // whole JSON, with the truth at the moment of death
    expect(statuses(t.stateFile)).toMatchObject({'alpha/a': 'done', 'alpha/b/x': 'done', 'alpha/c': 'running'})
    // the phase's run, recorded before its first task, is left unfinished
    const killedRun = readState(t.stateFile).tasks['alpha/a']!.runId
    expect(readState(t.stateFile).phaseRuns).toEqual({alpha: {runId: killedRun, status: 'running', startedAt: expect.any(String)}})
    // and state show calls it what it is now: killed (the journal keeps `running`)
    expect(showState(t.inv).phaseRuns).toEqual([{phase: 'alpha', runId: killedRun, status: 'killed', startedAt: expect.any(String)}])
    expect(existsSync(t.lockFile)).toBe(true) // left behind by the killed process

    const second = start(t.file, {dir: t.dir})
    const r2 = await second.done
    expect(r2.code).toBe(0)
    expect(r2.stderr).toContain('taking over a stale lock')
    const result = JSON.parse(r2.stdout)
    expect(result.phases[0].tasks.map((x: {status: string}) => x.status)).toEqual(['unchanged', 'unchanged', 'done'])
    expect(runsOf(t.dir)).toEqual(['alpha/a', 'alpha/b/x', 'alpha/c', 'alpha/c', 'beta/p', 'beta/q'])
    expect(Object.values(statuses(t.stateFile)).every((s) => s === 'done')).toBe(true)
    expect(Object.values(readState(t.stateFile).phaseRuns!).map((r) => [r.runId, r.status])).toEqual([
      [result.runId, 'done'],
      [result.runId, 'done'],
    ])
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
    expect(r.stderr).toContain('Error: interrupted by SIGINT (Ctrl-C); interrupted tasks resume on the next run')
    // how to go on, before the logs folder
    expect(r.stderr).toMatch(/^ {2}→ run the same command again to resume: finished tasks are not redone \(obsctl state show lists them\)\n {2}→ logs: /m)
    expect(r.stderr).toMatch(/alpha b\/x: interrupted/)
    expect(statuses(t.stateFile)).toMatchObject({'alpha/a': 'done', 'alpha/b/x': 'interrupted', 'alpha/c': 'done'})
    expect(readState(t.stateFile).tasks['beta/p']).toBeUndefined()
    // the phase's run is interrupted, not finished (though two of its three tasks are done); beta's never started
    expect(readState(t.stateFile).phaseRuns).toEqual({
      alpha: {runId: expect.any(String), status: 'interrupted', startedAt: expect.any(String), endedAt: expect.any(String)},
    })
    const details = JSON.parse(r.stdout)
    expect(details.interrupted).toBe(true)
    expect(details.phases.map((p: {status: string}) => p.status)).toEqual(['interrupted', 'not-run'])
    expect(existsSync(t.lockFile)).toBe(false)
  })

  // /proc/<pid>/stat is Linux's: elsewhere kill(pid, 0) is all obsctl has, and a zombie holds its lock until reaped
  it.runIf(process.platform === 'linux')(
    'a holder killed but not reaped by its parent (a zombie, as under a CI runner or a shell script that never waits) is dead: its lock is taken over',
    async () => {
      const t = tmpInventory()
      // sh starts the run in the background, then becomes `sleep` (exec: same pid), which never waits for a child:
      // the run, SIGKILLed at its first task with the lock held, stays a zombie until sleep ends
      const parent = spawn('sh', ['-c', `"$0" "$1" "$2" "$3" & exec sleep 600`, process.execPath, FIXTURE_RUN, t.file, JSON.stringify({dir: t.dir})], {
        stdio: 'ignore',
        env: {...process.env, CI: '1', OBSCTL_TEST_KILL_AT: 'alpha:start'},
      })
      const procState = (pid: number) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
          return stat.charAt(stat.lastIndexOf(')') + 2)
        } catch {
          return undefined
        }
      }
      try {
        const holderPid = () => (existsSync(t.lockFile) ? (JSON.parse(readFileSync(t.lockFile, 'utf8')) as {pid: number}).pid : undefined)
        await waitFor(
          () => {
            const pid = holderPid()
            return pid !== undefined && procState(pid) === 'Z'
          },
          120_000,
          'the lock holder to be killed and left a zombie',
        )
        const zombie = holderPid()!
        expect(zombie).not.toBe(parent.pid)
        // the case kill(pid, 0) gets wrong: the pid still answers, as a zombie
        expect(() => process.kill(zombie, 0)).not.toThrow()
        expect(statuses(t.stateFile)).toMatchObject({'alpha/a': 'running'})

        // the run lock: the next run takes it over, says so, and resumes the killed run's task
        const second = await start(t.file, {dir: t.dir}).done
        expect(second.code, second.stderr).toBe(0)
        expect(second.stderr).toContain(`taking over a stale lock ${t.lockFile} left by pid ${zombie}`)
        expect(Object.values(statuses(t.stateFile)).every((s) => s === 'done')).toBe(true)
        expect(existsSync(t.lockFile)).toBe(false)
        expect(procState(zombie)).toBe('Z') // still not reaped: the takeover did not wait for it
        expect(pidAlive(zombie)).toBe(false)
        expect(pidAlive(parent.pid!)).toBe(true)

        // a write lock (file-lock.ts: .obsctl/validation.json, kubeconfigs) the zombie held is taken over at once too
        const fileLock = path.join(t.dir, 'kubeconfig.lock')
        writeFileSync(
          fileLock,
          JSON.stringify({pid: zombie, host: hostname(), startedAt: '2030-01-01T00:00:00.000Z', command: 'obsctl kubeconfig merge', nonce: 'z'}),
        )
        let waited: string | undefined
        const release = await acquireFileLock(fileLock, {timeoutMs: 5_000, onWait: (h) => (waited = h)})
        expect(waited).toBeUndefined()
        expect(JSON.parse(readFileSync(fileLock, 'utf8')).pid).toBe(process.pid)
        release()
      } finally {
        parent.kill('SIGKILL')
      }
    },
    180_000,
  )
})
