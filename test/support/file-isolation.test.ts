/**
 * The workers run file after file (vitest.config.ts `isolate: false`); test/support/file-isolation.ts puts
 * each file's changes to the process back when it ends. Here: the config says so, and what the snapshot
 * restores.
 */
import {mkdtempSync, realpathSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it, vi} from 'vitest'
import config from '../../vitest.config.js'
import {snapshotProcess} from './process-snapshot.js'

describe('one worker, many files', () => {
  it('the config runs files in shared forks, with the restoring setup file first', () => {
    expect(config.test?.isolate).toBe(false)
    expect((config.test?.setupFiles as string[])[0]).toBe('test/support/file-isolation.ts')
    // all forks live to the end (see the config)
    expect(config.test?.poolOptions?.forks?.minForks).toBe(config.test?.poolOptions?.forks?.maxForks)
  })

  it('the environment, the working folder, stubs, fake timers, signal listeners and the exit code come back', () => {
    const cwd = process.cwd()
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'obsctl-snapshot-')))
    process.env.OBSCTL_SNAPSHOT_KEPT = 'before'
    const home = process.env.HOME
    const sigints = process.listenerCount('SIGINT')
    const restore = snapshotProcess()
    try {
      process.env.OBSCTL_SNAPSHOT_ADDED = 'x'
      process.env.OBSCTL_SNAPSHOT_KEPT = 'changed'
      delete process.env.HOME
      vi.stubEnv('OBSCTL_SNAPSHOT_STUBBED', 'y')
      vi.stubGlobal('obsctlSnapshotGlobal', 1)
      vi.useFakeTimers()
      process.chdir(dir)
      process.on('SIGINT', () => {})
      process.exitCode = 3
      restore()
      expect(process.env.OBSCTL_SNAPSHOT_ADDED).toBeUndefined()
      expect(process.env.OBSCTL_SNAPSHOT_STUBBED).toBeUndefined()
      expect(process.env.OBSCTL_SNAPSHOT_KEPT).toBe('before')
      expect(process.env.HOME).toBe(home)
      expect('obsctlSnapshotGlobal' in globalThis).toBe(false)
      expect(vi.isFakeTimers()).toBe(false)
      expect(process.cwd()).toBe(cwd)
      expect(process.listenerCount('SIGINT')).toBe(sigints)
      expect(process.exitCode).toBeUndefined()
    } finally {
      delete process.env.OBSCTL_SNAPSHOT_KEPT
      process.chdir(cwd)
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
