import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import {endDryRun, formatRunSummary, wouldRunLines} from '../../lib/engine/format.js'
import type {RemoveResult} from '../../lib/flows/cluster-remove-run.js'

export default class ClusterRemove extends BaseCommand {
  static override summary = 'Remove an edge cluster from the fleet (cluster add in reverse).'
  static override description = `In order: its Argo CD Applications on central, its cluster Secret (and scrape Secret), its Argo CD and scrape tokens on the edge (ServiceAccounts and token Secrets deleted; an unreachable edge is reported as NOT revoked), its own OpenSearch user fluentbit-NAME (security API, admin credentials from $OBSCTL_OPENSEARCH_USER/PASSWORD or central's opensearch-admin-credentials; OpenSearch reached at its inventory or --endpoint URL, or --via-api-server), the GitOps repo re-rendered without it (its files removed; commit + push), its kubeconfig entries (the file is backed up), then the inventory. Its nodes are left alone unless --reset-nodes, which runs \`kubeadm reset -f\` on each of them over SSH. A rerun after a failure or a kill finishes the job (once its kubeconfig entries are gone, the tokens are reported as the interrupted run left them); the journal then forgets the cluster, so a later cluster add of the name starts from nothing. Asks first (--yes). The central cluster cannot be removed. Rerun to finish after a failure; --dry-run prints the steps.`
  static override examples = [
    '<%= config.bin %> cluster remove cluster-04 --dry-run',
    '<%= config.bin %> cluster remove cluster-04 --yes',
    '<%= config.bin %> cluster remove cluster-04 --reset-nodes --yes',
    '<%= config.bin %> cluster remove cluster-04 --via-api-server --yes',
  ]
  static override args = {name: Args.string({description: 'The edge cluster to remove.', required: true})}
  static override flags = {
    'reset-nodes': Flags.boolean({summary: 'Also run kubeadm reset -f on its nodes (after the confirmation).'}),
    'dry-run': Flags.boolean({summary: 'Print what would be done; touch nothing.'}),
    push: Flags.boolean({summary: 'Push the render commit (--no-push: commit only).', default: true, allowNo: true}),
    force: Flags.boolean({summary: 'Remove rendered files even when they were edited by hand.'}),
    // its OpenSearch user is revoked through OpenSearch's security API, reached as validate reaches it
    ...serviceFlags(),
  }

  async run(): Promise<RemoveResult> {
    const {args, flags} = await this.parse(ClusterRemove)
    const inv = this.loadInventory(flags.config)
    const [{removeCluster}, {serviceAccess}] = await Promise.all([import('../../lib/flows/cluster-remove-run.js'), import('../../lib/platform/access.js')])
    const r = await removeCluster(inv, args.name, {
      resetNodes: flags['reset-nodes'],
      dryRun: flags['dry-run'],
      yes: flags.yes,
      push: flags.push,
      force: flags.force,
      kubeconfig: flags.kubeconfig,
      access: serviceAccess(flags),
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
      confirm: (message) => this.confirm(message),
    })
    if (r.absent) this.out(`${r.cluster} is not in ${inv.file}: nothing to remove`)
    else if (r.cancelled) this.out('cancelled; nothing was changed')
    else if (r.run && r.dryRun) this.out(endDryRun(wouldRunLines(r.run)))
    else if (r.run) this.out(formatRunSummary(r.run))
    if (r.run && !r.run.ok) this.failWith(r.run.exitCode)
    return r
  }
}
