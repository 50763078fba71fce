/**
 * What `cluster add` checks in the inventory (the driver is ../flows/cluster-add-run.ts): whether the
 * cluster already there has the settings the command asks for (a rerun of the same command), and the
 * lines the inventory edit inserts.
 */
import type {NewCluster} from '../config/edit.js'
import type {Cluster} from '../config/schema.js'

/** Does the inventory's cluster match what the command asks for? (a rerun of the same command) */
export function sameSettings(c: Cluster, n: NewCluster): string[] {
  const diffs: string[] = []
  if (c.role !== n.role) diffs.push(`role ${c.role} ≠ ${n.role}`)
  if (n.role === 'edge' && (c.metrics ?? 'remote-scrape') !== (n.metrics ?? 'remote-scrape'))
    diffs.push(`metrics ${c.metrics ?? 'remote-scrape'} ≠ ${n.metrics ?? 'remote-scrape'}`)
  const hosts = c.nodes.map((x) => x.host)
  if (hosts.join(',') !== n.hosts.join(',')) diffs.push(`hosts ${hosts.join(',')} ≠ ${n.hosts.join(',')}`)
  if (n.apiServer && c.apiServer !== n.apiServer) diffs.push(`apiServer ${c.apiServer} ≠ ${n.apiServer}`)
  c.nodes.forEach((x, i) => {
    const name = n.names?.[i]
    if (name && x.name !== name) diffs.push(`${x.host} name ${x.name ?? '(its host)'} ≠ ${name}`)
    if (n.user && x.user !== n.user) diffs.push(`${x.host} user ${x.user ?? '(default)'} ≠ ${n.user}`)
    if (n.port && x.port !== n.port) diffs.push(`${x.host} port ${x.port ?? '(default)'} ≠ ${n.port}`)
    if (String(x.cpu) !== String(n.cpu)) diffs.push(`${x.host} cpu ${x.cpu} ≠ ${n.cpu}`)
    if (String(x.memory) !== String(n.memory)) diffs.push(`${x.host} memory ${x.memory} ≠ ${n.memory}`)
  })
  return diffs
}

/** The lines `after` has that `before` does not (a pure insertion: prefix and suffix never overlap). */
export function insertedLines(before: string, after: string): string {
  const a = before.split('\n')
  const b = after.split('\n')
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let q = 0
  while (q < a.length - p && q < b.length - p && a[a.length - 1 - q] === b[b.length - 1 - q]) q++
  return b
    .slice(p, b.length - q)
    .join('\n')
    .trimEnd()
}
