/**
 * Load the inventory with line-accurate errors: every problem names file:line:column,
 * the field path and what is expected. Unknown fields are errors.
 */
import {readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Node, Document, LineCounter} from 'yaml'
import {yaml} from '../lazy-deps.js'
import type {z} from 'zod'
import {derivedCache, derivedMemo, fileEntryName, notePlatformFile} from '../derived-cache.js'
import {didYouMean} from '../did-you-mean.js'
import {errorMessage, fsReason, inputError, isObsctlError} from '../errors.js'
import {envValue} from '../env.js'
import {fileKind} from '../fs.js'
import type {FieldPath} from './field-path.js'
import {plainYamlOffsets, readPlainYaml} from './plain-yaml.js'
import {platformSchema, type Platform} from './schema.js'

export type {FieldPath} from './field-path.js'

export interface Position {
  file: string
  line: number
  column: number
}

export interface LoadedInventory {
  /** absolute path of the inventory file */
  file: string
  /**
   * directory holding the inventory's real file (symlinks resolved, so every link to one inventory shares
   * one `.obsctl/`: one journal, one lock); `.obsctl/` lives here and relative paths resolve from here
   */
  dir: string
  platform: Platform
  /** the parsed YAML document (comments kept), for positions and edits */
  doc: Document
  /** the raw text as read */
  text: string
  /** file:line:column of a field path (the nearest existing ancestor if the field is absent) */
  positionOf(p: FieldPath): Position
  /**
   * Set only on the inventory `config set` edits when the file on disk is invalid and the edit mends it
   * (./edit.ts loadInventoryToEdit): the file's own problems. `platform` is then the edited inventory's (the
   * file's own does not parse); `text`, `doc` and `positionOf` are the file's.
   */
  mended?: ConfigProblem[]
}

export interface ConfigProblem {
  path: string
  message: string
  position: Position
}

export function formatPath(p: FieldPath): string {
  let out = ''
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg
  return out || '(root)'
}

export function formatPosition(pos: Position): string {
  return `${pos.file}:${pos.line}:${pos.column}`
}

/**
 * Where the inventory is: the flag, else $OBSCTL_CONFIG, else ./obsctl.yaml. An empty OBSCTL_CONFIG counts as
 * unset (as shells and CI systems leave it); an empty -c is bad input, not the current folder, and so is an
 * OBSCTL_CONFIG that is only whitespace or holds a line end (../env.ts): `init` wrote an inventory named " ".
 */
export function resolveInventoryPath(flag?: string): string {
  return path.resolve(inventorySource(flag).value)
}

/** What named the inventory file, for messages: the flag, the env var or the default. */
export interface InventorySource {
  value: string
  /** how the message names it: `-c/--config`, `$OBSCTL_CONFIG`, or undefined for ./obsctl.yaml */
  from?: '-c/--config' | '$OBSCTL_CONFIG'
}

export function inventorySource(flag?: string): InventorySource {
  if (flag !== undefined && flag.trim() === '')
    throw inputError(
      '-c/--config is empty: give the inventory file',
      ['e.g. -c obsctl.yaml, or leave -c out for $OBSCTL_CONFIG, else ./obsctl.yaml'],
      'BAD_FLAGS',
    )
  if (flag) return {value: flag, from: '-c/--config'}
  const env = envValue(INVENTORY_ENV, {fix: `export ${INVENTORY_ENV}=PATH of the inventory file (-c/--config FILE wins over it)`})
  if (env) return {value: env, from: '$OBSCTL_CONFIG'}
  return {value: 'obsctl.yaml'}
}

export const INVENTORY_ENV = 'OBSCTL_CONFIG'

/** The hints of an inventory that cannot be read, naming what named it. */
export function inventoryHints(from: InventorySource['from']): string[] {
  const create = 'or create one: obsctl init (obsctl init --example for the example lab)'
  if (from === '$OBSCTL_CONFIG')
    return [`the path came from $${INVENTORY_ENV}: set it to the inventory file, or unset it for ./obsctl.yaml (-c/--config FILE wins over it)`, create]
  return ['pass -c/--config FILE or set OBSCTL_CONFIG', create]
}

function nodeAt(doc: Document, p: FieldPath, keyNode: boolean): Node | undefined {
  let cur: unknown = doc.contents
  let found: Node | undefined = yaml().isNode(cur) ? cur : undefined
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!
    if (yaml().isMap(cur)) {
      const pair = cur.items.find((it) => (yaml().isScalar(it.key) ? it.key.value : it.key) === seg)
      if (!pair) return found
      if (i === p.length - 1 && keyNode && yaml().isNode(pair.key)) return pair.key
      cur = pair.value
      if (yaml().isNode(cur)) found = cur
      else if (yaml().isNode(pair.key)) return pair.key
    } else if (cur && typeof cur === 'object' && 'items' in cur && Array.isArray((cur as {items: unknown[]}).items)) {
      const item = (cur as {items: unknown[]}).items[seg as number]
      if (!yaml().isNode(item)) return found
      cur = item
      found = item
    } else return found
  }
  return found
}

/** the offset a field path's node starts at in the document (its nearest ancestor's when absent) */
export function documentOffset(doc: Document, p: FieldPath, key = false): number {
  return nodeAt(doc, p, key)?.range?.[0] ?? 0
}

function makePositionOf(file: string, doc: Document, lc: LineCounter) {
  return (p: FieldPath, key = false): Position => {
    const {line, col} = lc.linePos(documentOffset(doc, p, key))
    return {file, line, column: col}
  }
}

/**
 * Positions from js-yaml's second read of a text (./plain-yaml.ts), lines counted as the yaml library's parser
 * counts them (a line starts at 0 and after every \n); undefined for a field it cannot place.
 */
function plainPositionsOf(file: string, text: string): (p: FieldPath) => Position | undefined {
  const offsets = plainYamlOffsets(text)
  if (!offsets) return () => undefined
  const lc = new (yaml().LineCounter)()
  lc.addNewLine(0)
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1)
  return (p) => {
    const offset = offsets(p, false)
    if (offset === undefined) return undefined
    const {line, col} = lc.linePos(offset)
    return {file, line, column: col}
  }
}

interface ZodLike {
  _zod: {def: {type: string; innerType?: ZodLike; element?: ZodLike; shape?: Record<string, ZodLike>; out?: ZodLike}}
}

/** The field names an object of the schema allows at a path (for "unknown field" messages); [] when unknown. */
export function knownFields(p: FieldPath): string[] {
  // zod 4 keeps a schema's definition in `_zod.def`; ZodLike names the part read here (the schema fits it as is)
  let cur: ZodLike | undefined = platformSchema()
  const unwrap = () => {
    for (;;) {
      const def: ZodLike['_zod']['def'] | undefined = cur?._zod.def
      if (def?.type === 'default' || def?.type === 'optional' || def?.type === 'nullable' || def?.type === 'prefault') cur = def.innerType
      // a mapping that takes null as empty (./empty-mapping.ts) is a pipe into it
      else if (def?.type === 'pipe') cur = def.out
      else return
    }
  }
  for (const seg of p) {
    unwrap()
    if (!cur) return []
    const def: ZodLike['_zod']['def'] = cur._zod.def
    if (typeof seg === 'number' && def.type === 'array') cur = def.element
    else if (typeof seg === 'string' && def.type === 'object') cur = def.shape?.[seg]
    else return []
  }
  unwrap()
  return cur?._zod.def.type === 'object' ? Object.keys(cur._zod.def.shape ?? {}) : []
}

function zodProblems(error: z.ZodError, data: unknown, positionOf: (p: FieldPath, key?: boolean) => Position): ConfigProblem[] {
  const out: ConfigProblem[] = []
  // a required field missing beside an unknown one that is its misspelling (`apiServr` for `apiServer`) is one mistake:
  // the unknown field's "did you mean" says it, at the line to fix, and the missing field is not listed as well
  const misspelt = new Set<string>()
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue
    const p = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
    for (const k of issue.keys) {
      const meant = didYouMean(k, knownFields(p))
      if (meant) misspelt.add(formatPath([...p, meant]))
    }
  }
  for (const issue of error.issues) {
    const p = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        out.push({
          path: formatPath([...p, k]),
          message: unknownFieldMessage(k, knownFields(p)),
          position: positionOf([...p, k], true),
        })
      }
      continue
    }
    let message = issue.message
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) {
      if (misspelt.has(formatPath(p))) continue
      message = `required field is missing (${message.replace(/^Invalid input: /, '')})`
    }
    // zod's `Invalid option: expected one of "remote-scrape"|"agent"`: in obsctl's words, with what was meant
    if (issue.code === 'invalid_value' && issue.values.every((v) => typeof v === 'string')) message = unknownValueMessage(valueAt(data, p), issue.values)
    out.push({path: formatPath(p), message, position: positionOf(p)})
  }
  return out
}

/** The value at `p` in the parsed data (undefined where there is none). */
function valueAt(data: unknown, p: FieldPath): unknown {
  let cur = data
  for (const seg of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[seg] : undefined
  return cur
}

/** `unknown value "agnet" (did you mean "agent"? allowed: remote-scrape, agent)` */
function unknownValueMessage(given: unknown, allowed: readonly string[]): string {
  const meant = typeof given === 'string' ? didYouMean(given, allowed) : undefined
  return `unknown value ${JSON.stringify(given) ?? String(given)} (${meant ? `did you mean "${meant}"? ` : ''}allowed: ${allowed.join(', ')})`
}

/** `unknown field "apiServr" (did you mean "apiServer"? known here: name, id, …)`, as unknown values say it */
function unknownFieldMessage(k: string, known: string[]): string {
  if (known.length === 0) return `unknown field "${k}"`
  const meant = didYouMean(k, known)
  return `unknown field "${k}" (${meant ? `did you mean "${meant}"?` : 'a typo?'} known here: ${known.join(', ')})`
}

/**
 * Parse inventory text; throws an exit-2 error listing every problem with file:line:column.
 *
 * The parse of a valid inventory is kept in the derived-result cache (../derived-cache.ts, only under the
 * CLI): the same text parsed by the same build is read back as JSON instead of being parsed as YAML and
 * checked against the schema again, and the YAML document (for positions and edits) is parsed only when
 * something asks for it.
 */
export function parseInventory(text: string, file: string): LoadedInventory {
  const cache = derivedCache()
  const cacheName = fileEntryName('inventory', file)
  const cached = cache?.get(cacheName, text)
  if (cached !== undefined) return inventoryOf(file, text, JSON.parse(cached) as Platform, cacheName)
  // a large text's values read fast (./plain-yaml.ts); the YAML document only when asked for, or to say what is wrong
  const plain = text.length >= FAST_READ_MIN ? readPlainYaml(text) : undefined
  if (plain && isMapping(plain.data)) {
    const result = parsePlatform(plain.data)
    if (result.success) {
      cache?.set(cacheName, text, JSON.stringify(result.data))
      return inventoryOf(file, text, result.data, cacheName)
    }
  }
  const {doc, lc, positionOf} = yamlDocument(text, file)
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const {line, col} = lc.linePos(e.pos[0])
      return {path: '(yaml)', message: e.message.split('\n')[0]!, position: {file, line, column: col}}
    })
    throw configError(file, problems)
  }
  let data: unknown
  try {
    data = doc.toJS({maxAliasCount: 100}) as unknown
  } catch (error) {
    // the yaml library refuses alias expansion beyond maxAliasCount ("billion laughs"); say where the aliases are
    let at: Position = {file, line: 1, column: 1}
    yaml().visit(doc, {
      Alias(_, node) {
        const {line, col} = lc.linePos(node.range?.[0] ?? 0)
        at = {file, line, column: col}
        return yaml().visit.BREAK
      },
    })
    throw configError(file, [{path: '(yaml)', message: `${errorMessage(error)} (aliases *name expand to too much data; write the values out)`, position: at}])
  }
  if (!isMapping(data)) {
    throw configError(file, [
      {path: '(root)', message: 'expected a mapping with apiVersion: obsctl.dev/v1alpha1 and kind: Platform', position: {file, line: 1, column: 1}},
    ])
  }
  const result = parsePlatform(data)
  if (!result.success) throw configError(file, zodProblems(result.error, data, positionOf))
  cache?.set(cacheName, text, JSON.stringify(result.data))
  return inventoryOf(file, text, result.data, cacheName, {doc, lc, positionOf})
}

/**
 * The schema's parse of the inventory's data. A key with nothing under it (YAML null: `alerting:`, `~`) where a
 * mapping of fields that may all be left out goes is that mapping, empty: the schema says so (./empty-mapping.ts).
 */
function parsePlatform(data: unknown) {
  return platformSchema().safeParse(data, {jitless: true})
}

/** a YAML mapping's value (the inventory's top level must be one) */
function isMapping(data: unknown): data is Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data)
}

/**
 * From this size on an inventory's values are read by js-yaml (./plain-yaml.ts). It is required from
 * node_modules without the code cache (~20 ms); below ~64 KiB (a fleet of ~130 clusters) the yaml library's
 * document, whose code is loaded anyway, costs less than that.
 */
export const FAST_READ_MIN = 64 * 1024

/**
 * A parsed inventory whose YAML document is parsed on first use (positions, edits), unless the caller has it
 * already. The positions asked of it are kept in the derived-result cache from this run on (the next run of
 * the same text needs no YAML at all).
 */
function inventoryOf(file: string, text: string, platform: Platform, cacheName: string, yaml?: ReturnType<typeof yamlDocument>): LoadedInventory {
  notePlatformFile(platform, file)
  const parsed = () => (yaml ??= yamlDocument(text, file))
  const position = positionsMemo(cacheName, text)
  // a large text's positions: from js-yaml's second read (./plain-yaml.ts), unless the document is parsed already
  let fast: ((p: FieldPath) => Position | undefined) | undefined
  const positionOf = (p: FieldPath): Position => {
    if (!yaml && text.length >= FAST_READ_MIN) {
      const at = (fast ??= plainPositionsOf(file, text))(p)
      if (at) return at
    }
    return parsed().positionOf(p)
  }
  return {
    file,
    dir: realDir(file),
    platform,
    get doc() {
      return parsed().doc
    },
    text,
    positionOf: (p) => position(JSON.stringify(p), () => positionOf(p)),
  }
}

/** The positions asked of one inventory text (lint findings, error messages), kept in the derived-result cache beside its parse. */
function positionsMemo(cacheName: string, text: string) {
  return derivedMemo(`positions${cacheName.slice('inventory'.length)}`, () => text)
}

export function yamlDocument(text: string, file: string) {
  const lc = new (yaml().LineCounter)()
  const doc = yaml().parseDocument(text, {lineCounter: lc, prettyErrors: false, uniqueKeys: true})
  return {doc, lc, positionOf: makePositionOf(file, doc, lc)}
}

/** The folder of the inventory's real file (symlinks resolved); the given folder while the file does not exist yet. */
function realDir(file: string): string {
  try {
    return path.dirname(realpathSync(file))
  } catch {
    return path.dirname(file)
  }
}

export function configError(file: string, problems: ConfigProblem[]) {
  const lines = problems.map((p) => `${formatPosition(p.position)}: ${p.path}: ${p.message}`)
  return inputError(
    `invalid inventory ${file}:\n${lines.join('\n')}`,
    ['fix the fields above; `obsctl config schema` prints the JSON Schema for your editor'],
    'CONFIG_INVALID',
    {problems: problems.map((p) => ({...p, location: formatPosition(p.position)}))},
  )
}

/**
 * Read and parse the inventory file; a missing file is an exit-2 error naming the flag and env var (`from`: what named
 * the file, when it was not the default; one from the environment is said, `… (from $OBSCTL_CONFIG)`).
 */
export function loadInventory(file: string, from?: InventorySource['from']): LoadedInventory {
  const hints = inventoryHints(from)
  // the flag the user typed needs no saying; a path from the environment does
  const named = from === '$OBSCTL_CONFIG' ? ` (from ${from})` : ''
  // a path with a space at an end, a quote or a control character is shown quoted, so the message says what it is
  const shown = /^[\w./~+@:,=-]+$/.test(file) ? file : JSON.stringify(file)
  let text: string
  try {
    // only a regular file (or a symlink to one) is read: a FIFO would block the read for ever, a device never end
    const st = statSync(file)
    if (!st.isFile()) throw inputError(`cannot read inventory ${shown}${named}: it is ${fileKind(st)}, not a regular file`, hints, 'CONFIG_NOT_FOUND')
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (isObsctlError(error)) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw inputError(
      code === 'ENOENT' ? `inventory not found: ${shown}${named}` : `cannot read inventory ${shown}${named}: ${fsReason(error)}`,
      hints,
      'CONFIG_NOT_FOUND',
    )
  }
  return parseInventory(text, file)
}
