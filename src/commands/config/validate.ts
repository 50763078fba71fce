import {allowOvercommitFlag, BaseCommand, outputFlag} from '../../lib/cli/base.js'
import {lintInventory, type LintReport} from '../../lib/config/lint.js'
import {formatLintReport} from '../../lib/cli/views/config-validate.js'
import {ExitCode} from '../../lib/errors.js'

export default class ConfigValidate extends BaseCommand {
  static override readOnly = true
  static override summary = 'Lint the inventory: schema, Thanos/Prometheus retention, uniqueness, Argo CD HA, capacity.'
  static override description = 'Every finding names the field, its file:line, the reason and the fix. Exit 2 when any error is found.'
  static override examples = [
    '<%= config.bin %> config validate',
    '<%= config.bin %> config validate -c lab/obsctl.yaml --json',
    '<%= config.bin %> config validate --allow-overcommit',
  ]
  static override flags = {
    output: outputFlag(),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<LintReport> {
    const {flags} = await this.parse(ConfigValidate)
    const inv = this.loadInventory(flags.config)
    const report = lintInventory(inv, {allowOvercommit: flags['allow-overcommit'], workstation: true})
    this.out(formatLintReport(report))
    if (report.errors > 0) this.failWith(ExitCode.badInput)
    return report
  }
}
