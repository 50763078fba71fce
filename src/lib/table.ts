/**
 * A left-aligned table, below every layer, so the engine's views (./engine/format.ts) and the commands'
 * (./cli/format.ts) draw the same tables. Cells that are a status word (`failed`, `done`, `✔ pass`…) are
 * coloured when the report goes to a terminal (./style.ts); widths count what shows, so columns stay
 * aligned either way (and a log or a pipe gets no colour codes at all).
 *
 * On a terminal the table fits its width: the last column (DETAIL, WOULD DO: the long one) is wrapped at
 * word boundaries and its continuation lines start under it; when the other columns leave it too little room
 * (a narrow terminal), it goes on the lines under its row, indented by four. A pipe or a file gets every row
 * on one line, whatever its length, for grep and scripts.
 */
import {stdoutView} from './stdio.js'
import {colorCell, paint} from './style.js'
import {visibleLength, wrapText} from './wrap.js'

/** `text` cut into lines of at most `width` characters, at spaces where it can (a longer word is split): ./wrap.ts */
export {wrapText}

export interface TableOptions {
  /** the width to fit (default: the terminal's columns when stdout is a terminal; none in a pipe) */
  width?: number
}

/** The last column needs at least this much room beside the others; else it goes under its row. */
const MIN_LAST = 40
const UNDER = '    '

/** The width a table on stdout should fit: the terminal's, or undefined (a pipe, a file: no limit). */
export function terminalWidth(stream: {isTTY?: boolean; columns?: number} = stdoutView): number | undefined {
  return stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : undefined
}

export function table(headers: string[], rows: (string | number)[][], o: TableOptions = {}): string {
  const c = paint()
  const raw = [headers, ...rows.map((r) => r.map((x) => String(x)))]
  const cells = [headers, ...raw.slice(1).map((r) => r.map((x) => colorCell(x, c)))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => visibleLength(r[i] ?? ''))))
  const pad = (x: string, i: number) => x + ' '.repeat(Math.max(0, widths[i]! - visibleLength(x)))
  const lineOf = (r: string[]) =>
    r
      .map((x, i) => (i === r.length - 1 ? x : pad(x, i)))
      .join('  ')
      .trimEnd()
  const width = 'width' in o ? o.width : terminalWidth()
  const last = headers.length - 1
  const lead = widths.slice(0, last).reduce((a, b) => a + b + 2, 0)
  if (!width || last < 1 || lead + widths[last]! <= width) return cells.map(lineOf).join('\n')

  // too wide for the terminal: the last column wrapped beside its row, or under it when the others leave too little room
  const beside = width - lead >= MIN_LAST
  // under: the other columns aligned when they fit the width, else each row's own cells two spaces apart
  const aligned = lead - 2 <= width
  const head = (r: string[]) => (aligned ? lineOf(r) : r.join('  ').trimEnd())
  return cells
    .map((r, ri) => {
      const text = raw[ri]![last] ?? ''
      const first = r.slice(0, last)
      if (beside) {
        if (visibleLength(r[last] ?? '') <= width - lead) return lineOf(r)
        const [one, ...more] = wrapText(text, width - lead)
        return [lineOf([...first, colorCell(one!, c)]), ...more.map((p) => ' '.repeat(lead) + colorCell(p, c))].join('\n')
      }
      if (!text) return head(first)
      return [head(first), ...wrapText(text, width - UNDER.length).map((p) => UNDER + colorCell(p, c))].join('\n')
    })
    .join('\n')
}
