/**
 * Day-2 edits of the inventory that keep its comments and order (yaml Document API), validated
 * (schema + lint) before an atomic write: `config set`, `cluster add`, `cluster remove`.
 */
import type {Document, Scalar} from 'yaml'
import {yaml} from '../lazy-deps.js'
import {readFileSync} from 'node:fs'
import {ObsctlError, errorMessage, inputError} from '../errors.js'
import {writeFileAtomic} from '../fs.js'
import {
  formatPath,
  formatPosition,
  loadInventory,
  parseInventory,
  yamlDocument,
  type ConfigProblem,
  type FieldPath,
  type InventorySource,
  type LoadedInventory,
} from './load.js'
import {lintInventory, type LintReport} from './lint.js'
import {urlHost} from './validators.js'

export interface EditResult {
  file: string
  /** the new inventory (already validated) */
  inventory: LoadedInventory
  lint: LintReport
  before: string
  after: string
  changed: boolean
}

/**
 * Resolve a dotted path (`retention.prometheus`, `replicas.prometheus`, `clusters.cluster-02.metrics`,
 * `clusters[1].nodes[0].cpu`) to document path segments; a cluster name selects its index.
 */
export function resolvePath(doc: Document, raw: string): (string | number)[] {
  const segs: (string | number)[] = []
  for (const part of raw.split('.').filter(Boolean)) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part)
    if (!m)
      throw inputError(`cannot read path segment "${part}" in ${raw}`, ['paths look like retention.prometheus or clusters.cluster-02.metrics'], 'BAD_PATH')
    const parent = doc.getIn(segs)
    if (yaml().isSeq(parent) && !/^\d+$/.test(m[1]!)) {
      const idx = parent.items.findIndex((it) => yaml().isMap(it) && it.get('name') === m[1])
      if (idx < 0) throw inputError(`no ${segs.join('.') || 'item'} named "${m[1]}" in ${raw}`, ['check the name with obsctl cluster list'], 'BAD_PATH')
      segs.push(idx)
    } else segs.push(/^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!)
    for (const i of m[2]!.matchAll(/\[(\d+)\]/g)) segs.push(Number(i[1]))
  }
  if (segs.length === 0) throw inputError('empty path', ['e.g. obsctl config set retention.prometheus 4h'], 'BAD_PATH')
  return segs
}

/**
 * Parse a value given on the command line as a YAML scalar/flow value (`3` → number, `[a, b]` → list). A value YAML
 * cannot turn into data — `*a`, an alias with no anchor to refer to — is bad input naming it (`what`: the path set).
 */
export function parseValue(raw: string, what?: string): unknown {
  const d = yaml().parseDocument(raw)
  if (d.errors.length) return raw
  try {
    return d.toJS()
  } catch (error) {
    const alias = /^\s*\*/.test(raw)
    throw inputError(
      `${what ? `${what}: ` : ''}the value ${raw} ${alias ? 'is YAML for an alias (*name repeats the value of an anchor &name), and there is no anchor' : `is not a value YAML can read (${errorMessage(error)})`}`,
      [`to set the text ${raw}, quote it: '"${raw.replaceAll('"', '\\"')}"'`],
      'BAD_VALUE',
    )
  }
}

/** What an edit is, for its error messages: the change, where it lands in the file, and the flags that gave its values. */
export interface EditOrigin {
  /** e.g. "config set retention.prometheus 4h" */
  what: string
  /** the field the edit writes (its nearest existing ancestor gives the line) */
  at: FieldPath
  /**
   * the command-line flag (with its value) that produced a field of the edit, for fields not yet in the file;
   * `finding`: the lint rule's id when the problem is a lint finding (a flag may answer it rather than give it)
   */
  flagOf?: (p: FieldPath, finding?: string) => string | undefined
}

/** `clusters[4].nodes[0].host` → ['clusters', 4, 'nodes', 0, 'host'] (the inverse of formatPath). */
function parseFormattedPath(text: string): FieldPath {
  const out: FieldPath = []
  for (const m of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!)
  return out
}

/**
 * Where a problem of the edited text is, in the file as it is on disk (nothing was written): the field's
 * own line when it exists there, else the flag that gave it, else the line of the field being edited.
 */
function editLocation(inv: LoadedInventory, origin: EditOrigin, path: string, finding?: string): string {
  const fp = parseFormattedPath(path)
  if (fp.length > 0 && inv.doc.hasIn(fp)) return formatPosition(inv.positionOf(fp))
  const flag = origin.flagOf?.(fp, finding)
  if (flag) return flag
  return formatPosition(inv.positionOf(origin.at))
}

async function commit(inv: LoadedInventory, after: string, opts: {dryRun?: boolean; allowOvercommit?: boolean}, origin: EditOrigin): Promise<EditResult> {
  let next: LoadedInventory
  try {
    next = parseInventory(after, inv.file)
  } catch (error) {
    const problems = (error as {details?: {problems?: ConfigProblem[]}}).details?.problems ?? []
    if (problems.length === 0) throw error
    const lines = problems.map((pr) => `${editLocation(inv, origin, pr.path)} ${pr.path}: ${pr.message}`)
    throw inputError(
      `${origin.what} would make the inventory invalid; nothing was written:\n${lines.join('\n')}`,
      ["fix the value and rerun; `obsctl config schema` prints every field's rule"],
      'EDIT_INVALID',
      {problems: problems.map((pr, i) => ({path: pr.path, message: pr.message, location: lines[i]!.split(' ')[0]}))},
    )
  }
  const lint = lintInventory(next, {allowOvercommit: opts.allowOvercommit})
  if (lint.errors > 0) {
    const errs = lint.findings.filter((f) => f.severity === 'error')
    // errors the file on disk has already are not the edit's doing: said as bootstrap and render say them (lint.ts
    // refuseLintErrors: "invalid inventory FILE"); "would make" only when the edit brings an error of its own
    // (by rule and message: a field's path moves when an edit removes a list item before it). A file the edit
    // mends (loadInventoryToEdit) could not be linted: there, an error away from the edited field is the file's.
    const key = (f: {id: string; message: string}) => `${f.id}\0${f.message}`
    const before = inv.mended
      ? undefined
      : new Set(
          lintInventory(inv, {allowOvercommit: opts.allowOvercommit})
            .findings.filter((f) => f.severity === 'error')
            .map(key),
        )
    const edited = formatPath(origin.at)
    const already = errs.filter((f) => (before ? before.has(key(f)) : !underPath(f.path, edited)))
    const own = errs.filter((f) => !already.includes(f))
    const line = (f: {id: string; path: string; message: string}) => `${editLocation(inv, origin, f.path, f.id)} ${f.path}: ${f.message}`
    throw inputError(
      editRefusal(inv.file, origin.what, edited, own.map(line), already.map(line)),
      [...new Set(errs.map((f) => f.fix)), ...(already.length > 0 ? [alreadyHint(inv.file, origin.what)] : [])],
      'EDIT_INVALID',
      lint,
    )
  }
  const changed = after !== inv.text
  if (changed && !opts.dryRun) {
    refuseConcurrentEdit(inv, origin.what)
    await writeFileAtomic(inv.file, after)
  }
  return {file: inv.file, inventory: next, lint, before: inv.text, after, changed}
}

/** Whether a formatted field path is PATH or a field under it. */
function underPath(field: string, path: string): boolean {
  return field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`)
}

/**
 * The refusal of an edit that leaves the inventory invalid, nothing written: the errors the edit brings (`own`),
 * then those the file has already, away from the field the edit sets — said to be the file's, not the edit's, each
 * with its file:line, so that it is plain which error blocks the edit. Only the file's: `invalid inventory FILE,
 * with or without WHAT`, as bootstrap and render say an invalid inventory.
 */
function editRefusal(file: string, what: string, edited: string, own: string[], already: string[]): string {
  const theirs = `blocking it, already in the file (not ${edited}, the field the edit sets):\n${already.join('\n')}`
  if (own.length === 0) return `invalid inventory ${file}, with or without ${what}; nothing was written. Errors ${theirs}`
  return `${what} would make the inventory invalid; nothing was written:\n${own.join('\n')}${already.length > 0 ? `\nAlso ${theirs}` : ''}`
}

/** The hint of an edit refused for errors the file has already. */
function alreadyHint(file: string, what: string): string {
  return `fix the errors already in ${file} by editing the file (obsctl config validate shows each with its fix; config set writes only a valid inventory, so it cannot mend them one by one), then rerun ${what}`
}

/**
 * The inventory `config set PATH VALUE` edits: the file as loadInventory reads it; when the file is invalid (its
 * schema problems, not its YAML), the edit is made on its text and, if that mends it, the inventory is the edited
 * one's (`mended`: the file's problems) — `config set retention.prometheus 6h` fixes a `retention.prometheus: 6x`
 * that every other command refuses. An edit that leaves problems is refused (exit 2, EDIT_INVALID, nothing
 * written), naming each remaining problem with its file:line and saying which are the file's own (away from PATH),
 * not the edit's.
 */
export function loadInventoryToEdit(file: string, from: InventorySource['from'], rawPath: string, rawValue: string): LoadedInventory {
  try {
    return loadInventory(file, from)
  } catch (error) {
    const problems = (error as {code?: string; details?: {problems?: ConfigProblem[]}}).details?.problems
    if ((error as {code?: string}).code !== 'CONFIG_INVALID' || !problems?.length || problems.some((pr) => /^\(/.test(pr.path))) throw error
    const text = readFileSync(file, 'utf8')
    const {segs, after} = setInventoryText(text, rawPath, parseValue(rawValue, rawPath), file)
    const what = `config set ${rawPath} ${rawValue}`
    let next: LoadedInventory
    try {
      next = parseInventory(after, file)
    } catch (afterError) {
      const left = (afterError as {details?: {problems?: ConfigProblem[]}}).details?.problems
      if (!left?.length) throw afterError
      const old = yamlDocument(text, file)
      const edited = formatPath(segs)
      const at = (pr: ConfigProblem) => {
        const fp = parseFormattedPath(pr.path)
        return formatPosition(fp.length > 0 && old.doc.hasIn(fp) ? old.positionOf(fp) : old.positionOf(segs))
      }
      const was = new Set(problems.map((pr) => `${pr.path}\0${pr.message}`))
      const already = left.filter((pr) => was.has(`${pr.path}\0${pr.message}`) && !underPath(pr.path, edited))
      const own = left.filter((pr) => !already.includes(pr))
      const line = (pr: ConfigProblem) => `${at(pr)} ${pr.path}: ${pr.message}`
      throw inputError(
        editRefusal(file, what, edited, own.map(line), already.map(line)),
        [
          ...(own.length > 0 ? ["fix the value and rerun; `obsctl config schema` prints every field's rule"] : []),
          ...(already.length > 0 ? [alreadyHint(file, what)] : []),
        ],
        'EDIT_INVALID',
        {problems: [...own, ...already].map((pr) => ({path: pr.path, message: pr.message, location: at(pr), alreadyInFile: already.includes(pr)}))},
      )
    }
    const old = yamlDocument(text, file)
    return {file, dir: next.dir, platform: next.platform, doc: old.doc, text, positionOf: (p) => old.positionOf(p), mended: problems}
  }
}

/**
 * The inventory file must still be the text `inv` was read from: an edit planned from that text never overwrites
 * what another run (or an editor) wrote since. Exit 1 CONCURRENT_EDIT, nothing written; a rerun plans from the file
 * as it is now. Checked under the run lock (engine/inventory-lock.ts) and again just before every edit is written.
 */
export function refuseConcurrentEdit(inv: Pick<LoadedInventory, 'file' | 'text'>, what: string): void {
  let now: string | undefined
  try {
    now = readFileSync(inv.file, 'utf8')
  } catch {
    now = undefined
  }
  if (now === inv.text) return
  throw new ObsctlError(
    `${inv.file} ${now === undefined ? 'is gone' : 'changed'} since ${what} read it (another obsctl run or an editor wrote it); nothing was written by ${what}`,
    {
      code: 'CONCURRENT_EDIT',
      hints: [`rerun ${what}: it plans from the file as it is now`],
    },
  )
}

function cloneDoc(inv: LoadedInventory): Document {
  return yaml().parseDocument(inv.text, {keepSourceTokens: false})
}

/**
 * TEXT with PATH set to VALUE (a JS value), not validated: only the value's bytes change when the field is
 * a scalar already in the text (comments and alignment stay); a field or list item not yet in the text is added by
 * inserting its text only (insertField), every other byte unchanged — also under a key with nothing under it (YAML
 * null, `alerting:` "to be filled"), read as an empty mapping; a value in the way (`6h`, `2222`) is refused. Otherwise (a block list or mapping replaced)
 * the yaml Document API writes the whole text, keeping its line endings (CRLF) and byte-order mark.
 * The one way an inventory text is edited — `config set` and the tests' inventory builder both use it.
 * `file` names the inventory in errors (a value in the way of the path: "retention.prometheus at FILE:46:15 is a value").
 */
export function setInventoryText(text: string, rawPath: string, value: unknown, file?: string): {segs: (string | number)[]; written: unknown; after: string} {
  const doc = yaml().parseDocument(text, {keepSourceTokens: false})
  const segs = resolvePath(doc, rawPath)
  refuseValueInTheWay(doc, text, segs, rawPath, file)
  const style = indentationOf(doc, text)
  const written = doc.getIn(segs)
  const target = doc.getIn(segs, true)
  let after: string | undefined
  if (yaml().isScalar(target) && target.range && (value === null || typeof value !== 'object')) {
    // splice only the value's text: every other byte (comments, alignment) stays as it was
    const scalar = yaml().stringify(value, {lineWidth: 0}).trimEnd()
    after = text.slice(0, target.range[0]) + scalar + text.slice(target.range[1])
  } else {
    if (target === undefined) after = insertField(doc, text, segs, value, style)
    // a key with nothing under it (YAML null) on the way is a mapping to fill in (`alerting:` "to be filled")
    const empty = nullOnTheWay(doc, segs)
    if (empty !== undefined) doc.setIn(segs.slice(0, empty), doc.createNode({}))
    doc.setIn(segs, value)
    const whole = documentText(doc, text, style)
    // the inserted lines must read back as exactly what the Document API would write; else it writes
    if (after !== undefined && !sameData(after, whole)) after = undefined
    after ??= whole
  }
  return {segs, written, after}
}

/** A line ending as the text has them (\r\n when it uses them). */
function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n'
}

/**
 * How the text indents its blocks, so that what an edit writes is indented as the rest of the file (a 4-space file
 * stays 4-space): `indent`, the columns from a key to the keys of the block mapping under it (`retention:` →
 * `    thanos:`); `indentSeq`, whether a block list under a key is indented (`nodes:` → `  - host:`) or starts at the
 * key's column (`nodes:` → `- host:`). The first of each in the text; 2 and indented when it has none (the yaml
 * library's own, as `obsctl init` writes).
 */
export interface Indentation {
  indent: number
  indentSeq: boolean
}

function indentationOf(doc: Document, text: string): Indentation {
  let indent: number | undefined
  let indentSeq: boolean | undefined
  yaml().visit(doc, {
    Pair(_, pair) {
      const v = pair.value
      if (!yaml().isNode(pair.key) || !pair.key.range || !yaml().isCollection(v) || v.flow) return undefined
      const keyColumn = columnOf(text, pair.key.range[0])
      const first = v.items[0]
      if (yaml().isMap(v) && indent === undefined) {
        const k = (first as {key?: unknown} | undefined)?.key
        // a key on its own line: not `- name: a` (a list item's first key), whose column is the dash's
        if (yaml().isNode(k) && k.range && columnOf(text, k.range[0]) > keyColumn && isLineStart(text, k.range[0]))
          indent = columnOf(text, k.range[0]) - keyColumn
      }
      if (yaml().isSeq(v) && indentSeq === undefined && yaml().isNode(first) && first.range) {
        const dash = text.lastIndexOf('-', first.range[0] - 1)
        if (dash >= 0 && isLineStart(text, dash)) indentSeq = columnOf(text, dash) > keyColumn
      }
      return indent !== undefined && indentSeq !== undefined ? yaml().visit.BREAK : undefined
    },
  })
  return {indent: indent ?? 2, indentSeq: indentSeq ?? true}
}

/** Whether only spaces are before an offset on its line. */
function isLineStart(text: string, offset: number): boolean {
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset).trim() === ''
}

/**
 * The edited document as text, with the original text's line endings, byte-order mark and indentation (the yaml
 * library writes none of them).
 */
function documentText(doc: Document, original: string, style: Indentation = indentationOf(doc, original)): string {
  let out = doc.toString({lineWidth: 0, flowCollectionPadding: false, ...style})
  if (eolOf(original) === '\r\n') out = out.replace(/\r?\n/g, '\r\n')
  return original.startsWith('\uFEFF') && !out.startsWith('\uFEFF') ? `\uFEFF${out}` : out
}

function sameData(a: string, b: string): boolean {
  const da = yaml().parseDocument(a)
  return da.errors.length === 0 && JSON.stringify(da.toJS()) === JSON.stringify(yaml().parseDocument(b).toJS())
}

/**
 * PATH (not in the text) added by inserting text only, every other byte unchanged: new lines at the end of the
 * nearest block mapping on its way, indented as its keys (`ssh.port 2222` → `  port: 2222` after ssh's last field);
 * `, key: value` before the `}` of a flow mapping (`s3.buckets.metrics.expireAfter`); a new last item of a block list
 * (`clusters.cluster-02.nodes[1]`, node add); a key with nothing under it on the way filled in (fillNull: `alerting:`
 * → `alerting:` and `  repeatInterval: 4h` below it). Undefined otherwise (the Document API writes it).
 */
function insertField(doc: Document, text: string, segs: (string | number)[], value: unknown, style: Indentation): string | undefined {
  let i = segs.length - 1
  while (i > 0 && doc.getIn(segs.slice(0, i), true) === undefined) i--
  const node = i === 0 ? doc.contents : doc.getIn(segs.slice(0, i), true)
  const rest = segs.slice(i)
  if (yaml().isScalar(node) && nullOnTheWay(doc, segs) === i) return fillNull(doc, text, segs.slice(0, i), node, rest, value, style)
  if (!yaml().isCollection(node) || !node.range) return undefined
  const eol = eolOf(text)
  if (yaml().isMap(node)) {
    if (rest.some((k) => typeof k !== 'string')) return undefined
    const entry = rest.reduceRight<unknown>((v, k) => ({[k]: v}), value)
    if (node.flow) {
      const close = text.lastIndexOf('}', node.range[1] - 1)
      if (close <= node.range[0]) return undefined
      let at = close
      while (text[at - 1] === ' ') at--
      const pair = yaml().stringify(entry, {collectionStyle: 'flow', lineWidth: 0, flowCollectionPadding: false}).trim().slice(1, -1)
      return `${text.slice(0, at)}${node.items.length > 0 ? ', ' : ''}${pair}${text.slice(at)}`
    }
    const first = node.items[0]?.key
    if (!yaml().isNode(first) || !first.range) return undefined
    return appendLines(text, node.range[1], columnOf(text, first.range[0]), blockText(entry, style), eol)
  }
  // a new last item of a block list
  if (node.flow || rest.length !== 1 || rest[0] !== node.items.length) return undefined
  const first = node.items[0]
  if (!yaml().isNode(first) || !first.range) return undefined
  const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1
  const dash = text.lastIndexOf('-', first.range[0] - 1)
  if (dash < lineStart) return undefined
  return appendLines(text, node.range[1], dash - lineStart, blockText([value], style), eol)
}

/**
 * The length of the path's prefix that ends at a key with nothing under it (YAML null: `alerting:`, `~`, `null`)
 * while the path goes on into it by a key: that null is read as an empty mapping (as the loader reads it) and
 * filled in. Undefined when there is none (a null followed by a list index stays a value in the way).
 */
function nullOnTheWay(doc: Document, segs: (string | number)[]): number | undefined {
  for (let i = 1; i < segs.length; i++) {
    const node = doc.getIn(segs.slice(0, i), true)
    if (node === undefined) return undefined
    if (yaml().isCollection(node)) continue
    return yaml().isScalar(node) && node.value === null && typeof segs[i] === 'string' ? i : undefined
  }
  return undefined
}

/**
 * A null (`alerting:`, `alerting: ~  # to be filled`) filled in with the rest of the path and the value by
 * inserting text only: in a block mapping, the null's own text (`~`, `null`) is taken out and the new lines follow
 * the key's line, indented as the file indents a mapping under a key (indentationOf); in a flow mapping, the
 * null's text becomes `{key: value}`. Undefined otherwise (the Document API writes it).
 */
function fillNull(
  doc: Document,
  text: string,
  at: (string | number)[],
  node: Scalar,
  rest: (string | number)[],
  value: unknown,
  style: Indentation,
): string | undefined {
  if (!node.range || node.anchor || node.tag) return undefined
  let entry: unknown = value
  for (const k of [...rest].reverse()) {
    if (typeof k === 'string') entry = {[k]: entry}
    else if (k === 0) entry = [entry]
    else return undefined
  }
  const parent = at.length === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true)
  if (!yaml().isMap(parent)) return undefined
  const key = parent.items.find((pair) => pair.value === node)?.key
  if (!yaml().isNode(key) || !key.range) return undefined
  const [from, to] = node.range
  if (parent.flow) {
    const flow = yaml().stringify(entry, {collectionStyle: 'flow', lineWidth: 0, flowCollectionPadding: false}).trim()
    return `${text.slice(0, from)}${from === to && text[from - 1] !== ' ' ? ' ' : ''}${flow}${text.slice(to)}`
  }
  // the null on the key's own line, e.g. not `alerting:\n  ~`
  if (text.slice(key.range[1], from).includes('\n')) return undefined
  let start = from
  if (to > from) while (text[start - 1] === ' ') start--
  const nl = text.indexOf('\n', to)
  const lineEnd = nl === -1 ? text.length : nl + 1
  const without = text.slice(0, start) + text.slice(to)
  return appendLines(without, lineEnd - (to - start), columnOf(text, key.range[0]) + style.indent, blockText(entry, style), eolOf(text))
}

/** `lines` (block YAML ending in \n), indented by `indent` columns, inserted at `end` (a block collection's end). */
function appendLines(text: string, at: number, indent: number, lines: string, eol: string): string {
  // a collection followed by comment lines ends at the next line's indentation: its lines go before that line
  const lineStart = text.lastIndexOf('\n', at - 1) + 1
  const end = text.slice(lineStart, at).trim() === '' ? lineStart : at
  const pad = ' '.repeat(indent)
  const body = lines
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => pad + l)
    .join(eol)
  // a block collection's range ends after its last line's line ending; at the end of a text without one, add it
  const lead = end > 0 && text[end - 1] === '\n' ? '' : eol
  return `${text.slice(0, end)}${lead}${body}${eol}${text.slice(end)}`
}

/**
 * A value as block YAML indented as the file is (`style`), its lists of plain values in flow style as the inventory
 * writes them (`roles: [control-plane, worker]`).
 */
function blockText(value: unknown, style: Indentation): string {
  const d = new (yaml().Document)(value)
  yaml().visit(d, {
    Seq(_, n) {
      if (n.items.every((it) => yaml().isScalar(it))) n.flow = true
    },
  })
  // the top list (a new list item) stays block
  if (yaml().isSeq(d.contents)) d.contents.flow = false
  return d.toString({lineWidth: 0, flowCollectionPadding: false, ...style})
}

/** The column (0-based) of an offset in its line. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

/**
 * A value (a scalar) on the way of PATH cannot hold a field: `retention.prometheus.x` when retention.prometheus is
 * `6h`. Exit 2 naming the value and where it is, instead of the yaml library's "Expected YAML collection".
 */
function refuseValueInTheWay(doc: Document, text: string, segs: (string | number)[], rawPath: string, file?: string): void {
  const empty = nullOnTheWay(doc, segs)
  for (let i = 1; i < segs.length; i++) {
    const node = doc.getIn(segs.slice(0, i), true)
    if (node === undefined || yaml().isCollection(node) || i === empty) continue
    const at = yaml().isNode(node) && node.range ? node.range[0] : undefined
    const where = at === undefined ? '' : ` at ${file ? `${file}:` : 'line '}${lineColumn(text, at)}`
    const shown = yaml().isScalar(node) ? JSON.stringify(node.value ?? null) : 'a value'
    const parent = formatPath(segs.slice(0, i))
    throw inputError(
      `cannot set ${rawPath}: ${parent}${where} is a value (${shown}), not a mapping that can hold ${formatPath(segs.slice(i))}`,
      [`set ${parent} itself (obsctl config set ${parent} VALUE), or check the path: obsctl config explain ${parent}`],
      'BAD_PATH',
    )
  }
}

/** `line:column` (1-based) of an offset in text. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const nl = before.lastIndexOf('\n')
  return `${before.split('\n').length}:${offset - nl}`
}

/**
 * The inventory text with PATH set to VALUE (given as on the command line), not validated
 * (setInventoryValue validates it before writing).
 */
export function editInventoryText(
  inv: LoadedInventory,
  rawPath: string,
  rawValue: string,
): {segs: (string | number)[]; written: unknown; value: unknown; after: string} {
  const value = parseValue(rawValue, rawPath)
  return {...setInventoryText(inv.text, rawPath, value, inv.file), value}
}

/** `config set PATH VALUE`. */
export async function setInventoryValue(
  inv: LoadedInventory,
  rawPath: string,
  rawValue: string,
  opts: {dryRun?: boolean; allowOvercommit?: boolean; origin?: Pick<EditOrigin, 'what' | 'flagOf'>} = {},
): Promise<EditResult & {path: string; value: unknown; previous: unknown; previousIsDefault?: boolean}> {
  const {segs, written, value, after} = editInventoryText(inv, rawPath, rawValue)
  // not in the file: the value in effect is the schema's default
  const fallback =
    written === undefined && !inv.mended
      ? segs.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[String(k)] : undefined), inv.platform)
      : undefined
  const previous = written ?? fallback
  // a command that edits for its flags (node add, upgrade chart) names them instead of the config set it amounts to
  const r = await commit(inv, after, opts, {what: `config set ${rawPath} ${rawValue}`, at: segs, ...opts.origin})
  return {
    ...r,
    path: rawPath,
    value,
    previous: previous && typeof previous === 'object' && 'toJSON' in previous ? (previous as {toJSON(): unknown}).toJSON() : previous,
    ...(written === undefined && fallback !== undefined ? {previousIsDefault: true} : {}),
  }
}

/**
 * Remove one entry (a list item or a key) from the inventory, e.g. `clusters.cluster-02.nodes[1]` (`node remove`),
 * `clusters.cluster-02.kubernetes` (`upgrade kubernetes`): only the entry's lines go (withoutEntry), every other
 * byte stays, when the text that leaves reads back as exactly the document without the entry; else the yaml
 * Document API writes the whole text, keeping its line endings and byte-order mark.
 */
export async function removeInventoryValue(
  inv: LoadedInventory,
  rawPath: string,
  opts: {dryRun?: boolean; allowOvercommit?: boolean} = {},
): Promise<EditResult & {path: string}> {
  const doc = cloneDoc(inv)
  const segs = resolvePath(doc, rawPath)
  if (!doc.hasIn(segs)) throw inputError(`${rawPath} is not in ${inv.file}`, [], 'NOT_FOUND')
  const lines = withoutEntry(doc, inv.text, segs)
  doc.deleteIn(segs)
  const whole = documentText(doc, inv.text)
  const after = lines !== undefined && sameData(lines, whole) ? lines : whole
  return {...(await commit(inv, after, opts, {what: `remove ${rawPath}`, at: segs.slice(0, -1)})), path: rawPath}
}

/**
 * TEXT without the lines of the entry at PATH — an item of a block list from its `-`, or a key of a block mapping —
 * through the end of its last line, with the comment lines inside its block below it (indented deeper than its `-` or
 * key) and the comment lines directly above it at its own column (no blank line between: they describe it, and the
 * yaml document keeps them as the entry's own comment). A comment after a blank line, or at another column, stays;
 * when the entry had a blank line on each side, one of them goes too. Undefined when the entry does not begin its
 * own line (`- name: x`'s first key) or is in a flow collection: the caller writes the whole text then.
 */
function withoutEntry(doc: Document, text: string, segs: (string | number)[]): string | undefined {
  const parent = segs.length === 1 ? doc.contents : doc.getIn(segs.slice(0, -1), true)
  const last = segs.at(-1)
  let start: number
  let end: number
  if (yaml().isSeq(parent) && !parent.flow && typeof last === 'number') {
    const item = parent.items[last]
    if (!yaml().isNode(item) || !item.range) return undefined
    start = item.range[0] - 1
    while (start >= 0 && /\s/.test(text[start]!)) start--
    if (text[start] !== '-') return undefined
    end = item.range[1]
  } else if (yaml().isMap(parent) && !parent.flow) {
    const pair = parent.items.find((p) => (yaml().isScalar(p.key) ? p.key.value : p.key) === last)
    if (!pair || !yaml().isNode(pair.key) || !pair.key.range) return undefined
    start = pair.key.range[0]
    end = Math.max(pair.key.range[1], yaml().isNode(pair.value) && pair.value.range ? pair.value.range[1] : 0)
  } else return undefined
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1
  const nextLine = (at: number) => (text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at) + 1)
  const column = columnOf(text, start)
  if (text.slice(lineStart(start), start).trim() !== '') return undefined
  const indent = (line: string) => line.length - line.trimStart().length
  const isComment = (line: string) => line.trimStart().startsWith('#')
  const isBlank = (line: string) => line.trim() === ''
  let from = lineStart(start)
  let to = nextLine(end - 1)
  for (let prev = from > 0 ? lineStart(from - 1) : from; from > 0; prev = from > 0 ? lineStart(from - 1) : from) {
    const line = text.slice(prev, from)
    if (!isComment(line) || indent(line) !== column) break
    from = prev
  }
  while (to < text.length) {
    const line = text.slice(to, nextLine(to))
    if (!isComment(line) || indent(line) <= column) break
    to = nextLine(to)
  }
  if (from > 0 && to < text.length && isBlank(text.slice(lineStart(from - 1), from)) && isBlank(text.slice(to, nextLine(to)))) to = nextLine(to)
  return text.slice(0, from) + text.slice(to)
}

export interface NewCluster {
  name: string
  id?: string
  role: 'central' | 'edge'
  metrics?: 'remote-scrape' | 'agent'
  hosts: string[]
  /** Kubernetes node names, by position with hosts (a host without one is named by its host) */
  names?: string[]
  user?: string
  port?: number
  cpu: string
  memory: string
  apiServer?: string
}

/** Append a cluster (comments and order of the rest preserved). */
export async function addClusterToInventory(
  inv: LoadedInventory,
  c: NewCluster,
  opts: {dryRun?: boolean; allowOvercommit?: boolean} = {},
): Promise<EditResult> {
  if (inv.platform.clusters.some((x) => x.name === c.name))
    throw inputError(`cluster ${c.name} is already in ${inv.file}`, ['pick another name, or obsctl cluster remove it first'], 'EXISTS')
  const doc = cloneDoc(inv)
  const used = new Set(inv.platform.clusters.map((x) => x.id))
  const fromName = /(\d{2,3})$/.exec(c.name)?.[1]
  let id = c.id ?? (fromName && !used.has(fromName) ? fromName : undefined)
  for (let n = 1; !id; n++) if (!used.has(String(n).padStart(2, '0'))) id = String(n).padStart(2, '0')
  const entry: Record<string, unknown> = {name: c.name, id, role: c.role}
  if (c.role === 'edge') entry.metrics = c.metrics ?? 'remote-scrape'
  entry.apiServer = c.apiServer ?? `https://${urlHost(c.hosts[0]!)}:6443`
  entry.nodes = c.hosts.map((host, i) => {
    const n: Record<string, unknown> = {host}
    if (c.names?.[i]) n.name = c.names[i]
    if (c.port) n.port = c.port
    if (c.user) n.user = c.user
    n.roles = i === 0 ? ['control-plane', 'worker'] : ['worker']
    n.cpu = c.cpu
    n.memory = c.memory
    return n
  })
  const seq = doc.get('clusters', true)
  if (!yaml().isSeq(seq) || !seq.range || seq.flow) throw inputError(`${inv.file} has no block-style clusters list`, [], 'CONFIG_INVALID')
  // append the new entry's text after the last cluster, indented like the existing items
  const first = seq.items[0] as {range?: [number, number, number]} | undefined
  const lineStart = inv.text.lastIndexOf('\n', (first?.range?.[0] ?? seq.range[0]) - 1) + 1
  const indent = ' '.repeat(Math.max(0, inv.text.slice(lineStart).search(/-/)))
  const body = yaml()
    .stringify([entry], {lineWidth: 0, flowCollectionPadding: false, collectionStyle: 'block', ...indentationOf(doc, inv.text)})
    .replace(/roles:\n(\s+- .+\n)+/g, (m) => `roles: [${[...m.matchAll(/- (.+)\n/g)].map((x) => x[1]).join(', ')}]\n`)
  const block = body
    .trimEnd()
    .split('\n')
    .map((l) => indent + l)
    .join('\n')
  const end = seq.range[1]
  const before = inv.text.slice(0, end).replace(/\n*$/, '\n')
  const after = `${before}${block}\n${inv.text.slice(end).replace(/^\n*/, '')}`
  const index = inv.platform.clusters.length
  const flagOf = (p: FieldPath, finding?: string): string | undefined => {
    if (p[0] !== 'clusters' || p[1] !== index) return undefined
    const f = p[2]
    if (f === 'nodes' && typeof p[3] === 'number') {
      const leaf = p[4]
      if (leaf === 'name') return `--node-name ${c.names?.[p[3]] ?? ''}`.trim()
      // lint's node-name: a host that is no node name (an IPv6 address, an upper-case name) and no name for it
      if (finding === 'node-name') return `--host ${c.hosts[p[3]] ?? ''} (name that node with --node-name, in --host order)`
      if (leaf === 'host' || leaf === undefined) return `--host ${c.hosts[p[3]] ?? ''}`.trim()
      if (leaf === 'port') return `--port ${c.port}`
      if (leaf === 'user') return `--user ${c.user}`
      if (leaf === 'cpu') return `--cpu ${c.cpu}`
      if (leaf === 'memory') return `--memory ${c.memory}`
      return `--host ${c.hosts[p[3]] ?? ''}`.trim()
    }
    if (f === 'name') return `NAME ${c.name}`
    if (f === 'apiServer') return c.apiServer ? `--api-server ${c.apiServer}` : `--host ${c.hosts[0]} (API server https://${urlHost(c.hosts[0]!)}:6443)`
    if (f === 'metrics') return `--metrics ${c.metrics ?? 'remote-scrape'}`
    if (f === 'id') return `NAME ${c.name} (id ${id})`
    return `cluster ${c.name}`
  }
  return commit(inv, after, opts, {what: `cluster add ${c.name}`, at: ['clusters'], flagOf})
}

/** Remove a cluster from the inventory. */
export async function removeClusterFromInventory(
  inv: LoadedInventory,
  name: string,
  opts: {dryRun?: boolean; allowOvercommit?: boolean} = {},
): Promise<EditResult> {
  const doc = cloneDoc(inv)
  const seq = doc.get('clusters')
  const idx = yaml().isSeq(seq) ? seq.items.findIndex((it) => yaml().isMap(it) && it.get('name') === name) : -1
  if (idx < 0) throw inputError(`no cluster ${name} in ${inv.file}`, ['obsctl cluster list shows the clusters'], 'NOT_FOUND')
  if (inv.platform.clusters[idx]!.role === 'central') throw inputError(`${name} is the central cluster; it cannot be removed`, [], 'CENTRAL')
  const item = (seq as {items: {range?: [number, number, number]}[]}).items[idx]!
  const next = (seq as {items: {range?: [number, number, number]}[]}).items[idx + 1]
  const start = inv.text.lastIndexOf('\n', item.range![0]) + 1
  const stop = next ? inv.text.lastIndexOf('\n', next.range![0]) + 1 : item.range![2]
  const after = inv.text.slice(0, start) + inv.text.slice(stop)
  return commit(inv, after, opts, {what: `cluster remove ${name}`, at: ['clusters', idx]})
}
