#!/usr/bin/env node
// `obsctl --version` is answered here, before anything else loads (DESIGN.md §6: ≤ 1.3x of `node -e 0`):
// the same line oclif prints, plus the commit and build date that bin/build-info.mjs recorded. So is the root help
// (`obsctl --help`, ≤ 2x) when the last run's text is still what the CLI would draw (src/lib/root-help-cache.ts).
//
// Everything else: dist/chunks/main.js is @oclif/core's `execute`, bundled with the commands (bin/bundle.mjs)
// so that start-up reads a few files instead of hundreds, as CommonJS so that dist/code-cache.cjs can
// compile them with V8's cached data of the previous run (Node 20 cannot cache ES modules). It is the
// `@oclif/core/execute` subpath, not the package index: the index also loads semver (for a Node version
// check this CLI's own engines field already covers), help, ux and parser modules up front. The index's
// other start-up check is kept here.
//
// CommonJS (bin/package.json), as is the code cache it loads first (dist/code-cache.cjs, bin/bundle.mjs): an
// ES module here would start Node's ES module loader at every start (~10 ms of CPU), and an ES module's import
// of a builtin builds a facade that reads every export (node:fs's getters then load fs/promises and the
// streams: import 5.7 ms, require 0.3 ms).
'use strict'
const {readFileSync} = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  let info = {}
  try {
    info = JSON.parse(readFileSync(path.join(root, 'dist', 'build-info.json'), 'utf8'))
  } catch {}
  const version = info.version ?? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  const extra = info.commit ? ` (commit ${info.commit}, built ${info.date})` : ''
  say(`obsctl/${version} ${process.platform}-${arch} node-${process.version}${extra}\n`)
} else {
  try {
    process.cwd()
  } catch (error) {
    if (error.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n')
  }
  // the bundle's folders, as the code cache compares file names against them (with the separator): its chunks,
  // the commands, the help class and the hooks (the unknown-command hook: `obsctl bootsrap`)
  const chunks = path.join(root, 'dist', 'chunks') + path.sep
  const bundle = JSON.parse(readFileSync(path.join(chunks, 'bundle.json'), 'utf8'))
  const {installCodeCache, cachedRootHelp, directCommand, installStdio} = require('../dist/code-cache.cjs')
  // a command's output goes to a file or a pipe without Node's stream objects (src/lib/stdio.ts): noted from here on,
  // before anything reads process.stdout or process.stderr, whether Node made them
  installStdio()
  const dist = (folder) => path.join(root, 'dist', folder) + path.sep
  const cache = installCodeCache({
    roots: [chunks, dist('commands'), dist('help'), dist('hooks')],
    version: bundle.version,
    bundleId: bundle.id,
  })
  // `obsctl --help` and `obsctl` alone: the text the last run drew, when nothing it was drawn from changed
  // (src/lib/root-help-cache.ts); else the CLI draws it and it is kept
  const help = cachedRootHelp(argv, root)
  if (help !== undefined) say(help)
  else {
    // an exact command line that needs nothing of oclif's runner (its configuration, the manifest, the help, the
    // hooks) runs without it (src/lib/cli/direct-command.ts); anything else, oclif's runner
    const direct = directCommand(argv, root)
    if (direct) {
      // the bundle files this command loaded before, as one script (src/lib/code-cache.ts usePack)
      cache.usePack(direct.id)
      require('../dist/chunks/direct.js').runDirect(direct, require(direct.file))
    } else run()
  }
}

function run() {
  // the built commands are what runs, whatever NODE_ENV says: with NODE_ENV=development or test (a
  // JavaScript developer's shell, vitest's workers) oclif would otherwise read tsconfig.json (loading the
  // TypeScript compiler: ~350 ms of CPU per command) and try to register tsx or ts-node over dist/ (the direct
  // runner reads neither)
  globalThis.oclif = {...globalThis.oclif, enableAutoTranspile: false}
  const {execute} = require('../dist/chunks/main.js')
  // oclif looks for the package.json from here up: the package's folder (bin/ has one of its own, for
  // CommonJS); it handles a command's failure itself (exit code, message)
  execute({dir: root})
}

/**
 * Text printed here, before oclif: a reader that went away first (`obsctl --version | true`, `obsctl --help | head -1`)
 * ends nothing in error, as oclif's commands swallow it (an EPIPE of stdout).
 */
function say(text) {
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error
  })
  process.stdout.write(text)
}
