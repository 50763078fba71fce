import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldRunLines} from '../../lib/engine/format.js'
import {runFailures} from '../../lib/lifecycle/report.js'
import type {NodeRemoveResult} from '../../lib/flows/node-run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class NodeRemove extends BaseCommand {
  static override summary = 'Remove a node from a cluster: cordon, drain, kubeadm reset, delete the Node, remove it from the inventory.'
  static override description = `Refuses (exit 1, nothing touched) when a Longhorn volume has its last healthy replica on the node, unless --force. Then cordon and drain (the Eviction API: PodDisruptionBudgets are honoured; a budget that blocks past --drain-timeout stops here with its message), \`kubeadm reset -f\` on the machine over SSH (--force also goes on when the machine cannot be reached), the Node object deleted, and the inventory entry removed last, so a rerun after a failure or a kill finishes the job; the journal then forgets the node, so a later node add of the same host installs and joins it again. NODE is the node name or its host. The cluster's first control plane and its only node cannot be removed (obsctl cluster remove). Asks first (--yes); --dry-run prints the steps.`
  static override examples = [
    '<%= config.bin %> node remove cluster-02 192.168.101.201 --dry-run',
    '<%= config.bin %> node remove cluster-02 worker-3 --yes',
    '<%= config.bin %> node remove cluster-02 worker-3 --force --yes --json',
  ]
  static override args = {
    cluster: Args.string({description: 'The cluster.', required: true}),
    node: Args.string({description: 'Node name or host.', required: true}),
  }
  static override flags = {
    force: Flags.boolean({summary: 'Remove even when a Longhorn volume loses its last healthy replica, or the machine is unreachable.'}),
    'dry-run': Flags.boolean({summary: 'Print the steps; touch nothing.'}),
    'drain-timeout': secondsFlag('Seconds the drain may take (PodDisruptionBudgets included).', 600),
  }

  async run(): Promise<NodeRemoveResult> {
    const {args, flags} = await this.parse(NodeRemove)
    const inv = this.loadInventory(flags.config)
    const {removeNode} = await import('../../lib/flows/node-run.js')
    const r = await removeNode(inv, args.cluster, args.node, {
      force: flags.force,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      confirm: (q) => this.confirm(q),
      drainTimeoutSeconds: flags['drain-timeout'],
      kubeconfig: flags.kubeconfig,
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
    })
    if (r.absent) this.out(`${r.node} is not a node of ${r.cluster} in ${inv.file}: nothing to remove`)
    else if (r.run && r.dryRun) this.out(endDryRun(wouldRunLines(r.run)))
    else if (r.run) this.out(formatRunSummary(r.run))
    if (r.run && !r.run.ok) {
      const f = runFailures(r.run)
      for (const l of f.lines) this.note(l)
      this.failWith(f.exitCode)
    }
    return r
  }
}
