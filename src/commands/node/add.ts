import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldRunLines} from '../../lib/engine/format.js'
import {runFailures} from '../../lib/lifecycle/report.js'
import type {NodeAddResult} from '../../lib/flows/node-run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class NodeAdd extends BaseCommand {
  static override summary = 'Add a node to a cluster: inventory entry, preflight, install and join, Ready, labels.'
  static override description = `The node is appended to the cluster in the inventory (lint first: exit 2 and nothing written when it would be invalid), then preflight and the install of bootstrap run on that host only: a fresh join token (30 minutes) is created on the first control plane and handed to the node in a 0600 file — never in a command line or a log. Then its Node is awaited Ready through the API and labelled (obsctl.dev/cluster, node-role.kubernetes.io/worker). Rerun the same command to resume after a failure. CPU and memory default to the cluster's last node. Passwords are never flags (OBSCTL_SSH_PASSWORD / OBSCTL_SUDO_PASSWORD).`
  static override examples = [
    '<%= config.bin %> node add cluster-02 --host 192.168.101.201 --dry-run',
    '<%= config.bin %> node add cluster-02 --host 192.168.101.201',
    '<%= config.bin %> node add cluster-02 --host 192.168.101.202 --role control-plane --cpu 4 --memory 16Gi --json',
  ]
  static override args = {cluster: Args.string({description: 'The cluster to add the node to.', required: true})}
  static override flags = {
    host: Flags.string({summary: 'Address obsctl connects to over SSH.', required: true}),
    role: Flags.string({summary: 'Its role.', options: ['worker', 'control-plane'], default: 'worker'}),
    name: Flags.string({summary: 'Kubernetes node name (default: the host).'}),
    user: Flags.string({summary: 'SSH user (default: ssh.user).'}),
    port: Flags.integer({summary: 'SSH port (default: ssh.port).', min: 1, max: 65535}),
    cpu: Flags.string({summary: "Declared CPUs (default: the cluster's last node)."}),
    memory: Flags.string({summary: "Declared memory (default: the cluster's last node)."}),
    'dry-run': Flags.boolean({summary: 'Print the inventory change and the plan; touch nothing.'}),
    restart: Flags.boolean({summary: 'Ignore the journal: recheck every task.'}),
    timeout: secondsFlag('Seconds to wait for the node to be Ready.', 600),
  }

  async run(): Promise<NodeAddResult> {
    const {args, flags} = await this.parse(NodeAdd)
    const inv = this.loadInventory(flags.config)
    const {addNode} = await import('../../lib/flows/node-run.js')
    const r = await addNode(inv, {
      cluster: args.cluster,
      host: flags.host,
      role: flags.role as 'worker' | 'control-plane',
      name: flags.name,
      user: flags.user,
      port: flags.port,
      cpu: flags.cpu,
      memory: flags.memory,
      dryRun: flags['dry-run'],
      restart: flags.restart,
      timeoutSeconds: flags.timeout,
      kubeconfig: flags.kubeconfig,
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
    })
    if (r.inventory.added) this.out(`${r.dryRun ? 'would add' : 'added'} ${r.host} (${r.role}) to ${r.cluster} in ${r.inventory.file}`)
    this.out(r.dryRun ? endDryRun(wouldRunLines(r.run)) : formatRunSummary(r.run))
    if (!r.run.ok) {
      const f = runFailures(r.run)
      for (const l of f.lines) this.note(l)
      this.failWith(f.exitCode)
    }
    return r
  }
}
