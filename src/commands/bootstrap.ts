import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand} from '../lib/cli/base.js'
import {formatPlan, formatRunSummary} from '../lib/engine/format.js'
import {BOOTSTRAP_PHASES, BOOTSTRAP_TIMEOUT_S, BOOTSTRAP_USER_PHASES, bootstrap, type BootstrapResult} from '../lib/flows/bootstrap.js'
import {secondsFlag} from '../lib/cli/seconds-flag.js'
import {concurrencyFlag} from '../lib/cli/count-flag.js'

const PHASE_NAMES = [...BOOTSTRAP_USER_PHASES]

export default class Bootstrap extends BaseCommand {
  static override summary = 'Run the phases that take bare machines to the running platform, resumably.'
  static override description = `Phases in order: ${BOOTSTRAP_PHASES.join(' → ')} (argocd-refresh comes with sync: Argo CD must report the pushed commit before sync judges the Applications). A rerun skips tasks already done with unchanged inputs and retries the rest. --dry-run validates the inventory, renders the GitOps repo into .obsctl/dry-run/gitops and prints the plan, touching no remote system.`
  static override examples = [
    '<%= config.bin %> bootstrap --all --dry-run',
    '<%= config.bin %> bootstrap --all --yes',
    '<%= config.bin %> bootstrap --phase nodes --phase kubeconfig',
    '<%= config.bin %> bootstrap --from argocd --restart',
  ]
  static override flags = {
    all: Flags.boolean({summary: 'Every phase.', exclusive: ['phase', 'from']}),
    phase: Flags.string({char: 'p', summary: 'Only this phase (repeatable).', multiple: true, options: PHASE_NAMES, exclusive: ['all', 'from']}),
    from: Flags.string({summary: 'This phase and every later one.', options: PHASE_NAMES, exclusive: ['all', 'phase']}),
    'dry-run': Flags.boolean({summary: 'Print what each task would do; render the repo locally; touch no remote system.'}),
    restart: Flags.boolean({summary: 'Ignore the journal: recheck every task against the live system.'}),
    concurrency: concurrencyFlag('Targets of a phase'),
    timeout: secondsFlag('Seconds to wait for rollouts, sync and validation to settle.', BOOTSTRAP_TIMEOUT_S),
    'allow-overcommit': allowOvercommitFlag(),
    push: Flags.boolean({
      summary: 'Push the render commit (Argo CD pulls it from the remote); --no-push keeps the commit local.',
      default: true,
      allowNo: true,
    }),
    'argocd-manifest': Flags.string({
      summary: 'Argo CD install manifest FILE or https URL (air-gapped sites; never http); default: the release manifest for versions.argocd.',
    }),
  }

  async run(): Promise<BootstrapResult> {
    const {flags} = await this.parse(Bootstrap)
    const inv = this.loadInventory(flags.config)
    // where the Argo CD manifest comes from is checked before anything runs (the dry run renders first): a file is
    // read and checked as argocd install checks its --manifest, an https URL only for its form (the argocd phase
    // fetches it); without the flag, the mirror $OBSCTL_ARGOCD_MANIFEST_BASE
    const {loadManifest, manifestSourceProblem, manifestUrl} = await import('../lib/argocd/manifest.js')
    const manifest = flags['argocd-manifest']
    if (manifest === undefined) manifestUrl(inv.platform.versions.argocd, 'non-ha')
    else {
      const bad = manifestSourceProblem(manifest, '--argocd-manifest')
      if (bad) throw bad
      if (!/^https:\/\//i.test(manifest)) await loadManifest(manifest, inv.platform.versions.argocd, {origin: '--argocd-manifest'})
    }
    const result = await bootstrap({
      inv,
      all: flags.all,
      phases: flags.phase,
      from: flags.from,
      dryRun: flags['dry-run'],
      restart: flags.restart,
      yes: flags.yes,
      concurrency: flags.concurrency,
      allowOvercommit: flags['allow-overcommit'],
      settings: {kubeconfig: flags.kubeconfig, timeoutSeconds: flags.timeout, push: flags.push, manifest: flags['argocd-manifest']},
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
      confirm: (message) => this.confirm(message),
    })
    if (result.cancelled) this.out('cancelled; nothing was changed')
    if (result.plan && !result.run) this.out(formatPlan(result.plan))
    if (result.run) this.out(formatRunSummary(result.run))
    if (result.run && !result.run.ok) this.failWith(result.run.exitCode)
    return result
  }
}
