// Start-up bundle (DESIGN.md §6), run by `npm run build` after tsc and before `oclif manifest`.
//
// Start-up time is mostly module loading: --help reads ~150 files of @oclif/core and its
// dependencies, `config validate` ~300 with yaml and zod, `plan` ~370. Node 20 has no compile cache,
// and per file it resolves, stats, reads and compiles. So the runner (dist/main.js) and each command
// (dist/commands/**) are bundled in place with esbuild, code splitting on: code shared by several
// entries goes to dist/chunks/, loaded once, so runner and commands share one @oclif/core. Dynamic
// imports stay dynamic (lazy phases, lazy heavy dependencies).
//
// Bundled: only packages that start-up loads statically and that do not depend on where their own files
// are (BUNDLED; write-file-atomic is not one: it hashes its own __filename into temp file names). Every
// other dependency stays an import from node_modules, as before: the heavy ones are loaded lazily where
// used (DESIGN.md §6), and a dependency added later is external unless it is added here. dist/lib/ stays
// tsc's output (tests import it); the CLI itself no longer loads it.
import {build} from 'esbuild'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const DIST = path.join(ROOT, 'dist')
const BUNDLED = ['@oclif/core', 'yaml', 'zod', 'eta']
// optional requires inside @oclif/core (TypeScript support for development): resolved at run time, never bundled
const OPTIONAL = ['typescript', 'ts-node', 'tsx', 'pnpapi']

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
for (const b of BUNDLED) if (!pkg.dependencies[b]) throw new Error(`bin/bundle.js: ${b} is not a dependency any more`)
const external = [...Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d)), ...OPTIONAL].flatMap((d) => [d, `${d}/*`])

const jsFiles = (dir) =>
  readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []))

const result = await build({
  entryPoints: [path.join(DIST, 'main.js'), ...jsFiles(path.join(DIST, 'commands'))],
  outdir: DIST,
  outbase: DIST,
  allowOverwrite: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // the CommonJS packages bundled into ES modules call require() for Node built-ins
  banner: {js: "import {createRequire as __obsctlCreateRequire} from 'node:module';const require = __obsctlCreateRequire(import.meta.url);"},
  // less to read and parse (~10 ms on `plan`); identifiers stay, and class and function names stay as
  // written (error classes are told apart by constructor name); source maps lead back to src/
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
})

// esbuild exposes a bundled CommonJS module reached by a dynamic import() as a chunk with a default
// export only, where Node gives named exports too: `const {parse} = await import('yaml')` would get
// undefined. Import bundled CommonJS packages (yaml, @oclif/core) statically instead; stop here if not.
const cjsOnly = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js') && /\bexport default require_\w+\(\)/.test(readFileSync(path.join(ROOT, f), 'utf8')))
if (cjsOnly.length > 0) {
  throw new Error(
    `bin/bundle.js: ${cjsOnly.join(', ')}: a bundled CommonJS package (${BUNDLED.join(', ')}) is imported with import(); ` +
      'its named exports would be undefined. Import it statically (grep -rn "import(\'" src).',
  )
}
