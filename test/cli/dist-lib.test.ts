/**
 * tsc's output (dist/lib, ES modules) is what the benches and some tests import with plain Node, not through
 * vitest's transform or the CLI's bundle, both of which forgive what Node's ES module loader does not: a named
 * import Node cannot find in a CommonJS module (ssh2's keyParser, whose exports cjs-module-lexer cannot read)
 * made bench/fanout.bench.js fail to start while every test passed.
 */
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {requireBuild, ROOT, runProcess} from './helpers.js'

beforeAll(() => requireBuild())

describe('dist/lib', () => {
  it('every module loads in plain Node (node --input-type=module)', async () => {
    const script = `
      import {readdirSync} from 'node:fs'
      import path from 'node:path'
      import {pathToFileURL} from 'node:url'
      const dir = process.argv[1]
      const files = readdirSync(dir, {recursive: true}).map(String).filter((f) => f.endsWith('.js')).sort()
      const failed = []
      for (const f of files) {
        try {
          await import(pathToFileURL(path.join(dir, f)).href)
        } catch (e) {
          failed.push(f + ': ' + String(e.message).split('\\n')[0])
        }
      }
      console.log(JSON.stringify({count: files.length, failed}))`
    const r = await runProcess(process.execPath, ['--input-type=module', '-e', script, path.join(ROOT, 'dist', 'lib')], {cwd: ROOT})
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {count: number; failed: string[]}
    expect(out.count).toBeGreaterThan(150)
    expect(out.failed).toEqual([])
  })
})
