/**
 * `obsctl secrets rotate`: the rotation flow (./rotate.ts; its phase is in ../kube/rotate.ts) through the engine (journal,
 * lock, per-task logs). New values are resolved before the engine starts and stay in memory; a dry run
 * resolves where they would come from (names only) and contacts nothing.
 */
import type {LoadedInventory} from '../config/load.js'
import type {Rotatable} from '../kube/rotate/model.js'
import type {RendererChoice, RunEventSink, RunResult} from '../engine/index.js'
import type {StateStore} from '../engine/state.js'
import {describeRotation, parseRotatable, resolveRotationValues, rotationSources, type RotatePhaseOptions, type RotateReport} from '../kube/rotate.js'
import {buildPhases} from './registry.js'
import {ROTATE_PHASES, rotatePhaseOptions} from './rotate.js'

export interface SecretsRotateOptions {
  credentials: string[]
  kubeconfig?: string
  dryRun?: boolean
  timeoutSeconds?: number
  access?: RotatePhaseOptions['access']
  pollMs?: number
  renderer?: RendererChoice
  onEvent?: RunEventSink
}

export interface SecretsRotateResult {
  dryRun: boolean
  /** per credential: where the new value comes from and what would be done (dry run), or what was done */
  plan?: {credential: string; source: string; steps: string; byEarlierRun?: string}[]
  rotated: RotateReport[]
  /** Argo CD's generated password (it keeps only a hash): shown once */
  generatedPasswords?: {argocd: string}
  run?: RunResult
}

export async function secretsRotate(inv: LoadedInventory, o: SecretsRotateOptions): Promise<SecretsRotateResult> {
  const ids = parseRotatable(o.credentials)
  if (o.dryRun) {
    const sources = rotationSources(inv.platform, ids)
    const earlier = await earlierRotations(inv, ids)
    return {
      dryRun: true,
      plan: ids.map((id) =>
        earlier[id]
          ? {
              credential: id,
              source: sources[id]!,
              byEarlierRun: earlier[id],
              steps: `none: rotated and verified by the interrupted run ${earlier[id]}, reported as its rotation (unless its Secret holds a pending pair again, which is finished)`,
            }
          : {credential: id, source: sources[id]!, steps: describeRotation(inv.platform, id, sources[id]!)},
      ),
      rotated: [],
    }
  }
  const values = await resolveRotationValues(inv.platform, ids)
  // Argo CD's generated password that took effect: this run's, or one an interrupted run left pending (never this run's unused one)
  let generated: string | undefined
  const [phase] = await buildPhases(
    ROTATE_PHASES,
    rotatePhaseOptions({
      credentials: ids,
      values,
      timeoutSeconds: o.timeoutSeconds,
      access: o.access,
      pollMs: o.pollMs,
      onGenerated: (password) => (generated = password),
    }),
  )
  const {runStandalone} = await import('../engine/standalone.js')
  const {run, reports} = await runStandalone(phase!, {
    inv,
    kubeconfig: o.kubeconfig,
    renderer: o.renderer,
    onEvent: o.onEvent,
    command: `secrets rotate ${ids.join(' ')}`,
    failureCode: 'ROTATE_FAILED',
  })
  const result: SecretsRotateResult = {dryRun: false, rotated: reports as RotateReport[], run}
  // Argo CD keeps only a hash: a generated password is shown once, here (never in the journal or logs). It stayed in
  // its pending Secret until now, so a run stopped before this point lost nothing: the rerun finishes and shows it
  if (generated !== undefined) {
    await dropGeneratedPending(inv, o.kubeconfig)
    result.generatedPasswords = {argocd: generated}
  }
  return result
}

/** The pending Secret that kept Argo CD's generated password until this result had it. */
async function dropGeneratedPending(inv: LoadedInventory, kubeconfig: string | undefined): Promise<void> {
  const [{Kube}, {centralCluster, kubeContextName}, {dropPendingArgocd, PENDING_SECRET}, {errorMessage, ObsctlError}] = await Promise.all([
    import('../platform/kube.js'),
    import('../config/model.js'),
    import('../kube/rotate/argocd.js'),
    import('../errors.js'),
  ])
  try {
    await dropPendingArgocd(await Kube.connect({kubeconfig, context: kubeContextName(centralCluster(inv.platform))}))
  } catch (e) {
    throw new ObsctlError(
      `the Argo CD admin password is rotated and verified, but its pending Secret argocd/${PENDING_SECRET} could not be deleted: ${errorMessage(e)}`,
      {
        code: 'ROTATE_PARTIAL',
        hints: ['rerun obsctl secrets rotate argocd: it finishes the rotation and shows the generated password'],
      },
    )
  }
}

/**
 * For a dry run, from the journal alone (nothing is contacted): the credentials a rerun would not rotate again, each
 * with the interrupted run that rotated it (../kube/rotate/earlier.ts). A journal that cannot be read says nothing
 * here: the real run reports it.
 */
async function earlierRotations(inv: LoadedInventory, ids: Rotatable[]): Promise<Partial<Record<Rotatable, string>>> {
  const [{StateStore}, {obsctlDir}, {earlierRotation}] = await Promise.all([
    import('../engine/state.js'),
    import('../config/model.js'),
    import('../kube/rotate/earlier.js'),
  ])
  let store: StateStore
  try {
    store = StateStore.load(obsctlDir(inv.dir), inv.file)
  } catch {
    return {}
  }
  const journal = {before: (phase: string, target: string) => store.get(phase, target), lastRun: (phase: string) => store.phaseRun(phase)}
  const out: Partial<Record<Rotatable, string>> = {}
  for (const id of ids) {
    const r = earlierRotation(journal, id)
    if (r?.byEarlierRun) out[id] = r.byEarlierRun
  }
  return out
}
