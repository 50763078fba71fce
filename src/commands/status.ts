import * as Flags from '@oclif/core/flags'
import {durationFlag} from '../lib/cli/duration-flag.js'
import {BaseCommand} from '../lib/cli/base.js'
import {serviceFlags} from '../lib/cli/service-flags.js'
import {ExitCode} from '../lib/errors.js'
import {colorize} from '../lib/style.js'
import type {FleetStatus} from '../lib/status/index.js'
import {DAY, secondsFlag} from '../lib/cli/seconds-flag.js'

export default class Status extends BaseCommand {
  static override summary = 'One table for the fleet: nodes Ready, Argo CD apps, metrics and logs freshness, last validation.'
  static override description = `Per cluster: nodes Ready (its API server), Argo CD Applications Synced and Healthy (central Argo CD, by the obsctl.dev/cluster label), metrics freshness (newest \`up\` sample with its cluster label in Thanos Query), logs freshness (newest @timestamp in fluent-bit-<cluster>-*) and the last recorded \`obsctl validate\` (result for the checks that concern the cluster, and its age). Under the table, one line per problem.

Exit 0 when every cluster is ok, 1 when any is degraded (also with --json). --watch redraws every --interval seconds until Ctrl-C (exit 0); with --json it prints one JSON object per line.

Services are reached as obsctl validate reaches them (--endpoint, --via-api-server, --ca-file); OpenSearch credentials from $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else asked once on a terminal.`
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --watch --interval 10',
    '<%= config.bin %> status --json | jq ".clusters[] | select(.ok | not) | .name"',
    '<%= config.bin %> status --endpoint thanos-query=https://thanos.example.lab --metrics-stale 2m',
  ]
  static override flags = {
    watch: Flags.boolean({char: 'w', summary: 'Redraw every --interval seconds until Ctrl-C.'}),
    interval: secondsFlag('Seconds between refreshes under --watch.', 5, DAY),
    'metrics-stale': durationFlag('A cluster whose newest metric sample is older than this is degraded.', '5m', {example: '90s, 5m or 1h'}),
    'logs-stale': durationFlag('A cluster whose newest log line is older than this is degraded.', '15m', {example: '90s, 5m or 1h'}),
    ...serviceFlags({requestTimeout: 5}),
  }

  async run(): Promise<FleetStatus | undefined> {
    const parsed = await this.parse(Status)
    const {flags} = parsed
    this.requireWith(parsed, 'interval', 'watch', 'it is the time between redraws, and without --watch status draws once')
    const inv = this.loadInventory(flags.config)
    const [{openStatus, formatStatus}, {serviceAccess}] = await Promise.all([import('../lib/status/index.js'), import('../lib/platform/access.js')])
    const session = await openStatus(inv, {
      ...serviceAccess(flags),
      metricsStale: flags['metrics-stale'],
      logsStale: flags['logs-stale'],
    })
    try {
      if (!flags.watch) {
        const s = await session.collect()
        this.out(formatStatus(s))
        if (!s.ok) this.failWith(ExitCode.failed)
        return s
      }
      await this.watch(() => session.collect(), formatStatus, flags.interval * 1000)
      return undefined
    } finally {
      session.close()
    }
  }

  /** Redraw until Ctrl-C; a terminal is cleared between frames, a pipe gets them one after another. */
  private async watch(collect: () => Promise<FleetStatus>, format: (s: FleetStatus) => string, intervalMs: number): Promise<void> {
    const stop = new AbortController()
    const onSigint = () => stop.abort()
    process.once('SIGINT', onSigint)
    const tty = process.stdout.isTTY === true
    try {
      while (!stop.signal.aborted) {
        const s = await collect()
        if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(s)}\n`)
        else
          process.stdout.write(
            `${tty ? '\x1b[2J\x1b[H' : ''}${colorize(format(s))}\n${tty ? `\nevery ${intervalMs / 1000}s, ${new Date(s.at).toLocaleTimeString()} — Ctrl-C to stop\n` : '\n'}`,
          )
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, intervalMs)
          stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), {once: true})
        })
      }
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}
