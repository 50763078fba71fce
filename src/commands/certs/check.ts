import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import type {CertsCheckResult} from '../../lib/flows/certs-run.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'

export default class CertsCheck extends BaseCommand {
  static override readOnly = true
  static override summary = 'Expiry of every kubeadm certificate per control-plane node and of the kubeconfig client certificates.'
  static override description = `Reads, over SSH as root, every certificate in /etc/kubernetes/pki on each control-plane node and the client certificate embedded in admin.conf, super-admin.conf, controller-manager.conf and scheduler.conf (only that field: no key leaves the node), and the client certificate of each cluster's <cluster>-admin user in the kubeconfig. On each control-plane node it also checks what kube-apiserver actually serves: one TLS handshake from the node (through its SSH connection) with the node's address and the API server port, verified against the cluster CA, whose certificate is compared with apiserver.crt (an API server whose restart did not take serves the old one). A certificate that expires within 30 days is a warning, and so is an API server serving another certificate than its apiserver.crt; an expired one (files or served), a node whose certificates cannot be read, or an API server that cannot be reached or whose certificate fails verification fails the check (exit 1). The soonest expiry per cluster is kept in .obsctl/certs.json for obsctl status.`
  static override examples = [
    '<%= config.bin %> certs check',
    '<%= config.bin %> certs check --cluster cluster-02 --verbose',
    '<%= config.bin %> certs check --json',
  ]
  static override flags = {
    cluster: Flags.string({summary: 'Only this cluster (repeatable; default: every cluster).', multiple: true}),
    'known-hosts': knownHostsFlag(),
  }

  async run(): Promise<CertsCheckResult> {
    const {flags} = await this.parse(CertsCheck)
    const inv = this.loadInventory(flags.config)
    const [{certsCheck}, {formatCertsCheck}] = await Promise.all([import('../../lib/flows/certs-run.js'), import('../../lib/lifecycle/certs-format.js')])
    const r = await certsCheck(inv, {
      kubeconfig: flags.kubeconfig,
      clusters: flags.cluster,
      ssh: {knownHostsFile: flags['known-hosts']},
      renderer: this.renderer(),
    })
    this.out(formatCertsCheck(r, flags.verbose))
    if (!r.ok) this.failWith(r.exitCode)
    return r
  }
}
