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
  /** rewrite a line's text before it is printed (e.g. mask credentials) */
  mapLine?: (line: string) => string
}

const withNewline = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`)

/**
 * A unified diff of `before` → `after` with `--- from` / `+++ to` headers; '' when they are equal.
 * A missing final newline is not reported as a change of its own.
 */
export function unifiedDiff(from: string, to: string, before: string, after: string, o: UnifiedDiffOptions = {}): string {
  if (before === after) return ''
  const map = o.mapLine ?? ((l: string) => l)
  const patch = loadJsdiff().structuredPatch(from, to, withNewline(before), withNewline(after), undefined, undefined, {context: o.context ?? 3})
  if (patch.hunks.length === 0) return ''
  const out = [`--- ${from}`, `+++ ${to}`]
  for (const h of patch.hunks) {
    // as git and jsdiff's formatPatch print it: an empty side starts at the line before
    out.push(`@@ -${h.oldLines === 0 ? h.oldStart - 1 : h.oldStart},${h.oldLines} +${h.newLines === 0 ? h.newStart - 1 : h.newStart},${h.newLines} @@`)
    for (const l of h.lines) if (!l.startsWith('\\')) out.push(`${l[0]}${map(l.slice(1))}`)
  }
  return `${out.join('\n')}\n`
}
