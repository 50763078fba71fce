/**
 * The tests' one inventory builder: the example inventory (what `obsctl init --example` writes), with
 * fields set through setInventoryText — the same edit `config set` makes, paths as it takes them
 * (`s3.endpoint`, `s3.buckets.backups.expireAfter`, `clusters.cluster-02.apiServer`). No text surgery:
 * a field that moves in the example template still lands where it belongs, and a path that does not
 * resolve fails loudly. Values are JS values (objects and lists too); the result is not validated, so a
 * test can also build an inventory that `config validate` must refuse.
 */
import {EXAMPLE_ANSWERS, renderInventoryYaml, setInventoryText} from '../../src/lib/config/index.js'

export const EXAMPLE_TEXT = renderInventoryYaml(EXAMPLE_ANSWERS)

/** An inventory edit, as the harnesses take it (`edit: (yaml) => yaml`). */
export type InventoryEdit = (yaml: string) => string

/** BASE (default: the example inventory) with each PATH set to its value, in order. */
export function exampleInventory(sets: Record<string, unknown> = {}, base: string = EXAMPLE_TEXT): string {
  let text = base
  for (const [p, v] of Object.entries(sets)) text = setInventoryText(text, p, v).after
  return text
}

/** The same, as an edit a harness applies to its own base. */
export const withValues =
  (sets: Record<string, unknown>): InventoryEdit =>
  (y) =>
    exampleInventory(sets, y)
