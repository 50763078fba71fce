/** A field of the inventory, as a path of keys and indices (e.g. `['clusters', 0, 'nodes', 1, 'host']`): a leaf, so the schema's parts (./alerting.ts) and the loader (./load.ts) both use it. */
export type FieldPath = (string | number)[]
