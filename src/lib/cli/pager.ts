/**
 * Long diffs through a pager, as git does: $PAGER (default `less -R`, with LESS=FRX when LESS is unset, so
 * colour shows and a screenful exits by itself) when stdout is a terminal, CI is not set and the text is
 * taller than the terminal. Never in a pipe, under --json or in CI; PAGER set to empty or `cat` prints
 * directly. A pager that cannot start falls back to printing.
 */
import {createRequire} from 'node:module'
import {isCI} from '../prompt.js'
import {isTerminal, stdoutView} from '../stdio.js'

export interface PagerEnv {
  isTTY?: boolean
  rows?: number
  env?: NodeJS.ProcessEnv
}

/** The pager command for this text, or undefined to print it directly. */
export function pagerFor(text: string, o: PagerEnv = {}): string | undefined {
  const env = o.env ?? process.env
  const isTTY = o.isTTY ?? isTerminal(1)
  const rows = o.rows ?? stdoutView.rows ?? 24
  if (!isTTY || isCI(env)) return undefined
  const pager = (env.PAGER ?? 'less -R').trim()
  if (pager === '' || pager === 'cat') return undefined
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  return lines > rows - 1 ? pager : undefined
}

/** Show the text through the pager (blocking until it quits); false when none ran (print it yourself). */
export function page(text: string, pager: string): boolean {
  const env = {...process.env}
  if (env.LESS === undefined) env.LESS = 'FRX'
  // node:child_process (and the streams and net it loads) only when a pager runs: every command imports this
  // module through its base class, and most never page (~0.7 ms of each start-up)
  const {spawnSync} = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')
  const r = spawnSync(pager, {shell: true, input: text, stdio: ['pipe', 'inherit', 'inherit'], env})
  return !r.error && r.status !== 127 && r.status !== 126
}
