/**
 * The kubeconfig editor: every change goes through the yaml library's Document API (`setIn`, `addIn`,
 * `deleteIn` on the document `parseDocument` read), so the user's comments, quoting, key order and
 * other entries are kept by the library, and new entries are printed in the style the file already
 * uses (kubectl's column-0 list items or indented ones, its indent, JSON stays JSON).
 *
 * `Document.toString()` normalises a little whitespace (measured with yaml 2.9: `value   # comment`
 * becomes `value # comment`, `{ token: abc }` becomes `{token: abc}`). So the printed document is lined
 * up with the original with the shared diff library (jsdiff's `diffArrays`) and a line that differs
 * only in that whitespace keeps its original bytes. The planner and the remover then check that the
 * result parses to exactly the intended object before anything is written.
 */
import type {Document, Node as YamlNode} from 'yaml'
import {yaml} from '../../lazy-deps.js'
import {diffArrays} from '../../diff.js'
import type {Obj, SectionKey} from './parse.js'

/** How a kubeconfig file is written, read from its text so edits print the same way. */
export interface KubeconfigStyle {
  /** a JSON file (flow mapping at the top): printed back as JSON */
  json: boolean
  /** spaces per level (YAML) or JSON.stringify's indent (0: one line) */
  indent: number
  /** list items indented under their key (`clusters:\n  - name:`), not kubectl's column 0 */
  indentSeq: boolean
  /** `{ a: 1 }` rather than `{a: 1}` */
  flowPadding: boolean
}

export function detectStyle(text: string, doc: Document): KubeconfigStyle {
  const root = doc.contents
  if (yaml().isMap(root) && root.flow) {
    const m = text.match(/\n([ \t]+)\S/)
    return {json: true, indent: m ? m[1]!.length : 0, indentSeq: false, flowPadding: false}
  }
  // the first list item of a top-level section: at column 0 (kubectl) or indented
  const item = text.match(/^(?:clusters|users|contexts):[^\n]*\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]*)- /m)
  const indentSeq = Boolean(item && item[1]!.length > 0)
  // the indent of the first nested key under a top-level key
  const nested = text.match(/^[A-Za-z-]+:[ \t]*\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]+)(?:- )?[A-Za-z"']/m)
  const indent = item && item[1]!.length > 0 ? item[1]!.length : nested ? nested[1]!.length : 2
  return {json: false, indent: Math.max(1, indent), indentSeq, flowPadding: /[{[] \S/.test(text)}
}

/** The position of the entry named `name` in a section (-1: none). */
export function entryIndex(doc: Document, section: SectionKey, name: string): number {
  const seq = doc.get(section, true)
  if (!yaml().isSeq(seq)) return -1
  return seq.items.findIndex((it) => yaml().isMap(it) && it.get('name') === name)
}

/**
 * Set the entry `value` (its `name` picks it) in a section: replace the entry of that name in place
 * (its comments kept), or append it; a missing, null or empty section becomes a list.
 */
export function setEntry(doc: Document, section: SectionKey, value: {name: string} & Obj): 'replaced' | 'added' {
  const node = doc.createNode(value) as YamlNode
  const i = entryIndex(doc, section, value.name)
  if (i >= 0) {
    const old = doc.getIn([section, i], true) as YamlNode
    node.commentBefore = old.commentBefore
    node.comment = old.comment
    node.spaceBefore = old.spaceBefore
    doc.setIn([section, i], node)
    return 'replaced'
  }
  const seq = doc.get(section, true)
  if (yaml().isSeq(seq) && (seq.items.length > 0 || !seq.flow)) {
    doc.addIn([section], node)
    return 'added'
  }
  // missing, `section:` (null) or `section: []`: a block list (the key and its comments stay)
  const list = doc.createNode([value]) as YamlNode
  if (seq && (yaml().isSeq(seq) || yaml().isScalar(seq))) list.comment = (seq as YamlNode).comment
  doc.set(section, list)
  return 'added'
}

/** Delete the entries named `name` from a section; how many were deleted. */
export function deleteEntry(doc: Document, section: SectionKey, name: string): number {
  let n = 0
  for (let i = entryIndex(doc, section, name); i >= 0; i = entryIndex(doc, section, name)) {
    doc.deleteIn([section, i])
    n++
  }
  return n
}

/** Set `current-context` (a comment on its line stays). */
export function setCurrentContext(doc: Document, name: string): void {
  const node = doc.get('current-context', true)
  if (yaml().isScalar(node)) node.value = name
  else doc.set('current-context', name)
}

/** Print an edited document in the file's style; lines the edit did not touch keep their bytes. */
export function printDocument(doc: Document, before: string, style: KubeconfigStyle): string {
  if (style.json) {
    const out = JSON.stringify(doc.toJS(), null, style.indent)
    return before.endsWith('\n') ? `${out}\n` : out
  }
  const printed = doc.toString({indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: style.flowPadding})
  return keepOriginalLines(before, printed)
}

/** Whitespace inside a line (not its indentation) and at its end does not count. */
const normalise = (line: string) => {
  const lead = line.match(/^[ \t]*/)![0]
  return (
    lead +
    line
      .slice(lead.length)
      .replace(/[ \t]+$/, '')
      .replace(/[ \t]+/g, ' ')
      .replace(/([{[]) /g, '$1')
      .replace(/ ([}\]])/g, '$1')
  )
}

/**
 * `after`, where each line equal (but for whitespace) to one of `before` in the same order is `before`'s
 * line, and without the blank lines `before` did not have.
 */
export function keepOriginalLines(before: string, after: string): string {
  const a = before.split('\n')
  const b = after.split('\n')
  const out: string[] = []
  let i = 0
  let j = 0
  for (const part of diffArrays(a.map(normalise), b.map(normalise))) {
    const n = part.count ?? part.value.length
    if (part.added) {
      // the printer's own blank lines (before a document's closing comment) were not the user's
      out.push(...b.slice(j, j + n).filter((l) => l.trim() !== ''))
      j += n
    } else if (part.removed) {
      i += n
    } else {
      out.push(...a.slice(i, i + n))
      i += n
      j += n
    }
  }
  return out.join('\n')
}
