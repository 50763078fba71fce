/**
 * The inventory's data, read fast (issue 18): the yaml library builds a whole document (every node, its
 * range, comments) before it gives the values, ~0.8 s of CPU for a 1,000-cluster inventory; js-yaml reads the
 * same text straight into values in ~0.11 s. So a large inventory's values (FAST_READ_MIN in ./load.ts) come
 * from js-yaml, and the yaml document is parsed only when something asks for it (a position for a finding,
 * an edit) or when js-yaml refuses the text — then the yaml library parses it and says where and why.
 *
 * Both must read a text into the same values. js-yaml is given the YAML 1.2 core schema exactly as the yaml
 * library resolves plain scalars (its src/schema/core: null, bool, int in base 10 / 0o / 0x, float with .inf
 * and .nan; js-yaml's own int also reads 0b and signed hex, and its float no signed `.5`), and a text is left
 * to the yaml library where the two differ in other ways:
 *  - anchors (`&name`): the yaml library limits how far aliases expand (maxAliasCount, the "billion laughs"
 *    guard, and says where); js-yaml has no limit. Without an anchor an alias is an error in both.
 *  - `%` directives: `%YAML 1.1` switches the yaml library to the 1.1 schema; js-yaml keeps its own.
 *  - null keys (`~:`, `null:`, an empty key): the yaml library names them "", js-yaml "null".
 *  - explicit keys (`? key`), and a sequence entry holding only an empty nested entry (`- -`), which js-yaml
 *    reads into a different shape when more entries follow.
 * Everything js-yaml refuses (duplicate keys, several documents, tags it does not know) goes to the yaml
 * library. test/config/plain-yaml.test.ts reads every inventory of the tests, the examples and a table of
 * scalars both ways and compares the values.
 */
import {createRequire} from 'node:module'
import type JsYaml from 'js-yaml'

// js-yaml is CommonJS, required from node_modules on the first parse (commands whose inventory parse is read
// from the derived cache never load it); the bundle's own copy sits in client-node's chunk (bin/bundle.mjs)
let lib: {jsyaml: typeof JsYaml; schema: JsYaml.Schema} | undefined

function load() {
  if (lib) return lib
  const jsyaml = createRequire(import.meta.url)('js-yaml') as typeof JsYaml
  // the yaml library's core schema (node_modules/yaml/dist/schema/{common/null,core/bool,core/int,core/float}.js),
  // tried in its order; a quoted scalar is a string in both, only plain ones are resolved
  const scalar = (tag: string, test: RegExp, construct: (s: string) => unknown) =>
    new jsyaml.Type(tag, {kind: 'scalar', resolve: (s: string | null) => test.test(s ?? ''), construct})
  // one type per tag (js-yaml keeps the last of several with one tag), each trying the yaml library's forms in its order
  const int = new jsyaml.Type('tag:yaml.org,2002:int', {
    kind: 'scalar',
    resolve: (s: string | null) => s !== null && (OCT.test(s) || DEC.test(s) || HEX.test(s)),
    construct: (s: string) => (OCT.test(s) ? Number.parseInt(s.slice(2), 8) : HEX.test(s) ? Number.parseInt(s.slice(2), 16) : Number.parseInt(s, 10)),
  })
  const float = new jsyaml.Type('tag:yaml.org,2002:float', {
    kind: 'scalar',
    resolve: (s: string | null) => s !== null && (NAN_INF.test(s) || EXP.test(s) || FRACTION.test(s)),
    construct: (s: string) => (NAN_INF.test(s) ? (/n$/i.test(s) ? Number.NaN : s.startsWith('-') ? -Infinity : Infinity) : Number.parseFloat(s)),
  })
  const schema = jsyaml.FAILSAFE_SCHEMA.extend({
    implicit: [
      scalar('tag:yaml.org,2002:null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
      scalar('tag:yaml.org,2002:bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
      int,
      float,
    ],
  })
  return (lib = {jsyaml, schema})
}

const OCT = /^0o[0-7]+$/
const DEC = /^[-+]?[0-9]+$/
const HEX = /^0x[0-9a-fA-F]+$/
const NAN_INF = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FRACTION = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/**
 * Texts left to the yaml library: an anchor or an explicit key (`? `) at the start of a token, a directive line,
 * a null key, a sequence entry whose nested entry is empty (`- -`: js-yaml puts the next entries in the
 * nested sequence, the yaml library after it). (The null key's spaces before the colon are matched once: two runs of
 * `[\t ]*` side by side tried every split of a line of spaces, quadratic in its length.)
 */
const NOT_PLAIN = /(?:^|[\s[{,])(?:&[^\s,[\]{}]|\?(?:[\t ]|$))|^%|^[\t ]*(?:-[\t ]+)*(?:(?:~|null|Null|NULL)[\t ]*)?:(?:[\t ]|$)|^[\t ]*-(?:[\t ]+-)+[\t ]*$/m

/**
 * The values of a YAML text, as the yaml library's `parseDocument(text).toJS()` gives them; undefined when the
 * text is not one for this reader (see above) or js-yaml refuses it: the caller parses it with the yaml library.
 */
export function readPlainYaml(text: string): {data: unknown} | undefined {
  return read(text)
}

/** js-yaml's read of a text for this reader (its listener told each node it opens and closes, if given) */
function read(text: string, listener?: JsYaml.LoadOptions['listener']): {data: unknown} | undefined {
  if (NOT_PLAIN.test(text)) return undefined
  const {jsyaml, schema} = load()
  try {
    const data = jsyaml.load(text, {schema, json: false, listener})
    // an empty text: the yaml library gives null, js-yaml undefined
    return {data: data === undefined ? null : data}
  } catch {
    return undefined
  }
}

/** a node js-yaml read: where it opened, its kind and value, and the nodes read inside it */
interface Frame {
  at: number
  kind: string | null
  result: unknown
  children: Frame[]
}

/**
 * Where the fields of a text readPlainYaml reads are, as the yaml library's document would say (the offset its
 * node's range starts at: a key at its first character, a value at its content after blanks, line breaks and
 * comments, an empty value after the blanks that follow its colon), found by reading the text again with
 * js-yaml, which reports where each node it reads opens (its `listener`). A field that is not there is found
 * at its nearest ancestor, as the document's lookup does. Undefined when the text is not one for readPlainYaml,
 * or the nodes do not line up with the values read (a flow mapping entry without a value, a pair in a flow
 * sequence): the caller asks the yaml library's document then.
 * test/config/plain-yaml.test.ts compares both on every field of the texts it reads.
 */
export function plainYamlOffsets(text: string): ((p: ReadonlyArray<string | number>, key: boolean) => number | undefined) | undefined {
  const root: Frame = {at: 0, kind: null, result: undefined, children: []}
  const stack: Frame[] = [root]
  const values = read(text, (event, state) => {
    if (event === 'open') {
      const frame: Frame = {at: state.position, kind: null, result: undefined, children: []}
      stack.at(-1)!.children.push(frame)
      stack.push(frame)
    } else {
      const frame = stack.pop()!
      frame.kind = state.kind
      frame.result = state.result
    }
  })
  if (!values) return undefined
  // js-yaml drops a byte order mark before it counts
  const shift = text.startsWith('\uFEFF') ? 1 : 0
  const doc = root.children[0]
  if (!doc) return undefined
  const blank = (at: number, lineBreaks: boolean) => {
    for (;;) {
      const ch = text[at]
      if (ch === ' ' || ch === '\t') at++
      else if (lineBreaks && (ch === '\n' || ch === '\r')) at++
      else if (lineBreaks && ch === '#') while (at < text.length && text[at] !== '\n') at++
      else return at
    }
  }
  const valueAt = (f: Frame) => blank(f.at + shift, f.kind !== null)
  return (p, key) => {
    let cur = doc
    let found = valueAt(doc)
    for (let i = 0; i < p.length; i++) {
      const seg = p[i]!
      if (cur.kind === 'mapping') {
        const pairs = cur.children
        if (pairs.length !== 2 * Object.keys(cur.result as object).length) return undefined
        let k = -1
        for (let j = 0; j < pairs.length; j += 2) if (pairs[j]!.kind === 'scalar' && String(pairs[j]!.result) === seg) k = j
        if (k < 0) return found
        if (i === p.length - 1 && key) return pairs[k]!.at + shift
        cur = pairs[k + 1]!
        found = valueAt(cur)
      } else if (cur.kind === 'sequence') {
        if (cur.children.length !== (cur.result as unknown[]).length) return undefined
        const item = typeof seg === 'number' ? cur.children[seg] : undefined
        if (!item || item.kind === null) return found
        cur = item
        found = valueAt(cur)
      } else return found
    }
    return found
  }
}
