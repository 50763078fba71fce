/**
 * Inventory values that reach a shell, git's argv, a systemd unit, an S3 signature or an Argo CD Go template, and
 * that no legitimate value holds: refused by the schema (or, across fields, by config validate) with the field at its
 * file:line and exit 2, before anything is built from them. Values that can be legitimate are quoted where they are
 * used instead (see test/lifecycle/repository-quoting.test.ts, test/gitops/awkward-names.test.ts).
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, editInventoryText, parseInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {refuseLintErrors} from '../../src/lib/config/lint.js'
import {gitBranchError, gitRemoteError, noProxyError, proxyUrlError, s3RegionError} from '../../src/lib/config/validators.js'
import {obsctlAsync} from '../cli/helpers.js'
import {rejection} from '../support/errors.js'

const FILE = '/virtual/obsctl.yaml'
const EXAMPLE = renderInventoryYaml(EXAMPLE_ANSWERS)
const example = () => parseInventory(EXAMPLE, FILE)
/** the example with `config set PATH VALUE` edits, as text */
const edited = (edits: [string, string][]) => edits.reduce((text, [p, v]) => editInventoryText(parseInventory(text, FILE), p, v).after, EXAMPLE)
/** the 1-based line of the first line holding `needle` */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1

describe('git.branch: what git check-ref-format --branch takes, without Go template text', () => {
  const names = ['main', 'release/1.x', 'feature/a-b_c', 'ü', '#x', "a'b", 'a$(id)', '@']
  const refused = [
    '-x',
    '--output=/tmp/x',
    'a b',
    'a\nb',
    'a\tb',
    'a..b',
    'a@{b',
    '@{-1}',
    'HEAD',
    'x.lock',
    '.x',
    'a/.b',
    'x/',
    '/x',
    'a//b',
    'x.',
    'a:b',
    'a~1',
    'a^',
    'a?',
    'a*',
    'a[b',
    'a\\b',
    '',
    'a\u007fb',
  ]
  // git asked outside any repository: inside one, `@{-1}` is the branch checked out before (the verdict would
  // depend on the clone's history), and a branch name in the inventory is a name, never such a reference
  const outside = mkdtempSync(path.join(os.tmpdir(), 'obsctl-branch-'))
  const gitOutside = {stdio: 'pipe', cwd: outside, env: {...process.env, GIT_CEILING_DIRECTORIES: path.dirname(outside)}} as const
  afterAll(() => rmSync(outside, {recursive: true, force: true}))
  it.each([...names, ...refused].map((n) => [JSON.stringify(n), n] as const))('%s: the same verdict as git', (_shown, name) => {
    let gitTakes = true
    try {
      execFileSync('git', ['check-ref-format', '--branch', name], gitOutside)
    } catch {
      gitTakes = false
    }
    expect(gitBranchError(name) === undefined, String(gitBranchError(name))).toBe(gitTakes)
  })
  it('{{ }} is refused although git takes it: the ApplicationSets (goTemplate) would read it', () => {
    execFileSync('git', ['check-ref-format', '--branch', '{{.name}}'], gitOutside)
    expect(gitBranchError('{{.name}}')).toMatch(/'\{\{' or '\}\}'.*ApplicationSets/)
  })
})

describe('git.remote', () => {
  it.each([
    ['ext::sh -c touch% /tmp/x', /remote helper \(git-remote-ext/],
    ['fd::17', /remote helper \(git-remote-fd/],
    ['file::/srv/repo.git', /remote helper/],
    ['https://git.lab/org/repo .git', /holds a space/],
    ['https://git.lab/org/repo\n.git', /holds a newline/],
    ['git@git.lab:org/re\tpo.git', /holds a tab/],
    ['https://git.lab/{{.name}}/repo.git', /'\{\{' or '\}\}'.*ApplicationSets/],
    ['ssh://-oProxyCommand=touch%20x/repo.git', /host starts with '-'/],
  ])('%j is refused', (remote, says) => expect(gitRemoteError(remote)).toMatch(says))
  it.each([
    'https://git.example.lab/platform/gitops.git',
    'ssh://git@git.example.lab:2222/platform/gitops.git',
    'git@git.example.lab:platform/gitops.git',
    'file:///srv/git/gitops.git',
    '/srv/git/gitops.git',
    './my repos/gitops.git',
  ])('%j is taken', (remote) => expect(gitRemoteError(remote)).toBeUndefined())
  it("git's own default policy refuses ext:: (fd::, which it lets through, talks over a file descriptor: the schema refuses both)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-ext-'))
    try {
      let stderr = ''
      try {
        execFileSync('git', ['ls-remote', `ext::sh -c touch% ${dir}/ran`], {stdio: 'pipe', env: {...process.env, GIT_TERMINAL_PROMPT: '0'}})
      } catch (e) {
        stderr = String((e as {stderr?: Buffer}).stderr)
      }
      expect(stderr).toMatch(/transport 'ext' not allowed/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('the nodes’ proxy settings (install script env, containerd systemd drop-in)', () => {
  it.each([
    ['10.0.0.0/8\nExecStartPre=/bin/touch /tmp/x', /a newline is in no host name/],
    ['10.0.0.0/8" "LD_PRELOAD=/tmp/x.so', /the character "\\""/],
    ['.lab,%h', /the character "%"/],
    ['.lab;id', /the character ";"/],
    [' , ', /empty no-proxy list/],
  ])('noProxy %j is refused', (v, says) => expect(noProxyError(v)).toMatch(says))
  it.each(['10.0.0.0/8,.lab,localhost', '*', '127.0.0.1, ::1, [fd00::1]:8080, .svc.cluster.local', 'registry_1.lab:5000'])('noProxy %j is taken', (v) =>
    expect(noProxyError(v)).toBeUndefined(),
  )
  it.each(['http://proxy.lab:3128/%h', 'http://proxy.lab:3128/"x', 'http://proxy.lab:3128/?a=b', 'http://proxy.lab:3128/#f'])('proxy %j is refused', (v) =>
    expect(proxyUrlError(v, 'x')).toMatch(/not a proxy address/),
  )
  it.each(['http://proxy.lab:3128', 'http://proxy.lab:3128/', 'https://[fd00::1]:3128'])('proxy %j is taken', (v) =>
    expect(proxyUrlError(v, 'x')).toBeUndefined(),
  )
})

describe('s3.region', () => {
  it.each(['us-east-1', 'eu-central-1', 'de_fra', 'garage', 'auto', 'us.east.1', 'P4ss!word9'])('%j is taken', (v) => expect(s3RegionError(v)).toBeUndefined())
  it.each(['', 'us-east-1/x', 'minio@lab', 'us east', 'us-east-1\n', 'a:b', 'a?b', 'a#b', 'a%2fb', 'a\\b'])('%j is refused', (v) =>
    expect(s3RegionError(v)).toMatch(/not an S3 region name/),
  )
})

describe('refused at their file:line, exit 2 (schema)', () => {
  it.each([
    ['git.branch', '--output=/tmp/x', 'branch: --output=/tmp/x', /not a Git branch name: it starts with '-'/],
    ['git.remote', 'fd::17', 'remote: fd::17', /remote helper/],
    // git reads it as ssh to fd00::1, Argo CD's go-git as the host "[fd00": the URL both read the same is named
    ['git.remote', 'git@[fd00::1]:platform/gitops.git', '[fd00::1]:platform', /go-git.*write ssh:\/\/git@\[fd00::1\]\/platform\/gitops\.git/],
    ['s3.region', 'us-east-1/x', 'region: us-east-1/x', /not an S3 region name/],
    ['ssh.proxy.noProxy', '".lab,%h"', 'noProxy: .lab,%h', /not a no-proxy list/],
    ['ssh.proxy.http', 'http://proxy.lab:3128/%h', 'http: http://proxy.lab:3128/%h', /not a proxy address/],
  ])('%s %s', async (field, value, needle, says) => {
    const text = edited([[field, value]])
    const e = await rejection(Promise.resolve().then(() => parseInventory(text, FILE)))
    expect(e).toMatchObject({exitCode: 2, code: 'CONFIG_INVALID'})
    expect(e.message).toMatch(new RegExp(`${FILE}:${lineOf(text, needle)}:\\d+: ${field.replace(/\./g, '\\.')}: `))
    expect(e.message).toMatch(says)
  })
})

describe('Kubernetes names obsctl derives from the inventory are refused before any cluster is touched (config validate)', () => {
  it('a node without a name whose host is no lower-case DNS name (upper case, IPv6): its Kubernetes node name', async () => {
    for (const host of ['Node-4.Lab', 'fd00::198']) {
      const text = edited([['clusters.cluster-04.nodes[0].host', JSON.stringify(host)]])
      const e = await rejection(Promise.resolve().then(() => refuseLintErrors(parseInventory(text, FILE))))
      expect(e).toMatchObject({exitCode: 2, code: 'CONFIG_INVALID'})
      expect(e.message).toMatch(
        new RegExp(
          `${FILE}:${lineOf(text, `host: ${host}`) || lineOf(text, `host: "${host}"`)}:\\d+ clusters\\[3\\]\\.nodes\\[0\\]\\.host: node ${host} has no name`,
        ),
      )
    }
    // with a name it is fine (the host stays the SSH address)
    const named = edited([
      ['clusters.cluster-04.nodes[0].host', 'Node-4.Lab'],
      ['clusters.cluster-04.nodes[0].name', 'node-4.lab'],
    ])
    expect(refuseLintErrors(parseInventory(named, FILE)).errors).toBe(0)
  })

  it('a node name over 63 characters (its own, or its host for want of one): the kubelet’s kubernetes.io/hostname label', async () => {
    const long = `node-4.${'x'.repeat(50)}.miribit.lab` // 69 characters, every label under 63
    for (const [field, needle] of [
      ['host', `host: ${long}`],
      ['name', `name: ${long}`],
    ] as const) {
      const text = edited([[`clusters.cluster-04.nodes[0].${field}`, long]])
      const e = await rejection(Promise.resolve().then(() => refuseLintErrors(parseInventory(text, FILE))))
      expect(e.message).toMatch(new RegExp(`${FILE}:${lineOf(text, needle)}:\\d+ clusters\\[3\\]\\.nodes\\[0\\]\\.${field}: node name ${long}.* 69 characters`))
    }
    expect(refuseLintErrors(parseInventory(edited([['clusters.cluster-04.nodes[0].name', long.slice(0, 63)]]), FILE)).errors).toBe(0)
  })

  it("a remote-scrape edge whose Prometheus StatefulSet name would be over 52 characters; 36 is the longest, agent edges don't have one", async () => {
    const long = `e${'x'.repeat(36)}` // 37: prometheus-edge-<37> is 53
    const text = edited([['clusters.cluster-04.name', long]])
    const e = await rejection(Promise.resolve().then(() => refuseLintErrors(parseInventory(text, FILE))))
    expect(e.message).toMatch(
      new RegExp(
        `${FILE}:${lineOf(text, `name: ${long}`)}:\\d+ clusters\\[3\\]\\.name: remote-scrape edge ${long}.*prometheus-edge-${long} \\(53 characters\\)`,
      ),
    )
    expect(refuseLintErrors(parseInventory(edited([['clusters.cluster-04.name', long.slice(1)]]), FILE)).errors).toBe(0)
    expect(refuseLintErrors(parseInventory(edited([['clusters.cluster-02.name', long]]), FILE)).errors).toBe(0)
  })

  it('the example passes', () => expect(refuseLintErrors(example()).errors).toBe(0))
})

describe('end to end: obsctl config validate', () => {
  it('a noProxy that would add a directive to containerd’s systemd unit: exit 2, file:line, nothing else read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-inject-'))
    try {
      const f = path.join(dir, 'obsctl.yaml')
      const text = EXAMPLE.replace('ssh:\n', 'ssh:\n  proxy:\n    http: http://proxy.lab:3128\n    noProxy: "10.0.0.0/8\\nExecStartPre=/bin/touch /tmp/x"\n')
      writeFileSync(f, text)
      const r = await obsctlAsync(['config', 'validate', '-c', f])
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toContain(`${f}:${lineOf(text, 'noProxy:')}:`)
      expect(r.stderr).toMatch(/ssh\.proxy\.noProxy: .*a newline is in no host name or address/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
