// Build step (npm run build): records what `obsctl --version` reports beside the version — the commit
// the build was made from and when — in dist/build-info.json, so an installed copy without .git still
// knows them.
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const {version} = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
let commit = 'unknown'
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim()
  if (dirty) commit += '-dirty'
} catch {
  // not a Git checkout (a packed install): the commit stays unknown
}
const info = {version, commit, date: new Date().toISOString()}
writeFileSync(path.join(ROOT, 'dist', 'build-info.json'), JSON.stringify(info, null, 2) + '\n')
