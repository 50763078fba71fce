/**
 * The word someone most likely meant among those allowed (`agnet` for `agent`), for messages that say "did you mean"
 * (fastest-levenshtein's edit distance, the library obsctl's unknown-command hook asks too). Below every layer.
 */
import {levenshtein} from './lazy-deps.js'

/**
 * The closest of `allowed` to `typed` (case aside) when it is close enough to be a typo — at most two edits, or a
 * third of the word's length for a longer one — or begins with it (`remote` for `remote-scrape`); else undefined.
 */
export function didYouMean(typed: string, allowed: readonly string[]): string | undefined {
  const t = typed.toLowerCase()
  if (!t) return undefined
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const a of allowed) {
    const d = levenshtein().distance(t, a.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [a, d]
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(t.length / 3)) && bestDistance < t.length) return best
  const prefixed = allowed.filter((a) => t.length >= 3 && a.toLowerCase().startsWith(t))
  return prefixed.length === 1 ? prefixed[0] : undefined
}
