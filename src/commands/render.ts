import * as Flags from '@oclif/core/flags'
import {allowOvercommitFlag, BaseCommand, type BaseFlags} from '../lib/cli/base.js'
import type {RenderResult} from '../lib/gitops/repo.js'
import {endDryRun} from '../lib/engine/format.js'

export default class Render extends BaseCommand {
  static override summary = 'Write the GitOps repository (Argo CD apps, kustomize overlays, dashboards) from the inventory.'
  static override description =
    "Renders templates/gitops/ into the inventory's git.dir (or --out). The same inventory gives a byte-identical tree. " +
    'Files edited by hand are not overwritten without --force (the diff is shown); files no longer rendered are removed; ' +
    'files obsctl never rendered are never touched. --commit commits what changed, --push also pushes to git.remote. ' +
    'An inventory that obsctl config validate rejects is refused first (exit 2, nothing written), also with --dry-run. ' +
    'Ctrl-C or SIGTERM stops it at a safe point (before the writes, before the commit or before the push; exit 130): rerun it to finish.'
  static override examples = [
    '<%= config.bin %> render',
    '<%= config.bin %> render --out /tmp/repo',
    '<%= config.bin %> render --commit --push',
    '<%= config.bin %> render --dry-run --json',
  ]
  static override flags = {
    out: Flags.string({summary: "Render into this directory instead of the inventory's git.dir."}),
    commit: Flags.boolean({summary: 'Commit the changed files (initialises the working copy when needed).'}),
    push: Flags.boolean({summary: 'Commit and push to git.remote/git.branch.'}),
    force: Flags.boolean({summary: 'Overwrite or remove rendered files that were edited by hand.'}),
    'dry-run': Flags.boolean({summary: 'Show what would change; write nothing.'}),
    'allow-overcommit': allowOvercommitFlag(),
  }

  async run(): Promise<RenderResult> {
    const {flags} = await this.parse(Render)
    if (flags['dry-run']) return this.render(flags)
    // a real render handles Ctrl-C / SIGTERM as an engine run does: it stops at a safe point, exit 130
    const {interruptible} = await import('../lib/engine/interrupt.js')
    return interruptible((signal) => this.render(flags, signal))
  }

  private async render(flags: BaseFlags<typeof Render>, signal?: AbortSignal): Promise<RenderResult> {
    const inv = this.loadInventory(flags.config)
    const {renderRun} = await import('../lib/flows/render-run.js')
    const r = await renderRun(inv, {
      out: flags.out,
      commit: flags.commit,
      push: flags.push,
      force: flags.force,
      dryRun: flags['dry-run'],
      allowOvercommit: flags['allow-overcommit'],
      signal,
      onNotice: (l) => this.note(l),
    })
    const dir = r.dir
    const verb = r.dryRun ? 'would be ' : ''
    const lines: string[] = []
    for (const f of r.added) lines.push(`  + ${f}`)
    for (const f of r.changed) lines.push(`  ~ ${f}`)
    for (const f of r.removed) lines.push(`  - ${f}`)
    if (r.noChanges) lines.push(`${dir}: no changes (${r.unchanged} files up to date)`)
    else lines.push(`${dir}: ${r.added.length} ${verb}added, ${r.changed.length} ${verb}changed, ${r.removed.length} ${verb}removed, ${r.unchanged} unchanged`)
    if (r.commit) lines.push(`committed ${r.commit.sha.slice(0, 12)}: ${r.commit.message}`)
    else if (flags.commit || flags.push) lines.push('nothing to commit')
    if (r.push)
      lines.push(
        r.push.upToDate
          ? `${r.push.branch} on ${r.push.remote} is at ${r.push.commit.slice(0, 12)} already: nothing to push`
          : `pushed ${r.push.commit.slice(0, 12)} to ${r.push.remote} (${r.push.branch})`,
      )
    this.out(r.dryRun ? endDryRun(lines) : lines.join('\n'))
    return r
  }
}
