/**
 * What a plain `obsctl validate` says before its verdict: the start line on stderr (also in a pipe, never
 * with --json), and on a real terminal (tmux) the progress line naming the checks still running. The
 * services of the example inventory do not resolve (each check fails at once), except Prometheus, sent with
 * --endpoint to a server that accepts and does not answer until the test lets it go.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/index.js'
import {BIN, obsctlAsync, requireBuild} from '../cli/helpers.js'
import {Terminal} from '../support/tmux.js'

const START = 'checking argocd, prometheus, thanos, opensearch, fluent-bit, alertmanager, certificates: 20 checks at once'
// no prompt on a terminal: every credential is in the environment
const ENV: Record<string, string> = {
  OBSCTL_OPENSEARCH_USER: 'admin',
  OBSCTL_OPENSEARCH_PASSWORD: 'pw-Start1',
  OBSCTL_S3_ACCESS_KEY: 'AKSTART',
  OBSCTL_S3_SECRET_KEY: 'sk-Start1',
  OBSCTL_ARGOCD_PASSWORD: 'pw-Start2',
}

let dir: string
let inventory: string
let silent: net.Server
const held = new Set<net.Socket>()

beforeAll(async () => {
  requireBuild()
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-validate-start-'))
  inventory = path.join(dir, 'obsctl.yaml')
  writeFileSync(inventory, renderInventoryYaml(EXAMPLE_ANSWERS))
  // a kubeconfig without contexts: the kube-based checks fail at once (a missing one is refused before any check runs)
  ENV.KUBECONFIG = path.join(dir, 'kubeconfig')
  writeFileSync(ENV.KUBECONFIG, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n', {mode: 0o600})
  silent = net.createServer((sock) => {
    held.add(sock)
    sock.on('error', () => {})
    sock.resume()
    sock.on('close', () => held.delete(sock))
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  for (const s of held) s.destroy()
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()))
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const args = () => [
  'validate',
  '-c',
  inventory,
  '--request-timeout',
  '20',
  '--endpoint',
  `prometheus=http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
]

describe('plain validate before its verdict', () => {
  it('in a pipe: the start line on stderr, then the verdict on stdout as before; --json: no start line', async () => {
    const r = await obsctlAsync([...args(), '--skip', 'prometheus.targets'], {env: ENV})
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(`${START.replace('20 checks', '19 checks')} (skipped: prometheus.targets)\n`)
    expect(r.stdout).toMatch(/✖ 0 passed, 0 warnings, 19 failed, 1 skipped \(prometheus\.targets\) in \d+\.\ds\n$/)
    const json = await obsctlAsync([...args(), '--skip', 'prometheus.targets', '--json'], {env: ENV})
    expect(json.status).toBe(1)
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout)).toMatchObject({ok: false, summary: {pass: 0, warn: 0, fail: 19, skipped: 1}})
  })

  it('on a terminal: the start line, then which checks are still running', async () => {
    const term = await Terminal.start([process.execPath, BIN, ...args()].map((a) => JSON.stringify(a)).join(' '), {cwd: dir, env: ENV})
    try {
      const screen = await term.waitFor(/19\/20 checks done · \d+s of 1m · waiting for: prometheus\.targets/, 60_000)
      expect(screen).toContain(START)
      // let the hanging request end: the check fails, the verdict follows
      for (const s of held) s.destroy()
      expect(await term.exitCode(60_000)).toBe(1)
      expect(await term.screen()).toMatch(/✖ 0 passed, 0 warnings, 20 failed in/)
    } finally {
      await term.close()
    }
  })
})
