/**
 * The fast reader of inventory values (src/lib/config/plain-yaml.ts, js-yaml with the YAML 1.2 core schema)
 * must give exactly what the yaml library's parseDocument(text).toJS() gives — the reader every error message
 * and edit still uses — or step aside. Compared here: the inventories obsctl writes (the example, a fleet of
 * clusters), a text using the YAML syntax a hand-written inventory may use (block and flow collections, block
 * scalars, quoting and escapes, CRLF line ends, a byte order mark), and a table of plain scalars where YAML
 * 1.1 readers, js-yaml's own core schema and YAML 1.2 disagree. The texts the reader leaves to the yaml
 * library are checked to be left, and parseInventory still reports their problems with file:line:column.
 */
import {parseDocument, stringify} from 'yaml'
import {describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {documentOffset, FAST_READ_MIN} from '../../src/lib/config/load.js'
import {plainYamlOffsets, readPlainYaml} from '../../src/lib/config/plain-yaml.js'
import {isObsctlError} from '../../src/lib/errors.js'

const yamlLibrary = (text: string) => parseDocument(text, {uniqueKeys: true, prettyErrors: false}).toJS({maxAliasCount: 100}) as unknown

function fleet(n: number): string {
  const clusters = Array.from({length: n}, (_, i) => ({
    name: `cluster-${String(i + 1).padStart(3, '0')}`,
    id: String(i + 1).padStart(3, '0'),
    role: i === 0 ? ('central' as const) : ('edge' as const),
    metrics: i === 0 ? undefined : i % 2 === 0 ? ('agent' as const) : ('remote-scrape' as const),
    hosts: i === 0 ? ['172.19.0.1', '172.19.0.2', '172.19.0.3'] : [`172.20.0.${i + 2}`],
    cpu: '16',
    memory: '64Gi',
    loadBalancerIPs: [`172.16.${i}.10-172.16.${i}.14`],
  }))
  return renderInventoryYaml({...EXAMPLE_ANSWERS, clusters})
}

const HAND_WRITTEN = `# a hand-written file: every construct below is plain YAML an inventory may use
apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain:   lab.example   # trailing comment
flow: {a: 1, b: [x, "y", 'z'], c: {d: null}}
seq:
- one
-   two
- - nested
  - list
-
  key: value
  other: 'it''s'
quoted: "tab\\there \\u00e9 \\x41 \\"q\\" \\\\ end"
single: 'no \\n escape'
literal: |
  line one
    indented
  line three
literal_keep: |+
  kept

folded: >
  folded
  into one

  paragraph
folded_strip: >-
  stripped
multi_plain: this plain
  scalar spans
  lines
colon_in_value: http://host:8080/path?a=b
hash_in_value: a#b
dash: -not-a-list
empty:
empty_quoted: ""
unicode: "café ☃"
indented_seq:
  - a: 1
    b: 2
  - c: 3
"quoted key": 1
'single key': 2
`

const SCALARS: Array<[string, string]> = [
  // the YAML 1.2 core schema as the yaml library reads it
  ['int', '42'],
  ['signed', '+42'],
  ['negative', '-42'],
  ['zero', '0'],
  ['leading zero', '010'],
  ['octal', '0o17'],
  ['hex', '0x1F'],
  ['big', '123456789012345678901234567890'],
  ['float', '1.5'],
  ['float trailing dot', '1.'],
  ['float leading dot', '.5'],
  ['signed leading dot', '-.5'],
  ['exp', '1e3'],
  ['exp signed', '-1.5E-3'],
  ['inf', '.inf'],
  ['neg inf', '-.Inf'],
  ['nan', '.NaN'],
  ['true', 'true'],
  ['True', 'True'],
  ['FALSE', 'FALSE'],
  ['null', 'null'],
  ['tilde', '~'],
  ['Null', 'Null'],
  // where YAML 1.1, js-yaml's own schema or the yaml library's other schemas read these differently
  ['yes', 'yes'],
  ['on', 'on'],
  ['y', 'y'],
  ['binary', '0b101'],
  ['signed hex', '-0x1F'],
  ['signed octal', '+0o17'],
  ['underscores', '1_000'],
  ['sexagesimal', '1:30'],
  ['date', '2026-12-03'],
  ['timestamp', '2026-12-03T10:00:00Z'],
  ['version', '1.30'],
  ['version three', '1.30.2'],
  ['merge-looking', '<<'],
  ['equals', '='],
  ['tRUE', 'tRUE'],
  ['nULL', 'nULL'],
  ['dot', '.'],
  ['sign only', '-'],
  ['hex upper X', '0X1F'],
]

describe('the fast inventory reader gives what the yaml library gives', () => {
  const texts: Array<[string, string]> = [
    ['the example inventory', renderInventoryYaml(EXAMPLE_ANSWERS)],
    ['a fleet of 60 clusters', fleet(60)],
    ['a hand-written file', HAND_WRITTEN],
    ['CRLF line ends', HAND_WRITTEN.replaceAll('\n', '\r\n')],
    ['a byte order mark', `\uFEFF${HAND_WRITTEN}`],
    [
      'plain scalars',
      SCALARS.filter(([, v]) => v !== '-')
        .map(([k, v]) => `${JSON.stringify(k)}: ${v}`)
        .join('\n'),
    ],
    [
      'plain scalars in a flow sequence',
      `s: [${SCALARS.filter(([, v]) => v !== '-')
        .map(([, v]) => v)
        .join(', ')}]`,
    ],
    [
      'plain scalars in a block sequence',
      SCALARS.filter(([, v]) => v !== '-')
        .map(([, v]) => `- ${v}`)
        .join('\n'),
    ],
    ['quoted scalars', SCALARS.map(([k, v]) => `${JSON.stringify(k)}: "${v}"\n${JSON.stringify(`${k} '`)}: '${v}'`).join('\n')],
    ['an empty text', ''],
    ['only a comment', '# nothing\n'],
  ]
  it('plain scalars as keys (each its own text: true and True, 42 and +42 are one key to both readers)', () => {
    for (const [name, v] of SCALARS) {
      if (['null', '~', 'Null'].includes(v)) continue // null keys are left to the yaml library (below)
      const text = `${v}: ${JSON.stringify(name)}\n`
      expect(readPlainYaml(text)?.data, text).toEqual(yamlLibrary(text))
    }
  })
  for (const [name, text] of texts) {
    it(name, () => {
      const plain = readPlainYaml(text)
      expect(plain, 'read by the fast reader').toBeDefined()
      expect(plain!.data).toEqual(yamlLibrary(text))
    })
  }
})

/** a seeded generator (mulberry32): the same documents on every run */
function random(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** n documents written by the yaml library from seeded random values, cycling through its output styles */
function randomDocuments(seed: number, n: number): string[] {
  // strings with what YAML treats specially: indicators, comments, colons, quotes, leading/trailing space,
  // line breaks, unicode, and texts that look like other scalars
  const PIECES = [
    'a',
    'key',
    ' ',
    ': ',
    ' #',
    '#',
    '-',
    '- ',
    '?',
    '&',
    '*',
    '!',
    '|',
    '>',
    "'",
    '"',
    '\\',
    '\n',
    '\t',
    'é',
    '☃',
    '{',
    '}',
    '[',
    ']',
    ',',
    '%',
    '@',
    '`',
    '1',
    '0x1F',
    'true',
    'null',
    '~',
    '1.5',
    '.inf',
    '<<',
    '---',
    '...',
  ]
  const rnd = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const str = () => Array.from({length: 1 + Math.floor(rnd() * 5)}, () => pick(PIECES)).join('')
  const value = (depth: number): unknown => {
    const r = rnd()
    if (depth > 3 || r < 0.45) return pick([str, str, () => Math.floor(rnd() * 1e6) - 5e5, () => rnd() * 100, () => rnd() < 0.5, () => null])()
    if (r < 0.7) return Array.from({length: Math.floor(rnd() * 4)}, () => value(depth + 1))
    return Object.fromEntries(Array.from({length: Math.floor(rnd() * 4)}, () => [str(), value(depth + 1)]))
  }
  const STYLES = [
    {},
    {indentSeq: false},
    {collectionStyle: 'flow' as const},
    {defaultStringType: 'QUOTE_DOUBLE' as const},
    {defaultStringType: 'QUOTE_SINGLE' as const},
    {defaultStringType: 'BLOCK_LITERAL' as const},
    {defaultStringType: 'BLOCK_FOLDED' as const, lineWidth: 20},
    {indent: 4, lineWidth: 0},
  ]
  return Array.from({length: n}, (_, i) => stringify({root: value(0), [`k${i}`]: value(0)}, STYLES[i % STYLES.length]))
}

describe('documents written by the yaml library in each of its styles', () => {
  it('400 random documents: the fast reader gives the same values, or leaves the text', () => {
    let read = 0
    for (const text of randomDocuments(18, 400)) {
      const expected = yamlLibrary(text)
      const plain = readPlainYaml(text)
      if (plain) {
        read++
        expect(plain.data, text).toEqual(expected)
      }
    }
    // most are read fast (the others hold an anchor-looking "&x", a "? " or a null key)
    expect(read).toBeGreaterThan(300)
  })
})

/** every field path of a value, and beneath each a key and an index that are not there */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at, [...at, 'not-there'], [...at, 99]]
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])))
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]))
  return out
}

/** positions of every field by the fast reader's second read and by the yaml library's document: [compared, left] */
function comparePositions(text: string): [number, number] {
  const offsets = plainYamlOffsets(text)
  if (!offsets) return [0, 1]
  const doc = parseDocument(text, {uniqueKeys: true})
  let compared = 0
  let left = 0
  for (const p of paths(doc.toJS())) {
    for (const key of [false, true]) {
      const fast = offsets(p, key)
      if (fast === undefined) left++
      else {
        compared++
        expect(fast, `${JSON.stringify(p)} key=${key} in\n${text}`).toBe(documentOffset(doc, p, key))
      }
    }
  }
  return [compared, left]
}

describe('positions from the fast reader are those of the yaml document', () => {
  const texts: Array<[string, string]> = [
    ['a fleet of 60 clusters', fleet(60)],
    ['a hand-written file', HAND_WRITTEN],
    ['CRLF line ends', HAND_WRITTEN.replaceAll('\n', '\r\n')],
    ['a byte order mark', `\uFEFF${HAND_WRITTEN}`],
  ]
  for (const [name, text] of texts) {
    it(name, () => {
      const [compared, left] = comparePositions(text)
      expect(left).toBe(0)
      expect(compared).toBeGreaterThan(20)
    })
  }
  it('empty values and comments (an empty sequence entry has no node in js-yaml: that sequence is left to the document)', () => {
    const [compared, left] = comparePositions('a:\nb:   \nc: # note\nd:\n\n  # x\n  e: 1\nf:\n  - \n  - x\n  -\n    y: 2\ng: [1, {h: 2}]\n')
    expect(compared).toBeGreaterThan(20)
    expect(left).toBeGreaterThan(0)
  })
  it('400 random documents in every yaml style', () => {
    let compared = 0
    for (const text of randomDocuments(7, 400)) compared += comparePositions(text)[0]
    expect(compared).toBeGreaterThan(4000)
  })
})

describe('texts the fast reader leaves to the yaml library', () => {
  const left: Array<[string, string]> = [
    ['an anchor and alias (the yaml library limits their expansion)', 'a: &x [1, 2]\nb: *x\n'],
    ['an anchor in a flow sequence', 'a: [&x 1, *x]\n'],
    ['a %YAML directive (1.1 changes the schema)', '%YAML 1.1\n---\na: yes\n'],
    ['a null key', '~: a\nb: 1\n'],
    ['an explicit key (its value line reads as an empty key here)', '? explicit\n: value\n'],
    ['a value that is a sequence indicator (both refuse it)', 'k: -\n'],
    ['an entry holding an empty nested entry, then more (js-yaml nests them)', '- -\n- b\n'],
    ['an empty key', ': a\n'],
    ['a null key in a sequence', '- null: a\n'],
    ['a null key with spaces before its colon', 'Null   : a\n'],
    ['an empty key after entries and spaces', '- -   : a\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['an unknown tag', 'a: !custom 1\n'],
    ['a tab for indentation', 'a:\n\tb: 1\n'],
    ['unterminated flow', 'a: [1, 2\n'],
  ]
  for (const [name, text] of left) {
    it(name, () => expect(readPlainYaml(text)).toBeUndefined())
  }

  it('a line of a million spaces is read as it was, at once: the null-key search tried every split of it (quadratic)', () => {
    // (hours before, well under a second now: the test's deadline is not what it measures)
    const text = `a: 1\n${' '.repeat(1 << 20)}\nb: 2\n`
    expect(readPlainYaml(text)?.data).toEqual({a: 1, b: 2})
    // and what the yaml library reads there
    expect(yamlLibrary(text)).toEqual({a: 1, b: 2})
  }, 120_000)

  it('an ampersand inside a value is read fast (only an anchor at a token start is left)', () => {
    expect(readPlainYaml('url: http://h/?a=1&b=2\n')?.data).toEqual({url: 'http://h/?a=1&b=2'})
  })

  it('parseInventory still says where a left text is wrong (file:line:column)', () => {
    const example = renderInventoryYaml(EXAMPLE_ANSWERS)
    const duplicated = example.replace(/^domain: (.*)$/m, 'domain: $1\ndomain: again.example')
    const line = duplicated.split('\n').findIndex((l) => l.startsWith('domain: again')) + 1
    let caught: unknown
    try {
      parseInventory(duplicated, '/inv/obsctl.yaml')
    } catch (error) {
      caught = error
    }
    expect(isObsctlError(caught)).toBe(true)
    expect((caught as Error).message).toMatch(new RegExp(`/inv/obsctl\\.yaml:${line}:\\d+: \\(yaml\\): Map keys must be unique`))
  })

  it('a large inventory is read fast: the same platform, and positions from its YAML document when asked', () => {
    const large = fleet(150)
    expect(large.length).toBeGreaterThanOrEqual(FAST_READ_MIN)
    const withAnchor = large.replace(/^domain: (.*)$/m, 'domain: &d $1')
    expect(readPlainYaml(large)).toBeDefined()
    expect(readPlainYaml(withAnchor)).toBeUndefined()
    const fast = parseInventory(large, '/inv/obsctl.yaml')
    const slow = parseInventory(withAnchor, '/inv/obsctl.yaml')
    expect(fast.platform).toEqual(slow.platform)
    expect(fast.platform.clusters).toHaveLength(150)
    const line = large.split('\n').findIndex((l) => l.startsWith('domain:')) + 1
    expect(fast.positionOf(['domain'])).toEqual({file: '/inv/obsctl.yaml', line, column: 'domain: '.length + 1})
    expect(fast.doc.get('domain')).toBe(slow.platform.domain)
  })
})
