/**
 * The task list on a terminal: listr2's default renderer, with each line fitted by obsctl (../wrap.ts).
 *
 * listr2 offers `formatOutput: 'wrap' | 'truncate'`. Truncating (cli-truncate, an ellipsis at the width) would cut
 * what a line is for: a dry run's `would run: create bucket …`, a task's `› waiting for: …`. Its `wrap` (the
 * default) breaks at spaces with the continuation under the task's text, and a live redraw stays right (each line
 * fits, so log-update counts the lines it erases), but it wraps with wrap-ansi `trim: false`: a line that filled
 * the width exactly went on with the space it broke at (`○ bucket thanos-metrics (Thanos blocks): would` /
 * `     run: create …`, one column too far in), and a word longer than a line (a path, a URL) was cut anywhere.
 * Here a line goes on at a space, under the task's text, with no space carried over, and a long word is cut after
 * a `/` or `,` where it has one.
 */
import {DefaultRenderer} from 'listr2'
import {wrapText} from '../wrap.js'

export class FittedRenderer extends DefaultRenderer {
  protected override format(message: string, icon: string, level: number): string[] {
    if (message.trim() === '') return []
    const step = 2
    // listr2's room: the terminal's width less the level's indentation and two columns
    const width = (process.stdout.columns ?? 80) - level * step - 2
    const lines = (icon ? `${icon} ${message}` : message).split('\n').flatMap((line, i) => {
      // a message's own lines after the first under its text (as listr2 indents them), each going on under itself
      const text = i > 0 ? `${' '.repeat(step)}${line.trimEnd()}` : line.trimEnd()
      const lead = /^ */.exec(text)![0].length
      return wrapText(text, width, {indent: lead + (i === 0 && icon ? step : 0), breakAfter: '/,'})
    })
    const pad = ' '.repeat(level * step)
    return lines.filter((l) => l.trim() !== '').map((l) => pad + l)
  }
}
