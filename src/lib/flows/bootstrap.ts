/**
 * `obsctl bootstrap`: lint, then the bootstrap flow — every phase of DESIGN.md §3 in order, each built
 * from the registry with its typed options — on the engine as one resumable run. A dry run also renders the GitOps repo into a preview folder and prints the plan,
 * touching no remote system. A real run shows what will change and asks first (or --yes).
 */
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import type {LintReport} from '../config/lint.js'
import {obsctlDir} from '../config/model.js'
import {ensureDir} from '../fs.js'
import {ExitCode, ObsctlError, inputError} from '../errors.js'
import {canPrompt} from '../prompt.js'
// the engine's planner only: `obsctl plan` imports this module for the flow's phase list; the runner (and the
// linter) load when a bootstrap runs
import {planPhases, type PlanResult} from '../engine/plan.js'
import type {RendererChoice} from '../engine/types.js'
import type {RunResult} from '../engine/result.js'
import {buildPhases, selectWithRefresh, userPhases, type FlowOptions} from './registry.js'
import type {DoctorReport} from '../doctor/index.js'
import {formatChecklist} from '../checks/render.js'

/**
 * The bootstrap flow: registered phases, in order. `argocd-refresh` runs right before `sync`: after `render` pushed
 * a commit, Argo CD reports Synced for the revision it fetched last until it has seen the new one (on a rerun
 * after an inventory edit, that is the old deployment), so sync judges the Applications only once they report the
 * pushed commit. On the first bootstrap the root app has just been created and Argo CD compares it at the branch head.
 */
export const BOOTSTRAP_PHASES = [
  'preflight',
  'nodes',
  'kubeconfig',
  'buckets',
  'render',
  'argocd',
  'register',
  'secrets',
  'root-app',
  'argocd-refresh',
  'sync',
  'validate',
] as const
export type BootstrapPhase = (typeof BOOTSTRAP_PHASES)[number]
/** The phases a user picks with --phase/--from (argocd-refresh comes with sync, as in cluster add). */
export type BootstrapUserPhase = Exclude<BootstrapPhase, 'argocd-refresh'>
export const BOOTSTRAP_USER_PHASES = userPhases(BOOTSTRAP_PHASES)

/** The flow's phases for a --phase/--from selection, in order (argocd-refresh whenever sync runs). */
export function selectBootstrap(select: {only?: readonly string[]; from?: string}): BootstrapPhase[] {
  return selectWithRefresh(BOOTSTRAP_PHASES, select)
}

/** `bootstrap --timeout`'s default, in seconds: what `plan` shows the phases would wait, too. */
export const BOOTSTRAP_TIMEOUT_S = 900

/** What the bootstrap command's flags set for its phases. */
export interface BootstrapSettings {
  /** --kubeconfig */
  kubeconfig?: string
  /** --timeout: rollouts, node readiness and sync (default BOOTSTRAP_TIMEOUT_S) */
  timeoutSeconds?: number
  /** --push: commit and push the rendered repo (Argo CD pulls it from the remote) */
  push?: boolean
  /** --argocd-manifest */
  manifest?: string
}

/** Each bootstrap phase's typed options, from the command's settings. */
export function bootstrapPhaseOptions(s: BootstrapSettings): FlowOptions<BootstrapPhase> {
  const timeoutSeconds = s.timeoutSeconds ?? BOOTSTRAP_TIMEOUT_S
  return {
    preflight: {},
    nodes: {readyTimeoutSeconds: timeoutSeconds},
    kubeconfig: {},
    buckets: {},
    render: {commit: true, push: s.push, command: 'bootstrap'},
    argocd: {manifest: s.manifest, manifestFlag: '--argocd-manifest', timeoutSeconds},
    register: {timeoutSeconds},
    secrets: {},
    'root-app': {},
    'argocd-refresh': {timeoutSeconds},
    sync: {timeoutSeconds},
    validate: {settleSeconds: timeoutSeconds},
  }
}

export interface BootstrapOptions {
  inv: LoadedInventory
  all?: boolean
  phases?: string[]
  from?: string
  dryRun?: boolean
  restart?: boolean
  yes?: boolean
  concurrency?: number
  allowOvercommit?: boolean
  /** what the flags set for the phases (kubeconfig, timeout, push, Argo CD manifest) */
  settings?: BootstrapSettings
  renderer?: RendererChoice
  /** where a dry run renders the GitOps repo (default .obsctl/dry-run/gitops) */
  previewDir?: string
  /** ask the user; resolves true to go on (the command supplies an inquirer confirm) */
  confirm?: (question: string) => Promise<boolean>
  onNotice?: (line: string) => void
}

export interface PhaseSummary {
  name: string
  status: string
  done: number
  skipped: number
  failed: number
  durationMs: number
}

export interface BootstrapResult {
  /** --dry-run: nothing was changed (at the top, as every command's --json result says it; also in `run`) */
  dryRun: boolean
  lint: Pick<LintReport, 'errors' | 'warnings'>
  /** the offline `obsctl doctor` checks the selected phases need, run first */
  doctor?: DoctorReport
  plan?: PlanResult
  preview?: {dir: string; files: number}
  run?: RunResult
  summary: PhaseSummary[]
  cancelled?: boolean
  ok: boolean
}

/** Which phases a bootstrap call selects: --all, --phase P (repeatable) or --from P. */
export function selectPhases(o: Pick<BootstrapOptions, 'all' | 'phases' | 'from'>): BootstrapPhase[] {
  const chosen = [o.all, o.phases?.length, o.from].filter(Boolean).length
  if (chosen !== 1) {
    throw inputError(
      'say which phases to run: --all, --phase P or --from P (exactly one)',
      [`phases in order: ${BOOTSTRAP_USER_PHASES.join(' → ')}`, 'obsctl bootstrap --all --dry-run shows the whole plan'],
      'BAD_FLAGS',
    )
  }
  return selectBootstrap(o.all ? {} : o.from ? {from: o.from} : {only: o.phases})
}

export async function bootstrap(o: BootstrapOptions): Promise<BootstrapResult> {
  const {refuseLintErrors} = await import('../config/lint.js')
  const lint = refuseLintErrors(o.inv, {allowOvercommit: o.allowOvercommit, workstation: true})
  const settings = o.settings ?? {}
  // a plain-http --argocd-manifest is bad input: refused before anything runs (the argocd phase refuses it too)
  if (settings.manifest) {
    const {manifestSourceError} = await import('../argocd/manifest.js')
    const refused = manifestSourceError(settings.manifest, '--argocd-manifest')
    if (refused) throw refused
  }
  const selected = selectPhases(o)
  const phases = await buildPhases(selected, bootstrapPhaseOptions(settings))
  // a $KUBECONFIG the phases cannot use is bad input: exit 2 before the workstation checks, the plan, the question and
  // the lock (runPhases judges it too)
  const {refuseBadKubeconfig} = await import('../engine/runner.js')
  refuseBadKubeconfig(phases, settings.kubeconfig)
  // the workstation first (doctor's offline part): a real run stops here, before anything changes;
  // a dry run shows what would stop it and goes on
  // loaded here: `obsctl plan` imports this module for the flow's phase list (doctor brings node:http/https)
  const {bootstrapPrecheck, precheckError} = await import('../doctor/index.js')
  const doctor = await bootstrapPrecheck(o.inv, selected)
  if (!doctor.ok && !o.dryRun) throw precheckError(doctor)
  const problems = doctor.checks.filter((c) => c.status === 'fail' || c.status === 'warn')
  if (problems.length)
    o.onNotice?.(
      `${doctor.ok ? 'workstation warnings' : 'this workstation is not ready; a real run would stop here'} (obsctl doctor):\n${formatChecklist(problems).trimEnd()}`,
    )
  const result: BootstrapResult = {dryRun: Boolean(o.dryRun), lint: {errors: lint.errors, warnings: lint.warnings}, doctor, summary: [], ok: false}

  if (o.dryRun) {
    result.preview = await renderPreview(o)
    o.onNotice?.(`rendered the GitOps repository into ${result.preview.dir} (${result.preview.files} files); nothing was pushed`)
  } else {
    const plan = await planPhases(phases, {inv: o.inv, kubeconfig: settings.kubeconfig})
    result.plan = plan
    const todo = plan.phases.flatMap((p) => p.tasks.filter((t) => t.state !== 'done'))
    // a rerun after a success has only the checks and waits left (argocd-refresh, sync, validate): nothing to ask about
    const quiet = new Set(phases.filter((p) => p.changesNothing).map((p) => p.name))
    const changes = todo.filter((t) => !quiet.has(t.phase))
    if (changes.length > 0 && !o.yes) {
      const line = (t: (typeof todo)[number]) => `  ${t.phase}/${t.target}: ${t.description}`
      const checks = todo.filter((t) => quiet.has(t.phase))
      const question = `bootstrap will change:\n${changes.map(line).join('\n')}${checks.length ? `\nthen check and wait:\n${checks.map(line).join('\n')}` : ''}\nGo ahead?`
      if (!canPrompt() || !o.confirm) {
        throw inputError(
          'bootstrap changes remote systems and asks first; there is no terminal to ask on',
          ['pass --yes to go ahead', 'or --dry-run to see the plan only'],
          'NO_TTY',
          plan,
        )
      }
      if (!(await o.confirm(question))) {
        result.cancelled = true
        return result
      }
    }
  }

  const {runPhases} = await import('../engine/runner.js')
  const command = `bootstrap ${o.all ? '--all' : o.from ? `--from ${o.from}` : (o.phases ?? []).map((p) => `--phase ${p}`).join(' ')}`
  // a real run holds the run lock from here, and needs the inventory as it was planned from: another run (a config
  // set) that edited it since would otherwise be rendered and pushed back out of the repository
  const {lockInventory} = await import('../engine/inventory-lock.js')
  const lock = o.dryRun ? undefined : await lockInventory(o.inv, command, o.onNotice)
  let run: Awaited<ReturnType<typeof runPhases>>
  try {
    run = await runPhases(phases, {
      inv: o.inv,
      dryRun: o.dryRun,
      restart: o.restart,
      concurrency: o.concurrency,
      kubeconfig: settings.kubeconfig,
      renderer: o.renderer,
      command,
      lock,
    })
  } finally {
    lock?.release()
  }
  result.run = run
  result.summary = run.phases.map((p) => ({
    name: p.name,
    status: p.status,
    done: p.tasks.filter((t) => t.status === 'done').length,
    skipped: p.tasks.filter((t) => ['unchanged', 'in-state', 'would-skip'].includes(t.status)).length,
    failed: p.tasks.filter((t) => ['failed', 'interrupted'].includes(t.status)).length,
    durationMs: p.durationMs,
  }))
  result.ok = run.ok
  if (run.interrupted)
    throw new ObsctlError('bootstrap interrupted; rerun the same command to resume', {exitCode: ExitCode.interrupted, code: 'INTERRUPTED', details: result})
  return result
}

/** Dry run: render the repo into a preview folder (local files only). */
async function renderPreview(o: BootstrapOptions): Promise<{dir: string; files: number}> {
  const dir = o.previewDir ?? path.join(obsctlDir(o.inv.dir), 'dry-run', 'gitops')
  ensureDir(dir) // private (0700) under .obsctl/
  const {renderRepo} = await import('../gitops/index.js')
  const r = await renderRepo(o.inv.platform, {dir, inventoryDir: o.inv.dir, force: true})
  return {dir, files: r.added.length + r.changed.length + r.unchanged}
}
