/**
 * The kubeconfig editor: entries are replaced or appended by splicing the file's text at the byte
 * ranges the yaml library's Document API reports, so every other cluster, user, context, comment and
 * quirk of formatting stays byte for byte (the merge and remove tests pin this). A round trip through
 * `Document.toString()` does not: measured with yaml 2.9, it turns `value   # comment` into
 * `value # comment` and `{token: abc}` into `{ token: abc }`. New entries are printed by the yaml
 * library, in the style of the list they join (kubectl's column-0 items, indented items, or JSON).
 */
import YAML, {type Node as YamlNode, type YAMLMap, type YAMLSeq} from 'yaml'
import type {Obj, SectionKey} from './parse.js'

export interface Splice {
  start: number
  end: number
  text: string
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

export function replaceItem(text: string, node: YamlNode, value: Obj, flow: boolean): Splice {
  const [start, end] = node.range!
  if (flow) return {start, end, text: JSON.stringify(value)}
  const col = columnOf(text, start)
  const trailing = text.slice(start, end).endsWith('\n') ? '\n' : ''
  return {start, end, text: blockEntry(value, col) + trailing}
}

export function appendItems(text: string, seq: YAMLSeq, values: Obj[], json: boolean): Splice {
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
export function setSection(text: string, root: YAMLMap, key: SectionKey, pair: {key: YamlNode; value: YamlNode | null} | undefined, values: Obj[], json: boolean): Splice {
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

export function setScalar(text: string, root: YAMLMap, key: string, pair: {key: YamlNode; value: YamlNode | null} | undefined, value: string, json: boolean): Splice {
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

export function applySplices(text: string, splices: Splice[]): string {
  // apply from the end so earlier offsets stay valid; same-offset inserts keep their order
  const ordered = splices.map((s, i) => ({...s, i})).sort((a, b) => b.start - a.start || b.i - a.i)
  let out = text
  for (const s of ordered) out = out.slice(0, s.start) + s.text + out.slice(s.end)
  return out
}
