/**
 * The `render` phase: one target (`platform`); renders into the inventory's git dir and commits;
 * pushes only when its options say `push: true`.
 *
 * Git and the remote are the truth, not the journal: the task is done when the working copy equals
 * the render, HEAD holds it, and (push) origin's branch has it — checked even when the journal says
 * done (`recheck`), so a push lost to a kill, a `render` run by hand, or a reset remote is redone.
 */
import type {Phase, Target} from '../engine/types.js'
import {renderDir, renderFingerprint} from './fingerprint.js'

export interface RenderPhaseOptions {
  /** overwrite files edited by hand */
  force?: boolean
  /** commit the rendered files (default true) */
  commit?: boolean
  push?: boolean
  /** the command the commit names (Obsctl-Command trailer; default render) */
  command?: string
}

export function renderPhase(o: RenderPhaseOptions = {}): Phase<Target> {
  return {
    name: 'render',
    title: 'Render the GitOps repository',
    targets: () => [{id: 'platform', title: 'GitOps repository'}],
    fingerprint: (_t, ctx) => renderFingerprint(ctx.platform),
    recheck: true,
    async isDone(_t, ctx) {
      const {repoInSync} = await import('./repo.js')
      return repoInSync(ctx.platform, renderDir(ctx.platform, ctx.inv.dir), ctx.inv.dir, {commit: o.commit !== false, push: Boolean(o.push)})
    },
    async run(_t, ctx, io) {
      const {renderRepo} = await import('./repo.js')
      const {inventoryTrailers} = await import('./trailers.js')
      const dir = renderDir(ctx.platform, ctx.inv.dir)
      const r = await renderRepo(ctx.platform, {
        dir,
        inventoryDir: ctx.inv.dir,
        force: Boolean(o.force),
        commit: o.commit !== false,
        push: Boolean(o.push),
        // recognisably obsctl's, naming the inventory it was rendered from (obsctl rollback)
        trailers: await inventoryTrailers(ctx.inv.dir, o.command ?? 'render', ctx.inv.text),
      })
      for (const f of r.added) io.log(`added   ${f}`)
      for (const f of r.changed) io.log(`changed ${f}`)
      for (const f of r.removed) io.log(`removed ${f}`)
      if (r.commit) {
        const c = r.commit.files
        io.log(`commit ${r.commit.sha.slice(0, 12)} ${r.commit.message} (${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed)`)
      }
      if (r.push)
        io.log(
          r.push.upToDate
            ? `${r.push.remote} ${r.push.branch} is at ${r.push.commit.slice(0, 12)} already: nothing to push`
            : `pushed ${r.push.commit.slice(0, 12)} to ${r.push.remote} ${r.push.branch}`,
        )
      const what = r.noChanges ? 'no file changes' : `${r.added.length} added, ${r.changed.length} changed, ${r.removed.length} removed`
      const n = r.commit ? r.commit.files.added.length + r.commit.files.changed.length + r.commit.files.removed.length : 0
      return {
        summary: `${dir}: ${what}${r.commit ? `, commit ${r.commit.sha.slice(0, 12)} (${n} files)` : ', nothing to commit'}${r.push ? `, ${r.push.upToDate ? `${r.push.branch} already at` : `pushed ${r.push.branch} at`} ${r.push.commit.slice(0, 12)}` : ''}`,
      }
    },
    async describe(_t, ctx) {
      // local only (plan and dry runs read no remote), and kept while nothing it was worked out from changed
      const {renderState} = await import('./render-state.js')
      const dir = renderDir(ctx.platform, ctx.inv.dir)
      const s = await renderState(ctx.platform, dir, {force: Boolean(o.force), inventory: ctx.inv.file})
      const conflicts = s.conflicts ? `; ${s.conflicts} file(s) edited by hand would block it (obsctl render --force discards the edits)` : ''
      if (s.added + s.changed + s.removed === 0)
        return `render ${dir}: no changes${s.uncommitted ? `; ${s.uncommitted} rendered file(s) not committed yet` : ''}${conflicts}`
      return `render ${dir}: would add ${s.added}, change ${s.changed}, remove ${s.removed} file(s)${conflicts}`
    },
  }
}
