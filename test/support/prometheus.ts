/**
 * Metrics test peer (DESIGN.md §5): real Prometheus servers (Debian `prometheus`) scraping real
 * node-exporters (Debian `prometheus-node-exporter`), one exporter per cluster, every target labelled
 * `cluster=<name>`. Two replicas stand for the HA pair (external labels cluster and prometheus_replica;
 * the replica label is also put on every series so a fake Thanos Query can tell the replicas apart).
 * Loopback only, random ports, temp storage, 1s scrapes; config changes go through /-/reload.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * n distinct free ports, held open together while they are chosen: ports taken one at a time can repeat (a
 * port just released is free again), and a peer that binds later then finds its port taken by its sibling.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({length: n}, () => createServer())
  try {
    return await Promise.all(
      servers.map(
        (s) =>
          new Promise<number>((resolve, reject) => {
            s.on('error', reject)
            s.listen(0, '127.0.0.1', () => resolve((s.address() as {port: number}).port))
          }),
      ),
    )
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))))
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      lastErr = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, {signal: AbortSignal.timeout(2000)})
  return (await res.json()) as T
}

export interface Exporter {
  cluster: string
  port: number
  proc?: ChildProcess
}

export interface PrometheusReplica {
  name: string
  port: number
  url: string
  configFile: string
  proc: ChildProcess
}

export interface MetricsPeer {
  central: string
  replicas: PrometheusReplica[]
  exporters: Exporter[]
  /** scrape only these clusters' exporters (and Prometheus itself), then reload and wait until the target set is applied */
  scrapeClusters(clusters: string[]): Promise<void>
  /** stop one cluster's node-exporter (its target goes down) */
  stopExporter(cluster: string): Promise<void>
  startExporter(cluster: string): Promise<void>
  /** wait until every replica has scraped every configured target at least once */
  settled(): Promise<void>
  close(): Promise<void>
}

function startExporter(e: Exporter): void {
  e.proc = spawn(
    'prometheus-node-exporter',
    [`--web.listen-address=127.0.0.1:${e.port}`, '--collector.disable-defaults', '--collector.loadavg', '--collector.time'],
    {stdio: 'ignore'},
  )
}

export async function startMetrics(opts: {central: string; clusters: string[]; replicas?: number}): Promise<MetricsPeer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-prom-'))
  const names = Array.from({length: opts.replicas ?? 2}, (_, i) => `prometheus-${i}`)
  // every port of the peer chosen at once: a replica's port must not be one an exporter is about to bind
  const ports = await freePorts(opts.clusters.length + names.length)
  const exporters: Exporter[] = opts.clusters.map((cluster, i) => ({cluster, port: ports[i]!}))
  for (const e of exporters) startExporter(e)
  let scraped = [...opts.clusters]

  const config = (r: {name: string; port: number}) => {
    const groups = exporters
      .filter((e) => scraped.includes(e.cluster))
      .map((e) => `      - targets: ['127.0.0.1:${e.port}']\n        labels: {cluster: ${e.cluster}, prometheus_replica: ${r.name}}`)
    return [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      '  evaluation_interval: 1s',
      `  external_labels: {cluster: ${opts.central}, prometheus_replica: ${r.name}}`,
      'scrape_configs:',
      '  - job_name: prometheus',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${r.port}']`,
      `        labels: {cluster: ${opts.central}, prometheus_replica: ${r.name}}`,
      '  - job_name: node-exporter',
      '    static_configs:',
      ...(groups.length ? groups : ['      []']),
      '',
    ].join('\n')
  }

  const replicas: PrometheusReplica[] = await Promise.all(
    names.map(async (name, i) => {
      const port = ports[opts.clusters.length + i]!
      const configFile = path.join(dir, `${name}.yml`)
      writeFileSync(configFile, config({name, port}))
      const proc = spawn(
        'prometheus',
        [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, name)}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'],
        {stdio: 'ignore'},
      )
      return {name, port, url: `http://127.0.0.1:${port}`, configFile, proc}
    }),
  )
  // Prometheus itself answers there (any other server on the port would fail every later JSON call instead)
  await Promise.all(
    replicas.map((r) =>
      waitFor(`${r.name} ready`, async () => {
        const res = await fetch(`${r.url}/-/ready`)
        return res.ok && (await res.text()).includes('Prometheus')
      }),
    ),
  )

  const activeTargets = async (r: PrometheusReplica) =>
    (await getJson<{data: {activeTargets: {labels: Record<string, string>; health: string}[]}}>(`${r.url}/api/v1/targets?state=active`)).data.activeTargets

  const peer: MetricsPeer = {
    central: opts.central,
    replicas,
    exporters,
    async scrapeClusters(clusters) {
      scraped = [...clusters]
      for (const r of replicas) {
        writeFileSync(r.configFile, config(r))
        const res = await fetch(`${r.url}/-/reload`, {method: 'POST'})
        if (!res.ok) throw new Error(`${r.name} reload: HTTP ${res.status}`)
      }
      const want = [...new Set([opts.central, ...clusters])].sort().join(',')
      await Promise.all(
        replicas.map((r) =>
          waitFor(`${r.name} to scrape ${want}`, async () => [...new Set((await activeTargets(r)).map((t) => t.labels.cluster!))].sort().join(',') === want),
        ),
      )
      // removed targets get stale markers: wait until queries no longer see them
      await Promise.all(
        replicas.map((r) =>
          waitFor(`${r.name} to answer for ${want}`, async () => {
            const q = await getJson<{data: {result: {metric: Record<string, string>}[]}}>(
              `${r.url}/api/v1/query?query=${encodeURIComponent('count by (cluster) (up)')}`,
            )
            return (
              q.data.result
                .map((x) => x.metric.cluster)
                .sort()
                .join(',') === want
            )
          }),
        ),
      )
    },
    async stopExporter(cluster) {
      const e = exporters.find((x) => x.cluster === cluster)!
      e.proc?.kill()
      await new Promise((r) => e.proc?.once('exit', r))
      e.proc = undefined
    },
    async startExporter(cluster) {
      startExporter(exporters.find((x) => x.cluster === cluster)!)
    },
    async settled() {
      await Promise.all(
        replicas.map((r) =>
          waitFor(`${r.name} targets up`, async () => {
            const ts = await activeTargets(r)
            return ts.length === scraped.length + 1 && ts.every((t) => t.health === 'up')
          }),
        ),
      )
      // and the freshest samples are queryable
      await Promise.all(
        replicas.map((r) =>
          waitFor(`${r.name} up series`, async () => {
            const q = await getJson<{data: {result: unknown[]}}>(`${r.url}/api/v1/query?query=${encodeURIComponent('count by (cluster) (up)')}`)
            return q.data.result.length === new Set([opts.central, ...scraped]).size
          }),
        ),
      )
    },
    async close() {
      for (const p of [...replicas.map((r) => r.proc), ...exporters.map((e) => e.proc)]) p?.kill()
      await Promise.all(
        [...replicas.map((r) => r.proc), ...exporters.map((e) => e.proc)]
          .filter((p): p is ChildProcess => Boolean(p) && p!.exitCode === null)
          .map((p) => new Promise((r) => p.once('exit', r))),
      )
      rmSync(dir, {recursive: true, force: true})
    },
  }
  return peer
}
