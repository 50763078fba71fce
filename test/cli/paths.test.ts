/**
 * Paths that are not what obsctl expects: each is exit 2 naming the path (and the flag or env var that fixes it), and
 * nothing is written. Device nodes and FIFOs are made in the test's own folder (mknod needs root: skipped loudly without).
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {BIN, obsctl, requireBuild, runProcess, tmpDir} from './helpers.js'

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

  it.each([
    {what: 'state reset: .obsctl', file: '.obsctl', args: ['state', 'reset', '--yes'], names: []},
    {what: 'render --out FILE', file: 'out', args: ['render', '--out', 'out'], names: ['--out']},
  ])('$what a file where a folder belongs: exit 2 naming it, the file untouched', async ({file, args, names}) => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'obsctl.yaml'), EXAMPLE)
    writeFileSync(path.join(dir, file), 'mine\n')
    const r = await obsctl(args, {cwd: dir})
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(`${path.join(dir, file)} is a file, not a folder`)
    for (const n of names) expect(r.stderr).toContain(n)
    expect(readFileSync(path.join(dir, file), 'utf8')).toBe('mine\n')
  })
})

const asRoot = process.getuid?.() === 0
const NOBODY = 65534

/** special files made in `dir`: a FIFO always, a character device (1,3: what /dev/null is) only as root (mknod) */
function specials(dir: string): {name: string; kind: string}[] {
  const out = [{name: 'fifo', kind: 'a FIFO (named pipe)'}]
  expect(spawnSync('mkfifo', [path.join(dir, 'fifo')]).status).toBe(0)
  if (asRoot) {
    expect(spawnSync('mknod', [path.join(dir, 'chr'), 'c', '1', '3']).status).toBe(0)
    out.push({name: 'chr', kind: 'a character device'})
  } else console.warn('not root: the character device case is skipped (mknod needs root)')
  return out
}

describe('a -c that is not a regular file', () => {
  it('init --force refuses a FIFO, a character device and a folder: exit 2 naming each, nothing written', async () => {
    const dir = tmpDir()
    mkdirSync(path.join(dir, 'folder'))
    const cases = [...specials(dir), {name: 'folder', kind: 'a folder'}]
    const before = readdirSync(dir).sort()
    for (const c of cases) {
      const r = await obsctl(['init', '--example', '-c', c.name, '--force'], {cwd: dir})
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toContain(`${path.join(dir, c.name)} is ${c.kind}, not a regular file`)
      expect(r.stderr).toContain('-c/--config')
      expect(r.stderr).not.toMatch(/\.\d{5,}/)
    }
    expect(lstatSync(path.join(dir, 'fifo')).isFIFO()).toBe(true)
    if (asRoot) expect(lstatSync(path.join(dir, 'chr')).isCharacterDevice()).toBe(true)
    expect(readdirSync(path.join(dir, 'folder'))).toEqual([])
    expect(readdirSync(dir).sort()).toEqual(before)
  })

  it('init --force still writes through a symlink to a regular file, which stays a symlink', async () => {
    const dir = tmpDir()
    writeFileSync(path.join(dir, 'real.yaml'), '# mine\n')
    symlinkSync('real.yaml', path.join(dir, 'link.yaml'))
    const r = await obsctl(['init', '--example', '-c', 'link.yaml', '--force'], {cwd: dir})
    expect(r.status, r.stderr).toBe(0)
    expect(lstatSync(path.join(dir, 'link.yaml')).isSymbolicLink()).toBe(true)
    expect(readFileSync(path.join(dir, 'real.yaml'), 'utf8')).toContain('kind: Platform')
  })

  it('config validate -c FIFO or device is exit 2 at once (it hung reading the FIFO)', async () => {
    const dir = tmpDir()
    for (const c of specials(dir)) {
      // a generous deadline: a hang is killed (status null) and fails the test, it does not stall the suite
      const r = await obsctl(['config', 'validate', '-c', c.name], {cwd: dir, timeoutMs: 60_000})
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toContain(`cannot read inventory ${path.join(dir, c.name)}: it is ${c.kind}, not a regular file`)
      expect(r.stderr).toContain('-c/--config')
    }
  })
})

describe('errors name the file, not the temporary file of its atomic write', () => {
  it('init -c into a read-only folder: "cannot create the folder …/ro/.obsctl: permission denied"', async () => {
    const dir = tmpDir()
    const ro = path.join(dir, 'ro')
    const home = path.join(dir, 'home')
    mkdirSync(ro)
    mkdirSync(home)
    chmodSync(ro, 0o555)
    // root ignores file modes: run as nobody, to whom the root-owned ro/ is read-only
    if (asRoot) {
      for (let d = dir; d !== path.dirname(d) && d.startsWith(tmpdir()); d = path.dirname(d)) chmodSync(d, statSync(d).mode | 0o711)
      chmodSync(home, 0o777)
    }
    const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1', HOME: home, XDG_CACHE_HOME: home}
    delete env.OBSCTL_CONFIG
    const r = await runProcess(process.execPath, [BIN, 'init', '--example', '-c', 'ro/x.yaml'], {cwd: dir, env, uid: asRoot ? NOBODY : undefined})
    expect(r.status, r.stderr).toBe(1)
    // init writes .obsctl/schema.json first and the inventory last (a failed init leaves no inventory: disk-full.test.ts)
    expect(r.stderr).toContain(`cannot create the folder ${path.join(ro, '.obsctl')}: permission denied`)
    expect(r.stderr).not.toMatch(/x\.yaml\.\d|obsctl-tmp/)
    expect(readdirSync(ro)).toEqual([])
  })
})
