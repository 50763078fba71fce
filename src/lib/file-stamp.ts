/**
 * What a file is now, as a string that changes when it is rewritten or replaced: inode, size and mtime; `-` when there
 * is none. What a result derived from a file is kept against: the kubeconfig's parse (./platform/kube.ts), the root
 * help's text (./root-help-cache.ts).
 */
import {statSync} from 'node:fs'

export function fileStamp(file: string): string {
  const st = statSync(file, {throwIfNoEntry: false})
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-'
}
