/**
 * src/lib/join-plain.ts: a folder and a relative path of plain names joined without normalising, anything else through
 * path.join. Checked against path.join itself (Node's, the upstream of what it replaces).
 */
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {isPlainRelative, joinPlain} from '../../src/lib/join-plain.js'

describe('joinPlain', () => {
  const dirs = ['/srv/gitops', '/srv/gitops/', '/', 'gitops', 'a/b']
  const plain = ['x.yaml', 'clusters/cluster-01/values.yaml', '.hidden', 'a/.b/c', '..data/x', 'a..b', 'chunk-X.js', '...']
  const other = ['', '.', '..', './x', '../x', 'a/./b', 'a/../b', 'a//b', 'a/', '/abs', 'x/..', 'x/.']

  it('is path.join for a normalised folder and a path of plain names, without normalising', () => {
    for (const rel of plain) {
      expect(isPlainRelative(rel), rel).toBe(true)
      for (const dir of dirs) expect(joinPlain(dir, rel), `${dir} + ${rel}`).toBe(path.join(dir, rel))
    }
  })

  it("goes through path.join for '.', '..', empty segments, absolute paths and an empty folder", () => {
    for (const rel of other) {
      expect(isPlainRelative(rel), rel).toBe(false)
      for (const dir of [...dirs, '']) expect(joinPlain(dir, rel), `${dir} + ${rel}`).toBe(path.join(dir, rel))
    }
    for (const rel of plain) expect(joinPlain('', rel)).toBe(path.join('', rel))
  })

  it('keeps a folder as given where it is not normalised: the same file, another spelling', () => {
    expect(joinPlain('./out', 'a/b.yaml')).toBe('./out/a/b.yaml')
    expect(path.resolve(joinPlain('./out', 'a/b.yaml'))).toBe(path.resolve(path.join('./out', 'a/b.yaml')))
  })
})
