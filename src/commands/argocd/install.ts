import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand} from '../../lib/cli/base.js'
import {contextFlag} from '../../lib/cli/context-flag.js'
import {table} from '../../lib/cli/format.js'
import {centralCluster, serviceUrl} from '../../lib/config/index.js'
import type {InstallReport} from '../../lib/argocd/index.js'
import type {RunResult} from '../../lib/engine/index.js'
import {endDryRun, wouldDo} from '../../lib/engine/format.js'
import {secondsFlag} from '../../lib/cli/seconds-flag.js'

export default class ArgocdInstall extends BaseCommand {
  static override summary = 'Install Argo CD on the central cluster (the argocd phase of bootstrap).'
  static override description = `Fetches the install manifest of versions.argocd — the HA one (manifests/ha/install.yaml) when the central cluster has at least 3 nodes, which its pod anti-affinity needs, else manifests/install.yaml — or takes --manifest for air-gapped sites. Checks it parses and runs quay.io/argoproj/argocd:<version>, creates the argocd namespace, server-side applies the CRDs and waits until they are Established, then everything else, waits until every Deployment and StatefulSet is rolled out, and applies the rendered argocd/install/ (settings, ingress). Idempotent: a rerun, also after an interruption, converges. Journal, lock and logs in .obsctl/ beside the inventory.`
  static override examples = [
    '<%= config.bin %> argocd install',
    '<%= config.bin %> argocd install --manifest ./argocd-v3.1.9-install.yaml',
    '<%= config.bin %> argocd install --manifest https://mirror.lab/argo-cd/v3.1.9/ha/install.yaml --timeout 900',
  ]
  static override flags = {
    context: contextFlag('the central cluster'),
    manifest: Flags.string({
      summary:
        "Install manifest FILE or https URL instead of the release on GitHub (air-gapped sites; never http). Its images must be the inventory's version.",
    }),
    timeout: secondsFlag('Seconds to wait for the CRDs and the rollout.', 600),
    'dry-run': Flags.boolean({summary: 'Touch nothing: print what would be done.'}),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<{dryRun: boolean; install?: InstallReport; run: RunResult}> {
    const {flags} = await this.parse(ArgocdInstall)
    const inv = await this.loadValidInventory(flags.config, {allowOvercommit: flags['allow-overcommit']})
    if (flags.context !== undefined) {
      const [{useContext}, {centralCluster}] = await Promise.all([import('../../lib/kube/context.js'), import('../../lib/config/model.js')])
      useContext(inv, centralCluster(inv.platform).name, flags.context, {kubeconfig: flags.kubeconfig, mustExist: true})
    }
    const [{argocdInstall}, {loadManifest}] = await Promise.all([import('../../lib/argocd/run.js'), import('../../lib/argocd/manifest.js')])
    // an explicit manifest is checked even when the live check finds Argo CD installed already; without one, the
    // mirror $OBSCTL_ARGOCD_MANIFEST_BASE is (bad input before anything runs, --dry-run too)
    if (flags.manifest) await loadManifest(flags.manifest, inv.platform.versions.argocd)
    else (await import('../../lib/argocd/manifest.js')).manifestUrl(inv.platform.versions.argocd, 'non-ha')
    const r = await argocdInstall(inv, {
      dryRun: flags['dry-run'],
      renderer: this.renderer(),
      kubeconfig: flags.kubeconfig,
      manifest: flags.manifest,
      timeoutSeconds: flags.timeout,
    })
    const i = r.install
    if (flags['dry-run']) this.out(endDryRun(r.run.phases[0]?.tasks.map((t) => wouldDo(t)) ?? []))
    else if (i) {
      this.out(
        [
          `Argo CD ${i.version} on ${i.cluster} (${i.context}), ${i.variant === 'ha' ? 'HA' : 'non-HA'} manifest: ${i.reason}`,
          `manifest: ${i.manifest}; ${i.applied} objects applied (${i.crds.length} CRDs)`,
          table(
            ['KIND', 'NAME', 'ROLLED OUT'],
            i.workloads.map((w) => [w.kind, `${i.namespace}/${w.name}`, w.ready ? 'yes' : (w.detail ?? 'no')]),
          ),
          `rendered: ${i.extras.join(', ')}`,
          `URL: ${i.url}`,
          'admin password: obsctl argocd password --show (then --rotate)',
        ].join('\n'),
      )
    } else
      this.out(
        `Argo CD ${inv.platform.versions.argocd} is already installed and rolled out (live check); nothing to do\nURL: ${serviceUrl(inv.platform, centralCluster(inv.platform), 'argocd')}`,
      )
    return r
  }
}
