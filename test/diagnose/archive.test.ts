/**
 * The diagnosis archive (src/lib/diagnose/archive.ts) written entry by entry: read back with the real tar, entries taken
 * one at a time as the archive is ready for them, and a failure on either side (an entry that cannot be made, the file
 * that cannot be written) leaves an earlier archive as it was and no temporary file behind.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hold, release, writeTarGz, type ArchiveEntry} from '../../src/lib/diagnose/archive.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-archive-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** a log-like text of about `kib` KiB, different for each n */
const logText = (n: number, kib: number) =>
  Array.from({length: kib * 16}, (_, i) => `2026-12-06T10:00:${String(i % 60).padStart(2, '0')}Z [info] entry ${n} line ${i} ok\n`).join('')

describe('writeTarGz', () => {
  it('many entries, each taken when the archive is ready for it: all of them in the archive, in order, 0600', async () => {
    const out = path.join(dir, 'many.tar.gz')
    let taken = 0
    let writtenBefore = -1
    function* entries(): Generator<ArchiveEntry> {
      for (let n = 0; n < 200; n++) {
        taken++
        // half-way, the archive already has bytes on their way to the file: it is not built whole first
        if (n === 100) writtenBefore = readdirSync(dir).filter((f) => f.startsWith('.many.tar.gz.')).length
        yield {name: `root/logs/${n}.log`, content: logText(n, 64)}
      }
    }
    const bytes = await writeTarGz(out, entries(), new Date('2026-12-06T10:00:00Z'))
    expect(taken).toBe(200)
    expect(writtenBefore).toBe(1)
    expect(bytes).toBe(statSync(out).size)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const listed = execFileSync('tar', ['-tzf', out], {encoding: 'utf8', maxBuffer: 1 << 24})
      .trim()
      .split('\n')
    expect(listed).toEqual(Array.from({length: 200}, (_, n) => `root/logs/${n}.log`))
    const x = path.join(dir, 'x')
    mkdirSync(x)
    execFileSync('tar', ['-xzf', out, '-C', x])
    for (const n of [0, 99, 199]) expect(readFileSync(path.join(x, 'root', 'logs', `${n}.log`), 'utf8')).toBe(logText(n, 64))
    expect(readdirSync(dir).filter((f) => f.includes('obsctl-tmp'))).toEqual([])
  })

  it('an entry that cannot be made: the error as thrown, an earlier archive as it was, no temporary file', async () => {
    const out = path.join(dir, 'earlier.tar.gz')
    writeFileSync(out, 'an earlier archive')
    function* entries(): Generator<ArchiveEntry> {
      yield {name: 'root/a.log', content: logText(1, 256)}
      throw new Error('the third cluster could not be read')
    }
    await expect(writeTarGz(out, entries())).rejects.toThrow('the third cluster could not be read')
    expect(readFileSync(out, 'utf8')).toBe('an earlier archive')
    expect(readdirSync(dir).filter((f) => f.includes('obsctl-tmp'))).toEqual([])
  })

  it('the file that cannot be written (its folder removed half-way): the write error, naming the file; nothing left', async () => {
    const sub = path.join(dir, 'gone')
    mkdirSync(sub)
    const out = path.join(sub, 'diag.tar.gz')
    function* entries(): Generator<ArchiveEntry> {
      for (let n = 0; n < 50; n++) {
        if (n === 25) rmSync(sub, {recursive: true, force: true})
        yield {name: `root/${n}.log`, content: logText(n, 64)}
      }
    }
    await expect(writeTarGz(out, entries())).rejects.toThrow(/diag\.tar\.gz/)
    expect(() => statSync(sub)).toThrow()
  })
})

describe('hold / release', () => {
  it('an entry held is the same text when released, in a fraction of its size for a log', () => {
    const e = {name: 'clusters/c/logs/a.log', content: `${logText(7, 256)}ünïcödé €\n`}
    const h = hold(e)
    expect(release(h)).toEqual(e)
    expect(h.deflated.length).toBeLessThan(Buffer.byteLength(e.content) / 5)
  })
})
