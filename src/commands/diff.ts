import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../lib/cli/base.js'
import {ExitCode} from '../lib/errors.js'
import type {DriftResult} from '../lib/gitops/drift.js'
import {DAY, secondsFlag} from '../lib/cli/seconds-flag.js'
import {countFlagWithDefault, MAX_LINES} from '../lib/cli/count-flag.js'

export default class Diff extends BaseCommand {
  static override readOnly = true
  static override summary = "Show drift between the inventory's render, the GitOps remote and Argo CD, per cluster and Application."
  static override description = `Three views are compared, and nothing is changed:
  the render — what the inventory renders now (in memory; the working copy is not touched);
  Git — git.branch of git.remote, fetched into a temporary repository (with your Git credentials, as obsctl render --push uses them);
  Argo CD — the Applications on the central cluster (status.sync and status.health).

Per Application: OutOfSync or missing in Argo CD; files edited in Git by hand (Git's bytes are not those obsctl rendered, as the committed .obsctl-render.json says), added or deleted by hand; and files Git holds from an earlier render (the inventory changed: render and push). Each differing file is shown as a unified diff from Git to the render.

Exit 0 when there is no drift, 1 when there is any (also with --json), 2 for bad input.`
  static override examples = [
    '<%= config.bin %> diff',
    '<%= config.bin %> diff --cluster cluster-02',
    '<%= config.bin %> diff --json',
    '<%= config.bin %> diff --no-diffs',
  ]
  static override flags = {
    cluster: Flags.string({summary: "Only this cluster's Applications."}),
    diffs: Flags.boolean({summary: "Print each differing file's unified diff (--no-diffs: only the file names).", default: true, allowNo: true}),
    context: countFlagWithDefault('Lines of context in the diffs (0 to 1000000).', {min: 0, max: MAX_LINES, default: 3}),
    'request-timeout': secondsFlag('Seconds each Kubernetes request may take.', 30, DAY),
  }

  async run(): Promise<DriftResult> {
    const {flags} = await this.parse(Diff)
    const inv = this.loadInventory(flags.config)
    const {computeDrift, formatDrift} = await import('../lib/gitops/drift.js')
    this.note(`reading ${inv.platform.git.branch} of the GitOps remote and the Applications in Argo CD…`)
    const result = await computeDrift(inv, {
      kubeconfig: flags.kubeconfig,
      cluster: flags.cluster,
      context: flags.context,
      requestTimeoutMs: flags['request-timeout'] * 1000,
    })
    this.out(formatDrift(result, {diffs: flags.diffs}))
    if (!result.ok) this.failWith(ExitCode.failed)
    return result
  }
}
