import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {durationFlag} from '../lib/cli/duration-flag.js'
import {BaseCommand} from '../lib/cli/base.js'
import {serviceFlags} from '../lib/cli/service-flags.js'
import type {DiagnoseResult} from '../lib/diagnose/collect.js'
import {countFlagWithDefault, MAX_LOG_TAIL_LINES} from '../lib/cli/count-flag.js'

export default class Diagnose extends BaseCommand {
  static override summary = 'Write one tar.gz for a support ticket: validate/status, journal, nodes, events, unready pods and their logs, CR status.'
  static override description = `Collects, without changing anything: validate's and status' JSON, obsctl's journal (.obsctl/state.json) and the last run's task logs; per cluster (or only CLUSTER) its nodes, the events of --since, the pods that are not Ready with the last lines of each container's log, the status of the platform's custom resources (Applications, Prometheus, ThanosRuler, OpenSearchCluster, FluentBit) and Argo CD's sync, health and conditions. No Secret is collected; every known secret value (the env vars the inventory names, the Secrets obsctl manages, kubeconfig credentials) and token pattern (bearer tokens, JWTs, basic auth in URLs, private keys) is replaced by [REDACTED]. A cluster that does not answer is recorded in the archive (manifest.json), not fatal. The archive is written 0600.`
  static override examples = [
    '<%= config.bin %> diagnose',
    '<%= config.bin %> diagnose cluster-02 --since 30m --out /tmp/cluster-02.tar.gz',
    '<%= config.bin %> diagnose --json',
  ]
  static override args = {cluster: Args.string({description: 'Only this cluster (validate and status still cover the platform).'})}
  static override flags = {
    since: durationFlag('Events and log lines of this window (e.g. 30m, 1h, 1d).', '1h', {example: '30m, 2h or 1d'}),
    out: Flags.string({summary: 'The archive to write (default ./obsctl-diagnose-<UTC time>.tar.gz).'}),
    'tail-lines': countFlagWithDefault('Log lines per container of a pod that is not Ready (at most 10000).', {max: MAX_LOG_TAIL_LINES, default: 100}),
    ...serviceFlags(),
  }

  async run(): Promise<DiagnoseResult> {
    const {args, flags} = await this.parse(Diagnose)
    const inv = this.loadInventory(flags.config)
    const [{diagnose, formatDiagnose}, {serviceAccess}] = await Promise.all([import('../lib/diagnose/collect.js'), import('../lib/platform/access.js')])
    const r = await diagnose(inv, {
      cluster: args.cluster,
      since: flags.since,
      out: flags.out,
      tailLines: flags['tail-lines'],
      ...serviceAccess(flags),
      onNotice: (l) => this.note(l),
    })
    this.out(formatDiagnose(r))
    return r
  }
}
