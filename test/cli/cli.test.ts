/** The built binary as users run it: help, version, exit codes, --json shapes of plan and state. */
import {mkdirSync, writeFileSync, readFileSync, existsSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {BOOTSTRAP_PHASES} from '../../src/lib/flows/bootstrap.js'
import {obsctl, requireBuild, tmpDir, ROOT} from './helpers.js'

let dir: string
let file: string
beforeAll(async () => {
  requireBuild()
  dir = tmpDir()
  file = path.join(dir, 'obsctl.yaml')
  expect((await obsctl(['init', '--example', '-c', file])).status).toBe(0)
})

describe('obsctl binary', () => {
  it('--help lists the topics and commands of DESIGN.md §2', async () => {
    const r = await obsctl(['--help'])
    expect(r.status).toBe(0)
    // the foundation's topics, plus every topic/command the build registered in the manifest
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const tops = new Set(['config', 'init', 'plan', 'state', ...Object.keys(manifest.commands).map((id) => id.split(':')[0]!)])
    for (const t of tops) expect(r.stdout).toMatch(new RegExp(`^\\s+${t}\\s`, 'm'))
  })

  it('--version prints the package version', async () => {
    const r = await obsctl(['--version'])
    expect(r.status).toBe(0)
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
    expect(r.stdout).toContain(`obsctl/${version}`)
    // the commit and build date the build recorded (answered before oclif loads)
    const info = JSON.parse(readFileSync(path.join(ROOT, 'dist/build-info.json'), 'utf8')) as {commit: string; date: string}
    expect(info.commit).toMatch(/^([0-9a-f]{12}(-dirty)?|unknown)$/)
    expect(r.stdout.trim()).toBe(`obsctl/${version} ${process.platform}-${process.arch} node-${process.version} (commit ${info.commit}, built ${info.date})`)
    // the same line through oclif when --version comes with other words
    const slow = await obsctl(['--version', '--json'])
    expect(slow.stdout).toContain(`obsctl/${version} ${process.platform}-${process.arch} node-${process.version}`)
  })

  it('NODE_ENV=development or test changes nothing: the built commands run, no TypeScript compiler nor tsx/ts-node is loaded', async () => {
    // what the process asked require() for, written at exit by a preload (the repository has a tsconfig.json,
    // which oclif reads with the TypeScript compiler under those NODE_ENV values unless told not to)
    const preload = path.join(dir, 'requests.cjs')
    writeFileSync(
      preload,
      `const M = require('node:module'), fs = require('node:fs'), seen = new Set(), load = M._load
M._load = function (request, ...rest) { seen.add(request); return load.call(this, request, ...rest) }
process.on('exit', () => fs.writeFileSync(process.env.REQUESTS_OUT, [...seen].join('\\n')))\n`,
    )
    const plain = await obsctl(['config', 'validate', '-c', file])
    expect(plain.status).toBe(0)
    // through oclif's runner (OBSCTL_DIRECT_RUN=0), which reads tsconfig.json unless told not to, and without it
    for (const [nodeEnv, runner] of [
      ['development', 'main'],
      ['test', 'main'],
      ['development', 'direct'],
    ]) {
      const out = path.join(dir, `requests-${nodeEnv}-${runner}.txt`)
      const r = await obsctl(['config', 'validate', '-c', file], {
        env: {NODE_ENV: nodeEnv, NODE_OPTIONS: `--require ${preload}`, REQUESTS_OUT: out, OBSCTL_DIRECT_RUN: runner === 'main' ? '0' : undefined},
      })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toBe(plain.stdout)
      expect(r.stderr).toBe(plain.stderr)
      const requests = readFileSync(out, 'utf8').split('\n')
      expect(requests).toContain(`../dist/chunks/${runner}.js`) // the preload saw the CLI's own loads
      expect(requests.filter((q) => /^(typescript|ts-node|tsx)(\/|$)|node_modules\/typescript/.test(q))).toEqual([])
    }
  })

  it('exit 2 for an unknown flag, a missing inventory and an unknown phase', async () => {
    const flag = await obsctl(['plan', '--no-such-flag', '-c', file])
    expect(flag.status).toBe(2)
    const missing = await obsctl(['plan', '-c', path.join(dir, 'nope.yaml')])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('inventory not found')
    expect(missing.stderr).toContain('obsctl init')
    const phase = await obsctl(['plan', '--phase', 'nope', '-c', file, '--json'])
    expect(phase.status).toBe(2)
    expect(JSON.parse(phase.stdout).error).toMatchObject({exitCode: 2, message: '--phase nope: unknown phase'})
  })

  it('plan --json: every phase × target with state and description, pending when nothing ran', async () => {
    const r = await obsctl(['plan', '-c', file, '--json'])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    const plan = JSON.parse(r.stdout)
    expect(plan.phases.map((p: {name: string}) => p.name)).toEqual([...BOOTSTRAP_PHASES])
    for (const p of plan.phases) {
      for (const t of p.tasks) {
        expect(t).toMatchObject({phase: p.name, state: 'pending'})
        expect(typeof t.description).toBe('string')
        expect(t.description.length).toBeGreaterThan(0)
      }
    }
    expect(plan.counts.pending).toBeGreaterThan(0)
    expect(plan.stateFile).toBe(path.join(dir, '.obsctl', 'state.json'))
    // plan writes nothing
    expect(existsSync(path.join(dir, '.obsctl', 'state.json'))).toBe(false)
  })

  it('plan and state show reflect the journal: failed and changed since; state reset --yes forgets', async () => {
    const plan0 = JSON.parse((await obsctl(['plan', '-c', file, '--json', '--phase', 'buckets'])).stdout)
    const [t1, t2] = plan0.phases[0].tasks
    mkdirSync(path.join(dir, '.obsctl'), {recursive: true})
    writeFileSync(
      path.join(dir, '.obsctl', 'state.json'),
      JSON.stringify({
        version: 1,
        inventory: file,
        updatedAt: '2030-01-01T00:00:00.000Z',
        tasks: {
          [`buckets/${t1.target}`]: {phase: 'buckets', target: t1.target, status: 'failed', error: 'connection refused'},
          [`buckets/${t2.target}`]: {phase: 'buckets', target: t2.target, status: 'done', fingerprint: 'an-older-input'},
        },
        phaseRuns: {
          buckets: {runId: 'run-b', status: 'interrupted', startedAt: '2030-01-01T00:00:00.000Z', endedAt: '2030-01-01T00:00:01.000Z'},
          nodes: {runId: 'run-n', status: 'done', startedAt: '2030-01-01T00:00:00.000Z', endedAt: '2030-01-01T00:00:01.000Z'},
        },
      }),
    )
    const plan = JSON.parse((await obsctl(['plan', '-c', file, '--json', '--phase', 'buckets'])).stdout)
    expect(plan.phases).toHaveLength(1)
    expect(plan.phases[0].tasks.slice(0, 2).map((t: {state: string}) => t.state)).toEqual(['failed', 'changed'])
    const human = await obsctl(['plan', '-c', file, '--phase', 'buckets'])
    expect(human.stdout).toMatch(new RegExp(`buckets\\s+${t2.target}\\s+changed since`))

    const shown = await obsctl(['state', 'show', '-c', file, '--json'])
    expect(shown.status, shown.stderr).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(shown.stderr).toBe('')
    const show = JSON.parse(shown.stdout)
    expect(show.tasks.map((t: {status: string}) => t.status)).toEqual(['failed', 'done'])
    // each phase's latest run, from the journal's phaseRuns
    expect(show.phaseRuns).toEqual([
      {phase: 'buckets', runId: 'run-b', status: 'interrupted', startedAt: '2030-01-01T00:00:00.000Z', endedAt: '2030-01-01T00:00:01.000Z'},
      {phase: 'nodes', runId: 'run-n', status: 'done', startedAt: '2030-01-01T00:00:00.000Z', endedAt: '2030-01-01T00:00:01.000Z'},
    ])
    const table = (await obsctl(['state', 'show', '-c', file])).stdout
    expect(table).toContain(
      [
        'the latest run of each phase (obsctl logs --run RUN prints its task logs):',
        'run run-b',
        '  buckets  interrupted  ended 2030-01-01T00:00:01.000Z',
        'run run-n',
        '  nodes    done         ended 2030-01-01T00:00:01.000Z',
      ].join('\n'),
    )
    expect((await obsctl(['state', 'show', '-c', file, '--phase', 'nodes', '--json'])).stdout).toContain('"tasks": []')

    const noYes = await obsctl(['state', 'reset', '-c', file])
    expect(noYes.status).toBe(2)
    expect(noYes.stderr).toContain('--yes')
    const reset = await obsctl(['state', 'reset', '-c', file, '--phase', 'buckets', '--yes', '--json'])
    expect(reset.status).toBe(0)
    expect(reset.stderr).toBe('')
    expect(JSON.parse(reset.stdout)).toMatchObject({removed: 2, phases: ['buckets']})
    const after = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8'))
    expect(after.tasks).toEqual({})
    // the phase's run goes with its tasks (a rerun then finds no unfinished run to resume); another phase's stays
    expect(Object.keys(after.phaseRuns)).toEqual(['nodes'])
  })
})
