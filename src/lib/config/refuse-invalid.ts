/**
 * The one check before a command changes anything from an inventory (../cli/base.ts loadValidInventory, render,
 * node add): kept apart from ./lint-entry.ts, which ./lint.ts itself imports.
 */
import type {LoadedInventory} from './load.js'
import {lintKnownClean} from './lint-entry.js'

/**
 * The inventory refused as `config validate` refuses it (exit 2, `CONFIG_INVALID`, every error finding with its
 * file:line; ./lint.ts refuseLintErrors). An unchanged text whose lint the derived-result cache knows clean is not
 * linted again, and the lint is not loaded (~3 ms of a command's start-up: render's run loaded it with every result
 * cached). `allowOvercommit`: the capacity finding is a warning.
 */
export async function refuseInvalidInventory(inv: LoadedInventory, o: {allowOvercommit?: boolean}): Promise<void> {
  if (lintKnownClean(inv, o.allowOvercommit)) return
  const {refuseLintErrors} = await import('./lint.js')
  refuseLintErrors(inv, {allowOvercommit: o.allowOvercommit})
}
