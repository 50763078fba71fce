import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldRun} from '../../lib/engine/format.js'
import type {CertsRenewResult} from '../../lib/flows/certs-run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'

export default class CertsRenew extends BaseCommand {
  static override summary = 'Renew the kubeadm certificates, restart the control plane one node at a time, refresh the kubeconfig.'
  static override description = `On each control-plane node, one node at a time: kubeadm certs renew all; then kube-apiserver, kube-controller-manager, kube-scheduler and etcd are restarted one by one the way the Kubernetes documentation describes (the static pod's manifest is moved out of /etc/kubernetes/manifests until crictl shows its container gone, then moved back until a new container runs); then the certificates are read back (one still expiring within 30 days fails the node), and a TLS connection from the node to its own API server (through the SSH connection) must find it serving the renewed apiserver.crt, verified against the cluster CA (an API server that did not restart, or one that cannot be reached, fails the node). Last, the renewed admin.conf is merged into the kubeconfig (as obsctl kubeconfig merge). CAs are not renewed (kubeadm's live 10 years). --dry-run prints the steps.

A renew stopped by Ctrl-C, a kill or a failed node is taken up by the next run: the nodes it already renewed are skipped. Once every node and the kubeconfig are done, the next run renews every node again.`
  static override examples = [
    '<%= config.bin %> certs renew --dry-run',
    '<%= config.bin %> certs renew --cluster cluster-02',
    '<%= config.bin %> certs renew --json',
  ]
  static override flags = {
    cluster: Flags.string({summary: 'Only this cluster (repeatable; default: every cluster).', multiple: true}),
    'dry-run': Flags.boolean({summary: 'Print what would be done; touch nothing.'}),
    'known-hosts': knownHostsFlag(),
    'pod-timeout': secondsFlag('Seconds each static pod may take to stop or start (and kube-apiserver to answer again).', 300),
  }

  async run(): Promise<CertsRenewResult> {
    const {flags} = await this.parse(CertsRenew)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const {certsRenew} = await import('../../lib/flows/certs-run.js')
    const r = await certsRenew(inv, {
      kubeconfig: flags.kubeconfig,
      clusters: flags.cluster,
      dryRun: flags['dry-run'],
      ssh: {knownHostsFile: flags['known-hosts']},
      podTimeoutMs: flags['pod-timeout'] * 1000,
      renderer: this.renderer(),
    })
    if (r.plan)
      this.out(
        endDryRun(
          r.plan.map((p) => `${p.phase} ${p.target}: ${p.skip ? 'skip (renewed in the unfinished renew this run takes up)' : wouldRun(p.description)}`),
        ),
      )
    else this.out(formatRunSummary(r.run))
    if (!r.ok) this.failWith(r.exitCode)
    return r
  }
}
