import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import {endDryRun} from '../../lib/engine/format.js'
import {contextFlag} from '../../lib/cli/context-flag.js'
import {kubeconfigMerge, type KubeconfigMergeReport} from '../../lib/kube/merge.js'
import {knownHostsFlag} from '../../lib/cli/known-hosts-flag.js'
import {concurrencyFlag} from '../../lib/cli/count-flag.js'

export default class KubeconfigMerge extends BaseCommand {
  static override summary = "Merge each cluster's admin.conf into one kubeconfig as <cluster>, <cluster>-admin, <cluster>-context."
  static override description = `Reads /etc/kubernetes/admin.conf from each cluster's first control-plane node over SSH (sudo), or from --from-file, renames its cluster/user/context to <cluster>, <cluster>-admin and the cluster's context (--context, else clusters[].context, else <cluster>-context), sets server to the inventory's apiServer, and merges them into --kubeconfig, else $KUBECONFIG's files as kubectl writes them (an entry in the file that holds it, a new one in the first file that exists), else ~/.kube/config. Every other entry, comment and line of the file stays as it was; the previous file is kept as <file>.obsctl-backup-<time> (0600); the file is written atomically with mode 0600. A rerun with nothing new changes no byte. A name already used by a different cluster (other server or CA) is an error (exit 2) unless --overwrite. Runs the kubeconfig phase of bootstrap (journal, lock, logs in .obsctl/ beside the inventory).`
  static override examples = [
    '<%= config.bin %> kubeconfig merge',
    '<%= config.bin %> kubeconfig merge --dry-run',
    '<%= config.bin %> kubeconfig merge --kubeconfig ./lab.kubeconfig cluster-02',
    '<%= config.bin %> kubeconfig merge cluster-02 --context lab-02 --from-file cluster-02=./cluster-02.conf',
    '<%= config.bin %> kubeconfig merge --from-file cluster-02=./cluster-02.conf --from-file cluster-03=./cluster-03.conf',
    '<%= config.bin %> kubeconfig merge --concurrency 20',
  ]
  static override strict = false
  static override args = {
    cluster: Args.string({description: 'Clusters to merge (default: all; with --from-file only, the clusters it names).'}),
  }
  static override flags = {
    'from-file': Flags.string({summary: 'CLUSTER=PATH: use this admin.conf instead of reading it over SSH (repeatable).', multiple: true}),
    overwrite: Flags.boolean({summary: 'Replace entries whose names a different cluster (other server or CA) already uses.'}),
    'dry-run': Flags.boolean({summary: 'Read the admin.conf files, write nothing: print the diff with credentials masked.'}),
    context: contextFlag('the cluster merged (the context name written; one cluster only)'),
    'known-hosts': knownHostsFlag(),
    concurrency: concurrencyFlag('Clusters read'),
  }

  async run(): Promise<KubeconfigMergeReport> {
    const {argv, flags} = await this.parse(KubeconfigMerge)
    const inv = this.loadInventory(flags.config)
    const report = await kubeconfigMerge(inv, {
      kubeconfig: flags.kubeconfig,
      clusters: argv as string[],
      fromFiles: flags['from-file'],
      overwrite: flags.overwrite,
      dryRun: flags['dry-run'],
      knownHosts: flags['known-hosts'],
      context: flags.context,
      concurrency: flags.concurrency,
      renderer: this.renderer(),
    })
    this.out(formatReport(report))
    return report
  }
}

function formatReport(r: KubeconfigMergeReport): string {
  const rows = r.clusters.flatMap((c) => c.changes.map((ch) => [c.cluster, ch.section.replace(/s$/, ''), ch.name, ch.action]))
  const lines = [table(['CLUSTER', 'ENTRY', 'NAME', 'ACTION'], rows)]
  // (a dry run's diff names the file)
  if (r.dryRun) return endDryRun([...lines, r.diff ? r.diff.replace(/\n$/, '') : `${r.file}: no change`])
  lines.push(r.changed ? `wrote ${r.file} (0600)${r.backup ? `; previous file: ${r.backup}` : ''}` : `${r.file}: already up to date, not touched`)
  return lines.join('\n')
}
