/**
 * A rerun after a `secrets rotate` run that stopped (killed, interrupted, failed) finishes that run: a credential it
 * rotated and verified (the old value dropped) is not rotated again — an OpenSearch or S3 rotation rolls StatefulSets
 * pod by pod, and the S3 pair exported for the stopped run is the current one by now (a new rotation would refuse
 * it). Only when the journal says so, strictly: the latest rotate run did not finish and that same run recorded
 * this credential done. Whether it finished is the journal's record of the phase's run (RunJournal.lastRun): written
 * before its first task and `done` only at its end, so a run stopped anywhere — killed or Ctrl-C during a task, or
 * between two of them with every task it started done — is unfinished. (A journal written before phase runs were
 * recorded: the latest run is the one whose task started last, unfinished when one of its tasks is not done.) A run
 * that finished never makes the next one skip anything: rotating again on purpose is a new rotation. Whatever credentials the rerun names: those the stopped run finished are reported as
 * done by it, the others are rotated (or their pending rotation finished).
 *
 * A pending pair still in the credential's Secret wins over the journal (pendingInSecret): that rotation is finished
 * as any pending one is (a generated Argo CD password the stopped run never showed is shown then).
 */
import {centralCluster} from '../../config/model.js'
import type {RunContext, RunJournal, TaskRecord} from '../../engine/types.js'
import {kubeForCluster} from '../run.js'
import type {SecretObject} from '../secrets/catalogue.js'
import {readPending} from './argocd.js'
import {previousKey} from './common.js'
import {CREDENTIALS, ROTATABLE, type Rotatable, type RotateReport} from './model.js'
import {S3_REFERENCE} from './s3.js'

/** the rotate phase's name in the journal (../rotate.ts rotatePhase) */
const PHASE = 'rotate'

/**
 * The report of the credential's rotation by the latest rotate run, when that run did not finish and rotated this
 * one: its own report, named by that run (`byEarlierRun`; a run that itself took it from an earlier one names
 * the run that did the rotation), its restarts marked as that run's.
 */
export function earlierRotation(journal: Pick<RunJournal, 'before' | 'lastRun'> | undefined, id: Rotatable): RotateReport | undefined {
  if (!journal) return undefined
  const runId = unfinishedRun(journal)
  if (!runId) return undefined
  const mine = journal.before(PHASE, id)
  if (mine?.runId !== runId || mine.status !== 'done') return undefined
  const r = mine.report as Partial<RotateReport> | undefined
  if (!r || r.credential !== id || !r.verified?.newAccepted || !r.verified.oldRefused || !Array.isArray(r.restarted)) return undefined
  return {
    ...(r as RotateReport),
    restarted: r.restarted.map((w) => ({...w, byEarlierRun: true as const})),
    byEarlierRun: r.byEarlierRun ?? runId,
  }
}

/** The id of the latest rotate run when it did not finish (see the file's comment). */
function unfinishedRun(journal: Pick<RunJournal, 'before' | 'lastRun'>): string | undefined {
  const run = journal.lastRun(PHASE)
  if (run) return run.status === 'done' ? undefined : run.runId
  const records = ROTATABLE.map((c) => journal.before(PHASE, c)).filter((r): r is TaskRecord => r?.runId !== undefined)
  const latest = records.reduce<TaskRecord | undefined>((a, r) => (!a || order(r) > order(a) ? r : a), undefined)
  if (!latest || records.every((r) => r.runId !== latest.runId || r.status === 'done')) return undefined
  return latest.runId
}

/** when a record's task started (its run's id, timestamp-based, for a record without it) */
const order = (r: TaskRecord) => `${r.startedAt ?? ''} ${r.runId ?? ''}`

/** Does the credential's Secret on the central cluster hold a pending rotation (the old value beside the new)? */
export async function pendingInSecret(ctx: RunContext, id: Rotatable): Promise<boolean> {
  const kube = await kubeForCluster(ctx, centralCluster(ctx.platform).name)
  if (id === 'argocd') return (await readPending(kube)) !== undefined
  const s = id === 's3' ? S3_REFERENCE : CREDENTIALS[id].secret
  const live = await kube.get<SecretObject>('v1', 'Secret', s.name, s.namespace)
  return Boolean(live?.data?.[previousKey(s.key)])
}
