/**
 * The render manifest (.obsctl-render.json) is committed with the GitOps repository, so anyone who can push to it
 * writes the list of files the next render removes as "no longer rendered". A path in it that leaves the render
 * folder (`../x`, `/x`, `a/../../x`) named a file outside it, and render unlinked it (with a matching hash, or with
 * --force whatever the hash). Such a manifest is refused before anything is read, written or removed.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {MANIFEST_FILE, planRender, readManifest} from '../../src/lib/gitops/render.js'
import {sha256} from '../../src/lib/hash.js'
import {obsctlAsync} from '../cli/helpers.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-manifest-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const VICTIM = 'precious\n'

function setUp(entries: Record<string, string>, previous?: Record<string, string[]>): {out: string; victim: string} {
  const out = path.join(dir, 'out')
  const victim = path.join(dir, 'victim.txt')
  writeFileSync(victim, VICTIM)
  rmSync(out, {recursive: true, force: true})
  mkdirSync(out)
  writeFileSync(path.join(out, MANIFEST_FILE), JSON.stringify({version: 1, files: entries, ...(previous ? {previous} : {})}))
  return {out, victim}
}

describe('readManifest refuses paths that leave the render folder', () => {
  it.each([['../victim.txt'], ['deploy/../../victim.txt'], ['/etc/passwd'], ['a//b'], ['./a'], ['a/./b'], ['a\0b'], ['a\\..\\b'], ['']])('%j', (p) => {
    const {out, victim} = setUp({[p]: sha256(VICTIM)})
    expect(() => readManifest(out)).toThrow(expect.objectContaining({code: 'RENDER_MANIFEST', message: expect.stringContaining(JSON.stringify(p))}))
    expect(() => planRender(out, [], {force: true})).toThrow(/not a path inside/)
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM)
  })
  it('in `previous` too (an interrupted render’s list)', () => {
    const {out} = setUp({'a.yaml': sha256('x')}, {'../victim.txt': [sha256(VICTIM)]})
    expect(() => readManifest(out)).toThrow(/not a path inside/)
  })
  it('the paths obsctl writes are taken', () => {
    const {out} = setUp({
      'argocd/root-app.yaml': sha256('x'),
      'deploy/overlays/cluster-01-central/thanos/ingress.yaml': sha256('y'),
      '.hidden.json': sha256('z'),
    })
    expect(Object.keys(readManifest(out).files)).toHaveLength(3)
  })
})

describe('obsctl render --out: a manifest naming a file outside is refused; the file stays', () => {
  it('render --force does not remove ../victim.txt', async () => {
    const inv = path.join(dir, 'obsctl.yaml')
    writeFileSync(inv, renderInventoryYaml(EXAMPLE_ANSWERS))
    const {out, victim} = setUp({'../victim.txt': sha256(VICTIM)})
    const r = await obsctlAsync(['render', '-c', inv, '--out', out, '--force'])
    expect(r.status, r.stdout + r.stderr).toBe(1)
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/\.obsctl-render\.json lists "\.\.\/victim\.txt", which is not a path inside/)
    expect(existsSync(victim)).toBe(true)
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM)
  })
})
