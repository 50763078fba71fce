import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {hostname} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  acquireLock,
  fingerprintOf,
  formatState,
  planPhases,
  resetState,
  runPhases,
  sanitizeForFile,
  showState,
  stableStringify,
  type RunEvent,
} from '../../src/lib/engine/index.js'
import {ObsctlError, isObsctlError} from '../../src/lib/errors.js'
// @ts-expect-error plain JS fixture
import {makePhases} from './fixtures/phases.mjs'
import {readState, runsOf, statuses, tmpInventory} from './helpers.js'
import {obsctl} from '../cli/helpers.js'

const silent = {renderer: 'silent' as const, handleSignals: false}

describe('engine: resume', () => {
  it('reruns only the failed task; a failed phase stops later phases with exit code 1', async () => {
    const t = tmpInventory()
    const r1 = await runPhases(makePhases({dir: t.dir, fail: ['b/x']}).phases, {inv: t.inv, ...silent})
    expect(r1.ok).toBe(false)
    expect(r1.exitCode).toBe(1)
    expect(r1.phases.map((p) => p.status)).toEqual(['failed', 'not-run'])
    expect(Object.fromEntries(r1.phases[0]!.tasks.map((x) => [x.target, x.status]))).toEqual({a: 'done', 'b/x': 'failed', c: 'done'})
    expect(r1.phases[0]!.tasks[1]!.error).toBe('b/x broke on purpose')
    expect(runsOf(t.dir)).toEqual(['alpha/a', 'alpha/b/x', 'alpha/c'])
    expect(statuses(t.stateFile)).toEqual({'alpha/a': 'done', 'alpha/b/x': 'failed', 'alpha/c': 'done'})
    expect(readState(t.stateFile).tasks['alpha/b/x']!.failure).toEqual({message: 'b/x broke on purpose', exitCode: 1, hints: []})

    const r2 = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    expect(r2.ok).toBe(true)
    expect(r2.exitCode).toBe(0)
    expect(r2.phases[0]!.tasks.map((x) => x.status)).toEqual(['unchanged', 'done', 'unchanged'])
    // second run: b/x once more, then beta's targets; a and c not again
    expect(runsOf(t.dir)).toEqual(['alpha/a', 'alpha/b/x', 'alpha/b/x', 'alpha/c', 'beta/p', 'beta/q'])
    expect(Object.values(statuses(t.stateFile)).every((s) => s === 'done')).toBe(true)
  })

  it('a recheck phase: a task the journal says done is checked live, and runs again when the check disagrees', async () => {
    const t = tmpInventory()
    await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    const before = runsOf(t.dir).length
    const checked: string[] = []
    const withRecheck = (lost: string[]) => {
      const {phases} = makePhases({dir: t.dir})
      phases[0].recheck = true
      phases[0].isDone = async (target: {id: string}) => {
        checked.push(target.id)
        return !lost.includes(target.id)
      }
      return phases
    }
    const r1 = await runPhases(withRecheck([]), {inv: t.inv, ...silent})
    expect(r1.phases[0]!.tasks.map((x) => x.status)).toEqual(['unchanged', 'unchanged', 'unchanged'])
    expect(checked).toEqual(['a', 'b/x', 'c'])
    expect(runsOf(t.dir).length).toBe(before)
    // c's result was lost outside obsctl's view: only c runs again
    const r2 = await runPhases(withRecheck(['c']), {inv: t.inv, ...silent})
    expect(r2.phases[0]!.tasks.map((x) => x.status)).toEqual(['unchanged', 'unchanged', 'done'])
    expect(runsOf(t.dir).length).toBe(before + 1)
    expect(runsOf(t.dir).filter((x) => x === 'alpha/c')).toHaveLength(2)
  })

  it('reruns a done task whose fingerprint changed, and everything with restart', async () => {
    const t = tmpInventory()
    await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    const fpBefore = readState(t.stateFile).tasks['alpha/c']!.fingerprint
    const plan = await planPhases(makePhases({dir: t.dir, versions: {c: 'v2'}}).phases, {inv: t.inv})
    expect(plan.phases[0]!.tasks.map((x) => x.state)).toEqual(['done', 'done', 'changed'])
    expect(plan.phases[0]!.tasks[2]!.description).toBe('would alpha c at v2')

    const r = await runPhases(makePhases({dir: t.dir, versions: {c: 'v2'}}).phases, {inv: t.inv, ...silent})
    expect(r.phases[0]!.tasks.map((x) => x.status)).toEqual(['unchanged', 'unchanged', 'done'])
    expect(runsOf(t.dir).filter((x) => x === 'alpha/c')).toHaveLength(2)
    expect(readState(t.stateFile).tasks['alpha/c']!.fingerprint).not.toBe(fpBefore)

    const before = runsOf(t.dir).length
    const r3 = await runPhases(makePhases({dir: t.dir, versions: {c: 'v2'}}).phases, {inv: t.inv, restart: true, ...silent})
    expect(r3.phases.flatMap((p) => p.tasks.map((x) => x.status)).every((s) => s === 'done')).toBe(true)
    expect(runsOf(t.dir).length).toBe(before + 5)
  })

  it("prepare() runs before the phase starts, with the targets that will run only; never on a dry run; its error is the tasks' to report", async () => {
    const t = tmpInventory()
    const calls: string[] = []
    const withPrepare = (o: object, fail = false) => {
      const {phases} = makePhases({dir: t.dir, ...o})
      const alpha = phases[0]
      alpha.prepare = async (targets: {id: string}[], ctx: {resources: {getOrCreate<T>(k: string, f: () => Promise<T>): Promise<T>}}) => {
        calls.push(`prepare ${targets.map((x) => x.id).join(',')}`)
        await ctx.resources.getOrCreate('creds', async () => {
          if (fail) throw new Error('no credentials: set $CREDS')
          return 'ok'
        })
      }
      const run = alpha.run.bind(alpha)
      alpha.run = async (target: {id: string}, ctx: {resources: {getOrCreate<T>(k: string, f: () => Promise<T>): Promise<T>}}, io: unknown) => {
        calls.push(`run ${target.id}`)
        // a failed resolution is not cached: the task resolves again and reports its own error
        await ctx.resources.getOrCreate('creds', async () => {
          if (fail) throw new Error('no credentials: set $CREDS')
          return 'late'
        })
        return run(target, ctx, io)
      }
      return phases
    }
    await runPhases(withPrepare({}), {inv: t.inv, dryRun: true, ...silent})
    expect(calls).toEqual([])
    const r1 = await runPhases(withPrepare({fail: ['c']}), {inv: t.inv, ...silent})
    expect(calls).toEqual(['prepare a,b/x,c', 'run a', 'run b/x', 'run c'])
    expect(r1.phases[0]!.tasks.map((x) => x.status)).toEqual(['done', 'done', 'failed'])
    calls.length = 0
    await runPhases(withPrepare({}), {inv: t.inv, ...silent})
    expect(calls).toEqual(['prepare c', 'run c'])
    calls.length = 0
    await runPhases(withPrepare({}), {inv: t.inv, ...silent})
    expect(calls).toEqual([])
    calls.length = 0
    const r4 = await runPhases(withPrepare({}, true), {inv: t.inv, restart: true, ...silent})
    expect(calls).toEqual(['prepare a,b/x,c', 'run a', 'run b/x', 'run c'])
    expect(r4.phases[0]!.tasks.map((x) => [x.status, x.error])).toEqual([
      ['failed', 'no credentials: set $CREDS'],
      ['failed', 'no credentials: set $CREDS'],
      ['failed', 'no credentials: set $CREDS'],
    ])
  })

  it('skips run() when the live check says the target is already in the wanted state', async () => {
    const t = tmpInventory()
    const r = await runPhases(makePhases({dir: t.dir, live: ['a', 'p']}).phases, {inv: t.inv, ...silent})
    expect(r.phases[0]!.tasks[0]).toMatchObject({target: 'a', status: 'in-state', summary: 'already in wanted state'})
    expect(runsOf(t.dir)).toEqual(['alpha/b/x', 'alpha/c', 'beta/q'])
    expect(statuses(t.stateFile)['alpha/a']).toBe('done')
  })
})

describe('engine: dry run, logs, resources, concurrency', () => {
  it('--dry-run only describes: no state, lock, logs, and no run()', async () => {
    const t = tmpInventory()
    const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, dryRun: true, ...silent})
    expect(r.dryRun).toBe(true)
    expect(r.logsDir).toBeUndefined()
    expect(r.phases[0]!.tasks.map((x) => [x.status, x.description])).toEqual([
      ['would-run', 'would alpha a at v1'],
      ['would-run', 'would alpha b/x at v1'],
      ['would-run', 'would alpha c at v1'],
    ])
    expect(existsSync(path.join(t.dir, '.obsctl'))).toBe(false)
    expect(runsOf(t.dir)).toEqual([])
  })

  it('writes each task its log file under logs/<run>/<phase>/<target>.log and reports progress lines', async () => {
    const t = tmpInventory()
    const events: RunEvent[] = []
    const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, onEvent: (e) => events.push(e)})
    const task = r.phases[0]!.tasks[1]!
    expect(task.logFile).toBe(path.join(t.dir, '.obsctl', 'logs', r.runId, 'alpha', 'b_x.log'))
    const log = readFileSync(task.logFile!, 'utf8')
    expect(log).toMatch(/starting b\/x\n.*finished b\/x\n$/s)
    expect(readdirSync(path.join(r.logsDir!, 'beta')).sort()).toEqual(['p.log', 'q.log'])
    expect(events.filter((e) => e.type === 'task-progress' && e.target === 'b/x').map((e) => (e as {line: string}).line)).toContain('finished b/x')
    expect(sanitizeForFile('cluster-01/192.168.101.194')).toBe('cluster-01_192.168.101.194')
    expect(sanitizeForFile('../etc')).toBe('__etc')
  })

  it('closes run resources at the end, also when tasks fail', async () => {
    const t = tmpInventory()
    await runPhases(makePhases({dir: t.dir, fail: ['a']}).phases, {inv: t.inv, ...silent})
    expect(readFileSync(path.join(t.dir, 'closed.log'), 'utf8')).toBe('conn\n')
  })

  it('runs targets concurrently by default, and honours a phase concurrency of 1', async () => {
    const t = tmpInventory()
    const targets = ['t1', 't2', 't3', 't4']
    const all = makePhases({dir: t.dir, targets, delayMs: 60})
    await runPhases([all.phases[0]], {inv: t.inv, ...silent})
    expect(all.stats.maxInFlight).toBe(4)
    const one = makePhases({dir: t.dir, targets, delayMs: 10, concurrency: 1})
    await runPhases([one.phases[0]], {inv: t.inv, restart: true, ...silent})
    expect(one.stats.maxInFlight).toBe(1)
    const two = makePhases({dir: t.dir, targets, delayMs: 30})
    await runPhases([two.phases[0]], {inv: t.inv, restart: true, concurrency: 2, ...silent})
    expect(two.stats.maxInFlight).toBe(2)
  })

  it('fingerprints are stable under key order and change with values', () => {
    expect(stableStringify({b: 1, a: {d: [1, {z: 1, y: 2}], c: undefined}})).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}')
    expect(fingerprintOf({a: 1, b: 2})).toBe(fingerprintOf({b: 2, a: 1}))
    expect(fingerprintOf({a: 1})).not.toBe(fingerprintOf({a: 2}))
    expect(fingerprintOf({a: 1})).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('engine: lock and state commands', () => {
  it('takes over a stale lock left by a dead pid, with a notice, and releases it at the end', async () => {
    const t = tmpInventory()
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    writeFileSync(t.lockFile, JSON.stringify({pid: dead, startedAt: '2020-01-01T00:00:00.000Z', command: 'bootstrap --all', host: hostname()}))
    const events: RunEvent[] = []
    const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, onEvent: (e) => events.push(e)})
    expect(r.ok).toBe(true)
    const notices = events.filter((e) => e.type === 'notice').map((e) => (e as {message: string}).message)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain(`stale lock`)
    expect(notices[0]).toContain(`pid ${dead}`)
    expect(existsSync(t.lockFile)).toBe(false)
  })

  it('refuses a run while a live process holds the lock, naming its pid and start time', async () => {
    const t = tmpInventory()
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    // this test process is alive: a lock in its name held by "another run"
    writeFileSync(t.lockFile, JSON.stringify({pid: process.ppid, startedAt: '2030-01-01T00:00:00.000Z', command: 'bootstrap --all', host: hostname()}))
    const err = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent}).catch((e) => e)
    expect(isObsctlError(err)).toBe(true)
    expect(err.exitCode).toBe(1)
    expect(err.message).toContain(`pid ${process.ppid}`)
    expect(err.message).toContain('2030-01-01T00:00:00.000Z')
    expect(runsOf(t.dir)).toEqual([])
    expect(existsSync(t.lockFile)).toBe(true)
  })

  it('reads the journal under the lock: records a run wrote while this one was taking the lock are kept', async () => {
    const t = tmpInventory()
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    writeFileSync(t.lockFile, JSON.stringify({pid: dead, startedAt: '2020-01-01T00:00:00.000Z', command: 'bootstrap --all', host: hostname()}))
    // the takeover notice comes while the lock is being taken: the journal written then stands for another run's
    // last write before this run holds the lock (a run read before the lock would overwrite it with its own copy)
    const other = {phase: 'other', target: 'x', status: 'done', fingerprint: 'f', summary: 'the other run did it'}
    const onEvent = (e: RunEvent) => {
      if (e.type === 'notice') writeFileSync(t.stateFile, JSON.stringify({version: 1, inventory: t.file, tasks: {'other/x': other}}))
    }
    const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, onEvent})
    expect(r.ok).toBe(true)
    const tasks = readState(t.stateFile).tasks
    expect(tasks['other/x']?.status).toBe('done')
    expect(Object.keys(tasks).length).toBeGreaterThan(1)
  })

  it('runs under a lock this process already holds when it is given (and leaves it held); a lock it does not hold is refused', async () => {
    const t = tmpInventory()
    const lock = acquireLock(path.dirname(t.lockFile), 'config set')
    try {
      // not given: this process's own lock is not taken twice
      const err = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent}).catch((e) => e)
      expect(err.code).toBe('LOCKED')
      expect(err.message).toContain('this process already holds')
      const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, lock})
      expect(r.ok).toBe(true)
      expect(JSON.parse(readFileSync(t.lockFile, 'utf8')).startedAt).toBe(lock.info.startedAt)
    } finally {
      lock.release()
    }
    expect(existsSync(t.lockFile)).toBe(false)
    // released: it is no one's lock any more
    const stale = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, lock}).catch((e) => e)
    expect(stale.code).toBe('LOCK_NOT_HELD')
    // another process's lock cannot be passed as one's own
    writeFileSync(t.lockFile, JSON.stringify({...lock.info, pid: process.ppid}))
    const foreign = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent, lock: {...lock, info: {...lock.info, pid: process.ppid}}}).catch(
      (e) => e,
    )
    expect(foreign.code).toBe('LOCK_NOT_HELD')
    expect(JSON.parse(readFileSync(t.lockFile, 'utf8')).pid).toBe(process.ppid)
  })

  it('a lock held on another host is never taken over, and its hint says to check that pid on that host', async () => {
    const t = tmpInventory()
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    writeFileSync(t.lockFile, JSON.stringify({pid: 4242, startedAt: '2030-01-01T00:00:00.000Z', command: 'bootstrap --all', host: 'other-host'}))
    const err = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent}).catch((e) => e)
    expect(err.code).toBe('LOCKED')
    expect(err.message).toContain('pid 4242 on other-host')
    expect(err.hints.join('\n')).toContain(`check on other-host whether pid 4242 is still obsctl; only if it is not, remove ${t.lockFile}`)
    expect(JSON.parse(readFileSync(t.lockFile, 'utf8')).host).toBe('other-host')
  })

  it('state show lists records by phase; state reset forgets them so the next run redoes them', async () => {
    const t = tmpInventory()
    expect(showState(t.inv).exists).toBe(false)
    await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    const s = showState(t.inv, {phases: ['beta']})
    expect(s.exists).toBe(true)
    expect(s.tasks.map((x) => [x.target, x.status])).toEqual([
      ['p', 'done'],
      ['q', 'done'],
    ])
    const reset = resetState(t.inv, {phases: ['alpha']})
    expect(reset.removed).toBe(3)
    expect(Object.keys(readState(t.stateFile).tasks).sort()).toEqual(['beta/p', 'beta/q'])
    const plan = await planPhases(makePhases({dir: t.dir}).phases, {inv: t.inv})
    expect(plan.counts).toMatchObject({pending: 3, done: 2})
    expect(resetState(t.inv).removed).toBe(2)
    expect(readState(t.stateFile).tasks).toEqual({})
  })

  it('a task left "running" by a killed run: state show and plan both say interrupted; running only while a live run holds the lock', async () => {
    const t = tmpInventory()
    await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    // what a SIGKILL mid-task leaves: the record still running, the lock's holder gone
    const state = readState(t.stateFile)
    state.tasks['alpha/a']!.status = 'running'
    writeFileSync(t.stateFile, JSON.stringify(state))
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    const lock = (pid: number) =>
      writeFileSync(t.lockFile, JSON.stringify({pid, startedAt: '2030-01-01T00:00:00.000Z', command: 'bootstrap --all', host: hostname()}))
    const shown = () => showState(t.inv, {phases: ['alpha']}).tasks.find((x) => x.target === 'a')!.status
    const planned = async () => (await planPhases(makePhases({dir: t.dir}).phases, {inv: t.inv})).phases[0]!.tasks.find((x) => x.target === 'a')!.state
    lock(dead)
    expect([shown(), await planned()]).toEqual(['interrupted', 'interrupted'])
    // the journal itself is left as it was: the next run resumes the task
    expect(readState(t.stateFile).tasks['alpha/a']!.status).toBe('running')
    lock(process.ppid) // a live process: another run is at work
    expect([shown(), await planned()]).toEqual(['running', 'running'])
  })

  it("state show gives each phase's latest run: killed when recorded running by a run that is gone, running only while that run holds the lock; grouped by run, --phase filters", async () => {
    const t = tmpInventory()
    const r = await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    expect(showState(t.inv).phaseRuns).toEqual([
      {phase: 'alpha', runId: r.runId, status: 'done', startedAt: expect.any(String), endedAt: expect.any(String)},
      {phase: 'beta', runId: r.runId, status: 'done', startedAt: expect.any(String), endedAt: expect.any(String)},
    ])
    // what a SIGKILL in beta leaves: its run recorded running, no end; the run that did alpha earlier is another one
    const live = process.ppid
    const state = readState(t.stateFile)
    state.phaseRuns = {
      beta: {runId: `2030-01-02T00-00-00-000Z-${live}`, status: 'running', startedAt: '2030-01-02T00:00:00.100Z'},
      alpha: {runId: '2030-01-01T00-00-00-000Z-7', status: 'interrupted', startedAt: '2030-01-01T00:00:00.100Z', endedAt: '2030-01-01T00:00:02.000Z'},
    }
    writeFileSync(t.stateFile, JSON.stringify(state))
    mkdirSync(path.dirname(t.lockFile), {recursive: true})
    const lock = (pid: number, startedAt: string) => writeFileSync(t.lockFile, JSON.stringify({pid, startedAt, command: 'bootstrap --all', host: hostname()}))
    const shown = (phases?: string[]) => showState(t.inv, {phases}).phaseRuns.map((x) => [x.phase, x.status])
    // no lock: beta's run is gone
    expect(shown()).toEqual([
      ['alpha', 'interrupted'],
      ['beta', 'killed'],
    ])
    expect(readState(t.stateFile).phaseRuns!.beta!.status).toBe('running') // the journal is left as it was
    lock(live, '2030-01-02T00:00:00.000Z') // that run, alive, holds the lock
    expect(shown(['beta'])).toEqual([['beta', 'running']])
    lock(live, '2030-01-02T00:00:00.500Z') // a later run of the same pid (reused) holds it: beta's run is still gone
    expect(shown(['beta'])).toEqual([['beta', 'killed']])
    lock(spawnSync(process.execPath, ['-e', '0']).pid!, '2030-01-02T00:00:00.000Z') // a dead holder
    expect(shown(['beta'])).toEqual([['beta', 'killed']])

    // the human view fits 80 columns with the longest phase name, status and run id (a 7-digit pid)
    state.phaseRuns = {'revoke-opensearch-user': {runId: '2030-01-02T00-00-00-000Z-4194304', status: 'interrupted', startedAt: '2030-01-02T00:00:00.100Z'}}
    writeFileSync(t.stateFile, JSON.stringify(state))
    const view = formatState(showState(t.inv)).split('\n')
    const from = view.findIndex((l) => l.startsWith('the latest run of each phase'))
    const section = view.slice(from, view.indexOf('', from))
    expect(section).toEqual([
      'the latest run of each phase (obsctl logs --run RUN prints its task logs):',
      'run 2030-01-02T00-00-00-000Z-4194304',
      '  revoke-opensearch-user  interrupted  started 2030-01-02T00:00:00.100Z',
    ])
    for (const line of section) expect(line.length).toBeLessThanOrEqual(80)
  })

  it('a failure the journal keeps quotes no credential its message carried (a URL password, a --token value)', async () => {
    const t = tmpInventory()
    const phase = {
      name: 'leaky',
      title: 'a step whose error quotes a credential',
      targets: () => [{id: 'only'}],
      fingerprint: () => ({}),
      describe: () => 'fail',
      run: async () => {
        throw new ObsctlError('git push https://ops:pa55word@git.example.test/x.git failed', {code: 'GIT_PUSH', hints: ['retry with --token s3cr3t-value']})
      },
    }
    const r = await runPhases([phase], {inv: t.inv, ...silent})
    expect(r.ok).toBe(false)
    const kept = readState(t.stateFile).tasks['leaky/only']!.failure!
    expect(kept).toMatchObject({code: 'GIT_PUSH', message: 'git push https://git.example.test/x.git failed', hints: ['retry with --token ***']})
    expect(readFileSync(t.stateFile, 'utf8')).not.toMatch(/pa55word|s3cr3t-value/)
  })

  it('a summary the journal and the events keep quotes no credential either', async () => {
    const t = tmpInventory()
    const phase = {
      name: 'chatty',
      title: 'a step whose summary quotes a credential',
      targets: () => [{id: 'only'}],
      fingerprint: () => ({}),
      describe: () => 'succeed',
      run: async () => ({summary: 'pushed to https://ops:pa55word@git.example.test/x.git'}),
    }
    const events: unknown[] = []
    const r = await runPhases([phase], {inv: t.inv, ...silent, onEvent: (e: unknown) => events.push(e)})
    expect(r.ok).toBe(true)
    expect((readState(t.stateFile).tasks['chatty/only'] as {summary?: string}).summary).toBe('pushed to https://git.example.test/x.git')
    expect(JSON.stringify(events)).toContain('pushed to https://git.example.test/x.git')
    expect(readFileSync(t.stateFile, 'utf8') + JSON.stringify(events) + JSON.stringify(r)).not.toMatch(/pa55word/)
  })

  it("every line a task logs is redacted before its log file, the progress line and the events: kubeadm's join command, a secret env var's value", async () => {
    const t = tmpInventory()
    const token = 'abcdef.0123456789abcdef'
    const key = 'f'.repeat(64)
    const hash = `sha256:${'c'.repeat(64)}`
    process.env.OBSCTL_TEST_ENGINE_PASSWORD = 'env-secret-4711'
    try {
      // what kubeadm init prints without --skip-token-print (cmd/kubeadm/app/cmd/util/join.go joinCommandTemplate),
      // one line at a time as a command's output reaches io.log, and all at once
      const printed = [
        `  kubeadm join 10.0.0.1:6443 --token ${token} \\`,
        `    --discovery-token-ca-cert-hash ${hash} \\`,
        `    --control-plane --certificate-key ${key}`,
        `--certificate-key ${key}`,
        'the password is env-secret-4711',
      ]
      const phase = {
        name: 'chatty',
        title: 'a step whose command prints a credential',
        targets: () => [{id: 'only'}],
        fingerprint: () => ({}),
        describe: () => 'print',
        run: async (_t: unknown, _c: unknown, io: {log: (l: string) => void}) => {
          for (const l of printed) io.log(l)
          io.log(printed.join('\n'))
          return {}
        },
      }
      const events: RunEvent[] = []
      const r = await runPhases([phase], {inv: t.inv, ...silent, onEvent: (e) => events.push(e)})
      expect(r.ok).toBe(true)
      const log = readFileSync(r.phases[0]!.tasks[0]!.logFile!, 'utf8')
      const progress = events.flatMap((e) => (e.type === 'task-progress' ? [e.line] : []))
      expect(progress.length).toBeGreaterThanOrEqual(printed.length)
      for (const text of [log, progress.join('\n')]) {
        expect(text).not.toContain(token)
        expect(text).not.toContain(key)
        expect(text).not.toContain('env-secret-4711')
      }
      expect(log).toContain('kubeadm join 10.0.0.1:6443 --token *** \\')
      expect(log).toContain('--control-plane --certificate-key ***')
      // the CA's public key pin is no secret: a join needs it, and it stays readable
      expect(log).toContain(`--discovery-token-ca-cert-hash ${hash}`)
      expect(progress).toContain('--certificate-key ***')
      expect(progress).toContain('the password is ***')
    } finally {
      delete process.env.OBSCTL_TEST_ENGINE_PASSWORD
    }
  })

  it('state show --phase: an unknown phase is bad input, as for state reset', async () => {
    const t = tmpInventory()
    const {requireKnownPhases} = await import('../../src/lib/engine/index.js')
    const {REGISTERED_PHASES} = await import('../../src/lib/flows/registry.js')
    expect(() => requireKnownPhases(t.inv, ['bogus'], REGISTERED_PHASES)).toThrow(
      expect.objectContaining({exitCode: 2, code: 'UNKNOWN_PHASE', message: '--phase bogus: unknown phase'}),
    )
    expect(() => requireKnownPhases(t.inv, ['nodes', 'render'], REGISTERED_PHASES)).not.toThrow()
    // a phase only the journal names (an older obsctl's, a test fixture's) is known too
    await runPhases(makePhases({dir: t.dir}).phases, {inv: t.inv, ...silent})
    expect(() => requireKnownPhases(t.inv, ['alpha'], REGISTERED_PHASES)).not.toThrow()
    const r = await obsctl(['state', 'show', '--phase', 'bogus', '-c', t.file, '--json'])
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'UNKNOWN_PHASE', message: '--phase bogus: unknown phase'})
  })
})
