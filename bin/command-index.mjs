// Build step (npm run build), after `oclif manifest`: sorts the manifest's commands by id (a stable file in Git), and
// writes dist/command-index.json — each command id with its file and what decides where its id ends on a command line
// (its arguments, strict or not) — which bin/run.js reads to run a command without oclif's runner
// (src/lib/cli/direct-command.ts). test/cli/direct-run.test.ts checks the index against the manifest.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const file = path.join(ROOT, 'oclif.manifest.json')
const manifest = JSON.parse(readFileSync(file, 'utf8'))
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => (a < b ? -1 : 1)))
writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n')

const commands = {}
for (const [id, c] of Object.entries(manifest.commands)) {
  // an alias is another id for a command, which oclif resolves itself; the direct runner knows none
  if (c.aliases?.length || c.hiddenAliases?.length) throw new Error(`bin/command-index.mjs: ${id} has aliases; teach src/lib/cli/direct-command.ts them`)
  commands[id] = {file: c.relativePath.join('/'), args: Object.keys(c.args ?? {}), strict: c.strict !== false}
}
writeFileSync(path.join(ROOT, 'dist', 'command-index.json'), JSON.stringify({version: manifest.version, commands}) + '\n')
