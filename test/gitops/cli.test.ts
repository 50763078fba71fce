// The command end to end through the built binary (npm run build first; `npm test` does).
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS} from '../../src/lib/config/index.js'
import {obsctl, requireBuild} from '../cli/helpers.js'
import {inventoryText} from './support.js'

const bin = path.resolve('bin/run.js')
const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-render-cli-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const run = (...args: string[]) => {
  try {
    return {stdout: execFileSync('node', [bin, ...args], {cwd: tmp, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}}), code: 0}
  } catch (error) {
    const e = error as {stdout: string; status: number}
    return {stdout: String(e.stdout), code: e.status}
  }
}

describe('obsctl render (binary)', () => {
  it('renders the example to --out, then says no changes; --json returns the same result', () => {
    writeFileSync(path.join(tmp, 'obsctl.yaml'), inventoryText())
    const first = run('render', '--out', 'repo')
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('+ argocd/root-app.yaml')
    expect(first.stdout).toMatch(/\d+ added, 0 changed, 0 removed/)
    const second = run('render', '--out', 'repo', '--json')
    expect(second.code).toBe(0)
    const r = JSON.parse(second.stdout) as {noChanges: boolean; added: string[]; dir: string}
    expect(r.noChanges).toBe(true)
    expect(r.dir).toBe(path.join(tmp, 'repo'))
  })

  it('a hand edit makes render exit 1 with the diff', () => {
    writeFileSync(path.join(tmp, 'repo/argocd/root-app.yaml'), 'edited\n')
    const r = run('render', '--out', 'repo', '--json')
    expect(r.code).toBe(1)
    const e = JSON.parse(r.stdout) as {error: {code: string}}
    expect(e.error.code).toBe('RENDER_CONFLICT')
  })
})

describe('obsctl render refuses an inventory config validate rejects, as bootstrap does', () => {
  it('two clusters with id "01": exit 2 with every error at its file:line, --dry-run and --json too; nothing written, committed or pushed', async () => {
    requireBuild()
    const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-render-lint-'))
    try {
      const remote = path.join(dir, 'remote.git')
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote])
      const text = inventoryText({...EXAMPLE_ANSWERS, gitRemote: remote})
      writeFileSync(path.join(dir, 'obsctl.yaml'), text.replace(/id: "02"/, 'id: "01"'))
      const file = path.join(dir, 'obsctl.yaml')

      const push = await obsctl(['render', '--push'], {cwd: dir})
      expect(push.status, push.stderr).toBe(2)
      // worded as a schema error is (the same situation: the file as it is on disk)
      expect(push.stderr).toMatch(new RegExp(`^Error: invalid inventory ${file.replaceAll('.', '\\.')}:$`, 'm'))
      expect(push.stderr).toMatch(/:\d+:\d+ clusters\[1\]\.id: duplicate cluster id "01"/)
      expect(push.stderr).toContain('→ obsctl config validate shows every finding with its fix')
      expect(existsSync(path.join(dir, 'gitops'))).toBe(false)
      expect(execFileSync('git', ['--git-dir', remote, 'for-each-ref'], {encoding: 'utf8'})).toBe('')

      // the dry run says what the real run would: the same error as bootstrap's (its dry run refuses too)
      const dry = await obsctl(['render', '--dry-run', '--json'], {cwd: dir})
      const boot = await obsctl(['bootstrap', '--phase', 'render', '--dry-run', '--json'], {cwd: dir})
      expect(dry.status).toBe(2)
      const e = JSON.parse(dry.stdout) as {error: {code: string; message: string; exitCode: number; details: {errors: number}}}
      expect(e.error).toMatchObject({code: 'CONFIG_INVALID', exitCode: 2, details: {errors: 1}})
      expect(boot.status).toBe(2)
      expect(e.error.message).toBe((JSON.parse(boot.stdout) as typeof e).error.message)
      expect(existsSync(path.join(dir, 'gitops'))).toBe(false)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
