/**
 * `.obsctl/` is private: created 0700 by the README's first commands, folders under it 0700, files that
 * may hold credentials or findings 0600 — and an existing folder left too open is tightened. Also the
 * one CI detection ($CI=false / 0 is not CI).
 */
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isCI} from '../../src/lib/prompt.js'
import {ensurePrivateDir, writeFileAtomic} from '../../src/lib/fs.js'
import {recordVerdict, recordFile} from '../../src/lib/validate/record.js'
import {obsctl, requireBuild, runProcess} from '../cli/helpers.js'
import {FIXTURE_RUN, tmpInventory} from './helpers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
beforeAll(() => requireBuild())

const mode = (p: string) => statSync(p).mode & 0o777

/** every folder and file under dir, with its mode */
function modes(dir: string, skip: (rel: string) => boolean = () => false): {rel: string; dir: boolean; mode: number}[] {
  const out: {rel: string; dir: boolean; mode: number}[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      const rel = path.relative(dir, p)
      if (skip(rel)) continue
      out.push({rel, dir: e.isDirectory(), mode: mode(p)})
      if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out
}

describe('.obsctl/ is private', () => {
  it('the README’s first commands (init --example, bootstrap --all --dry-run) create it 0700, every folder in it 0700', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-private-'))
    dirs.push(dir)
    expect((await obsctl(['init', '--example'], {cwd: dir})).status).toBe(0)
    const dry = await obsctl(['bootstrap', '--all', '--dry-run'], {cwd: dir})
    expect(dry.status, dry.stderr).toBe(0)
    const state = path.join(dir, '.obsctl')
    expect(mode(state)).toBe(0o700)
    expect(mode(path.join(state, 'dry-run'))).toBe(0o700)
    // the rendered preview (public manifests, no credentials) lives behind the 0700 folder
    expect(
      modes(state)
        .filter((e) => e.dir && !e.rel.startsWith(path.join('dry-run', 'gitops', '')))
        .every((e) => e.mode === 0o700),
    ).toBe(true)
  })

  it('a run tightens a too-open .obsctl/ and logs/ left by an older version; journal, lock and logs are 0600', async () => {
    const t = tmpInventory()
    dirs.push(t.dir)
    const state = path.join(t.dir, '.obsctl')
    mkdirSync(path.join(state, 'logs', 'old-run'), {recursive: true})
    chmodSync(state, 0o755)
    chmodSync(path.join(state, 'logs'), 0o755)
    chmodSync(path.join(state, 'logs', 'old-run'), 0o777)
    const r = await runProcess(process.execPath, [FIXTURE_RUN, t.file, JSON.stringify({dir: t.dir})], {env: {...process.env, CI: '1'}})
    expect(r.status, r.stderr).toBe(0)
    expect(mode(state)).toBe(0o700)
    expect(mode(path.join(state, 'logs'))).toBe(0o700)
    const all = modes(state, (rel) => rel === path.join('logs', 'old-run'))
    expect(all.filter((e) => e.dir).map((e) => [e.rel, e.mode.toString(8)])).toEqual(all.filter((e) => e.dir).map((e) => [e.rel, '700']))
    const files = all.filter((e) => !e.dir)
    expect(files.some((e) => e.rel === 'state.json')).toBe(true)
    expect(files.some((e) => e.rel.endsWith('.log'))).toBe(true)
    expect(files.map((e) => [e.rel, e.mode.toString(8)])).toEqual(files.map((e) => [e.rel, '600']))
  })

  it('findings (validation.json) and anything written atomically under .obsctl/ default to 0600; ensurePrivateDir makes nested folders 0700', async () => {
    const t = tmpInventory()
    dirs.push(t.dir)
    const {dir, inv} = t
    await recordVerdict(inv, {ok: true, components: ['prometheus'], summary: {pass: 1, warn: 0, fail: 0}, skipped: [], checks: []} as never)
    expect(mode(path.join(dir, '.obsctl'))).toBe(0o700)
    expect(mode(recordFile(inv))).toBe(0o600)
    await writeFileAtomic(path.join(dir, '.obsctl', 'backups', 'x.yaml'), 'x')
    expect(mode(path.join(dir, '.obsctl', 'backups'))).toBe(0o700)
    expect(mode(path.join(dir, '.obsctl', 'backups', 'x.yaml'))).toBe(0o600)
    // outside .obsctl/ nothing is forced
    await writeFileAtomic(path.join(dir, 'public', 'y.txt'), 'y')
    expect(mode(path.join(dir, 'public', 'y.txt'))).toBe(0o644)
    chmodSync(path.join(dir, '.obsctl'), 0o711)
    ensurePrivateDir(path.join(dir, '.obsctl', 'pki', 'deeper'))
    for (const d of ['.obsctl', '.obsctl/pki', '.obsctl/pki/deeper']) expect(mode(path.join(dir, d)), d).toBe(0o700)
  })
})

describe('CI detection', () => {
  it('CI set to anything but empty, false, 0 or no (any case) is CI', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'github-actions', 'woodpecker']) expect(isCI({CI: v}), v).toBe(true)
    for (const v of [undefined, '', ' ', 'false', 'False', 'FALSE', '0', 'no', 'NO']) expect(isCI(v === undefined ? {} : {CI: v}), String(v)).toBe(false)
  })
})
