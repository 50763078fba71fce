/**
 * Joining a folder and a relative path obsctl built itself (a rendered file's 'clusters/a/b.yaml', a template's name,
 * a bundle file's './chunk-X.js') without normalising it: path.join runs Node's normalizeString over the whole result,
 * and a `plan` joined ~260 such paths, enough calls for V8 to compile normalizeString with its optimising compiler at
 * every start (~5% of the command's instructions, on a worker thread). Only a path of plain names is joined here;
 * anything else (a '.', '..' or empty segment, an absolute path, another separator) goes through path.join.
 */
import path from 'node:path'

/** true when `rel` is names separated by '/': no '.', '..' or empty segment, not absolute */
export function isPlainRelative(rel: string): boolean {
  return path.sep === '/' && rel !== '' && !/(?:^|\/)\.{0,2}(?:\/|$)/.test(rel)
}

/**
 * The file path.join(dir, rel) names. The same string where `dir` is normalised; where it is not ('./out', 'a//b') the
 * string keeps it as given, which names the same file: for file access, not for showing or comparing paths.
 */
export function joinPlain(dir: string, rel: string): string {
  if (!isPlainRelative(rel) || dir === '') return path.join(dir, rel)
  return dir.endsWith('/') ? `${dir}${rel}` : `${dir}/${rel}`
}
