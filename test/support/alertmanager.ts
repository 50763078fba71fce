/**
 * Alertmanager test peer: real Alertmanager servers (Debian `prometheus-alertmanager`, v0.25) on
 * loopback, random ports, temp storage; with `replicas` > 1 they gossip on loopback and form one
 * cluster (--cluster.peer), as the chart's replicas do through alertmanager-operated. Alerts are
 * posted to it as Prometheus posts them (POST /api/v2/alerts, postableAlerts).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {freePorts} from './prometheus.js'
import {waitFor} from './wait.js'

export interface AlertmanagerPeer {
  /** URL of each replica's web API */
  urls: string[]
  url: string
  /** POST /api/v2/alerts to every replica, as Prometheus does (alerts are not gossiped; silences are) */
  postAlerts(alerts: {labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string}[]): Promise<void>
  /** wait until every replica reports `peers` peers and cluster ready (or disabled for one replica) */
  clustered(): Promise<void>
  close(): Promise<void>
}

/** `receivers`: names besides "null" (no notifier configured: routing only); the default route goes to the first, else null. */
export function alertmanagerConfig(receivers: string[]): string {
  return [
    'route:',
    `  receiver: ${receivers[0] ?? '"null"'}`,
    '  group_by: [alertname, cluster]',
    '  routes:',
    '    - receiver: "null"',
    '      matchers: [\'alertname = "Watchdog"\']',
    'receivers:',
    '  - name: "null"',
    ...receivers.map((r) => `  - name: ${r}`),
    '',
  ].join('\n')
}

/** `config`: a whole alertmanager.yml instead of the routing-only one of `receivers` */
export async function startAlertmanager(o: {replicas?: number; receivers?: string[]; config?: string} = {}): Promise<AlertmanagerPeer> {
  const n = o.replicas ?? 1
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-am-'))
  const configFile = path.join(dir, 'alertmanager.yml')
  writeFileSync(configFile, o.config ?? alertmanagerConfig(o.receivers ?? ['ops']))
  // all at once: a port taken one at a time can repeat (web and gossip of one replica could get the same one)
  const free = await freePorts(2 * n)
  const ports = Array.from({length: n}, (_, i) => ({web: free[2 * i]!, gossip: free[2 * i + 1]!}))
  const procs: ChildProcess[] = ports.map((p, i) =>
    spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${configFile}`,
        `--storage.path=${path.join(dir, `data-${i}`)}`,
        `--web.listen-address=127.0.0.1:${p.web}`,
        ...(n > 1
          ? [
              `--cluster.listen-address=127.0.0.1:${p.gossip}`,
              `--cluster.advertise-address=127.0.0.1:${p.gossip}`,
              ...ports.filter((_, j) => j !== i).map((q) => `--cluster.peer=127.0.0.1:${q.gossip}`),
              '--cluster.settle-timeout=2s',
              '--cluster.gossip-interval=100ms',
              '--cluster.pushpull-interval=1s',
            ]
          : ['--cluster.listen-address=']),
      ],
      {stdio: 'ignore'},
    ),
  )
  const urls = ports.map((p) => `http://127.0.0.1:${p.web}`)
  const status = async (u: string) =>
    (await (await fetch(`${u}/api/v2/status`, {signal: AbortSignal.timeout(5000)})).json()) as {cluster: {status: string; peers?: unknown[]}}
  const peer: AlertmanagerPeer = {
    urls,
    url: urls[0]!,
    async postAlerts(alerts) {
      for (const u of urls) {
        const res = await fetch(`${u}/api/v2/alerts`, {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify(alerts),
          signal: AbortSignal.timeout(10_000),
        })
        if (!res.ok) throw new Error(`POST ${u}/api/v2/alerts: HTTP ${res.status} ${await res.text()}`)
      }
    },
    async clustered() {
      await waitFor(
        async () => {
          try {
            const all = await Promise.all(urls.map(status))
            return all.every((s) => (n === 1 ? s.cluster.status === 'disabled' : s.cluster.status === 'ready' && (s.cluster.peers ?? []).length === n))
          } catch {
            return false
          }
        },
        120_000,
        `${n} Alertmanager replica(s) ready${n > 1 ? ' and clustered' : ''}`,
        200,
      )
    },
    async close() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve()
              p.once('exit', () => resolve())
              p.kill('SIGTERM')
            }),
        ),
      )
      rmSync(dir, {recursive: true, force: true})
    },
  }
  try {
    await peer.clustered()
  } catch (e) {
    await peer.close()
    throw e
  }
  return peer
}
