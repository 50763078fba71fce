/**
 * Colour for the human output (chalk): icons, status words and unified diffs. Whether there is colour is
 * decided per stream, once: NO_COLOR (set and not empty) turns it off, whatever else is set; FORCE_COLOR
 * turns it on (0/false off, 1–3 the level) even in a pipe; otherwise a terminal (not TERM=dumb) gets colour
 * and a pipe or a file none. JSON is never drawn through here, so it is never coloured.
 *
 * Below every layer (like ./diff.ts): the engine's, the checks' and the commands' renderers all use it.
 */
import type {ChalkInstance} from 'chalk'
import {chalk} from './lazy-deps.js'
import {stdoutView} from './stdio.js'

export type ColorLevel = 0 | 1 | 2 | 3

/** The colour level for output to `stream` under `env` (see the file comment for the rules). */
export function colorLevel(stream: {isTTY?: boolean} = stdoutView, env: NodeJS.ProcessEnv = process.env): ColorLevel {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  const force = env.FORCE_COLOR
  if (force !== undefined) {
    const f = force.trim().toLowerCase()
    if (f === '0' || f === 'false') return 0
    if (f === '' || f === 'true') return 1
    const n = Number.parseInt(f, 10)
    return Number.isNaN(n) ? 1 : (Math.min(Math.max(n, 1), 3) as ColorLevel)
  }
  if (!stream.isTTY || env.TERM === 'dumb') return 0
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3
  return /256/.test(env.TERM ?? '') ? 2 : 1
}

const instances = new Map<ColorLevel, ChalkInstance>()
let override: ColorLevel | undefined

/** Tests: force a level (undefined: back to the stream's own). */
export function setColorLevel(level: ColorLevel | undefined): void {
  override = level
}

/**
 * Level 0 without chalk: every style, chained or not, gives its text back as chalk does at level 0 (its arguments
 * joined by a space; `visible` gives nothing), and `level` is 0. Output that is not coloured (a pipe, a file,
 * NO_COLOR) then never loads chalk (./lazy-deps.ts).
 */
const plainStyle = (empty: boolean): ChalkInstance => {
  const style: ChalkInstance = new Proxy(
    ((...text: unknown[]) => (empty ? '' : text.length === 1 ? `${text[0] as string}` : text.join(' '))) as unknown as ChalkInstance,
    {get: (_target, key) => (key === 'level' ? 0 : key === 'visible' ? EMPTY : style)},
  )
  return style
}
const EMPTY = plainStyle(true)
const PLAIN = plainStyle(false)

/** chalk at the level of `stream` (stdout by default: the report). */
export function paint(stream: {isTTY?: boolean} = stdoutView): ChalkInstance {
  const level = override ?? colorLevel(stream)
  if (level === 0) return PLAIN
  let c = instances.get(level)
  if (!c) instances.set(level, (c = new (chalk().Chalk)({level})))
  return c
}

export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'dim' | 'plan'

export function tone(t: Tone, text: string, c: ChalkInstance = paint()): string {
  switch (t) {
    case 'good':
      return c.green(text)
    case 'bad':
      return c.red(text)
    case 'warn':
      return c.yellow(text)
    case 'info':
      return c.cyan(text)
    case 'plan':
      return c.magenta(text)
    case 'dim':
      return c.dim(text)
  }
}

/** The tone of a status word as obsctl's tables and checklists print it (undefined: not a status word). */
const WORDS: Record<string, Tone> = {
  ok: 'good',
  done: 'good',
  pass: 'good',
  passed: 'good',
  yes: 'good',
  synced: 'good',
  healthy: 'good',
  ready: 'good',
  valid: 'good',
  failed: 'bad',
  fail: 'bad',
  error: 'bad',
  degraded: 'bad',
  expired: 'bad',
  no: 'bad',
  interrupted: 'bad',
  missing: 'bad',
  outofsync: 'bad',
  warn: 'warn',
  warning: 'warn',
  pending: 'warn',
  'changed since': 'warn',
  changed: 'warn',
  running: 'warn',
  stale: 'warn',
  unknown: 'warn',
  'would run': 'plan',
  'would-run': 'plan',
  planned: 'plan',
  unchanged: 'dim',
  'in-state': 'dim',
  'would skip': 'dim',
  'would-skip': 'dim',
  'not-run': 'dim',
  'not run': 'dim',
  'in state': 'dim',
  skipped: 'dim',
  info: 'info',
}

export function toneOfWord(word: string): Tone | undefined {
  return WORDS[word.trim().toLowerCase()]
}

const ICON_TONES: Record<string, Tone> = {'✔': 'good', '✖': 'bad', '‼': 'warn', ℹ: 'info', '⚠': 'warn'}
/** any one of the icons: a class built from ICON_TONES (a string, which the bundle escapes; see bin/bundle.mjs on ASCII) */
const ICON = `[${Object.keys(ICON_TONES).join('')}]`
const ICON_CELL = new RegExp(`^(${ICON}) (\\S.*)$`)
const ICONS = new RegExp(ICON, 'g')

/** A table cell: a status word (`failed`), or an icon and a word (`✔ pass`), in its colour; else as it is. */
export function colorCell(cell: string, c: ChalkInstance = paint()): string {
  if (c.level === 0) return cell
  const t = toneOfWord(cell)
  if (t) return tone(t, cell, c)
  const m = ICON_CELL.exec(cell)
  if (m) return tone(toneOfWord(m[2]!) ?? ICON_TONES[m[1]!]!, cell, c)
  return cell
}

/** Every ✔ ✖ ‼ ℹ ⚠ of a text in its colour. */
export function colorIcons(text: string, c: ChalkInstance = paint()): string {
  if (c.level === 0) return text
  return text.replace(ICONS, (i) => tone(ICON_TONES[i]!, i, c))
}

/**
 * The unified diffs inside a text (as ./diff.ts and git print them, at any indentation): `---`/`+++`
 * headers bold, `@@` hunk headers cyan, removed lines red, added lines green. Other lines are untouched.
 */
export function colorDiff(text: string, c: ChalkInstance = paint()): string {
  if (c.level === 0 || (!text.includes('\n+++ ') && !/\n\s*\+\+\+ /.test(text))) return text
  const lines = text.split('\n')
  let pad: string | undefined
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    const head = /^(\s*)--- /.exec(l)
    if (head && new RegExp(`^${head[1]}\\+\\+\\+ `).test(lines[i + 1] ?? '')) {
      pad = head[1]!
      lines[i] = c.bold(l)
      lines[i + 1] = c.bold(lines[i + 1]!)
      i++
      continue
    }
    if (pad === undefined) continue
    if (!l.startsWith(pad)) {
      pad = undefined
      continue
    }
    const body = l.slice(pad.length)
    if (body.startsWith('@@')) lines[i] = pad + c.cyan(body)
    else if (body.startsWith('+')) lines[i] = pad + c.green(body)
    else if (body.startsWith('-')) lines[i] = pad + c.red(body)
    else if (!(body.startsWith(' ') || body === '' || body.startsWith('\\'))) pad = undefined
  }
  return lines.join('\n')
}

/** Does the text hold a unified diff? */
export const hasDiff = (text: string): boolean => /(^|\n)(\s*)--- [^\n]*\n\2\+\+\+ /.test(text)

/** The human output's colour, for a text going to `stream`: icons and diffs. */
export function colorize(text: string, stream: {isTTY?: boolean} = stdoutView): string {
  const c = paint(stream)
  return c.level === 0 ? text : colorDiff(colorIcons(text, c), c)
}
