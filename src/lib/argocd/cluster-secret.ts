/**
 * Argo CD's naming of cluster Secrets (no Kubernetes client here: the render reads it too).
 */

/** The server URL of Argo CD's own cluster (in-cluster). */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc'

/** 32-bit FNV-1a, as Go's hash/fnv New32a. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** Argo CD's name for a cluster Secret: `cluster-<host without port>-<fnv32a of the server URL>`. */
export function clusterSecretName(server: string): string {
  const u = new URL(server)
  let host = u.hostname
  if (host.startsWith('[')) host = host.slice(1, -1).replaceAll(':', '-')
  return `cluster-${host.toLowerCase()}-${fnv32a(server)}`
}
