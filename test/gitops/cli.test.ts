// The command end to end through the built binary (npm run build first; `npm test` does).
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
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
