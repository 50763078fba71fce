/**
 * templates/gitops/: the repository as Eta templates that read as the YAML they produce.
 * Scopes are the top folders: platform/ (once), cluster/ (every cluster), central/ and edge/ (per
 * role); `__overlay__` in a path becomes the cluster's overlay name. A template that renders to
 * nothing but whitespace produces no file (conditional files such as receive.yaml).
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Eta, type TemplateFunction} from 'eta'
import {derivedCache, derivedJson} from '../derived-cache.js'
import {fileStamp} from '../file-stamp.js'
import {sha256} from '../hash.js'
import {joinPlain} from '../join-plain.js'
import {PACKAGE_ROOT} from '../package-root.js'

export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates', 'gitops') + path.sep

export interface Template {
  /** path under templates/gitops/, with / separators */
  name: string
  render: (data: object) => string
}

let eta: Eta | undefined
const cache = new Map<string, Template[]>()

function engine(): Eta {
  // autoEscape off: this is YAML, not HTML; no auto-trim: control lines end in -%> explicitly
  eta ??= new Eta({autoEscape: false, autoTrim: [false, false], cache: false, useWith: false})
  return eta
}

/** the templates' names under `dir` (sorted), listed once per process and folder: their digest and their texts both need them */
const namesOf = new Map<string, string[]>()

function templateNames(dir: string): string[] {
  let names = namesOf.get(dir)
  if (!names) namesOf.set(dir, (names = walk(dir)))
  return names
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of readdirSync(rel ? joinPlain(dir, rel) : dir, {withFileTypes: true})) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...walk(dir, r))
    else out.push(r)
  }
  return out.sort()
}

/**
 * Every template, compiled once per process (sorted by name). Eta turns a template into the source of a
 * JavaScript function (parse and code generation: most of the compile time); those sources are kept in the
 * derived-result cache (../derived-cache.ts) for the same template texts and reused by the next run.
 */
export function loadTemplates(dir = TEMPLATES_DIR): Template[] {
  const hit = cache.get(dir)
  if (hit) return hit
  const e = engine()
  const texts = templateTexts(dir)
  const derived = derivedCache()
  const input = templatesDigest(dir)
  const stored = derived?.get('eta-templates', input)
  const sources = stored === undefined ? undefined : (JSON.parse(stored) as (string | null)[])
  const fresh: (string | null)[] = []
  const list = texts.map(({name, text}, i) => {
    // files without template tags (the dashboards' JSON) are copied as they are
    if (!text.includes('<%')) {
      fresh.push(null)
      return {name, render: () => text}
    }
    let fn: TemplateFunction
    try {
      const source = sources?.[i] ?? e.compileToString(text)
      fresh.push(source)
      // what Eta's own compile does with the source (eta 4: new Function(varName, 'options', source))
      fn = new Function(e.config.varName, 'options', source) as TemplateFunction
    } catch (error) {
      throw new Error(`template ${name}: ${(error as Error).message}`, {cause: error})
    }
    return {
      name,
      render: (data: object) => {
        try {
          return fn.call(e, data)
        } catch (error) {
          throw new Error(`template ${name}: ${(error as Error).message}`, {cause: error})
        }
      },
    }
  })
  if (derived && stored === undefined) derived.set('eta-templates', input, JSON.stringify(fresh))
  cache.set(dir, list)
  return list
}

/** name and text of every template, read once per process and folder (the render fingerprint, the render cache and the compile all need them) */
const textsOf = new Map<string, {name: string; text: string}[]>()

function templateTexts(dir: string): {name: string; text: string}[] {
  let texts = textsOf.get(dir)
  if (!texts) textsOf.set(dir, (texts = templateNames(dir).map((name) => ({name, text: readFileSync(joinPlain(dir, name), 'utf8')}))))
  return texts
}

/**
 * sha256 of every template's name and text: what the render fingerprint and the derived-result cache's keys hold of
 * the templates. Itself kept in the derived-result cache against the templates' names and file stamps (inode, size,
 * mtime: an edit changes them, as the code cache's key of a bundle file), so a run whose render is read back
 * (`plan`, `render` of an unchanged inventory) reads none of the templates' 430 KB and hashes nothing.
 */
export function templatesDigest(dir = TEMPLATES_DIR): string {
  let digest = digestOf.get(dir)
  if (digest === undefined) {
    const stamps = templateNames(dir).map((name) => `${name}\0${fileStamp(joinPlain(dir, name))}`)
    digest = derivedJson('templates-digest', `${dir}\n${stamps.join('\n')}`, () =>
      sha256(
        templateTexts(dir)
          .map((t) => `${t.name}\0${t.text}`)
          .join('\0'),
      ),
    )
    digestOf.set(dir, digest)
  }
  return digest
}
const digestOf = new Map<string, string>()
