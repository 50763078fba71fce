/**
 * Every example of every command's --help runs (DESIGN.md: examples that actually run). For any set of
 * commands: the examples are read from oclif.manifest.json, as `--help` prints them.
 *
 * How an example is run, as a user would paste it, in its dry-run form:
 * - in a temp folder holding the example inventory (`obsctl init --example`, also at lab/obsctl.yaml for the
 *   `-c lab/obsctl.yaml` examples), with HOME there; `# comments` and shell pipes/redirections are left to
 *   the shell (only the obsctl part runs); `VAR=…` prefixes become that variable set to a placeholder;
 *   the folder's GitOps working copy holds obsctl's commits (a render and a `config set`), for `rollback`;
 * - each in a fresh copy of that folder, inside a network namespace of its own (`unshare -n`: no
 *   interface is up, so nothing leaves this machine, not even a DNS query; the example's addresses are
 *   never contacted);
 * - a command that has `--dry-run` gets it (if the example lacks it) and must exit 0 — or exit 1 only
 *   when what failed is reaching the network (a dry run that must read a manifest from a URL, or
 *   Alertmanager's silences; under --json the error is on stdout);
 * - a command without `--dry-run` talks to live systems: it must end as a run that could not reach its
 *   systems does — exit 0 or 1, never 2 (bad input: an unknown flag, a refused value, a lint error) nor a
 *   crash. One that runs until stopped (`status --watch`, `validate --wait`: UNTIL) is stopped with Ctrl-C as
 *   soon as its output shows it has started its work (a first frame, a first round of checks), and must end as
 *   Ctrl-C ends it; any other still running after WAIT_MS has parsed and started its work, and is stopped;
 * - `init` examples run in a folder without an inventory (they write one); the interactive wizard needs a
 *   terminal and is tested in test/config/init.test.ts, so it is the one example not run here.
 * Files and variables that examples name (./x.pem, ./x.conf, an Argo CD install manifest, ~/.ssh/known_hosts,
 * the credential env vars) are made as the user would have them.
 *
 * The examples are dealt round-robin into SHARDS files (help-examples-1.test.ts, -2, …), each with its own
 * prepared folder: the runs are mostly CPU (one CLI start-up each), and one file of ~140 of them was the
 * suite's longest, run last on one fork while the other had finished. `npx vitest run test/cli/help-examples`
 * runs them all.
 */
import {spawn, spawnSync} from 'node:child_process'
import {copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {argocdManifest} from '../argocd/harness.js'
import {BIN, obsctl, requireBuild, ROOT, shellWords, tmpDir, packForCopies, userHome} from './helpers.js'

interface ManifestCommand {
  id: string
  hidden?: boolean
  examples?: (string | {command: string; description?: string})[]
  flags: Record<string, {char?: string}>
}
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const WAIT_MS = 20_000

/**
 * Examples that run until Ctrl-C (`--watch`; `--wait` on systems that never answer), by command id and flag: what
 * their output shows once their work has started, and how Ctrl-C ends them. They are stopped then, not after
 * WAIT_MS (20 s each, two intervals of `--interval 10`).
 */
const UNTIL: {id: string; flag: string; stream: 'stdout' | 'stderr'; started: RegExp; ends: {status: number | null; signal: NodeJS.Signals | null}}[] = [
  // the first frame, drawn in full: the table and its summary line (in a pipe, a blank line ends each frame);
  // Ctrl-C ends --watch with exit 0 (status's --help)
  {
    id: 'status',
    flag: '--watch',
    stream: 'stdout',
    started: /^CLUSTER +ROLE [^\n]*STATUS\n[\s\S]*\n(\d+\/\d+ clusters degraded|all \d+ clusters ok); [^\n]*\n\n/,
    ends: {status: 0, signal: null},
  },
  // the first round of checks done and the failing ones being waited for; Ctrl-C ends it as every command without
  // its own handling (src/lib/cli/base.ts onInterrupt): said in words, exit 130
  {id: 'validate', flag: '--wait', stream: 'stderr', started: /\d+\/\d+ checks pass · .* · waiting for: /, ends: {status: 130, signal: null}},
]
const untilOf = (e: Example) => UNTIL.find((u) => u.id === e.id && e.argv.includes(u.flag))

interface Example {
  id: string
  text: string
  env: Record<string, string>
  argv: string[]
  dryRun: boolean
}

function examples(): Example[] {
  const out: Example[] = []
  for (const c of Object.values(manifest.commands)) {
    if (c.hidden) continue
    for (const e of c.examples ?? []) {
      const raw = typeof e === 'string' ? e : e.command
      for (const l of raw.split('\n')) {
        const line = l.replaceAll('<%= config.bin %>', 'obsctl').trim()
        if (!line || line.startsWith('#') || / # interactive/.test(line)) continue
        const words = shellWords(line.replace(/^\$\s+/, ''))
        const env: Record<string, string> = {}
        while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
          const [k, ...v] = words.shift()!.split('=')
          env[k!] = v.join('=') === '…' ? 'Placeholder-9-not-a-credential' : v.join('=') // passes the password policies
        }
        expect(words[0], `${c.id}: ${line}`).toBe('obsctl')
        const argv = words.slice(1)
        const hasDry = 'dry-run' in c.flags
        if (hasDry && !argv.includes('--dry-run')) argv.push('--dry-run')
        out.push({id: c.id, text: line, env, argv, dryRun: hasDry})
      }
    }
  }
  return out
}

/** How many files the examples are dealt into (each file: help-examples-<n>.test.ts, n = 1..SHARDS). */
export const SHARDS = 2

let dir: string
let baseEnv: Record<string, string>
async function prepare(): Promise<void> {
  requireBuild()
  expect(spawnSync('unshare', ['-n', 'true']).status, 'unshare -n (util-linux, as root) is needed to run live examples offline').toBe(0)
  dir = tmpDir('obsctl-examples-')
  const inv = path.join(dir, 'obsctl.yaml')
  expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
  mkdirSync(path.join(dir, 'lab'))
  copyFileSync(inv, path.join(dir, 'lab', 'obsctl.yaml'))
  // a GitOps working copy with obsctl's commits (a render, then a change), as a user who runs `rollback` has
  expect((await obsctl(['render', '--commit', '--yes', '-c', inv])).status).toBe(0)
  expect((await obsctl(['config', 'set', 'retention.prometheus', '12h', '--no-push', '--no-sync', '--yes', '-c', inv])).status).toBe(0)
  // each example gets a copy of this folder
  packForCopies(path.join(dir, 'gitops'))
  const home = userHome(dir, 'obsctl-examples')
  // files the examples name, as the user would have them: a CA bundle, per-cluster admin.conf files
  const ca = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=obsctl-examples-ca',
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    path.join(dir, 'ca.pem'),
  ])
  expect(ca.status).toBe(0)
  for (const f of ['minio-ca.pem', 'opensearch-ca.pem']) copyFileSync(path.join(dir, 'ca.pem'), path.join(dir, f))
  const all = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
  const caData = readFileSync(path.join(dir, 'ca.pem')).toString('base64')
  const version = /^\s*argocd:\s*(v[\d.]+)/m.exec(readFileSync(inv, 'utf8'))![1]!
  writeFileSync(path.join(dir, `argocd-${version}-install.yaml`), argocdManifest(version, 'non-ha'))
  // the API servers of the inventory, as kubeadm's admin.conf and a merged kubeconfig name them (never
  // contacted: no interface is up where the examples run)
  const apiServers = [...readFileSync(inv, 'utf8').matchAll(/^\s*apiServer:\s*(\S+)/gm)].map((m) => m[1]!)
  const kubeconfig = (names: string[]) => {
    const servers = names.map((n) => apiServers[all.indexOf(n)]!)
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...names.map((n, i) => `- name: ${n}\n  cluster:\n    server: ${servers[i]!}\n    certificate-authority-data: ${caData}`),
      'users:',
      ...names.map((n) => `- name: ${n}-admin\n  user:\n    token: obsctl-examples-not-a-credential`),
      'contexts:',
      ...names.map((n) => `- name: ${n}-context\n  context:\n    cluster: ${n}\n    user: ${n}-admin`),
      `current-context: ${names[0]}-context`,
      '',
    ].join('\n')
  }
  writeFileSync(path.join(dir, 'kubeconfig'), kubeconfig(all), {mode: 0o600})
  writeFileSync(path.join(dir, 'lab.kubeconfig'), kubeconfig(all), {mode: 0o600})
  for (const n of all) writeFileSync(path.join(dir, `${n}.conf`), kubeconfig([n]).replaceAll(`${n}-context`, 'kubernetes-admin@kubernetes'), {mode: 0o600})
  baseEnv = {
    HOME: home,
    // one code cache for every copy (beside the folder, not copied): a user's runs share theirs, and a cold
    // one per run compiled and wrote the whole bundle each time (~0.2 s of CPU per example)
    XDG_CACHE_HOME: `${dir}.cache`,
    KUBECONFIG: path.join(dir, 'kubeconfig'),
    OBSCTL_S3_ACCESS_KEY: 'placeholder-access-key',
    OBSCTL_S3_SECRET_KEY: 'placeholder-secret-key',
    OBSCTL_SSH_PASSWORD: 'placeholder-ssh-password',
    OBSCTL_OPENSEARCH_USER: 'placeholder-user',
    OBSCTL_OPENSEARCH_PASSWORD: 'placeholder-password',
    OBSCTL_ARGOCD_PASSWORD: 'placeholder-password',
    // test-only (src/lib/poll.ts): no node can be reached here (no interface is up: ENETUNREACH), and each SSH
    // connection was tried again after 0.5 s and 1 s; the same attempts now 0.1 s apart, and any wait looks again as
    // often. What an example does and how it ends is unchanged
    OBSCTL_TEST_POLL_MS: '100',
  }
}

let copies = 0
function run(e: Example): Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; stopped: boolean}> {
  // a copy of the prepared folder: examples run at once, and some change the inventory or the journal
  const cwd = `${dir}-${++copies}`
  cpSync(dir, cwd, {recursive: true})
  if (e.id === 'init') for (const f of ['obsctl.yaml', 'lab/obsctl.yaml']) rmSync(path.join(cwd, f))
  const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1', ...baseEnv, ...e.env}
  for (const k of ['HOME', 'KUBECONFIG']) env[k] = env[k]!.replace(dir, cwd)
  delete env.OBSCTL_CONFIG
  const until = untilOf(e)
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '--', process.execPath, BIN, ...e.argv], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let stopped = false
    const stop = () => {
      if (stopped) return
      stopped = true
      child.kill('SIGINT')
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (until?.stream === 'stdout' && until.started.test(stdout)) stop()
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (until?.stream === 'stderr' && until.started.test(stderr)) stop()
    })
    const timer = e.dryRun
      ? setTimeout(() => child.kill('SIGKILL'), 240_000)
      : until
        ? setTimeout(() => child.kill('SIGKILL'), 240_000)
        : setTimeout(stop, WAIT_MS)
    child.on('error', reject)
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      // the copy goes now, beside the other examples' runs: left to the suite's teardown, the copies (~150 in
      // both parts) were removed in one go after the last file, ~24 s on a busy machine
      rm(cwd, {recursive: true, force: true}).then(() => resolve({status, signal, stdout, stderr, stopped}), reject)
    })
  })
}

// what a run that could not reach the network says (no interface is up in its namespace; git, the suite's
// GIT_ALLOW_PROTOCOL=file: test/support/global-setup.ts)
const NETWORK =
  /ENOTFOUND|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|EHOSTUNREACH|HTTP_UNREACHABLE|getaddrinfo|network is unreachable|Could not resolve host|transport '\w+' not allowed/i

/**
 * The examples of shard `shard` (1..SHARDS): every SHARDS-th one of the manifest's order, so each file gets a
 * mix of commands; together the shards run every example once.
 */
export function exampleShard(shard: number): void {
  const all = examples()
  const mine = all.filter((_, i) => i % SHARDS === shard - 1)
  beforeAll(prepare)

  describe.concurrent(`every --help example runs (dry-run form, example inventory), part ${shard} of ${SHARDS}`, () => {
    it('the manifest has examples to run; this part has its share of them', () => {
      expect(all.length).toBeGreaterThan(40)
      // every example that runs until Ctrl-C is still an example (else UNTIL is stale)
      for (const u of UNTIL)
        expect(
          all.some((e) => untilOf(e) === u),
          `an example of ${u.id} ${u.flag}`,
        ).toBe(true)
      expect(mine.length).toBe(Math.floor(all.length / SHARDS) + (shard - 1 < all.length % SHARDS ? 1 : 0))
      // every part has its file, so no example is left out
      for (let n = 1; n <= SHARDS; n++)
        expect(existsSync(path.join(import.meta.dirname, `help-examples-${n}.test.ts`)), `help-examples-${n}.test.ts`).toBe(true)
    })

    it.each(mine.map((e) => [`${e.id.replaceAll(':', ' ')}: ${e.text}`, e] as const))('%s', {timeout: 300_000}, async (_name, e) => {
      const r = await run(e)
      const why = `obsctl ${e.argv.join(' ')}\nexit ${r.status ?? r.signal}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-1500)}`
      expect(r.stderr, why).not.toMatch(/TypeError|ReferenceError|SyntaxError|Cannot read properties|is not a function/)
      if (e.dryRun) expect(r.status === 0 || (r.status === 1 && NETWORK.test(r.stderr + r.stdout)), why).toBe(true)
      else if (untilOf(e)) {
        const until = untilOf(e)!
        expect(r[until.stream], `${why}\nits work must have started: ${until.started}`).toMatch(until.started)
        expect({status: r.status, signal: r.signal}, why).toEqual(until.ends)
      } else if (!r.stopped) expect([0, 1], why).toContain(r.status)
      if (e.argv.includes('--json') && r.status === 0 && !e.text.includes('|')) {
        const parsed = JSON.parse(r.stdout) as unknown
        expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), `${why}\n--json must print an object`).toBe(true)
      }
    })
  })
}
