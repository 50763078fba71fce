import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldDo} from '../../lib/engine/format.js'
import type {AddResult} from '../../lib/flows/cluster-add-run.js'
import {ADD_PHASES, type AddPhase} from '../../lib/flows/cluster-add.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

const PHASES = [...ADD_PHASES]

export default class ClusterAdd extends BaseCommand {
  static override summary = 'Add a cluster to the fleet: inventory, nodes, kubeconfig, GitOps repo, Argo CD, secrets, sync, validate.'
  static override description = `One resumable task list: the cluster is appended to the inventory (comments and order kept; lint first, exit 2 when it would be invalid; SSH credentials first too: without a terminal, a missing one is exit 2 naming ssh.identityFile, ssh-agent, OBSCTL_SSH_PASSWORD, nothing written), then the phases ${PHASES.join(' → ')} run for this cluster only (the render commits and pushes its overlay and Applications). Rerun the same command to resume after a failure: the inventory edit is skipped when the cluster is already there with the same settings, and finished tasks are skipped. --dry-run prints the plan and touches nothing.`
  static override examples = [
    '<%= config.bin %> cluster add cluster-05 --host 192.168.101.199 --dry-run',
    '<%= config.bin %> cluster add cluster-05 --host 192.168.101.199 --metrics agent --yes',
    '<%= config.bin %> cluster add cluster-06 --host 10.0.0.5 --host 10.0.0.6 --user ubuntu --cpu 8 --memory 32Gi --yes',
    '<%= config.bin %> cluster add cluster-07 --host fd00::7 --node-name cluster-07-cp --dry-run',
  ]
  static override args = {name: Args.string({description: 'Cluster name, e.g. cluster-05.', required: true})}
  static override flags = {
    host: Flags.string({summary: 'Node address (repeatable; the first is the control plane).', required: true, multiple: true}),
    'node-name': Flags.string({summary: 'Kubernetes node name of the --host at the same position (repeatable; default: the host).', multiple: true}),
    role: Flags.string({summary: 'Cluster role.', options: ['edge'], default: 'edge'}),
    metrics: Flags.string({summary: 'How central gets its metrics.', options: ['remote-scrape', 'agent'], default: 'remote-scrape'}),
    user: Flags.string({summary: 'SSH user of its nodes (default: ssh.user).'}),
    port: Flags.integer({summary: 'SSH port of its nodes (default: ssh.port).', min: 1, max: 65535}),
    cpu: Flags.string({summary: 'CPUs per node.', default: '4'}),
    memory: Flags.string({summary: 'Memory per node.', default: '16Gi'}),
    'api-server': Flags.string({summary: 'API server URL (default https://<first host>:6443).'}),
    from: Flags.string({summary: 'Start at this phase (the inventory edit always comes first).', options: PHASES}),
    'dry-run': Flags.boolean({summary: 'Print the inventory change and the plan; touch nothing.'}),
    restart: Flags.boolean({summary: 'Ignore the journal: recheck every task against the live system.'}),
    push: Flags.boolean({summary: 'Push the render commit (--no-push: commit only).', default: true, allowNo: true}),
    timeout: secondsFlag('Seconds to wait for rollouts, sync and validation to settle.', 900),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<AddResult> {
    const {args, flags} = await this.parse(ClusterAdd)
    const inv = this.loadInventory(flags.config)
    const {addCluster} = await import('../../lib/flows/cluster-add-run.js')
    const r = await addCluster(inv, {
      cluster: {
        name: args.name,
        role: flags.role as 'edge',
        metrics: flags.metrics as 'remote-scrape' | 'agent',
        hosts: flags.host,
        names: flags['node-name'],
        user: flags.user,
        port: flags.port,
        cpu: flags.cpu,
        memory: flags.memory,
        apiServer: flags['api-server'],
      },
      from: flags.from as AddPhase | undefined,
      dryRun: flags['dry-run'],
      restart: flags.restart,
      yes: flags.yes,
      push: flags.push,
      kubeconfig: flags.kubeconfig,
      timeoutSeconds: flags.timeout,
      allowOvercommit: flags['allow-overcommit'],
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
      confirm: (message) => this.confirm(message),
    })
    if (r.cancelled) {
      this.out('cancelled; nothing was changed')
      return r
    }
    if (r.inventory.added) this.out(`${r.dryRun ? 'would add to' : 'added to'} ${r.inventory.file}:\n${r.inventory.added}\n`)
    if (r.run) this.out(r.dryRun ? formatPlanOf(r) : formatRunSummary(r.run))
    if (r.run && !r.run.ok) this.failWith(r.run.exitCode)
    return r
  }
}

function formatPlanOf(r: AddResult): string {
  const lines = r.run!.phases.flatMap((p) => [
    `${p.name}: ${p.title}`,
    ...p.tasks.map((t) => `  ${t.target}: ${wouldDo({status: t.status, description: t.description ?? t.summary})}`),
  ])
  // the last line, as bootstrap --dry-run's: neither the inventory nor a node nor a cluster was touched
  return endDryRun(lines)
}
