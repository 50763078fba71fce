/**
 * `obsctl rollback`: the revert of ../gitops/rollback.ts, then the change flow's sync (./change-run.ts)
 * after the push (or its cluster-labels phase alone, with --no-sync). The domain does the Git and inventory work; the flow it runs afterwards is given to it here.
 */
import type {LoadedInventory} from '../config/load.js'
import type {RollbackOptions, RollbackResult} from '../gitops/rollback.js'

export async function rollback(inv: LoadedInventory, o: Omit<RollbackOptions, 'runSync' | 'runLabels'> = {}): Promise<RollbackResult> {
  const [{rollback: revert}, {runSync, labelsOnly}] = await Promise.all([import('../gitops/rollback.js'), import('./change-run.js')])
  return revert(inv, {...o, runSync, runLabels: labelsOnly})
}
