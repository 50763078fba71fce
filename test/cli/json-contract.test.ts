/**
 * The `--json` contract of every command (docs/output.md "--json"), which scripts and CI pipelines rely on, table-driven
 * over oclif.manifest.json: each command is run with `--json` in the situations that can be reached offline —
 * - bad input (a missing inventory, `-c /nonexistent`, or a value the command refuses): exit 2 and the error object;
 * - a success or a dry run that needs no network (the example inventory);
 * - a networked command against loopback addresses where nothing listens (refused at once): exit 1 and the error
 *   object, or the command's report with `ok: false`;
 * - Ctrl-C while a command waits: exit 130 and the error object;
 * and every run must keep the contract: stdout is exactly one JSON object (parsed whole: no progress line, no notice,
 * no `dry run: nothing was changed`, no ANSI colour), stderr is empty (the error is not said twice), an error object
 * is `{"error": {code, message, exitCode, hints[, details]}}` with `exitCode` the process's exit code, a report
 * that exits non-zero says `ok: false` and its `exitCode`, a dry run says `"dryRun": true` at its top level, and no
 * credential of the environment or the kubeconfig is in it. A command that cannot be driven in one of these
 * situations is listed with the reason (NOT_DRIVEN), never skipped silently, and the table must name every command.
 * A situation whose `--json` run another file already makes and checks (a dry run in test/cli/dry-run-words.test.ts,
 * `plan --json` in test/cli/cli.test.ts …) is named with that file and test (ELSEWHERE) instead of being run again:
 * every bad input runs here, and the rest wherever no other file drives the command in that situation.
 *
 * Every run is the built CLI inside a network namespace of its own (`unshare -rn`, its loopback brought up): the
 * inventory's nodes, API servers, S3 and Git remote are 127.0.0.x port 9, where nothing listens (as bench/startup.js
 * makes them), and the service names (opensearch.k8s-cluster-01.miribit.lab …) resolve nowhere; nothing leaves the
 * namespace. A few at a time, as the help test runs every command.
 */
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {BIN, obsctl, requireBuild, ROOT, tmpDir, packForCopies, userHome} from './helpers.js'

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {hidden?: boolean; flags: Record<string, unknown>}>
}

/** What a run is, and what it must end with. */
type Situation = 'bad' | 'ok' | 'refused' | 'interrupted'
interface Case {
  id: string
  situation: Situation
  argv: string[]
  /** exit code (default: bad 2, ok 0, refused 1, interrupted 130) */
  status?: number
  /** the error code it must end with, when it is an error */
  code?: string
  /** a report (not the error object) is the answer: ok: false with this exit code */
  report?: boolean
  /** interrupted: Ctrl-C once this file exists (the silent listener was reached) */
  silent?: boolean
}
const C = (id: string, situation: Situation, argv: string[], o: Partial<Case> = {}): Case => ({id, situation, argv, ...o})
const NO_INV = ['-c', '/nonexistent/obsctl.yaml']
const nf = (id: string, args: string[] = []) => C(id, 'bad', [...id.split(':'), ...args, ...NO_INV], {code: 'CONFIG_NOT_FOUND'})

const CASES: Case[] = [
  nf('alerts:list'),
  C('alerts:list', 'refused', ['alerts', 'list']),
  nf('alerts:silence', ['alertname=NodeDown', '--for', '1h', '--comment', 'maintenance']),
  // a dry run reads the silences it would add to: refused like the real run
  C('alerts:silence', 'refused', ['alerts', 'silence', 'alertname=NodeDown', '--for', '1h', '--comment', 'maintenance', '--dry-run']),
  C('alerts:unsilence', 'bad', ['alerts', 'unsilence', 'not-a-uuid'], {code: 'BAD_SILENCE_ID'}),
  C('alerts:unsilence', 'refused', ['alerts', 'unsilence', '3f2a0000-0000-4000-8000-000000000000', '--dry-run']),
  nf('argocd:install'),
  C('argocd:install', 'refused', ['argocd', 'install', '--yes']),
  C('argocd:password', 'bad', ['argocd', 'password', '--rotate'], {code: 'NO_TTY'}),
  C('argocd:password', 'refused', ['argocd', 'password', '--show']),
  nf('argocd:sync'),
  C('argocd:sync', 'refused', ['argocd', 'sync']),
  C('autocomplete', 'bad', ['autocomplete', 'tcsh'], {code: 'BAD_FLAGS'}),
  C('autocomplete:script', 'bad', ['autocomplete', 'script', 'tcsh'], {code: 'BAD_FLAGS'}),
  nf('backup:create'),
  C('backup:create', 'refused', ['backup', 'create', '--yes'], {report: true}),
  nf('backup:list'),
  C('backup:list', 'refused', ['backup', 'list']),
  nf('backup:restore', ['20260101T000000Z', '--cluster', 'cluster-02']),
  C('backup:restore', 'refused', ['backup', 'restore', '20260101T000000Z', '--cluster', 'cluster-02', '--yes'], {report: true}),
  nf('bootstrap', ['--all']),
  C('bootstrap', 'refused', ['bootstrap', '--all', '--yes'], {report: true}),
  nf('certs:check'),
  nf('certs:renew'),
  nf('cluster:add', ['cluster-05', '--host', '127.0.0.19']),
  C('cluster:add', 'refused', ['cluster', 'add', 'cluster-05', '--host', '127.0.0.19', '--port', '9', '--yes'], {report: true}),
  nf('cluster:list'),
  nf('cluster:register'),
  C('cluster:register', 'refused', ['cluster', 'register', '--yes']),
  nf('cluster:remove', ['cluster-04']),
  C('cluster:remove', 'refused', ['cluster', 'remove', 'cluster-04', '--yes'], {report: true}),
  C('config:explain', 'bad', ['config', 'explain', 'nope.x'], {code: 'UNKNOWN_FIELD'}),
  C('config:schema', 'bad', ['config', 'schema', '--no-such-flag'], {code: 'BAD_FLAGS'}),
  C('config:schema', 'ok', ['config', 'schema']),
  nf('config:set', ['retention.prometheus', '24h']),
  C('config:set', 'ok', ['config', 'set', 'retention.prometheus', '24h', '--dry-run']),
  C('config:set', 'refused', ['config', 'set', 'retention.prometheus', '24h', '--yes']),
  nf('config:validate'),
  // an inventory with an error: the report, exit 2 (docs/inventory.md)
  C('config:validate', 'bad', ['config', 'validate', '-c', 'lint-error.yaml'], {report: true}),
  nf('diagnose', ['cluster-01']),
  // the archive is written whatever it could reach (here: nothing; test/diagnose's --json run reaches its cluster)
  C('diagnose', 'ok', ['diagnose', 'cluster-01']),
  nf('diff'),
  nf('doctor'),
  C('help', 'bad', ['help', 'no-such-command'], {code: 'BAD_FLAGS'}),
  C('init', 'bad', ['init', '-c', 'new/obsctl.yaml'], {code: 'NO_TTY'}),
  nf('kubeconfig:merge'),
  C('kubeconfig:merge', 'refused', ['kubeconfig', 'merge', '--yes']),
  nf('logs'),
  nf('node:add', ['cluster-02', '--host', '127.0.0.20']),
  C('node:add', 'refused', ['node', 'add', 'cluster-02', '--host', '127.0.0.20', '--port', '9', '--yes'], {report: true}),
  nf('node:install'),
  C('node:install', 'refused', ['node', 'install', '--yes'], {report: true}),
  nf('node:preflight'),
  C('node:preflight', 'refused', ['node', 'preflight'], {report: true}),
  nf('node:remove', ['cluster-02', '127.0.0.20']),
  C('node:remove', 'refused', ['node', 'remove', 'cluster-02', '127.0.0.20', '--yes', '-c', 'two-nodes.yaml']),
  nf('opensearch:snapshot'),
  C('opensearch:snapshot', 'refused', ['opensearch', 'snapshot']),
  nf('opensearch:snapshot:delete', ['snap-1']),
  // a dry run reads the snapshot it would delete: refused like the real run
  C('opensearch:snapshot:delete', 'refused', ['opensearch', 'snapshot', 'delete', 'snap-1', '--dry-run']),
  nf('opensearch:snapshot:list'),
  C('opensearch:snapshot:list', 'refused', ['opensearch', 'snapshot', 'list']),
  nf('opensearch:snapshot:restore', ['snap-1']),
  C('opensearch:snapshot:restore', 'refused', ['opensearch', 'snapshot', 'restore', 'snap-1', '--dry-run']),
  nf('plan'),
  nf('render'),
  nf('rollback'),
  // a dry run reads the remote's branch first
  C('rollback', 'refused', ['rollback', '--dry-run']),
  nf('s3:setup'),
  C('s3:setup', 'refused', ['s3', 'setup', '--yes']),
  nf('secrets:apply'),
  C('secrets:apply', 'refused', ['secrets', 'apply', '--yes']),
  nf('secrets:rotate', ['grafana']),
  C('secrets:rotate', 'refused', ['secrets', 'rotate', 'grafana', '--yes']),
  nf('state:reset', ['--yes']),
  nf('state:show'),
  nf('status'),
  nf('upgrade:chart', ['cilium', '--version', '9.9.9']),
  C('upgrade:chart', 'ok', ['upgrade', 'chart', 'cilium', '--version', '9.9.9', '--dry-run']),
  C('upgrade:chart', 'refused', ['upgrade', 'chart', 'cilium', '--version', '9.9.9', '--yes']),
  nf('upgrade:kubernetes', ['1.35']),
  C('upgrade:kubernetes', 'refused', ['upgrade', 'kubernetes', '1.35', '--yes'], {report: true}),
  nf('validate'),
  // Ctrl-C: a command without a handler of its own (the base command's), and a run whose SSH connection waits
  // for a node that accepted it and says nothing (the engine's handler)
  C('validate', 'interrupted', ['validate', '--wait'], {silent: true}),
  C('node:install', 'interrupted', ['node', 'install', '--yes'], {silent: true}),
]

/** Situations a command cannot be driven in here, and why: listed, so that no command is left out unseen. */
const NOT_DRIVEN: Record<string, {situations: Situation[]; why: string}> = {
  'autocomplete:create': {
    situations: ['bad', 'ok', 'refused'],
    why: "hidden: oclif's cache builder that `obsctl autocomplete` runs itself; it parses no flag and prints nothing",
  },
  autocomplete: {situations: ['ok', 'refused'], why: 'no JSON output: it prints shell set-up text; --json is refused as a flag it does not take'},
  'autocomplete:script': {situations: ['ok', 'refused'], why: 'no JSON output: it prints a shell script; --json is refused as a flag it does not take'},
  help: {situations: ['ok', 'refused'], why: 'no JSON output: it prints help; --json is refused as a flag it does not take'},
  'alerts:list': {situations: ['ok'], why: 'reads Alertmanager'},
  'alerts:silence': {situations: ['ok'], why: 'a dry run reads the silences from Alertmanager'},
  'alerts:unsilence': {situations: ['ok'], why: 'a dry run reads the silence from Alertmanager'},
  'argocd:password': {situations: ['ok'], why: 'reads or writes a Secret through the API server'},
  'argocd:sync': {situations: ['ok'], why: 'reads the GitOps remote and the API server'},
  'backup:list': {situations: ['ok'], why: 'reads S3'},
  'certs:check': {situations: ['ok'], why: 'reads the nodes over SSH'},
  'cluster:list': {situations: ['refused'], why: 'local: reads the inventory and the kubeconfig only'},
  'config:explain': {situations: ['refused'], why: 'local: the inventory schema'},
  'config:schema': {situations: ['refused'], why: 'local: the inventory schema'},
  'config:validate': {situations: ['refused'], why: 'local: the inventory and workstation files'},
  diagnose: {situations: ['refused'], why: 'writes its archive whatever it reaches (what it could not reach is in it): exit 0 here'},
  diff: {situations: ['ok'], why: 'reads the GitOps remote and the clusters'},
  doctor: {situations: ['ok'], why: 'its verdict depends on the workstation (tools, DNS): driven to its failing report with --network'},
  init: {situations: ['refused'], why: 'local: writes an inventory'},
  logs: {situations: ['refused'], why: 'local: reads .obsctl/logs'},
  'node:preflight': {situations: ['ok'], why: 'reads the nodes over SSH'},
  'opensearch:snapshot': {situations: ['ok'], why: 'talks to OpenSearch (no dry run)'},
  'opensearch:snapshot:delete': {situations: ['ok'], why: 'a dry run reads the snapshot from OpenSearch'},
  'opensearch:snapshot:list': {situations: ['ok'], why: 'reads OpenSearch'},
  'opensearch:snapshot:restore': {situations: ['ok'], why: 'a dry run reads the snapshot from OpenSearch'},
  plan: {situations: ['refused'], why: 'local: the inventory and the journal'},
  render: {situations: ['refused'], why: 'local: writes the GitOps working copy (--push is the only network, covered by config set and upgrade chart)'},
  rollback: {situations: ['ok'], why: 'a dry run reads the remote branch first'},
  'state:reset': {situations: ['refused'], why: 'local: the journal'},
  'state:show': {situations: ['refused'], why: 'local: the journal'},
  status: {situations: ['ok'], why: 'reads every cluster and service'},
  validate: {situations: ['ok'], why: 'reads every cluster and service'},
}

/**
 * Situations whose `--json` run another file already makes and checks (the built CLI, the same situation: its exit code,
 * stdout parsed whole as the result or the error object, a dry run's `"dryRun": true`): not run here again. Each names
 * the file, its test and a line of that test, which must still be there (else this table is stale), and that test must
 * check the contract's empty stderr too (the dry runs of test/cli/dry-run-words.test.ts also that their credential is
 * not in the output).
 */
interface Elsewhere {
  id: string
  situation: Situation
  file: string
  test: string
  line: string
}
const DRY_RUN_WORDS = 'every dry run ends with "dry run: nothing was changed"'
const dryRunWords = (id: string, line: string): Elsewhere => ({id, situation: 'ok', file: 'test/cli/dry-run-words.test.ts', test: DRY_RUN_WORDS, line})
const PLAN_STATE = 'plan and state show reflect the journal: failed and changed since; state reset --yes forgets'
const ELSEWHERE: Elsewhere[] = [
  dryRunWords('argocd:install', "['argocd install', ['argocd', 'install', '--dry-run']]"),
  dryRunWords('backup:create', "['backup create', ['backup', 'create', '--dry-run']]"),
  dryRunWords('backup:restore', "['backup restore', ['backup', 'restore', '20260101T000000Z', '--cluster', 'cluster-02', '--dry-run']]"),
  dryRunWords('bootstrap', "['bootstrap', ['bootstrap', '--all', '--dry-run']]"),
  dryRunWords('certs:renew', "['certs renew', ['certs', 'renew', '--dry-run']]"),
  dryRunWords('cluster:add', "['cluster add', ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--dry-run']]"),
  dryRunWords('cluster:register', "['cluster register', ['cluster', 'register', '--dry-run']]"),
  dryRunWords('cluster:remove', "['cluster remove', ['cluster', 'remove', 'cluster-04', '--dry-run']]"),
  dryRunWords('kubeconfig:merge', "['kubeconfig merge', ['kubeconfig', 'merge', 'cluster-02', '--from-file', 'cluster-02=cluster-02.conf', '--dry-run']]"),
  dryRunWords('node:add', "['node add', ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--dry-run']]"),
  dryRunWords('node:remove', "['node remove', ['node', 'remove', 'cluster-02', '192.168.101.200', '--dry-run', '-c', 'two-nodes.yaml']]"),
  dryRunWords('render', "['render', ['render', '--dry-run']]"),
  dryRunWords('s3:setup', "['s3 setup', ['s3', 'setup', '--dry-run']]"),
  dryRunWords('secrets:apply', "['secrets apply', ['secrets', 'apply', '--dry-run']]"),
  dryRunWords('secrets:rotate', "['secrets rotate', ['secrets', 'rotate', 'grafana', '--dry-run']]"),
  dryRunWords('upgrade:kubernetes', "['upgrade kubernetes', ['upgrade', 'kubernetes', '1.35', '--dry-run']]"),
  {
    id: 'cluster:list',
    situation: 'ok',
    file: 'test/cli/help.test.ts',
    test: 'cluster list: --json, -o json and -o yaml give the same object {clusters: [...]}; -o xml is exit 2',
    line: "obsctl(['cluster', 'list', '-c', file, '--json'])",
  },
  {
    id: 'config:explain',
    situation: 'ok',
    file: 'test/config/schema-explain.test.ts',
    test: 'walks lists through their items and lists an object’s fields; --json is the same data',
    line: "obsctl(['config', 'explain', 'clusters[].nodes', '--json'])",
  },
  {
    id: 'config:validate',
    situation: 'ok',
    file: 'test/cli/poll-env.test.ts',
    test: 'exit 2 with a bad value, before the command runs; a good one changes nothing else',
    line: "const good = await obsctl(['config', 'validate', '-c', inv, '--json'], {env: {[POLL_ENV]: '100'}})",
  },
  {
    id: 'init',
    situation: 'ok',
    file: 'test/config/init.test.ts',
    test: '--example writes the example lab that validates; an existing file is not overwritten without --force',
    line: "obsctl(['init', '--example', '--json'], {cwd: dir})",
  },
  {
    id: 'logs',
    situation: 'ok',
    file: 'test/cli/logs.test.ts',
    test: 'obsctl logs: the latest run by default, filtered by phase and target, --tail, --run by its beginning; redacted',
    line: "obsctl(['logs', '--json', '-c', inv])",
  },
  {
    id: 'node:install',
    situation: 'ok',
    file: 'test/nodes/install.test.ts',
    test: "what a killed run left in a worker's home: node preflight names node install of that node alone, which removes it and touches no other node",
    line: "obsctl(['node', 'install', 'cluster-01', '--host', worker.hostname, '-c', inv.file, '--dry-run', '--json'])",
  },
  {
    id: 'plan',
    situation: 'ok',
    file: 'test/cli/cli.test.ts',
    test: 'plan --json: every phase × target with state and description, pending when nothing ran',
    line: "obsctl(['plan', '-c', file, '--json'])",
  },
  {
    id: 'state:reset',
    situation: 'ok',
    file: 'test/cli/cli.test.ts',
    test: PLAN_STATE,
    line: "obsctl(['state', 'reset', '-c', file, '--phase', 'buckets', '--yes', '--json'])",
  },
  {id: 'state:show', situation: 'ok', file: 'test/cli/cli.test.ts', test: PLAN_STATE, line: "obsctl(['state', 'show', '-c', file, '--json'])"},
  // refused or failing: exit 1, the error object or the report with ok: false
  {
    id: 'certs:check',
    situation: 'refused',
    file: 'test/lifecycle/certs.test.ts',
    test: 'the CLI exits 1 on an expired certificate and 0 when only warning, with --json an object',
    line: "obsctl(['certs', 'check', '-c', inv.file, '--cluster', 'cluster-03', '--json'], {env})",
  },
  {
    id: 'certs:renew',
    situation: 'refused',
    file: 'test/lifecycle/certs.test.ts',
    test: "a kube-apiserver that did not restart (its old process still serving the old certificate) fails that node's renew, naming served and file; the other node's work is kept and the rerun finishes",
    line: "failed = await obsctl([...args, '--json'], {env})",
  },
  {
    id: 'diff',
    situation: 'refused',
    file: 'test/gitops/drift.test.ts',
    test: 'a remote that cannot be read is a failure (exit 1), never "no drift"',
    line: "obsctl(['diff', '-c', broken, '--json'], {env: env()})",
  },
  {
    id: 'doctor',
    situation: 'refused',
    file: 'test/cli/doctor.test.ts',
    test: '--network: TCP to the loopback listener passes, the refused port fails; clock skew from the Date header',
    line: "obsctl(['doctor', '-c', inv, '--network', '--json'], {env: keys})",
  },
  {
    id: 'status',
    situation: 'refused',
    file: 'test/status/status.test.ts',
    test: 'the built CLI: table and exit 0, --json, exit 1 when degraded, --watch --json streams until Ctrl-C (exit 0)',
    line: "obsctlAsync(['status', '-c', inv.file, '--json'], {env})",
  },
  {
    id: 'validate',
    situation: 'refused',
    file: 'test/validate/kube.test.ts',
    test: 'the built CLI: exit 0 with the checklist, exit 1 with --json when a check fails',
    line: "obsctl(['validate', 'all', '-c', inv.file, '--json', '--skip', 'thanos.bucket'], {env})",
  },
]

/** The credentials the runs are given: none may be in their output. */
const SECRETS = {
  OBSCTL_S3_ACCESS_KEY: 'json-contract-access-key',
  OBSCTL_S3_SECRET_KEY: 'json-contract-secret-Q7vX9pLm2',
  OBSCTL_SSH_PASSWORD: 'json-contract-ssh-pw-Z3k8',
  OBSCTL_OPENSEARCH_USER: 'json-contract-user',
  OBSCTL_OPENSEARCH_PASSWORD: 'json-contract-os-pw-R5t1',
  OBSCTL_ARGOCD_PASSWORD: 'json-contract-argo-pw-M2n6',
  OBSCTL_BACKUP_KEY: 'json-contract-backup-key-0123456789abcdef',
}
const KUBE_TOKEN = 'json-contract-kube-token-W4y7'

let dir: string
let env: NodeJS.ProcessEnv

/** The example inventory on loopback port 9 (bench/startup.js loopbackLab), its GitOps working copy rendered. */
async function prepare(): Promise<void> {
  requireBuild()
  expect(spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up']).status, 'unshare -rn and ip (iproute2) run every case offline').toBe(0)
  dir = tmpDir('obsctl-json-')
  const lab = path.join(dir, 'lab')
  mkdirSync(lab)
  const inv = path.join(lab, 'obsctl.yaml')
  expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
  const text = readFileSync(inv, 'utf8')
    .replace(/https:\/\/192\.168\.101\.19(\d):6443/g, 'https://127.0.0.1$1:9')
    .replace(/^(\s+)- host: 192\.168\.101\.19(\d)$/gm, '$1- host: 127.0.0.1$2\n$1  port: 9')
    .replace(/endpoint: https:\/\/s3\.minio\.miribit\.lab/, 'endpoint: https://127.0.0.1:9')
    .replace(/remote: https:\/\/git\.miribit\.lab\//, 'remote: https://127.0.0.1:9/')
  expect((text.match(/127\.0\.0\.1\d/g) ?? []).length, 'the example inventory changed shape').toBe(8)
  expect(text).toContain('remote: https://127.0.0.1:9/')
  writeFileSync(inv, text)
  // node remove: cluster-02 with a worker beside its first control plane
  const first = /( {6}- host: 127\.0\.0\.16\n(?: {8}.*\n)+)/.exec(text)![1]!
  writeFileSync(
    path.join(lab, 'two-nodes.yaml'),
    text.replace(first, `${first}      - host: 127.0.0.20\n        port: 9\n        roles: [worker]\n        cpu: "4"\n        memory: 16Gi\n`),
  )
  // an inventory with a lint error (two clusters with one API server)
  writeFileSync(path.join(lab, 'lint-error.yaml'), text.replace('https://127.0.0.16:9', 'https://127.0.0.14:9'))
  expect((await obsctl(['render', '--commit', '--yes', '-c', inv])).status).toBe(0)
  // each case that may write runs in a copy of the lab
  packForCopies(path.join(lab, 'gitops'))
  const home = userHome(dir, 'obsctl-json')
  const ca = spawnSync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=obsctl-json-ca'],
    ...['-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.pem')],
  ])
  expect(ca.status).toBe(0)
  const caData = readFileSync(path.join(dir, 'ca.pem')).toString('base64')
  const names = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
  const server = (n: string) => `https://127.0.0.1${[4, 6, 7, 8][names.indexOf(n)]}:9`
  const kubeconfig = (ns: string[]) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...ns.map((n) => `- name: ${n}\n  cluster:\n    server: ${server(n)}\n    certificate-authority-data: ${caData}`),
      'users:',
      ...ns.map((n) => `- name: ${n}-admin\n  user:\n    token: ${KUBE_TOKEN}`),
      'contexts:',
      ...ns.map((n) => `- name: ${n}-context\n  context:\n    cluster: ${n}\n    user: ${n}-admin`),
      `current-context: ${ns[0]}-context`,
      '',
    ].join('\n')
  writeFileSync(path.join(dir, 'kubeconfig'), kubeconfig(names), {mode: 0o600})
  // what the interrupted cases connect to: a listener on the first node's and API server's address that accepts and
  // says nothing (an sshd or API server that hangs), started in the case's namespace; it marks the first connection
  // and ends when obsctl does
  writeFileSync(
    path.join(dir, 'silent.cjs'),
    `const fs = require('node:fs'); const parent = process.ppid
require('node:net').createServer(() => fs.writeFileSync(process.argv[2], '')).listen(9, '127.0.0.14')
setInterval(() => { if (process.ppid !== parent) process.exit(0) }, 100)
`,
  )
  env = {
    ...process.env,
    ...SECRETS,
    CI: '1',
    NO_COLOR: '1',
    HOME: home,
    KUBECONFIG: path.join(dir, 'kubeconfig'),
    // obsctl's own clients reach https remotes; here they are refused on loopback (the suite allows file:// only)
    GIT_ALLOW_PROTOCOL: 'file:https',
    // one code cache for every run
    XDG_CACHE_HOME: `${dir}.cache`,
    // test-only (src/lib/poll.ts): the SSH connection's retries 0.1 s apart
    OBSCTL_TEST_POLL_MS: '100',
  }
  delete env.OBSCTL_CONFIG
  delete env.FORCE_COLOR
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
}
let copies = 0
/**
 * One case in a network namespace of its own with its loopback up: in a copy of the lab, or for bad input (refused
 * before anything is written) in the lab itself.
 */
async function run(c: Case): Promise<Run> {
  const copy = c.situation !== 'bad'
  const cwd = copy ? path.join(dir, `run-${++copies}`) : path.join(dir, 'lab')
  if (copy) cpSync(path.join(dir, 'lab'), cwd, {recursive: true})
  const marker = path.join(cwd, '.connected')
  const script = [
    'ip link set lo up || exit 97',
    c.silent ? `"${process.execPath}" "${path.join(dir, 'silent.cjs')}" "${marker}" &` : '',
    `exec "${process.execPath}" "${BIN}" "$@"`,
  ].join('\n')
  const argv = [...c.argv, '--json']
  try {
    return await new Promise<Run>((resolve, reject) => {
      const child = spawn('unshare', ['-rn', 'sh', '-c', script, 'sh', ...argv], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const kill = setTimeout(() => child.kill('SIGKILL'), 120_000)
      // Ctrl-C once the command has reached the silent listener (it waits on it from then on)
      const poll = c.silent
        ? setInterval(() => {
            if (existsSync(marker)) {
              clearInterval(poll)
              child.kill('SIGINT')
            }
          }, 50)
        : undefined
      child.on('error', reject)
      child.on('close', (status) => {
        clearTimeout(kill)
        clearInterval(poll)
        resolve({status, stdout, stderr})
      })
    })
  } finally {
    if (copy) await rm(cwd, {recursive: true, force: true})
  }
}

const DEFAULT_STATUS: Record<Situation, number> = {bad: 2, ok: 0, refused: 1, interrupted: 130}

/** The contract every `--json` run keeps; returns what is wrong (empty: nothing). */
function breaches(c: Case, r: Run): string[] {
  const out: string[] = []
  const want = c.status ?? DEFAULT_STATUS[c.situation]
  if (r.status !== want) out.push(`exit ${r.status}, expected ${want}`)
  if (r.stderr !== '') out.push(`stderr is not empty: ${JSON.stringify(r.stderr.slice(0, 300))}`)
  if (r.stdout.includes('\u001B')) out.push('ANSI escape on stdout')
  for (const s of [...Object.values(SECRETS), KUBE_TOKEN]) if ((r.stdout + r.stderr).includes(s)) out.push(`a credential in the output: ${s.slice(0, 14)}…`)
  let doc: unknown
  try {
    doc = JSON.parse(r.stdout)
  } catch {
    out.push(`stdout is not one JSON document: ${JSON.stringify(r.stdout.slice(0, 300))}`)
    return out
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [...out, 'stdout is not a JSON object']
  const o = doc as Record<string, unknown>
  if ('error' in o) {
    const e = o.error as Record<string, unknown>
    if (Object.keys(o).length !== 1) out.push(`the error object has more beside "error": ${Object.keys(o).join(', ')}`)
    const extra = Object.keys(e).filter((k) => !['code', 'message', 'exitCode', 'hints', 'details'].includes(k))
    if (extra.length > 0) out.push(`error has keys outside the contract: ${extra.join(', ')}`)
    if (typeof e.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(e.code)) out.push(`error.code ${JSON.stringify(e.code)}`)
    if (typeof e.message !== 'string' || e.message === '') out.push('error.message is not a message')
    if (!Array.isArray(e.hints) || e.hints.some((h) => typeof h !== 'string')) out.push('error.hints is not a list of strings')
    if (e.exitCode !== r.status) out.push(`error.exitCode ${JSON.stringify(e.exitCode)} but exit ${r.status}`)
    if (c.code && e.code !== c.code) out.push(`error.code ${String(e.code)}, expected ${c.code}`)
    if (c.report) out.push(`an error (${String(e.code)}: ${String(e.message).slice(0, 200)}) where the report was expected`)
    if (r.status === 0) out.push('an error object with exit 0')
  } else {
    if (c.code) out.push(`a result where the error ${c.code} was expected: ${r.stdout.slice(0, 200)}`)
    if (r.status !== 0) {
      // a report of checks or tasks that failed: says so itself
      if (o.ok !== false) out.push(`exit ${r.status} with a result whose ok is ${JSON.stringify(o.ok)} (expected false)`)
      if (o.exitCode !== r.status) out.push(`exit ${r.status} with a result whose exitCode is ${JSON.stringify(o.exitCode)}`)
    } else if ('ok' in o && o.ok !== true) out.push(`exit 0 with ok ${JSON.stringify(o.ok)}`)
    if (c.argv.includes('--dry-run') && o.dryRun !== true) out.push(`a dry run without "dryRun": true at the top (keys: ${Object.keys(o).join(', ')})`)
  }
  return out
}

describe('--json: one JSON document on stdout, the same error object everywhere, for every command', () => {
  beforeAll(prepare, 120_000)

  it('the table names every command of the manifest in every situation, or says why not', () => {
    const ids = Object.keys(manifest.commands)
    expect(ids).toContain('cluster:add')
    const missing: string[] = []
    for (const id of ids)
      for (const s of ['bad', 'ok', 'refused'] as Situation[]) {
        const driven = CASES.some((c) => c.id === id && c.situation === s)
        const excused = Boolean(NOT_DRIVEN[id]?.situations.includes(s))
        const elsewhere = ELSEWHERE.some((e) => e.id === id && e.situation === s)
        if ([driven, excused, elsewhere].filter(Boolean).length !== 1)
          missing.push(`${id} ${s}: driven ${driven}, excused ${excused}, asserted elsewhere ${elsewhere} (exactly one)`)
      }
    expect(missing).toEqual([])
    // each run made elsewhere is still there, in the test named
    for (const e of ELSEWHERE) {
      const text = readFileSync(path.join(ROOT, e.file), 'utf8')
      const at = text.indexOf(e.line)
      expect(at, `${e.id} (${e.situation}): ${e.file} no longer runs ${e.line}`).toBeGreaterThan(-1)
      const title = text.lastIndexOf(e.test, at)
      expect(title, `${e.id} (${e.situation}): ${e.line} is no longer in ${e.file}'s test "${e.test}"`).toBeGreaterThan(-1)
      const next = /\n\s*((it|test)(\.\w+)*\(\s*['"`]|describe\()/
      expect(text.slice(title, at), `${e.id}: ${e.line} is in another test of ${e.file} than "${e.test}"`).not.toMatch(next)
      const rest = text.slice(at)
      const body = rest.slice(0, rest.search(next) === -1 ? undefined : rest.search(next))
      expect(body, `${e.id} (${e.situation}): ${e.file} "${e.test}" no longer checks that stderr is empty`).toMatch(/stderr\)\.toBe\(''\)/)
    }
    // every case is a command of the manifest, run as itself, and every dry run it has is driven or excused
    for (const c of CASES) expect(c.argv.slice(0, c.id.split(':').length).join(':'), c.argv.join(' ')).toBe(c.id)
    for (const c of CASES)
      if (!c.argv.includes('--dry-run') && c.situation === 'ok')
        expect('dry-run' in manifest.commands[c.id]!.flags, `${c.id}: a success without --dry-run changes nothing`).toBe(false)
  })

  it('every case keeps the contract (a few at a time)', {timeout: 300_000}, async () => {
    const found: string[] = []
    for (let i = 0; i < CASES.length; i += 4) {
      await Promise.all(
        CASES.slice(i, i + 4).map(async (c) => {
          const r = await run(c)
          for (const b of breaches(c, r)) found.push(`obsctl ${c.argv.join(' ')} --json (${c.situation}): ${b}`)
        }),
      )
    }
    expect(found).toEqual([])
  })

  it('status --watch --json: one JSON object per line (NDJSON), each whole', {timeout: 60_000}, async () => {
    // the documented exception to one document: a stream of frames until Ctrl-C (exit 0)
    const cwd = path.join(dir, 'watch')
    cpSync(path.join(dir, 'lab'), cwd, {recursive: true})
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(
        'unshare',
        ['-rn', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${BIN}" "$@"`, 'sh', 'status', '--watch', '--interval', '1', '--json'],
        {
          cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d
        if (stdout.split('\n').length > 2) child.kill('SIGINT')
      })
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('close', (status) => resolve({status, stdout, stderr}))
    })
    rmSync(cwd, {recursive: true, force: true})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const l of lines) expect((JSON.parse(l) as {ok: boolean}).ok).toBe(false)
  })
})
