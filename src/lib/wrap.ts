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
  /**
   * a command's usage line (`--host <value>... [--cpu <value>] [--role edge]`): a bracketed group (`[…]`, `(…)`) is one word, and so
   * is a `<value>` with the flag before it, so neither is broken at its inner space. A group longer than a line
   * starts one; one of alternatives (`[--all | -p a|b… | --from a|b…]`) goes on before a ` | `, each alternative
   * whole where it fits; else (an alternative, a group without them, longer than a line) it is cut as a long word
   * is (after a `|` of its options, with breakAfter)
   */
  usage?: boolean
}

/**
 * The text without its colour codes: the one definition (tables, help, prompts, errors). Each code starts with ESC or
 * CSI (Node's pattern for them, which stripVTControlCharacters runs, starts with one of the two), so a text with
 * neither is given back as it is, without running the pattern.
 */
export const stripColor = (s: string): string => (s.includes('\u001b') || s.includes('\u009b') ? stripVTControlCharacters(s) : s)

/** Width on screen: colour codes take none. */
export const visibleLength = (s: string): number => stripColor(s).length

/**
 * `text` (one line) in lines of at most `width` characters, at spaces where it can; the lines after the first
 * start with `o.indent` spaces. A line that fits is given back as it is.
 */
export function wrapText(text: string, width: number, o: WrapOptions = {}): string[] {
  const w = Math.max(1, width)
  if (visibleLength(text) <= w) return [text]
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
  for (const {gap, word, starts, hang} of usageWords(splitWords(text.slice(lead.length), o), w - pad.length, o)) {
    let rest = word
    let sep = gap
    if (starts && !bare) push()
    while (rest.length > 0) {
      const room = w - visibleLength(line) - (bare ? 0 : sep.length)
      const len = visibleLength(rest)
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
        // (a usage group too long for any line starts one: `[--from a|b|…|` under the flags before it)
        if (!bare && ((o.usage && rest === word) || (soft < 0 && o.breakAfter && lastBreak(rest, o.breakAfter) >= 0))) {
          push()
          continue
        }
        const cut = soft > 0 ? soft + 1 : take
        line = bare ? line + rest.slice(0, cut) : line + sep + rest.slice(0, cut)
        // (never a line that starts with the space after a cut)
        rest = rest.slice(cut).trimStart()
        sep = ''
        push()
        if (hang) line += ' '.repeat(Math.min(hang, w - pad.length - 1))
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
    .flatMap((l) => (visibleLength(l) <= width ? [l] : wrapText(l, width, {...o, indent: /^ */.exec(l)![0].length + hang(l)})))
    .join('\n')
}

interface Word {
  gap: string
  word: string
  /** it starts a line (the first of a group's words, the word after them) */
  starts?: boolean
  /** a word cut goes on this much further in (under an alternative's text, after its `| `) */
  hang?: number
}

/**
 * With `usage`, a group longer than a line: one of alternatives (`[--all | -p a|b|c... | --from a|b|c]`) in its
 * alternatives, each after the first with the ` | ` before it (`[--all`, `| -p a|b|c...`, `| --from a|b|c]`); one
 * without a break character (`[--rename-pattern <value> --rename-replacement <value>]`) in the words inside it, each
 * flag with its value. Either goes on between two of them, never inside one that fits, and starts a line.
 */
function usageWords(words: Word[], width: number, o: WrapOptions): Word[] {
  if (!o.usage) return words
  let after = false
  return words.flatMap((x): Word[] => {
    const word = after ? {...x, starts: true} : x
    after = false
    if (visibleLength(x.word) <= width || !/^[[(].* /.test(x.word)) return [word]
    const alternatives = topLevelAlternatives(x.word)
    if (alternatives.length === 1 && o.breakAfter && lastBreak(x.word, o.breakAfter) >= 0) return [word]
    // the word after the group's words on a line of its own, as their first is
    after = true
    if (alternatives.length > 1)
      return alternatives.map((a, i) => (i === 0 ? {gap: x.gap, word: a, starts: true, hang: 1} : {gap: ' ', word: `| ${a}`, hang: 2}))
    // inside the outer bracket (its closing one ends the last word)
    const inner: Word[] = splitWords(x.word.slice(1), o)
    inner[0] = {gap: x.gap, word: x.word[0]! + inner[0]!.word, starts: true}
    return inner
  })
}

/** A bracketed group's parts between the ` | `s at its own level (`[a | b [c | d]]`: `[a`, `b [c | d]]`); one part without them. */
function topLevelAlternatives(group: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < group.length; i++) {
    const ch = group[i]!
    if ('[('.includes(ch)) depth++
    else if ('])'.includes(ch)) depth--
    else if (depth === 1 && group.startsWith(' | ', i)) {
      parts.push(group.slice(from, i))
      from = i + 3
      i += 2
    }
  }
  parts.push(group.slice(from))
  return parts
}

function lastBreak(s: string, chars: string): number {
  for (let i = s.length - 1; i >= 0; i--) if (chars.includes(s[i]!)) return i
  return -1
}

/**
 * The words of `s` with the spaces before each: a quoted part one word with `quotes`; with `usage`, a bracketed group
 * one word and a `<value>` one with the word before it.
 */
function splitWords(s: string, o: Pick<WrapOptions, 'quotes' | 'usage'>): {gap: string; word: string}[] {
  const words: {gap: string; word: string}[] = []
  let gap = ''
  let cur = ''
  let q: string | undefined
  let depth = 0
  const end = () => {
    const prev = words.at(-1)
    if (o.usage && cur.startsWith('<') && prev) prev.word += gap + cur
    else words.push({gap, word: cur})
    cur = ''
    gap = ''
  }
  for (const ch of s) {
    if (q) {
      if (ch === q) q = undefined
    } else if (o.quotes && (ch === '"' || ch === "'")) q = ch
    else if (o.usage && '[]()'.includes(ch)) depth = Math.max(0, depth + ('[('.includes(ch) ? 1 : -1))
    else if (ch === ' ' && depth === 0) {
      if (cur) end()
      gap += ch
      continue
    }
    cur += ch
  }
  if (cur) end()
  return words
}

/**
 * How far a line's continuation goes in beyond the line's own leading spaces: under the text after its marker
 * (`Error: `, `→ `, `✖ `, `‼ `, `- `…), else by two (a hanging indent).
 */
export function markerHang(line: string): number {
  // → ✔ ✖ ‼ ℹ ⚠ • (regex literals are written in ASCII, bin/bundle.mjs)
  const m = /^ *(Error: |[\u2192\u2714\u2716\u203c\u2139\u26a0\u2022*-] )/.exec(stripColor(line))
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
