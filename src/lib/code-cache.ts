/**
 * V8 code cache for the CLI's start-up bundle (DESIGN.md §6, issue 18): compiling JavaScript is 30–40% of
 * start-up CPU, and Node 20 has no compile cache (`module.enableCompileCache` came in Node 22). So
 * bin/run.js installs this before it requires the bundle: every CommonJS file of the bundle (bin/bundle.mjs:
 * dist/chunks/, dist/commands/, dist/help/, dist/hooks/) is compiled as a `vm.Script` with the cached data of the previous run, and
 * the scripts compiled without usable data have theirs written when the process exits (after the command
 * ran, so the functions it ran are in it).
 *
 * Where: `$XDG_CACHE_HOME/obsctl/code-cache/<key>/` (else `~/.cache/...`), one folder per obsctl version,
 * bundle content hash, Node version and architecture, so an upgrade of either never reads stale data (V8
 * also refuses data of another V8 version or other flags: then the file is compiled and its data rewritten).
 * Per user, never shared: the folders are created 0700 and the files 0600, and a folder that is not the
 * user's own or that others may write to is not used at all (V8 checks only the length of the source, so
 * data planted by another user would run as code). Each file records the size and mtime of the source it
 * was made from.
 *
 * The same folder keeps derived results (../derived-cache.ts, `data!<name>`: the input and what was
 * derived from it), under the same rules; bin/run.js hands the store to the bundle through a global.
 *
 * And a pack per command (`pack!<command>.js`, see usePack): the bundle files that command loads, as one script
 * with one cached data. A command loads 50–100 bundle files; each costs a stat, two reads and a V8 deserialisation
 * of its own, ~0.1 ms of CPU apiece: `plan` from its pack, 0.89x of the same files one by one (0.84x once the bundle
 * was all ASCII, bin/bundle.mjs).
 *
 * Never in the way: a read-only or unwritable cache folder, a missing home, a corrupt or truncated file —
 * the command runs as without a cache, silently. OBSCTL_CODE_CACHE=0 turns it off;
 * NODE_DEBUG=obsctl-code-cache prints where it is and what it read and wrote.
 */
import {isAscii} from 'node:buffer'
import fs from 'node:fs'
import Module from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {debuglog} from 'node:util'
import vm from 'node:vm'
import {DERIVED_CACHE, type DerivedCache} from './derived-cache.js'
import {joinPlain} from './join-plain.js'

// bin/run.js's one CommonJS file holds the root help's reader too: it answers before the bundle loads;
export {cachedRootHelp} from './root-help-cache.js'
// and which command line runs without oclif's runner
export {directCommand} from './cli/direct-command.js'
// and what notes, before anything reads them, when Node makes process.stdout and process.stderr
export {installStdio} from './stdio.js'

export interface CodeCacheOptions {
  /** the bundle's folders: every .js file under them is compiled through the cache */
  roots: string[]
  /** obsctl's version */
  version: string
  /** the bundle's content hash (dist/chunks/bundle.json, written by bin/bundle.mjs) */
  bundleId: string
  env?: NodeJS.ProcessEnv
}

export interface CodeCacheState {
  /** the folder used, or undefined: no cache this run */
  dir?: string
  /** why there is no cache */
  off?: string
  /** bundle files compiled from cached data / compiled from source / whose data was written at exit */
  hits: string[]
  misses: string[]
  written: string[]
  /** the command's pack (usePack), when there was one this run: its name, the files run from it, what happened to it (at exit) */
  pack?: {key: string; used: number; compiled?: boolean; rewritten?: boolean}
}

/** The state, and the pack to use (bin/run.js, once it knows the command). */
export interface CodeCache extends CodeCacheState {
  /**
   * Run the bundle files the command `key` loaded in earlier runs from its pack: one script in the cache folder holding
   * each file's text as a function (what Node's loader wraps a file in), written at the exit of a run that loaded
   * files the pack did not have (or found none, or a stale one), with its cached data written at the exit of the run
   * after. Used only while every file in it is as it was (size and mtime, as the per-file data), and never with
   * source maps on (a stack would name the pack, not the file). The lazily loaded libraries (chunks/lazy/: YAML, zod,
   * chalk…, client-node's model classes) stay out: a command loads them on some runs only, or only once its first
   * request is sent, and each run would pay for their code in the pack before it.
   */
  usePack(key: string): void
}

const FORMAT = 'obsctl-code-cache 2'
/** a pack's first line: this, then its files as JSON ([path under dist/, size, mtime in ms]) */
const PACK_FORMAT = '// obsctl-pack 1 '
const debug = debuglog('obsctl-code-cache')

/**
 * The folder name: obsctl version, bundle hash, Node version, architecture, and where the bundle is
 * installed (two installs of one version have sources of other mtimes: one folder each, or they would
 * keep replacing each other's data).
 */
export function codeCacheKey(o: {version: string; bundleId: string; node?: string; arch?: string; location: string}): string {
  const clean = (s: string) => s.replace(/[^\w.+-]/g, '_')
  return [`obsctl-${clean(o.version)}`, clean(o.bundleId), `node-${clean(o.node ?? process.version)}`, clean(o.arch ?? process.arch), fnv1a(o.location)].join(
    '-',
  )
}

/** FNV-1a, 32 bits, hex: a short stable name for a path (node:crypto costs more to load than it saves). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, '0')
}

/** The base cache folder: $XDG_CACHE_HOME when absolute (the XDG rule), else ~/.cache; undefined when there is no home. */
export function userCacheHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME
  if (xdg && path.isAbsolute(xdg)) return xdg
  const home = env.HOME || safe(() => os.homedir())
  return home && path.isAbsolute(home) ? path.join(home, '.cache') : undefined
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f()
  } catch {
    return undefined
  }
}

/**
 * Why `dir` must not be used (undefined: it may). `mine`: the folder must belong to this user and no one
 * else may write to it; else (the base cache folder) root may own it too, and a shared folder is allowed
 * with the sticky bit (others cannot rename what is ours).
 */
function unsafeDir(dir: string, uid: number, mine: boolean): string | undefined {
  const st = safe(() => fs.lstatSync(dir))
  if (!st) return undefined // does not exist (yet)
  if (!st.isDirectory()) return `${dir} is not a folder`
  if (st.uid !== uid && (mine || st.uid !== 0)) return `${dir} belongs to uid ${st.uid}`
  if (st.mode & 0o022 && (mine || !(st.mode & 0o1000))) return `${dir} may be written by others`
  return undefined
}

/** What is written at exit, by the file it goes to (a later entry for a file replaces the earlier one). */
type Pending = Map<string, PendingWrite>

interface PendingWrite {
  /** the bundle file whose compiled code this is; undefined for a derived result (../derived-cache.ts) */
  file?: string
  head: string
  /** undefined: nothing to write after all (a derived result with nothing new) */
  body: () => Buffer | string | undefined
}

/**
 * Compile the bundle's files through the code cache from now on in this process. Returns the state,
 * filled in as files load (and `written` at exit).
 */
export function installCodeCache(opts: CodeCacheOptions): CodeCache {
  const state: CodeCacheState = {hits: [], misses: [], written: []}
  const env = opts.env ?? process.env
  const base = userCacheHome(env)
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const top = base && path.join(base, 'obsctl', 'code-cache')
  if (env.OBSCTL_CODE_CACHE === '0' || env.OBSCTL_CODE_CACHE === 'off') state.off = 'OBSCTL_CODE_CACHE is off'
  else if (!base || !top) state.off = 'no home folder'
  else if (uid === undefined) state.off = 'no user id on this platform'
  else {
    const dir = path.join(top, codeCacheKey({...opts, location: path.resolve(opts.roots[0]!)}))
    state.off = unsafeDir(base, uid, false) ?? [path.dirname(top), top, dir].map((d) => unsafeDir(d, uid, true)).find(Boolean)
    if (!state.off) state.dir = dir
  }
  const roots = opts.roots.map((r) => path.resolve(r) + path.sep)
  const inBundle = (file: string) => roots.some((r) => file.startsWith(r))
  const pending: Pending = new Map()
  // every root is in the first one's parent (dist/): a prefix cut, not path.relative (path work is ~5% of a plan's start-up)
  const distDir = path.dirname(roots[0]!) + path.sep
  const lazyDir = `${distDir}chunks${path.sep}lazy${path.sep}`
  const cacheFileOf = (file: string) =>
    `${state.dir!}${path.sep}${(file.startsWith(distDir) ? file.slice(distDir.length) : path.relative(distDir, file)).replaceAll(path.sep, '!')}.v8`

  // Node's CommonJS loader hooks (_extensions, _resolveFilename, _cache) are not in @types/node; the casts name
  // the shapes Node 20 has (lib/internal/modules/cjs/loader.js), which is what installs a code cache at all
  const extensions = (Module as unknown as {_extensions: NodeJS.RequireExtensions})._extensions
  const resolveFilename = (Module as unknown as {_resolveFilename: (request: string, parent: NodeJS.Module, isMain: boolean, options?: unknown) => string})
    ._resolveFilename
  const moduleCache = (Module as unknown as {_cache: Record<string, NodeJS.Module | undefined>})._cache // require.cache
  const NodeModule = Module as unknown as new (id: string, parent: NodeJS.Module) => NodeJS.Module
  /**
   * A file of the bundle required by another under the name esbuild wrote ("./chunk-X.js", "../chunks/x.js"):
   * loaded as Node's loader loads a file (one Module per file in require.cache, a child of its first parent,
   * taken out of the cache again when it throws), without the loader's search for it: a stat per candidate name
   * and a realpath per file, 8–11 ms of a command's start-up over its 80–140 requires. The bundle is plain
   * files in its own folders, named exactly. And what Module.load does for a .js file, without working out the
   * folders a module would look for packages in again for each file of the same folder (~0.5 ms a command).
   */
  const nodeModulePaths = (Module as unknown as {_nodeModulePaths: (dir: string) => string[]})._nodeModulePaths
  const pathsByDir = new Map<string, string[]>()
  const requireSibling = (file: string, parent: NodeJS.Module): unknown => {
    const cached = moduleCache[file]
    if (cached) {
      if (!parent.children.includes(cached)) parent.children.push(cached)
      return cached.exports
    }
    const m = new NodeModule(file, parent)
    moduleCache[file] = m
    let loaded = false
    try {
      const dir = path.dirname(file)
      let paths = pathsByDir.get(dir)
      if (!paths) pathsByDir.set(dir, (paths = nodeModulePaths(dir)))
      m.filename = file
      m.paths = paths.slice()
      extensions['.js'](m, file)
      m.loaded = loaded = true
    } finally {
      if (!loaded) {
        delete moduleCache[file]
        const at = parent.children.indexOf(m)
        if (at >= 0) parent.children.splice(at, 1)
      }
    }
    return m.exports
  }
  let pack: Pack | undefined
  const original = extensions['.js']
  extensions['.js'] = function obsctlCodeCache(module, filename) {
    if (!inBundle(filename)) return original.call(this, module, filename)
    let fn = pack?.functions.get(filename.slice(distDir.length))
    if (fn) pack!.used++
    else {
      const source = fs.readFileSync(filename, 'utf8')
      let cachedData: Buffer | undefined
      let head = ''
      let cacheFile: string | undefined
      if (state.dir) {
        cacheFile = cacheFileOf(filename)
        const st = safe(() => fs.statSync(filename))
        head = st ? headOf(st) : ''
        cachedData = head ? readCache(cacheFile, head, uid!) : undefined
      }
      const script = compile(Module.wrap(source), filename, cachedData)
      if (cachedData && !script.cachedDataRejected) state.hits.push(filename)
      else {
        state.misses.push(filename)
        if (cacheFile && head) pending.set(cacheFile, {file: filename, head, body: () => script.createCachedData()})
      }
      fn = script.runInThisContext({displayErrors: true}) as ModuleFunction
    }
    const dir = path.dirname(filename)
    const require = ((id: string) => {
      if (id.endsWith('.js') && (id.startsWith('./') || id.startsWith('../'))) {
        // "./chunk-X.js" and "../../chunks/x.js", a command's ~1,000 requires, need no normalising (./join-plain.ts)
        let base = dir
        let rel = id
        if (rel.startsWith('./')) rel = rel.slice(2)
        else for (; rel.startsWith('../'); rel = rel.slice(3)) base = path.dirname(base)
        const file = joinPlain(base, rel)
        if (inBundle(file)) return requireSibling(file, module)
      }
      return module.require(id)
    }) as NodeJS.Require
    require.resolve = ((request: string, options?: unknown) => resolveFilename(request, module, false, options)) as NodeJS.RequireResolve
    require.main = process.mainModule
    require.cache = moduleCache as NodeJS.Require['cache']
    require.extensions = extensions
    fn.call(module.exports, module.exports, require, module, filename, dir)
  }

  const usePack = (key: string): void => {
    // with source maps on, a stack names the file it is in (a pack would be one file); and one pack per process
    if (!state.dir || process.sourceMapsEnabled || pack) return
    pack = {key, file: path.join(state.dir, `pack!${key.replace(/[^\w.-]/g, '_')}.js`), functions: new Map(), used: 0}
    const read = readWhole(pack.file, uid!)
    if (!read) return
    // the bundle is ASCII (bin/bundle.mjs): a one-byte string, without decoding a megabyte of UTF-8 (~2.5 ms)
    const text = isAscii(read.buf) ? read.buf.toString('latin1') : read.buf.toString('utf8')
    const files = packFiles(text, distDir)
    if (!files) return
    const head = headOf(read.st)
    const cacheFile = `${pack.file}.v8`
    const cachedData = readCache(cacheFile, head, uid!)
    try {
      const script = compile(text, pack.file, cachedData)
      const functions = script.runInThisContext({displayErrors: true}) as ModuleFunction[]
      if (!Array.isArray(functions) || functions.length !== files.length) return
      files.forEach((f, i) => pack!.functions.set(f, functions[i]!))
      if (!cachedData || script.cachedDataRejected) {
        pack.compiled = true
        pending.set(cacheFile, {head, body: () => script.createCachedData()})
      }
    } catch (error) {
      debug('pack %s not used: %s', key, (error as Error).message)
    }
  }

  /**
   * At exit: a pack with what this run loaded besides, when it loaded files its pack (if any) lacked. What it loaded is
   * require.cache's bundle files, in the order they were loaded (a file that threw while loading is not kept there).
   */
  const repack = (p: Pack): void => {
    const more = Object.keys(moduleCache)
      .filter((f) => inBundle(f) && !f.startsWith(lazyDir))
      .map((f) => f.slice(distDir.length))
      .filter((f) => !p.functions.has(f))
    if (!more.length) return
    // the old pack's cached data was made from its old text
    pending.delete(`${p.file}.v8`)
    p.rewritten = true
    pending.set(p.file, {head: '', body: () => packText([...p.functions.keys(), ...more], distDir)})
  }

  if (state.dir) (globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE] = derivedStore(state.dir, uid!, pending)

  process.once('exit', () => {
    if (pack) {
      repack(pack)
      const {key, used, compiled, rewritten} = pack
      state.pack = {key, used, compiled, rewritten}
      debug('pack %s: %d files from it%s%s', key, used, compiled ? ', compiled' : '', rewritten ? ', rewritten' : '')
    }
    if (pending.size) writeAll(state, pending, uid!)
    debug(
      '%s: %d from cache, %d compiled, %d written%s',
      state.dir ?? 'off',
      state.hits.length,
      state.misses.length,
      state.written.length,
      state.off ? ` (${state.off})` : '',
    )
  })
  return Object.assign(state, {usePack})
}

type ModuleFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void

interface Pack {
  key: string
  /** pack!<key>.js in the cache folder */
  file: string
  /** each file's module function by its path under dist/, in the pack's order: empty unless it was read and every file is as it was */
  functions: Map<string, ModuleFunction>
  /** files run from it */
  used: number
  /** compiled from its text (no usable cached data): its data is written at exit */
  compiled?: boolean
  /** written again at exit, with files this run loaded besides */
  rewritten?: boolean
}

/** a file's mtime as the cache records it: whole milliseconds */
const mtimeOf = (st: fs.Stats) => Math.trunc(st.mtimeMs)

/** The head of a cached data file: what its source was when the data was made (size and mtime). */
const headOf = (st: fs.Stats) => `${FORMAT} ${st.size} ${mtimeOf(st)}\n`

function compile(source: string, filename: string, cachedData: Buffer | undefined): vm.Script {
  return new vm.Script(source, {
    filename,
    cachedData,
    // the bundle has no import() left (bin/bundle.mjs); this only keeps one working should it appear
    ...(vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ? {importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER} : {}),
  } as vm.ScriptOptions)
}

/** A pack's files (paths under dist/) from its first line, when every one is still as it was when packed. */
function packFiles(text: string, distDir: string): string[] | undefined {
  if (!text.startsWith(PACK_FORMAT)) return undefined
  let list: unknown
  try {
    list = JSON.parse(text.slice(PACK_FORMAT.length, text.indexOf('\n')))
  } catch {
    return undefined
  }
  if (!Array.isArray(list)) return undefined
  const files: string[] = []
  for (const entry of list as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0].includes('..')) return undefined
    const st = safe(() => fs.statSync(distDir + entry[0]))
    if (!st || st.size !== entry[1] || mtimeOf(st) !== entry[2]) return undefined
    files.push(entry[0])
  }
  return files
}

/**
 * A pack's text: its first line lists the files with the size and mtime of what was read, then an array of one
 * function per file around the file's text, as Node's loader wraps a module (Module.wrap). Undefined when a file
 * cannot be read.
 */
function packText(files: string[], distDir: string): string | undefined {
  const listed: [string, number, number][] = []
  const bodies: string[] = []
  for (const f of files) {
    let fd: number | undefined
    try {
      fd = fs.openSync(distDir + f, 'r')
      const st = fs.fstatSync(fd)
      bodies.push(Module.wrap(fs.readFileSync(fd, 'utf8')).replace(/;$/, ''))
      listed.push([f, st.size, mtimeOf(st)])
    } catch {
      return undefined
    } finally {
      if (fd !== undefined) safe(() => fs.closeSync(fd!))
    }
  }
  return `${PACK_FORMAT}${JSON.stringify(listed)}\n[\n${bodies.join(',\n')}\n]\n`
}

/**
 * Cached data for a source of this size and mtime, or undefined (absent, stale, not ours, unreadable). With
 * `input` (a derived result's), the stored input must be exactly these bytes, and it is compared before the rest
 * is read: after an edit, a large entry (the rendered files of 1,000 clusters, 8.9 MB) is neither read whole nor
 * decoded only to be found stale.
 */
function readCache(cacheFile: string, head: string, uid: number, input?: Buffer): Buffer | undefined {
  return readOwned(cacheFile, uid, (fd, st) => {
    const known = head.length + (input?.length ?? 0)
    if (st.size <= head.length || st.size < known) return undefined
    const buf = Buffer.allocUnsafe(st.size)
    if (!readFully(fd, buf, 0, known) || buf.toString('latin1', 0, head.length) !== head) return undefined
    if (input && !buf.subarray(head.length, known).equals(input)) return undefined
    return readFully(fd, buf, known, st.size) ? buf.subarray(known) : undefined
  })
}

/**
 * `read` of the file, when it is a regular file of this user's that no one else may write (not followed if a link);
 * undefined otherwise, when it is absent, or when reading throws. The descriptor is closed after.
 */
function readOwned<T>(file: string, uid: number, read: (fd: number, st: fs.Stats) => T | undefined): T | undefined {
  let fd: number | undefined
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    const st = fs.fstatSync(fd)
    return st.isFile() && st.uid === uid && !(st.mode & 0o022) ? read(fd, st) : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) safe(() => fs.closeSync(fd!))
  }
}

/** A whole file of this user's that no one else may write (readOwned), with its stat. */
function readWhole(file: string, uid: number): {buf: Buffer; st: fs.Stats} | undefined {
  return readOwned(file, uid, (fd, st) => {
    const buf = Buffer.allocUnsafe(st.size)
    return readFully(fd, buf, 0, st.size) ? {buf, st} : undefined
  })
}

/** Fill buf[from, to) from the file at the same offsets; false when the file ends first. */
function readFully(fd: number, buf: Buffer, from: number, to: number): boolean {
  for (let at = from; at < to;) {
    const n = fs.readSync(fd, buf, at, to - at, at)
    if (n === 0) return false
    at += n
  }
  return true
}

/** Write the data of the scripts compiled from source: folders 0700, files 0600, each atomically. */
function writeAll(state: CodeCacheState, pending: Pending, uid: number): void {
  const dir = state.dir!
  try {
    const created = fs.mkdirSync(dir, {recursive: true, mode: 0o700})
    // what mkdir created (or found) must still be ours alone
    if ([path.dirname(path.dirname(dir)), path.dirname(dir), dir].some((d) => unsafeDir(d, uid, true))) return
    if (created) pruneOthers(path.dirname(dir), path.basename(dir))
  } catch {
    return
  }
  for (const [cacheFile, p] of pending) {
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    try {
      const data = p.body()
      if (data === undefined) continue
      const fd = fs.openSync(tmp, 'wx', 0o600)
      try {
        // writeFileSync on a descriptor writes every byte (write(2) on a nearly full disk writes what fits): a file
        // cut at a page boundary is never renamed into place
        fs.writeFileSync(fd, Buffer.from(p.head, 'latin1'))
        fs.writeFileSync(fd, data)
      } finally {
        fs.closeSync(fd)
      }
      fs.renameSync(tmp, cacheFile)
      if (p.file) state.written.push(p.file)
    } catch {
      safe(() => fs.unlinkSync(tmp))
    }
  }
}

/**
 * Derived results (../derived-cache.ts) in the same folder, as `data!<name>`: the head, then the whole input,
 * then the output's length in bytes and a newline, then the output. Read only when the stored input is the given
 * one, compared as UTF-8 bytes (the inputs are file texts and JSON, which hold no lone surrogate, so equal bytes are
 * equal strings), and when the output is as long as recorded: an entry cut short (by whatever means) is never read
 * back as a shorter result — its JSON would fail to parse on every start. Written at exit with the code.
 */
function derivedStore(dir: string, uid: number, pending: Pending): DerivedCache {
  const fileOf = (name: string) => joinPlain(dir, `data!${name.replace(/[^\w.-]/g, '_')}`)
  // the input's length in UTF-8 bytes, as stored
  const dataHeadOf = (bytes: number) => `${FORMAT} data ${bytes}\n`
  return {
    get(name, input) {
      const bytes = Buffer.from(input, 'utf8')
      const hit = outputOf(readCache(fileOf(name), dataHeadOf(bytes.length), uid, bytes))
      debug('derived %s: %s', name, hit === undefined ? 'computed' : 'from cache')
      return hit
    },
    set(name, input, output) {
      pending.set(fileOf(name), {
        // counted when written: a journal is set again at every save (../engine/state.ts), and only the last is written
        get head() {
          return dataHeadOf(Buffer.byteLength(input, 'utf8'))
        },
        body: () => {
          const out = typeof output === 'string' ? output : output()
          return out === undefined ? undefined : `${input}${Buffer.byteLength(out, 'utf8')}\n${out}`
        },
      })
    },
  }
}

/** The output of a derived entry's rest (`<bytes>\n<output>`), or undefined when it is not that long. */
function outputOf(rest: Buffer | undefined): string | undefined {
  if (!rest) return undefined
  const nl = rest.indexOf(0x0a)
  const len = rest.toString('latin1', 0, nl)
  if (nl < 1 || !/^\d+$/.test(len) || rest.length - nl - 1 !== Number(len)) return undefined
  return rest.toString('utf8', nl + 1)
}

/** A new version's folder replaces those of versions not used for 30 days (several installs may alternate). */
function pruneOthers(top: string, keep: string): void {
  const old = Date.now() - 30 * 24 * 3600 * 1000
  for (const name of safe(() => fs.readdirSync(top)) ?? []) {
    if (name === keep) continue
    const d = path.join(top, name)
    const st = safe(() => fs.lstatSync(d))
    if (st?.isDirectory() && st.mtimeMs < old) safe(() => fs.rmSync(d, {recursive: true, force: true}))
  }
}
