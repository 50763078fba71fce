/**
 * A plain left-aligned table (no colour codes, so widths are right in logs and pipes): below every layer,
 * so the engine's views (./engine/format.ts) and the commands' (./cli/format.ts) draw the same tables.
 */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n')
}
