/** Removing a cluster's entries from a kubeconfig (cluster remove), and from obsctl's earlier backups of it. */
import {readFileSync, rmSync} from 'node:fs'
import YAML, {isMap, isScalar, isSeq, type Node as YamlNode, type YAMLMap} from 'yaml'
import type {Cluster} from '../../config/schema.js'
import {kubeClusterName, kubeContextName, kubeUserName} from '../../config/model.js'
import {writeFileAtomic} from '../../fs.js'
import {KUBECONFIG_MODE, SECTIONS, parseKubeconfigDocument, readKubeconfigFile, type SectionKey} from './parse.js'
import {listBackups} from './write.js'

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
 * other byte stays as it was (block-style files: only the entries' lines are cut). When current-context
 * named the removed context it becomes `fallbackContext` (or empty). No backup is made (it would keep the
 * removed cluster's credentials), and earlier obsctl backups of the file lose the cluster's entries too.
 */
export async function removeFromKubeconfig(file: string, cluster: Cluster | string, opts: {fallbackContext?: string; dryRun?: boolean} = {}): Promise<KubeconfigRemoveResult> {
  const text = readKubeconfigFile(file)
  const result: KubeconfigRemoveResult = {file, removed: [], changed: false}
  if (text === undefined || text.trim() === '') return result
  const cut = cutEntries(text, file, cluster, opts.fallbackContext)
  result.removed = cut.removed
  if (cut.currentContext !== undefined) result.currentContext = cut.currentContext
  result.changed = cut.after !== text
  if (opts.dryRun) return result
  if (result.changed) {
    // no backup of the old file: it would keep the removed cluster's credentials; every other entry
    // stays byte-for-byte, so there is nothing else to undo
    await writeFileAtomic(file, cut.after, {mode: KUBECONFIG_MODE})
  }
  // earlier backups of this file lose the removed cluster's entries too
  result.scrubbedBackups = await scrubBackups(file, cluster)
  return result
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

/** The text of a kubeconfig without `cluster`'s cluster, user and context entries. */
function cutEntries(text: string, file: string, cluster: Cluster | string, fallbackContext: string | undefined): {after: string; removed: string[]; currentContext?: string} {
  const result: {after: string; removed: string[]; currentContext?: string} = {after: text, removed: []}
  const doc = parseKubeconfigDocument(text, file)
  const names: Record<SectionKey, string> = {clusters: kubeClusterName(cluster), users: kubeUserName(cluster), contexts: kubeContextName(cluster)}
  const cuts: [number, number][] = []
  let flow = false
  for (const s of SECTIONS) {
    const seq = doc.get(s, true)
    if (!isSeq(seq)) continue
    seq.items.forEach((item, i) => {
      if (!isMap(item) || item.get('name') !== names[s]) return
      result.removed.push(`${s}/${names[s]}`)
      const next = seq.items[i + 1] as YamlNode | undefined
      if (seq.flow || !item.range || (next && !next.range)) flow = true
      const start = text.lastIndexOf('\n', item.range![0]) + 1
      const stop = next?.range ? text.lastIndexOf('\n', next.range[0]) + 1 : item.range![2]
      cuts.push([start, stop])
    })
  }
  const current = doc.get('current-context')
  const retarget = current === names.contexts
  if (result.removed.length === 0 && !retarget) return result
  let after: string
  if (flow || (doc.contents as YAMLMap).flow) {
    for (const s of SECTIONS) {
      const seq = doc.get(s, true)
      if (isSeq(seq)) seq.items = seq.items.filter((it) => !(isMap(it) && it.get('name') === names[s]))
    }
    if (retarget) doc.set('current-context', fallbackContext ?? '')
    after = doc.toString()
  } else {
    after = text
    for (const [a, b] of cuts.sort((x, y) => y[0] - x[0])) after = after.slice(0, a) + after.slice(b)
    // an emptied block list (`users:` with no items left) becomes `users: []`; kubectl writes items at
    // column 0 (`clusters:` then `- cluster:`), which is not empty
    after = after.replace(/^(clusters|users|contexts):[ \t]*\n(?=(?!-[ \t\n])\S|$)/gm, '$1: []\n')
    if (retarget) {
      const cc = YAML.parseDocument(after).get('current-context', true)
      if (isScalar(cc) && cc.range) after = after.slice(0, cc.range[0]) + (fallbackContext || '""') + after.slice(cc.range[1])
    }
  }
  if (retarget) result.currentContext = fallbackContext ?? ''
  result.after = after
  return result
}

