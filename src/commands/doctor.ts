import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../lib/cli/base.js'
import {ExitCode} from '../lib/errors.js'
import type {DoctorReport} from '../lib/doctor/index.js'
import {DAY, secondsFlag} from '../lib/cli/seconds-flag.js'

export default class Doctor extends BaseCommand {
  static override readOnly = true
  static override summary =
    'Check this workstation before a run: Node, git, OpenSSL, SSH identity, credentials in the environment, DNS (and with --network, reachability and clock skew).'
  static override description = `Like flux check --pre: nothing is changed. Checks Node.js against the version obsctl needs, the tool it runs (git), the SSH identity (ssh.identityFile, an ssh-agent with a key, or $OBSCTL_SSH_PASSWORD), that every credential env var the inventory names is set (values are never printed), and that every endpoint in the inventory resolves in DNS. --network also connects to each endpoint (TCP) and compares this clock with the HTTP Date header of the S3 endpoint and of each cluster's API server (reached as the kubeconfig's context for it says, its certificate verified; no credentials sent). bootstrap runs the offline part of these checks for its phases first. Exit 0 when nothing fails (warnings allowed), 1 when a check fails (also with --json).`
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --network', '<%= config.bin %> doctor --json --skip tools.git']
  static override flags = {
    network: Flags.boolean({summary: 'Also check TCP reachability of every endpoint and clock skew against the S3 endpoint and the API servers.'}),
    skip: Flags.string({summary: 'Skip a check by id (repeatable), e.g. tools.git.', multiple: true}),
    timeout: secondsFlag('Seconds one DNS lookup, connection or request may take.', 5, DAY),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const inv = this.loadInventory(flags.config)
    const [{runDoctor}, {formatDoctor}] = await Promise.all([import('../lib/doctor/index.js'), import('../lib/cli/views/doctor.js')])
    const report = await runDoctor(inv, {network: flags.network, kubeconfig: flags.kubeconfig, skip: flags.skip ?? [], timeoutMs: flags.timeout * 1000})
    this.out(formatDoctor(report))
    if (!report.ok) this.failWith(ExitCode.failed)
    return report
  }
}
