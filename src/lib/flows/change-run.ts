/**
 * The one day-2 change path of `config set` and `upgrade chart` (issue 9 item 5), as a driver: edit the
 * inventory (dry) → render into the GitOps working copy (dry) → show the rendered diff → confirm → write
 * the inventory → render + commit (a message naming the change) → push → the change flow (./change.ts:
 * Argo CD refresh, then sync). `dryRun` stops after the diff. A rerun after a failure resumes: an
 * inventory already edited is kept and the render, commit, push and sync that did not happen yet are
 * done. The pieces (preview, diff text, commit, push) are domain code in ../fleet/change.ts.
 */
import type {ArgocdRunOptions} from '../argocd/run.js'
import type {ArgocdWaitOptions} from '../argocd/phases.js'
import type {SyncReport} from '../argocd/sync.js'
import {parseInventory, type InventorySource, type LoadedInventory} from '../config/load.js'
import {relabelledEdges} from '../config/model.js'
import {kubeconfigFiles} from '../platform/kube.js'
import {loadInventoryToEdit, parseValue, setInventoryValue, type EditResult} from '../config/edit.js'
import {compareVersions, secretSetting, semverError, withholdDeep} from '../config/validators.js'
import type {Lock, RunResult} from '../engine/index.js'
import {ObsctlError, inputError} from '../errors.js'
import {
  changeMessage,
  confirmOrRefuse,
  formatChangeDiff,
  headInventory,
  previewRender,
  renderCommitPush,
  showValue as show,
  uncommittedRender,
  unpushedHead,
  type ChangeOptions,
  type ChangeResult,
} from '../fleet/change.js'

/**
 * The change flow (./change.ts): when a commit was pushed, Argo CD refreshes until it has seen
 * it (the working copy's HEAD); then every Application Synced and Healthy.
 */
export async function runSync(
  inv: LoadedInventory,
  o: Pick<ChangeOptions, 'kubeconfig' | 'timeoutSeconds' | 'intervalMs' | 'renderer' | 'onNotice' | 'sync'> & {labels?: boolean; lock?: Lock},
  command: string,
  revision?: string,
  /** a commit was pushed, by this run (`revision`) or an earlier one: Argo CD must report the branch head */
  pushed = Boolean(revision),
): Promise<{ok: boolean; summary: string; run: RunResult}> {
  if (revision && o.sync !== false) o.onNotice?.(`waiting for Argo CD to see commit ${revision.slice(0, 12)}`)
  const {runPhases} = await import('../engine/index.js')
  const {buildPhases} = await import('./registry.js')
  const {changePhaseOptions, selectChange} = await import('./change.js')
  const phases = await buildPhases(selectChange({pushed, sync: o.sync, labels: o.labels}), changePhaseOptions(o))
  const run = await runPhases(phases, {inv, restart: true, renderer: o.renderer, command, kubeconfig: o.kubeconfig, lock: o.lock})
  const tasks = run.phases.flatMap((p) => p.tasks)
  const task = tasks.find((t) => t.status === 'failed' || t.status === 'not-run') ?? tasks.at(-1)
  return {ok: run.ok, summary: task?.error ?? task?.summary ?? (run.ok ? 'synced' : 'sync failed'), run}
}

/**
 * `obsctl argocd sync`: the change flow's waits (./change.ts) — Argo CD refreshes until it reports the branch head
 * the working copy pushed (argocd-refresh), then every Application Synced and Healthy. Synced alone may be about an
 * older commit (a push Argo CD has not fetched yet, e.g. after `config set --no-sync`); done means the pushed one.
 * A failure is the first failed task's own error (exit code, hints), as a single-phase command's.
 */
export async function argocdSync(
  inv: LoadedInventory,
  o: ArgocdRunOptions & ArgocdWaitOptions = {},
): Promise<{sync?: SyncReport; revision?: string | null; run: RunResult}> {
  const {runPhases, runFailure, runReports} = await import('../engine/index.js')
  const {buildPhases} = await import('./registry.js')
  const {changePhaseOptions, selectChange} = await import('./change.js')
  const phases = await buildPhases(selectChange({pushed: true}), changePhaseOptions(o))
  const run = await runPhases(phases, {...o, inv, restart: true, command: 'argocd sync'})
  if (!run.ok) throw runFailure(run, 'argocd sync', 'ARGOCD_FAILED')
  return {
    sync: runReports<SyncReport>(run, 'sync')[0],
    revision: runReports<{revision: string | null}>(run, 'argocd-refresh')[0]?.revision,
    run,
  }
}

/**
 * The `cluster-labels` phase alone (a push without the waits: config set, upgrade chart and rollback with
 * --no-sync); its failure names what redoes it and carries `details` (the caller's result so far).
 */
export async function labelsOnly(
  inv: LoadedInventory,
  o: Pick<ChangeOptions, 'kubeconfig' | 'renderer'> & {lock?: Lock},
  command: string,
  revision: string,
  details?: unknown,
): Promise<void> {
  const r = await runSync(inv, {...o, sync: false, labels: true}, command, revision)
  if (!r.ok) {
    throw new ObsctlError(`${command}: pushed, but the edges' Argo CD cluster Secrets could not be labelled: ${r.summary}`, {
      code: 'LABELS_FAILED',
      exitCode: r.run.exitCode || 1,
      hints: ['obsctl cluster register EDGE sets them, or rerun with --sync', ...(r.run.logsDir ? [`task logs: ${r.run.logsDir}`] : [])],
      details,
    })
  }
}

/**
 * The shared path. `edit(dryRun)` makes the inventory edit (setInventoryValue & co.); `title` names
 * the change for the commit; `shown`, a value as the result (and so every line printed from it) and the title may
 * show it (config set: a secret withheld). Nothing to change (the same command run again) is exit 0 — after the
 * wait for Argo CD unless --no-sync: a rerun after a sync that timed out waits again instead of claiming success.
 */
export async function applyInventoryChange(
  inv: LoadedInventory,
  change: {
    path: string
    /** the edit, of the inventory given (by default the one being changed; a resumed change asks about the one before it) */
    edit: (dryRun: boolean, from?: LoadedInventory) => Promise<EditResult & {previous?: unknown; previousIsDefault?: boolean; value?: unknown}>
    title: (previous: unknown, value: unknown, inventoryChanged: boolean) => string
    command: string
    shown?: (value: unknown) => unknown
  },
  o: ChangeOptions = {},
): Promise<ChangeResult> {
  const dry = await change.edit(true)
  const next = dry.inventory
  // the sync (and the edges' labels after a push) read the kubeconfig only once the inventory is written, committed
  // and pushed: a $KUBECONFIG they could not use is refused now (exit 2, nothing written), as engine commands refuse
  // it before their run, paths only (../platform/kube.ts kubeconfigFiles)
  if (o.sync !== false || (o.push !== false && relabelled(inv, next))) kubeconfigFiles(o.kubeconfig, {read: true})
  const render = await previewRender(next, {force: o.force})
  const renderChanges = render.added.length + render.changed.length + render.removed.length
  const shown = change.shown ?? ((v: unknown) => v)
  let title = change.title(shown(dry.previous), shown(dry.value), dry.changed)
  // a withheld value is masked in the rendered diff that is shown too (the rendered files are what Argo CD applies)
  const withheld = [dry.previous, dry.value].filter((v) => v !== undefined && shown(v) !== v).map((v) => show(v))
  const shownDiff = withheld.filter((v) => v.length >= 4).reduce((d, v) => d.split(v).join('***'), render.diff)
  const result: ChangeResult = {
    title,
    path: change.path,
    previous: shown(dry.previous),
    ...(dry.previousIsDefault ? {previousIsDefault: true} : {}),
    value: shown(dry.value),
    inventory: {file: inv.file, changed: dry.changed},
    render: shownDiff === render.diff ? render : {...render, diff: shownDiff},
    dryRun: Boolean(o.dryRun),
    noop: !dry.changed && renderChanges === 0,
  }
  // resume: the inventory and the working copy already have the change, but its commit never reached the remote
  const pending = result.noop && o.push !== false ? await unpushedHead(next) : undefined
  if (pending) {
    result.noop = false
    o.onNotice?.(`the working copy has commit ${pending.slice(0, 12)} that the remote does not have: pushing it`)
  }
  // resume: the inventory and the render have the change, but its commit never happened (the command stopped at `git add`)
  const uncommitted = result.noop ? await uncommittedRender(next) : 0
  if (uncommitted > 0) {
    result.noop = false
    o.onNotice?.(`the working copy has ${uncommitted} rendered file(s) that were never committed: committing them`)
  }
  // resume: the inventory already has the value (an earlier attempt wrote it and stopped before its commit): the commit
  // still names the inventory before the change and says what changed, as the first attempt's would have
  const resumed = !dry.changed && !result.noop && !pending ? await resumedFrom(inv, next, change) : undefined
  if (resumed) {
    title = change.title(shown(resumed.previous), shown(dry.value), true)
    result.title = title
  }
  if (o.dryRun) return result
  if (result.noop) return o.sync === false ? result : syncUnchanged(next, change.command, o, result)

  o.onDiff?.(formatChangeDiff(result))
  if (!(await confirmOrRefuse(change.command, `${title}: commit${o.push === false ? '' : ' and push'} this change?`, o))) {
    result.cancelled = true
    return result
  }
  // from the write of the inventory to the end of the sync, under the run lock: another run's edit is never
  // overwritten, and its render is never committed or pushed in this change's name (nor the reverse)
  const {withInventoryLock} = await import('../engine/inventory-lock.js')
  return withInventoryLock(inv, change.command, o.onNotice, (lock) =>
    writeCommitSync(inv, change, o, {dry, next, render, title, result, lock, before: resumed?.text}),
  )
}

/**
 * The inventory before a change that is resumed (./change.ts headInventory: the one HEAD's commit was rendered from)
 * and the value it had there, when it had another one; else undefined (the commit then has no Obsctl-Inventory-Before,
 * and rollback goes back to the inventory of the commit before it).
 */
async function resumedFrom(
  inv: LoadedInventory,
  next: LoadedInventory,
  change: Parameters<typeof applyInventoryChange>[1],
): Promise<{text: string; previous: unknown} | undefined> {
  const text = await headInventory(next)
  if (text === undefined || text === next.text) return undefined
  try {
    const edit = await change.edit(true, parseInventory(text, inv.file))
    return edit.changed ? {text, previous: edit.previous} : undefined
  } catch {
    // the inventory before no longer parses or validates (an older obsctl's): the title says the value only
    return {text, previous: undefined}
  }
}

/**
 * Nothing to change (a rerun of a change that was made): the change flow's waits all the same, for the branch head
 * (when pushing) — the first run may have stopped at them (a timeout, Ctrl-C), and this one must not exit 0 while
 * Argo CD has not deployed what was pushed.
 */
async function syncUnchanged(next: LoadedInventory, command: string, o: ChangeOptions, result: ChangeResult): Promise<ChangeResult> {
  o.onNotice?.(`nothing to change; waiting for Argo CD${o.push === false ? '' : ' to report the head of the branch'}`)
  const sync = await runSync(next, o, command, undefined, o.push !== false)
  result.sync = sync
  if (!sync.ok) throw syncFailed({...result, sync}, 'nothing needed changing')
  return result
}

/** SYNC_FAILED: what was done (`done`), and the sync's failure; `details` the result so far. */
function syncFailed(result: ChangeResult & {sync: NonNullable<ChangeResult['sync']>}, done: string): ObsctlError {
  const first = result.sync.run.phases[0]?.error
  return new ObsctlError(`${done}, but the sync did not finish: ${result.sync.summary}`, {
    code: 'SYNC_FAILED',
    exitCode: result.sync.run.exitCode || 1,
    hints: ['obsctl argocd sync waits again', ...(result.sync.run.logsDir ? [`task logs: ${result.sync.run.logsDir}`] : [])],
    details: {...result, sync: {ok: false, summary: result.sync.summary}, error: first},
  })
}

/** applyInventoryChange under the run lock: the inventory written, rendered, committed, pushed, synced. */
async function writeCommitSync(
  inv: LoadedInventory,
  change: Parameters<typeof applyInventoryChange>[1],
  o: ChangeOptions,
  s: {dry: EditResult; next: LoadedInventory; render: ChangeResult['render']; title: string; result: ChangeResult; lock: Lock; before?: string},
): Promise<ChangeResult> {
  const {dry, next, render, title, result, lock} = s
  const before = dry.changed ? inv.text : s.before
  if (dry.changed) {
    await change.edit(false)
    o.onNotice?.(`wrote ${inv.file}`)
  }
  const message = changeMessage(title, render)
  const rc = await renderCommitPush(next, message, {push: o.push, force: o.force, command: change.command, before})
  result.commit = rc.commit
  result.push = rc.push
  if (rc.commit) o.onNotice?.(`commit ${rc.commit.sha.slice(0, 12)} ${rc.commit.message}`)
  if (rc.push) o.onNotice?.(`pushed to ${rc.push.remote} (${rc.push.branch})`)
  if (o.sync !== false) {
    result.sync = await runSync(next, {...o, lock, labels: relabelled(inv, next)}, change.command, rc.push?.commit)
    if (!result.sync.ok) throw syncFailed({...result, sync: result.sync}, `the change is committed${rc.push ? ' and pushed' : ''}`)
  } else {
    result.sync = null
    // --no-sync after a push: the edges' cluster Secret labels still follow the pushed inventory
    if (rc.push && relabelled(inv, next)) await labelsOnly(next, {...o, lock}, change.command, rc.push.commit)
  }
  return result
}

/**
 * Whether the edges' cluster Secret labels follow the change: an edge's role or metrics changed, or the change
 * mended an invalid `clusters` (config set of a file every other command refuses: what the clusters had is unknown;
 * a mended field elsewhere leaves the clusters as they were, and `platform` is the edited inventory's).
 */
function relabelled(inv: LoadedInventory, next: LoadedInventory): boolean {
  if (inv.mended) return inv.mended.some((pr) => /^clusters\b/.test(pr.path))
  return relabelledEdges(inv.platform, next.platform).length > 0
}

/**
 * The inventory `config set PATH VALUE` edits (../config/edit.ts loadInventoryToEdit: an invalid file that the
 * edit mends too), its errors with a secret value withheld as configSet's are.
 */
export function inventoryToSet(file: string, from: InventorySource['from'], rawPath: string, rawValue: string): LoadedInventory {
  return withholding(rawPath, rawValue, () => loadInventoryToEdit(file, from, rawPath, rawValue))
}

/** `f()`, its ObsctlError with the value withheld (withheldValues) in message, hints and details. */
function withholding<T>(rawPath: string, rawValue: string, f: () => T): T {
  try {
    return f()
  } catch (error) {
    throw withheldError(error, withheldValues(rawPath, rawValue))
  }
}

/** An ObsctlError with each of `withheld` shown as *** in its message, hints and details (others as they are). */
function withheldError(error: unknown, withheld: string[]): unknown {
  if (withheld.length === 0 || !(error instanceof ObsctlError)) return error
  return new ObsctlError(withholdDeep(error.message, withheld), {
    exitCode: error.exitCode,
    code: error.code,
    hints: withholdDeep(error.hints, withheld),
    details: withholdDeep(error.details, withheld),
    cause: error.cause,
  })
}

/** `obsctl config set PATH VALUE`. */
export async function configSet(inv: LoadedInventory, rawPath: string, rawValue: string, o: ChangeOptions = {}): Promise<ChangeResult> {
  // a secret typed as a value is never repeated, by the same rule on every path out: the result (summary, diff's
  // header, --json, the commit message: `shown`) and an error that would quote it (a field's rule, a lint finding,
  // `config set PATH VALUE would make…`, a hint): `***` there too
  const withheld = withheldValues(rawPath, rawValue)
  try {
    return await setAndRollOut(inv, rawPath, rawValue, o, withheld.length > 0)
  } catch (error) {
    throw withheldError(error, withheld)
  }
}

/** The forms of a config set value that secretSetting withholds (as typed, and as YAML reads it), else none. */
function withheldValues(rawPath: string, rawValue: string): string[] {
  let parsed: string | undefined
  try {
    parsed = show(parseValue(rawValue))
  } catch {
    parsed = undefined
  }
  const forms = [rawValue, rawValue.trim(), ...(parsed === undefined ? [] : [parsed])]
  if (!forms.some((v) => secretSetting(rawPath, v))) return []
  // longest first: a form inside another (the value inside its quotes) is replaced after the whole
  return [...new Set(forms.filter(Boolean))].sort((a, b) => b.length - a.length)
}

async function setAndRollOut(inv: LoadedInventory, rawPath: string, rawValue: string, o: ChangeOptions, secret: boolean): Promise<ChangeResult> {
  if (rawPath.replace(/^\.+|\.+$/g, '') === 'versions.kubernetes') {
    // nothing renders from it: the clusters run what kubeadm installed, and a new value alone upgrades nothing
    const want = String(parseValue(rawValue))
    throw inputError(
      `versions.kubernetes is the version the clusters run; setting it changes no cluster`,
      [
        `obsctl upgrade kubernetes ${want} upgrades the clusters node by node and then records ${want} in the inventory`,
        'before the first bootstrap, edit versions.kubernetes in the inventory file',
      ],
      'USE_UPGRADE_KUBERNETES',
    )
  }
  return applyInventoryChange(
    inv,
    {
      path: rawPath,
      edit: (dryRun, from = inv) =>
        setInventoryValue(from, rawPath, rawValue, {dryRun, allowOvercommit: o.allowOvercommit, ...(secret && {origin: {what: `config set ${rawPath} ***`}})}),
      title: (prev, value, changed) => (changed ? `set ${rawPath} ${show(prev)} → ${show(value)}` : `set ${rawPath} = ${show(value)}`),
      command: 'config set',
      shown: (v) => (v !== undefined && secretSetting(rawPath, show(v)) ? '***' : v),
    },
    o,
  )
}

/** `obsctl upgrade chart NAME --version V`. */
export async function upgradeChart(inv: LoadedInventory, name: string, version: string, o: ChangeOptions = {}): Promise<ChangeResult> {
  const charts = inv.platform.versions.charts as Record<string, string>
  if (!Object.hasOwn(charts, name)) {
    throw inputError(`no chart ${name} in versions.charts of ${inv.file}`, [`charts: ${Object.keys(charts).join(', ')}`], 'UNKNOWN_CHART')
  }
  if (!version.trim()) throw inputError('--version is empty', [`e.g. obsctl upgrade chart ${name} --version 1.2.3`], 'BAD_VERSION')
  const bad = semverError(version, charts[name]!)
  if (bad)
    throw inputError(
      `--version ${bad}`,
      [`e.g. obsctl upgrade chart ${name} --version ${charts[name]}`, "chart versions are in the chart repository's index (helm search repo --versions)"],
      'BAD_VERSION',
    )
  if (semverError(charts[name]!, charts[name]!) === undefined && compareVersions(version, charts[name]!) < 0 && !o.allowDowngrade) {
    throw inputError(
      `--version ${version} is older than ${charts[name]}, the version in ${inv.file}: a chart downgrade can fail on CRDs and stored state`,
      ['pass --allow-downgrade if you mean it (e.g. to roll back a bad upgrade)'],
      'DOWNGRADE',
    )
  }
  const path = `versions.charts.${name}`
  return applyInventoryChange(
    inv,
    {
      path,
      // quote the version so 1.10 stays the string "1.10"
      edit: (dryRun, from = inv) =>
        setInventoryValue(from, path, JSON.stringify(version), {
          dryRun,
          allowOvercommit: o.allowOvercommit,
          origin: {what: `upgrade chart ${name} --version ${version}`},
        }),
      title: (prev, value, changed) => (changed ? `upgrade ${name} ${show(prev)} → ${show(value)}` : `upgrade ${name} to ${show(value)}`),
      command: 'upgrade chart',
    },
    o,
  )
}
