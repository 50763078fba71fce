/**
 * Why the OpenSearch snapshots bucket must not expire objects, and the fix: lint's `snapshot-expiry` finding and `s3
 * setup`'s refusal say it alike. A module of its own, so that the S3 code does not load the inventory's lint with it.
 */
export const SNAPSHOT_EXPIRY_REASON =
  'an S3 lifecycle expiry on the OpenSearch snapshots bucket deletes files that newer snapshots still use: snapshots are incremental and share segment files, so expiring objects by age corrupts every later snapshot. OpenSearch deletes old snapshots itself, through the snapshot API (the snapshot management policy, retention.opensearch.deleteAfter)'
export const SNAPSHOT_EXPIRY_FIX = 'remove s3.buckets.snapshots.expireAfter; set retention.opensearch.deleteAfter to keep snapshots for that long'
