import {Args} from '@oclif/core'
import {BaseCommand, outputFlag} from '../../lib/cli/base.js'
import {explainField, formatExplanation, type Explanation} from '../../lib/config/explain.js'

export default class ConfigExplain extends BaseCommand {
  static override summary = 'Describe an inventory field: its description, type, default and allowed values (like kubectl explain).'
  static override description = 'PATH is dotted; lists are walked through their items (clusters.nodes.host). Without PATH: the top-level fields.'
  static override examples = [
    '<%= config.bin %> config explain ssh.hostKeyPolicy',
    '<%= config.bin %> config explain clusters.nodes',
    '<%= config.bin %> config explain retention.thanos.raw --json',
  ]
  static override args = {
    path: Args.string({description: 'Dotted field path, e.g. ssh.port or clusters.nodes.host (empty: the whole inventory).', required: false}),
  }

  static override flags = {output: outputFlag()}

  async run(): Promise<Explanation> {
    const {args} = await this.parse(ConfigExplain)
    const e = explainField(args.path ?? '')
    this.out(formatExplanation(e))
    return e
  }
}
