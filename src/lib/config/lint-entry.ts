/**
 * Where the inventory's own lint (every finding but the workstation's, ./lint.ts lintInventory) is kept in the
 * derived-result cache: the entry's name and input. Read here without loading the lint itself: a command that refuses
 * an inventory with errors (./refuse-invalid.ts) asks first whether this text's lint is known and clean.
 */
import {derivedCache, fileEntryName} from '../derived-cache.js'
import type {LoadedInventory} from './load.js'

export function lintEntry(inv: Pick<LoadedInventory, 'file' | 'text'>, allowOvercommit: boolean | undefined): {name: string; input: string} {
  // one entry for each setting: `node preflight` and `s3 setup` lint with the capacity finding a warning, `render` and
  // `cluster register` with it an error, and with a single entry each of them linted again after the other
  return {
    name: fileEntryName(allowOvercommit ? 'lint-overcommit' : 'lint', inv.file),
    input: `${inv.file}\0${inv.text}`,
  }
}

/** The cache holds this text's lint and it found no error (false: not known, or it found one). */
export function lintKnownClean(inv: Pick<LoadedInventory, 'file' | 'text'>, allowOvercommit: boolean | undefined): boolean {
  const {name, input} = lintEntry(inv, allowOvercommit)
  const hit = derivedCache()?.get(name, input)
  if (hit === undefined) return false
  const {findings} = JSON.parse(hit) as {findings?: {severity?: string}[]}
  return Array.isArray(findings) && findings.every((f) => f.severity !== 'error')
}
