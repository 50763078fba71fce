/** Removing a cluster's entries from a kubeconfig (cluster remove), and from obsctl's earlier backups of it. */
import {existsSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {kubeconfigFiles} from '../../platform/kube.js'
import {yaml} from '../../lazy-deps.js'
import {stableStringify} from '../../engine/state.js'
import {ObsctlError} from '../../errors.js'
import {deleteEntry, detectStyle, printDocument, setCurrentContext} from './edit.js'
import type {Cluster} from '../../config/schema.js'
import {kubeClusterName, kubeContextName, kubeUserName} from '../../config/model.js'
import {writeFileAtomic} from '../../fs.js'
import {KUBECONFIG_MODE, SECTIONS, parseKubeconfigDocument, readKubeconfigFile, type Obj, type SectionKey} from './parse.js'
import {listBackups, withKubeconfigLocks} from './write.js'

export interface KubeconfigRemoveResult {
  file: string
  /** `clusters/<name>`, `users/<name>`, `contexts/<name>` that were (or, on a dry run, would be) removed */
  removed: string[]
  changed: boolean
  backup?: string
  /** current-context pointed at the removed context and was set to this one (or cleared: '') */
  currentContext?: string
  /** earlier obsctl backups of the file from which the cluster's entries (credentials) were removed */
  scrubbedBackups?: string[]
}

/**
 * Delete the cluster, user and context entries obsctl merged for `cluster` from a kubeconfig; every
 * other entry, comment and line stays as it was. When current-context
 * named the removed context it becomes `fallbackContext` (or empty). No backup is made (it would keep the
 * removed cluster's credentials), and earlier obsctl backups of the file lose the cluster's entries too.
 */
export async function removeFromKubeconfig(
  file: string,
  cluster: Cluster | string,
  opts: {fallbackContext?: string; dryRun?: boolean} = {},
): Promise<KubeconfigRemoveResult> {
  const plan = () => {
    const text = readKubeconfigFile(file)
    const result: KubeconfigRemoveResult = {file, removed: [], changed: false}
    if (text === undefined || text.trim() === '') return {result}
    const cut = cutEntries(text, file, cluster, opts.fallbackContext)
    result.removed = cut.removed
    if (cut.currentContext !== undefined) result.currentContext = cut.currentContext
    result.changed = cut.after !== text
    return {result, after: cut.after}
  }
  if (opts.dryRun || !existsSync(file)) return plan().result
  // read and written under kubectl's lock file (write.ts withKubeconfigLocks): an entry another process adds
  // meanwhile is kept
  return withKubeconfigLocks([file], async () => {
    const {result, after} = plan()
    if (after === undefined) return result
    if (result.changed) {
      // no backup of the old file: it would keep the removed cluster's credentials; every other entry
      // stays byte-for-byte, so there is nothing else to undo
      await writeFileAtomic(file, after, {mode: KUBECONFIG_MODE})
    }
    // earlier backups of this file lose the removed cluster's entries too
    result.scrubbedBackups = await scrubBackups(file, cluster)
    return result
  })
}

/**
 * removeFromKubeconfig on each kubeconfig file (--kubeconfig, else every $KUBECONFIG path, else
 * ~/.kube/config): kubectl deletes only the first file's entry, but a copy in a later file would then
 * show through, with its credentials; obsctl removes them from every file. `file` names the files changed.
 */
export async function removeFromKubeconfigs(
  kubeconfigFlag: string | undefined,
  cluster: Cluster | string,
  opts: {fallbackContext?: string; dryRun?: boolean} = {},
): Promise<KubeconfigRemoveResult> {
  const files = kubeconfigFiles(kubeconfigFlag)
  if (files.length === 1) return removeFromKubeconfig(files[0]!, cluster, opts)
  const results: KubeconfigRemoveResult[] = []
  for (const f of files) results.push(await removeFromKubeconfig(f, cluster, opts))
  const changed = results.filter((r) => r.changed)
  return {
    file: (changed.length > 0 ? changed : results).map((r) => r.file).join(path.delimiter),
    removed: [...new Set(results.flatMap((r) => r.removed))],
    changed: changed.length > 0,
    currentContext: results.find((r) => r.currentContext !== undefined)?.currentContext,
    scrubbedBackups: results.flatMap((r) => r.scrubbedBackups ?? []),
  }
}

/** Remove `cluster`'s entries from every obsctl backup of `file`; returns the backups rewritten. */
async function scrubBackups(file: string, cluster: Cluster | string): Promise<string[]> {
  const out: string[] = []
  for (const b of listBackups(file)) {
    let text: string
    try {
      text = readFileSync(b, 'utf8')
    } catch {
      continue
    }
    let after: string
    try {
      after = cutEntries(text, b, cluster, undefined).after
    } catch {
      // a backup that no longer parses cannot be scrubbed safely: remove it rather than keep secrets
      rmSync(b, {force: true})
      out.push(b)
      continue
    }
    if (after !== text) {
      await writeFileAtomic(b, after, {mode: KUBECONFIG_MODE})
      out.push(b)
    }
  }
  return out
}

/** The text of a kubeconfig without `cluster`'s cluster, user and context entries (edited through the yaml Document API). */
function cutEntries(
  text: string,
  file: string,
  cluster: Cluster | string,
  fallbackContext: string | undefined,
): {after: string; removed: string[]; currentContext?: string} {
  const result: {after: string; removed: string[]; currentContext?: string} = {after: text, removed: []}
  const doc = parseKubeconfigDocument(text, file)
  const before = (doc.toJS() ?? {}) as Obj
  const names: Record<SectionKey, string> = {clusters: kubeClusterName(cluster), users: kubeUserName(cluster), contexts: kubeContextName(cluster)}
  for (const s of SECTIONS) if (deleteEntry(doc, s, names[s]) > 0) result.removed.push(`${s}/${names[s]}`)
  const retarget = doc.get('current-context') === names.contexts
  if (result.removed.length === 0 && !retarget) return result
  if (retarget) {
    setCurrentContext(doc, fallbackContext ?? '')
    result.currentContext = fallbackContext ?? ''
  }
  result.after = printDocument(doc, text, detectStyle(text, doc))
  // the result must be the old object less those entries: else nothing is written
  const expected = structuredClone(before)
  for (const s of SECTIONS) if (Array.isArray(expected[s])) expected[s] = (expected[s] as Obj[]).filter((x) => !(x && x.name === names[s]))
  if (retarget) expected['current-context'] = fallbackContext ?? ''
  let got: unknown
  try {
    got = yaml().parse(result.after)
  } catch {
    got = undefined
  }
  if (stableStringify(got) !== stableStringify(expected)) {
    throw new ObsctlError(`internal error: removing ${names.clusters} from ${file} did not come out as intended; nothing was written`, {
      code: 'KUBECONFIG_REMOVE_INTERNAL',
      hints: [
        `remove cluster ${names.clusters}, user ${names.users} and context ${names.contexts} by hand (kubectl config delete-cluster / delete-user / delete-context)`,
      ],
    })
  }
  return result
}
