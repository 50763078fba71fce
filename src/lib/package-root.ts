/**
 * The package's root directory (package.json, templates/), found by walking up from this module rather
 * than by a fixed number of `..`: the module runs from src/lib/ (tests), dist/lib/ (tsc output) and
 * dist/chunks/ (the start-up bundle of bin/bundle.js), which sit at different depths.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`obsctl: no package.json in ${from} or above`)
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)))
