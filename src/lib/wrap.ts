/**
 * Text cut into lines that fit a width, at spaces, below every layer: tables (./table.ts), obsctl's help class
 * (src/help/), and errors and notices on a terminal (./cli/error-output.ts printError, ./cli/base.ts note) wrap with it. Widths count what shows:
 * colour codes take none, and a word is never cut inside one.
 */
import {stripVTControlCharacters} from 'node:util'

export interface WrapOptions {
  /** spaces before every line after the first (a hanging indent; default none) */
  indent?: number
  /**
   * A word longer than a line: `split` (default) cuts it, after the last of `breakAfter`'s characters that fits
   * where there is one (`a|b|c`), else where the line ends; `keep` leaves it whole on a line of its own (a path or a
   * URL someone copies).
   */
  long?: 'split' | 'keep'
  breakAfter?: string
  /** a quoted part ("…" or '…') is one word: a shell command is never broken inside its quotes */
  quotes?: boolean
}

const visible = (s: string): number => stripVTControlCharacters(s).length

/**
 * `text` (one line) in lines of at most `width` characters, at spaces where it can; the lines after the first
 * start with `o.indent` spaces. A line that fits is given back as it is.
 */
export function wrapText(text: string, width: number, o: WrapOptions = {}): string[] {
  const w = Math.max(1, width)
  if (visible(text) <= w) return [text]
  const pad = ' '.repeat(Math.min(o.indent ?? 0, w - 1))
  const out: string[] = []
  // leading spaces stay with the first word; the spaces between two words on a line stay as they were (an aligned
  // column, `init      # a comment`), a line's first word goes without them
  const lead = /^ */.exec(text)![0]
  let line = lead
  let bare = true
  const push = () => {
    out.push(line)
    line = pad
    bare = true
  }
  for (const {gap, word} of splitWords(text.slice(lead.length), Boolean(o.quotes))) {
    let rest = word
    let sep = gap
    while (rest.length > 0) {
      const room = w - visible(line) - (bare ? 0 : sep.length)
      const len = visible(rest)
      if (len <= room) {
        line = bare ? line + rest : line + sep + rest
        bare = false
        rest = ''
      } else if (!bare && len <= w - pad.length) {
        push()
      } else if (o.long === 'keep' || rest.includes('\u001b')) {
        // too long for any line (or coloured): whole, on a line of its own
        if (!bare) push()
        line += rest
        bare = false
        rest = ''
        push()
      } else {
        // a word longer than a line: as much as fits here, up to a break character when it has them (else it starts
        // the next line), cut where the line ends when it has none; the rest on the next line
        const take = Math.max(1, room)
        const soft = o.breakAfter ? lastBreak(rest.slice(0, take), o.breakAfter) : -1
        if (soft < 0 && !bare && o.breakAfter && lastBreak(rest, o.breakAfter) >= 0) {
          push()
          continue
        }
        const cut = soft > 0 ? soft + 1 : take
        line = bare ? line + rest.slice(0, cut) : line + sep + rest.slice(0, cut)
        rest = rest.slice(cut)
        sep = ''
        push()
      }
    }
  }
  if (!bare || out.length === 0) out.push(line)
  return out.map((l) => l.trimEnd())
}

/**
 * Every line of `text` (lines split at `\n`) fitted to `width`: a line too long goes on under itself, indented by its
 * own leading spaces plus what `hang` says for it (the width of a marker such as `→ ` or `Error: `).
 */
export function wrapLines(text: string, width: number, hang: (line: string) => number = () => 0, o: Omit<WrapOptions, 'indent'> = {}): string {
  return text
    .split('\n')
    .flatMap((l) => (visible(l) <= width ? [l] : wrapText(l, width, {...o, indent: /^ */.exec(l)![0].length + hang(l)})))
    .join('\n')
}

function lastBreak(s: string, chars: string): number {
  for (let i = s.length - 1; i >= 0; i--) if (chars.includes(s[i]!)) return i
  return -1
}

/** The words of `s` with the spaces before each (a quoted part one word when `quotes`). */
function splitWords(s: string, quotes: boolean): {gap: string; word: string}[] {
  const words: {gap: string; word: string}[] = []
  let gap = ''
  let cur = ''
  let q: string | undefined
  for (const ch of s) {
    if (q) {
      if (ch === q) q = undefined
    } else if (quotes && (ch === '"' || ch === "'")) q = ch
    else if (ch === ' ') {
      if (cur) {
        words.push({gap, word: cur})
        cur = ''
        gap = ''
      }
      gap += ch
      continue
    }
    cur += ch
  }
  if (cur) words.push({gap, word: cur})
  return words
}

/**
 * How far a line's continuation goes in beyond the line's own leading spaces: under the text after its marker
 * (`Error: `, `→ `, `✖ `, `‼ `, `- `…), else by two (a hanging indent).
 */
export function markerHang(line: string): number {
  const m = /^ *(Error: |[→✔✖‼ℹ⚠•*-] )/.exec(stripVTControlCharacters(line))
  return m ? m[1]!.length : 2
}

/**
 * `text` as it should reach `stream`: on a terminal, every line fitted to its width at spaces, continuation lines
 * indented (markerHang), a word longer than a line (a path, a URL) kept whole; to a pipe or a file as it is, one line
 * per line, for scripts that read it.
 */
export function fitTerminal(text: string, stream: {isTTY?: boolean; columns?: number}): string {
  const width = stream.isTTY ? stream.columns : undefined
  return width && width > 0 ? wrapLines(text, width, markerHang, {long: 'keep'}) : text
}
