/**
 * A left-aligned table, below every layer, so the engine's views (./engine/format.ts) and the commands'
 * (./cli/format.ts) draw the same tables. Cells that are a status word (`failed`, `done`, `✔ pass`…) are
 * coloured when the report goes to a terminal (./style.ts); widths count what shows, so columns stay
 * aligned either way (and a log or a pipe gets no colour codes at all).
 */
import {colorCell, paint, visibleLength} from './style.js'

export function table(headers: string[], rows: (string | number)[][]): string {
  const c = paint()
  const cells = [headers, ...rows.map((r) => r.map((x) => colorCell(String(x), c)))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => visibleLength(r[i] ?? ''))))
  return cells
    .map((r) =>
      r
        .map((x, i) => (i === r.length - 1 ? x : x + ' '.repeat(Math.max(0, widths[i]! - visibleLength(x)))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
