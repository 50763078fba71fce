/**
 * Help and shell, as users type them, on the built bundle: `obsctl help X` = `X --help` = `X -h`;
 * an unknown command names the closest one (exit 2); `obsctl autocomplete bash|zsh|fish` sets up
 * completions that the real shells then answer (bash's completion function, zsh's parser, fish's
 * `complete -C`). The shells come from Debian (.ci/run installs bash, zsh, fish).
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'
import {obsctl, requireBuild, ROOT, runProcess, tmpDir} from './helpers.js'

let cache: string
beforeAll(() => {
  requireBuild()
  cache = tmpDir('obsctl-help-')
})
const env = () => ({XDG_CACHE_HOME: cache})

describe('help', () => {
  it('`help bootstrap`, `bootstrap --help` and `bootstrap -h` print the same help', async () => {
    const [a, b, c] = await Promise.all([obsctl(['help', 'bootstrap']), obsctl(['bootstrap', '--help']), obsctl(['bootstrap', '-h'])])
    for (const r of [a, b, c]) expect(r.status).toBe(0)
    expect(a.stdout).toContain('USAGE\n  $ obsctl bootstrap')
    expect(a.stdout).toContain('EXAMPLES')
    expect(b.stdout).toBe(a.stdout)
    expect(c.stdout).toBe(a.stdout)
  })

  it('`help` of a topic lists its commands; `help` alone lists topics and commands', async () => {
    const topic = await obsctl(['help', 'cluster'])
    expect(topic.status).toBe(0)
    expect(topic.stdout).toContain('$ obsctl cluster COMMAND')
    for (const c of ['cluster add', 'cluster list', 'cluster remove']) expect(topic.stdout).toMatch(new RegExp(`^\\s+${c}\\s`, 'm'))
    const all = await obsctl(['help'])
    expect(all.status).toBe(0)
    expect(all.stdout).toMatch(/^\s+bootstrap\s/m)
    expect(all.stdout).toMatch(/^\s+autocomplete\s/m)
  })

  it('an unknown command names the closest one and exits 2 (no prompt without a terminal), printed as every obsctl error is', async () => {
    const r = await obsctl(['bootsrap'])
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('Error: "bootsrap" is not an obsctl command. Did you mean "obsctl bootstrap"?\n  → obsctl help\n')
    const sub = await obsctl(['cluster', 'lst'])
    expect(sub.status).toBe(2)
    expect(sub.stderr).toBe('Error: "cluster lst" is not an obsctl command. Did you mean "obsctl cluster list"?\n  → obsctl help\n')
    // a URL pasted where a command goes: quoted whole (not split at its ':'), without its password, and no command
    // suggested: none is close to it (the closest, `state show`, was)
    const pasted = await obsctl(['https://ops:pa55word@git.example.test/x'])
    expect(pasted.status).toBe(2)
    expect(pasted.stderr).toBe('Error: "https://git.example.test/x" is not an obsctl command.\n  → obsctl help\n')
    // nor for a word far from every command
    expect((await obsctl(['xyz'])).stderr).toBe('Error: "xyz" is not an obsctl command.\n  → obsctl help\n')
  })

  it('an argument to a command that takes none is exit 2 naming it; under --json / -o json the error object is on stdout', async () => {
    const runs = await Promise.all([
      obsctl(['config', 'validate', 'extra', '--json']),
      obsctl(['plan', 'extra', '-o', 'json']),
      obsctl(['state', 'show', 'extra', '--json']),
      obsctl(['plan', 'extra']),
    ])
    for (const [i, r] of runs.entries()) {
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).not.toContain('is not an obsctl command')
      if (i < 3) expect(JSON.parse(r.stdout)).toMatchObject({error: {code: 'BAD_FLAGS', message: 'Unexpected argument: extra', exitCode: 2}})
    }
    expect(runs[3]!.stdout).toBe('')
    expect(runs[3]!.stderr).toBe('Error: Unexpected argument: extra\n  → obsctl plan --help\n')
    // an unknown command too
    const unknown = await obsctl(['bootsrap', '--json'])
    expect(unknown.status).toBe(2)
    expect(JSON.parse(unknown.stdout)).toEqual({
      error: {code: 'UNKNOWN_COMMAND', exitCode: 2, message: '"bootsrap" is not an obsctl command. Did you mean "obsctl bootstrap"?', hints: ['obsctl help']},
    })
    // --json after a URL in the mistyped words (oclif joins them into the id with ':' and miscounts what follows)
    const after = await obsctl(['clster', 'remove', 'https://ops:pa55word@h.test', '--json'])
    expect(after.status).toBe(2)
    expect(JSON.parse(after.stdout)).toMatchObject({error: {code: 'UNKNOWN_COMMAND', message: expect.stringContaining('"clster remove https://h.test/"')}})
    // a URL pasted where a command goes is quoted back without its password, as text and as JSON
    for (const json of [[], ['--json']]) {
      const pasted = await obsctl(['https://ops:pa55word@git.example.test/x', ...json])
      expect(pasted.status).toBe(2)
      expect(pasted.stdout + pasted.stderr).toContain('git.example.test')
      expect(pasted.stdout + pasted.stderr).not.toContain('pa55word')
    }
  })

  it('--help / -h / help of no such command or topic: exit 2, printed as every obsctl error is, without a credential typed in it', async () => {
    // oclif answers --help before any command or hook runs; it printed ` ›   Error: Command https://ops:pa55word@… not found.`
    const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'
    for (const [args, says] of [
      [['https://ops:pa55word@git.example.test/x', '--help'], /^Error: Command https:\/\/git\.example\.test\/x not found\.\n {2}→ obsctl help\n$/],
      [['-h', 'https://ops:pa55word@git.example.test/x'], /^Error: Command https:\/\/git\.example\.test\/x not found\.\n {2}→ obsctl help\n$/],
      [
        ['config', 'https://ops:pa55word@git.example.test/x', '--help'],
        /^Error: Command config:https:\/\/git\.example\.test\/x not found\.\n {2}→ obsctl help\n$/,
      ],
      [['help', 'https://ops:pa55word@git.example.test/'], /^Error: Command https:\/\/git\.example\.test\/ not found\.\n {2}→ obsctl help\n$/],
      [[token, '--help'], /^Error: Command \*\*\* not found\.\n {2}→ obsctl help\n$/],
      [['help', `cluster:${token}`], /^Error: Command cluster:\*\*\* not found\.\n {2}→ obsctl help\n$/],
    ] as const) {
      const r = await obsctl([...args], {env: env()})
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(says)
      expect(r.stderr).not.toMatch(/pa55word|ghp_/)
    }
    // under --json, the error object on stdout
    const json = await obsctl(['https://ops:pa55word@git.example.test/x', '--help', '--json'], {env: env()})
    expect(json.status).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {code: 'UNKNOWN_COMMAND', exitCode: 2, message: 'Command https://git.example.test/x not found.', hints: ['obsctl help']},
    })
    // help that exists is unchanged
    const ok = await obsctl(['config', '--help'], {env: env()})
    expect(ok.status).toBe(0)
    expect(ok.stdout).toContain('$ obsctl config COMMAND')
  })

  it('USAGE on a narrow terminal (50 columns) keeps each group whole: `[--cpu <value>]`, `--host <value>...`', async () => {
    // oclif cut the line at the last space that fit: `[--kubeconfig` / `<value>]`, `--host` / `<value>...`
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const ids = Object.keys(manifest.commands)
    expect(ids).toContain('cluster:add')
    const broken: string[] = []
    // a few at a time: each is a process of the bundle
    for (let i = 0; i < ids.length; i += 4) {
      await Promise.all(
        ids.slice(i, i + 4).map(async (id) => {
          const r = await obsctl([...id.split(':'), '--help'], {env: {OCLIF_COLUMNS: '50'}})
          expect(r.status, r.stderr).toBe(0)
          const usage = /^USAGE\n((?: {2}.*\n)+)/m.exec(r.stdout)?.[1]
          expect(usage, id).toBeDefined()
          const lines = usage!.trimEnd().split('\n')
          let depth = 0
          lines.forEach((l, n) => {
            expect(l.length, `${id}: ${l}`).toBeLessThanOrEqual(50)
            for (const ch of l) depth += ch === '[' || ch === '(' ? 1 : ch === ']' || ch === ')' ? -1 : 0
            // a line may end inside a group only when the group is longer than a line: after a `|` of its options,
            // before the ` | ` between two alternatives, or between two of its flags
            if (depth !== 0 && !l.endsWith('|') && !/^ *(-|\| )/.test(lines[n + 1] ?? '')) broken.push(`${id}: ${l}`)
            // a flag parted from its value
            if (/^ *</.test(lines[n + 1] ?? '') && /--?[\w-]+$/.test(l)) broken.push(`${id}: ${l} / ${lines[n + 1]!.trim()}`)
            // a space closing a group (oclif's `[--generate ]`: a flag whose dependsOn partner another group has taken)
            if (/ [\])]/.test(l)) broken.push(`${id}: ${l}`)
          })
        }),
      )
    }
    expect(broken).toEqual([])
  })

  it('USAGE: a group of alternatives stays whole where it fits, else goes on only at its ` | `s (bootstrap, 40 to 200 columns)', async () => {
    const usage = async (cols: number, id = 'bootstrap') => {
      const r = await obsctl([...id.split(' '), '--help'], {env: {OCLIF_COLUMNS: String(cols)}})
      expect(r.status, r.stderr).toBe(0)
      return /^USAGE\n((?: {2}.*\n)+)/m.exec(r.stdout)![1]!.trimEnd()
    }
    // the line oclif draws, unwrapped
    const whole = (await usage(1000)).trim()
    // at 80 columns: the group on lines of its own, a line per alternative, each option list going on under its text
    // (it went on after any `|` of the lists, and the line after a ` | ` started with its space: `     --from …`)
    expect(await usage(80)).toBe(
      [
        '  $ obsctl bootstrap [--json] [-c <value>] [--kubeconfig <value>] [-y]',
        '    [--verbose]',
        '    [--all',
        '    | -p preflight|nodes|kubeconfig|buckets|render|argocd|register|secrets|',
        '      root-app|sync|validate...',
        '    | --from preflight|nodes|kubeconfig|buckets|render|argocd|register|secrets|',
        '      root-app|sync|validate]',
        '    [--dry-run] [--restart] [--concurrency <value>] [--timeout <value>]',
        '    [--allow-overcommit] [--push] [--argocd-manifest <value>]',
      ].join('\n'),
    )
    for (const cols of [40, 50, 60, 72, 100, 120, 200]) {
      const lines = (await usage(cols)).split('\n')
      for (const [n, l] of lines.entries()) {
        expect(l.length, `${cols}: ${l}`).toBeLessThanOrEqual(cols)
        // never a ` | ` at a line's end, nor a flag parted from its option list
        expect(l, `${cols}`).not.toMatch(/ (\||-p|--from)$/)
        // an option list that goes on, under its alternative's text; every other line at the usage's indent
        const goesOn = /[a-z]\|$/.test(lines[n - 1] ?? '')
        expect(/^ */.exec(l)![0].length, `${cols}: ${lines[n - 1]} / ${l}`).toBe(n === 0 ? 2 : goesOn ? 6 : 4)
      }
      // the same words and alternatives, in order
      const joined = lines.map((l) => l.trim()).reduce((a, l) => (/\S\|$/.test(a) ? a + l : `${a} ${l}`))
      expect(joined).toBe(whole)
    }
    // a group that fits stays on one line, at 50 columns as at 200
    expect(await usage(50, 'argocd password')).toMatch(/^ {4}.*\[--show \| --rotate\]/m)
  })

  it('--version prints the commit and build date', async () => {
    const r = await obsctl(['--version'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^obsctl\/\S+ \S+ node-v\S+ \(commit ([0-9a-f]{12}(-dirty)?|unknown), built \d{4}-\d\d-\d\dT[\d:.]+Z\)\n$/)
  })
})

describe('-o json|yaml on read commands', () => {
  it('cluster list: --json, -o json and -o yaml give the same object {clusters: [...]}; -o xml is exit 2', async () => {
    const dir = tmpDir('obsctl-output-')
    const file = path.join(dir, 'obsctl.yaml')
    expect((await obsctl(['init', '--example', '-c', file])).status).toBe(0)
    const [json, o, y, bad] = await Promise.all([
      obsctl(['cluster', 'list', '-c', file, '--json']),
      obsctl(['cluster', 'list', '-c', file, '-o', 'json']),
      obsctl(['cluster', 'list', '-c', file, '-o', 'yaml']),
      obsctl(['cluster', 'list', '-c', file, '-o', 'xml']),
    ])
    expect(json.status, json.stderr).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(json.stderr).toBe('')
    const obj = JSON.parse(json.stdout)
    expect(obj.clusters.map((c: {name: string}) => c.name)).toEqual(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    expect(JSON.parse(o.stdout)).toEqual(obj)
    expect(parseYaml(y.stdout)).toEqual(obj)
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('Expected --output=xml to be one of: json, yaml')
  })
})

describe('autocomplete', () => {
  it('bash: the completion function written to the cache completes topics, commands and flags', async () => {
    const r = await obsctl(['autocomplete', 'bash'], {env: env()})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('obsctl autocomplete script bash')
    const fn = path.join(cache, 'obsctl/autocomplete/functions/bash/obsctl.bash')
    expect(existsSync(fn)).toBe(true)
    const script = await obsctl(['autocomplete', 'script', 'bash'], {env: env()})
    expect(script.stdout).toContain(path.join(cache, 'obsctl/autocomplete/bash_setup'))
    const complete = (line: string) =>
      runProcess('bash', [
        '-c',
        `source "$1"; read -ra COMP_WORDS <<< "$2"; [[ "$2" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMP_LINE="$2"; COMP_POINT=\${#COMP_LINE}; _obsctl_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}" | sort -u`,
        'bash',
        fn,
        line,
      ])
    expect((await complete('obsctl clu')).stdout.split('\n')).toContain('cluster')
    expect((await complete('obsctl cluster ')).stdout.trim().split('\n')).toEqual(['add', 'list', 'register', 'remove'])
    expect((await complete('obsctl cluster add --dr')).stdout.trim()).toBe('--dry-run')
  })

  it('zsh: the completion function is valid zsh and lists the commands', async () => {
    const r = await obsctl(['autocomplete', 'zsh'], {env: env()})
    expect(r.status).toBe(0)
    const fn = path.join(cache, 'obsctl/autocomplete/functions/zsh/_obsctl')
    const text = readFileSync(fn, 'utf8')
    expect(text).toContain('#compdef obsctl')
    expect(text).toContain('_obsctl_cluster()')
    expect(text).toContain('"add[Add a cluster to the fleet')
    const parse = await runProcess('zsh', ['-n', fn])
    expect(parse.stderr).toBe('')
    expect(parse.status).toBe(0)
  })

  it('fish: `autocomplete fish` says where to write the script; fish completes from it', async () => {
    const r = await obsctl(['autocomplete', 'fish'], {env: env()})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('obsctl autocomplete script fish > ~/.config/fish/completions/obsctl.fish')
    const s = await obsctl(['autocomplete', 'script', 'fish'], {env: env()})
    expect(s.status).toBe(0)
    const file = path.join(cache, 'obsctl.fish')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(file, s.stdout)
    const complete = async (line: string) => {
      const f = await runProcess('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, line])
      expect(f.stderr).toBe('')
      return f.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0])
    }
    expect(await complete('obsctl clu')).toEqual(['cluster'])
    expect(await complete('obsctl cluster ')).toEqual(['add', 'list', 'register', 'remove'])
    expect(await complete('obsctl cluster add --dr')).toEqual(['--dry-run'])
    expect(await complete('obsctl render --ou')).toEqual(['--out'])
  })
})
