/**
 * A run's summary (src/lib/engine/format.ts) ends with what to do when the run did not finish: the failures' own
 * hints, each once, then how to go on. A failed bootstrap printed its table and the logs folder, and the hint that
 * fixes it ("is the node up and sshd listening …?") was only in the journal.
 */
import {describe, expect, it} from 'vitest'
import {formatRunSummary} from '../../src/lib/engine/format.js'
import type {RunResult} from '../../src/lib/engine/result.js'
import {setColorLevel} from '../../src/lib/style.js'

const HINT = 'is the node up and sshd listening on that port? check ssh.port / the node port and ssh.connectTimeoutSeconds'
const failed = (target: string) => ({
  phase: 'preflight',
  target,
  title: target,
  status: 'failed' as const,
  error: `ssh bsh@${target}: cannot connect: network unreachable (ENETUNREACH) (after 3 attempts)`,
  failure: {message: 'x', code: 'SSH_CONNECT', exitCode: 1, hints: [HINT]},
  durationMs: 1600,
})
const run = (over: Partial<RunResult>): RunResult => ({
  runId: '2026-12-05T10-55-31-335Z-17417',
  dryRun: false,
  restart: false,
  ok: false,
  interrupted: false,
  exitCode: 1,
  inventory: '/lab/obsctl.yaml',
  stateFile: '/lab/.obsctl/state.json',
  logsDir: '/lab/.obsctl/logs/2026-12-05T10-55-31-335Z-17417',
  startedAt: '2026-12-05T10:55:31.335Z',
  durationMs: 1800,
  phases: [{name: 'preflight', title: 'Preflight', status: 'failed', durationMs: 1700, tasks: [failed('10.0.0.1'), failed('10.0.0.2')]}],
  ...over,
})

describe('the summary of a run that did not finish', () => {
  it('failed: the failures’ hints once each, then fix and rerun, with the logs command', () => {
    setColorLevel(0)
    const lines = formatRunSummary(run({})).split('\n')
    const at = lines.findIndex((l) => l.startsWith('failed in 1.8s; logs: /lab/.obsctl/logs/'))
    expect(lines.slice(at + 1)).toEqual([
      `  → ${HINT}`,
      '  → fix what failed and run the same command again: finished tasks are not redone (obsctl logs --run 2026-12-05T10-55-31-335Z-17417 prints the task logs)',
    ])
  })

  it('done, or a dry run: nothing after the verdict', () => {
    setColorLevel(0)
    const done = run({ok: true, exitCode: 0, phases: [{name: 'render', title: 'Render', status: 'done', durationMs: 1, tasks: []}]})
    expect(formatRunSummary(done).split('\n').at(-1)).toMatch(/^all phases done in /)
    expect(
      formatRunSummary({...done, dryRun: true, ok: true})
        .split('\n')
        .at(-1),
    ).toBe('dry run: nothing was changed')
  })
})
