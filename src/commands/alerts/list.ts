import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {serviceFlags} from '../../lib/cli/service-flags.js'
import {contextFlag} from '../../lib/cli/context-flag.js'
import type {AlertsListResult} from '../../lib/alerts/index.js'

export default class AlertsList extends BaseCommand {
  static override readOnly = true
  static override summary = 'List the alerts in the central Alertmanager, and its active silences.'
  static override description = `Reads Alertmanager's API v2 (GET /api/v2/alerts and /api/v2/silences): every alert with its state (active, silenced by which silence, inhibited), severity, cluster and summary, then the silences that are not expired, with the ids obsctl alerts unsilence takes.

Alertmanager is reached at --endpoint alertmanager=URL or the inventory's endpoints.alertmanager (e.g. its ingress) when one is set, else through the central API server's service proxy (monitoring/kube-prometheus-stack-alertmanager:9093) with the kubeconfig's credentials.`
  static override examples = [
    '<%= config.bin %> alerts list',
    '<%= config.bin %> alerts list --cluster cluster-02',
    '<%= config.bin %> alerts list --json',
    '<%= config.bin %> alerts list --endpoint alertmanager=https://alertmanager.example.lab --ca-file ./ca.pem',
  ]
  static override flags = {
    cluster: Flags.string({summary: 'Only the alerts of this inventory cluster (label cluster).'}),
    context: contextFlag('the central cluster (its Alertmanager through the API server)'),
    ...serviceFlags(),
  }

  async run(): Promise<AlertsListResult> {
    const {flags} = await this.parse(AlertsList)
    const inv = this.loadInventory(flags.config)
    if (flags.context !== undefined) {
      const [{useContext}, {centralCluster}] = await Promise.all([import('../../lib/kube/context.js'), import('../../lib/config/model.js')])
      useContext(inv, centralCluster(inv.platform).name, flags.context, {kubeconfig: flags.kubeconfig, mustExist: true})
    }
    const [{listAlerts, formatAlertsList}, {serviceAccess}] = await Promise.all([import('../../lib/alerts/index.js'), import('../../lib/platform/access.js')])
    const result = await listAlerts(inv, {
      cluster: flags.cluster,
      ...serviceAccess(flags),
    })
    this.out(formatAlertsList(result))
    return result
  }
}
