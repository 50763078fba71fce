/**
 * Paths that are not what obsctl expects: each is exit 2 naming the path (and the flag or env var that fixes it), and
 * nothing is written. Device nodes and FIFOs are made in the test's own folder (mknod needs root: skipped loudly without).
 */
import {readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {obsctl, requireBuild, tmpDir} from './helpers.js'

const EXAMPLE = renderInventoryYaml(EXAMPLE_ANSWERS)

beforeAll(() => requireBuild())

describe('an empty -c or OBSCTL_CONFIG', () => {
  it('an empty OBSCTL_CONFIG counts as unset: ./obsctl.yaml is read', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'obsctl.yaml'), EXAMPLE)
    const r = await obsctl(['config', 'validate', '--json'], {cwd: dir, env: {OBSCTL_CONFIG: ''}})
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).errors).toBe(0)
  })

  it('an empty -c is exit 2 naming -c/--config, and init writes nothing', async () => {
    const dir = tmpDir()
    for (const args of [
      ['init', '--example', '-c', ''],
      ['init', '--example', '--force', '--config='],
      ['config', 'validate', '-c', ''],
    ]) {
      const r = await obsctl(args, {cwd: dir})
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toContain('-c/--config is empty')
    }
    expect(readdirSync(dir)).toEqual([])
  })
})
