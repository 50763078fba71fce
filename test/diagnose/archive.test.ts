/**
 * The diagnosis archive (src/lib/diagnose/archive.ts) written entry by entry: read back with the real tar, entries taken
 * one at a time as the archive is ready for them, and a failure on either side (an entry that cannot be made, the file
 * that cannot be written) leaves an earlier archive as it was and no temporary file behind. And what the command
 * prints about it (formatDiagnose), for a few clusters and for a fleet.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hold, release, writeTarGz, type ArchiveEntry} from '../../src/lib/diagnose/archive.js'
import {formatDiagnose, type DiagnoseResult} from '../../src/lib/diagnose/collect.js'

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

  it('the file refused before a byte is written (a folder in its place): its error, not a wait on a tar nobody reads', async () => {
    const folder = path.join(dir, 'a-folder.tar.gz')
    mkdirSync(folder)
    let taken = 0
    function* entries(): Generator<ArchiveEntry> {
      for (let n = 0; n < 50; n++) {
        taken++
        yield {name: `root/${n}.log`, content: logText(n, 64)}
      }
    }
    await expect(writeTarGz(folder, entries())).rejects.toThrow(/a-folder\.tar\.gz/)
    // it stopped at the entry the tar had no room for, not after all of them
    expect(taken).toBeLessThan(50)
    expect(readdirSync(folder)).toEqual([])
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

describe('formatDiagnose: what a fleet reads', () => {
  const result = (clusters: DiagnoseResult['clusters'], problems: DiagnoseResult['problems'] = []): DiagnoseResult => ({
    file: '/tmp/obsctl-diagnose.tar.gz',
    bytes: 40 * 1024,
    clusters,
    entries: ['a', 'b'],
    problems,
    scrubbedValues: 3,
  })

  it('a few clusters: a line each', () => {
    const text = formatDiagnose(
      result([
        {name: 'cluster-01', reachable: true, notReadyPods: 1, events: 2},
        {name: 'cluster-02', reachable: false, notReadyPods: 0, events: 0},
      ]),
    )
    expect(text.split('\n')).toEqual([
      'wrote /tmp/obsctl-diagnose.tar.gz (40 KiB, 2 files)',
      '  cluster-01: 1 pod(s) not Ready, 2 event(s)',
      '  cluster-02: NOT reachable (recorded in the archive)',
      'secrets: none collected; known secret values and token patterns are scrubbed',
    ])
  })

  it('1,000 clusters: a few lines, the unreachable and the most troubled named first', () => {
    const clusters = Array.from({length: 1000}, (_, i) => {
      const name = `cluster-${String(i + 1).padStart(4, '0')}`
      return {name, reachable: i % 250 !== 7, notReadyPods: i % 100 === 3 ? 20 : i % 2, events: 1}
    })
    const lines = formatDiagnose(result(clusters)).split('\n')
    expect(lines).toEqual([
      'wrote /tmp/obsctl-diagnose.tar.gz (40 KiB, 2 files)',
      '  1000 clusters: 996 reachable, 4 NOT reachable (recorded in the archive): cluster-0008, cluster-0258, cluster-0508 and cluster-0758',
      '  pods not Ready: 686 on 496 clusters, most on cluster-0004 (20), cluster-0104 (20), cluster-0204 (20), cluster-0304 (20), cluster-0404 (20), cluster-0504 (20), cluster-0604 (20), cluster-0704 (20) and 488 more',
      '  events: 996 (per cluster in manifest.json and diagnose --json)',
      'secrets: none collected; known secret values and token patterns are scrubbed',
    ])
    // every cluster reachable, one with pods not Ready
    const calm = clusters.map((c, i) => ({...c, reachable: true, notReadyPods: i === 41 ? 2 : 0}))
    expect(formatDiagnose(result(calm)).split('\n').slice(1, 3)).toEqual([
      '  1000 clusters: 1000 reachable',
      '  pods not Ready: 2 on 1 cluster, most on cluster-0042 (2)',
    ])
  })
})
