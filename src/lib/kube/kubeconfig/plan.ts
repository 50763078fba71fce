/**
 * Planning `kubeconfig merge`: each entry of each cluster is decided against the target file (add,
 * update, unchanged, or a conflict when the name is taken by another cluster or identity), the file is
 * edited through the yaml Document API (edit.ts) and the result is checked against the intended object before anything is written.
 */
import {yaml} from '../../lazy-deps.js'
import {ObsctlError, errorMessage, inputError} from '../../errors.js'
import {stableStringify} from '../../engine/state.js'
import {detectStyle, printDocument, setCurrentContext, setEntry} from './edit.js'
import {FIELD, SECTIONS, parseKubeconfigDocument, type KubeconfigEntries, type Obj, type SectionKey} from './parse.js'

export type EntryAction = 'add' | 'update' | 'unchanged' | 'conflict'

export interface EntryChange {
  section: SectionKey
  name: string
  cluster: string
  action: EntryAction
  /** why it is a conflict, or what changed */
  detail?: string
}

export interface MergePlan {
  file: string
  /** the file exists now */
  existed: boolean
  before: string
  after: string
  changed: boolean
  changes: EntryChange[]
  conflicts: EntryChange[]
}

/**
 * Plan the merge of `entries` into the kubeconfig text `before` (undefined or empty: a new file).
 * Conflicts (a name taken by a different cluster or identity) are reported, not applied, unless
 * `overwrite`.
 */
export interface PlanMergeOptions {
  overwrite?: boolean
  /** set current-context to this when it is not set (in `view`) */
  currentContext?: string
  /** several $KUBECONFIG files: the merged view entries are decided against (default: this file's) */
  view?: Obj
  /** several $KUBECONFIG files: whether this file is where the entry goes (default: yes) */
  owns?: (section: SectionKey, name: string) => boolean
}

export function planMerge(file: string, before: string | undefined, entries: KubeconfigEntries[], opts: PlanMergeOptions = {}): MergePlan {
  const existed = before !== undefined
  const text = before ?? ''
  const changes: EntryChange[] = []
  const owns = opts.owns ?? (() => true)
  if (text.trim() === '' && !opts.view) {
    for (const e of entries) for (const s of SECTIONS) changes.push({section: s, name: entryOf(e, s).name, cluster: e.cluster, action: 'add'})
    const after = freshKubeconfig(entries, opts.currentContext ?? entries[0]?.contextEntry.name)
    return {file, existed, before: text, after, changed: after !== text, changes, conflicts: []}
  }
  if (text.trim() === '') {
    // one file of several: only the entries it owns, decided against the merged view
    const changes = decideAll(entries, opts.view!)
    const conflicts = changes.filter((c) => c.action === 'conflict')
    if (conflicts.length > 0 && !opts.overwrite) return {file, existed, before: text, after: text, changed: false, changes, conflicts}
    const mine = entries.map((e) => ({
      ...e,
      sections: SECTIONS.filter((s) => owns(s, entryOf(e, s).name) && changes.find((c) => c.section === s && c.cluster === e.cluster)!.action !== 'unchanged'),
    }))
    if (mine.every((e) => e.sections.length === 0) && !opts.currentContext)
      return {file, existed, before: text, after: text, changed: false, changes, conflicts}
    const after = freshKubeconfig(entries, opts.currentContext, (e, s) => mine.find((m) => m.cluster === e.cluster)!.sections.includes(s))
    return {file, existed, before: text, after, changed: after !== text, changes, conflicts}
  }

  const doc = parseKubeconfigDocument(text, file)
  const style = detectStyle(text, doc)
  const current = (doc.toJS() ?? {}) as Obj

  // decide every entry against what is there
  changes.push(...decideAll(entries, opts.view ?? current))
  const conflicts = changes.filter((c) => c.action === 'conflict')
  if (conflicts.length > 0 && !opts.overwrite) return {file, existed, before: text, after: text, changed: false, changes, conflicts}

  // edit the document: sections in file order are kept, entries replaced in place or appended
  for (const s of SECTIONS) {
    for (const e of entries) {
      const ch = changes.find((c) => c.section === s && c.cluster === e.cluster)!
      if (ch.action !== 'unchanged' && owns(s, entryOf(e, s).name)) setEntry(doc, s, entryOf(e, s))
    }
  }
  // current-context when the file has none
  const setContext = opts.currentContext && !(opts.view ?? current)['current-context'] ? opts.currentContext : undefined
  if (setContext) setCurrentContext(doc, setContext)

  const touched = changes.some((c) => c.action !== 'unchanged' && owns(c.section, c.name)) || setContext !== undefined
  const after = touched ? printDocument(doc, text, style) : text
  verify(
    file,
    current,
    after,
    entries,
    changes.filter((c) => owns(c.section, c.name)),
    setContext,
  )
  return {file, existed, before: text, after, changed: after !== text, changes, conflicts}
}

function entryOf(e: KubeconfigEntries, s: SectionKey): {name: string} & Obj {
  return s === 'clusters' ? e.clusterEntry : s === 'users' ? e.userEntry : e.contextEntry
}

/** Every entry of every cluster decided against the kubeconfig `current`. */
function decideAll(entries: KubeconfigEntries[], current: Obj): EntryChange[] {
  const changes: EntryChange[] = []
  for (const e of entries) {
    const clusterDecision = decide('clusters', e, current)
    const clusterSame = clusterDecision.action === 'unchanged' || clusterDecision.action === 'update'
    for (const s of SECTIONS) changes.push(s === 'clusters' ? clusterDecision : decide(s, e, current, clusterSame))
  }
  return changes
}

function findEntry(current: Obj, s: SectionKey, name: string): Obj | undefined {
  const list = current[s]
  if (!Array.isArray(list)) return undefined
  return list.find((x) => x && typeof x === 'object' && (x as Obj).name === name) as Obj | undefined
}

function decide(s: SectionKey, e: KubeconfigEntries, current: Obj, clusterSame = false): EntryChange {
  const entry = entryOf(e, s)
  const base = {section: s, name: entry.name, cluster: e.cluster}
  const have = findEntry(current, s, entry.name)
  if (!have) return {...base, action: 'add'}
  const haveValue = (have[FIELD[s]] ?? {}) as Obj
  const wantValue = entry[FIELD[s]] as Obj
  if (stableStringify(haveValue) === stableStringify(wantValue)) return {...base, action: 'unchanged'}
  if (s === 'clusters') {
    const diffs: string[] = []
    if (haveValue.server !== wantValue.server) diffs.push(`server ${String(haveValue.server)} (wanted ${String(wantValue.server)})`)
    if (haveValue['certificate-authority-data'] !== wantValue['certificate-authority-data']) diffs.push('a different CA')
    if (diffs.length > 0) return {...base, action: 'conflict', detail: `cluster ${entry.name} is already in the file with ${diffs.join(' and ')}`}
    return {...base, action: 'update', detail: 'same server and CA, other fields differ'}
  }
  if (s === 'users') {
    // the same cluster with new credentials (e.g. a renewed admin certificate) is an update
    if (clusterSame) return {...base, action: 'update', detail: 'new credentials for the same cluster'}
    return {...base, action: 'conflict', detail: `user ${entry.name} is already in the file with other credentials`}
  }
  if (haveValue.cluster === wantValue.cluster && haveValue.user === wantValue.user)
    return {...base, action: 'unchanged', detail: 'keeps its own extra fields (e.g. namespace)'}
  return {
    ...base,
    action: 'conflict',
    detail: `context ${entry.name} is already in the file for cluster ${String(haveValue.cluster)} / user ${String(haveValue.user)}`,
  }
}

/** The printed text must parse to exactly the old object with our entries set: else refuse to write. */
function verify(file: string, before: Obj, after: string, entries: KubeconfigEntries[], changes: EntryChange[], currentContext?: string): void {
  const expected = structuredClone(before)
  for (const e of entries) {
    for (const s of SECTIONS) {
      const ch = changes.find((c) => c.section === s && c.cluster === e.cluster)
      if (!ch || ch.action === 'unchanged') continue
      const entry = entryOf(e, s)
      const list = Array.isArray(expected[s]) ? (expected[s] as Obj[]) : (expected[s] = [] as Obj[])
      const i = list.findIndex((x) => x && x.name === entry.name)
      if (i >= 0) list[i] = entry
      else list.push(entry)
    }
  }
  if (currentContext) expected['current-context'] = currentContext
  let got: unknown
  try {
    got = yaml().parse(after)
  } catch (error) {
    got = `unparsable: ${errorMessage(error)}`
  }
  if (stableStringify(got) !== stableStringify(expected)) {
    throw new ObsctlError(`internal error: the merged kubeconfig for ${file} did not come out as intended; nothing was written`, {
      code: 'KUBECONFIG_MERGE_INTERNAL',
      hints: [
        'please report this with the layout (not the credentials) of the file; meanwhile merge into an empty file with --kubeconfig NEW and copy entries by hand',
      ],
    })
  }
}

/** A new kubeconfig, written the way kubectl writes one. */
function freshKubeconfig(
  entries: KubeconfigEntries[],
  currentContext?: string,
  include: (e: KubeconfigEntries, s: SectionKey) => boolean = () => true,
): string {
  const doc = {
    apiVersion: 'v1',
    clusters: entries.filter((e) => include(e, 'clusters')).map((e) => e.clusterEntry),
    contexts: entries.filter((e) => include(e, 'contexts')).map((e) => e.contextEntry),
    'current-context': currentContext ?? '',
    kind: 'Config',
    preferences: {},
    users: entries.filter((e) => include(e, 'users')).map((e) => e.userEntry),
  }
  return yaml().stringify(doc, {lineWidth: 0, indentSeq: false})
}

export function conflictError(plan: Pick<MergePlan, 'file' | 'conflicts'>): ObsctlError {
  const list = plan.conflicts.map((c) => `${c.detail ?? `${c.section} ${c.name} is taken`}`)
  return inputError(
    `cannot merge into ${plan.file}: ${list.length === 1 ? list[0] : `${list.length} names are taken by something else:\n  ${list.join('\n  ')}`}`,
    [
      'if that cluster was re-installed (new CA) or moved, pass --overwrite to replace the entries (the old file is backed up)',
      'or merge into another file with --kubeconfig FILE',
    ],
    'KUBECONFIG_CONFLICT',
    {conflicts: plan.conflicts},
  )
}

/** One line per change, for logs and the screen (names only). */
export function describeChanges(changes: EntryChange[]): string {
  const by = (a: EntryAction) => changes.filter((c) => c.action === a).map((c) => c.name)
  const parts: string[] = []
  for (const a of ['add', 'update', 'conflict', 'unchanged'] as EntryAction[]) {
    const names = by(a)
    if (names.length > 0) parts.push(`${a === 'add' ? 'added' : a === 'update' ? 'updated' : a === 'conflict' ? 'conflict' : 'unchanged'}: ${names.join(', ')}`)
  }
  return parts.join('; ')
}
