import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {formatRunSummary} from '../../lib/engine/format.js'
import type {RunResult} from '../../lib/engine/result.js'
import {runNodeInstall} from '../../lib/nodes/run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'
import {concurrencyFlag} from '../../lib/cli/count-flag.js'

export default class NodeInstall extends BaseCommand {
  static override summary = 'Install Kubernetes on the nodes over SSH (the `nodes` phase): preflight, upload install-k8s.sh, run it, wait for Ready.'
  static override description = `Nodes are installed concurrently; workers wait for their cluster's first control plane. Each node's full output is in .obsctl/logs/<run>/nodes/. A rerun skips nodes already done and retries the rest; the script itself checks before every step, so an installed node is reported "already installed". Passwords are never flags: a prompt, or OBSCTL_SSH_PASSWORD / OBSCTL_SUDO_PASSWORD for automation.`
  static override examples = [
    '<%= config.bin %> node install',
    '<%= config.bin %> node install cluster-02 --concurrency 2',
    '<%= config.bin %> node install --dry-run',
    '<%= config.bin %> node install cluster-02 --host 192.168.101.196 --restart',
    'OBSCTL_SUDO_PASSWORD=… <%= config.bin %> node install --json',
  ]
  static override args = {clusters: Args.string({description: 'clusters to install (default: all)'})}
  static override strict = false
  static override flags = {
    concurrency: concurrencyFlag('Nodes'),
    'known-hosts': knownHostsFlag(),
    host: Flags.string({
      summary: "Only this node (its address or name in the inventory); with --restart, e.g. to remove what killed runs left in its login user's home.",
    }),
    restart: Flags.boolean({summary: 'Ignore the journal: recheck every node (each step still checks before it acts).'}),
    'dry-run': Flags.boolean({summary: 'Connect to nothing: print what each node task would do.'}),
    timeout: secondsFlag('Seconds to wait for a node to become Ready (and a worker for its control plane).', 600),
  }

  async run(): Promise<RunResult> {
    const {flags, argv} = await this.parse(NodeInstall)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const result = await runNodeInstall(inv, {
      clusters: argv as string[],
      host: flags.host,
      knownHosts: flags['known-hosts'],
      concurrency: flags.concurrency,
      restart: flags.restart,
      dryRun: flags['dry-run'],
      readyTimeoutSeconds: flags.timeout,
      renderer: this.renderer(),
    })
    this.out(formatRunSummary(result))
    if (result.exitCode !== 0) this.failWith(result.exitCode)
    return result
  }
}
