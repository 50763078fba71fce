import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {durationFlag, YEAR} from '../../lib/cli/duration-flag.js'
import {BaseCommand} from '../../lib/cli/base.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import {inputError} from '../../lib/errors.js'
import type {SilenceResult} from '../../lib/alerts/index.js'

export default class AlertsSilence extends BaseCommand {
  static override summary = 'Silence the alerts that match, for a while (an Alertmanager silence).'
  static override description = `Matchers are written as amtool writes them: NAME=VALUE, NAME!=VALUE, NAME=~REGEX, NAME!~REGEX (values may be double-quoted; regexes match the whole value), or a {…} list; a first argument without an operator is the alert name (NodeDown means alertname=NodeDown). Alertmanager refuses a silence that matches every alert, and so does obsctl, before sending it.

The silence starts now and ends after --for (a Prometheus duration: 30m, 2h, 1d). It is created through POST /api/v2/silences, then read back to check Alertmanager holds it active; the alerts firing now that it silences are listed. --dry-run shows the silence and those alerts and creates nothing. Undo with obsctl alerts unsilence ID.

Run again with the same matchers, author and comment, it creates no second silence: the active one is kept (nothing changed) or, when it would end before the new --for, extended.

Alertmanager is reached as obsctl alerts list reaches it.`
  static override examples = [
    '<%= config.bin %> alerts silence NodeDown cluster=cluster-02 --for 2h --comment "node-3 kernel upgrade"',
    '<%= config.bin %> alerts silence \'alertname=~"KubePod.*"\' severity!=critical --for 30m --comment "rollout" --dry-run',
    '<%= config.bin %> alerts silence \'{namespace="logging", alertname="FluentBitDown"}\' --for 1d --comment "OPS-123" --json',
  ]
  static override args = {matchers: Args.string({description: 'matchers (one or more), e.g. alertname=NodeDown cluster=cluster-02', required: true})}
  static override strict = false
  static override flags = {
    for: durationFlag('How long the silence lasts (30m, 2h, 1d).', '2h', {example: '30m, 2h or 1d', max: 10 * YEAR}),
    comment: Flags.string({summary: 'Why (required; recorded with the silence).', default: ''}),
    author: Flags.string({summary: 'Who silences (default obsctl/<login name>).'}),
    'dry-run': Flags.boolean({summary: 'Show the silence and the alerts it would silence; create nothing.'}),
    ...serviceFlags(),
  }

  async run(): Promise<SilenceResult> {
    const {flags, argv} = await this.parse(AlertsSilence)
    const matchers = argv as string[]
    if (matchers.length === 0) throw inputError('no matcher given', ['obsctl alerts silence alertname=NodeDown --for 2h --comment TEXT'], 'NO_MATCHER')
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    // an incident tool: not held back by an inventory finding about the clusters (docs/inventory.md)
    const inv = this.loadInventory(flags.config)
    const [{silence, formatSilence}, {serviceAccess}] = await Promise.all([import('../../lib/alerts/index.js'), import('../../lib/platform/access.js')])
    const result = await silence(inv, {
      matchers,
      for: flags.for,
      comment: flags.comment,
      author: flags.author,
      dryRun: flags['dry-run'],
      ...serviceAccess(flags),
    })
    this.out(formatSilence(result))
    return result
  }
}
