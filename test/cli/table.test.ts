/**
 * Tables fit the terminal (src/lib/table.ts): the last column wraps under itself, or goes under its row on a
 * narrow terminal; a pipe gets each row on one line. The built CLI in a real terminal is in ./terminal.test.ts.
 */
import {describe, expect, it} from 'vitest'
import {setColorLevel} from '../../src/lib/style.js'
import {stripColor} from '../../src/lib/wrap.js'
import {table, terminalWidth, wrapText} from '../../src/lib/table.js'

const rows = [
  ['preflight', 'cluster-01/192.168.101.194', 'pending', 'ssh 192.168.101.194: OS/arch, CPU, memory, disk, swap, ports 6443/10250, clock, sudo (read-only)'],
  ['render', 'platform', 'done', 'short'],
]
const HEAD = ['PHASE', 'TARGET', 'STATE', 'WOULD DO']

describe('table on a terminal', () => {
  it('no line wider than the terminal at 50 and 80 columns; every word of the detail is kept, in order', () => {
    setColorLevel(0)
    for (const width of [50, 80, 100]) {
      const t = table(HEAD, rows, {width})
      for (const l of t.split('\n')) expect(l.length, `${width}: ${l}`).toBeLessThanOrEqual(width)
      expect(t.replace(/\s+/g, ' ')).toContain(rows[0]![3])
    }
  })

  it('wide enough: the detail wraps beside its row, continuation lines under the column', () => {
    setColorLevel(0)
    const t = table(HEAD, rows, {width: 110}).split('\n')
    const col = t[0]!.indexOf('WOULD DO')
    expect(t[1]!.slice(col)).toMatch(/^ssh 192\.168\.101\.194: /)
    expect(t[2]!.slice(0, col).trim()).toBe('')
    expect(t[2]!.slice(col)).toMatch(/^\S/)
  })

  it('narrow: the detail goes under its row, indented by four', () => {
    setColorLevel(0)
    const t = table(HEAD, rows, {width: 50}).split('\n')
    expect(t[0]).toMatch(/^PHASE +TARGET +STATE$/)
    expect(t[1]).toBe('    WOULD DO')
    expect(t[2]).toMatch(/^preflight +cluster-01\/192\.168\.101\.194 +pending$/)
    expect(t[3]).toMatch(/^ {4}ssh 192\.168\.101\.194: /)
  })

  it('colour codes take no width, and the status words keep their colour', () => {
    setColorLevel(1)
    const t = table(HEAD, rows, {width: 50})
    expect(t).toContain('\u001b[33mpending')
    for (const l of stripColor(t).split('\n')) expect(l.length).toBeLessThanOrEqual(50)
    setColorLevel(0)
  })

  it('a pipe (no width): each row on one line, as before', () => {
    setColorLevel(0)
    expect(table(HEAD, rows, {width: undefined}).split('\n')).toHaveLength(3)
    expect(terminalWidth({isTTY: false, columns: 80})).toBeUndefined()
    expect(terminalWidth({isTTY: true, columns: 80})).toBe(80)
  })

  it('wrapText: at spaces, a word longer than a line split', () => {
    expect(wrapText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc'])
    expect(wrapText('/a/very/long/path/name', 8)).toEqual(['/a/very/', 'long/pat', 'h/name'])
    expect(wrapText('', 5)).toEqual([''])
  })
})
