import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {endDryRun, formatRunSummary, wouldDo} from '../../lib/engine/format.js'
import {runFailures} from '../../lib/lifecycle/report.js'
import type {UpgradeKubernetesResult} from '../../lib/flows/upgrade-kubernetes-run.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class UpgradeKubernetes extends BaseCommand {
  static override summary = 'Upgrade Kubernetes on the clusters (kubeadm): control planes first, then the workers one at a time.'
  static override description = `Per cluster (clusters side by side), kubeadm's procedure as resumable tasks: preflight (one minor at a time, no kubelet newer than the API server, every node Ready, etcd healthy, the package repository of the target minor reachable from every node — pkgs.k8s.io or ssh.aptMirror); the first control plane: kubeadm package, kubeadm upgrade plan, kubeadm upgrade apply; the other control planes: kubeadm upgrade node; each of them then cordoned, drained, kubelet/kubectl upgraded, kubelet restarted, Ready at the new version, uncordoned. Workers one at a time: cordon, drain (the Eviction API: PodDisruptionBudgets are honoured; a budget that blocks past --drain-timeout stops the upgrade with its message, the node stays cordoned), kubeadm/kubelet/kubectl packages, kubeadm upgrade node, restart kubelet, wait Ready at the new version, uncordon. Each node is recorded in the journal: rerun the same command after a failure or a kill and it resumes at the node it stopped on. versions.kubernetes in the inventory is set to VERSION once every cluster runs it. Asks first (--yes); --dry-run prints the plan.`
  static override examples = [
    '<%= config.bin %> upgrade kubernetes 1.35 --dry-run',
    '<%= config.bin %> upgrade kubernetes 1.35 --yes',
    '<%= config.bin %> upgrade kubernetes 1.35.2 --cluster cluster-02 --drain-timeout 900 --yes --json',
  ]
  static override args = {version: Args.string({description: 'Target: a minor (1.35: its newest patch) or a release (1.35.2).', required: true})}
  static override flags = {
    cluster: Flags.string({summary: 'Only this cluster (repeatable; default: every cluster).', multiple: true}),
    'dry-run': Flags.boolean({summary: 'Print the plan per node; connect to nothing.'}),
    'drain-timeout': secondsFlag('Seconds a node drain may take (PodDisruptionBudgets included).', 600),
    timeout: secondsFlag('Seconds a node may take to be Ready at the new version.', 600),
  }

  async run(): Promise<UpgradeKubernetesResult> {
    const {args, flags} = await this.parse(UpgradeKubernetes)
    // nothing it does puts workloads on the clusters: the capacity finding does not block it
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: true})
    const {upgradeKubernetes} = await import('../../lib/flows/upgrade-kubernetes-run.js')
    const r = await upgradeKubernetes(inv, args.version, {
      clusters: flags.cluster,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      confirm: (q) => this.confirm(q),
      drainTimeoutSeconds: flags['drain-timeout'],
      readyTimeoutSeconds: flags.timeout,
      kubeconfig: flags.kubeconfig,
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
    })
    if (r.cancelled) this.out('cancelled; nothing was changed')
    else if (r.run && r.dryRun)
      this.out(endDryRun(r.run.phases.flatMap((p) => [`${p.name}: ${p.title}`, ...p.tasks.map((t) => `  ${t.target}: ${wouldDo(t)}`)])))
    else if (r.run) {
      this.out(formatRunSummary(r.run))
      if (r.inventory)
        this.out(
          r.inventory.behind.length === 0
            ? `inventory: versions.kubernetes = ${r.inventory.value}`
            : `inventory: versions.kubernetes stays ${r.inventory.value}${r.inventory.behind.length ? ` (not yet at ${r.version}: ${r.inventory.behind.join('; ')})` : ''}${r.inventory.ahead.length ? `; clusters[].kubernetes = ${r.version} for ${r.inventory.ahead.join(', ')}` : ''}`,
        )
    }
    if (r.run && !r.run.ok) {
      const f = runFailures(r.run)
      for (const l of f.lines) this.note(l)
      this.failWith(f.exitCode)
    }
    return r
  }
}
