#!/usr/bin/env node
// `obsctl --version` is answered here, before anything else loads (DESIGN.md §6: ≤ 1.3x of `node -e 0`):
// the same line oclif prints, plus the commit and build date that bin/build-info.js recorded.
//
// Everything else: dist/chunks/main.js is @oclif/core's `execute`, bundled with the commands (bin/bundle.js)
// so that start-up reads a few files instead of hundreds, as CommonJS so that dist/lib/code-cache.js can
// compile them with V8's cached data of the previous run (Node 20 cannot cache ES modules). It is the
// `@oclif/core/execute` subpath, not the package index: the index also loads semver (for a Node version
// check this CLI's own engines field already covers), help, ux and parser modules up front. The index's
// other start-up check is kept here.
//
// Node's builtins are require()d, not imported: an ES module's import of a builtin builds an ES facade that
// reads every export once, and node:fs's getters (promises, ReadStream, …) then load their modules (~5 ms
// of every start, measured: import of node:fs 5.7 ms, require 0.3 ms). dist/lib/code-cache.js does the same.
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const {readFileSync} = require('node:fs')
const {fileURLToPath} = require('node:url')

const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  let info = {}
  try {
    info = JSON.parse(readFileSync(new URL('../dist/build-info.json', import.meta.url), 'utf8'))
  } catch {}
  const version = info.version ?? JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  const extra = info.commit ? ` (commit ${info.commit}, built ${info.date})` : ''
  process.stdout.write(`obsctl/${version} ${process.platform}-${arch} node-${process.version}${extra}\n`)
} else {
  try {
    process.cwd()
  } catch (error) {
    if (error.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n')
  }
  const chunks = new URL('../dist/chunks/', import.meta.url)
  const bundle = JSON.parse(readFileSync(new URL('bundle.json', chunks), 'utf8'))
  const {installCodeCache} = await import('../dist/lib/code-cache.js')
  installCodeCache({roots: [fileURLToPath(chunks), fileURLToPath(new URL('../dist/commands/', import.meta.url))], version: bundle.version, bundleId: bundle.id})
  const {execute} = require('../dist/chunks/main.js')
  await execute({dir: import.meta.url})
}
