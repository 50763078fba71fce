import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand} from '../../lib/cli/base.js'
import {table} from '../../lib/cli/format.js'
import type {RegisterReport} from '../../lib/argocd/index.js'
import type {RunResult} from '../../lib/engine/index.js'
import {endDryRun, wouldDo} from '../../lib/engine/format.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'
import {concurrencyFlag} from '../../lib/cli/count-flag.js'

export default class ClusterRegister extends BaseCommand {
  static override summary = 'Register edge clusters with Argo CD (the register phase of bootstrap).'
  static override description = `For each edge, what \`argocd cluster add\` creates: ServiceAccount kube-system/argocd-manager, ClusterRole argocd-manager-role, ClusterRoleBinding argocd-manager-role-binding and the long-lived token Secret argocd-manager-long-lived-token (waiting until the token controller fills it); then the declarative cluster Secret in argocd on the central cluster (labels argocd.argoproj.io/secret-type=cluster, obsctl.dev/cluster, obsctl.dev/role). For a remote-scrape edge also a ServiceAccount that may only list/watch nodes, get nodes/proxy, and list/watch pods and services and get their proxy in monitoring, with its token and CA copied to Secret monitoring/obsctl-scrape-<cluster> on central. The central cluster is Argo CD's in-cluster and is not registered. Idempotent; --rotate-tokens replaces the tokens on purpose.`
  static override strict = false
  static override args = {cluster: Args.string({description: 'Edge cluster(s) to register (default: every edge).'})}
  static override examples = [
    '<%= config.bin %> cluster register',
    '<%= config.bin %> cluster register cluster-02 cluster-03',
    '<%= config.bin %> cluster register --rotate-tokens',
    '<%= config.bin %> cluster register --concurrency 20',
  ]
  static override flags = {
    'rotate-tokens': Flags.boolean({summary: 'Delete and recreate the token Secrets (new tokens), and update the copies on central.'}),
    timeout: secondsFlag('Seconds to wait for each token.', 120),
    concurrency: concurrencyFlag('Edge clusters'),
    'dry-run': Flags.boolean({summary: 'Touch nothing: print what would be done.'}),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<{dryRun: boolean; register: RegisterReport[]; run: RunResult}> {
    const {argv, flags} = await this.parse(ClusterRegister)
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: flags['allow-overcommit']})
    // the two modules it runs, not the package's index (which loads install, password and sync too: ~10 ms before the
    // first request)
    const [{clusterRegister}, {edgesToRegister}] = await Promise.all([import('../../lib/argocd/run.js'), import('../../lib/argocd/register.js')])
    const clusters = edgesToRegister(inv.platform, argv as string[]).map((c) => c.name)
    const r = await clusterRegister(inv, {
      dryRun: flags['dry-run'],
      renderer: this.renderer(),
      kubeconfig: flags.kubeconfig,
      clusters,
      rotateTokens: flags['rotate-tokens'],
      timeoutSeconds: flags.timeout,
      concurrency: flags.concurrency,
    })
    if (flags['dry-run']) {
      this.out(endDryRun(r.run.phases[0]?.tasks.map((t) => `${t.target}: ${wouldDo(t)}`) ?? []))
      return r
    }
    const rows = clusters.map((name) => {
      const rep = r.register.find((x) => x.cluster === name)
      if (!rep) return [name, '', 'already registered (live check)', '', '']
      return [name, rep.metrics, rep.clusterSecret, rep.scrapeSecret ?? '-', rep.rotated.length ? 'rotated' : 'kept']
    })
    this.out(table(['CLUSTER', 'METRICS', 'CLUSTER SECRET (central)', 'SCRAPE SECRET (central)', 'TOKENS'], rows))
    for (const rep of r.register) for (const x of rep.removed) this.note(`removed ${x} (the edge uses metrics: agent)`)
    return r
  }
}
