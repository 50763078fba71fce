/**
 * `obsctl kubeconfig merge` (seed Phase 1.2): each cluster's kubeadm admin.conf becomes three entries
 * named after the cluster — cluster `<cluster>`, user `<cluster>-admin`, context `<cluster>-context` —
 * with `server` set to the inventory's API server URL, merged into one kubeconfig file.
 *
 * The merge edits the file text in place: the yaml library's Document API locates the entries (and
 * their byte ranges); only the entries obsctl owns are replaced or appended, so every other cluster,
 * user, context, comment and quirk of formatting stays byte-for-byte as it was. The result is parsed
 * again and checked against the intended object before anything is written.
 */
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import YAML, {isMap, isScalar, isSeq, type Document, type Node as YamlNode, type YAMLMap, type YAMLSeq} from 'yaml'
import type {Cluster} from '../config/schema.js'
import {kubeClusterName, kubeContextName, kubeUserName} from '../config/model.js'
import {ObsctlError, errorMessage, inputError, fsReason} from '../errors.js'
import {writeFileAtomic} from '../fs.js'
import {stableStringify} from '../engine/state.js'

type Obj = Record<string, unknown>

/** The credentials of one admin.conf: its (current context's) cluster fields and user fields. */
export interface AdminConf {
  /** cluster fields (certificate-authority-data, …); `server` is replaced by the inventory's */
  cluster: Obj
  /** user fields (client-certificate-data, client-key-data or token, …) */
  user: Obj
  /** the server the file itself named (shown when it differs from the inventory's) */
  server?: string
  /** where it came from, for messages: `ssh root@10.0.0.1:/etc/kubernetes/admin.conf` or a path */
  source: string
}

/** The three named entries obsctl owns for one cluster. */
export interface KubeconfigEntries {
  cluster: string
  clusterEntry: {name: string; cluster: Obj}
  userEntry: {name: string; user: Obj}
  contextEntry: {name: string; context: Obj}
}

export type SectionKey = 'clusters' | 'users' | 'contexts'
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

export const KUBECONFIG_MODE = 0o600
export const ADMIN_CONF_PATH = '/etc/kubernetes/admin.conf'

/** Parse a kubeadm admin.conf (any kubeconfig): the current context's cluster and user. */
export function parseAdminConf(text: string, source: string): AdminConf {
  let doc: unknown
  try {
    doc = YAML.parse(text)
  } catch (error) {
    throw inputError(`${source} is not a kubeconfig: ${errorMessage(error)}`, ['it should be a copy of /etc/kubernetes/admin.conf from the control-plane node'], 'KUBECONFIG_SOURCE')
  }
  const bad = (why: string) => inputError(`${source} is not a usable admin kubeconfig: ${why}`, ['it should be a copy of /etc/kubernetes/admin.conf from the control-plane node'], 'KUBECONFIG_SOURCE')
  if (!doc || typeof doc !== 'object') throw bad('empty or not a mapping')
  const kc = doc as Obj
  const contexts = namedList(kc.contexts)
  const clusters = namedList(kc.clusters)
  const users = namedList(kc.users)
  const current = typeof kc['current-context'] === 'string' && kc['current-context'] ? kc['current-context'] : contexts.length === 1 ? contexts[0]!.name : undefined
  if (!current) throw bad(`no current-context and ${contexts.length} contexts`)
  const ctx = contexts.find((c) => c.name === current)?.value as Obj | undefined
  if (!ctx) throw bad(`current-context ${current} is not among its contexts`)
  const cluster = clusters.find((c) => c.name === ctx.cluster)?.value as Obj | undefined
  const user = users.find((u) => u.name === ctx.user)?.value as Obj | undefined
  if (!cluster) throw bad(`cluster ${String(ctx.cluster)} of context ${current} is missing`)
  if (!user) throw bad(`user ${String(ctx.user)} of context ${current} is missing`)
  if (typeof cluster['certificate-authority'] === 'string' && !cluster['certificate-authority-data']) {
    throw bad('it names its CA by file path (certificate-authority); obsctl needs certificate-authority-data (kubeadm writes it)')
  }
  if (!cluster['certificate-authority-data']) throw bad('the cluster has no certificate-authority-data; obsctl never skips TLS verification')
  for (const k of ['client-certificate', 'client-key'] as const) {
    if (typeof user[k] === 'string' && !user[`${k}-data`]) throw bad(`its user names ${k} by file path; obsctl needs ${k}-data (kubeadm writes it)`)
  }
  const {server, ...rest} = cluster
  return {cluster: rest, user: {...user}, server: typeof server === 'string' ? server : undefined, source}
}

function namedList(v: unknown): {name: string; value: unknown}[] {
  if (!Array.isArray(v)) return []
  const out: {name: string; value: unknown}[] = []
  for (const x of v) {
    if (x && typeof x === 'object' && typeof (x as Obj).name === 'string') {
      const o = x as Obj
      const key = 'cluster' in o ? 'cluster' : 'user' in o ? 'user' : 'context'
      out.push({name: o.name as string, value: o[key] ?? {}})
    }
  }
  return out
}

/** The entries for one cluster: renamed, `server` from the inventory. */
export function entriesFor(cluster: Cluster, admin: AdminConf): KubeconfigEntries {
  const clusterName = kubeClusterName(cluster)
  const userName = kubeUserName(cluster)
  return {
    cluster: cluster.name,
    // key order as kubectl writes entries
    clusterEntry: {cluster: {...admin.cluster, server: cluster.apiServer}, name: clusterName},
    userEntry: {name: userName, user: admin.user},
    contextEntry: {context: {cluster: clusterName, user: userName}, name: kubeContextName(cluster)},
  }
}

// ---------------------------------------------------------------------------------------------
// planning: decide per entry, then splice the text

interface Splice {
  start: number
  end: number
  text: string
}

const SECTIONS: SectionKey[] = ['clusters', 'users', 'contexts']
const FIELD: Record<SectionKey, 'cluster' | 'user' | 'context'> = {clusters: 'cluster', users: 'user', contexts: 'context'}

/**
 * Plan the merge of `entries` into the kubeconfig text `before` (undefined or empty: a new file).
 * Conflicts (a name taken by a different cluster or identity) are reported, not applied, unless
 * `overwrite`.
 */
export function planMerge(file: string, before: string | undefined, entries: KubeconfigEntries[], opts: {overwrite?: boolean; currentContext?: string} = {}): MergePlan {
  const existed = before !== undefined
  const text = before ?? ''
  const changes: EntryChange[] = []
  if (text.trim() === '') {
    for (const e of entries) for (const s of SECTIONS) changes.push({section: s, name: entryOf(e, s).name, cluster: e.cluster, action: 'add'})
    const after = freshKubeconfig(entries, opts.currentContext ?? entries[0]?.contextEntry.name)
    return {file, existed, before: text, after, changed: after !== text, changes, conflicts: []}
  }

  const doc = parseKubeconfigDocument(text, file)
  const root = doc.contents as YAMLMap
  const json = Boolean(root.flow)
  const current = (doc.toJS() ?? {}) as Obj

  // decide every entry against what is there
  const wanted: Record<SectionKey, {name: string; value: Obj; replace?: YamlNode}[]> = {clusters: [], users: [], contexts: []}
  for (const e of entries) {
    const clusterDecision = decide('clusters', e, current)
    const clusterSame = clusterDecision.action === 'unchanged' || clusterDecision.action === 'update'
    for (const s of SECTIONS) {
      const d = s === 'clusters' ? clusterDecision : decide(s, e, current, clusterSame)
      changes.push(d)
    }
  }
  const conflicts = changes.filter((c) => c.action === 'conflict')
  if (conflicts.length > 0 && !opts.overwrite) return {file, existed, before: text, after: text, changed: false, changes, conflicts}

  for (const e of entries) {
    for (const s of SECTIONS) {
      const ch = changes.find((c) => c.section === s && c.cluster === e.cluster)!
      if (ch.action === 'unchanged') continue
      const entry = entryOf(e, s)
      const seq = root.get(s, true)
      const existing = isSeq(seq) ? (seq.items as YamlNode[]).find((it) => isMap(it) && it.get('name') === entry.name) : undefined
      wanted[s].push({name: entry.name, value: entry as unknown as Obj, replace: existing})
    }
  }

  const splices: Splice[] = []
  for (const s of SECTIONS) {
    const list = wanted[s]
    if (list.length === 0) continue
    const pair = root.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === s)
    const seq = pair?.value
    for (const w of list.filter((x) => x.replace)) splices.push(replaceItem(text, w.replace!, w.value, json || Boolean((seq as YAMLSeq).flow)))
    const adds = list.filter((x) => !x.replace).map((x) => x.value)
    if (adds.length === 0) continue
    if (isSeq(seq) && seq.items.length > 0) splices.push(appendItems(text, seq, adds, json))
    else splices.push(setSection(text, root, s, pair as {key: YamlNode; value: YamlNode | null} | undefined, adds, json))
  }
  // current-context when the file has none
  if (opts.currentContext && !current['current-context']) {
    const pair = root.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === 'current-context')
    splices.push(setScalar(text, root, 'current-context', pair as {key: YamlNode; value: YamlNode | null} | undefined, opts.currentContext, json))
  }

  const after = applySplices(text, splices)
  verify(file, current, after, entries, changes, opts.currentContext && !current['current-context'] ? opts.currentContext : undefined)
  return {file, existed, before: text, after, changed: after !== text, changes, conflicts}
}

function entryOf(e: KubeconfigEntries, s: SectionKey): {name: string} & Obj {
  return s === 'clusters' ? e.clusterEntry : s === 'users' ? e.userEntry : e.contextEntry
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
  if (haveValue.cluster === wantValue.cluster && haveValue.user === wantValue.user) return {...base, action: 'unchanged', detail: 'keeps its own extra fields (e.g. namespace)'}
  return {...base, action: 'conflict', detail: `context ${entry.name} is already in the file for cluster ${String(haveValue.cluster)} / user ${String(haveValue.user)}`}
}

function parseKubeconfigDocument(text: string, file: string): Document {
  const docs = YAML.parseAllDocuments(text)
  const bad = (why: string) => inputError(`cannot merge into ${file}: ${why}`, ['fix the file, or pass --kubeconfig with another file (obsctl creates it if missing)'], 'KUBECONFIG_PARSE')
  if (!Array.isArray(docs)) throw bad('it is not YAML')
  if (docs.length !== 1) throw bad(`it holds ${docs.length} YAML documents, a kubeconfig holds one`)
  const doc = docs[0]!
  if (doc.errors.length > 0) throw bad(doc.errors[0]!.message)
  if (!isMap(doc.contents)) throw bad('its top level is not a mapping')
  for (const s of SECTIONS) {
    const v = doc.contents.get(s, true)
    if (v !== undefined && !isSeq(v) && !(isScalar(v) && v.value === null)) throw bad(`${s} is not a list`)
  }
  return doc as Document
}

/** Column of `offset` in `text`. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

/** Block YAML of one entry, first line unindented, later lines indented to `col`. */
function blockEntry(value: Obj, col: number): string {
  const y = YAML.stringify(value, {lineWidth: 0, indentSeq: false}).replace(/\n$/, '')
  return y.split('\n').map((l, i) => (i === 0 || l === '' ? l : ' '.repeat(col) + l)).join('\n')
}

/** The offset just after the end of the line holding `offset - 1` (where a following line starts). */
function lineEndAfter(text: string, offset: number): {pos: number; needsNewline: boolean} {
  if (offset > 0 && text[offset - 1] === '\n') return {pos: offset, needsNewline: false}
  const nl = text.indexOf('\n', offset)
  if (nl === -1) return {pos: text.length, needsNewline: true}
  return {pos: nl + 1, needsNewline: false}
}

function replaceItem(text: string, node: YamlNode, value: Obj, flow: boolean): Splice {
  const [start, end] = node.range!
  if (flow) return {start, end, text: JSON.stringify(value)}
  const col = columnOf(text, start)
  const trailing = text.slice(start, end).endsWith('\n') ? '\n' : ''
  return {start, end, text: blockEntry(value, col) + trailing}
}

function appendItems(text: string, seq: YAMLSeq, values: Obj[], json: boolean): Splice {
  const last = seq.items[seq.items.length - 1] as YamlNode
  if (seq.flow || json) {
    // insert after the last item, inside the brackets
    const end = last.range![1]
    return {start: end, end, text: values.map((v) => `, ${JSON.stringify(v)}`).join('')}
  }
  const itemStart = last.range![0]
  const itemCol = columnOf(text, itemStart)
  // the dash of the last item: the first non-space before its content
  let dash = itemStart - 1
  while (dash > 0 && (text[dash] === ' ' || text[dash] === '\t')) dash--
  const dashCol = text[dash] === '-' ? columnOf(text, dash) : Math.max(0, itemCol - 2)
  const gap = Math.max(1, itemCol - dashCol - 1)
  const {pos, needsNewline} = lineEndAfter(text, last.range![1])
  const lines = values.map((v) => `${' '.repeat(dashCol)}-${' '.repeat(gap)}${blockEntry(v, dashCol + 1 + gap)}\n`).join('')
  return {start: pos, end: pos, text: (needsNewline ? '\n' : '') + lines}
}

/** A section that is missing, null or an empty list: write it whole. */
function setSection(text: string, root: YAMLMap, key: SectionKey, pair: {key: YamlNode; value: YamlNode | null} | undefined, values: Obj[], json: boolean): Splice {
  if (json) {
    const body = `[${values.map((v) => JSON.stringify(v)).join(', ')}]`
    if (pair?.value?.range) return {start: pair.value.range[0], end: pair.value.range[1], text: body}
    return insertFlowPair(text, root, key, body)
  }
  if (pair) {
    const keyEnd = pair.key.range![1]
    const keyCol = columnOf(text, pair.key.range![0])
    const valueEnd = pair.value?.range ? pair.value.range[1] : keyEnd
    const lineEnd = text.indexOf('\n', valueEnd)
    // keep a comment that follows the value on its line
    const restOfLine = text.slice(valueEnd, lineEnd === -1 ? text.length : lineEnd)
    const comment = restOfLine.match(/\s#.*$/)?.[0] ?? ''
    const end = lineEnd === -1 ? text.length : lineEnd
    const items = values.map((v) => `\n${' '.repeat(keyCol)}- ${blockEntry(v, keyCol + 2)}`).join('')
    return {start: keyEnd, end, text: `:${comment}${items}`}
  }
  const col = root.items.length > 0 ? columnOf(text, (root.items[0]!.key as YamlNode).range![0]) : 0
  const {pos, needsNewline} = lineEndAfter(text, root.range![1])
  const items = values.map((v) => `${' '.repeat(col)}- ${blockEntry(v, col + 2)}\n`).join('')
  return {start: pos, end: pos, text: `${needsNewline ? '\n' : ''}${' '.repeat(col)}${key}:\n${items}`}
}

function setScalar(text: string, root: YAMLMap, key: string, pair: {key: YamlNode; value: YamlNode | null} | undefined, value: string, json: boolean): Splice {
  const rendered = json ? JSON.stringify(value) : YAML.stringify(value).trim()
  if (pair?.value?.range && pair.value.range[1] > pair.value.range[0]) return {start: pair.value.range[0], end: pair.value.range[1], text: rendered}
  if (pair) {
    const colon = text.indexOf(':', pair.key.range![1])
    return {start: pair.key.range![1], end: colon + 1, text: `: ${rendered}`}
  }
  if (json) return insertFlowPair(text, root, key, rendered)
  const col = root.items.length > 0 ? columnOf(text, (root.items[0]!.key as YamlNode).range![0]) : 0
  const {pos, needsNewline} = lineEndAfter(text, root.range![1])
  return {start: pos, end: pos, text: `${needsNewline ? '\n' : ''}${' '.repeat(col)}${key}: ${rendered}\n`}
}

function insertFlowPair(text: string, root: YAMLMap, key: string, body: string): Splice {
  const close = text.lastIndexOf('}', root.range![1])
  const empty = root.items.length === 0
  return {start: close, end: close, text: `${empty ? '' : ', '}${JSON.stringify(key)}: ${body}`}
}

function applySplices(text: string, splices: Splice[]): string {
  // apply from the end so earlier offsets stay valid; same-offset inserts keep their order
  const ordered = splices.map((s, i) => ({...s, i})).sort((a, b) => b.start - a.start || b.i - a.i)
  let out = text
  for (const s of ordered) out = out.slice(0, s.start) + s.text + out.slice(s.end)
  return out
}

/** The spliced text must parse to exactly the old object with our entries set: else refuse to write. */
function verify(file: string, before: Obj, after: string, entries: KubeconfigEntries[], changes: EntryChange[], currentContext?: string): void {
  const expected = structuredClone(before)
  for (const e of entries) {
    for (const s of SECTIONS) {
      const ch = changes.find((c) => c.section === s && c.cluster === e.cluster)!
      if (ch.action === 'unchanged') continue
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
    got = YAML.parse(after)
  } catch (error) {
    got = `unparsable: ${errorMessage(error)}`
  }
  if (stableStringify(got) !== stableStringify(expected)) {
    throw new ObsctlError(`internal error: the merged kubeconfig for ${file} did not come out as intended; nothing was written`, {
      code: 'KUBECONFIG_MERGE_INTERNAL',
      hints: ['please report this with the layout (not the credentials) of the file; meanwhile merge into an empty file with --kubeconfig NEW and copy entries by hand'],
    })
  }
}

/** A new kubeconfig, written the way kubectl writes one. */
function freshKubeconfig(entries: KubeconfigEntries[], currentContext?: string): string {
  const doc = {
    apiVersion: 'v1',
    clusters: entries.map((e) => e.clusterEntry),
    contexts: entries.map((e) => e.contextEntry),
    'current-context': currentContext ?? '',
    kind: 'Config',
    preferences: {},
    users: entries.map((e) => e.userEntry),
  }
  return YAML.stringify(doc, {lineWidth: 0, indentSeq: false})
}

// ---------------------------------------------------------------------------------------------
// writing, backups and the masked diff

export interface WriteResult {
  written: boolean
  backup?: string
}

/** Read the target kubeconfig (undefined when it does not exist). */
export function readKubeconfigFile(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read kubeconfig ${file}: ${fsReason(error)}`, ['pass --kubeconfig with a file you can read and write'], 'KUBECONFIG')
  }
}

export function backupName(file: string, now = new Date()): string {
  return `${file}.obsctl-backup-${now.toISOString().replace(/[:.]/g, '-')}`
}

/** How many obsctl backups of a kubeconfig are kept (the newest). */
export const KEEP_BACKUPS = 5

/** obsctl's backups of `file`, oldest first (the names sort by time). */
export function listBackups(file: string): string[] {
  const dir = path.dirname(file)
  const prefix = `${path.basename(file)}.obsctl-backup-`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.filter((n) => n.startsWith(prefix)).sort().map((n) => path.join(dir, n))
}

/** Delete all but the newest `keep` backups of `file`; returns those deleted. */
export function pruneBackups(file: string, keep = KEEP_BACKUPS): string[] {
  const all = listBackups(file)
  const old = all.slice(0, Math.max(0, all.length - keep))
  for (const b of old) rmSync(b, {force: true})
  return old
}

/**
 * Write the plan's result (0600, atomically), backing up the previous file first (0600) unless
 * `backup: false` (already backed up earlier in the same run). Nothing changes → nothing is written.
 */
export async function writeMerge(plan: MergePlan, opts: {backup?: boolean} = {}): Promise<WriteResult> {
  if (plan.conflicts.length > 0 && plan.after === plan.before) throw conflictError(plan)
  if (!plan.changed) return {written: false}
  let backup: string | undefined
  if (plan.existed && plan.before !== '' && opts.backup !== false) {
    backup = backupName(plan.file)
    await writeFileAtomic(backup, plan.before, {mode: KUBECONFIG_MODE})
  }
  await writeFileAtomic(plan.file, plan.after, {mode: KUBECONFIG_MODE})
  if (backup) pruneBackups(plan.file)
  return {written: true, backup}
}

export function conflictError(plan: Pick<MergePlan, 'file' | 'conflicts'>): ObsctlError {
  const list = plan.conflicts.map((c) => `${c.detail ?? `${c.section} ${c.name} is taken`}`)
  return inputError(
    `cannot merge into ${plan.file}: ${list.length === 1 ? list[0] : `${list.length} names are taken by something else:\n  ${list.join('\n  ')}`}`,
    ['if that cluster was re-installed (new CA) or moved, pass --overwrite to replace the entries (the old file is backed up)', 'or merge into another file with --kubeconfig FILE'],
    'KUBECONFIG_CONFLICT',
    {conflicts: plan.conflicts},
  )
}

const CREDENTIAL_KEYS = ['client-key-data', 'client-certificate-data', 'token', 'password', 'client-key', 'id-token', 'refresh-token', 'access-token']
const MASK_BLOCK = new RegExp(`^(\\s*(?:-\\s+)?["']?(?:${CREDENTIAL_KEYS.join('|')})["']?\\s*:\\s*)(?!\\s*$).*$`)
const MASK_JSON = new RegExp(`("(?:${CREDENTIAL_KEYS.join('|')})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g')

/** Replace credential values in a line of a kubeconfig with REDACTED. */
export function maskCredentials(line: string): string {
  const m = line.match(MASK_BLOCK)
  if (m) return `${m[1]}REDACTED`
  return line.replace(MASK_JSON, '$1"REDACTED"')
}

/** A unified diff of the plan (credentials masked), empty when nothing changes. */
export function maskedDiff(plan: Pick<MergePlan, 'file' | 'before' | 'after'>, context = 2): string {
  if (plan.before === plan.after) return ''
  const a = plan.before === '' ? [] : plan.before.replace(/\n$/, '').split('\n')
  const b = plan.after.replace(/\n$/, '').split('\n')
  // the changes are local splices: a common prefix/suffix, then hunks via a small LCS on the middle
  const ops = lineDiff(a, b)
  const out = [`--- ${plan.file}`, `+++ ${plan.file} (merged)`]
  let i = 0
  while (i < ops.length) {
    if (ops[i]!.op === ' ') {
      i++
      continue
    }
    let start = i
    let end = i
    while (end < ops.length) {
      if (ops[end]!.op !== ' ') {
        end++
        continue
      }
      let run = 0
      while (end + run < ops.length && ops[end + run]!.op === ' ') run++
      if (end + run >= ops.length || run > context * 2) break
      end += run
    }
    const from = Math.max(0, start - context)
    const to = Math.min(ops.length, end + context)
    const hunk = ops.slice(from, to)
    const aStart = ops[from]!.a + 1
    const bStart = ops[from]!.b + 1
    const aCount = hunk.filter((o) => o.op !== '+').length
    out.push(`@@ -${aCount === 0 ? aStart - 1 : aStart},${hunk.filter((o) => o.op !== '+').length} +${bStart},${hunk.filter((o) => o.op !== '-').length} @@`)
    for (const o of hunk) out.push(`${o.op}${maskCredentials(o.line)}`)
    i = to
    start = to
  }
  return `${out.join('\n')}\n`
}

interface DiffOp {
  op: ' ' | '-' | '+'
  line: string
  /** index in a / b of this line (or of the next line for inserts/deletes) */
  a: number
  b: number
}

function lineDiff(a: string[], b: string[]): DiffOp[] {
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let s = 0
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  const am = a.slice(p, a.length - s)
  const bm = b.slice(p, b.length - s)
  const ops: DiffOp[] = []
  for (let k = 0; k < p; k++) ops.push({op: ' ', line: a[k]!, a: k, b: k})
  // LCS on the middle (small: only the edited entries)
  const n = am.length
  const m = bm.length
  const L: number[][] = Array.from({length: n + 1}, () => new Array<number>(m + 1).fill(0))
  for (let x = n - 1; x >= 0; x--) for (let y = m - 1; y >= 0; y--) L[x]![y] = am[x] === bm[y] ? L[x + 1]![y + 1]! + 1 : Math.max(L[x + 1]![y]!, L[x]![y + 1]!)
  let x = 0
  let y = 0
  while (x < n || y < m) {
    if (x < n && y < m && am[x] === bm[y]) {
      ops.push({op: ' ', line: am[x]!, a: p + x, b: p + y})
      x++
      y++
    } else if (y < m && (x >= n || L[x]![y + 1]! >= L[x + 1]![y]!)) {
      ops.push({op: '+', line: bm[y]!, a: p + x, b: p + y})
      y++
    } else {
      ops.push({op: '-', line: am[x]!, a: p + x, b: p + y})
      x++
    }
  }
  for (let k = 0; k < s; k++) ops.push({op: ' ', line: a[a.length - s + k]!, a: a.length - s + k, b: b.length - s + k})
  return ops
}

// ---------------------------------------------------------------------------------------------
// sources: admin.conf over SSH (sudo) or a local file (--from-file CLUSTER=PATH)

/** Parse repeated `--from-file CLUSTER=PATH` values against the inventory's clusters. */
export function parseFromFiles(values: string[] | undefined, clusterNames: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    const name = i > 0 ? v.slice(0, i) : ''
    const file = i > 0 ? v.slice(i + 1) : ''
    if (!name || !file) throw inputError(`--from-file ${v}: expected CLUSTER=PATH`, ['e.g. --from-file cluster-02=./cluster-02-admin.conf'], 'BAD_FLAGS')
    if (!clusterNames.includes(name)) throw inputError(`--from-file ${v}: ${name} is not a cluster of the inventory`, [`clusters: ${clusterNames.join(', ')}`], 'BAD_FLAGS')
    if (out.has(name)) throw inputError(`--from-file names ${name} twice`, [], 'BAD_FLAGS')
    out.set(name, path.resolve(file))
  }
  return out
}

/** Read an admin.conf the user already has. */
export function readAdminConfFile(file: string): AdminConf {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read ${file}: ${fsReason(error)}`, ['--from-file CLUSTER=PATH: PATH is a copy of /etc/kubernetes/admin.conf'], 'KUBECONFIG_SOURCE')
  }
  return parseAdminConf(text, file)
}

/** What the SSH side needs: a connection that can run a command as root. */
export interface RootExec {
  label: string
  sudo(command: string, o?: {log?: (line: string) => void}): Promise<{code: number | null; stdout: string; stderr: string}>
}

/** Read /etc/kubernetes/admin.conf as root; its contents never reach a log. */
export async function readAdminConfOverSsh(conn: RootExec, clusterName: string): Promise<AdminConf> {
  // no `log`: the output holds the admin's private key
  const r = await conn.sudo(`cat ${ADMIN_CONF_PATH}`)
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() || `exit code ${r.code}`
    const missing = /No such file/i.test(r.stderr)
    throw new ObsctlError(`cannot read ${ADMIN_CONF_PATH} on ${conn.label} (cluster ${clusterName}): ${why}`, {
      code: missing ? 'ADMIN_CONF_MISSING' : 'ADMIN_CONF_READ',
      hints: missing
        ? [`kubeadm init writes it: run obsctl node install ${clusterName} first`, `or pass --from-file ${clusterName}=PATH with a copy you already have`]
        : [`check that ${conn.label} can run sudo cat ${ADMIN_CONF_PATH}`, `or pass --from-file ${clusterName}=PATH`],
    })
  }
  return parseAdminConf(r.stdout, `ssh ${conn.label}:${ADMIN_CONF_PATH}`)
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

// ---------------------------------------------------------------------------------------------
// removing a cluster's entries (cluster remove)

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
