/**
 * How an error leaves the process: whole, however slowly its reader reads (a pipe holds 64 KiB; oclif exits
 * as soon as the error is written), and without what the user typed that is a credential.
 */
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {BIN, ROOT, exampleDir, obsctl, requireBuild, runProcess, tmpDir} from './helpers.js'

let dir: string

/**
 * Run obsctl with `stream` (stdout or stderr) piped to a reader that starts reading 2 s late (a shell pipeline:
 * a Node parent cannot hold a child's pipe unread, it resumes it at the child's exit): a CLI that exits with
 * output still queued loses all but the 64 KiB the pipe holds. The outcome asserted is the whole text; the 2 s
 * give the old fault its chance to show and decide nothing for a CLI that waits for its reader.
 */
async function readLate(args: string[], stream: 'stdout' | 'stderr'): Promise<{code: number | null; text: string}> {
  const redirect = stream === 'stdout' ? '2>/dev/null' : '2>&1 >/dev/null'
  const r = await runProcess('bash', ['-c', `set -o pipefail; "$0" "$@" ${redirect} | { sleep 2; cat; }`, process.execPath, BIN, ...args], {
    cwd: dir,
    env: {...process.env, CI: '1', NO_COLOR: '1', OBSCTL_CONFIG: path.join(dir, 'obsctl.yaml')},
  })
  return {code: r.status, text: r.stdout}
}

describe('error output', () => {
  beforeAll(() => {
    requireBuild()
    dir = tmpDir('obsctl-error-output-')
    // 600 unknown fields: their findings make an error of ~110 KB as text and ~400 KB as JSON
    const unknown = Array.from({length: 600}, (_, i) => `        field${i}: 1\n`).join('')
    const inventory = renderInventoryYaml(EXAMPLE_ANSWERS).replace(/^( +memory: .*\n)/m, `$1${unknown}`)
    expect(inventory).toContain('field599: 1')
    writeFileSync(path.join(dir, 'obsctl.yaml'), inventory)
  })
  afterAll(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('a --json error longer than a pipe holds reaches a slow reader whole: valid JSON', async () => {
    const r = await readLate(['config', 'validate', '--json'], 'stdout')
    expect(r.code).toBe(2)
    expect(r.text.length).toBeGreaterThan(65_536)
    const parsed = JSON.parse(r.text) as {error: {code: string; details: {problems: {path: string}[]}}}
    expect(parsed.error.code).toBe('CONFIG_INVALID')
    expect(parsed.error.details.problems.filter((f) => /field\d+$/.test(f.path))).toHaveLength(600)
  })

  it('a human error longer than a pipe holds reaches a slow reader whole, its hints last', async () => {
    const r = await readLate(['config', 'validate'], 'stderr')
    expect(r.code).toBe(2)
    expect(r.text.length).toBeGreaterThan(65_536)
    expect(r.text).toContain('unknown field "field599"')
    expect(r.text.trimEnd().split('\n').at(-1)).toMatch(/→ .*obsctl config schema/)
  })
})

describe('an error quotes no credential the user typed', () => {
  let clean: string
  beforeAll(async () => {
    requireBuild()
    clean = await exampleDir('obsctl-error-secret-')
  })
  afterAll(() => {
    if (clean) rmSync(clean, {recursive: true, force: true})
  })

  it('config set with a URL holding a password: refused, the field named, the password nowhere', async () => {
    const before = readFileSync(path.join(clean, 'obsctl.yaml'), 'utf8')
    for (const json of [false, true]) {
      const r = await obsctl(['config', 'set', 's3.endpoint', 'https://AKIA:TopSecret123@127.0.0.1:9', '--dry-run', ...(json ? ['--json'] : [])], {cwd: clean})
      expect(r.status).toBe(2)
      const out = r.stdout + r.stderr
      expect(out).toContain('s3.endpoint')
      expect(out).toContain('carries a credential')
      expect(out).not.toContain('TopSecret123')
      if (json) expect(JSON.parse(r.stdout).error.code).toBe('EDIT_INVALID')
    }
    expect(readFileSync(path.join(clean, 'obsctl.yaml'), 'utf8')).toBe(before)
  })

  it('what stands for a value in a hint stays (OBSCTL_S3_SECRET_KEY=…, --token <TOKEN>, $VAR); a value does not', async () => {
    const {redactDeep} = await import('../../src/lib/config/validators.js')
    const hints = [
      'export OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=...',
      'argocd login --password <PASSWORD>',
      'export OBSCTL_GIT_TOKEN=<token with repo read access>',
      'GIT_TOKEN=$OBSCTL_GIT_TOKEN git push',
    ]
    expect(redactDeep(hints)).toEqual(hints)
    expect(redactDeep({message: 'ran GIT_TOKEN=ghp_abcdef123 git push --password hunter22 at https://u:pw@git.lab/x'})).toEqual({
      message: 'ran GIT_TOKEN=*** git push --password *** at https://git.lab/x',
    })
  })

  it('an internal error under OBSCTL_DEBUG or --verbose: its stack is printed, redacted as its message is', async () => {
    // a command whose run() throws a plain Error quoting credentials (a bug's error: no ObsctlError), on the built base class
    const script = path.join(clean, 'boom.mjs')
    writeFileSync(
      script,
      [
        `const {BaseCommand} = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/lib/cli/base.js')).href)})`,
        'class Boom extends BaseCommand {',
        "  static id = 'boom'",
        "  async run() { throw new Error('git push https://ops:hunter2pw@git.example.test/x.git --token s3cr3t-value failed') }",
        '}',
        `await Boom.run(process.argv.slice(2), ${JSON.stringify(ROOT)}).catch((e) => process.exit(e?.oclif?.exit ?? 1))`,
      ].join('\n'),
    )
    for (const [args, env] of [
      [[], {OBSCTL_DEBUG: '1'}],
      [['--verbose'], {}],
    ] as const) {
      const r = await runProcess(process.execPath, [script, ...args], {env: {...process.env, CI: '1', NO_COLOR: '1', ...env}})
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr).toContain('internal error (a bug)')
      expect(r.stderr).toMatch(/Error: git push https:\/\/git\.example\.test\/x\.git --token \*\*\* failed\n\s+at Boom\.run/)
      expect(r.stderr).not.toMatch(/hunter2pw|s3cr3t-value/)
    }
  })

  it('an argument quoted back is redacted as an error is: cluster remove and node remove of one not there, help, autocomplete', async () => {
    const url = 'https://ops:pa55word@h.test'
    for (const [args, says, json] of [
      [['cluster', 'remove', url], /^https:\/\/h\.test\/ is not in .*obsctl\.yaml: nothing to remove\n$/, {cluster: 'https://h.test/', absent: true}],
      [
        ['node', 'remove', 'cluster-02', url],
        /^https:\/\/h\.test\/ is not a node of cluster-02 in .*obsctl\.yaml: nothing to remove\n$/,
        {cluster: 'cluster-02', node: 'https://h.test/', absent: true},
      ],
    ] as const) {
      const r = await obsctl([...args], {cwd: clean})
      expect(r.status, r.stderr).toBe(0)
      // said once, on stdout (cluster remove said it on stderr too)
      expect([r.stdout, r.stderr]).toEqual([expect.stringMatching(says), ''])
      const j = await obsctl([...args, '--json'], {cwd: clean})
      expect(j.status, j.stderr).toBe(0)
      expect(JSON.parse(j.stdout)).toMatchObject(json)
      expect(r.stdout + r.stderr + j.stdout + j.stderr).not.toContain('pa55word')
    }
    // oclif's help and autocomplete commands: their errors printed as obsctl's (they printed `›   Error: Command https://ops:pa55word@… not found.`)
    for (const [args, says] of [
      [['help', url], /^Error: Command https:\/\/h\.test\/ not found\.\n {2}→ obsctl help\n$/],
      [['autocomplete', url], /^Error: Expected https:\/\/h\.test\/ to be one of: bash, zsh, fish, powershell\n {2}→ obsctl autocomplete --help\n$/],
      [['autocomplete', 'script', url], /^Error: Expected https:\/\/h\.test\/ to be one of: .*\n {2}→ obsctl autocomplete script --help\n$/],
    ] as const) {
      const r = await obsctl([...args], {cwd: clean})
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(says)
      expect(r.stdout + r.stderr).not.toContain('pa55word')
    }
  })

  it('cluster remove and node remove of a key or a password pasted as NAME: *** (config set’s withhold rule), text and --json; a name as typed', async () => {
    for (const pasted of ['a8f5f167f44f4964e6c998dee827110c', 'Tr0ub4dor&3xyz', 'wJalrXUtnFEMI7K7MDENGbPxRfiCYEXAMPLEKEY']) {
      const r = await obsctl(['cluster', 'remove', pasted], {cwd: clean})
      expect([r.status, r.stdout, r.stderr]).toEqual([0, expect.stringMatching(/^\*\*\* is not in .*obsctl\.yaml: nothing to remove\n$/), ''])
      const j = await obsctl(['cluster', 'remove', pasted, '--json'], {cwd: clean})
      expect(JSON.parse(j.stdout)).toMatchObject({cluster: '***', absent: true})
      const n = await obsctl(['node', 'remove', 'cluster-02', pasted], {cwd: clean})
      expect([n.status, n.stdout, n.stderr]).toEqual([
        0,
        expect.stringMatching(/^\*\*\* is not a node of cluster-02 in .*obsctl\.yaml: nothing to remove\n$/),
        '',
      ])
      const nj = await obsctl(['node', 'remove', 'cluster-02', pasted, '--json'], {cwd: clean})
      expect(JSON.parse(nj.stdout)).toMatchObject({cluster: 'cluster-02', node: '***', absent: true})
      expect(r.stdout + j.stdout + j.stderr + n.stdout + nj.stdout + nj.stderr).not.toContain(pasted)
    }
    const r = await obsctl(['cluster', 'remove', 'edge-lab7', '--json'], {cwd: clean})
    expect(JSON.parse(r.stdout)).toMatchObject({cluster: 'edge-lab7', absent: true})
    const n = await obsctl(['node', 'remove', 'cluster-02', '192.168.101.250', '--json'], {cwd: clean})
    expect(JSON.parse(n.stdout)).toMatchObject({node: '192.168.101.250', absent: true})
  })

  it("a missing argument: oclif's note about a multiple-value flag only when that flag was typed", async () => {
    // oclif notes every flag that takes several values ("Note: --endpoint allows multiple values…") after a missing
    // argument, typed or not: `obsctl cluster remove` alone spoke of --endpoint
    for (const args of [
      ['cluster', 'remove'],
      ['alerts', 'silence'],
    ]) {
      const r = await obsctl(args, {cwd: clean})
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(/^Error: Missing 1 required arg:\n/)
      expect(r.stderr).not.toContain('Note:')
      expect(r.stderr).not.toContain('--endpoint')
    }
    const r = await obsctl(['alerts', 'silence', '--endpoint', 'http://127.0.0.1:9'], {cwd: clean})
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('Note: --endpoint allows multiple values')
  })

  it('cluster add --api-server with a password: refused naming the flag, the password nowhere', async () => {
    const r = await obsctl(['cluster', 'add', 'cluster-05', '--host', '127.0.0.199', '--api-server', 'https://u:p4ssw0rd@127.0.0.199:6443', '--dry-run'], {
      cwd: clean,
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--api-server https://127.0.0.199:6443')
    expect(r.stdout + r.stderr).not.toContain('p4ssw0rd')
  })
})
