import * as Args from '@oclif/core/args'
import {BaseCommand} from '../../lib/cli/base.js'
import {formatPreflight} from '../../lib/cli/views/node-preflight.js'
import {ExitCode} from '../../lib/errors.js'
import {runNodePreflight} from '../../lib/nodes/run.js'
import type {PreflightReport} from '../../lib/nodes/preflight.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'

export default class NodePreflight extends BaseCommand {
  static override summary =
    'Check every node over SSH before installing Kubernetes: OS/arch, CPU, memory, disk, swap, ports, clock, sudo, hostnames, what interrupted obsctl runs left.'
  static override description = `Read-only. Connects with the inventory's ssh settings (key file, ssh-agent, or a prompted password; OBSCTL_SSH_PASSWORD / OBSCTL_SUDO_PASSWORD for automation) and verifies host keys against .obsctl/known_hosts (trust on first use; a changed key is refused). Exit 1 when any check fails.`
  static override examples = [
    '<%= config.bin %> node preflight',
    '<%= config.bin %> node preflight cluster-01 cluster-02 --json',
    '<%= config.bin %> node preflight --known-hosts ~/.ssh/known_hosts',
  ]
  static override args = {clusters: Args.string({description: 'clusters to check (default: all)'})}
  static override strict = false
  static override flags = {
    'known-hosts': knownHostsFlag(),
  }

  async run(): Promise<PreflightReport> {
    const {flags, argv} = await this.parse(NodePreflight)
    const inv = this.loadInventory(flags.config)
    const report = await runNodePreflight(inv, {clusters: argv as string[], knownHosts: flags['known-hosts'], onNotice: (l) => this.note(l)})
    this.out(formatPreflight(report))
    if (!report.ok) this.failWith(ExitCode.failed)
    return report
  }
}
