// Start-up bundle (DESIGN.md §6), run by `npm run build` after tsc and before `oclif manifest`.
//
// Start-up time is module loading and V8 compilation: --help read ~150 files of @oclif/core and its
// dependencies, `config validate` ~300 with yaml and zod, `plan` ~370, and V8 compilation is 30–40% of
// start-up CPU. So the runner and each command are bundled with esbuild, code splitting on: code shared by
// several entries goes to dist/chunks/, loaded once, so runner and commands share one @oclif/core; dynamic
// imports stay lazy (phases, heavy dependencies: each its own chunk, loaded only by the code that uses it).
//
// Node 20 has no compile cache for ES modules (no `module.enableCompileCache`), but a CommonJS module
// compiled as a `vm.Script` can use V8's cached data; src/lib/code-cache.ts does that for every file of
// the bundle. Hence two passes: (1) esbuild bundles as ES modules with splitting (esbuild splits only ESM)
// into dist/.esm/; (2) each output file is converted on its own to CommonJS (imports of other chunks stay
// imports, now require(); `import()` becomes a lazy require(); `import.meta.url` the file's own URL).
//
//   dist/chunks/main.js        the runner: @oclif/core's `execute` (bin/run.js requires it)
//   dist/chunks/direct.js      a command run without oclif's runner (src/direct.ts; bin/run.js requires it when
//                              src/lib/cli/direct-command.ts finds the command line needs none of it)
//   dist/commands/**.js        one file per command (oclif.manifest.json points at them; `isESM: false`)
//   dist/hooks/*.js            oclif's hooks (package.json `oclif.hooks`)
//   dist/help/obsctl-help.js   the help class (package.json `oclif.helpClass`: oclif's Help, errors redacted)
//   dist/chunks/*.js           shared code and lazily loaded chunks (client-node, minio, listr2, …)
//   dist/chunks/bundle.json    {version, id}: id is a hash of every output file, the code cache's key
//   dist/code-cache.cjs        the code cache (src/lib/code-cache.ts) as one CommonJS file, for bin/run.js
// dist/commands/, dist/hooks/, dist/help/ and dist/chunks/ each hold a package.json saying "type": "commonjs". dist/lib/ stays tsc's
// output (ES modules; tests import it); the CLI does not load it.
//
// Bundled: packages that do not depend on where their own files are, or whose files that must stay in place
// are native addons (`*.node`: ssh2's sshcrypto.node, required from node_modules, see nativeAddons). Not
// bundled (required from node_modules at run time, lazily where used): bcryptjs and @inquirer/prompts (rarely
// loaded, small), diff (CommonJS,
// require()d synchronously where first used: src/lib/diff.ts). Every dependency not listed in BUNDLED stays
// external, so a dependency added later is external until it is added here; externals are require()d, so
// each must be loadable by require() (checked below).
import {decode as decodeMappings, encode as encodeMappings} from '@jridgewell/sourcemap-codec'
import {build} from 'esbuild'
import {createHash} from 'node:crypto'
import {createRequire} from 'node:module'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const DIST = path.join(ROOT, 'dist')
const ESM = path.join(DIST, '.esm')
const BUNDLED = [
  '@oclif/core',
  'yaml',
  'zod',
  'eta',
  '@kubernetes/client-node',
  'minio',
  'listr2',
  'execa',
  'chalk',
  'ssh2',
  'ipaddr.js',
  'semver',
  // oclif's help and autocomplete plugins: bundled into obsctl's own `help` and `autocomplete` commands
  // (src/commands/help.ts, src/commands/autocomplete/), so they use the runner's @oclif/core and load only when
  // used; the command_not_found hook's closest-command search (src/hooks/)
  '@oclif/plugin-help',
  '@oclif/plugin-autocomplete',
  'fastest-levenshtein',
  // client-node's YAML reader, bundled into its chunk (with the code cache); src/lib/config/plain-yaml.ts
  // require()s node_modules' copy itself, only when an inventory is parsed
  'js-yaml',
]
// optional requires inside @oclif/core (TypeScript support for development) and ssh2 (cpu-features, a
// native addon, in try/catch): resolved at run time, never bundled
const OPTIONAL = ['typescript', 'ts-node', 'tsx', 'pnpapi', 'cpu-features']

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
for (const b of BUNDLED) if (!pkg.dependencies[b]) throw new Error(`bin/bundle.mjs: ${b} is not a dependency any more`)
const externalDeps = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d))
const external = [...externalDeps, ...OPTIONAL].flatMap((d) => [d, `${d}/*`])

// An external is require()d by the CommonJS bundle: an ES-module-only package would fail on Node < 20.19.
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'))
for (const d of externalDeps) {
  const file = requireFromRoot.resolve(d)
  const type = nearestPackageType(file)
  if (file.endsWith('.mjs') || (file.endsWith('.js') && type === 'module')) {
    throw new Error(`bin/bundle.mjs: ${d} resolves to an ES module for require() (${path.relative(ROOT, file)}); add it to BUNDLED`)
  }
}

const jsFiles = (dir) =>
  readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : [],
  )

// Pass 1: ES modules, split.
const commands = [...jsFiles(path.join(DIST, 'commands')), ...jsFiles(path.join(DIST, 'hooks')), ...jsFiles(path.join(DIST, 'help'))]
rmSync(ESM, {recursive: true, force: true})
const patches = [
  yamlNoTokenLog(),
  oclifWslCheck(),
  oclifCommandSort(),
  oclifPlainHelpText(),
  ...stdioWithoutStreams(),
  ...oclifLazyRequires(),
  ...ssh2LazyBuiltins(),
  stringWidthAscii(),
  ansisAscii(),
]
const applied = new Set()
const lazy = lazyDeps()
const result = await build({
  entryPoints: [
    {in: path.join(DIST, 'main.js'), out: 'chunks/main'},
    {in: path.join(DIST, 'direct.js'), out: 'chunks/direct'},
    ...commands.map((f) => ({in: f, out: path.relative(DIST, f).replace(/\.js$/, '')})),
    ...lazy.entries,
  ],
  outdir: ESM,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [lazy.plugin, nativeAddons(), clientNodePure(), slimImportsPlugin(), pluginInternals(), sourcePatches(patches, applied)],
  // less to read and parse; identifiers stay, and class and function names stay as written (error
  // classes are told apart by constructor name); source maps lead back to src/
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  // client-node's optional peers (bufferutil, utf-8-validate for ws) are require()d in try/catch
  logOverride: {'require-resolve-not-external': 'silent'},
  logLevel: 'warning',
  metafile: true,
})
const unused = patches.filter((p) => !applied.has(p.name))
if (unused.length) throw new Error(`bin/bundle.mjs: no bundled file matched ${unused.map((p) => p.name).join(', ')}; update it`)
// node-fetch's URL fallback stays out (slimImports), whoever would bring it in
const urlFallback = Object.keys(result.metafile.inputs).filter((f) => /node_modules[\\/](whatwg-url|tr46)[\\/]/.test(f))
if (urlFallback.length) throw new Error(`bin/bundle.mjs: the WHATWG URL fallback is bundled again (${urlFallback[0]}); see slimImports`)

// esbuild exposes a bundled CommonJS module reached by a dynamic import() as a chunk with a default
// export only, where Node gives named exports too: `const {parse} = await import('yaml')` would get
// undefined; and once converted to CommonJS (pass 2), `(await import('ssh2')).default` would get the module
// object, not ssh2. Import bundled CommonJS packages (yaml, @oclif/core) statically instead, or through a
// module of ours that re-exports them by name (src/lib/ssh/ssh2.ts); stop here if not.
const cjsOnly = Object.keys(result.metafile.outputs).filter(
  (f) => f.endsWith('.js') && /\bexport default require_\w+\(\)/.test(readFileSync(path.join(ROOT, f), 'utf8')),
)
if (cjsOnly.length > 0) {
  throw new Error(
    `bin/bundle.mjs: ${cjsOnly.map((f) => path.relative(ESM, f)).join(', ')}: a bundled CommonJS package is imported with import(); ` +
      'its named exports would be undefined. Import it statically (grep -rn "import(\'" src).',
  )
}

// Pass 2: each file on its own to CommonJS. Every import but the entry itself stays an import (external).
const esmFiles = jsFiles(ESM)
const pass2 = {
  outdir: DIST,
  outbase: ESM,
  allowOverwrite: true,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() → Promise.resolve().then(() => require()): vm.Script code (the code cache) has no ESM loader
  supported: {'dynamic-import': false},
  plugins: [
    {
      name: 'keep-imports',
      setup(b) {
        b.onResolve({filter: /.*/}, (args) => (args.kind === 'entry-point' ? undefined : {path: args.path, external: true}))
      },
    },
  ],
  minifyWhitespace: true,
  sourcemap: 'linked',
  // lint warnings on bundled dependencies' code (pass 1 keeps them quiet for node_modules)
  logOverride: {'equals-negative-zero': 'silent', 'suspicious-boolean-not': 'silent'},
  logLevel: 'warning',
}
const usesImportMeta = esmFiles.filter((f) => readFileSync(f, 'utf8').includes('import.meta'))
await build({...pass2, entryPoints: esmFiles.filter((f) => !usesImportMeta.includes(f))})
if (usesImportMeta.length) {
  await build({
    ...pass2,
    entryPoints: usesImportMeta,
    define: {'import.meta.url': '__obsctl_import_meta_url', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename'},
    inject: [path.join(ROOT, 'bin', 'bundle-import-meta.js')],
  })
}
rmSync(ESM, {recursive: true, force: true})
// A chunk reached by import() was an ES module in pass 1, and pass 2 made it CommonJS marked __esModule; but
// pass 2 sees the import() of a CommonJS file and wraps it in Node's interop, `__toESM(require(…), 1)`,
// whose `default` is the whole exports object. So `const {default: wrap} = await import('wrap-ansi')` (listr2's
// terminal renderer) got an object, not the function, and every run drawn on a terminal crashed. Without the
// Node-mode flag, __toESM honours __esModule and `default` is the chunk's default export, as in ESM. ",0)" for
// ",1)": same length, so the source maps still line up.
//
// A lazily required package is its own entry (dist/chunks/lazy/<name>.js), required by name at the first call
// (lazyDeps below): each name becomes the entry's path relative to the file that requires it, which the code
// cache loads as any file of the bundle.
//
// Every file is ASCII, so a command's pack (src/lib/code-cache.ts usePack), a megabyte of their texts, is read as a
// one-byte string: with one character beyond ASCII in it, decoding it as UTF-8 costs ~2.5 ms more of every start.
// esbuild escapes strings, templates and identifiers (its default charset), not regular expression literals: those
// are written with \u escapes in src/, and a dependency's patched (sourcePatch: ansisAscii).
//
// A file's exports are one object of getters, one per name, marked __esModule. esbuild's CommonJS output copies the
// object it defined the names on into a second one (`__toCommonJS`: a getter per name reading the first), which
// Node's interop does not need: the bundle's modules are only ever required, and each copy is made once. Without the
// copy a command's start defines half as many properties and each read of an import calls one getter, not two (`plan`
// 272M -> 258M instructions, 0.97x CPU paired). Same length, so the source maps still line up (oneExportsObject).
//
// And that object is an object literal of getters (`{get a(){return a}}`), not an empty object esbuild's `__export`
// defines each getter on (a defineProperty and a new hidden class per name: ~1,000 names a command; `plan` 219M ->
// 208M). The same names, read-only and enumerable as before (configurable now, as nothing redefines them). Longer,
// so the source map's columns after it on its line move with it (exportGetters).
//
// One pass over the output files: the rewrites, the checks (no import() and no lazy entry's name left, ASCII) and
// the bundle's hash, each file read once (but the models chunk and the two files that import it, moved and rewritten
// just before: lazyClientNodeModels).
const movedModels = lazyClientNodeModels(result.metafile)

const outputs = [
  ...jsFiles(path.join(DIST, 'chunks')),
  ...jsFiles(path.join(DIST, 'commands')),
  ...jsFiles(path.join(DIST, 'hooks')),
  ...jsFiles(path.join(DIST, 'help')),
].sort()
const hash = createHash('sha256')
const left = []
const unresolved = []
const wide = []
for (const f of outputs) {
  const text = readFileSync(f, 'utf8')
  const fixed = builtinNamespaces(esbuildExports(text, f), f)
    .replace(/__toESM\((require\("\.{1,2}\/[^"]+"\)),1\)/g, '__toESM($1,0)')
    .replace(/__obsctl_lazy_require\("obsctl-lazy-entry:([\w.-]+)"\)/g, (_, name) => {
      const rel = path
        .relative(path.dirname(f), path.join(DIST, 'chunks', 'lazy', `${name}.js`))
        .split(path.sep)
        .join('/')
      return `require(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)})`
    })
  if (fixed !== text) writeFileSync(f, fixed)
  if (/\bimport\(/.test(fixed.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""'))) left.push(f)
  if (/obsctl-lazy-entry:|__obsctl_lazy_require/.test(fixed) || fixed.includes(movedModels)) unresolved.push(f)
  const at = fixed.search(/[\u0080-\uffff]/)
  if (at >= 0) wide.push(`${path.relative(DIST, f)} (${JSON.stringify(fixed.slice(Math.max(0, at - 40), at + 10))})`)
  hash
    .update(`${path.relative(DIST, f)}\0`)
    .update(fixed)
    .update('\0')
}
if (left.length) throw new Error(`bin/bundle.mjs: import() left in ${left.map((f) => path.relative(DIST, f)).join(', ')}`)
if (unresolved.length)
  throw new Error(`bin/bundle.mjs: a lazy entry's name (or ${movedModels}, moved) was left in ${unresolved.map((f) => path.relative(DIST, f)).join(', ')}`)
if (wide.length)
  throw new Error(
    `bin/bundle.mjs: characters beyond ASCII in ${wide.join(', ')}: write them as \\u escapes in the regular expression literal (esbuild escapes strings, not those), or patch the dependency (sourcePatch)`,
  )

// tsc's ES module runner, replaced by dist/chunks/main.js
rmSync(path.join(DIST, 'main.js'))
rmSync(path.join(DIST, 'main.js.map'), {force: true})

for (const dir of ['chunks', 'commands', 'hooks', 'help']) writeFileSync(path.join(DIST, dir, 'package.json'), '{"type": "commonjs"}\n')
mkdirSync(path.join(DIST, 'chunks'), {recursive: true})
writeFileSync(path.join(DIST, 'chunks', 'bundle.json'), `${JSON.stringify({version: pkg.version, id: hash.digest('hex').slice(0, 16)})}\n`)

// The code cache itself as one CommonJS file, which bin/run.js (CommonJS too) requires before the bundle: an ES
// module there would start Node's ES module loader at every start (~10 ms of CPU). Not compiled through the
// cache (it installs it); tests import tsc's dist/lib/code-cache.js.
await build({
  entryPoints: [path.join(DIST, 'lib', 'code-cache.js')],
  outfile: path.join(DIST, 'code-cache.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
})

const loaderFile = path.join(DIST, 'code-cache.cjs')
writeFileSync(loaderFile, builtinNamespaces(esbuildExports(readFileSync(loaderFile, 'utf8'), loaderFile), loaderFile))

/** A file's exports as one object literal of getters, marked __esModule (see the pass over the output files). */
function esbuildExports(text, file) {
  return exportGetters(oneExportsObject(text, file), file)
}

/** The text with esbuild's __toCommonJS returning the exports object itself (see the pass over the output files). */
function oneExportsObject(text, file) {
  if (!text.includes('__toCommonJS=')) return text
  const fixed = text.replace(/__toCommonJS=mod=>__copyProps\(__defProp\(\{\},"__esModule",\{value:(true|!0)\}\),mod\)/g, (whole, yes) =>
    `__toCommonJS=mod=>__defProp(mod,"__esModule",{value:${yes}})`.padEnd(whole.length, ' '),
  )
  if (fixed === text) throw new Error(`bin/bundle.mjs: esbuild's __toCommonJS in ${file} is not the one oneExportsObject rewrites; update it`)
  return fixed
}

/**
 * The text with esbuild's `var x_exports={};__export(x_exports,{a:()=>a,…});` as `var x_exports={get a(){return a},…};`
 * (see the pass over the output files), and the file's source map (`<file>.map`) rewritten to match: on the line of
 * each rewrite, every mapping after it moves by what the text grew. A file whose exports take another shape is left
 * as it is.
 */
function exportGetters(text, file) {
  const pattern = /var ([A-Za-z_$][\w$]*_exports)=\{\};__export\(\1,\{((?:[\w$]+:\(\)=>[\w$]+(?:\.[\w$]+)*,?)*)\}\);/g
  return replaceMapped(text, file, pattern, (whole, name, list) => {
    const getters = list
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split(':()=>'))
      .map(([key, value]) => `get ${key}(){return ${value}}`)
    return `var ${name}={${getters.join(',')}};`
  })
}

/**
 * The text with each default import of a Node builtin (`import path from 'node:path'`, which esbuild writes as `var
 * x=__toESM(require("node:path"),1)`) as an object whose prototype is the module and whose `default` is it. esbuild's
 * interop copies the module's every name onto a new object as a getter (a closure and a defineProperty each: node:fs
 * has 104, node:process 79): a `plan` made 55 such copies at every start, ~920 getters (205M -> 200M instructions).
 * Reading `x.default` or `x.name` gives the same, live, value either way; only listing the object's own names would
 * differ, so the build stops when a file uses one of these names other than to read a member of it.
 */
function builtinNamespaces(text, file) {
  const pattern = /([\w$]+)=__toESM\(require\("(node:[\w/]+)"\)(?:,1)?\)/g
  return replaceMapped(text, file, pattern, (whole, local, id, at) => {
    // (not the declaration, nor a builtin's name in a require: `require("node:fs")`)
    const {other} = memberReads(text, local, (i) => (i >= at && i < at + whole.length) || text.slice(i - 6, i) === '"node:')
    if (other !== undefined)
      throw new Error(
        `bin/bundle.mjs builtinNamespaces: ${path.relative(DIST, file)} uses ${local} (${id}) other than as ${local}.name: ${JSON.stringify(text.slice(Math.max(0, other - 40), other + 40))}`,
      )
    return `${local}=(m=>Object.create(m,{default:{value:m,enumerable:!0}}))(require(${JSON.stringify(id)}))`
  })
}

/**
 * What `text` reads of the variable `local`: the names of `local.name`, in order; or `other`, where it first uses it
 * another way (passed whole, spread, listed). `skip(at)`: an occurrence at `at` that is not a use (its declaration).
 */
function memberReads(text, local, skip) {
  const names = []
  for (const m of text.matchAll(new RegExp(`(?<![\\w$.])${escapeRegExp(local)}(?![\\w$])(\\.[\\w$]+)?`, 'g'))) {
    if (skip(m.index)) continue
    if (!m[1]) return {names, other: m.index}
    names.push(m[1].slice(1))
  }
  return {names}
}

/**
 * `text.replace(pattern, replace)` (a global pattern) for a file of the bundle, and its source map (`<file>.map`)
 * rewritten to match: on the line of each replacement, every mapping after it moves by what the text grew or shrank.
 */
function replaceMapped(text, file, pattern, replace) {
  const edits = []
  const fixed = text.replace(pattern, (...args) => {
    // replace's arguments end with the offset and the whole text (and the named groups, when the pattern has any)
    const at = args.at(typeof args.at(-1) === 'object' ? -3 : -2)
    const replacement = replace(...args)
    edits.push({at, end: at + args[0].length, grew: replacement.length - args[0].length})
    return replacement
  })
  if (!edits.some((e) => e.grew)) return fixed
  const mapFile = `${file}.map`
  const map = JSON.parse(readFileSync(mapFile, 'utf8'))
  const lines = decodeMappings(map.mappings)
  // right to left: an edit moves only what follows it, in the columns the text had
  for (const {at, end, grew} of edits.reverse()) {
    const line = text.slice(0, at).split('\n').length - 1
    const endColumn = end - (text.lastIndexOf('\n', at - 1) + 1)
    for (const segment of lines[line] ?? []) if (segment[0] >= endColumn) segment[0] += grew
  }
  map.mappings = encodeMappings(lines)
  writeFileSync(mapFile, JSON.stringify(map))
  return fixed
}

/**
 * client-node's model classes (its ObjectSerializer's ~700 generated classes, one shared chunk of ~480 KB) become a
 * lazily required file, dist/chunks/lazy/client-node-models.js: the chunks that use them (client-node's, the
 * serializer's) read each of its names through a getter that requires the file at the first read. A request reads
 * them to encode a body or query parameter and to decode the response, so a command reaches its first request
 * without them (their compiled code was ~half of `cluster register`'s pack, read at every start: 0.88x of its CPU to
 * the first request, paired), and a request to an unreachable server never reads them. Under chunks/lazy/ a command's
 * pack leaves it out (src/lib/code-cache.ts): it has a code cache file of its own. The file keeps its source map, its
 * sources one folder further up; esbuild has no way to name one shared chunk, so the chunk is found by its input.
 */
function lazyClientNodeModels(metafile) {
  const stop = (why) => {
    throw new Error(`bin/bundle.mjs lazyClientNodeModels: ${why}`)
  }
  const input = 'node_modules/@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
  const holders = Object.entries(metafile.outputs).filter(([out, o]) => out.endsWith('.js') && o.inputs[input])
  if (holders.length !== 1) stop(`${input} is in ${holders.length} output files, not one`)
  const name = path.basename(holders[0][0])
  if (!/^chunk-\w+\.js$/.test(name) || path.basename(path.dirname(holders[0][0])) !== 'chunks') stop(`${input} is in ${holders[0][0]}, not a shared chunk`)
  const from = path.join(DIST, 'chunks', name)
  const lazyDir = path.join(DIST, 'chunks', 'lazy')
  const to = path.join(lazyDir, 'client-node-models.js')
  // the file itself, one folder down: its requires of its siblings, its source map's name and sources
  let text = replaceMapped(readFileSync(from, 'utf8'), from, /require\("\.\/([\w.-]+\.js)"\)/g, (_, sibling) => `require("../${sibling}")`)
  if (/require\("\.\//.test(text)) stop(`${name} requires a file in its own folder by another form`)
  const url = `//# sourceMappingURL=${name}.map`
  if (!text.includes(url)) stop(`${name} does not end with its source map's URL`)
  text = text.replace(url, `//# sourceMappingURL=${path.basename(to)}.map`)
  const map = JSON.parse(readFileSync(`${from}.map`, 'utf8'))
  map.sources = map.sources.map((s) => path.posix.join('..', s))
  mkdirSync(lazyDir, {recursive: true})
  writeFileSync(to, text)
  writeFileSync(`${to}.map`, JSON.stringify(map))
  rmSync(from)
  rmSync(`${from}.map`)
  // every file that imports it (esbuild's metafile says which: no file is read to find them), whose
  // `var x=require("…/chunk-….js");` becomes an object with a getter for each `x.name` it reads
  const users = Object.entries(metafile.outputs)
    .filter(([, o]) => o.imports.some((i) => i.path === holders[0][0]))
    .map(([out]) => path.join(DIST, path.relative(ESM, path.join(ROOT, out))))
  if (!users.length) stop(`no file requires ${name}`)
  for (const f of users) {
    const own = readFileSync(f, 'utf8')
    const rel = (file) => {
      const r = path.relative(path.dirname(f), file).split(path.sep).join('/')
      return r.startsWith('.') ? r : `./${r}`
    }
    const decl = new RegExp(`var ([\\w$]+)=require\\(${escapeRegExp(JSON.stringify(rel(from)))}\\);`, 'g')
    const fixed = replaceMapped(own, f, decl, (_, local, at) => {
      // besides the declaration, only reads of a name
      const reads = memberReads(own, local, (i) => i === at + 'var '.length)
      if (reads.other !== undefined) stop(`${path.relative(DIST, f)} uses ${local} other than as ${local}.name`)
      const members = [...new Set(reads.names)].sort()
      if (!members.length) stop(`${path.relative(DIST, f)} reads nothing of ${name}`)
      const load = `(${local}_m??=require(${JSON.stringify(rel(to))}))`
      return `var ${local}_m,${local}={${members.map((m) => `get ${m}(){return ${load}.${m}}`).join(',')}};`
    })
    if (fixed.includes(name)) stop(`${path.relative(DIST, f)} names ${name} other than in one require of it`)
    writeFileSync(f, fixed)
  }
  // the name it had: the pass over the output files stops the build if any file still names it
  return name
}

/**
 * A native addon (`require('./build/Release/x.node')` inside a bundled package) stays where npm put it:
 * the bundle requires it by its package path (`ssh2/lib/protocol/crypto/build/Release/sshcrypto.node`),
 * resolved from node_modules at run time. The packages that require one do so in try/catch (ssh2 falls
 * back to node:crypto), so a missing build changes nothing but speed.
 */
function nativeAddons() {
  return {
    name: 'native-addons',
    setup(b) {
      b.onResolve({filter: /\.node$/}, (args) => {
        const file = path.resolve(args.resolveDir, args.path)
        const rel = path.relative(path.join(ROOT, 'node_modules'), file)
        if (rel.startsWith('..')) throw new Error(`bin/bundle.mjs: native addon outside node_modules: ${file}`)
        return {path: rel.split(path.sep).join('/'), external: true}
      })
    },
  }
}

/**
 * @kubernetes/client-node's own modules are TypeScript output without side effects at load, but its
 * package.json does not say so (no "sideEffects": false), so esbuild would keep every module index.js
 * re-exports — cp (tar-fs), exec/attach (ws), … — with their dependencies, though obsctl imports only
 * KubeConfig, KubernetesObjectApi and PatchStrategy (src/lib/platform/client-node.ts). Said here instead.
 */
function clientNodePure() {
  return {
    name: 'client-node-pure',
    setup(b) {
      // Only relative imports reach this (the filter runs inside esbuild), and the path is the file itself: its
      // ~2,600 relative imports all name their .js file. Asking esbuild to resolve each one again (b.resolve)
      // cost ~9 s of the build's ~11 (a round trip per import); any other import is left to esbuild.
      b.onResolve({filter: /^\./}, (args) => {
        if (!/[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/.test(args.importer) || !args.path.endsWith('.js')) return undefined
        const file = path.resolve(args.resolveDir, args.path)
        return existsSync(file) ? {path: file, sideEffects: false} : undefined
      })
    },
  }
}

/**
 * Packages that a bundled library imports at load for calls that are rare or not on obsctl's paths, answered by
 * modules that hand out the same code: the package itself required at the first call, or, for lodash, its own
 * per-function modules (with only their own dependencies). Loading the minio chunk cost ~40 ms of CPU before `s3
 * setup`'s first request (paired runs, docs/performance.md): all of lodash (540 KB) for six functions, mime-db's
 * 186 KB table for fPutObject's content type, readable-stream under block-stream2 for a stream of unknown size,
 * xml2js (sax, xmlbuilder) for the XML bodies of bucket settings, async for listIncompleteUploads. client-node's
 * configuration imports socks-proxy-agent (socks, ip-address: ~100 KB) for a kubeconfig whose proxy-url is socks,
 * and its Azure and GCP auth providers jsonpath-plus. And one package is not handed out at all: client-node's HTTP
 * client, node-fetch 2, takes its URL class from node:url and falls back to whatwg-url only where node:url has none
 * (`Url.URL || whatwgUrl.URL`: Node < 10), but required it at load, with tr46's 260 KB mapping table, punycode and
 * webidl-conversions: 45% of the Kubernetes client's chunk. Its `whatwg-url` is node:url's URL, the class it uses
 * either way (which also ends Node 21+'s DEP0040 warning: tr46 required the builtin punycode by name).
 *
 * Each entry says how the library imports the package (`form`, an import or a require line, its local name in
 * parentheses) and what it may do with it: call `members`, or only construct it (`construct`); slimUses reads every
 * file of the library that imports the package and stops the build on any other import form or use. test/s3/bundle.test.ts sends the same calls through
 * the bundle's minio and the package's to s3rver, byte for byte; test/kube-server/bundle.test.ts runs client-node's
 * SOCKS proxy and gcp token paths.
 */
function slimImports() {
  const minio = {library: 'minio', files: 'dist/esm', ext: '.mjs'}
  const clientNode = {library: '@kubernetes/client-node', files: 'dist', ext: '.js'}
  return [
    {
      ...minio,
      pkg: 'lodash',
      form: /^import (_) from 'lodash';$/,
      members: ['chunk', 'isEmpty', 'mapKeys', 'mapValues', 'pick', 'pickBy'],
      contents: (members) => `module.exports = {${members.map((f) => `${f}: require('lodash/${f}.js')`).join(', ')}}`,
    },
    {
      ...minio,
      pkg: 'async',
      form: /^import \* as (async) from 'async';$/,
      members: ['eachSeries'],
      contents: () => "module.exports = {get eachSeries() { return require('async/eachSeries.js') }}",
    },
    {
      ...minio,
      pkg: 'mime-types',
      form: /^import \* as (mime) from 'mime-types';$/,
      members: ['lookup'],
      contents: () => "module.exports = {lookup: (path) => require('mime-types').lookup(path)}",
    },
    {
      ...minio,
      pkg: 'block-stream2',
      form: /^import (BlockStream2) from 'block-stream2';$/,
      construct: true,
      contents: () => "module.exports = function BlockStream2(options) { const Block = require('block-stream2'); return new Block(options) }",
    },
    {
      ...minio,
      pkg: 'xml2js',
      form: /^import (xml2js) from 'xml2js';$/,
      members: ['Builder'],
      // `new xml2js.Builder(options)`, whose builders minio only asks to buildObject (one of them made at load)
      builders: true,
      contents: () =>
        "module.exports = {Builder: function Builder(options) { let b; return {buildObject: (o) => (b ??= new (require('xml2js').Builder)(options)).buildObject(o)} }}",
    },
    {
      ...clientNode,
      pkg: 'socks-proxy-agent',
      form: /^import \{ (SocksProxyAgent) \} from 'socks-proxy-agent';$/,
      construct: true,
      contents: () =>
        "module.exports = {SocksProxyAgent: function SocksProxyAgent(proxy, options) { const Agent = require('socks-proxy-agent').SocksProxyAgent; return new Agent(proxy, options) }}",
    },
    {
      // node-fetch's CommonJS build and its ES module build (both .js in lib/)
      library: 'node-fetch',
      files: 'lib',
      ext: '.js',
      pkg: 'whatwg-url',
      form: /^(?:import (whatwgUrl) from 'whatwg-url';|var (whatwgUrl) = _interopDefault\(require\('whatwg-url'\)\);)$/,
      members: ['URL'],
      contents: () => "module.exports = {URL: require('node:url').URL}",
    },
    {
      ...clientNode,
      pkg: 'jsonpath-plus',
      form: /^import \* as (jsonpath) from 'jsonpath-plus';$/,
      members: ['JSONPath'],
      contents: () => "module.exports = {JSONPath: (options) => require('jsonpath-plus').JSONPath(options)}",
    },
  ]
}

function slimImportsPlugin() {
  const entries = slimImports()
  slimUses(entries)
  const at = (library) => new RegExp(`[\\\\/]node_modules[\\\\/]${library.replace('/', '[\\\\/]')}[\\\\/]`)
  return {
    name: 'slim-imports',
    setup(b) {
      b.onResolve({filter: new RegExp(`^(${[...new Set(entries.map((e) => e.pkg))].join('|')})$`)}, (args) => {
        const e = entries.find((x) => x.pkg === args.path && at(x.library).test(args.importer))
        // the package is resolved from the library's file, as its own import would be (a copy nested under the library)
        return e && {path: `${e.library}:${e.pkg}`, namespace: 'slim-imports', pluginData: {resolveDir: path.dirname(args.importer)}}
      })
      b.onLoad({filter: /.*/, namespace: 'slim-imports'}, (args) => {
        const e = entries.find((x) => `${x.library}:${x.pkg}` === args.path)
        return {contents: e.contents(e.members), loader: 'js', resolveDir: args.pluginData.resolveDir}
      })
    },
  }
}

/**
 * Each library's use of the packages slimImports hands out: the import form and the uses it provides, nothing else.
 * Read with TypeScript's parser (a devDependency, as the build is), so comments, strings and regular expressions are
 * never taken for code: every reference to the package's local name must be a member in `members`, or with
 * `construct` a `new`; xml2js's builders are only asked to buildObject.
 */
function slimUses(entries) {
  const ts = requireFromRoot('typescript')
  const sources = new Map()
  const filesOf = (e) => {
    const dir = path.join(path.dirname(requireFromRoot.resolve(`${e.library}/package.json`)), e.files)
    const key = `${dir}|${e.ext}`
    if (!sources.has(key))
      sources.set(
        key,
        readdirSync(dir, {recursive: true})
          .map((f) => path.join(dir, String(f)))
          .filter((f) => f.endsWith(e.ext))
          .map((f) => [f, readFileSync(f, 'utf8')]),
      )
    return sources.get(key)
  }
  const walk = (node, f) => {
    f(node)
    ts.forEachChild(node, (c) => walk(c, f))
  }
  for (const e of entries) {
    const stop = (file, why) => {
      throw new Error(`bin/bundle.mjs slimImports: ${path.relative(ROOT, file)}: ${why}; update slimImports`)
    }
    for (const [file, source] of filesOf(e)) {
      const imports = (l) => (l.startsWith('import') || l.includes('require(')) && (l.includes(`'${e.pkg}'`) || l.includes(`"${e.pkg}"`))
      const lines = source.split('\n').filter(imports)
      if (lines.length === 0) continue
      const m = lines.length === 1 && e.form.exec(lines[0])
      if (!m) stop(file, `imports ${e.pkg} as ${JSON.stringify(lines.join(' '))}`)
      const local = m.slice(1).find(Boolean)
      const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
      // names given to builders (`const builder = new xml2js.Builder(…)`), checked below
      const builders = new Set()
      walk(sf, (n) => {
        if (!ts.isIdentifier(n) || n.text !== local) return
        const parent = n.parent
        // the import itself, and other things of the same name (a destructuring's `_` in `const [_, o] = …`)
        if (ts.isImportClause(parent) || ts.isNamespaceImport(parent) || ts.isImportSpecifier(parent)) return
        if ((ts.isVariableDeclaration(parent) || ts.isBindingElement(parent) || ts.isParameter(parent)) && parent.name === n) {
          if (ts.isVariableDeclaration(parent) && lines[0].startsWith('var ') && parent.getText().includes(`'${e.pkg}'`)) return
          if (ts.isBindingElement(parent)) return
          stop(file, `declares another ${local}`)
        }
        if (ts.isPropertyAccessExpression(parent) && parent.expression === n) {
          const member = parent.name.text
          if (!(e.members ?? []).includes(member)) stop(file, `uses ${e.pkg}'s ${member}`)
          if (e.builders && member === 'Builder') {
            const made = parent.parent
            if (!ts.isNewExpression(made) || made.expression !== parent) stop(file, `uses ${local}.Builder other than as \`new\``)
            const use = made.parent
            if (ts.isVariableDeclaration(use) && ts.isIdentifier(use.name)) builders.add(use.name.text)
            else if (!(ts.isPropertyAccessExpression(use) && use.name.text === 'buildObject'))
              stop(file, 'makes an xml2js builder it does not only ask to buildObject')
          }
          return
        }
        if (e.construct && ts.isNewExpression(parent) && parent.expression === n) return
        stop(file, `uses ${local} other than ${e.construct ? `as \`new ${local}(…)\`` : 'through its members'}`)
      })
      walk(sf, (n) => {
        if (!ts.isIdentifier(n) || !builders.has(n.text)) return
        const parent = n.parent
        if (ts.isVariableDeclaration(parent) && parent.name === n) return
        if (!(ts.isPropertyAccessExpression(parent) && parent.expression === n && parent.name.text === 'buildObject'))
          stop(file, `asks the xml2js builder ${n.text} for more than buildObject`)
      })
    }
  }
}

/**
 * @oclif/plugin-autocomplete's package exports only an empty index: its commands are meant to be loaded by
 * oclif's plugin loader from their own files. obsctl bundles them instead (src/commands/autocomplete/,
 * typed through tsconfig.json's `paths`), so `@oclif/plugin-autocomplete/lib/…` is resolved to the file.
 */
function pluginInternals() {
  return {
    name: 'plugin-internals',
    setup(b) {
      b.onResolve({filter: /^@oclif\/plugin-autocomplete\/lib\//}, (args) => ({path: path.join(ROOT, 'node_modules', args.path)}))
    },
  }
}

/**
 * yaml's parser reads `process.env.LOG_TOKENS` (a debugging aid of yaml's own developers) once per lexical
 * token: a 1,000-cluster inventory is ~150,000 tokens, and each read of process.env is a call into C++
 * (profiled: the parser's largest self time). The bundle's copy reads it once, at load.
 */
function yamlNoTokenLog() {
  const load = "var node_process = require('process');"
  return sourcePatch('yamlNoTokenLog', /[\\/]node_modules[\\/]yaml[\\/]dist[\\/]parse[\\/]parser\.js$/, [
    [load, `${load}\nconst LOG_TOKENS = Boolean(node_process.env.LOG_TOKENS);`],
    ['if (node_process.env.LOG_TOKENS)', 'if (LOG_TOKENS)'],
  ])
}

/**
 * src/lib/lazy-deps.ts hands out dependencies through functions (`export const name = () => local`, each `local`
 * a default import); in tsc's output they are plain imports. Here each package becomes a bundle entry of its own,
 * dist/chunks/lazy/<package>.js (its default import as the entry's default export), and each function a require()
 * of that file, run at the first call: the package's code is neither read nor run by a command that never calls
 * it (yaml's 174 KB chunk was read by every command that imports lazy-deps, when it shared their chunk). The file
 * is read as it is (a line of another shape stops the build), and no other module of obsctl may import these
 * packages: its import would bundle them into its own chunk again. zod is a namespace import (`import * as`): its
 * entry keeps the members obsctl calls, 116 KiB, where the whole namespace (or its CommonJS build) carries every
 * locale (470 KiB).
 */
function lazyDeps() {
  const file = path.join(DIST, 'lib', 'lazy-deps.js')
  const stop = (why) => {
    throw new Error(`bin/bundle.mjs lazyDeps: ${why}`)
  }
  // function name → package, from the file's own imports and exports; a namespace import (`import * as x`) is
  // handed out as an object of the members obsctl calls (below)
  const lazy = new Map()
  const from = new Map()
  const namespaces = new Set()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line || line.startsWith('//') || /^\s*\/?\*/.test(line)) continue
    const imp = /^import (\* as )?(\w+) from '([^']+)';$/.exec(line)
    const exp = /^export const (\w+) = \(\) => (\w+);$/.exec(line)
    if (imp) {
      from.set(imp[2], imp[3])
      if (imp[1]) namespaces.add(imp[3])
    } else if (exp && from.has(exp[2])) lazy.set(exp[1], from.get(exp[2]))
    else stop(`src/lib/lazy-deps.ts: a line of a shape this step does not turn into a require(): ${line}`)
  }
  const pkgs = [...new Set([...lazy.values()].map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0])))]
  const ownModule = (importer) => importer.startsWith(path.join(DIST, 'lib') + path.sep)
  // one entry per imported module (semver's two functions are two), named after it
  const entryName = (pkg) => pkg.replace(/\.js$/, '').replace(/[^\w.-]/g, '-')
  const entries = [...new Set(lazy.values())].map((pkg) => ({in: `obsctl-lazy-pkg:${pkg}`, out: `chunks/lazy/${entryName(pkg)}`}))
  // A namespace import's entry keeps only the members obsctl calls, so that esbuild keeps of the package what a
  // plain import would (zod: every locale otherwise): each use must read `name().member`, or `alias.member` after a
  // `const alias = name();` (inside the function that builds a schema: at the top of a module it would load the
  // package with the module), found in tsc's output.
  const membersKnown = new Map()
  const membersOf = (pkg) => {
    if (membersKnown.has(pkg)) return membersKnown.get(pkg)
    const members = new Set()
    for (const [fn, p] of lazy) {
      if (p !== pkg) continue
      for (const f of jsFiles(path.join(DIST, 'lib'))) {
        if (f === file) continue
        const aliasDecl = new RegExp(`\\bconst (\\w+) = ${fn}\\(\\);`, 'g')
        const text = readFileSync(f, 'utf8')
        for (const m of text.matchAll(new RegExp(`\\b${fn}\\(\\)\\s*\\.(\\w+)`, 'g'))) members.add(m[1])
        for (const [, alias] of text.matchAll(aliasDecl)) for (const m of text.matchAll(new RegExp(`(?<![\\w.$])${alias}\\.(\\w+)`, 'g'))) members.add(m[1])
        if (new RegExp(`^const \\w+ = ${fn}\\(\\);`, 'm').test(text))
          stop(`${path.relative(DIST, f)}: const alias = ${fn}() at the top of a module loads the package with the module`)
        if (new RegExp(`\\b${fn}\\(\\)(?!\\s*\\.\\w)`).test(text.replace(aliasDecl, '')))
          stop(`${path.relative(DIST, f)} uses ${fn}() other than as ${fn}().member or const alias = ${fn}()`)
      }
    }
    if (members.size === 0) stop(`no module calls a member of ${pkg}`)
    membersKnown.set(pkg, [...members].sort())
    return membersKnown.get(pkg)
  }
  return {
    entries,
    plugin: {
      name: 'lazy-deps',
      setup(b) {
        b.onResolve({filter: new RegExp(`^(${pkgs.map(escapeRegExp).join('|')})(/|$)`)}, (args) => {
          if (ownModule(args.importer) && args.importer !== file) stop(`${path.relative(DIST, args.importer)} imports ${args.path}; use src/lib/lazy-deps.ts`)
          return undefined
        })
        // the entry: the package's default import (what `import x from 'pkg'` gives tsc's output: module.exports)
        b.onResolve({filter: /^obsctl-lazy-pkg:/}, (args) => ({path: args.path.slice('obsctl-lazy-pkg:'.length), namespace: 'obsctl-lazy-pkg'}))
        b.onLoad({filter: /.*/, namespace: 'obsctl-lazy-pkg'}, (args) => ({
          contents: namespaces.has(args.path)
            ? // each member under a local name of its own (zod exports `enum`, a reserved word)
              `import {${membersOf(args.path)
                .map((m, i) => `${m} as m${i}`)
                .join(', ')}} from ${JSON.stringify(args.path)}\nexport default {${membersOf(args.path)
                .map((m, i) => `${JSON.stringify(m)}: m${i}`)
                .join(', ')}}\n`
            : `import lazy from ${JSON.stringify(args.path)}\nexport default lazy\n`,
          loader: 'js',
          resolveDir: ROOT,
        }))
        // the functions: a call the step after pass 2 turns into a require() of the entry's path relative to the
        // file the call ends up in (esbuild's own require shim lives in a shared chunk, whose folder is not the caller's)
        b.onLoad({filter: /[\\/]lazy-deps\.js$/}, (args) => {
          if (args.path !== file) return undefined
          const contents = [...lazy]
            .map(([name, pkg]) => `export const ${name} = () => __obsctl_lazy_require(${JSON.stringify(`obsctl-lazy-entry:${entryName(pkg)}`)}).default`)
            .join('\n')
          return {contents, loader: 'js', resolveDir: path.dirname(file)}
        })
      },
    },
  }
}

/**
 * @oclif/core's Config.load asks `getPlatform()` on every start, which imports wsl-utils (is-wsl, is-docker,
 * is-inside-container, powershell-utils: ~5 ms, six modules and their file reads) to tell WSL from Linux. The
 * bundle's copy first checks what is-wsl itself checks before it answers true (a Linux kernel whose release or
 * /proc/version names Microsoft, or WSL's interop or /run/WSL present) and imports wsl-utils only then: where
 * none of these holds, is-wsl says false, and so does the check.
 */
function oclifWslCheck() {
  const check = [
    "const fs = require('node:fs');",
    "const maybe = process.platform === 'linux' && ((0, node_os_1.release)().toLowerCase().includes('microsoft')",
    "  || (() => { try { return fs.readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft') } catch { return false } })()",
    "  || fs.existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || fs.existsSync('/run/WSL'));",
    "return maybe && (await import('wsl-utils')).isWsl ? 'wsl' : (0, node_os_1.platform)();",
  ].join('\n')
  return sourcePatch('oclifWslCheck', /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/, [
    ["return (await import('wsl-utils')).isWsl ? 'wsl' : (0, node_os_1.platform)();", check],
  ])
}

/**
 * @oclif/core's Plugin.load sorts the plugin's commands by id with String#localeCompare on every start: the
 * first localeCompare of a process builds ICU's collator, 10–15 ms of CPU (~4% of `plan`'s start-up) for ~60
 * short ids. The bundle's copy compares code units. The order is the same for obsctl's command ids — lower-case
 * letters, digits, `:` and `-` — which test/cli/commands-doc.test.ts checks against localeCompare over the manifest.
 */
function oclifCommandSort() {
  return sourcePatch('oclifCommandSort', /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/, [
    ['.sort((a, b) => a.id.localeCompare(b.id));', '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'],
  ])
}

/**
 * Reading process.stdout or process.stderr makes Node build the stream (for a pipe a net.Socket: node:net and the
 * stream modules; for a file or /dev/null the stream modules): ~15M instructions, ~8% of a `plan`'s start-up. A
 * command's own output goes to a file or a pipe without them (src/lib/stdio.ts); these dependencies read them when they
 * load, and their copies in the bundle no longer do: @oclif/core's screen.js (the width its help and error messages
 * wrap to, now worked out at its first read), its ux/index.js (a spinner or plain lines for ux.action, on stderr), the
 * action it makes (the streams' write functions, now read when used), its command.js (an EPIPE handler on stdout, now
 * installed when Node makes the stream) and ansis (whether oclif's theme colours stdout). Whether stdout or stderr is a
 * terminal is src/lib/stdio.ts's answer, which bin/run.js installs on the global before the bundle loads (without it,
 * the streams as before).
 */
function stdioWithoutStreams() {
  const oclif = inPackage('@oclif/core/lib')
  const isTerminal = (fd, stream) => `(globalThis[Symbol.for('obsctl.stdio')]?.isTerminal(${fd}) ?? ${stream})`
  return [
    sourcePatch('stdioWithoutStreams (oclif screen.js)', oclif('screen.js'), [
      [
        'exports.stdtermwidth = columns || termwidth(process.stdout);\nexports.errtermwidth = columns || termwidth(process.stderr);',
        [
          'let stdWidth, errWidth;',
          "Object.defineProperty(exports, 'stdtermwidth', { enumerable: true, get: () => (stdWidth ??= columns || termwidth(process.stdout)) });",
          "Object.defineProperty(exports, 'errtermwidth', { enumerable: true, get: () => (errWidth ??= columns || termwidth(process.stderr)) });",
        ].join('\n'),
      ],
    ]),
    sourcePatch('stdioWithoutStreams (oclif ux/index.js)', oclif('ux/index.js'), [
      ['const ACTION_TYPE = (Boolean(process.stderr.isTTY) &&', `const ACTION_TYPE = (Boolean(${isTerminal(2, 'process.stderr.isTTY')}) &&`],
    ]),
    // the write functions it puts back after drawing a spinner, read when it is made (ux/index.js makes one at load)
    sourcePatch('stdioWithoutStreams (oclif ux/action/base.js)', oclif('ux/action/base.js'), [
      [
        '    stdmockOrigs = {\n        stderr: process.stderr.write,\n        stdout: process.stdout.write,\n    };',
        '    stdmockOrigs = {\n        get stderr() { return process.stderr.write; },\n        get stdout() { return process.stdout.write; },\n    };',
      ],
    ]),
    // its EPIPE handler on stdout (`obsctl … | head`), installed when it loads: now when Node makes the stream
    sourcePatch('stdioWithoutStreams (oclif command.js)', oclif('command.js'), [
      [
        "process.stdout.on('error', (err) => {\n    if (err && err.code === 'EPIPE')\n        return;\n    throw err;\n});",
        [
          "const swallowEpipe = (stdout) => stdout.on('error', (err) => {\n    if (err && err.code === 'EPIPE')\n        return;\n    throw err;\n});",
          "const obsctlStdio = globalThis[Symbol.for('obsctl.stdio')];",
          'if (obsctlStdio) obsctlStdio.whenMade(1, swallowEpipe); else swallowEpipe(process.stdout);',
        ].join('\n'),
      ],
    ]),
    sourcePatch('stdioWithoutStreams (ansis)', exactFile(path.join(ROOT, 'node_modules', 'ansis', 'index.js')), [
      ['(l?r.isatty(1):!!s.stdout?.isTTY)', `(l?r.isatty(1):${isTerminal(1, '!!s.stdout?.isTTY')})`],
    ]),
  ]
}

/**
 * @oclif/core's help passes every summary, description and example through `ejs.render`, which compiles each
 * text into a function (`new Function`) before running it: ~10 ms of CPU of `--help` (~60 commands), for texts
 * of which only the examples hold a tag (`<%= config.bin %>`). Text without `<%` has no tag, and ejs gives it
 * back unchanged; the bundle's copy returns such text as it is. test/cli/commands-doc.test.ts checks that ejs
 * returns every text of the manifest without a tag unchanged.
 */
function oclifPlainHelpText() {
  return sourcePatch('oclifPlainHelpText', /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]help[\\/]util\.js$/, [
    ['return ejs_1.default.render(t, context);', "return typeof t === 'string' && !t.includes('<%') ? t : ejs_1.default.render(t, context);"],
  ])
}

/**
 * What @oclif/core requires at load but uses only on a rare path, required by the bundle's copy when first used
 * (each a __commonJS wrapper, run at its first require): measured per module in the bundle, with the code
 * cache, ~4 ms of every command's start-up.
 * - `debug` (with supports-color and node:tty, which loads node:net): oclif's logger makes a debug function per
 *   namespace, which prints only for namespaces DEBUG names; the debug package reads DEBUG once, at load, and
 *   oclif never enables a namespace itself. Without DEBUG (unset or empty) no namespace is enabled, so the
 *   logger's functions are no-ops and debug is not loaded; with it, debug as before.
 * - the help renderer (`help/index`: command and root help, formatter, ux's spinner): the runner asks it only
 *   for `--help` and the error handler only to show help for an error; the two helpers the runner calls on
 *   every start (`getHelpFlagAdditions`, `normalizeArgv`) are help/util's, which config.js loads anyway.
 * - tinyglobby (fdir, picomatch): globbing a plugin's command files, done only for a plugin without a
 *   manifest (obsctl has oclif.manifest.json); minimatch: matching `oclif.plugins` patterns, none in obsctl.
 * - node:perf_hooks: oclif's performance markers, made only with OCLIF_PERFORMANCE (Performance.enabled);
 *   node:child_process: asking PowerShell for the parent process, on Windows only.
 * - node:fs/promises (~1–2 ms: it loads the streams): oclif reads package.json and its manifest with it at every
 *   start; the bundle's readJson reads them with readFileSync inside the same async function (an error is the
 *   same rejection), and the rest (stat for Flags.file, the TypeScript paths for development) require it when used.
 * - node:readline: the parser reads stdin with it for a flag or argument given as `-`, which no obsctl flag takes.
 * - wrap-ansi (with strip-ansi, ansi-styles and string-width), widest-line: oclif's errors wrap with it only when
 *   rendering an error of their own (obsctl prints its errors itself: src/lib/cli/error-output.ts), and its help
 *   formatter only in the wrap and list that obsctl's help class replaces (src/help/obsctl-help.ts): every start
 *   loaded them, `--help` included.
 * - lilconfig (which takes `fs.promises` at load, ~3 ms): searched for an `.oclifrc` only when package.json has no
 *   `oclif` section, and obsctl's has one; supports-color (node:tty, which loads node:net, and node:os): asked only
 *   when oclif colours help, an error or a warning (obsctl's own output colours through chalk), and not even then
 *   when stdout is no terminal and neither FORCE_COLOR nor a `--color…`/`--no-color…` argument is given: there
 *   supports-color answers 0 for stdout (its `haveStream && !streamIsTTY && forceColor === undefined`), and oclif
 *   colours only when both stdout and stderr may (`--help > file` loaded tty and net for that answer).
 * test/cli/commands-doc.test.ts runs each rare path (DEBUG output, help, help for an error).
 */
function oclifLazyRequires() {
  const lib = inPackage('@oclif/core/lib')
  // `const local = require("module");` becomes an object whose getters require the module at the first use of a member
  const lazily = (local, module, members) => [
    `const ${local} = require(${JSON.stringify(module)});`,
    `const ${local} = { ${members.map((m) => `get ${m}() { return require(${JSON.stringify(module)}).${m}; }`).join(', ')} };`,
  ]
  // `const local = __importDefault(require("module"));` likewise, for a package whose default export is what is used
  const lazyDefault = (local, module) => [
    `const ${local} = __importDefault(require(${JSON.stringify(module)}));`,
    `const ${local} = { get default() { return __importDefault(require(${JSON.stringify(module)})).default; } };`,
  ]
  const patches = [
    [
      'logger.js',
      [
        ['const debug_1 = __importDefault(require("debug"));', 'const debug_1 = { get default() { return __importDefault(require("debug")).default; } };'],
        ['const debug = (0, debug_1.default)(namespace);', 'const debug = process.env.DEBUG ? (0, debug_1.default)(namespace) : () => {};'],
      ],
    ],
    [
      'main.js',
      [
        [
          'const help_1 = require("./help");',
          'const help_util_1 = require("./help/util");\nconst help_1 = { getHelpFlagAdditions: help_util_1.getHelpFlagAdditions, normalizeArgv: help_util_1.normalizeArgv, loadHelpClass: (config) => require("./help").loadHelpClass(config) };',
        ],
      ],
    ],
    ['errors/handle.js', [lazily('index_1', '../help/index', ['Help'])]],
    // the help flag's parse loads the help class; ejs renders help texts that hold a tag (`<%= config.bin %>`) and
    // the update plugin's S3 keys (Config#s3Key), never a command's run; the terminal spinner runs only on a
    // terminal outside CI
    ['flags.js', [lazily('help_1', './help', ['loadHelpClass'])]],
    // Command.run (static) loads the configuration; a command run directly (src/direct.ts) has its own
    ['command.js', [lazily('config_1', './config', ['Config'])]],
    ['config/config.js', [lazyDefault('ejs_1', 'ejs')]],
    ['help/util.js', [lazyDefault('ejs_1', 'ejs')]],
    ['ux/index.js', [lazyDefault('spinner_1', './action/spinner')]],
    ['errors/errors/cli.js', [lazyDefault('wrap_ansi_1', 'wrap-ansi')]],
    ['errors/errors/pretty-print.js', [lazyDefault('wrap_ansi_1', 'wrap-ansi')]],
    [
      'help/formatter.js',
      [lazyDefault('wrap_ansi_1', 'wrap-ansi'), lazyDefault('string_width_1', 'string-width'), lazyDefault('widest_line_1', 'widest-line')],
    ],
    ['config/plugin.js', [lazily('tinyglobby_1', 'tinyglobby', ['glob'])]],
    ['performance.js', [lazily('node_perf_hooks_1', 'node:perf_hooks', ['performance', 'PerformanceObserver'])]],
    ['util/os.js', [lazily('node_child_process_1', 'node:child_process', ['execSync'])]],
    [
      'util/fs.js',
      [
        lazily('promises_1', 'node:fs/promises', ['stat']),
        ["const contents = await (0, promises_1.readFile)(path, 'utf8');", "const contents = (0, node_fs_1.readFileSync)(path, 'utf8');"],
      ],
    ],
    ['config/ts-path.js', [lazily('promises_1', 'node:fs/promises', ['access'])]],
    ['util/read-tsconfig.js', [lazily('promises_1', 'node:fs/promises', ['readdir', 'readFile'])]],
    ['parser/parse.js', [lazily('node_readline_1', 'node:readline', ['createInterface'])]],
    ['config/plugin-loader.js', [lazily('minimatch_1', 'minimatch', ['minimatch'])]],
    ['util/read-pjson.js', [lazily('lilconfig_1', 'lilconfig', ['lilconfig'])]],
    [
      'ux/supports-color.js',
      [
        lazily('supports_color_1', 'supports-color', ['stdout', 'stderr']),
        [
          'function supportsColor() {\n',
          "function supportsColor() {\n    if (!process.stdout.isTTY && !('FORCE_COLOR' in process.env) && !process.argv.some((a) => a.startsWith('--color') || a.startsWith('--no-color'))) return false;\n",
        ],
      ],
    ],
  ]
  return patches.map(([f, edits]) => sourcePatch(`oclifLazyRequires (${f})`, lib(f), edits))
}

/**
 * string-width 4 (oclif's help formatter measures every word it wraps with it, through wrap-ansi) strips ANSI codes
 * and replaces emoji with emoji-regex 8's pattern, some 10 KB of alternatives, before it counts: ~10 ms of
 * `obsctl --help` (profiled). A text of printable ASCII only (U+0020 to U+007E) holds no escape, no emoji sequence
 * (every one has a code point beyond ASCII) and no control, combining or wide character, so its width is its
 * length, which the bundle's copy returns at once; any other text is measured as before.
 * test/cli/commands-doc.test.ts compares every command's help through the bundle with oclif's over the packages as
 * installed.
 */
function stringWidthAscii() {
  const strip = '\tstring = stripAnsi(string);\n'
  // the top-level copy only (oclif's); listr2 and log-update have later majors of their own
  const file = path.join(ROOT, 'node_modules', 'string-width', 'index.js')
  return sourcePatch('stringWidthAscii', exactFile(file), [[strip, `\tif (!/[^\\x20-\\x7e]/.test(string)) {\n\t\treturn string.length;\n\t}\n\n${strip}`]])
}

/**
 * Node builtins ssh2 requires at load for paths an obsctl connection never takes, each required at its first use
 * instead: child_process (with dgram and dns: Pageant and Cygwin agents, on Windows), assert (its SFTP `fs`
 * compatibility checks, on a caller's mistake; and asn1's, which ssh2 uses where it reads a private key file) and dns
 * (a lookup only when an address family is forced; obsctl connects to addresses and names as given). `node preflight`
 * to its first connection: 0.92x, paired over 31 runs.
 */
function ssh2LazyBuiltins() {
  const lib = inPackage('ssh2/lib')
  return [
    sourcePatch('ssh2LazyChildProcess', lib('agent.js'), [
      [
        "const { execFile, spawn } = require('child_process');",
        "const execFile = (...args) => require('child_process').execFile(...args);\nconst spawn = (...args) => require('child_process').spawn(...args);",
      ],
    ]),
    sourcePatch('ssh2LazyAssert', lib('protocol/node-fs-compat.js'), [
      ["const assert = require('assert');", "const assert = (...args) => require('assert')(...args);"],
    ]),
    // asn1 (ssh2 writes a key it read as DER with it) checks its own arguments with assert: node:assert loads Node's
    // colour support, which reads process.stderr (src/lib/stdio.ts); the same checks, assert loaded only to fail one
    ...['reader.js', 'writer.js'].map((f) =>
      sourcePatch(`asn1LazyAssert (${f})`, inPackage('asn1/lib/ber')(f), [
        [
          "var assert = require('assert');",
          "var assert = {\n  ok: function (v, m) { if (!v) require('assert').ok(v, m); },\n  equal: function (a, b, m) { if (a != b) require('assert').equal(a, b, m); }\n};",
        ],
      ]),
    ),
    sourcePatch('ssh2LazyDns', lib('client.js'), [
      ["const { lookup: dnsLookup } = require('dns');", "const dnsLookup = (...args) => require('dns').lookup(...args);"],
    ]),
  ]
}

/** ansis's `strip` regular expression holds a raw U+009B (CSI): written as its escape, as the bundle is ASCII. */
function ansisAscii() {
  const file = path.join(ROOT, 'node_modules', 'ansis', 'index.js')
  return sourcePatch('ansisAscii', exactFile(file), [['/[\u001b\u009b][[()#;?]*', '/[\\x1b\\x9b][[()#;?]*']])
}

/** A string as it reads inside a regular expression. */
function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** The one file at this path (not a copy of the package nested elsewhere). */
function exactFile(file) {
  return new RegExp(`^${escapeRegExp(file)}$`)
}

/** A file under a folder of a package (`ssh2/lib`), wherever npm put the package, by its path there (`client.js`). */
function inPackage(folder) {
  return (f) => new RegExp(`[\\\\/]node_modules[\\\\/]${[...folder.split('/'), ...f.split('/')].map(escapeRegExp).join('[\\\\/]')}$`)
}

/**
 * A dependency's file as the bundle keeps it: each `from` replaced by its `to`. Each must be found exactly once,
 * else the build stops naming the patch (a new version of the package is then looked at again).
 */
function sourcePatch(name, file, edits) {
  return {name, file, edits}
}

/**
 * One esbuild plugin for every source patch (esbuild loads a file with the first onLoad that answers: patches of one
 * file go together); `applied` gets the name of each patch that found its file (the build stops if one did not).
 */
function sourcePatches(patches, applied) {
  return {
    name: 'source-patches',
    setup(b) {
      b.onLoad({filter: new RegExp(patches.map((p) => p.file.source).join('|'))}, (args) => {
        const mine = patches.filter((p) => p.file.test(args.path))
        if (mine.length === 0) return undefined
        let text = readFileSync(args.path, 'utf8')
        for (const {name, edits} of mine) {
          for (const [from, to] of edits) {
            if (text.split(from).length !== 2) throw new Error(`bin/bundle.mjs: ${args.path} no longer holds ${JSON.stringify(from)} once; update ${name}`)
            text = text.replace(from, () => to)
          }
          applied.add(name)
        }
        return {contents: text, loader: 'js'}
      })
    },
  }
}

function nearestPackageType(file) {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).type ?? 'commonjs'
    } catch {}
  }
  return 'commonjs'
}
