/**
 * Colour and paging (src/lib/style.ts, src/lib/cli/pager.ts): the rules that decide colour (NO_COLOR wins,
 * FORCE_COLOR even in a pipe, else a terminal only), what gets coloured (icons, status cells, diffs) with
 * tables still aligned, when a diff is paged; then the built CLI: coloured with FORCE_COLOR, plain in a pipe
 * and with NO_COLOR, JSON never coloured. A real terminal is in test/cli/terminal.test.ts.
 */
import {stripVTControlCharacters} from 'node:util'
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {Chalk, type ChalkInstance} from 'chalk'
import {colorDiff, colorIcons, colorLevel, hasDiff, paint, setColorLevel} from '../../src/lib/style.js'
import {stripColor} from '../../src/lib/wrap.js'
import {pagerFor} from '../../src/lib/cli/pager.js'
import {table} from '../../src/lib/cli/format.js'
import {unifiedDiff} from '../../src/lib/diff.js'
import {obsctl, tmpDir} from './helpers.js'

const ESC = '\u001b['

describe('colorLevel', () => {
  it('a terminal gets colour, a pipe none', () => {
    expect(colorLevel({isTTY: true}, {TERM: 'xterm'})).toBe(1)
    expect(colorLevel({isTTY: true}, {TERM: 'xterm-256color'})).toBe(2)
    expect(colorLevel({isTTY: true}, {COLORTERM: 'truecolor'})).toBe(3)
    expect(colorLevel({isTTY: false}, {TERM: 'xterm'})).toBe(0)
    expect(colorLevel({isTTY: true}, {TERM: 'dumb'})).toBe(0)
  })
  it('NO_COLOR (not empty) turns it off, whatever else is set', () => {
    expect(colorLevel({isTTY: true}, {NO_COLOR: '1'})).toBe(0)
    expect(colorLevel({isTTY: true}, {NO_COLOR: '1', FORCE_COLOR: '3'})).toBe(0)
    expect(colorLevel({isTTY: true}, {NO_COLOR: ''})).toBe(1)
  })
  it('FORCE_COLOR turns it on in a pipe, 0/false off on a terminal', () => {
    expect(colorLevel({isTTY: false}, {FORCE_COLOR: '1'})).toBe(1)
    expect(colorLevel({isTTY: false}, {FORCE_COLOR: ''})).toBe(1)
    expect(colorLevel({isTTY: false}, {FORCE_COLOR: '3'})).toBe(3)
    expect(colorLevel({isTTY: true}, {FORCE_COLOR: '0'})).toBe(0)
    expect(colorLevel({isTTY: true}, {FORCE_COLOR: 'false'})).toBe(0)
  })
})

describe('what is coloured', () => {
  afterEach(() => setColorLevel(undefined))
  const diff = unifiedDiff('a.yaml', 'b.yaml', 'x: 1\ny: 2\nz: 3\n', 'x: 1\ny: 3\nz: 3\n')

  it('at level 0 nothing changes', () => {
    setColorLevel(0)
    expect(colorDiff(diff)).toBe(diff)
    expect(colorIcons('✔ a ✖ b')).toBe('✔ a ✖ b')
    expect(table(['A', 'STATUS'], [['x', 'failed']])).not.toContain(ESC)
  })

  it("level 0 is chalk's level 0 without chalk: every style and chain gives the same text, `visible` nothing, `level` 0", () => {
    setColorLevel(0)
    const ours = paint()
    const theirs = new Chalk({level: 0})
    expect(ours.level).toBe(0)
    const cases: [string, (c: ChalkInstance) => string][] = [
      ['red', (c) => c.red('x')],
      ['bold.red', (c) => c.bold.red('a b')],
      ['dim.underline.cyan', (c) => c.dim.underline.cyan('\u001b[1mkept\u001b[22m')],
      ['two arguments', (c) => c.green('a', 'b')],
      ['a number', (c) => c.yellow(42 as unknown as string)],
      ['empty', (c) => c.magenta('')],
      ['visible', (c) => c.visible('gone')],
      ['visible chained', (c) => c.visible.red('gone')],
    ]
    for (const [name, f] of cases) expect(f(ours), name).toBe(f(theirs))
    // at a level above 0 it is chalk
    setColorLevel(1)
    expect(paint().red('x')).toBe(new Chalk({level: 1}).red('x'))
  })

  it('diffs: removed red, added green, hunk cyan, headers bold; also indented, and other lines untouched', () => {
    setColorLevel(1)
    const indented = `✖ cluster-01\n${diff
      .trimEnd()
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n')}\nDrift: 1/1 Applications`
    for (const text of [diff, indented]) {
      const out = colorDiff(text)
      expect(stripColor(out)).toBe(text)
      const lines = out.split('\n')
      expect(lines.find((l) => l.includes('-y: 2'))).toContain(`${ESC}31m-y: 2`)
      expect(lines.find((l) => l.includes('+y: 3'))).toContain(`${ESC}32m+y: 3`)
      expect(lines.find((l) => l.includes('@@'))).toContain(`${ESC}36m@@`)
      expect(lines.find((l) => l.includes('--- a.yaml'))).toContain(`${ESC}1m`)
    }
    expect(colorDiff(indented).split('\n').at(-1)).toBe('Drift: 1/1 Applications')
    expect(hasDiff(indented)).toBe(true)
    expect(hasDiff('- a list\n+ not a diff')).toBe(false)
  })

  it('status cells and icons in their colour, and the table stays aligned', () => {
    setColorLevel(1)
    const t = table(
      ['PHASE', 'RESULT', 'DETAIL'],
      [
        ['nodes', 'failed', 'x'],
        ['preflight', 'done', 'y'],
        ['sync', 'would run', 'z'],
        ['dns', '✔ pass', 'w'],
      ],
    )
    expect(t).toContain(`${ESC}31mfailed`)
    expect(t).toContain(`${ESC}32mdone`)
    expect(t).toContain(`${ESC}35mwould run`)
    expect(t).toContain(`${ESC}32m✔ pass`)
    setColorLevel(0)
    const plain = table(
      ['PHASE', 'RESULT', 'DETAIL'],
      [
        ['nodes', 'failed', 'x'],
        ['preflight', 'done', 'y'],
        ['sync', 'would run', 'z'],
        ['dns', '✔ pass', 'w'],
      ],
    )
    expect(stripVTControlCharacters(t)).toBe(plain)
    setColorLevel(1)
    expect(colorIcons('✔ ok ✖ bad ‼ warn')).toBe(`${ESC}32m✔${ESC}39m ok ${ESC}31m✖${ESC}39m bad ${ESC}33m‼${ESC}39m warn`)
  })
})

describe('stripColor (src/lib/wrap.ts)', () => {
  it("is Node's stripVTControlCharacters, which it runs only on a text holding ESC or CSI", () => {
    const c = new Chalk({level: 3})
    const samples = [
      'plain text, no codes',
      '',
      c.red('red') + ' and ' + c.bold.green('bold green'),
      `${ESC}31mred${ESC}0m`,
      '\u009b31mred via CSI\u009b0m',
      '\u001b]8;;https://example.com\u0007a link\u001b]8;;\u0007',
      'lone ESC \u001b at the end \u001b',
      'tab\tand bell\u0007 without ESC',
    ]
    for (const s of samples) expect(stripColor(s), JSON.stringify(s)).toBe(stripVTControlCharacters(s))
    const plain = 'no codes at all'
    expect(stripColor(plain)).toBe(plain)
  })
})

describe('pagerFor', () => {
  const long = `${Array.from({length: 60}, (_, i) => `+line ${i}`).join('\n')}\n`
  it('pages a text taller than the terminal, with $PAGER or less -R', () => {
    expect(pagerFor(long, {isTTY: true, rows: 40, env: {}})).toBe('less -R')
    expect(pagerFor(long, {isTTY: true, rows: 40, env: {PAGER: 'most'}})).toBe('most')
  })
  it('never in a pipe, in CI, for a text that fits, or with PAGER empty or cat', () => {
    expect(pagerFor(long, {isTTY: false, rows: 40, env: {}})).toBeUndefined()
    expect(pagerFor(long, {isTTY: true, rows: 40, env: {CI: 'true'}})).toBeUndefined()
    expect(pagerFor(long, {isTTY: true, rows: 80, env: {}})).toBeUndefined()
    expect(pagerFor(long, {isTTY: true, rows: 40, env: {PAGER: ''}})).toBeUndefined()
    expect(pagerFor(long, {isTTY: true, rows: 40, env: {PAGER: 'cat'}})).toBeUndefined()
  })
})

describe('the CLI', () => {
  let inv: string
  beforeAll(async () => {
    inv = path.join(tmpDir('obsctl-colour-'), 'obsctl.yaml')
    expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
  })

  it('FORCE_COLOR colours the report (icons, status cells) and the error line; NO_COLOR and a pipe do not', async () => {
    const forced = await obsctl(['config', 'validate', '-c', inv], {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
    expect(forced.status).toBe(0)
    expect(forced.stdout).toContain(`${ESC}33m‼`)
    expect(forced.stdout).toMatch(new RegExp(`\\u001b\\[32myes`))
    const piped = await obsctl(['config', 'validate', '-c', inv], {env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
    expect(piped.stdout).not.toContain(ESC)
    expect(stripVTControlCharacters(forced.stdout)).toBe(piped.stdout)
    const off = await obsctl(['config', 'validate', '-c', inv], {env: {NO_COLOR: '1', FORCE_COLOR: '1'}})
    expect(off.stdout).not.toContain(ESC)
    const bad = await obsctl(['bootstrap', '--dry-run', '-c', inv], {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain(`${ESC}31m${ESC}1mError:`)
    // oclif's help: its headers bold with FORCE_COLOR in a pipe (the bundle answers "no colour" without loading
    // supports-color only when stdout is no terminal and neither FORCE_COLOR nor a --color flag asks for it)
    const help = await obsctl(['--help'], {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
    expect(help.stdout).toContain(`${ESC}1mVERSION${ESC}22m`)
    const plainHelp = await obsctl(['--help'], {env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
    expect(plainHelp.stdout).not.toContain(ESC)
    expect(stripVTControlCharacters(help.stdout)).toBe(plainHelp.stdout)
  })

  it('a dry run\'s summary says "would run" (the JSON keeps its status would-run)', async () => {
    const r = await obsctl(['bootstrap', '--phase', 'buckets', '--dry-run', '-c', inv])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^buckets +thanos-metrics +would run /m)
    expect(r.stdout).not.toContain('would-run')
    expect(r.stderr).toContain('buckets thanos-metrics: would run')
    const j = JSON.parse((await obsctl(['bootstrap', '--phase', 'buckets', '--dry-run', '--json', '-c', inv])).stdout)
    expect(j.run.phases[0].tasks.map((t: {status: string}) => t.status)).toEqual(['would-run', 'would-run', 'would-run'])
  })

  it('JSON is never coloured, even with FORCE_COLOR', async () => {
    for (const args of [
      ['config', 'validate', '--json'],
      ['bootstrap', '--dry-run', '--json'],
      ['state', 'show', '-o', 'yaml'],
    ]) {
      const r = await obsctl([...args, '-c', inv], {env: {NO_COLOR: undefined, FORCE_COLOR: '3'}})
      expect(r.stdout, args.join(' ')).not.toContain(ESC)
      expect(r.stdout.length).toBeGreaterThan(2)
    }
  })
})
