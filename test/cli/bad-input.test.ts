/**
 * Bad input on the command line, table-driven, across the commands: each row is an argv (and environment) that must
 * be refused with exit 2, a message or hint naming the flag or env var that fixes it, and nothing written — the
 * inventory, `.obsctl/` (journal, logs, reports, the dry-run render), the GitOps working copy with its `.git`, and
 * the kubeconfig are hashed before and after. The rows are the probes of an audit of every command's flags (empty
 * values, wrong shapes, out-of-range numbers and durations, folders and missing files where a file goes, names not in
 * the inventory, values with a newline, flags that need another, env vars set to bad values) that found a defect,
 * and a sample of the ones that were already refused.
 *
 * Each probe runs the built CLI in a fresh copy of one prepared folder (`obsctl init --example`, rendered and
 * committed), inside a network namespace of its own (`unshare -n`: the example's 192.168.101.x addresses are never
 * reached, not even by a DNS query), two at a time. A refusal that came only after trying the network would show as
 * exit 1 (what an unreachable system gives), so exit 2 also says the refusal came first.
 */
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, obsctl, requireBuild, runProcess, tmpDir, type CliResult, packForCopies} from './helpers.js'

interface Probe {
  /** what is wrong, as the table's row name */
  name: string
  argv: string[]
  /** what the output (stderr, or stdout under --json) must name: the flag or env var that fixes it */
  names: RegExp
  env?: Record<string, string>
  /** a secret the output must not show */
  hides?: string
}

// {dir} is the probe's own copy of the folder
const P = (name: string, argv: string[], names: RegExp, env?: Record<string, string>, hides?: string): Probe => ({name, argv, names, env, hides})

const PROBES: Probe[] = [
  // empty values: a script's unset variable (`--ca-file "$CA"`) was taken for "flag not given"
  P('alerts list --ca-file ""', ['alerts', 'list', '--ca-file', ''], /--ca-file is empty/),
  P('status --kubeconfig ""', ['status', '--kubeconfig', ''], /--kubeconfig is empty/),
  P('node add --name ""', ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--name', '', '--dry-run'], /--name is empty/),
  P('cluster remove ""', ['cluster', 'remove', '', '--dry-run'], /argument NAME is empty/),
  // a cluster or phase name not in the inventory, said without the flag
  P('certs check --cluster nope', ['certs', 'check', '--cluster', 'nope'], /--cluster nope: no such cluster/),
  P('backup create --cluster with a newline', ['backup', 'create', '--cluster', 'cluster-01\n', '--dry-run'], /--cluster "cluster-01\\n": no such cluster/),
  P('plan --phase nope', ['plan', '--phase', 'nope'], /--phase nope: unknown phase/),
  P('state reset --phase nope', ['state', 'reset', '--phase', 'nope', '--yes'], /--phase nope: unknown phase/),
  P('logs --phase nope', ['logs', '--phase', 'nope'], /--phase nope: unknown phase/),
  // files: a folder, a missing file or a YAML file where a PEM bundle or a known_hosts file goes
  P('backup create --dry-run --ca-file FOLDER', ['backup', 'create', '--dry-run', '--ca-file', '{dir}/gitops'], /--ca-file: .*gitops: it is a directory/),
  P('s3 setup --dry-run --ca-file (no PEM)', ['s3', 'setup', '--dry-run', '--ca-file', '{dir}/obsctl.yaml'], /--ca-file: .*holds no PEM certificate/),
  P('status --ca-file (no PEM)', ['status', '--ca-file', '{dir}/obsctl.yaml'], /--ca-file: .*holds no PEM certificate/),
  P(
    'secrets apply --dry-run --opensearch-ca-file MISSING',
    ['secrets', 'apply', '--dry-run', '--opensearch-ca-file', '{dir}/nope.pem'],
    /--opensearch-ca-file: .*no such file/,
  ),
  P('certs check --known-hosts INVENTORY', ['certs', 'check', '--known-hosts', '{dir}/obsctl.yaml'], /--known-hosts: .*is not a known_hosts file/),
  P('node install --dry-run --known-hosts FOLDER', ['node', 'install', '--dry-run', '--known-hosts', '{dir}/gitops'], /--known-hosts: .*it is a directory/),
  P('diagnose --out INVENTORY', ['diagnose', '--out', '{dir}/obsctl.yaml'], /--out .*obsctl\.yaml exists and is not an earlier archive/),
  P(
    'bootstrap --dry-run --argocd-manifest ftp://',
    ['bootstrap', '--all', '--dry-run', '--argocd-manifest', 'ftp://mirror.lab/install.yaml'],
    /--argocd-manifest ftp:/,
  ),
  P(
    'bootstrap --dry-run --argocd-manifest MISSING',
    ['bootstrap', '--all', '--dry-run', '--argocd-manifest', '{dir}/nope.yaml'],
    /--argocd-manifest .*nope\.yaml: no such file/,
  ),
  P(
    'kubeconfig merge --from-file CLUSTER=INVENTORY',
    ['kubeconfig', 'merge', '--dry-run', '--from-file', 'cluster-01={dir}/obsctl.yaml'],
    /--from-file CLUSTER=PATH/,
  ),
  P('status --kubeconfig MISSING', ['status', '--kubeconfig', '{dir}/nope.conf'], /cannot read kubeconfig .*nope\.conf[^]*--kubeconfig/),
  P(
    'diff --kubeconfig MISSING (before the remote is read)',
    ['diff', '--kubeconfig', '{dir}/nope.conf'],
    /cannot read kubeconfig .*nope\.conf[^]*--kubeconfig/,
  ),
  // $KUBECONFIG, judged as kubectl judges it: a folder, or (where the kubeconfig is read) no file at all, is refused before
  // any cluster is contacted, naming the variable (status, validate and certs check took it for every cluster failing,
  // exit 1); a missing file among several is skipped, as kubectl skips it
  P('status with $KUBECONFIG MISSING', ['status'], /\$KUBECONFIG: \S+nope\.conf does not exist[^]*KUBECONFIG/, {KUBECONFIG: '{dir}/nope.conf'}),
  P('validate with $KUBECONFIG=FOLDER', ['validate'], /\$KUBECONFIG: \S+gitops is a folder, not a kubeconfig file/, {KUBECONFIG: '{dir}/gitops'}),
  P('certs check with $KUBECONFIG of two missing files', ['certs', 'check'], /\$KUBECONFIG: none of its 2 files exists/, {
    KUBECONFIG: '{dir}/a.conf:{dir}/b.conf',
  }),
  P('diagnose with a folder among the $KUBECONFIG files', ['diagnose', '--out', '{dir}/d.tar.gz'], /\$KUBECONFIG: \S+gitops is a folder/, {
    KUBECONFIG: '{dir}/kubeconfig:{dir}/gitops',
  }),
  P(
    'alerts list --context nope, a missing file among the $KUBECONFIG files (skipped)',
    ['alerts', 'list', '--context', 'nope'],
    /--context nope: no such context[^]*contexts there: cluster-01-context/,
    {
      KUBECONFIG: '{dir}/nope.conf:{dir}/kubeconfig',
    },
  ),
  P('validate --kubeconfig MISSING', ['validate', '--kubeconfig', '{dir}/nope.conf'], /cannot read kubeconfig .*nope\.conf[^]*--kubeconfig/),
  // numbers past what the consumer takes: the refusal names the flag and the field
  P(
    'cluster add --cpu 99999999999999999999',
    ['cluster', 'add', 'cluster-05', '--host', '192.168.101.201', '--cpu', '99999999999999999999', '--dry-run'],
    /--cpu 99999999999999999999 clusters\[4\]\.nodes\[0\]\.cpu: .*more CPU than Kubernetes can count: at most 9223372036854775/,
  ),
  P(
    'node add --memory 8Ei',
    ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--memory', '8Ei', '--dry-run'],
    /--memory "8Ei" clusters\[1\]\.nodes\[2\]\.memory: .*more memory than a Kubernetes quantity holds/,
  ),
  P(
    'config set retention.thanos.raw 99999999999d',
    ['config', 'set', 'retention.thanos.raw', '99999999999d', '--yes'],
    /retention\.thanos\.raw: 99999999999d is longer than Prometheus and Thanos take: at most 106751d/,
  ),
  P('config set replicas.prometheus 2147483648', ['config', 'set', 'replicas.prometheus', '2147483648', '--yes'], /replicas\.prometheus: .*at most 2147483647/),
  // durations: one shape for every duration flag, at least 1s, at most a year (ten for a silence)
  P(
    'alerts silence --for 99999999999d',
    ['alerts', 'silence', 'alertname=NodeDown', '--comment', 'x', '--for', '99999999999d', '--dry-run'],
    /--for: expected a duration of at most 10y/,
  ),
  P('diagnose --since 0', ['diagnose', '--since', '0', '--out', '{dir}/d.tar.gz'], /--since: expected a duration of at least 1s/),
  P('status --metrics-stale 0', ['status', '--metrics-stale', '0'], /--metrics-stale: expected a duration of at least 1s/),
  P('validate --since 99999999999d', ['validate', '--since', '99999999999d'], /--since: expected a duration of at most 1y/),
  // values of the inventory given by flags: the refusal names the flag
  P(
    'node add --cpu abc',
    ['node', 'add', 'cluster-02', '--host', '192.168.101.200', '--cpu', 'abc', '--dry-run'],
    /--cpu "abc" clusters\[1\]\.nodes\[2\]\.cpu/,
  ),
  P(
    'node add --host of another cluster',
    ['node', 'add', 'cluster-02', '--host', '192.168.101.194', '--dry-run'],
    /--host 192\.168\.101\.194: it is a node of cluster-01/,
  ),
  P(
    'cluster add --api-server with a newline',
    ['cluster', 'add', 'cluster-05', '--host', '192.168.101.201', '--api-server', 'https://x\ny', '--dry-run'],
    /--api-server https:\/\/x\ny .*holds a space, tab or newline/,
  ),
  P(
    'upgrade chart --version with a newline',
    ['upgrade', 'chart', 'longhorn', '--version', '1.10.1\n', '--dry-run'],
    /--version "1\.10\.1\\n" is not a semantic version/,
  ),
  P('rollback --to with a newline', ['rollback', '--to', 'HEAD\nx', '--dry-run'], /--to "HEAD\\nx": expected a commit SHA or a ref/),
  P(
    'backup create --key-env with a space',
    ['backup', 'create', '--dry-run', '--key-env', 'my key'],
    /--key-env "my key": expected an environment variable's name/,
  ),
  P(
    'opensearch snapshot --indices ,,',
    ['opensearch', 'snapshot', '--indices', ',,'],
    /--indices ",,": expected an index pattern without spaces or empty parts/,
  ),
  // flags that mean nothing without another, and combinations that make no sense
  P('status --interval without --watch', ['status', '--interval', '10'], /--interval needs --watch/),
  P('validate --timeout without --wait', ['validate', '--timeout', '10'], /--timeout needs --wait/),
  P(
    'argocd password --show --rotate',
    ['argocd', 'password', '--show', '--rotate'],
    /--show=true cannot also be provided when using --rotate|--rotate.*--show/,
  ),
  P('argocd password --rotate without a terminal (before any connection)', ['argocd', 'password', '--rotate'], /--rotate needs the new password[^]*--generate/),
  P('backup restore without --cluster', ['backup', 'restore', '20260101T000000Z', '--dry-run'], /missing required flag --cluster/),
  // environment variables
  P(
    'OBSCTL_ARGOCD_MANIFEST_BASE=http://…',
    ['argocd', 'install', '--dry-run'],
    /OBSCTL_ARGOCD_MANIFEST_BASE: http:\/\/mirror\.lab\/\S+: plain http is refused/,
    {
      OBSCTL_ARGOCD_MANIFEST_BASE: 'http://mirror.lab',
    },
  ),
  P(
    'OBSCTL_ARGOCD_MANIFEST_BASE not a URL (bootstrap dry run)',
    ['bootstrap', '--all', '--dry-run'],
    /OBSCTL_ARGOCD_MANIFEST_BASE: "mirror\.lab" is not an https URL/,
    {
      OBSCTL_ARGOCD_MANIFEST_BASE: 'mirror.lab',
    },
  ),
  P('OBSCTL_OPENSEARCH_CA_FILE=FOLDER (secrets apply dry run)', ['secrets', 'apply', '--dry-run'], /\$OBSCTL_OPENSEARCH_CA_FILE: .*it is a directory/, {
    OBSCTL_OPENSEARCH_CA_FILE: '{dir}/gitops',
  }),
  P('OBSCTL_GRAFANA_ADMIN_PASSWORD too short (secrets apply dry run)', ['secrets', 'apply', '--dry-run'], /\$OBSCTL_GRAFANA_ADMIN_PASSWORD /, {
    OBSCTL_GRAFANA_ADMIN_PASSWORD: 'short',
  }),
  // OBSCTL_CONFIG: blank (init wrote an inventory named " "), a line end, a folder (the message named only -c)
  P('OBSCTL_CONFIG blank', ['config', 'validate'], /\$OBSCTL_CONFIG \(" "\) is blank/, {OBSCTL_CONFIG: ' '}),
  P('init --example with OBSCTL_CONFIG blank', ['init', '--example'], /\$OBSCTL_CONFIG \(" "\) is blank/, {OBSCTL_CONFIG: ' '}),
  P('OBSCTL_CONFIG with a line end', ['status'], /\$OBSCTL_CONFIG \("obsctl\.yaml\\n"\) holds a newline at its end/, {OBSCTL_CONFIG: 'obsctl.yaml\n'}),
  P('OBSCTL_CONFIG=FOLDER', ['config', 'validate'], /inventory .*gitops \(from \$OBSCTL_CONFIG\): it is a folder/, {OBSCTL_CONFIG: '{dir}/gitops'}),
  P('init --example --force with OBSCTL_CONFIG=FOLDER', ['init', '--example', '--force'], /\$OBSCTL_CONFIG names the inventory file to write/, {
    OBSCTL_CONFIG: '{dir}/gitops',
  }),
  // credentials that are blank or hold a line end: refused before any connection, never shown (a key with a newline
  // failed in the S3 request, exit 1: "Invalid character in header content")
  P(
    'S3 access key with a line end (s3 setup)',
    ['s3', 'setup'],
    /\$OBSCTL_S3_ACCESS_KEY holds a newline at its end/,
    {OBSCTL_S3_ACCESS_KEY: 'AKIAPROBEKEY\n'},
    'AKIAPROBEKEY',
  ),
  P('SSH password with a carriage return (node install)', ['node', 'install', '--yes'], /\$OBSCTL_SSH_PASSWORD holds a carriage return at its end/, {
    OBSCTL_SSH_PASSWORD: 'probe-ssh-pw\r',
  }),
  P('OpenSearch password blank (status)', ['status'], /\$OBSCTL_OPENSEARCH_PASSWORD is blank/, {OBSCTL_OPENSEARCH_PASSWORD: '   '}),
  // read past env.ts until 5 December: a blank CA path failed as "…/ : no such file or directory", a blank mirror was taken as set
  P('OBSCTL_OPENSEARCH_CA_FILE blank (config validate)', ['config', 'validate'], /\$OBSCTL_OPENSEARCH_CA_FILE \(" "\) is blank/, {
    OBSCTL_OPENSEARCH_CA_FILE: ' ',
  }),
  P('OBSCTL_OPENSEARCH_CA_FILE blank (secrets apply dry run)', ['secrets', 'apply', '--dry-run'], /\$OBSCTL_OPENSEARCH_CA_FILE \(" "\) is blank/, {
    OBSCTL_OPENSEARCH_CA_FILE: ' ',
  }),
  P(
    'OBSCTL_ARGOCD_MANIFEST_BASE with a line end (bootstrap dry run)',
    ['bootstrap', '--all', '--dry-run'],
    /\$OBSCTL_ARGOCD_MANIFEST_BASE \(.*\) holds a newline at its end/,
    {
      OBSCTL_ARGOCD_MANIFEST_BASE: 'https://mirror.example/argo-cd\n',
    },
  ),
  // dry runs ask for no credential, but took one set badly as fine: the real run then refused it
  P(
    'backup key with a tab (backup create dry run)',
    ['backup', 'create', '--dry-run'],
    /\$OBSCTL_BACKUP_KEY holds a tab inside it/,
    {
      OBSCTL_BACKUP_KEY: 'probe-backup\tkey-0123456789',
    },
    'probe-backup',
  ),
  P(
    'S3 secret key with a line end (s3 setup dry run)',
    ['s3', 'setup', '--dry-run'],
    /\$OBSCTL_S3_SECRET_KEY holds a newline at its end/,
    {
      OBSCTL_S3_SECRET_KEY: 'probeS3secret\n',
    },
    'probeS3secret',
  ),
  P('backup key of 16 spaces (backup create)', ['backup', 'create', '--yes'], /\$OBSCTL_BACKUP_KEY is blank/, {OBSCTL_BACKUP_KEY: ' '.repeat(16)}),
  P(
    'Grafana admin password with a tab (bootstrap dry run)',
    ['bootstrap', '--all', '--dry-run'],
    /\$OBSCTL_GRAFANA_ADMIN_PASSWORD holds a tab inside it/,
    {OBSCTL_GRAFANA_ADMIN_PASSWORD: 'Good\tPassword-1'},
    'Password-1',
  ),
  // already refused before the audit: a sample of the other shapes
  P('status --watch --interval 99999999999', ['status', '--watch', '--interval', '99999999999'], /--interval: expected an integer less than or equal to 86400/),
  P('bootstrap --phase nope', ['bootstrap', '--phase', 'nope', '--dry-run'], /--phase=nope to be one of/),
  P('alerts list --endpoint prometheus=ftp://x', ['alerts', 'list', '--endpoint', 'prometheus=ftp://x'], /--endpoint prometheus=ftp:\/\/x/),
  P('alerts list --context nope', ['alerts', 'list', '--context', 'nope'], /--context nope: no such context/),
  P('-c MISSING', ['config', 'validate', '-c', '{dir}/nope.yaml'], /inventory not found/),
  P('opensearch snapshot --name UPPER', ['opensearch', 'snapshot', '--name', 'UPPER'], /--name "UPPER" is not a valid snapshot name/),
  P('upgrade chart --version older', ['upgrade', 'chart', 'longhorn', '--version', '1.0.0', '--dry-run'], /--version 1\.0\.0 is older[^]*--allow-downgrade/),
  P(
    'argocd install --dry-run --manifest http://',
    ['argocd', 'install', '--dry-run', '--manifest', 'http://mirror.lab/install.yaml'],
    /--manifest http:\/\/mirror\.lab\/install\.yaml: plain http is refused/,
  ),
]

let root: string
let fixture: string
let home: string
const results = new Map<string, {r: CliResult; changed: string[]}>()

/** Every file and folder under `dir` (the .git folder and .obsctl/ included) with a hash of its content and mode. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e)
      const st = lstatSync(p)
      const rel = path.relative(dir, p)
      if (st.isDirectory()) {
        out.set(`${rel}/`, 'dir')
        walk(p)
      } else if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(p)}`)
      else out.set(rel, `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${(st.mode & 0o7777).toString(8)}`)
    }
  }
  walk(dir)
  return out
}

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()])
  return [...keys].filter((k) => before.get(k) !== after.get(k)).map((k) => `${before.has(k) ? (after.has(k) ? 'changed' : 'removed') : 'added'} ${k}`)
}

async function runProbe(p: Probe, n: number): Promise<void> {
  const dir = path.join(root, `probe-${n}`)
  cpSync(fixture, dir, {recursive: true, verbatimSymlinks: true})
  const fill = (s: string) => s.replaceAll('{dir}', dir)
  const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1', HOME: home, KUBECONFIG: path.join(dir, 'kubeconfig')}
  for (const k of Object.keys(env)) if (k.startsWith('OBSCTL_')) delete env[k]
  // every credential a command could ask for, so a refusal is the probe's and not a missing secret's
  Object.assign(env, {
    OBSCTL_SSH_PASSWORD: 'probe-not-a-credential',
    OBSCTL_S3_ACCESS_KEY: 'probe-access-key',
    OBSCTL_S3_SECRET_KEY: 'probe-secret-key',
    OBSCTL_OPENSEARCH_USER: 'probe-user',
    OBSCTL_OPENSEARCH_PASSWORD: 'probe-password',
    OBSCTL_ARGOCD_PASSWORD: 'probe-password',
    OBSCTL_BACKUP_KEY: 'probe-backup-key-of-some-length',
  })
  for (const [k, v] of Object.entries(p.env ?? {})) env[k] = fill(v)
  const before = snapshot(dir)
  const r = await runProcess('unshare', ['-n', '--', process.execPath, BIN, ...p.argv.map(fill)], {cwd: dir, env, timeoutMs: 120_000})
  results.set(p.name, {r, changed: changes(before, snapshot(dir))})
  rmSync(dir, {recursive: true, force: true})
}

describe('bad input on the command line: exit 2, the flag or env var named, nothing written', () => {
  beforeAll(async () => {
    requireBuild()
    expect(spawnSync('unshare', ['-n', 'true']).status, 'unshare -n (util-linux, as root) is needed to run the probes offline').toBe(0)
    root = tmpDir('obsctl-bad-input-')
    fixture = path.join(root, 'fixture')
    home = path.join(root, 'home')
    mkdirSync(fixture)
    mkdirSync(home)
    const inv = path.join(fixture, 'obsctl.yaml')
    expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
    // cluster-02 gets a worker: a second node where node add and remove probes need one
    const text = readFileSync(inv, 'utf8')
    const at = text.indexOf('\n', text.indexOf('memory:', text.indexOf('- name: cluster-02')))
    writeFileSync(inv, `${text.slice(0, at + 1)}      - {host: 192.168.101.199, roles: [worker], cpu: "4", memory: 16Gi}\n${text.slice(at + 1)}`)
    expect((await obsctl(['config', 'validate', '-c', inv])).status).toBe(0)
    // the GitOps working copy, committed (its .git is hashed too)
    expect((await obsctl(['render', '--commit', '-c', inv])).status).toBe(0)
    // each probe gets a copy of this folder: 158 entries instead of 389; still a committed working copy
    packForCopies(path.join(fixture, 'gitops'))
    const ctx = (n: string, ip: string) => [
      `- name: ${n}\n  cluster: {server: "https://${ip}:6443"}`,
      `- name: ${n}-context\n  context: {cluster: ${n}, user: admin}`,
    ]
    const clusters = [
      ['cluster-01', '192.168.101.194'],
      ['cluster-02', '192.168.101.196'],
      ['cluster-03', '192.168.101.197'],
      ['cluster-04', '192.168.101.198'],
    ].map(([n, ip]) => ctx(n!, ip!))
    writeFileSync(
      path.join(fixture, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: cluster-01-context',
        'clusters:',
        ...clusters.map((c) => c[0]),
        'users:',
        '- name: admin\n  user: {token: probe-not-a-credential}',
        'contexts:',
        ...clusters.map((c) => c[1]),
        '',
      ].join('\n'),
      {mode: 0o600},
    )
    // two at a time: each probe is one CLI start-up, mostly CPU, on a machine the suite shares
    let next = 0
    const worker = async () => {
      while (next < PROBES.length) {
        const n = next++
        await runProbe(PROBES[n]!, n)
      }
    }
    await Promise.all([worker(), worker()])
  }, 240_000)

  afterAll(() => {
    if (root) rmSync(root, {recursive: true, force: true})
  })

  it.each(PROBES.map((p) => [p.name, p] as const))('%s', (_name, p) => {
    const {r, changed} = results.get(p.name)!
    const text = `${r.stderr}${r.stdout}`
    const why = `obsctl ${p.argv.join(' ')}\nexit ${r.status}\n${text.slice(0, 2000)}`
    expect(r.status, why).toBe(2)
    expect(text, why).toMatch(p.names)
    expect(text, why).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/)
    expect(changed, why).toEqual([])
    if (p.hides) expect(text, why).not.toContain(p.hides)
  })
})
