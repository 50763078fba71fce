/** obsctl init: never prompts without a terminal; --example; no silent overwrite; the wizard through a real pty. */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
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

    writeFileSync(file, '# mine\n')
    const again = await obsctl(['init', '--example'], {cwd: dir})
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('--force')
    expect(readFileSync(file, 'utf8')).toBe('# mine\n')
    expect((await obsctl(['init', '--example', '--force'], {cwd: dir})).status).toBe(0)
    expect(readFileSync(file, 'utf8')).toContain('kind: Platform')
  })
})

// strip ANSI escape sequences from the terminal stream (escape characters are the point here)
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b[()][0-9A-B]/g, '')

describe('init through a pseudo-terminal', () => {
  it.skipIf(!which('script'))('answers the wizard and writes an inventory that passes lint', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'obsctl.yaml')
    const env = {...process.env, NO_COLOR: '1', TERM: 'xterm'} as NodeJS.ProcessEnv
    delete env.CI
    delete env.OBSCTL_CONFIG
    // util-linux script gives the CLI a real pty; we talk to it through script's stdin/stdout
    const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} init -c ${file}`, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const DOWN = '\x1b[B'
    const steps: [string, string][] = [
      ['Base domain', 'miribit.lab\r'],
      ['SSH user on the nodes', 'bsh\r'],
      ['SSH private key', '\r'],
      ['S3 (MinIO) endpoint URL', '\r'],
      ['GitOps repository remote', 'https://git.miribit.lab/platform/gitops.git\r'],
      ['Sizing profile', '\r'],
      ['How many clusters', '2\r'],
      ['Cluster 1 name (central)', '\r'],
      ['cluster-01: node addresses', '127.0.1.10\r'],
      ['cluster-01: CPU per node', '\r'],
      ['cluster-01: memory per node', '\r'],
      ['Cluster 2 name (edge)', 'edge-a\r'],
      ['edge-a: node addresses', '127.0.1.11, 127.0.1.12\r'],
      ['edge-a: metrics', `${DOWN}\r`],
      ['edge-a: CPU per node', '\r'],
      ['edge-a: memory per node', '\r'],
    ]
    let from = 0
    for (const [prompt, answer] of steps) {
      const t0 = Date.now()
      for (;;) {
        const i = plain(out).indexOf(prompt, from)
        if (i >= 0) {
          from = i + prompt.length
          break
        }
        if (Date.now() - t0 > 20_000) throw new Error(`no prompt "${prompt}"; screen:\n${plain(out).slice(-800)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      child.stdin.write(answer)
    }
    const code = await exited
    expect(code, plain(out).slice(-800)).toBe(0)
    expect(plain(out)).toContain(`wrote ${file} (2 clusters, 3 nodes)`)
    const inv = loadInventory(file)
    const p = inv.platform
    expect(p.domain).toBe('miribit.lab')
    expect(p.ssh.user).toBe('bsh')
    expect(p.s3.endpoint).toBe('https://s3.miribit.lab')
    expect(p.git.remote).toBe('https://git.miribit.lab/platform/gitops.git')
    expect(p.profile).toBe('lab')
    expect(p.clusters.map((c) => [c.name, c.role, c.metrics ?? null, c.nodes.map((n) => n.host)])).toEqual([
      ['cluster-01', 'central', null, ['127.0.1.10']],
      ['edge-a', 'edge', 'agent', ['127.0.1.11', '127.0.1.12']],
    ])
    expect(lintInventory(inv).errors).toBe(0)
  })
})
