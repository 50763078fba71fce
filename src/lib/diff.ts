/**
 * The one line diff of obsctl (kubeconfig merge --dry-run, hand-edited GitOps files, config set /
 * upgrade chart previews): jsdiff's `structuredPatch` (npm `diff`, engines node >=0.3.1), printed as a
 * unified diff. Callers name both sides and may rewrite each printed line (credentials masked).
 */
import {createRequire} from 'node:module'

// jsdiff is required where a diff is made, not when this module loads: kubeconfig and drift code import
// unifiedDiff, and commands that only plan (obsctl plan) load them without ever diffing (~100 KiB of
// node_modules/diff read and compiled at each start-up otherwise). CommonJS, so require() keeps it sync.
let jsdiff: typeof import('diff') | undefined
const loadJsdiff = () => (jsdiff ??= createRequire(import.meta.url)('diff') as typeof import('diff'))

/** jsdiff's `diffArrays`, jsdiff loaded on the first call (the kubeconfig editor's line matching) */
export function diffArrays<T>(before: T[], after: T[]): ReturnType<typeof import('diff').diffArrays<T>> {
  return loadJsdiff().diffArrays(before, after)
}

export interface UnifiedDiffOptions {
  /** lines of context around each change (default 3, as git) */
  context?: number
  /**
   * What each side's lines look like when printed, line for line (the same number of lines as `before`/`after`):
   * the diff is made on the real texts, so a changed credential still shows as a change, and printed from these
   * (credentials masked with their document's structure in view, which a line on its own does not show)
   */
  shown?: {before: string; after: string}
}

const withNewline = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`)

/**
 * A unified diff of `before` → `after` with `--- from` / `+++ to` headers; '' when they are equal.
 * A missing final newline is not reported as a change of its own.
 */
export function unifiedDiff(from: string, to: string, before: string, after: string, o: UnifiedDiffOptions = {}): string {
  if (before === after) return ''
  const patch = loadJsdiff().structuredPatch(from, to, withNewline(before), withNewline(after), undefined, undefined, {context: o.context ?? 3})
  if (patch.hunks.length === 0) return ''
  const shownBefore = o.shown?.before.split('\n')
  const shownAfter = o.shown?.after.split('\n')
  const out = [`--- ${from}`, `+++ ${to}`]
  for (const h of patch.hunks) {
    // as git and jsdiff's formatPatch print it: an empty side starts at the line before
    out.push(`@@ -${h.oldLines === 0 ? h.oldStart - 1 : h.oldStart},${h.oldLines} +${h.newLines === 0 ? h.newStart - 1 : h.newStart},${h.newLines} @@`)
    // 0-based indexes of the hunk's next line on each side
    let oi = h.oldStart - 1
    let ni = h.newStart - 1
    for (const l of h.lines) {
      if (l.startsWith('\\')) continue
      const text = l.slice(1)
      if (l[0] === '-') out.push(`-${shownBefore?.[oi++] ?? text}`)
      else if (l[0] === '+') out.push(`+${shownAfter?.[ni++] ?? text}`)
      else {
        out.push(` ${shownAfter?.[ni] ?? text}`)
        oi++
        ni++
      }
    }
  }
  return `${out.join('\n')}\n`
}
