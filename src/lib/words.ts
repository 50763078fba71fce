/** How many names a line holds (list's default): past it, a fleet is said by counts and the first few names. */
export const LIST_MAX = 8

/**
 * Names in a sentence, however many: "a", "a and b", "a, b and c"; past `max`, the first `max` and how many more
 * ("a, b, … and 992 more"). A fleet's list of clusters or targets stays a line, in a finding, a hint or an error.
 */
export function list(items: string[], max = LIST_MAX): string {
  const shown = items.slice(0, max)
  const more = items.length > max ? ` and ${items.length - max} more` : ''
  if (shown.length <= 1) return shown.join('') + more
  return more ? `${shown.join(', ')}${more}` : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`
}
