/** OpenSearch day-2 operations (`obsctl opensearch …`). Public surface of src/lib/opensearch. */
export * from './snapshot.js'
export * from './snapshot-ops.js'
