/**
 * The V8 code cache of the CLI's bundle (src/lib/code-cache.ts, DESIGN.md §6): the built binary as users
 * run it. A second run compiles from the cache; another obsctl version, Node version or bundle never reads
 * the data of this one; data V8 refuses (another V8) or of a changed source is recompiled and replaced; a
 * read-only install and an unwritable or foreign cache folder change nothing but the speed. What a run
 * read and wrote is what NODE_DEBUG=obsctl-code-cache reports, checked against the files themselves.
 * No timings are asserted (DESIGN.md §6: budgets are for bench/startup.js).
 */
import {spawn, spawnSync} from 'node:child_process'
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stripVTControlCharacters} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {decode as decodeMappings} from '@jridgewell/sourcemap-codec'
import {codeCacheKey, userCacheHome} from '../../src/lib/code-cache.js'
import {BIN, ROOT, requireBuild, runProcess, tmpDir} from './helpers.js'
import {exampleInventory} from '../support/inventory.js'

/** the derived-result entry of what is derived from one inventory file (its kind, then the file's path made a name) */
const entryOf = (kind: string, file: string) => `${kind}${file.replace(/[^\w.-]/g, '_').slice(-150)}`

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

interface Run {
  status: number | null
  stdout: string
  stderr: string
  /** the folder the run used and its counts (NODE_DEBUG=obsctl-code-cache) */
  dir: string
  fromCache: number
  compiled: number
  written: number
}

async function run(args: string[], o: {cacheHome: string; bin?: string; uid?: number; home?: string; env?: NodeJS.ProcessEnv}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: '1',
    NO_COLOR: '1',
    OBSCTL_CONFIG: undefined,
    OBSCTL_CODE_CACHE: undefined,
    XDG_CACHE_HOME: o.cacheHome,
    NODE_DEBUG: 'obsctl-code-cache',
    ...o.env,
  }
  if (o.home) env.HOME = o.home
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const r = await runProcess(process.execPath, [o.bin ?? BIN, ...args], {cwd: dir, env, uid: o.uid})
  // (FORCE_COLOR colours debuglog's pid)
  const m = /OBSCTL-CODE-CACHE \d+: (.+?): (\d+) from cache, (\d+) compiled, (\d+) written/.exec(stripVTControlCharacters(r.stderr))
  if (!m) throw new Error(`no code cache report on stderr (exit ${r.status}): ${r.stderr}`)
  return {status: r.status, stdout: r.stdout, stderr: r.stderr, dir: m[1]!, fromCache: Number(m[2]), compiled: Number(m[3]), written: Number(m[4])}
}

/**
 * A preload that prints `expression` (JavaScript, evaluated at the run's exit) as `NAME <JSON>` on stderr, after the
 * `setup` lines (run when it loads): `env` for run(), `of` reads the value back from a run's stderr.
 */
function exitReport<T>(name: string, expression: string, setup: string[] = []): {env: NodeJS.ProcessEnv; of: (r: {stderr: string}) => T} {
  const preload = path.join(dir, `${name.toLowerCase()}.cjs`)
  if (!existsSync(preload))
    writeFileSync(preload, [...setup, `process.on('exit', () => process.stderr.write('${name} ' + JSON.stringify(${expression}) + '\\n'))`, ''].join('\n'))
  return {env: {NODE_OPTIONS: `--require ${preload}`}, of: (r) => JSON.parse(new RegExp(`^${name} (.*)$`, 'm').exec(r.stderr)![1]!) as T}
}

/** What makes a run print, at exit, the files it loaded (`require.cache`: the bundle's files too, those run from a pack included). */
function loadedPreload(): {env: NodeJS.ProcessEnv; loadedBy: (r: Run) => string[]} {
  const {env, of} = exitReport<string[]>('LOADED', 'Object.keys(require.cache)')
  return {env, loadedBy: of}
}

/** A folder of its own with the example inventory and an empty .obsctl/, its cache folder, and the journal's cache entry name. */
function journalHome(key: string): {cacheHome: string; inv: string; state: string; name: string} {
  const home = path.join(dir, `${key}-home`)
  mkdirSync(path.join(home, '.obsctl'), {recursive: true, mode: 0o700})
  const inv = path.join(home, 'obsctl.yaml')
  writeFileSync(inv, readFileSync(inventory, 'utf8'))
  const state = path.join(home, '.obsctl', 'state.json')
  return {cacheHome: path.join(dir, `${key}-cache`), inv, state, name: `journal${state.replace(/[^\w.-]/g, '_').slice(-150)}`}
}

/** file → mtime and inode: what a rewrite would change */
function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of readdirSync(d)) {
    const st = statSync(path.join(d, f))
    out[f] = `${st.ino}:${st.mtimeMs}:${st.size}`
  }
  return out
}

/** every path under `d` with its mode, size and mtime */
function tree(d: string): string[] {
  return readdirSync(d, {recursive: true, withFileTypes: false})
    .map((f) => String(f))
    .sort()
    .map((f) => {
      const st = lstatSync(path.join(d, f))
      return `${f} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`
    })
}

/**
 * A copy of the built package (node_modules linked), as `npm install -g` would lay it out, but for the source maps
 * (578 of dist's 1,155 files, which nothing here reads: each copy, its chmod -R and its listings half as long).
 */
function copyInstall(to: string): string {
  mkdirSync(to, {recursive: true})
  for (const f of ['bin', 'dist', 'templates', 'package.json', 'oclif.manifest.json'])
    cpSync(path.join(ROOT, f), path.join(to, f), {recursive: true, filter: (src) => !src.endsWith('.map')})
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(to, 'node_modules'))
  return path.join(to, 'bin', 'run.js')
}

let dir: string
let inventory: string
beforeAll(async () => {
  requireBuild()
  dir = tmpDir('obsctl-code-cache-')
  inventory = path.join(dir, 'obsctl.yaml')
  const r = await runProcess(process.execPath, [BIN, 'init', '--example', '-c', inventory], {env: {...process.env, CI: '1', OBSCTL_CODE_CACHE: '0'}})
  expect(r.status, r.stderr).toBe(0)
})
afterAll(async () => {
  if (!dir) return
  // the read-only copies: writable again so they can be removed
  spawnSync('chmod', ['-R', 'u+w', dir])
  rmSync(dir, {recursive: true, force: true})
})

describe('code cache', () => {
  it('the first run writes one 0600 file per bundle file it loaded into a 0700 per-user folder; the second compiles from it and rewrites nothing', async () => {
    const cacheHome = path.join(dir, 'warm')
    const first = await run(['config', 'validate', '-c', inventory], {cacheHome})
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/cluster-01\s+central/)
    const bundle = JSON.parse(readFileSync(path.join(ROOT, 'dist/chunks/bundle.json'), 'utf8')) as {version: string; id: string}
    const key = codeCacheKey({version: bundle.version, bundleId: bundle.id, location: path.join(ROOT, 'dist/chunks')})
    expect(first.dir).toBe(path.join(cacheHome, 'obsctl', 'code-cache', key))
    expect(first).toMatchObject({fromCache: 0})
    expect(first.compiled).toBeGreaterThan(3)
    expect(first.written).toBe(first.compiled)
    // compiled code (.v8) and, beside it, the parse of the inventory (data!…: the derived-results test below)
    const files = readdirSync(first.dir).filter((f) => f.endsWith('.v8'))
    expect(files).toHaveLength(first.written)
    // the command runs without oclif's runner (src/direct.ts, test/cli/direct-run.test.ts)
    expect(files).toContain('chunks!direct.js.v8')
    expect(files).toContain('commands!config!validate.js.v8')
    // what a command that needs no network or WSL loads: not client-node, minio or ssh2, and not oclif's WSL
    // detection (wsl-utils) on a Linux that is not WSL (bin/bundle.mjs oclifWslCheck)
    expect(files.filter((f) => /^chunks!(client-node|minio|ssh2|wsl-utils)-/.test(f))).toEqual([])
    for (const d of [path.join(cacheHome, 'obsctl'), path.join(cacheHome, 'obsctl', 'code-cache'), first.dir]) expect(statSync(d).mode & 0o777).toBe(0o700)
    for (const f of readdirSync(first.dir)) expect(statSync(path.join(first.dir, f)).mode & 0o777).toBe(0o600)
    // each bundle file's compiled code only (the derived results and the packs have their own tests below)
    const code = (d: string) => Object.fromEntries(Object.entries(snapshot(d)).filter(([f]) => f.endsWith('.v8') && !f.startsWith('pack!')))
    const before = code(first.dir)

    // the YAML library is a bundle entry of its own (bin/bundle.mjs lazyDeps), read when an inventory is parsed
    expect(files).toContain('chunks!lazy!yaml.js.v8')
    expect(files).toContain('chunks!lazy!zod.js.v8')

    // the bundle files a run loaded, printed at exit by a preload
    const {env, loadedBy} = loadedPreload()
    const second = await run(['config', 'validate', '-c', inventory], {cacheHome, env})
    expect(second.status).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    expect(second).toMatchObject({dir: first.dir, compiled: 0, written: 0})
    // the inventory's parse came from the derived-result cache: neither the YAML library nor zod was read or run
    const loaded = loadedBy(second)
    expect(loaded.filter((f) => f.includes(`${path.sep}dist${path.sep}chunks${path.sep}`)).length).toBeGreaterThan(3)
    expect(loaded.filter((f) => /[\\/]chunks[\\/]lazy[\\/](yaml|zod)\.js$/.test(f))).toEqual([])
    expect(second.fromCache).toBeLessThan(first.compiled)
    expect(code(first.dir)).toEqual(before)

    // another command shares the runner's and oclif's files, and adds its own
    const plan = await run(['plan', '-c', inventory], {cacheHome})
    expect(plan.status).toBe(0)
    expect(plan.fromCache).toBeGreaterThan(0)
    expect(plan.written).toBe(plan.compiled)
    expect(Object.keys(code(first.dir)).length).toBe(files.length + plan.written)
  })

  it('an unknown command: the hook that answers it (dist/hooks/) is compiled through the cache as the commands are, and read back on the next run', async () => {
    const cacheHome = path.join(dir, 'hook')
    const first = await run(['bootsrap'], {cacheHome})
    expect(first.status).toBe(2)
    expect(first.stderr).toContain('"bootsrap" is not an obsctl command. Did you mean "obsctl bootstrap"?')
    expect(first.written).toBe(first.compiled)
    expect(readdirSync(first.dir)).toContain('hooks!command-not-found.js.v8')
    const second = await run(['bootsrap'], {cacheHome})
    expect(second.status).toBe(2)
    // what the user sees, the code cache's debug lines aside (its counts, and which runner ran)
    const shown = (r: Run) => r.stderr.replace(/^OBSCTL-CODE-CACHE.*\n/gm, '')
    expect(shown(second)).toBe(shown(first))
    expect(second).toMatchObject({dir: first.dir, fromCache: first.compiled, compiled: 0, written: 0})
  })

  it('data V8 refuses (another Node/V8) and data of a changed source are recompiled and replaced; OBSCTL_CODE_CACHE=0 reads and writes nothing', async () => {
    const cacheHome = path.join(dir, 'stale')
    const first = await run(['config', '--help'], {cacheHome})
    expect(first.status).toBe(0)
    const main = path.join(first.dir, 'chunks!main.js.v8')
    // same header (size and mtime of the source), data V8 cannot accept: what another V8 version's data is to it
    const buf = readFileSync(main)
    const head = buf.subarray(0, buf.indexOf(10) + 1)
    writeFileSync(main, Buffer.concat([head, Buffer.alloc(buf.length - head.length, 7)]), {mode: 0o600})
    const rejected = await run(['config', '--help'], {cacheHome})
    expect(rejected.status).toBe(0)
    expect(rejected.stdout).toBe(first.stdout)
    expect(rejected).toMatchObject({fromCache: first.compiled - 1, compiled: 1, written: 1})
    expect(
      readFileSync(main)
        .subarray(head.length)
        .equals(Buffer.alloc(buf.length - head.length, 7)),
    ).toBe(false)
    expect(await run(['config', '--help'], {cacheHome})).toMatchObject({fromCache: first.compiled, compiled: 0})

    // a header for another source (size/mtime): not used
    writeFileSync(main, Buffer.concat([Buffer.from('obsctl-code-cache 2 1 1\n'), buf.subarray(head.length)]), {mode: 0o600})
    expect(await run(['config', '--help'], {cacheHome})).toMatchObject({compiled: 1, written: 1})
    expect(readFileSync(main).subarray(0, head.length).equals(head)).toBe(true)

    const before = snapshot(first.dir)
    const off = await runProcess(process.execPath, [BIN, '--help'], {
      env: {...process.env, XDG_CACHE_HOME: cacheHome, OBSCTL_CODE_CACHE: '0', NODE_DEBUG: 'obsctl-code-cache'},
    })
    expect(off.status).toBe(0)
    expect(off.stderr).toMatch(/OBSCTL-CODE-CACHE \d+: off: 0 from cache, \d+ compiled, 0 written \(OBSCTL_CODE_CACHE is off\)/)
    expect(snapshot(first.dir)).toEqual(before)
  })

  it('another obsctl version (or bundle, or install) uses a folder of its own; the key names the Node version and architecture', async () => {
    const cacheHome = path.join(dir, 'versions')
    const ours = await run(['config', '--help'], {cacheHome})
    expect(ours.written).toBeGreaterThan(0)
    const ourFiles = snapshot(ours.dir)

    const bin = copyInstall(path.join(dir, 'upgraded'))
    const bundleJson = path.join(dir, 'upgraded', 'dist', 'chunks', 'bundle.json')
    const bundle = JSON.parse(readFileSync(bundleJson, 'utf8')) as {version: string; id: string}
    writeFileSync(bundleJson, JSON.stringify({...bundle, version: `${bundle.version}-next`}))
    const upgraded = await run(['config', '--help'], {cacheHome, bin})
    expect(upgraded.status).toBe(0)
    expect(upgraded.dir).not.toBe(ours.dir)
    expect(path.basename(upgraded.dir)).toContain(`obsctl-${bundle.version}-next-${bundle.id}-node-${process.version}-${process.arch}-`)
    expect(upgraded).toMatchObject({fromCache: 0, written: ours.written})
    expect(snapshot(ours.dir)).toEqual(ourFiles)

    const base = {version: '1.0.0', bundleId: 'abc', node: 'v20.20.2', arch: 'x64', location: '/usr/lib/node_modules/obsctl/dist/chunks'}
    const key = codeCacheKey(base)
    expect(
      new Set([
        key,
        ...[{node: 'v20.21.0'}, {node: 'v22.1.0'}, {arch: 'arm64'}, {version: '1.0.1'}, {bundleId: 'abd'}, {location: '/opt/obsctl/dist/chunks'}].map((o) =>
          codeCacheKey({...base, ...o}),
        ),
      ]).size,
    ).toBe(7)
    expect(userCacheHome({XDG_CACHE_HOME: '/x/cache', HOME: '/home/u'})).toBe('/x/cache')
    expect(userCacheHome({XDG_CACHE_HOME: 'relative', HOME: '/home/u'})).toBe('/home/u/.cache')
  })

  it('a read-only install with an unwritable cache folder: the command works, nothing is written anywhere', async () => {
    const ro = path.join(dir, 'ro')
    const bin = copyInstall(path.join(ro, 'install'))
    const home = path.join(ro, 'home')
    mkdirSync(home)
    const inv = path.join(ro, 'obsctl.yaml')
    cpSync(inventory, inv)
    // root ignores file modes: run as nobody, to whom these root-owned folders are read-only
    if (asRoot) for (let d = ro; d !== path.dirname(d) && d.startsWith(tmpdir()); d = path.dirname(d)) chmodSync(d, statSync(d).mode | 0o711)
    const mode = spawnSync('chmod', ['-R', 'a-w,a+rX', ro])
    expect(mode.status).toBe(0)
    const install = tree(path.join(ro, 'install'))
    const uid = asRoot ? NOBODY : undefined
    for (const args of [['--help'], ['config', 'validate', '-c', inv], ['plan', '-c', inv]]) {
      const r = await run(args, {cacheHome: home, home, bin, uid})
      expect(r.status, r.stderr).toBe(0)
      expect(r).toMatchObject({fromCache: 0, written: 0})
      expect(r.compiled).toBeGreaterThan(0)
      expect(r.stderr).not.toMatch(/EACCES|EROFS|Error/)
    }
    expect(readdirSync(home)).toEqual([])
    expect(tree(path.join(ro, 'install'))).toEqual(install)
    // the commands' own output is there too
    expect((await run(['plan', '-c', inv], {cacheHome: home, home, bin, uid})).stdout).toMatch(/pending/)
  })

  it('a command runs from its pack: what it loaded, as one script written at its first exit and compiled once; used while every file in it is as it was', async () => {
    const cacheHome = path.join(dir, 'pack')
    const bin = copyInstall(path.join(dir, 'pack-install'))
    const dist = path.join(path.dirname(path.dirname(bin)), 'dist') + path.sep
    const {env, loadedBy: loadedAll} = loadedPreload()
    const args = ['plan', '-c', inventory]
    const packLine = (r: Run) => /pack plan: (.*)$/m.exec(r.stderr)?.[1]
    const first = await run(args, {cacheHome, bin, env})
    expect(first.status, first.stderr).toBe(0)
    expect(packLine(first)).toBe('0 files from it, rewritten')
    const pack = path.join(first.dir, 'pack!plan.js')
    expect(statSync(pack).mode & 0o777).toBe(0o600)
    // its first line names every bundle file the run loaded, but the lazily loaded libraries, with size and mtime
    const head = readFileSync(pack, 'utf8').split('\n', 1)[0]!
    expect(head.startsWith('// obsctl-pack 1 ')).toBe(true)
    const listed = JSON.parse(head.slice('// obsctl-pack 1 '.length)) as [string, number, number][]
    const loadedBy = (r: Run) =>
      loadedAll(r)
        .filter((f) => f.startsWith(dist) && !f.endsWith('code-cache.cjs') && !f.startsWith(path.join(dist, 'chunks', 'lazy')))
        .map((f) => f.slice(dist.length))
    const loaded = loadedBy(first)
    expect(listed.map(([f]) => f)).toEqual(loaded)
    expect(loaded).toContain('commands/plan.js')
    for (const [f, size, mtime] of listed) expect([size, mtime], f).toEqual([statSync(dist + f).size, Math.trunc(statSync(dist + f).mtimeMs)])

    // the second run runs every file it loads from it (fewer: the first computed what the second reads back), compiling
    // the pack (and no file) and writing its data; the third reads both
    const second = await run(args, {cacheHome, bin, env})
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    const used = loadedBy(second)
    expect(used.filter((f) => !loaded.includes(f))).toEqual([])
    expect(packLine(second)).toBe(`${used.length} files from it, compiled`)
    expect(second).toMatchObject({fromCache: 0, compiled: 0, written: 0})
    expect(statSync(`${pack}.v8`).mode & 0o777).toBe(0o600)
    const kept = snapshot(first.dir)
    const third = await run(args, {cacheHome, bin})
    expect(third.status, third.stderr).toBe(0)
    expect(third.stdout).toBe(first.stdout)
    expect(packLine(third)).toBe(`${used.length} files from it`)
    expect(third).toMatchObject({fromCache: 0, compiled: 0, written: 0})
    expect(snapshot(first.dir)).toEqual(kept)

    // a run that loads a file the pack lacks (an unknown phase's error) adds it: the pack is written again
    const typo = await run(['plan', '--phase', 'nodez', '-c', inventory], {cacheHome, bin})
    expect(typo.status).toBe(2)
    expect(packLine(typo)).toMatch(/^\d+ files from it, rewritten$/)
    const grown = JSON.parse(readFileSync(pack, 'utf8').split('\n', 1)[0]!.slice('// obsctl-pack 1 '.length)) as [string][]
    expect(grown.slice(0, listed.length)).toEqual(listed)
    expect(grown.length).toBeGreaterThan(listed.length)
    const after = await run(args, {cacheHome, bin})
    expect(after.stdout).toBe(first.stdout)
    expect(packLine(after)).toBe(`${used.length} files from it, compiled`)

    // a file of the pack changed since it was written: the pack is not used (the file is compiled from its text), and is
    // written again with what is there now
    const member = dist + 'commands/plan.js'
    const later = new Date(statSync(member).mtimeMs + 10_000)
    const before = statSync(member).mtimeMs
    utimesSync(member, later, later)
    expect(statSync(member).mtimeMs).toBeGreaterThan(before + 9000)
    const touched = await run(args, {cacheHome, bin})
    expect(touched.status, touched.stderr).toBe(0)
    expect(touched.stdout).toBe(first.stdout)
    expect(packLine(touched)).toBe('0 files from it, rewritten')
    expect(touched).toMatchObject({compiled: 1})
    expect(readFileSync(pack, 'utf8').split('\n', 1)[0]).toContain(`["commands/plan.js",${statSync(member).size},${Math.trunc(statSync(member).mtimeMs)}]`)

    // a pack others may write to is not run (the rule of every file here), nor one cut short; each is replaced
    for (const spoil of [() => chmodSync(pack, 0o666), () => writeFileSync(pack, readFileSync(pack, 'utf8').slice(0, 5000), {mode: 0o600})]) {
      await run(args, {cacheHome, bin})
      spoil()
      const spoiled = await run(args, {cacheHome, bin})
      expect(spoiled.status, spoiled.stderr).toBe(0)
      expect(spoiled.stdout).toBe(first.stdout)
      expect(packLine(spoiled)).toBe('0 files from it, rewritten')
      expect(statSync(pack).mode & 0o777).toBe(0o600)
      expect(readFileSync(pack, 'utf8').length).toBeGreaterThan(5000)
    }

    // with source maps on, a stack names the bundle's own files: no pack
    const mapped = await run(args, {cacheHome, bin, env: {NODE_OPTIONS: '--enable-source-maps'}})
    expect(mapped.status, mapped.stderr).toBe(0)
    expect(mapped.stdout).toBe(first.stdout)
    expect(packLine(mapped)).toBeUndefined()
  })

  it('a cache folder others may write to, or that belongs to another user, is never read or written', async () => {
    const shared = path.join(dir, 'shared')
    const top = path.join(shared, 'obsctl', 'code-cache')
    mkdirSync(top, {recursive: true})
    chmodSync(top, 0o777)
    const r = await run(['--help'], {cacheHome: shared})
    expect(r.status).toBe(0)
    expect(r).toMatchObject({fromCache: 0, written: 0})
    expect(r.stderr).toContain(`(${top} may be written by others)`)
    expect(readdirSync(top)).toEqual([])

    if (!asRoot) return
    const foreign = path.join(dir, 'foreign')
    mkdirSync(path.join(foreign, 'obsctl'), {recursive: true, mode: 0o700})
    chownSync(path.join(foreign, 'obsctl'), NOBODY, NOBODY)
    const f = await run(['--help'], {cacheHome: foreign})
    expect(f.status).toBe(0)
    expect(f).toMatchObject({fromCache: 0, written: 0})
    expect(f.stderr).toContain(`(${path.join(foreign, 'obsctl')} belongs to uid ${NOBODY})`)
    expect(existsSync(path.join(foreign, 'obsctl', 'code-cache'))).toBe(false)
  })
})

describe('derived results (src/lib/derived-cache.ts): the parse of an unchanged inventory, the compiled templates', () => {
  it('a valid inventory parsed once is read back on the next run; any change is parsed again, and a mistake still exits 2 with file:line', async () => {
    const cacheHome = path.join(dir, 'derived')
    const inv = path.join(dir, 'derived.yaml')
    writeFileSync(inv, readFileSync(inventory, 'utf8'))
    const name = `data!inventory${inv.replace(/[^\w.-]/g, '_').slice(-150)}`
    const first = await run(['config', 'validate', '--json', '-c', inv], {cacheHome})
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toContain(`derived inventory${inv.replace(/[^\w.-]/g, '_').slice(-150)}: computed`)
    const entry = path.join(first.dir, name)
    expect(statSync(entry).mode & 0o777).toBe(0o600)
    // the whole inventory text is in the entry: it is read back only for exactly this text
    expect(readFileSync(entry, 'utf8')).toContain(readFileSync(inv, 'utf8'))

    const second = await run(['config', 'validate', '--json', '-c', inv], {cacheHome})
    expect(second.stderr).toMatch(/derived inventory\S*: from cache/)
    // the same verdict, the same warnings with the same file:line (the YAML is parsed when a position is asked for)
    expect(second.status).toBe(0)
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout))
    expect(first.stdout).toMatch(/"location": "[^"]+:\d+:\d+"/) // the example has findings, each placed in the file
    // the findings of this text, placed in the file, are kept as well (src/lib/config/lint.ts): the second run asks
    // for no position and parses no YAML at all
    expect(first.stderr).toMatch(/derived positions\S*: computed/)
    expect(first.stderr).toMatch(/derived lint\S*: computed/)
    expect(second.stderr).toMatch(/derived lint\S*: from cache/)
    expect(second.stderr).not.toMatch(/derived positions/)
    // what the workstation holds is looked at on every run, the text's findings read back or not
    const ca = path.join(dir, 'no-such-ca.pem')
    const third = await run(['config', 'validate', '--json', '-c', inv], {cacheHome, env: {OBSCTL_OPENSEARCH_CA_FILE: ca}})
    expect(third.stderr).toMatch(/derived lint\S*: from cache/)
    expect(third.status).toBe(2)
    const thirdReport = JSON.parse(third.stdout) as {findings: {id: string; location: string}[]}
    expect(thirdReport.findings.find((f) => f.id === 'opensearch-ca-file')).toMatchObject({location: 'environment'})
    // in its place among the others, as when computed
    expect(thirdReport.findings.filter((f) => f.id !== 'opensearch-ca-file')).toEqual((JSON.parse(second.stdout) as typeof thirdReport).findings)

    // one character changed: parsed and checked again; an invalid value is refused with its line
    const text = readFileSync(inv, 'utf8')
    const bad = text.replace(/id: "01"/, 'id: "1"')
    expect(bad).not.toBe(text)
    writeFileSync(inv, bad)
    const refused = await run(['config', 'validate', '-c', inv], {cacheHome})
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/derived inventory\S*: computed/)
    const line = bad.split('\n').findIndex((l) => l.includes('id: "1"')) + 1
    expect(refused.stderr).toContain(`${inv}:${line}:`)
    expect(refused.stderr).toContain('two- or three-digit id')

    // a valid edit: the new value is what the command sees
    writeFileSync(inv, text.replace(/domain: (\S+)/, 'domain: cache-test.lab'))
    const edited = await run(['config', 'validate', '--json', '-c', inv], {cacheHome})
    expect(edited.status).toBe(0)
    expect(edited.stderr).toMatch(/derived inventory\S*: computed/)
    const out = path.join(dir, 'derived-render')
    const again = await run(['render', '--out', out, '-c', inv], {cacheHome})
    expect(again.status, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/derived inventory\S*: from cache/)
    const rendered = readdirSync(out, {recursive: true})
      .map(String)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => readFileSync(path.join(out, f), 'utf8'))
    expect(rendered.some((t) => t.includes('cache-test.lab'))).toBe(true)
  })

  it('the lint with and without --allow-overcommit are kept side by side: commands that alternate read both back', async () => {
    // `node preflight` and `s3 setup` lint with the capacity finding a warning, `cluster register` and `render` with it
    // an error: with one entry for the file, each of them linted the inventory again (and loaded the lint) after the other
    const cacheHome = path.join(dir, 'derived-overcommit')
    const inv = path.join(dir, 'derived-overcommit.yaml')
    writeFileSync(inv, readFileSync(inventory, 'utf8'))
    const strict = ['config', 'validate', '--json', '-c', inv]
    const loose = [...strict, '--allow-overcommit']
    const verdicts: string[] = []
    for (const args of [strict, loose, strict, loose]) {
      const r = await run(args, {cacheHome})
      expect(r.status, r.stderr).toBe(0)
      verdicts.push(/derived lint\S*: (computed|from cache)/.exec(r.stderr)?.[1] ?? 'none')
    }
    expect(verdicts).toEqual(['computed', 'computed', 'from cache', 'from cache'])
  })

  it('an entry is used only for exactly its input: a text of other characters than ASCII is read back, an edit of the same length is not', async () => {
    const cacheHome = path.join(dir, 'derived-bytes')
    const inv = path.join(dir, 'derived-bytes.yaml')
    // the stored head counts the input in UTF-8 bytes, which a Korean comment makes more than its characters
    const text = `# 관측 플랫폼 (platform)\n${readFileSync(inventory, 'utf8')}`
    writeFileSync(inv, text)
    const first = await run(['config', 'validate', '-c', inv], {cacheHome})
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/derived inventory\S*: computed/)
    const second = await run(['config', 'validate', '-c', inv], {cacheHome})
    expect(second.stderr).toMatch(/derived inventory\S*: from cache/)

    // same length in characters and in bytes, one letter other: compared before the rest of the entry is read
    const edited = text.replace('관측', '감측')
    expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(text))
    writeFileSync(inv, edited)
    const third = await run(['config', 'validate', '-c', inv], {cacheHome})
    expect(third.status, third.stderr).toBe(0)
    expect(third.stderr).toMatch(/derived inventory\S*: computed/)
    expect(readFileSync(path.join(third.dir, `data!inventory${inv.replace(/[^\w.-]/g, '_').slice(-150)}`), 'utf8')).toContain('감측')
  })

  it('a journal checked once is read back as checked while unchanged; any change is checked again, and a bad one is still refused', async () => {
    const {cacheHome, inv, state, name} = journalHome('journal')
    const record = {phase: 'render', target: 'repo', status: 'done', fingerprint: 'f'.repeat(64), durationMs: 12}
    const journal = (extra: object) =>
      `${JSON.stringify({version: 1, inventory: inv, updatedAt: '2026-12-01T00:00:00.000Z', tasks: {'render/repo': {...record, ...extra}}}, null, 2)}\n`
    // a key the journal's shape does not know (a newer obsctl's) is kept by the check, as a save keeps it
    // (docs/journal.md): the cached result is the checked one, whole
    writeFileSync(state, journal({leftOver: 'from a newer obsctl'}))
    const first = await run(['state', 'show', '--json', '-c', inv], {cacheHome})
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toContain(`derived ${name}: computed`)
    const second = await run(['state', 'show', '--json', '-c', inv], {cacheHome})
    expect(second.status).toBe(0)
    expect(second.stderr).toContain(`derived ${name}: from cache`)
    expect(second.stdout).toBe(first.stdout)
    expect(JSON.parse(first.stdout)).toMatchObject({tasks: [{...record, leftOver: 'from a newer obsctl'}]})
    expect(statSync(path.join(first.dir, `data!${name}`)).mode & 0o777).toBe(0o600)

    // a change is checked again: a status the journal cannot hold is refused, exit 2, though a valid one was cached
    writeFileSync(state, journal({status: 'half-done'}))
    const refused = await run(['state', 'show', '-c', inv], {cacheHome})
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain(`${state} is not a usable obsctl journal`)
    // and a valid change is what the command shows
    writeFileSync(state, journal({status: 'failed', failure: {message: 'it broke', exitCode: 1, hints: []}}))
    const changed = await run(['state', 'show', '--json', '-c', inv], {cacheHome})
    expect(changed.status, changed.stderr).toBe(0)
    expect(changed.stderr).toContain(`derived ${name}: computed`)
    expect(JSON.parse(changed.stdout)).toMatchObject({tasks: [{status: 'failed', failure: {message: 'it broke'}}]})
  })

  it('a journal a command wrote is read back as checked by the next command, which shows what a check of the file shows', async () => {
    const {cacheHome, inv, state, name} = journalHome('journal-written')
    const record = (phase: string, target: string) => ({phase, target, status: 'done', fingerprint: 'f'.repeat(64), durationMs: 12})
    const tasks = {'render/repo': record('render', 'repo'), 'nodes/cluster-01/192.168.101.194': record('nodes', 'cluster-01/192.168.101.194')}
    writeFileSync(state, `${JSON.stringify({version: 1, inventory: inv, updatedAt: '2026-12-01T00:00:00.000Z', tasks}, null, 2)}\n`)
    // state reset checks the journal, forgets the nodes phase and writes the rest
    const reset = await run(['state', 'reset', '--yes', '--phase', 'nodes', '-c', inv], {cacheHome})
    expect(reset.status, reset.stderr).toBe(0)
    expect(reset.stderr).toContain(`derived ${name}: computed`)
    expect(readFileSync(path.join(reset.dir, `data!${name}`), 'utf8')).toContain(readFileSync(state, 'utf8'))
    const next = await run(['state', 'show', '--json', '-c', inv], {cacheHome})
    expect(next.status, next.stderr).toBe(0)
    expect(next.stderr).toContain(`derived ${name}: from cache`)
    expect((JSON.parse(next.stdout) as {tasks: {phase: string}[]}).tasks.map((t) => t.phase)).toEqual(['render'])
    // the same as the journal checked afresh (another cache folder: the schema's check of the file)
    const checked = await run(['state', 'show', '--json', '-c', inv], {cacheHome: path.join(dir, 'journal-written-fresh')})
    expect(checked.stderr).toContain(`derived ${name}: computed`)
    expect(next.stdout).toBe(checked.stdout)
    // an edit by hand is checked again, and refused when it is no journal
    writeFileSync(state, readFileSync(state, 'utf8').replace('"status": "done"', '"status": "half-done"'))
    const edited = await run(['state', 'show', '-c', inv], {cacheHome})
    expect(edited.status).toBe(2)
    expect(edited.stderr).toContain(`${state} is not a usable obsctl journal`)
  })

  it("a command that refuses an invalid inventory knows an unchanged text's clean lint without loading the lint; an error is still refused", async () => {
    const cacheHome = path.join(dir, 'lint-known')
    const inv = path.join(dir, 'lint-known.yaml')
    writeFileSync(inv, readFileSync(inventory, 'utf8'))
    const {env, loadedBy} = loadedPreload()
    const loaded = (r: Run, chunk: string) => loadedBy(r).some((f) => new RegExp(`[\\\\/]chunks[\\\\/]${chunk}-\\w+\\.js$`).test(f))
    // s3 setup refuses an invalid inventory before anything (BaseCommand.loadValidInventory), render before it renders
    // (src/lib/config/refuse-invalid.ts); --dry-run contacts nothing, and a dry render takes no run lock (nor loads it)
    for (const args of [
      ['s3', 'setup', '--dry-run', '-c', inv],
      ['render', '--dry-run', '--out', path.join(dir, 'lint-known-repo'), '-c', inv],
    ]) {
      writeFileSync(inv, readFileSync(inventory, 'utf8'))
      const first = await run(args, {cacheHome, env})
      expect(first.status, first.stderr).toBe(0)
      expect(loaded(first, 'lint')).toBe(true)
      const second = await run(args, {cacheHome, env})
      expect(second.status, second.stderr).toBe(0)
      expect(loaded(second, 'lint')).toBe(false)
      expect(loaded(second, 'inventory-lock')).toBe(false)
      expect(second.stdout).toBe(first.stdout)
      // a text with a lint error is refused, the first time and when its lint is read back
      writeFileSync(inv, exampleInventory({'s3.buckets.snapshots.expireAfter': '30d'}))
      for (const n of [1, 2]) {
        const bad = await run(args, {cacheHome, env})
        expect(bad.status, `${args[0]} run ${n}: ${bad.stderr}`).toBe(2)
        expect(bad.stderr).toMatch(/s3\.buckets\.snapshots\.expireAfter: an S3 lifecycle expiry on the OpenSearch snapshots bucket/)
      }
    }
  })

  it('templates compiled from cached sources render the same repository as compiled afresh', async () => {
    const cacheHome = path.join(dir, 'templates')
    const cold = path.join(dir, 'render-cold')
    const warm = path.join(dir, 'render-warm')
    const a = await run(['render', '--out', cold, '-c', inventory], {cacheHome})
    expect(a.status, a.stderr).toBe(0)
    expect(a.stderr).toContain('derived eta-templates: computed')
    // without the rendered files kept from the first run (the next test), so the templates are compiled again
    rmSync(path.join(a.dir, `data!${entryOf('rendered-files', inventory)}`))
    const b = await run(['render', '--out', warm, '-c', inventory], {cacheHome})
    expect(b.status, b.stderr).toBe(0)
    expect(b.stderr).toContain('derived eta-templates: from cache')
    expect(b.stderr).toContain(`derived ${entryOf('rendered-files', inventory)}: computed`)
    const files = (d: string) =>
      readdirSync(d, {recursive: true})
        .map(String)
        .filter((f) => !f.startsWith('.') && statSync(path.join(d, f)).isFile())
        .sort()
    expect(files(warm)).toEqual(files(cold))
    expect(files(cold).length).toBeGreaterThan(20)
    for (const f of files(cold)) expect(readFileSync(path.join(warm, f), 'utf8'), f).toBe(readFileSync(path.join(cold, f), 'utf8'))
  })

  it('plan and render of an unchanged inventory read back the rendered files, node fingerprints and Secret shapes; an edited inventory or template is computed again', async () => {
    const cacheHome = path.join(dir, 'platform-memo')
    const bin = copyInstall(path.join(dir, 'memo-install'))
    const memoDir = path.join(dir, 'memo')
    mkdirSync(path.join(memoDir, '.obsctl'), {recursive: true, mode: 0o700})
    const inv = path.join(memoDir, 'memo.yaml')
    writeFileSync(inv, readFileSync(inventory, 'utf8'))
    // every node installed (a done task in the journal both inventories here share): plan works out each node's install
    // fingerprint to compare with the one the journal holds (with no task done it works out none)
    const nodes = await runProcess(process.execPath, [bin, 'plan', '--json', '--phase', 'nodes', '-c', inv], {
      env: {...process.env, CI: '1', OBSCTL_CODE_CACHE: '0'},
    })
    const targets = (JSON.parse(nodes.stdout) as {phases: {tasks: {target: string}[]}[]}).phases[0]!.tasks.map((t) => t.target)
    expect(targets.length).toBeGreaterThan(3)
    const done = (t: string) => [`nodes/${t}`, {phase: 'nodes', target: t, status: 'done', fingerprint: 'an-older-input'}]
    const journal = {version: 1, inventory: inv, updatedAt: '2030-01-01T00:00:00.000Z', tasks: Object.fromEntries(targets.map(done))}
    writeFileSync(path.join(memoDir, '.obsctl', 'state.json'), JSON.stringify(journal), {mode: 0o600})
    const names = ['rendered-digests', 'node-fingerprints', 'secret-shapes']
    const first = await run(['plan', '--json', '-c', inv], {cacheHome, bin})
    expect(first.status, first.stderr).toBe(0)
    for (const n of names) expect(first.stderr).toContain(`derived ${entryOf(n, inv)}: computed`)
    for (const n of names) expect(statSync(path.join(first.dir, `data!${entryOf(n, inv)}`)).mode & 0o777).toBe(0o600)
    // plan keeps the render's digests, not its files (render keeps those): 0.3 MB, not 8.9, at 1,000 clusters
    expect(existsSync(path.join(first.dir, `data!${entryOf('rendered-files', inv)}`))).toBe(false)
    // the templates' digest (a key of the rendered digests, part of the render fingerprint) is read back against their
    // file stamps: no template is read (templates/gitops: 430 KB in 58 files), as a preload counting reads shows
    const reads = exitReport<number>('TEMPLATE-READS', 'n', [
      "const fs = require('fs'); const read = fs.readFileSync; let n = 0",
      'fs.readFileSync = function (f, ...a) { if (/[\\\\/]templates[\\\\/]gitops[\\\\/]/.test(String(f))) n++; return read.call(this, f, ...a) }',
    ])
    const second = await run(['plan', '--json', '-c', inv], {cacheHome, bin, env: reads.env})
    expect(second.status, second.stderr).toBe(0)
    for (const n of names) expect(second.stderr).toContain(`derived ${entryOf(n, inv)}: from cache`)
    expect(first.stderr).toContain('derived templates-digest: computed')
    expect(second.stderr).toContain('derived templates-digest: from cache')
    expect(second.stderr).toMatch(/^TEMPLATE-READS 0$/m)
    // the same tasks, descriptions and states: read back, not computed, and nothing rewritten
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout))
    const kept = snapshot(first.dir)
    const third = await run(['plan', '--json', '-c', inv], {cacheHome, bin})
    expect(third.status).toBe(0)
    expect(snapshot(first.dir)).toEqual(kept)

    // another inventory in turn (staging, then production) has entries of its own: neither replaces the other's
    const other = path.join(memoDir, 'memo-other.yaml')
    writeFileSync(other, readFileSync(inv, 'utf8').replace(/domain: (\S+)/, 'domain: memo-other.lab'))
    const otherPlan = await run(['plan', '--json', '-c', other], {cacheHome, bin})
    expect(otherPlan.status, otherPlan.stderr).toBe(0)
    for (const n of names) expect(otherPlan.stderr).toContain(`derived ${entryOf(n, other)}: computed`)
    const back = await run(['plan', '--json', '-c', inv], {cacheHome, bin})
    expect(back.status, back.stderr).toBe(0)
    for (const n of names) expect(back.stderr).toContain(`derived ${entryOf(n, inv)}: from cache`)
    expect(JSON.parse(back.stdout)).toEqual(JSON.parse(first.stdout))

    // the files render writes from the kept result are, byte for byte, those of a render without any cache
    const keeps = await run(['render', '--out', path.join(dir, 'memo-keeps'), '-c', inv], {cacheHome, bin})
    expect(keeps.status, keeps.stderr).toBe(0)
    expect(keeps.stderr).toContain(`derived ${entryOf('rendered-files', inv)}: computed`)
    const cached = path.join(dir, 'memo-cached')
    const fromCache = await run(['render', '--out', cached, '-c', inv], {cacheHome, bin})
    expect(fromCache.status, fromCache.stderr).toBe(0)
    expect(fromCache.stderr).toContain(`derived ${entryOf('rendered-files', inv)}: from cache`)
    const fresh = path.join(dir, 'memo-fresh')
    const cold = await runProcess(process.execPath, [bin, 'render', '--out', fresh, '-c', inv], {env: {...process.env, CI: '1', OBSCTL_CODE_CACHE: '0'}})
    expect(cold.status, cold.stderr).toBe(0)
    const files = (d: string) =>
      readdirSync(d, {recursive: true})
        .map(String)
        .filter((f) => statSync(path.join(d, f)).isFile())
        .sort()
    expect(files(cached)).toEqual(files(fresh))
    expect(files(fresh).length).toBeGreaterThan(20)
    for (const f of files(fresh)) expect(readFileSync(path.join(cached, f), 'utf8'), f).toBe(readFileSync(path.join(fresh, f), 'utf8'))

    // an edit that reaches the templates: rendered again, and the render has it
    writeFileSync(inv, readFileSync(inv, 'utf8').replace(/domain: (\S+)/, 'domain: memo-test.lab'))
    const out = path.join(dir, 'memo-render')
    const edited = await run(['render', '--out', out, '-c', inv], {cacheHome, bin})
    expect(edited.status, edited.stderr).toBe(0)
    expect(edited.stderr).toContain(`derived ${entryOf('rendered-files', inv)}: computed`)
    const grep = (d: string, s: string) =>
      readdirSync(d, {recursive: true})
        .map(String)
        .filter((f) => f.endsWith('.yaml'))
        .some((f) => readFileSync(path.join(d, f), 'utf8').includes(s))
    expect(grep(out, 'memo-test.lab')).toBe(true)
    // …but what does not read the domain is kept by its own input (derivedMemo's contentMemo): every cluster's
    // Cilium values are read back, and the files are still those of a render without any cache
    expect(edited.stderr).toContain('derived cilium-values-yaml: from cache')
    const freshEdited = path.join(dir, 'memo-fresh-edited')
    const coldEdited = await runProcess(process.execPath, [bin, 'render', '--out', freshEdited, '-c', inv], {
      env: {...process.env, CI: '1', OBSCTL_CODE_CACHE: '0'},
    })
    expect(coldEdited.status, coldEdited.stderr).toBe(0)
    expect(files(out)).toEqual(files(freshEdited))
    for (const f of files(freshEdited)) expect(readFileSync(path.join(out, f), 'utf8'), f).toBe(readFileSync(path.join(freshEdited, f), 'utf8'))
    // and the nodes' kubeadm configuration: every node's install fingerprint (a hash of its whole script) is the
    // one a run with an empty cache folder computes
    const editedPlan = await run(['plan', '--json', '-c', inv], {cacheHome, bin})
    expect(editedPlan.status, editedPlan.stderr).toBe(0)
    expect(editedPlan.stderr).toContain(`derived ${entryOf('node-fingerprints', inv)}: computed`)
    expect(editedPlan.stderr).toContain('derived kubeadm-init-yaml: from cache')
    const emptyPlan = await run(['plan', '--json', '-c', inv], {cacheHome: path.join(dir, 'platform-memo-empty'), bin})
    expect(emptyPlan.status, emptyPlan.stderr).toBe(0)
    expect(emptyPlan.stderr).toContain('derived kubeadm-init-yaml: computed')
    const fingerprints = (d: string) => readFileSync(path.join(d, `data!${entryOf('node-fingerprints', inv)}`), 'utf8')
    expect(fingerprints(editedPlan.dir)).toEqual(fingerprints(emptyPlan.dir))
    expect(fingerprints(editedPlan.dir)).toMatch(/cluster-01/)

    // a template edited on disk (outside the bundle the cache folder is named by): rendered again with it
    const tpl = path.join(path.dirname(path.dirname(bin)), 'templates', 'gitops', 'platform', 'argocd', 'root-app.yaml')
    writeFileSync(tpl, `${readFileSync(tpl, 'utf8')}# memo-test template edit\n`)
    const out2 = path.join(dir, 'memo-render-2')
    const retemplated = await run(['render', '--out', out2, '-c', inv], {cacheHome, bin})
    expect(retemplated.status, retemplated.stderr).toBe(0)
    expect(retemplated.stderr).toContain('derived templates-digest: computed')
    expect(retemplated.stderr).toContain(`derived ${entryOf('rendered-files', inv)}: computed`)
    expect(grep(out2, '# memo-test template edit')).toBe(true)
    // and install-k8s.sh: every node's fingerprint is computed again (a changed script reinstalls the nodes)
    const script = path.join(path.dirname(path.dirname(bin)), 'templates', 'scripts', 'install-k8s.sh')
    writeFileSync(script, `${readFileSync(script, 'utf8')}\n# memo-test script edit\n`)
    const replanned = await run(['plan', '--json', '-c', inv], {cacheHome, bin})
    expect(replanned.status, replanned.stderr).toBe(0)
    expect(replanned.stderr).toContain(`derived ${entryOf('node-fingerprints', inv)}: computed`)
  })

  it('a plan of an unchanged inventory with no task done hashes nothing: node:crypto is not loaded (a fingerprint is compared with a done task only)', async () => {
    const cacheHome = path.join(dir, 'no-crypto-cache')
    const inv = path.join(dir, 'no-crypto.yaml')
    writeFileSync(inv, readFileSync(inventory, 'utf8'))
    const builtins = exitReport<string[]>('BUILTINS', "process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))")
    // the first run derives what the second reads back (the rendered files' digests: sha256)
    const first = await run(['plan', '--json', '-c', inv], {cacheHome, env: builtins.env})
    expect(first.status, first.stderr).toBe(0)
    expect(builtins.of(first)).toContain('crypto')
    const second = await run(['plan', '--json', '-c', inv], {cacheHome, env: builtins.env})
    expect(second.status, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout))
    expect((JSON.parse(second.stdout) as {counts: {pending: number}}).counts.pending).toBeGreaterThan(10)
    expect(builtins.of(second)).not.toContain('crypto')
  })

  it('the JSON Schema init writes is the same read back as built', async () => {
    const cacheHome = path.join(dir, 'schema')
    const a = path.join(dir, 'schema-a', 'obsctl.yaml')
    const b = path.join(dir, 'schema-b', 'obsctl.yaml')
    const first = await run(['init', '--example', '-c', a], {cacheHome})
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toContain('derived json-schema: computed')
    const second = await run(['init', '--example', '-c', b], {cacheHome})
    expect(second.status, second.stderr).toBe(0)
    expect(second.stderr).toContain('derived json-schema: from cache')
    const schema = (f: string) => readFileSync(path.join(path.dirname(f), '.obsctl', 'schema.json'), 'utf8')
    expect(schema(b)).toBe(schema(a))
    expect(JSON.parse(schema(a))).toMatchObject({$schema: 'http://json-schema.org/draft-07/schema#'})
  })

  it("init's inventory: which of its values YAML reads as plain strings is kept, so writing it again loads no YAML library", async () => {
    const cacheHome = path.join(dir, 'init-scalars')
    const a = path.join(dir, 'init-scalars-a', 'obsctl.yaml')
    const b = path.join(dir, 'init-scalars-b', 'obsctl.yaml')
    const {env, loadedBy} = loadedPreload()
    const yamlLoaded = (r: Run) => loadedBy(r).some((f) => /[\\/]chunks[\\/]lazy[\\/]yaml\.js$/.test(f))
    const first = await run(['init', '--example', '-c', a], {cacheHome, env})
    expect(first.status, first.stderr).toBe(0)
    expect(yamlLoaded(first)).toBe(true)
    expect(first.stderr).toContain('derived yaml-plain-scalars: computed')
    // written again over itself (a file of its own has its parse to make: that reads YAML)
    mkdirSync(path.dirname(b))
    writeFileSync(b, readFileSync(a, 'utf8'))
    expect((await run(['config', 'validate', '-c', b], {cacheHome})).status).toBe(0)
    const second = await run(['init', '--example', '--force', '-c', b], {cacheHome, env})
    expect(second.status, second.stderr).toBe(0)
    expect(second.stderr).toContain('derived yaml-plain-scalars: from cache')
    expect(yamlLoaded(second)).toBe(false)
    // the same inventory, byte for byte, as one written without any cache
    const c = path.join(dir, 'init-scalars-c', 'obsctl.yaml')
    const cold = await runProcess(process.execPath, [BIN, 'init', '--example', '-c', c], {env: {...process.env, CI: '1', OBSCTL_CODE_CACHE: '0'}})
    expect(cold.status, cold.stderr).toBe(0)
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(c, 'utf8'))
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(c, 'utf8'))
  })
})

describe("the bundle's own requires (src/lib/code-cache.ts requireSibling)", () => {
  it('a file of the bundle required by another is one module in require.cache, without a search; a throwing one is not kept; anything else goes through Node', async () => {
    const root = tmpDir('obsctl-siblings-')
    const chunks = path.join(root, 'dist', 'chunks')
    mkdirSync(chunks, {recursive: true})
    mkdirSync(path.join(root, 'dist', 'commands'))
    const w = (f: string, text: string) => writeFileSync(path.join(root, 'dist', f), text)
    // a sibling in the same folder ("./leaf.js", the bundle's usual name) and one in a folder below it
    w(
      'chunks/shared.js',
      'globalThis.loads = (globalThis.loads ?? 0) + 1; exports.value = {n: 1, leaf: require("./leaf.js").leaf, deep: require("./lazy/deep.js").deep}\n',
    )
    w('chunks/leaf.js', 'exports.leaf = __filename\n')
    mkdirSync(path.join(chunks, 'lazy'))
    w('chunks/lazy/deep.js', 'exports.deep = __filename\n')
    w('chunks/broken.js', 'globalThis.broken = (globalThis.broken ?? 0) + 1; throw new Error("broken at load")\n')
    w('chunks/data.json', '{"from": "node"}\n')
    w(
      'commands/cmd.js',
      [
        'const a = require("../chunks/shared.js"), b = require("../chunks/shared.js")',
        'let err1, err2',
        'try { require("../chunks/broken.js") } catch (e) { err1 = e.message }',
        'try { require("../chunks/broken.js") } catch (e) { err2 = e.message }',
        'const sharedModule = module.children[0]',
        'exports.report = {same: a === b, value: a.value, data: require("../chunks/data.json"), outside: require("../outside.js").outside, err1, err2,',
        '  nested: require("./sub/nested.js").leaf,',
        '  children: module.children.map((c) => c.id), broken: globalThis.broken, loads: globalThis.loads,',
        "  // the module as Node's loader leaves one: its file, loaded, where it would look for a package",
        '  loaded: sharedModule.loaded, filename: sharedModule.filename, paths: sharedModule.paths,',
        '  nodePaths: require("node:module")._nodeModulePaths(require("node:path").dirname(sharedModule.filename)), ownPaths: sharedModule.paths !== module.paths}',
      ].join('\n'),
    )
    w('outside.js', 'exports.outside = true\n')
    // a command in a folder below (dist/commands/node/preflight.js): the bundle's files two folders up
    mkdirSync(path.join(root, 'dist', 'commands', 'sub'))
    w('commands/sub/nested.js', 'exports.leaf = require("../../chunks/leaf.js").leaf\n')
    // the harness: the code cache over the two folders, then what Node's loader was asked to resolve
    const harness = [
      `const {installCodeCache} = await import(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'code-cache.js'))})`,
      "const {createRequire, default: Module} = await import('node:module')",
      `installCodeCache({roots: [${JSON.stringify(chunks + path.sep)}, ${JSON.stringify(path.join(root, 'dist', 'commands') + path.sep)}], version: '0', bundleId: 't'})`,
      'const asked = []',
      'const resolve = Module._resolveFilename',
      'Module._resolveFilename = function (request, ...rest) { asked.push(request); return resolve.call(this, request, ...rest) }',
      `const req = createRequire(${JSON.stringify(path.join(root, 'x.js'))})`,
      `const {report} = req(${JSON.stringify(path.join(root, 'dist', 'commands', 'cmd.js'))})`,
      `const shared = ${JSON.stringify(path.join(chunks, 'shared.js'))}`,
      `const broken = ${JSON.stringify(path.join(chunks, 'broken.js'))}`,
      'const fromOutside = req(shared)',
      'process.stdout.write(JSON.stringify({...report, asked, cached: Boolean(req.cache[shared]), brokenCached: broken in req.cache, sameAsOutside: fromOutside.value === report.value}))',
    ].join('\n')
    const r = await runProcess(process.execPath, ['--input-type=module', '-e', harness], {env: {...process.env, XDG_CACHE_HOME: path.join(root, 'cache')}})
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(out).toMatchObject({
      same: true,
      value: {n: 1, leaf: path.join(chunks, 'leaf.js'), deep: path.join(chunks, 'lazy', 'deep.js')},
      loads: 1,
      data: {from: 'node'},
      outside: true,
      err1: 'broken at load',
      err2: 'broken at load',
      // not kept after it threw: the second require ran it again, and it is neither cached nor a child
      broken: 2,
      brokenCached: false,
      cached: true,
      sameAsOutside: true,
      nested: path.join(chunks, 'leaf.js'),
      children: [
        path.join(chunks, 'shared.js'),
        path.join(chunks, 'data.json'),
        path.join(root, 'dist', 'outside.js'),
        path.join(root, 'dist', 'commands', 'sub', 'nested.js'),
      ],
      loaded: true,
      filename: path.join(chunks, 'shared.js'),
      ownPaths: true,
    })
    expect(out.paths).toEqual(out.nodePaths)
    expect(out.paths).toContain(path.join(root, 'dist', 'node_modules'))
    // Node's loader searched only for what is not a .js file of the bundle: the command file itself (required from
    // outside), the JSON file, the file outside the bundle's folders, and shared.js required from outside
    expect(out.asked).toEqual([path.join(root, 'dist', 'commands', 'cmd.js'), '../chunks/data.json', '../outside.js', path.join(chunks, 'shared.js')])
  })

  it("a bundle file's exports are the object its names were defined on, marked __esModule: one getter per name, no copy (bin/bundle.mjs)", async () => {
    // what a `plan` loads, inspected at its exit: every bundle module's exports (esbuild's CommonJS output copies them
    // into a second object of getters reading the first: two getters and two definitions a name)
    const exportsReport = exitReport<{modules: number; names: number; copied: string[]; unmarked: string[]}>('EXPORTS', 'exportsSeen()', [
      "const path = require('node:path')",
      `const dist = ${JSON.stringify(path.join(ROOT, 'dist') + path.sep)}`,
      'function exportsSeen() {',
      '  const seen = {modules: 0, names: 0, copied: [], unmarked: []}',
      '  for (const [file, m] of Object.entries(require.cache)) {',
      "    if (!file.startsWith(dist) || !m.exports || typeof m.exports !== 'object' || !Object.keys(m.exports).length) continue",
      '    const ds = Object.getOwnPropertyDescriptors(m.exports)',
      '    if (!ds.__esModule) continue // a bundled CommonJS package or a JSON file',
      '    seen.modules++',
      '    if (m.exports.__esModule !== true) seen.unmarked.push(path.relative(dist, file))',
      '    for (const [name, d] of Object.entries(ds)) {',
      "      if (name === '__esModule') continue",
      '      seen.names++',
      "      if (d.get && /from\\[key\\]/.test(String(d.get))) seen.copied.push(path.relative(dist, file) + ' ' + name)",
      '    }',
      '  }',
      '  return seen',
      '}',
    ])
    const r = await run(['plan', '-c', inventory], {cacheHome: path.join(dir, 'exports-cache'), env: exportsReport.env})
    expect(r.status, r.stderr).toBe(0)
    const seen = exportsReport.of(r)
    expect(seen.modules).toBeGreaterThan(30)
    expect(seen.names).toBeGreaterThan(300)
    expect(seen.unmarked).toEqual([])
    expect(seen.copied.slice(0, 5)).toEqual([])
  })

  it("each file's exports are an object literal of getters, and its source map still leads each function and class back to its name and place (bin/bundle.mjs exportGetters, builtinNamespaces, lazyClientNodeModels)", () => {
    // the code cache's own file too (bin/run.js requires it first)
    expect(readFileSync(path.join(ROOT, 'dist', 'code-cache.cjs'), 'utf8')).not.toMatch(/=__toESM\(require\("node:/)
    const chunks = path.join(ROOT, 'dist', 'chunks')
    let files = 0
    let checked = 0
    const wrong: string[] = []
    const missing: string[] = []
    // the shared chunks and the lazily required ones (chunks/lazy/: client-node's models, moved there by the build)
    for (const f of [...readdirSync(chunks), ...readdirSync(path.join(chunks, 'lazy')).map((n) => `lazy/${n}`)].filter((n) => n.endsWith('.js'))) {
      const text = readFileSync(path.join(chunks, f), 'utf8')
      const map = JSON.parse(readFileSync(path.join(chunks, `${f}.map`), 'utf8')) as {mappings: string; sources: string[]; sourcesContent: (string | null)[]}
      // the file the build moved: its sources (client-node's TypeScript, which its own maps name) one folder further up,
      // in node_modules as from the folder it was written in
      if (f === 'lazy/client-node-models.js')
        for (const s of map.sources) if (!path.resolve(chunks, 'lazy', s).startsWith(path.join(ROOT, 'node_modules') + path.sep)) missing.push(`${f}: ${s}`)
      // esbuild's __export is gone: the names are the literal's
      expect(text, f).not.toMatch(/\b__export\(\w/)
      // and a default import of a Node builtin is not a copy of its every name (builtinNamespaces)
      expect(text, f).not.toMatch(/=__toESM\(require\("node:/)
      const literal = text.indexOf('_exports={get ')
      if (literal < 0) continue
      files++
      const lines = decodeMappings(map.mappings)
      text.split('\n').forEach((line, at) => {
        // every `function name(` and `class Name` after the literal (its columns moved when the literal grew)
        for (const m of line.matchAll(/(function |class )([A-Za-z_$][\w$]*)[({ ]/g)) {
          if (at === 0 && m.index < literal) continue
          const segment = lines[at]?.find((s) => s[0] === m.index + m[1]!.length)
          const source = segment && segment.length >= 4 ? map.sourcesContent[segment[1]!] : undefined
          if (typeof source !== 'string') continue
          const from = source.split('\n')[segment![2]!]!.slice(segment![3])
          const named = /^(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*)?([A-Za-z_$][\w$]*)/.exec(from)?.[1]
          checked++
          // esbuild renames a clash with a number (`clone2`), a class that names itself inside with an underscore
          // (`var _Config = class _Config`), names an anonymous default export (`export default function ()`) after its
          // module, and names the wrapper of a bundled CommonJS module itself
          const forms = [m[2]!, m[2]!.replace(/\d+$/, ''), m[2]!.replace(/^_/, ''), m[2]!.replace(/^_/, '').replace(/\d+$/, '')]
          const anonymousDefault = /^default\s+function\s*\(/.test(from)
          if (!forms.includes(named!) && !anonymousDefault && !/^require[A-Z_]/.test(m[2]!)) wrong.push(`${f} ${m[2]} -> ${from.slice(0, 40)}`)
        }
      })
    }
    expect(files).toBeGreaterThan(100)
    expect(checked).toBeGreaterThan(1000)
    expect(wrong).toEqual([])
    expect(missing).toEqual([])
  })
})

describe('the root help (src/lib/root-help-cache.ts): `obsctl --help` printed again without the CLI while nothing it was drawn from changed', () => {
  const ENTRY = 'data!root-help'
  /** the help as the CLI draws it, no cache at all */
  const drawn = async (env: NodeJS.ProcessEnv = {}, bin?: string) => {
    const r = await runProcess(process.execPath, [bin ?? BIN, '--help'], {
      cwd: dir,
      env: {...process.env, CI: '1', NO_COLOR: '1', OBSCTL_CODE_CACHE: '0', ...env},
    })
    expect(r.status, r.stderr).toBe(0)
    return r.stdout
  }
  const said = (r: Run) => /root help: (drawn|from cache)/.exec(r.stderr)?.[1]

  it('the second run prints the same bytes and loads nothing of the CLI; `obsctl` alone and `-h` share it; another width, colour, theme or environment is drawn again', async () => {
    const cacheHome = path.join(dir, 'root-help')
    const config = path.join(dir, 'root-help-config')
    const env = {XDG_CONFIG_HOME: config}
    const first = await run(['--help'], {cacheHome, env})
    expect(first.status, first.stderr).toBe(0)
    expect(said(first)).toBe('drawn')
    expect(first.stdout).toBe(await drawn(env))
    expect(first.stdout).toMatch(/^VERSION\n {2}obsctl\/\d/m)
    const entry = path.join(first.dir, ENTRY)
    expect(statSync(entry).mode & 0o777).toBe(0o600)

    const again = await run(['--help'], {cacheHome, env})
    expect(again).toMatchObject({status: 0, stdout: first.stdout, dir: first.dir, fromCache: 0, compiled: 0, written: 0})
    expect(said(again)).toBe('from cache')
    // the shell's bookkeeping is not the help's input
    expect(said(await run(['--help'], {cacheHome, env: {...env, PWD: '/elsewhere', OLDPWD: dir, SHLVL: '7'}}))).toBe('from cache')
    for (const args of [[], ['-h']]) expect(await run(args, {cacheHome, env}), args.join(' ')).toMatchObject({status: 0, stdout: first.stdout, compiled: 0})
    // a command's or a topic's help is not this entry's
    expect(said(await run(['config', '--help'], {cacheHome, env}))).toBeUndefined()

    // another width: drawn at that width (and kept in its place)
    const narrow = {...env, OCLIF_COLUMNS: '50'}
    const at50 = await run(['--help'], {cacheHome, env: narrow})
    expect(said(at50)).toBe('drawn')
    expect(at50.stdout).toBe(await drawn(narrow))
    expect(at50.stdout).not.toBe(first.stdout)
    expect(await run(['--help'], {cacheHome, env: narrow})).toMatchObject({stdout: at50.stdout, compiled: 0})

    // colour, then a theme written into the user's config folder: each drawn again, as the CLI draws it
    const colour = {...env, NO_COLOR: undefined, FORCE_COLOR: '1'}
    const coloured = await run(['--help'], {cacheHome, env: colour})
    expect(said(coloured)).toBe('drawn')
    expect(coloured.stdout).toContain('\u001B[1mVERSION\u001B[22m')
    expect(coloured.stdout).toBe(await drawn(colour))
    expect(said(await run(['--help'], {cacheHome, env: colour}))).toBe('from cache')
    mkdirSync(path.join(config, 'obsctl'), {recursive: true})
    writeFileSync(path.join(config, 'obsctl', 'theme.json'), '{"sectionHeader": "red"}\n')
    const themed = await run(['--help'], {cacheHome, env: colour})
    expect(said(themed)).toBe('drawn')
    expect(themed.stdout).toContain('\u001B[31m\u001B[1mVERSION')
    expect(themed.stdout).toBe(await drawn(colour))
    expect(await run(['--help'], {cacheHome, env: colour})).toMatchObject({stdout: themed.stdout, compiled: 0})

    // any other variable: drawn again; with DEBUG (oclif's trace) nothing is read or kept
    expect(said(await run(['--help'], {cacheHome, env: {...colour, SOMETHING_ELSE: '1'}}))).toBe('drawn')
    const before = snapshot(first.dir)
    const debug = await run(['--help'], {cacheHome, env: {...colour, SOMETHING_ELSE: '1', DEBUG: '*'}})
    expect(debug.status).toBe(0)
    expect(debug.stderr).toMatch(/config/)
    expect(said(debug)).toBeUndefined()
    expect(snapshot(first.dir)[ENTRY]).toBe(before[ENTRY])
  })

  it('the environment is kept as a digest: a token in it is in no file of the cache folder', async () => {
    const cacheHome = path.join(dir, 'root-help-secret')
    const token = 'tok-3f9c1e27d5b84a06'
    const env = {OBSCTL_GIT_TOKEN: token, XDG_CONFIG_HOME: path.join(dir, 'root-help-secret-config')}
    expect(said(await run(['--help'], {cacheHome, env}))).toBe('drawn')
    expect(said(await run(['--help'], {cacheHome, env}))).toBe('from cache')
    const top = path.join(cacheHome, 'obsctl')
    const files = readdirSync(top, {recursive: true}).map((f) => path.join(top, String(f)))
    expect(files.some((f) => f.endsWith(ENTRY))).toBe(true)
    for (const f of files) if (statSync(f).isFile()) expect(readFileSync(f).includes(token), f).toBe(false)
  })

  it("an install whose manifest changed is drawn again; a run that warned (oclif's manifest warning) keeps nothing", async () => {
    const cacheHome = path.join(dir, 'root-help-install')
    const bin = copyInstall(path.join(dir, 'root-help-install-copy'))
    const env = {XDG_CONFIG_HOME: path.join(dir, 'root-help-install-config')}
    const first = await run(['--help'], {cacheHome, env, bin})
    expect(said(first)).toBe('drawn')
    expect(said(await run(['--help'], {cacheHome, env, bin}))).toBe('from cache')
    const manifest = path.join(dir, 'root-help-install-copy', 'oclif.manifest.json')
    const text = readFileSync(manifest, 'utf8')
    const m = JSON.parse(text) as {version: string}
    const kept = snapshot(first.dir)[ENTRY]
    writeFileSync(manifest, JSON.stringify({...m, version: '0.0.1'}))
    for (let i = 0; i < 2; i++) {
      const warned = await run(['--help'], {cacheHome, env, bin})
      expect(warned.status).toBe(0)
      expect(warned.stderr).toContain('Mismatched version')
      expect(warned.stderr).toContain(`root help: drawn (${manifest} changed)`)
      // the entry of the run before, not rewritten
      expect(snapshot(first.dir)[ENTRY]).toBe(kept)
    }
    writeFileSync(manifest, text)
    expect(said(await run(['--help'], {cacheHome, env, bin}))).toBe('drawn')
    expect(snapshot(first.dir)[ENTRY]).not.toBe(kept)
    expect(await run(['--help'], {cacheHome, env, bin})).toMatchObject({stdout: first.stdout, compiled: 0})
  })

  it('a reader gone before the text is written (`obsctl --help | true`): exit 0, nothing on stderr, from the cache and for --version', async () => {
    const cacheHome = path.join(dir, 'root-help-pipe')
    const env = {
      ...process.env,
      CI: '1',
      NO_COLOR: '1',
      NODE_DEBUG: 'obsctl-code-cache',
      XDG_CACHE_HOME: cacheHome,
      XDG_CONFIG_HOME: path.join(dir, 'root-help-pipe-config'),
    }
    expect((await runProcess(process.execPath, [BIN, '--help'], {cwd: dir, env})).status).toBe(0)
    const closed = (args: string[]) =>
      new Promise<{code: number | null; stderr: string}>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe']})
        // closed before the child can have written: its write meets no reader (EPIPE)
        child.stdout.destroy()
        let stderr = ''
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
        child.on('error', reject)
        child.on('close', (code) => resolve({code, stderr}))
      })
    const help = await closed(['--help'])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stderr).toContain('root help: from cache')
    expect(help.stderr).not.toMatch(/EPIPE|Error/)
    const version = await closed(['--version'])
    expect(version.code, version.stderr).toBe(0)
    expect(version.stderr).not.toMatch(/EPIPE|Error/)
  })
})
