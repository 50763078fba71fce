/**
 * Metrics test peer (DESIGN.md §5): real Prometheus servers (Debian `prometheus`) scraping real
 * node-exporters (Debian `prometheus-node-exporter`), one exporter per cluster, every target labelled
 * `cluster=<name>`. Two replicas stand for the HA pair (external labels cluster and prometheus_replica;
 * the replica label is also put on every series so a fake Thanos Query can tell the replicas apart).
 * Loopback only, random ports, temp storage, 1s scrapes; config changes go through /-/reload.
 */
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {onFreshPorts, portTaken, readyOrExit, spawnDaemon, type Daemon} from './daemon.js'
import {waitForValue} from './wait.js'

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, {signal: AbortSignal.timeout(2000)})
  return (await res.json()) as T
}

export interface Exporter {
  cluster: string
  port: number
  daemon?: Daemon
}

export interface PrometheusReplica {
  name: string
  port: number
  url: string
  configFile: string
  proc: ChildProcess
  daemon: Daemon
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

/** the exporter itself answers on its port (not some other server) */
async function exporterAnswers(e: Exporter): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${e.port}/metrics`, {signal: AbortSignal.timeout(5000)})
  return res.ok && (await res.text()).includes('node_time_seconds')
}

function startExporter(e: Exporter): Daemon {
  e.daemon = spawnDaemon('prometheus-node-exporter', [
    `--web.listen-address=127.0.0.1:${e.port}`,
    '--collector.disable-defaults',
    '--collector.loadavg',
    '--collector.time',
  ])
  return e.daemon
}

export async function startMetrics(opts: {central: string; clusters: string[]; replicas?: number}): Promise<MetricsPeer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-prom-'))
  const names = Array.from({length: opts.replicas ?? 2}, (_, i) => `prometheus-${i}`)
  let exporters: Exporter[] = []
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

  // every port of the peer chosen at once (a replica's port must not be one an exporter is about to bind);
  // when one was taken before its server bound it, everything again on fresh ports (test/support/daemon.ts)
  let replicas: PrometheusReplica[]
  try {
    replicas = await onFreshPorts(opts.clusters.length + names.length, async (ports) => {
      exporters = opts.clusters.map((cluster, i) => ({cluster, port: ports[i]!}))
      const started = exporters.map(startExporter)
      const rs = names.map((name, i): PrometheusReplica => {
        const port = ports[opts.clusters.length + i]!
        const configFile = path.join(dir, `${name}.yml`)
        writeFileSync(configFile, config({name, port}))
        const daemon = spawnDaemon('prometheus', [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${path.join(dir, name)}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-lifecycle',
        ])
        return {name, port, url: `http://127.0.0.1:${port}`, configFile, proc: daemon.proc, daemon}
      })
      const all = [...started, ...rs.map((r) => r.daemon)]
      try {
        // Prometheus and each exporter themselves answer there (any other server on the port would fail every later call instead)
        await readyOrExit(all, (gone) =>
          Promise.all([
            ...rs.map((r) =>
              waitForValue(`${r.name} ready`, async () => {
                if (gone()) return true
                const res = await fetch(`${r.url}/-/ready`)
                return res.ok && (await res.text()).includes('Prometheus')
              }),
            ),
            ...exporters.map((e) => waitForValue(`the node-exporter of ${e.cluster}`, async () => gone() || exporterAnswers(e))),
          ]),
        )
      } catch (e) {
        await Promise.all(all.map((d) => d.stop()))
        throw e
      }
      return rs
    })
  } catch (e) {
    rmSync(dir, {recursive: true, force: true})
    throw e
  }

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
          waitForValue(
            `${r.name} to scrape ${want}`,
            async () => [...new Set((await activeTargets(r)).map((t) => t.labels.cluster!))].sort().join(',') === want,
          ),
        ),
      )
      // removed targets get stale markers: wait until queries no longer see them
      await Promise.all(
        replicas.map((r) =>
          waitForValue(`${r.name} to answer for ${want}`, async () => {
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
      await e.daemon?.stop()
      e.daemon = undefined
    },
    async startExporter(cluster) {
      const e = exporters.find((x) => x.cluster === cluster)!
      // its port was free while it was stopped: an outgoing connection may hold it as its source port for a
      // while (test/support/daemon.ts); Prometheus scrapes this port, so start again until it binds
      await waitForValue(
        `the node-exporter of ${cluster} back on port ${e.port}`,
        async () => {
          const d = startExporter(e)
          try {
            return await readyOrExit([d], (gone) => waitForValue(`the node-exporter of ${cluster}`, async () => gone() || exporterAnswers(e)))
          } catch (err) {
            if (portTaken(err)) return false
            await d.stop()
            throw err
          }
        },
        120_000,
        1000,
      )
    },
    async settled() {
      await Promise.all(
        replicas.map((r) =>
          waitForValue(`${r.name} targets up`, async () => {
            const ts = await activeTargets(r)
            return ts.length === scraped.length + 1 && ts.every((t) => t.health === 'up')
          }),
        ),
      )
      // and the freshest samples are queryable
      await Promise.all(
        replicas.map((r) =>
          waitForValue(`${r.name} up series`, async () => {
            const q = await getJson<{data: {result: unknown[]}}>(`${r.url}/api/v1/query?query=${encodeURIComponent('count by (cluster) (up)')}`)
            return q.data.result.length === new Set([opts.central, ...scraped]).size
          }),
        ),
      )
    },
    async close() {
      await Promise.all([...replicas.map((r) => r.daemon), ...exporters.map((e) => e.daemon)].map((d) => d?.stop()))
      rmSync(dir, {recursive: true, force: true})
    },
  }
  return peer
}
