/**
 * templates/gitops/: the repository as Eta templates that read as the YAML they produce.
 * Scopes are the top folders: platform/ (once), cluster/ (every cluster), central/ and edge/ (per
 * role); `__overlay__` in a path becomes the cluster's overlay name. A template that renders to
 * nothing but whitespace produces no file (conditional files such as receive.yaml).
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Eta, type TemplateFunction} from 'eta'
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

function walk(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of readdirSync(path.join(dir, rel), {withFileTypes: true})) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...walk(dir, r))
    else out.push(r)
  }
  return out.sort()
}

/** Every template, compiled once per process (sorted by name). */
export function loadTemplates(dir = TEMPLATES_DIR): Template[] {
  const hit = cache.get(dir)
  if (hit) return hit
  const e = engine()
  const list = walk(dir).map((name) => {
    const text = readFileSync(path.join(dir, name), 'utf8')
    // files without template tags (the dashboards' JSON) are copied as they are
    if (!text.includes('<%')) return {name, render: () => text}
    let fn: TemplateFunction
    try {
      fn = e.compile(text)
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
  cache.set(dir, list)
  return list
}

/** The raw text of every template (for the render fingerprint). */
export function templatesDigestInput(dir = TEMPLATES_DIR): string {
  return walk(dir)
    .map((n) => `${n}\0${readFileSync(path.join(dir, n), 'utf8')}`)
    .join('\0')
}
