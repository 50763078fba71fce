/**
 * A command run without oclif's runner (src/lib/cli/direct-command.ts, src/direct.ts; issue 18's start-up budgets).
 * What must hold: the built CLI prints the same bytes and exits with the same code either way (each case is run
 * directly and with OBSCTL_DIRECT_RUN=0, oclif's runner, and compared), the command lines oclif must see still go to
 * it, and the index bin/run.js reads is the manifest's. oclif's rules mirrored here were read in @oclif/core 4's
 * lib/help/util.js (collateSpacedCmdIDFromArgs), lib/main.js (help flags, `--`) and lib/config/config.js (`dir()`), and
 * are checked against oclif itself: its `normalizeArgv` and the `Config` it loads for this package.
 */

/** oclif's own configuration of this package, as its runner loads it (the built commands, as bin/run.js says) */
async function oclifConfig(): Promise<Config> {
  ;(globalThis as {oclif?: object}).oclif = {...(globalThis as {oclif?: object}).oclif, enableAutoTranspile: false}
  return Config.load(ROOT)
}
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Config} from '@oclif/core'
import {normalizeArgv} from '@oclif/core/help'
import {beforeAll, describe, expect, it, vi} from 'vitest'
import {commandIdOf, directCommand, directConfig, oclifUserFiles, type CommandIndex, type PackageJson} from '../../src/lib/cli/direct-command.js'
import {exampleInventory} from '../support/inventory.js'
import {BIN, ROOT, requireBuild, runProcess, tmpDir} from './helpers.js'

const index = (): CommandIndex => JSON.parse(readFileSync(path.join(ROOT, 'dist', 'command-index.json'), 'utf8')) as CommandIndex

describe('which command line runs directly', () => {
  beforeAll(() => requireBuild())

  it("takes oclif's command id: the longest run of words that starts an id, up to a flag, a=b or a command's arguments", () => {
    const idx = index()
    const id = (...argv: string[]) => commandIdOf(argv, idx)
    expect(id('config', 'validate')).toEqual({id: 'config:validate', words: 2})
    expect(id('plan', '--json')).toEqual({id: 'plan', words: 1})
    expect(id('cluster', 'add', 'cluster-05', '--dry-run')).toEqual({id: 'cluster:add', words: 2})
    // a command that is also a topic: the next word is its subcommand when one has that name, else its argument
    expect(id('opensearch', 'snapshot', 'delete', 'nightly-1')).toEqual({id: 'opensearch:snapshot:delete', words: 3})
    expect(id('opensearch', 'snapshot')).toEqual({id: 'opensearch:snapshot', words: 2})
    // variadic (strict: false): every word after it is an argument
    expect(id('node', 'install', 'cp-1', 'cp-2')).toEqual({id: 'node:install', words: 2})
    // a topic alone, a typo, a flag first: no command (oclif shows the topic's help or runs the unknown-command hook)
    expect(id('config')).toBeUndefined()
    expect(id('config', 'valdate')).toBeUndefined()
    expect(id('config', 'validate-all')).toBeUndefined()
    expect(id('--json', 'plan')).toBeUndefined()
    expect(id('config=x')).toBeUndefined()
  })

  it("takes the id oclif's own normalizeArgv takes, on every command's words with an argument, a flag, a=b or nothing after them", async () => {
    const idx = index()
    const config = await oclifConfig()
    const lines: string[][] = [['--json', 'plan'], ['config=x'], ['nothing-of-ours'], ['config', 'valdate']]
    for (const id of Object.keys(idx.commands)) {
      const words = id.split(':')
      for (const tail of [[], ['x'], ['x', 'y'], ['--json'], ['a=b'], ['-c', 'x.yaml']]) lines.push([...words, ...tail])
      // a topic (every id's prefix) with a word after it
      for (let i = 1; i < words.length; i++) lines.push([...words.slice(0, i), 'x'])
    }
    for (const argv of lines) {
      const [oclifId, ...rest] = normalizeArgv(config, [...argv])
      const mine = commandIdOf(argv, idx)
      if (mine) expect({id: mine.id, rest: argv.slice(mine.words)}, argv.join(' ')).toEqual({id: oclifId, rest})
      else expect(config.findCommand(oclifId!), argv.join(' ')).toBeUndefined()
    }
  })

  it("configures a command as oclif's Config would: names, user agent, scoped variables, ids, each command's arguments, the user's files", async () => {
    const home = tmpDir('direct-home-')
    const xdg = tmpDir('direct-xdg-')
    const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson
    for (const env of [
      {HOME: home},
      {HOME: home, XDG_CONFIG_HOME: path.join(xdg, 'config'), XDG_DATA_HOME: path.join(xdg, 'data')},
      {HOME: home, OBSCTL_CONFIG_DIR: path.join(xdg, 'c'), OBSCTL_DATA_DIR: path.join(xdg, 'd'), OBSCTL_CONTENT_TYPE: 'json'},
    ]) {
      vi.unstubAllEnvs()
      for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'OBSCTL_CONFIG_DIR', 'OBSCTL_DATA_DIR', 'OBSCTL_CONTENT_TYPE']) vi.stubEnv(k, undefined)
      for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v)
      try {
        const config = await oclifConfig()
        expect(oclifUserFiles(pjson, process.env)).toEqual([path.join(config.configDir, 'theme.json'), path.join(config.dataDir, 'package.json')])
        const d = directCommand(['config', 'validate'], ROOT, process.env)!
        const mine = directConfig(d) as {[k: string]: unknown} & {
          scopedEnvVar(k: string): string | undefined
          scopedEnvVarKey(k: string): string
          scopedEnvVarKeys(k: string): string[]
          findCommand(id: string): {strict: boolean; args: Record<string, unknown>} | undefined
        }
        expect({bin: mine.bin, dirname: mine.dirname, name: mine.name, version: mine.version, root: mine.root, topicSeparator: mine.topicSeparator}).toEqual({
          bin: config.bin,
          dirname: config.dirname,
          name: config.name,
          version: config.version,
          root: config.root,
          topicSeparator: config.topicSeparator,
        })
        if (config.platform !== 'wsl') expect(mine.userAgent).toBe(config.userAgent)
        expect(mine.scopedEnvVarKey('CONTENT_TYPE')).toBe(config.scopedEnvVarKey('CONTENT_TYPE'))
        expect(mine.scopedEnvVarKeys('CONTENT_TYPE')).toEqual(config.scopedEnvVarKeys('CONTENT_TYPE'))
        expect(mine.scopedEnvVar('CONTENT_TYPE')).toBe(config.scopedEnvVar('CONTENT_TYPE'))
        expect([...(mine.commandIDs as string[])].sort()).toEqual([...config.commandIDs].sort())
        for (const id of config.commandIDs) {
          const theirs = config.findCommand(id)!
          expect({strict: mine.findCommand(id)?.strict, args: Object.keys(mine.findCommand(id)?.args ?? {})}, id).toEqual({
            strict: theirs.strict !== false,
            args: Object.keys(theirs.args ?? {}),
          })
        }
      } finally {
        vi.unstubAllEnvs()
      }
    }
  })

  it('leaves to oclif: help flags before `--`, help and autocomplete, colon ids, debug output, a user theme or plugins file, another build', () => {
    const env = {HOME: tmpDir('direct-home-')}
    const direct = (argv: string[], e: NodeJS.ProcessEnv = env, root = ROOT) => directCommand(argv, root, e)?.id
    expect(direct(['config', 'validate'])).toBe('config:validate')
    expect(directCommand(['cluster', 'add', 'c-5', '--dry-run'], ROOT, env)).toMatchObject({
      id: 'cluster:add',
      file: path.join(ROOT, 'dist', 'commands', 'cluster', 'add.js'),
      argv: ['c-5', '--dry-run'],
    })
    expect(direct(['config', 'validate', '--help'])).toBeUndefined()
    expect(direct(['config', 'validate', '-h'])).toBeUndefined()
    expect(direct(['--help', 'config', 'validate'])).toBeUndefined()
    expect(direct(['config', 'set', 'domain', '--', '--help'])).toBe('config:set')
    expect(direct([])).toBeUndefined()
    expect(direct(['help', 'plan'])).toBeUndefined()
    expect(direct(['autocomplete', 'bash'])).toBeUndefined()
    expect(direct(['autocomplete:script', 'bash'])).toBeUndefined()
    expect(direct(['config:validate'])).toBeUndefined()
    expect(direct(['config', 'validate'], {...env, OBSCTL_DIRECT_RUN: '0'})).toBeUndefined()
    expect(direct(['config', 'validate'], {...env, DEBUG: '*'})).toBeUndefined()
    expect(direct(['config', 'validate'], {...env, OBSCTL_DEBUG: '1'})).toBeUndefined()

    // oclif reads a user theme and user plugins at every start: where it looks (its dir(): XDG_*_HOME, else HOME)
    const xdg = tmpDir('direct-xdg-')
    const xenv = {...env, XDG_CONFIG_HOME: path.join(xdg, 'config'), XDG_DATA_HOME: path.join(xdg, 'data')}
    expect(direct(['plan'], xenv)).toBe('plan')
    mkdirSync(path.join(xdg, 'config', 'obsctl'), {recursive: true})
    writeFileSync(path.join(xdg, 'config', 'obsctl', 'theme.json'), '{}')
    expect(direct(['plan'], xenv)).toBeUndefined()
    expect(direct(['plan'], {...xenv, OBSCTL_CONFIG_DIR: path.join(xdg, 'elsewhere')})).toBe('plan')
    mkdirSync(path.join(env.HOME, '.local', 'share', 'obsctl'), {recursive: true})
    writeFileSync(path.join(env.HOME, '.local', 'share', 'obsctl', 'package.json'), '{}')
    expect(direct(['plan'])).toBeUndefined()

    // a package whose index is not its manifest's version, or that has hooks or plugins oclif would run
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {version: string; oclif: Record<string, unknown>}
    const fake = (p: object, idx: object = index()) => {
      const root = tmpDir('direct-root-')
      mkdirSync(path.join(root, 'dist'))
      writeFileSync(path.join(root, 'package.json'), JSON.stringify(p))
      writeFileSync(path.join(root, 'dist', 'command-index.json'), JSON.stringify(idx))
      return root
    }
    const home = {HOME: tmpDir('direct-home-')}
    expect(direct(['plan'], home, fake(pkg))).toBe('plan')
    expect(direct(['plan'], home, fake(pkg, {...index(), version: '0.0.0-other'}))).toBeUndefined()
    expect(direct(['plan'], home, fake({...pkg, oclif: {...pkg.oclif, hooks: {...(pkg.oclif.hooks as object), prerun: './x'}}}))).toBeUndefined()
    expect(direct(['plan'], home, fake({...pkg, oclif: {...pkg.oclif, plugins: ['@oclif/plugin-plugins']}}))).toBeUndefined()
  })

  it("the index is the manifest's: every command, its file, its arguments and strictness", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      version: string
      commands: Record<string, {relativePath: string[]; args: Record<string, unknown>; strict?: boolean}>
    }
    const idx = index()
    expect(idx.version).toBe(manifest.version)
    expect(Object.keys(idx.commands)).toEqual(Object.keys(manifest.commands))
    for (const [id, c] of Object.entries(manifest.commands)) {
      expect(idx.commands[id], id).toEqual({file: c.relativePath.join('/'), args: Object.keys(c.args), strict: c.strict !== false})
      expect(() => readFileSync(path.join(ROOT, idx.commands[id]!.file)), id).not.toThrow()
    }
  })
})

describe('a command run directly prints and exits as under oclif', () => {
  let dir: string
  beforeAll(() => {
    requireBuild()
    dir = tmpDir('direct-run-')
    writeFileSync(path.join(dir, 'obsctl.yaml'), exampleInventory())
    // which bundle runner file a run loaded, printed at exit
    writeFileSync(
      path.join(dir, 'runner.cjs'),
      "process.on('exit', () => process.stderr.write('RUNNER ' + Object.keys(require.cache).filter((f) => /[\\\\/]chunks[\\\\/](main|direct)\\.js$/.test(f)).map((f) => require('path').basename(f)).join(',') + '\\n'))\n",
    )
  })

  /** the built CLI with or without the direct runner, and which bundle runner file it loaded (runner.cjs, above) */
  async function run(args: string[], direct: boolean, extra: NodeJS.ProcessEnv = {}) {
    const home = path.join(dir, 'home')
    const r = await runProcess(process.execPath, ['-r', path.join(dir, 'runner.cjs'), BIN, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        CI: '1',
        NO_COLOR: '1',
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_DATA_HOME: path.join(home, '.local', 'share'),
        XDG_CACHE_HOME: path.join(dir, 'cache'),
        OBSCTL_CONFIG: path.join(dir, 'obsctl.yaml'),
        OBSCTL_DIRECT_RUN: direct ? undefined : '0',
        ...extra,
      } as NodeJS.ProcessEnv,
    })
    const runner = /^RUNNER (.*)$/m.exec(r.stderr)?.[1]
    return {status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^RUNNER .*\n/m, ''), runner}
  }

  it.each([
    [['config', 'validate'], 0, 'direct.js'],
    [['config', 'validate', '--json'], 0, 'direct.js'],
    [['plan', '-o', 'yaml'], 0, 'direct.js'],
    [['state', 'show'], 0, 'direct.js'],
    [['config', 'explain', 'clusters'], 0, 'direct.js'],
    // bad input: an unknown flag, a missing argument, one argument too many, an inventory that is not there
    [['config', 'validate', '--bogus'], 2, 'direct.js'],
    [['cluster', 'add'], 2, 'direct.js'],
    [['cluster', 'add', '--json'], 2, 'direct.js'],
    [['cluster', 'add', 'a', 'b'], 2, 'direct.js'],
    [['plan', '-c', 'missing.yaml'], 2, 'direct.js'],
    // oclif's: a topic, a typo, a word after a command without arguments (oclif reads it as part of the id), a help
    [['config'], 0, 'main.js'],
    [['config', 'valdate'], 2, 'main.js'],
    [['state', 'show', 'extra'], 2, 'main.js'],
    [['state', 'show', '--help'], 0, 'main.js'],
  ] as const)('obsctl %j: exit %i, the same output either way (runner %s)', async (args, status, runner) => {
    const direct = await run([...args], true)
    const oclif = await run([...args], false)
    expect(oclif.runner).toBe('main.js')
    expect(direct.runner).toBe(runner)
    expect(direct.status).toBe(status)
    expect({status: direct.status, stdout: direct.stdout, stderr: direct.stderr}).toEqual({status: oclif.status, stdout: oclif.stdout, stderr: oclif.stderr})
    expect(direct.stdout + direct.stderr).not.toBe('')
  })

  it('NODE_DEBUG=obsctl-code-cache says which runner a command line took', async () => {
    expect((await run(['state', 'show'], true, {NODE_DEBUG: 'obsctl-code-cache'})).stderr).toMatch(/runner: state:show directly/)
    expect((await run(['state', 'show'], false, {NODE_DEBUG: 'obsctl-code-cache'})).stderr).toMatch(/runner: oclif's\n/)
  })

  it("oclif's scoped environment variables: OBSCTL_CONTENT_TYPE=json is --json either way", async () => {
    const direct = await run(['state', 'show'], true, {OBSCTL_CONTENT_TYPE: 'json'})
    const oclif = await run(['state', 'show'], false, {OBSCTL_CONTENT_TYPE: 'json'})
    expect(direct.runner).toBe('direct.js')
    expect(direct.status).toBe(0)
    expect(JSON.parse(direct.stdout)).toMatchObject({exists: false})
    expect({stdout: direct.stdout, stderr: direct.stderr}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr})
  })
})
