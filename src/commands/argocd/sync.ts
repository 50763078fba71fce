import {allowOvercommitFlag, BaseCommand} from '../../lib/cli/base.js'
import {contextFlag} from '../../lib/cli/context-flag.js'
import {table} from '../../lib/cli/format.js'
import type {SyncReport} from '../../lib/argocd/index.js'
import type {RunResult} from '../../lib/engine/index.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class ArgocdSync extends BaseCommand {
  static override summary = 'Wait until Argo CD reports the pushed commit and every Application is Synced and Healthy (argocd-refresh and sync of bootstrap).'
  static override description = `First asks the Applications of the GitOps repository to refresh and waits until each reports the head of git.branch on git.remote, read with git ls-remote (Synced for an older commit means nothing yet; without a GitOps working copy here it is the same head); then polls the Applications in argocd on the central cluster and shows each one's sync/health as it changes. On --timeout it names the Applications still at another commit, or those that are not Synced and Healthy with their conditions and the last operation's message, and exits 1.`
  static override examples = ['<%= config.bin %> argocd sync', '<%= config.bin %> argocd sync --timeout 3600 --json']
  static override flags = {
    context: contextFlag('the central cluster'),
    timeout: secondsFlag('Seconds to wait (for the commit, then for the Applications).', 1800),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<{sync?: SyncReport; revision?: string | null; run: RunResult}> {
    const {flags} = await this.parse(ArgocdSync)
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: flags['allow-overcommit']})
    if (flags.context !== undefined) {
      const [{useContext}, {centralCluster}] = await Promise.all([import('../../lib/kube/context.js'), import('../../lib/config/model.js')])
      useContext(inv, centralCluster(inv.platform).name, flags.context, {kubeconfig: flags.kubeconfig, mustExist: true})
    }
    const {argocdSync} = await import('../../lib/flows/change-run.js')
    const r = await argocdSync(inv, {renderer: this.renderer(), kubeconfig: flags.kubeconfig, timeoutSeconds: flags.timeout})
    if (r.sync)
      this.out(
        table(
          ['APPLICATION', 'SYNC', 'HEALTH'],
          r.sync.apps.map((a) => [a.name, a.sync, a.health]),
        ),
      )
    return r
  }
}
