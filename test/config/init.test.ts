/** obsctl init: never prompts without a terminal; --example; no silent overwrite; the wizard through a real pty. */
import {spawn} from 'node:child_process'
import {chmodSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {lintInventory, loadInventory} from '../../src/lib/config/index.js'
import {which} from '../support/peers.js'
import {BIN, obsctl, requireBuild, tmpDir} from '../cli/helpers.js'

beforeAll(() => requireBuild())

describe('init without a terminal', () => {
  it('with CI set it errors (exit 2) naming --example, and writes nothing', async () => {
    const dir = tmpDir()
    const r = await obsctl(['init'], {cwd: dir})
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--example')
    expect(existsSync(path.join(dir, 'obsctl.yaml'))).toBe(false)
  })

  it('with stdin not a TTY (CI unset) it also refuses to prompt', async () => {
    const dir = tmpDir()
    const r = await obsctl(['init', '--json'], {cwd: dir, env: {CI: undefined}})
    expect(r.status).toBe(2)
    const out = JSON.parse(r.stdout)
    expect(out.error.code).toBe('NO_TTY')
    expect(out.error.hints.join(' ')).toContain('--example')
  })

  it('--example writes the example lab that validates; an existing file is not overwritten without --force', async () => {
    const dir = tmpDir()
    const r = await obsctl(['init', '--example', '--json'], {cwd: dir})
    expect(r.status).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(r.stderr).toBe('')
    const file = path.join(dir, 'obsctl.yaml')
    expect(JSON.parse(r.stdout)).toEqual({file, clusters: 4, nodes: 4, example: true, schema: path.join(dir, '.obsctl', 'schema.json')})
    const inv = loadInventory(file)
    expect(inv.platform.domain).toBe('miribit.lab')
    expect(inv.platform.clusters.map((c) => [c.name, c.role, c.metrics ?? null, c.nodes[0]!.host])).toEqual([
      ['cluster-01', 'central', null, '192.168.101.194'],
      ['cluster-02', 'edge', 'agent', '192.168.101.196'],
      ['cluster-03', 'edge', 'remote-scrape', '192.168.101.197'],
      ['cluster-04', 'edge', 'remote-scrape', '192.168.101.198'],
    ])
    expect((await obsctl(['config', 'validate'], {cwd: dir})).status).toBe(0)

    // the same command again (a CI job's rerun): the file already holds that inventory — exit 0, not written again
    const written = statSync(file)
    const same = await obsctl(['init', '--example', '--json'], {cwd: dir})
    expect(same.status, same.stderr).toBe(0)
    expect(JSON.parse(same.stdout)).toEqual({file, clusters: 4, nodes: 4, example: true, schema: path.join(dir, '.obsctl', 'schema.json'), unchanged: true})
    const human = await obsctl(['init', '--example'], {cwd: dir})
    expect(human.status, human.stderr).toBe(0)
    expect(human.stdout).toBe(`${file} already holds this inventory (4 clusters, 4 nodes): nothing written\nnext: obsctl config validate && obsctl plan\n`)
    expect([statSync(file).ino, statSync(file).mtimeMs]).toEqual([written.ino, written.mtimeMs])

    writeFileSync(file, '# mine\n')
    const again = await obsctl(['init', '--example'], {cwd: dir})
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('--force')
    expect(readFileSync(file, 'utf8')).toBe('# mine\n')
    expect((await obsctl(['init', '--example', '--force'], {cwd: dir})).status).toBe(0)
    expect(readFileSync(file, 'utf8')).toContain('kind: Platform')
  })
})

describe('init --force over an existing inventory', () => {
  it('keeps its mode: a 0600 inventory stays 0600; a new one is 0644', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'obsctl.yaml')
    expect((await obsctl(['init', '--example'], {cwd: dir})).status).toBe(0)
    expect(statSync(file).mode & 0o7777).toBe(0o644)
    chmodSync(file, 0o600)
    const r = await obsctl(['init', '--example', '--force'], {cwd: dir})
    expect(r.status, r.stderr).toBe(0)
    expect(statSync(file).mode & 0o7777).toBe(0o600)
  })
})

// strip ANSI escape sequences from the terminal stream (escape characters are the point here)
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b[()][0-9A-B]/g, '')

/** obsctl init in a real pty (util-linux `script`), answering each prompt as it appears on the screen. */
function wizard(file: string) {
  const env = {...process.env, NO_COLOR: '1', TERM: 'xterm'} as NodeJS.ProcessEnv
  delete env.CI
  delete env.OBSCTL_CONFIG
  const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} init -c ${file}`, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let from = 0
  /** wait until `text` is on the screen (after what was already matched), then type `keys` */
  const answer = async (text: string, keys?: string) => {
    const t0 = Date.now()
    for (;;) {
      const i = plain(out).indexOf(text, from)
      if (i >= 0) {
        from = i + text.length
        break
      }
      if (Date.now() - t0 > 30_000) throw new Error(`no "${text}" on the screen:\n${plain(out).slice(-800)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    if (keys !== undefined) child.stdin.write(keys)
  }
  return {answer, exited, screen: () => plain(out)}
}

const DOWN = '\x1b[B'
const CTRL_C = '\x03'

describe('init through a pseudo-terminal', () => {
  it.skipIf(!which('script'))(
    'refuses a bad answer as typed, re-asks only what the final check faults, shows a summary, writes an inventory that passes lint',
    async () => {
      const dir = tmpDir()
      const file = path.join(dir, 'obsctl.yaml')
      const w = wizard(file)
      const steps: [string, string][] = [
        ['Base domain', 'miribit.lab\r'],
        ['SSH user on the nodes', 'bsh\r'],
        // a key file that does not exist is refused where it is typed; then empty (the ssh-agent)
        ['SSH private key', `\x15${dir}/no-such-key\r`],
        ['does not exist', '\x15\r'],
        ['S3 (MinIO) endpoint URL', '\r'],
        ['GitOps repository remote', 'https://git.miribit.lab/platform/gitops.git\r'],
        ['Sizing profile', '\r'],
        ['How many clusters', '2\r'],
        ['Cluster 1 name (central)', '\r'],
        ['cluster-01: node addresses', '300.1.2.3\r'],
        ['300.1.2.3', '\x15127.0.1.10\r'],
        // 1 CPU passes as a quantity, but the final check finds the central cluster too small
        ['cluster-01: CPU per node', '\x151\r'],
        ['cluster-01: memory per node', '\r'],
        ['Cluster 2 name (edge)', 'edge-a\r'],
        ['edge-a: node addresses', '127.0.1.10, 127.0.1.12\r'],
        ['already a node of cluster-01', '\x15127.0.1.11, 127.0.1.12\r'],
        ['edge-a: metrics', `${DOWN}\r`],
        ['edge-a: CPU per node', '\r'],
        ['edge-a: memory per node', '\r'],
        // only cluster-01's node questions come back, with the previous answers as defaults
        ['the other answers are kept', ''],
        ['cluster-01: node addresses', '\r'],
        ['cluster-01: CPU per node', '\x158\r'],
        ['cluster-01: memory per node', '\r'],
        ['obsctl init will write', ''],
        ['Write ', '\r'],
      ]
      for (const [text, keys] of steps) await w.answer(text, keys)
      const code = await w.exited
      const screen = w.screen()
      expect(code, screen.slice(-800)).toBe(0)
      expect(screen.slice(screen.indexOf('the other answers are kept'))).not.toMatch(/Base domain|edge-a: node addresses|Cluster 2 name/)
      expect(screen).toMatch(/edge-a\s+edge \(agent\)\s+127\.0\.1\.11, 127\.0\.1\.12/)
      expect(screen).toContain(`wrote ${file} (2 clusters, 3 nodes)`)
      const inv = loadInventory(file)
      const p = inv.platform
      expect(p.domain).toBe('miribit.lab')
      expect(p.ssh.user).toBe('bsh')
      expect(p.ssh.identityFile).toBeUndefined()
      expect(p.s3.endpoint).toBe('https://s3.miribit.lab')
      expect(p.git.remote).toBe('https://git.miribit.lab/platform/gitops.git')
      expect(p.profile).toBe('lab')
      expect(p.clusters.map((c) => [c.name, c.role, c.metrics ?? null, c.nodes.map((n) => n.host), c.nodes[0]!.cpu])).toEqual([
        ['cluster-01', 'central', null, ['127.0.1.10'], '8'],
        ['edge-a', 'edge', 'agent', ['127.0.1.11', '127.0.1.12'], '4'],
      ])
      expect(lintInventory(inv).errors).toBe(0)
    },
  )

  it.skipIf(!which('script'))('Ctrl-C at a question exits 130 and writes nothing', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'obsctl.yaml')
    const w = wizard(file)
    await w.answer('Base domain', 'miribit.lab\r')
    await w.answer('SSH user on the nodes', CTRL_C)
    expect(await w.exited).toBe(130)
    expect(existsSync(file)).toBe(false)
    expect(existsSync(path.join(dir, '.obsctl'))).toBe(false)
  })

  it.skipIf(!which('script'))('no at the summary exits 1 and writes nothing', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'obsctl.yaml')
    const w = wizard(file)
    for (const [text, keys] of [
      ['Base domain', '\r'],
      ['SSH user on the nodes', '\r'],
      ['SSH private key', '\x15\r'],
      ['S3 (MinIO) endpoint URL', '\r'],
      ['GitOps repository remote', 'git@git.example.lab:p/gitops.git\r'],
      ['Sizing profile', '\r'],
      ['How many clusters', '\x151\r'],
      ['Cluster 1 name (central)', '\r'],
      ['cluster-01: node addresses', '127.0.1.10\r'],
      ['cluster-01: CPU per node', '\r'],
      ['cluster-01: memory per node', '\r'],
      ['Write ', 'n\r'],
    ] as [string, string][])
      await w.answer(text, keys)
    expect(await w.exited).toBe(1)
    expect(w.screen()).toContain('declined')
    expect(existsSync(file)).toBe(false)
  })
})
