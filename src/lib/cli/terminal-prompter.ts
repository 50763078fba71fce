/**
 * The terminal side of the prompt port (src/lib/prompt.ts): @inquirer/prompts, loaded on the first question,
 * writing to stderr so that stdout stays the command's report (or pure JSON under --json). Ctrl-C at a
 * question rejects with inquirer's ExitPromptError, which the base command turns into exit 130.
 *
 * A question is fitted to the terminal's width by obsctl (fitQuestion, with ../wrap.ts) before inquirer draws it:
 * inquirer broke a long line where the width ended, each continuation at the terminal's first column (a
 * `1. Delete its Argo CD Applications (and what` / `they deployed)`) or with the space it broke at in front.
 */
import type {Prompter} from '../prompt.js'
import {stderrView} from '../stdio.js'
import {visibleLength, wrapText} from '../wrap.js'

const inquirer = () => import('@inquirer/prompts')
// stderr read at the first question, not when the module loads (../stdio.ts)
const context = {
  get output() {
    return process.stderr
  },
}

/** inquirer's mark before a question (`?`, `✔` once answered) and the space after it */
const MARK = 2

/** A list item (`1. x`, `- x`, `→ x`) goes on under its text; a line of its own indented under its start plus 2. */
function hang(line: string): number {
  // • → (regex literals are written in ASCII, bin/bundle.mjs)
  const item = /^ *(\d+\. |[-*\u2022\u2192] )/.exec(line)?.[1]?.length
  return item ?? (line.startsWith(' ') ? 2 : 0)
}

/**
 * The question `message` as obsctl hands it to inquirer, fitted to `width` at spaces: its lines in a block under
 * the text after the mark (`? `), a line too long going on under itself (a list item under its text), and `room`
 * columns left on the last line for what inquirer writes after it (` (y/N)`, a default, the answer). A word longer
 * than a line (a URL) is kept whole. Without a width (no terminal) as it is.
 */
export function fitQuestion(message: string, width: number | undefined, room = 1): string {
  if (!width || width <= MARK + 10) return message
  const lines = message.split('\n')
  const fitted = lines.flatMap((line, i) => {
    const lead = /^ */.exec(line)![0].length
    // the last word keeps room after it on its line: a placeholder glued to it, taken off below
    const last = i === lines.length - 1 ? 'x'.repeat(room) : ''
    const out = wrapText(`${' '.repeat(MARK)}${line}${last}`, width, {indent: MARK + lead + hang(line), long: 'keep'})
    if (last) out[out.length - 1] = out.at(-1)!.slice(0, -room)
    return out
  })
  // a last word too long to leave the room beside it (kept whole): what inquirer writes after it (with a space
  // before it) goes on the next line, in the block
  if (visibleLength(fitted.at(-1)!) + room > width) fitted.push(' '.repeat(MARK - 1))
  // the first line without the mark's place (inquirer writes the mark)
  return fitted.join('\n').slice(MARK)
}

const fit = (message: string, room = 1) => fitQuestion(message, stderrView.columns, room)
/** ` (default) ` and the cursor after it */
const defaultRoom = (d: unknown) => (d === undefined || d === '' ? 1 : String(d).length + 4)

export const terminalPrompter: Prompter = {
  async input(q) {
    return (await inquirer()).input({...q, message: fit(q.message, defaultRoom(q.default))}, context)
  },
  async password(q) {
    return (await inquirer()).password({...q, message: fit(q.message), mask: '*'}, context)
  },
  async number(q) {
    return (await inquirer()).number({...q, message: fit(q.message, defaultRoom(q.default))}, context)
  },
  async select(q) {
    return (await inquirer()).select({...q, message: fit(q.message)}, context)
  },
  async confirm(q) {
    // ` (y/N) ` while it asks, ` Yes` once answered
    return (await inquirer()).confirm({...q, message: fit(q.message, 7)}, context)
  },
}
