/**
 * Alertmanager test peer: real Alertmanager servers (Debian `prometheus-alertmanager`, v0.25) on
 * loopback, random ports, temp storage; with `replicas` > 1 they gossip on loopback and form one
 * cluster (--cluster.peer), as the chart's replicas do through alertmanager-operated. Alerts are
 * posted to it as Prometheus posts them (POST /api/v2/alerts, postableAlerts).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {lastLines, onFreshPorts, readyOrExit, spawnDaemon} from './daemon.js'
import {waitFor} from './wait.js'

export interface AlertmanagerPeer {
  /** URL of each replica's web API */
  urls: string[]
  url: string
  /** POST /api/v2/alerts to every replica, as Prometheus does (alerts are not gossiped; silences are) */
  postAlerts(alerts: {labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string}[]): Promise<void>
  /** what the replicas have written to stderr so far, one after the other */
  log(): string
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
  try {
    // all ports at once: a port taken one at a time can repeat (web and gossip of one replica could get the same one)
    return await onFreshPorts(2 * n, (free) => start(n, dir, configFile, free))
  } catch (e) {
    rmSync(dir, {recursive: true, force: true})
    throw e
  }
}

async function start(n: number, dir: string, configFile: string, free: number[]): Promise<AlertmanagerPeer> {
  const ports = Array.from({length: n}, (_, i) => ({web: free[2 * i]!, gossip: free[2 * i + 1]!}))
  const daemons = ports.map((p, i) =>
    spawnDaemon('prometheus-alertmanager', [
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
    ]),
  )
  const urls = ports.map((p) => `http://127.0.0.1:${p.web}`)
  const status = async (u: string) =>
    (await (await fetch(`${u}/api/v2/status`, {signal: AbortSignal.timeout(5000)})).json()) as {cluster: {status: string; peers?: unknown[]}}
  const last: string[] = urls.map(() => 'no answer yet')
  const peer: AlertmanagerPeer = {
    urls,
    url: urls[0]!,
    log: () => daemons.map((d) => d.log()).join(''),
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
      await readyOrExit(daemons, async (gone) => {
        try {
          await waitFor(
            async () =>
              gone() ||
              (
                await Promise.all(
                  urls.map(async (u, i) => {
                    try {
                      const s = await status(u)
                      last[i] = `${s.cluster.status}, ${(s.cluster.peers ?? []).length} peer(s)`
                      return n === 1 ? s.cluster.status === 'disabled' : s.cluster.status === 'ready' && (s.cluster.peers ?? []).length === n
                    } catch (e) {
                      last[i] = String(e)
                      return false
                    }
                  }),
                )
              ).every(Boolean),
            120_000,
            `${n} Alertmanager replica(s) ready${n > 1 ? ' and clustered' : ''}`,
            200,
          )
        } catch (e) {
          // what each replica last said, and its log: enough to tell a slow machine from a broken cluster
          throw new Error(`${(e as Error).message}\n${urls.map((u, i) => `${u}: ${last[i]}\n${lastLines(daemons[i]!.log())}`).join('\n')}`, {cause: e})
        }
      })
    },
    async close() {
      // one after the other: a replica stopped leaves the gossip cluster (memberlist's Leave), and waits up to 10 s
      // until its leave message has gone to a live peer — with both stopped at once, neither has one to send it to
      // and each waits the whole 10 s; the last one left has no peer and does not wait
      for (const d of daemons) await d.stop()
      rmSync(dir, {recursive: true, force: true})
    },
  }
  try {
    await peer.clustered()
  } catch (e) {
    await Promise.all(daemons.map((d) => d.stop()))
    throw e
  }
  return peer
}
