/**
 * docs/commands.md is generated from the commands' own help (bin/commands-doc.mjs, `npm run docs:commands`):
 * this fails when it is stale — a command, flag, summary or example changed without regenerating it.
 */
import {readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {obsctl, requireBuild, ROOT, runProcess, tmpDir} from './helpers.js'

const GEN = path.join(ROOT, 'bin/commands-doc.mjs')
beforeAll(() => requireBuild())

describe('docs/commands.md', () => {
  it('is up to date with the built commands (else: npm run build && npm run docs:commands)', async () => {
    const r = await runProcess(process.execPath, [GEN, '--check'], {cwd: ROOT})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('has a section with the --help text of every visible command in the manifest', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/commands.md'), 'utf8')
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {hidden?: boolean; flags: Record<string, {hidden?: boolean}>}>
    }
    const visible = Object.entries(manifest.commands).filter(([, c]) => !c.hidden)
    expect(visible.length).toBeGreaterThan(20)
    for (const [id, c] of visible) {
      const words = id.split(':').join(' ')
      const section = doc.split(`\n## \`obsctl ${words}\`\n`)[1]?.split('\n## ')[0]
      expect(section, id).toBeDefined()
      expect(section).toContain(`$ obsctl ${words}`)
      for (const [flag, f] of Object.entries(c.flags)) if (!f.hidden) expect(section, `${id} --${flag}`).toContain(`-${flag}`)
    }
  })

  it('the bundle sorts commands by code unit, not localeCompare (bin/bundle.mjs oclifCommandSort): the same order for every command id', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const ids = Object.keys(manifest.commands)
    expect(ids.length).toBeGreaterThan(20)
    // every id, with the topic separator and the hidden ones, as oclif's Plugin.load sorts them
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual([...ids].sort((a, b) => a.localeCompare(b)))
  })

  it('the bundle gives help text without a tag back as it is (bin/bundle.mjs oclifPlainHelpText): ejs returns every such text of the manifest and topics unchanged', async () => {
    // oclif's template engine (no type declarations of its own)
    const ejs = ((await import('ejs' as string)) as {default: {render: (text: string, data: object) => string}}).default
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as unknown
    const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {oclif: unknown}
    const texts: string[] = []
    const walk = (v: unknown): void => {
      if (typeof v === 'string') texts.push(v)
      else if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object') Object.values(v).forEach(walk)
    }
    walk(manifest)
    walk(pjson.oclif)
    const plain = texts.filter((t) => !t.includes('<%'))
    expect(plain.length).toBeGreaterThan(500)
    expect(texts.length - plain.length).toBeGreaterThan(20) // the examples' `<%= config.bin %>`: still rendered
    const context = {config: {bin: 'obsctl'}, command: {id: 'x'}}
    for (const t of plain) expect(ejs.render(t, context), t).toBe(t)
  })

  // bin/bundle.mjs oclifLazyRequires: what oclif uses only on a rare path is required when first used
  it("the bundle's oclif logs what DEBUG names, and nothing without it: debug is loaded only when DEBUG is set", async () => {
    const dir = tmpDir('obsctl-lazy-')
    const inv = path.join(dir, 'obsctl.yaml')
    expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
    const traced = await obsctl(['config', 'validate', '-c', inv], {env: {DEBUG: 'oclif:*'}})
    expect(traced.status, traced.stderr).toBe(0)
    // the debug package's own line format without a TTY: an ISO date, the namespace, the message
    expect(traced.stderr).toMatch(/^\S+Z oclif:main process\.argv: \[/m)
    expect(traced.stderr).toMatch(/^\S+Z oclif:config loading core plugin from /m)
    for (const env of [{DEBUG: undefined}, {DEBUG: ''}, {DEBUG: 'something-else:*'}]) {
      const quiet = await obsctl(['config', 'validate', '-c', inv], {env})
      expect(quiet.status).toBe(0)
      expect(quiet.stdout).toBe(traced.stdout)
      expect(quiet.stderr).not.toContain('oclif:')
    }
  })

  it("the bundle's oclif error handler still shows a command's help for an error that asks for it (the help renderer loaded when first used)", async () => {
    // oclif's handle() from the bundle's own chunk, as the runner's execute() calls it: an error with showHelp
    // prints the message, then the command's usage, flags and arguments on stderr, and exits 1
    const script = `
      const fs = require('node:fs'), path = require('node:path')
      const dir = path.join(process.env.ROOT, 'dist', 'chunks')
      // the chunk that holds a module of @oclif/core (the split puts them where the entries share them)
      const files = fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => f.endsWith('.js'))
      const of = (m) => require(files.find((f) => fs.readFileSync(f, 'utf8').includes('"node_modules/@oclif/core/lib/' + m + '"')))
      const chunk = of('errors/handle.js')
      ;(async () => {
        const config = await of('config/config.js').require_config().Config.load({root: process.env.ROOT})
        of('cache.js').require_cache().default.getInstance().set('config', config)
        const err = Object.assign(new Error('the flag is wrong'), {showHelp: true, parse: {input: {argv: ['--nope']}}})
        process.argv = [process.argv[0], path.join(process.env.ROOT, 'bin/run.js'), 'plan', '--nope']
        await chunk.require_handle().handle(err)
      })()`
    const r = await runProcess(process.execPath, ['-e', script], {cwd: ROOT, env: {...process.env, ROOT, NO_COLOR: '1'}})
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('Error: the flag is wrong')
    expect(r.stderr).toMatch(/USAGE\n {2}\$ obsctl plan \[--json\]/)
    expect(r.stderr).toContain('-p, --phase=<value>...')
  })

  it("the bundle's help, root and every visible command, is obsctl's help class over the unpatched packages, byte for byte (its string-width returns an ASCII text's length at once: bin/bundle.mjs stringWidthAscii; wrap-ansi and co. required when used: oclifLazyRequires)", async () => {
    // src/help/obsctl-help.ts compiled alone (esbuild, its packages left as imports), over the manifest with the packages
    // as npm installed them, in a plain Node process (under vitest's module loading the root help lists topic commands
    // too, which neither Node nor the bundle does); what it prints on stdout is captured
    const own = tmpDir('obsctl-help-class-')
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(own, 'node_modules'))
    const {build} = await import('esbuild')
    await build({
      entryPoints: [path.join(ROOT, 'src/help/obsctl-help.ts')],
      outfile: path.join(own, 'obsctl-help.mjs'),
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    })
    const script = [
      "import {Config} from '@oclif/core'",
      `import ObsctlHelp from ${JSON.stringify(path.join(own, 'obsctl-help.mjs'))}`,
      'const config = await Config.load(process.cwd())',
      'const out = {}',
      'const write = process.stdout.write.bind(process.stdout)',
      // `help --help` is oclif's runner's own case (the root help), not a command's help
      'for (const id of ["", ...config.commands.filter((c) => !c.hidden && c.id !== "help").map((c) => c.id)]) {',
      '  const help = new ObsctlHelp(config, {maxWidth: 100, stripAnsi: true})',
      '  let text = ""',
      '  process.stdout.write = (s) => ((text += s), true)',
      '  await help.showHelp(id ? id.split(":") : [])',
      '  process.stdout.write = write',
      '  out[id] = text',
      '}',
      'process.stdout.write(JSON.stringify(out))',
    ].join('\n')
    const unpatched = await runProcess(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT})
    expect(unpatched.status, unpatched.stderr).toBe(0)
    const expected = JSON.parse(unpatched.stdout) as Record<string, string>
    const ids = Object.keys(expected)
    expect(ids.length).toBeGreaterThan(20)
    expect(expected['']).toContain('TOPICS')
    // a few at a time: each is a process of the bundle
    for (let i = 0; i < ids.length; i += 4) {
      await Promise.all(
        ids.slice(i, i + 4).map(async (id) => {
          const argv = id ? id.split(':') : []
          const r = await obsctl([...argv, '--help'], {env: {OCLIF_COLUMNS: '100'}})
          expect(r.status, r.stderr).toBe(0)
          expect(r.stdout, `obsctl ${argv.join(' ')} --help`).toBe(expected[id])
        }),
      )
    }
  })

  it('--check fails, naming the fix, when the file differs from the commands', async () => {
    const out = path.join(tmpDir('obsctl-doc-'), 'commands.md')
    expect((await runProcess(process.execPath, [GEN, '--out', out], {cwd: ROOT})).status).toBe(0)
    expect((await runProcess(process.execPath, [GEN, '--check', '--out', out], {cwd: ROOT})).status).toBe(0)
    writeFileSync(out, readFileSync(out, 'utf8').replace('Run the phases that take bare machines', 'Run the phases that take machines'))
    const stale = await runProcess(process.execPath, [GEN, '--check', '--out', out], {cwd: ROOT})
    expect(stale.status).toBe(1)
    expect(stale.stderr).toContain('is stale: run `npm run build && npm run docs:commands`')
  })
})
