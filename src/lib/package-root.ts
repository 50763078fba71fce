/**
 * The package's root directory (package.json, templates/), found by walking up from this module rather
 * than by a fixed number of `..`: the module runs from src/lib/ (tests), dist/lib/ (tsc output) and
 * dist/chunks/ (the start-up bundle of bin/bundle.mjs), which sit at different depths. A package.json
 * without a name is not the root: dist/chunks/ and dist/commands/ hold one that only says "type": "commonjs".
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (hasNamedPackageJson(dir)) return dir
    if (path.dirname(dir) === dir) throw new Error(`obsctl: no package.json in ${from} or above`)
  }
}

function hasNamedPackageJson(dir: string): boolean {
  try {
    return Boolean((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {name?: unknown}).name)
  } catch {
    return false
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)))
