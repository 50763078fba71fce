import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../lib/cli/base.js'
import {initInventory, type InitResult} from '../lib/config/init.js'
import {shWord} from '../lib/shell-quote.js'

export default class Init extends BaseCommand {
  static override summary = 'Write obsctl.yaml: asks for domain, clusters, nodes, SSH, S3 and Git (or --example for the example lab).'
  static override examples = [
    '<%= config.bin %> init                      # interactive wizard: each answer checked as typed, a summary before writing',
    '<%= config.bin %> init --example            # the example lab: cluster-01 central, cluster-02..04 edges',
    '<%= config.bin %> init --example -c lab/obsctl.yaml --force',
  ]
  static override flags = {
    example: Flags.boolean({summary: 'Write the example lab (4 clusters on 192.168.101.194/196/197/198, miribit.lab) without asking.'}),
    force: Flags.boolean({summary: 'Overwrite an existing inventory file.'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const {file, from} = this.inventoryFile(flags.config)
    const result = await initInventory({
      file,
      from,
      example: flags.example,
      force: flags.force,
      yes: flags.yes,
      say: (line) => this.note(line),
    })
    this.out(
      result.unchanged
        ? `${result.file} already holds this inventory (${result.clusters} clusters, ${result.nodes} nodes): nothing written`
        : `wrote ${result.file} (${result.clusters} clusters, ${result.nodes} nodes) and its JSON Schema ${result.schema}`,
    )
    this.out(`next: obsctl config validate${flags.config ? ` -c ${shWord(flags.config)}` : ''} && obsctl plan`)
    return result
  }
}
