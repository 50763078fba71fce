/**
 * obsctl's help class (package.json `oclif.helpClass`): oclif's Help as it is, except for what it says when there is
 * no such command or topic. oclif answers `--help`, `-h` and a bare topic before any command or hook runs, and its
 * Help threw `Command https://ops:secret@h.test/x not found.`, which oclif printed as typed: a URL's password or a
 * token pasted where a command goes was quoted back. Here that error is printed as every obsctl error is
 * (src/lib/cli/error-output.ts printError: redacted through redactInput, `→ obsctl help`, the error object under
 * --json / -o json|yaml) and obsctl exits 2, as `obsctl help X` and an unknown command do.
 *
 * The help fits the terminal (its width, or OCLIF_COLUMNS; 80 in a pipe) with no word cut: oclif's wrap cut a word
 * longer than the room left (wrap-ansi `hard`: `preflight|nodes|…|argo` / `cd|register…`), its two-column lists in
 * their one-per-line form wrapped their right side two columns past the width, and it printed the root description,
 * a command's summary and its examples unwrapped (`platfor` / `m` at 80 columns). Here every line goes through
 * src/lib/wrap.ts: at spaces, a word longer than a line after a `|` or `,`, an example command with ` \` (never
 * inside its quotes). bin/commands-doc.mjs draws docs/commands.md with this class, so the page is this help.
 *
 * `obsctl help X` reaches the same class (oclif's help command loads it with loadHelpClass). bin/bundle.mjs bundles
 * this file as an entry (dist/help/, CommonJS) over the runner's @oclif/core help module, which the runner loads for
 * --help anyway; the error path's modules are loaded only on that path.
 */
// both already loaded by the runner (execute requires errors/index at start, main the help module for --help)
import {exit} from '@oclif/core/errors'
import {CommandHelp, Help} from '@oclif/core/help'
import path from 'node:path'
import {rootHelpDrawn} from '../lib/root-help-cache.js'
import {stripColor, visibleLength, wrapLines, wrapText} from '../lib/wrap.js'

type ListOptions = Parameters<Help['renderList']>[1]
interface Formatter {
  wrap(body: string, spacing?: number): string
  indent(body: string, spacing?: number): string
}

/** A word too long for a line is cut after one of these (an option list `a|b|c`, a list `a,b`), else where the line ends. */
const BREAK_AFTER = '|,'
/** A list item (`- x`, `1. x`) goes on under its text. */
// • (regex literals are written in ASCII, bin/bundle.mjs)
const itemHang = (line: string) => /^ *([-*\u2022] |\d+\. )/.exec(line)?.[1]?.length ?? 0

/** Text fitted to `width` at spaces, each line's continuation under its own start (a list item's under its text). */
const fit = (text: string, width: number) => wrapLines(text, width, itemHang, {breakAfter: BREAK_AFTER})
/** oclif's wrap: each line without its spaces at either end (as wrap-ansi's `trim` gave it), then fitted */
const wrapped = (text: string, width: number) =>
  fit(
    text
      .split('\n')
      .map((l) => l.trim())
      .join('\n'),
    width,
  )

/**
 * An example's command line (`$ obsctl …`, `VAR=… obsctl …`) too long for the width: continued with ` \`, as a shell
 * reads it; a `# comment` after it goes on under its `#`, each line a comment of its own.
 */
function fitCommand(line: string, width: number): string {
  const lead = /^ */.exec(line)![0].length
  const m = /^(.*?\S)( +)(# .*)$/.exec(line)
  if (!m) return wrapText(line, width - 2, {indent: lead + 4, long: 'keep', quotes: true}).join(' \\\n')
  const [, command, gap, comment] = m as unknown as [string, string, string, string]
  // under the `#` while that leaves room for a few words, else on lines of their own under the command
  const beside = visibleLength(command) + gap.length
  const col = width - beside >= 24 ? beside : lead + 4
  const said = wrapText(comment, width - col, {indent: 2}).map((l, i) => (i === 0 ? l : `# ${l.trimStart()}`))
  const head = col === beside ? [`${command}${gap}${said.shift()!}`] : [fitCommand(command, width)]
  return [...head, ...said.map((l) => ' '.repeat(col) + l)].join('\n')
}

/**
 * oclif's HelpFormatter.renderList (two columns, the right one wrapped beside the left; one per line when a right
 * side would take more than 4 lines), with its one-per-line form wrapped to the width: the right side is indented by
 * 4 inside the list's indentation, and oclif wrapped it as if by 2.
 */
function renderList(f: Formatter, input: (string | undefined)[][], opts: ListOptions): string {
  if (input.length === 0) return ''
  const plain = (s: string) => (opts.stripAnsi ? stripColor(s) : s)
  const oneper = () => {
    let output = ''
    for (const [left, right] of input) {
      if (!left && !right) continue
      if (left) output += f.wrap(plain(left).trim(), opts.indentation)
      if (right) output += `\n${f.indent(f.wrap(plain(right).trim(), opts.indentation + 4), 4)}`
      output += '\n\n'
    }
    return output.trim()
  }
  if (opts.multiline) return oneper()
  const widest = Math.max(0, ...input.flatMap(([left]) => (left ?? '').split('\n').map(visibleLength)))
  let output = ''
  let spacer = opts.spacer || '\n'
  let cur = ''
  for (const [left, r] of input) {
    if (cur) output += spacer + cur
    cur = plain(left || '')
    if (!r) {
      cur = cur.trim()
      continue
    }
    const [first, ...lines] = f
      .wrap(plain(r).trim(), opts.indentation + widest + 2)
      .split('\n')
      .map((s) => s.trim())
    cur += ' '.repeat(Math.max(0, widest - visibleLength(cur) + 2)) + first
    if (lines.length === 0) continue
    if (lines.length > 4) return oneper()
    if (!opts.spacer) spacer = '\n'
    cur += `\n${f.indent(lines.join('\n'), widest + 2)}`
  }
  if (cur) output += spacer + cur
  return output.trim()
}

/** A command's help: FLAGS, ARGUMENTS and DESCRIPTION as oclif lays them out, fitted; EXAMPLES' long commands continued. */
class ObsctlCommandHelp extends CommandHelp {
  override wrap(body: string, spacing = this.indentSpacing): string {
    return wrapped(this.render(body), this.opts.maxWidth - spacing)
  }

  override renderList(input: (string | undefined)[][], opts: ListOptions): string {
    return renderList(this, input, opts)
  }

  /**
   * USAGE, each line fitted with its groups whole: oclif cut the line at the last space that fits (`[--cpu` /
   * `<value>]`, `--host` / `<value>...`). oclif's own lines are taken at a width they fit (its cut and wrap do
   * nothing then), and wrapped here: a `[…]` group and a flag with its `<value>` are words; continuations by 2; a
   * group longer than a line on lines of its own, going on before a ` | ` between its alternatives (src/lib/wrap.ts).
   */
  protected override usage(): string {
    const width = this.opts.maxWidth - this.indentSpacing
    const {maxWidth} = this.opts
    let lines: string
    try {
      this.opts.maxWidth = Number.POSITIVE_INFINITY
      lines = super.usage()
    } finally {
      this.opts.maxWidth = maxWidth
    }
    return (
      lines
        // oclif's docopts closes a dependsOn flag's group with a space when another group (an exclusive pair) has
        // already taken its partner: `[--generate ]` for argocd password's --generate (dependsOn --rotate)
        .replace(/ +([\])])/g, '$1')
        .split('\n')
        .flatMap((l) => wrapText(l, width, {indent: /^ */.exec(l)![0].length + 2, breakAfter: BREAK_AFTER, usage: true}))
        .join('\n')
    )
  }

  protected override examples(examples: Parameters<CommandHelp['examples']>[0]): string | undefined {
    const body = super.examples(examples)
    // the section indents them by 2
    const width = this.opts.maxWidth - this.indentSpacing
    return body
      ?.split('\n')
      .map((l) => (visibleLength(l) <= width ? l : /^ *(\$ |[A-Z][A-Z0-9_]*=)/.test(l) ? fitCommand(l, width) : fit(l, width)))
      .join('\n')
  }
}

export default class ObsctlHelp extends Help {
  protected override CommandHelpClass = ObsctlCommandHelp

  override wrap(body: string, spacing = this.indentSpacing): string {
    return wrapped(this.render(body), this.opts.maxWidth - spacing)
  }

  override renderList(input: (string | undefined)[][], opts: ListOptions): string {
    return renderList(this, input, opts)
  }

  /**
   * oclif's RootHelp.root() (the description's first line, VERSION, USAGE, the description's other lines), wrapped
   * here: RootHelp wrapped with wrap-ansi and left the first line as it was. (No help of obsctl's calls oclif's own
   * wrap or list then, and the bundle requires wrap-ansi, string-width and widest-line only when something does:
   * bin/bundle.mjs oclifLazyRequires.)
   */
  override formatRoot(): string {
    const [summary, ...more] = this.render(this.config.pjson.oclif.description || this.config.pjson.description || '').split('\n')
    const output = [
      summary,
      this.section('VERSION', this.wrap(this.config.userAgent)),
      this.section(this.opts.usageHeader || 'USAGE', this.wrap(`$ ${this.config.bin} [COMMAND]`)),
      more.join('\n') ? this.section('DESCRIPTION', this.wrap(more.join('\n'))) : '',
    ]
      .filter(Boolean)
      .join('\n\n')
    return this.opts.stripAnsi ? stripColor(output) : output
  }

  /**
   * The root help, as oclif draws it; then kept for the next `obsctl --help` with the user's files it was drawn from
   * (src/lib/root-help-cache.ts): the theme and the user plugins' package.json, which oclif read at start.
   */
  override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    rootHelpDrawn([path.join(this.config.configDir, 'theme.json'), path.join(this.config.dataDir, 'package.json')])
  }

  /** every line printed fits: the root description and a command's summary come unwrapped from oclif */
  protected override log(...args: string[]): void {
    super.log(...args.map((a) => fit(a, this.opts.maxWidth)))
  }

  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const e = error as Error & {code?: unknown; oclif?: {exit?: number}}
      // an exit asked for (oclif's ExitError), or something that is no error object: as it was
      if (!(e instanceof Error) || e.code === 'EEXIT') throw error
      const [{printError}, {ExitCode, ObsctlError}, {wantsStructuredOutput}] = await Promise.all([
        import('../lib/cli/error-output.js'),
        import('../lib/errors.js'),
        import('../lib/cli/output-format.js'),
      ])
      // oclif's `Command X not found.` is exit 2 (bad input); anything else is a failure of its own
      const bad = e.oclif?.exit === ExitCode.badInput
      const shown = new ObsctlError(e.message, {
        exitCode: bad ? ExitCode.badInput : ExitCode.failed,
        code: bad ? 'UNKNOWN_COMMAND' : 'FAILED',
        hints: [`${this.config.bin} help`],
      })
      await printError(shown, {json: wantsStructuredOutput(argv)})
      exit(shown.exitCode)
    }
  }
}
