/**
 * The `render` phase: one target (`platform`); renders into the inventory's git dir and commits;
 * pushes only when the run's options say `push: true`. Options: force, push, commit (default true).
 */
import type {Phase, Target} from '../engine/types.js'
import {renderDir, renderFingerprint} from './fingerprint.js'

export const renderPhase: Phase<Target> = {
  name: 'render',
  title: 'Render the GitOps repository',
  targets: () => [{id: 'platform', title: 'GitOps repository'}],
  fingerprint: (_t, ctx) => renderFingerprint(ctx.platform),
  async isDone(_t, ctx) {
    const {planRender, renderFiles} = await import('./render.js')
    const plan = planRender(renderDir(ctx.platform, ctx.inv.dir), renderFiles(ctx.platform))
    return plan.conflicts.length === 0 && plan.added.length + plan.changed.length + plan.removed.length === 0 && !ctx.options.push
  },
  async run(_t, ctx, io) {
    const {renderRepo} = await import('./repo.js')
    const dir = renderDir(ctx.platform, ctx.inv.dir)
    const r = await renderRepo(ctx.platform, {
      dir,
      force: Boolean(ctx.options.force),
      commit: ctx.options.commit !== false,
      push: Boolean(ctx.options.push),
    })
    for (const f of r.added) io.log(`added   ${f}`)
    for (const f of r.changed) io.log(`changed ${f}`)
    for (const f of r.removed) io.log(`removed ${f}`)
    if (r.commit) io.log(`commit ${r.commit.sha.slice(0, 12)} ${r.commit.message}`)
    if (r.push) io.log(`pushed to ${r.push.remote} ${r.push.branch}`)
    const what = r.noChanges ? 'no changes' : `${r.added.length} added, ${r.changed.length} changed, ${r.removed.length} removed`
    return `${dir}: ${what}${r.commit ? `, commit ${r.commit.sha.slice(0, 12)}` : ''}${r.push ? ', pushed' : ''}`
  },
  async describe(_t, ctx) {
    const {planRender, renderFiles} = await import('./render.js')
    const dir = renderDir(ctx.platform, ctx.inv.dir)
    const plan = planRender(dir, renderFiles(ctx.platform), {force: Boolean(ctx.options.force)})
    const n = plan.added.length + plan.changed.length + plan.removed.length
    const conflicts = plan.conflicts.length ? `; ${plan.conflicts.length} file(s) edited by hand would block it (--force)` : ''
    if (n === 0) return `render ${dir}: no changes${conflicts}`
    return `render ${dir}: would add ${plan.added.length}, change ${plan.changed.length}, remove ${plan.removed.length} file(s)${conflicts}`
  },
}
