/**
 * Paths that are not what obsctl expects: each is exit 2 naming the path (and the flag or env var that fixes it), and
 * nothing is written. Device nodes and FIFOs are made in the test's own folder (mknod needs root: skipped loudly without).
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
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

describe('a file where obsctl wants a folder', () => {
  it('init: .obsctl a file is exit 2 naming it, and the inventory is not written (a rerun needs no --force)', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, '.obsctl'), 'mine\n')
    const r = await obsctl(['init', '--example'], {cwd: dir})
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`${path.join(dir, '.obsctl')} is a file, not a folder`)
    expect(readdirSync(dir)).toEqual(['.obsctl'])
    expect(readFileSync(path.join(dir, '.obsctl'), 'utf8')).toBe('mine\n')
  })

  it('init -c under a file: exit 2 naming the file in the way', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'f'), 'mine\n')
    const r = await obsctl(['init', '--example', '-c', 'f/obsctl.yaml'], {cwd: dir})
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`${path.join(dir, 'f')} is a file, not a folder`)
    expect(r.stderr).toContain('-c/--config')
    expect(readdirSync(dir)).toEqual(['f'])
  })

  it('state reset: .obsctl a file is exit 2 naming it, the file untouched', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'obsctl.yaml'), EXAMPLE)
    writeFileSync(path.join(dir, '.obsctl'), 'mine\n')
    const r = await obsctl(['state', 'reset', '--yes'], {cwd: dir})
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`${path.join(dir, '.obsctl')} is a file, not a folder`)
    expect(readFileSync(path.join(dir, '.obsctl'), 'utf8')).toBe('mine\n')
  })

  it('render --out FILE: exit 2 naming the file and --out, the file untouched', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'obsctl.yaml'), EXAMPLE)
    writeFileSync(path.join(dir, 'out'), 'mine\n')
    const r = await obsctl(['render', '--out', 'out'], {cwd: dir})
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`${path.join(dir, 'out')} is a file, not a folder`)
    expect(r.stderr).toContain('--out')
    expect(readFileSync(path.join(dir, 'out'), 'utf8')).toBe('mine\n')
  })
})
