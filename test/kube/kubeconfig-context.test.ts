/**
 * Kubeconfig as kubectl users have it (issue 17): $KUBECONFIG with several files, --context, and the
 * inventory's clusters[].context. The chain rules are kubectl's, as `kubectl config --help` states them
 * (checked with kubectl 1.32 on this machine, /usr/bin/kubectl): the files are merged, the first file that
 * names an entry wins, a modified entry is written to the file that defines it, a new one to the first
 * file that exists (the last in the list when none does); current-context is the first one set.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'
import {lintInventory, parseInventory} from '../../src/lib/config/index.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {entriesFor, parseAdminConf, planChainMerge, writeMerge} from '../../src/lib/kube/kubeconfig/index.js'
import {Kube, kubeconfigFiles, resolveKubeconfigPath} from '../../src/lib/platform/kube.js'
import {BIN, obsctl, requireBuild, runProcess, tmpDir} from '../cli/helpers.js'
import {exampleInventory} from '../support/inventory.js'
import {adminConf, fakeB64} from './fixtures.js'

const KUBECTL = '/usr/bin/kubectl'

/** The user's own file: comments, an unrelated context, current-context set. */
const MINE = `# my kubeconfig
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${fakeB64('mine-ca')}
    server: https://127.0.0.9:6443   # my lab
  name: mine
contexts:
- context:
    cluster: mine
    user: me
  name: mine
current-context: mine
users:
- name: me
  user:
    token: ${fakeB64('my-token', 24)}
`

/** A second file holding cluster-02's entries from an earlier merge (with credentials since renewed). */
function secondFile(): string {
  const inv = parseInventory(exampleInventory(), '/lab/obsctl.yaml')
  const c2 = inv.platform.clusters[1]!
  const e = entriesFor(c2, parseAdminConf(adminConf('c2-old'), 'old'))
  e.clusterEntry.cluster['certificate-authority-data'] = parseAdminConf(adminConf('c2'), 'new').cluster['certificate-authority-data']
  return YAML.stringify({apiVersion: 'v1', kind: 'Config', clusters: [e.clusterEntry], users: [e.userEntry], contexts: [e.contextEntry]}, {indentSeq: false})
}

let dir: string
let invFile: string
beforeAll(() => {
  requireBuild()
  dir = tmpDir('obsctl-kcctx-')
  invFile = path.join(dir, 'obsctl.yaml')
  writeFileSync(invFile, exampleInventory())
  for (const n of ['01', '02']) writeFileSync(path.join(dir, `c${n}.conf`), adminConf(`c${Number(n)}`))
})

describe('KUBECONFIG with several files', () => {
  it('kubeconfig merge writes a new entry to the first file that exists and a renewed one to the file that holds it; kubectl sees the result', async () => {
    const first = path.join(dir, 'missing-first')
    const mine = path.join(dir, 'mine')
    const second = path.join(dir, 'second')
    writeFileSync(mine, MINE)
    writeFileSync(second, secondFile())
    const KUBECONFIG = [first, mine, second].join(path.delimiter)
    const r = await obsctl(
      [
        'kubeconfig',
        'merge',
        '--config',
        invFile,
        '--from-file',
        `cluster-01=${path.join(dir, 'c01.conf')}`,
        '--from-file',
        `cluster-02=${path.join(dir, 'c02.conf')}`,
        '--json',
      ],
      {env: {KUBECONFIG}},
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    // no file was created for the missing first path (kubectl: "the first file that exists")
    expect(existsSync(first)).toBe(false)
    const m = YAML.parse(readFileSync(mine, 'utf8'))
    expect(m.contexts.map((c: {name: string}) => c.name)).toEqual(['mine', 'cluster-01-context'])
    expect(m.users.map((c: {name: string}) => c.name)).toEqual(['me', 'cluster-01-admin'])
    expect(m['current-context']).toBe('mine')
    expect(readFileSync(mine, 'utf8')).toContain('server: https://127.0.0.9:6443   # my lab')
    // cluster-02's entries stay in the second file, its user now with the new credentials
    const s = YAML.parse(readFileSync(second, 'utf8'))
    expect(s.users).toEqual([{name: 'cluster-02-admin', user: parseAdminConf(adminConf('c2'), 'x').user}])
    expect(readFileSync(mine, 'utf8')).not.toContain('cluster-02')
    // kubectl merges the same files the same way
    const names = execFileSync(KUBECTL, ['config', 'get-contexts', '-o', 'name'], {encoding: 'utf8', env: {...process.env, KUBECONFIG}})
      .trim()
      .split('\n')
      .sort()
    expect(names).toEqual(['cluster-01-context', 'cluster-02-context', 'mine'])
  })

  it('no file of the chain exists: the last one is created, current-context set to central', () => {
    const files = [path.join(dir, 'none-a'), path.join(dir, 'none-b')]
    const inv = parseInventory(exampleInventory(), '/lab/obsctl.yaml')
    const plans = planChainMerge(files, [entriesFor(inv.platform.clusters[0]!, parseAdminConf(adminConf('c0'), 'x'))], {currentContext: 'cluster-01-context'})
    expect(plans.map((p) => [path.basename(p.file), p.changed])).toEqual([
      ['none-a', false],
      ['none-b', true],
    ])
    expect(YAML.parse(plans[1]!.after)['current-context']).toBe('cluster-01-context')
  })

  it('a name in two files: the first file wins when connecting (client-node alone would throw "Duplicate context")', async () => {
    const a = path.join(dir, 'dup-a')
    const b = path.join(dir, 'dup-b')
    const kc = (server: string, current: string) =>
      `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${fakeB64('ca')}\n    server: ${server}\n  name: lab\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- context:\n    cluster: lab\n    user: u\n  name: lab\ncurrent-context: ${current}\n`
    writeFileSync(a, kc('https://127.0.0.21:6443', '""'))
    writeFileSync(b, kc('https://127.0.0.22:6443', 'lab'))
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = [a, b].join(path.delimiter)
    try {
      const kube = await Kube.connect({context: 'lab'})
      expect(kube.server).toBe('https://127.0.0.21:6443')
      await expect(Kube.connect({context: 'nope'})).rejects.toThrow(/context nope is not in .*dup-a:.*dup-b/)
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = saved
    }
    // kubectl agrees: the first file's server, current-context from the first file that sets it
    const env = {...process.env, KUBECONFIG: [a, b].join(path.delimiter)}
    expect(execFileSync(KUBECTL, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'], {encoding: 'utf8', env})).toBe(
      'https://127.0.0.21:6443',
    )
  })

  it('a bad $KUBECONFIG is judged as kubectl judges it: a missing file among several is skipped, a folder is an error, none at all is an error where it is read', async () => {
    const real = path.join(dir, 'bad-env-real')
    writeFileSync(real, MINE)
    const [missing, missing2] = [path.join(dir, 'bad-env-missing'), path.join(dir, 'bad-env-missing-2')]
    const saved = process.env.KUBECONFIG
    const refusal = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        expect(isObsctlError(e), String(e)).toBe(true)
        return e as {exitCode: number; message: string}
      }
      throw new Error('not refused')
    }
    try {
      // a missing file among several: skipped, the other one read (kubectl lists its contexts)
      process.env.KUBECONFIG = [missing, real].join(path.delimiter)
      expect(kubeconfigFiles(undefined, {read: true})).toEqual([missing, real])
      expect((await Kube.loadConfig()).kc.getContexts().map((c) => c.name)).toContain('mine')
      expect(execFileSync(KUBECTL, ['config', 'get-contexts', '-o', 'name'], {encoding: 'utf8', env: {...process.env}})).toContain('mine')
      // a folder: kubectl fails ("read …: is a directory"); obsctl refuses it, reading or writing, naming the variable
      process.env.KUBECONFIG = [dir, real].join(path.delimiter)
      expect(() => execFileSync(KUBECTL, ['config', 'get-contexts', '-o', 'name'], {encoding: 'utf8', env: {...process.env}, stdio: 'pipe'})).toThrow(
        /is a directory/,
      )
      for (const read of [true, false]) {
        const e = refusal(() => kubeconfigFiles(undefined, {read}))
        expect(e.exitCode).toBe(2)
        expect(e.message).toBe(`$KUBECONFIG: ${dir} is a folder, not a kubeconfig file`)
      }
      await expect(Kube.loadConfig()).rejects.toThrow(`$KUBECONFIG: ${dir} is a folder`)
      // none exists: nothing to read (refused), but a writer creates the last one, as kubectl does
      process.env.KUBECONFIG = [missing, missing2].join(path.delimiter)
      expect(refusal(() => kubeconfigFiles(undefined, {read: true})).message).toBe(`$KUBECONFIG: none of its 2 files exists (${missing}, ${missing2})`)
      expect(kubeconfigFiles(undefined)).toEqual([missing, missing2])
      expect(resolveKubeconfigPath()).toBe(missing2)
      process.env.KUBECONFIG = missing
      await expect(Kube.connect({context: 'mine'})).rejects.toThrow(`$KUBECONFIG: ${missing} does not exist`)
      // --kubeconfig is that one file, as before
      expect(kubeconfigFiles(missing, {read: true})).toEqual([missing])
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = saved
    }
  })

  it('cluster removal takes the entries out of every file of the chain', async () => {
    const a = path.join(dir, 'rm-a')
    const b = path.join(dir, 'rm-b')
    writeFileSync(a, MINE)
    writeFileSync(b, secondFile())
    const {removeFromKubeconfigs} = await import('../../src/lib/kube/kubeconfig/index.js')
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = [a, b].join(path.delimiter)
    try {
      const r = await removeFromKubeconfigs(undefined, 'cluster-02')
      expect(r.removed).toEqual(['clusters/cluster-02', 'users/cluster-02-admin', 'contexts/cluster-02-context'])
      expect(r.file).toBe(b)
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = saved
    }
    expect(readFileSync(a, 'utf8')).toBe(MINE)
    expect(readFileSync(b, 'utf8')).not.toContain('cluster-02')
  })
})

describe('a bad $KUBECONFIG is bad input: said once, exit 2, before anything is written', () => {
  // the example inventory's addresses (192.168.101.x) are never reached: every run is in a network namespace of its own
  let lab: string
  let labInv: string
  const offline = (argv: string[], KUBECONFIG: string) => {
    const env: NodeJS.ProcessEnv = {...process.env, CI: '1', NO_COLOR: '1', HOME: lab, KUBECONFIG}
    for (const k of Object.keys(env)) if (k.startsWith('OBSCTL_')) delete env[k]
    Object.assign(env, {
      OBSCTL_OPENSEARCH_USER: 'probe-user',
      OBSCTL_OPENSEARCH_PASSWORD: 'probe-password',
      OBSCTL_S3_ACCESS_KEY: 'probe-access-key',
      OBSCTL_S3_SECRET_KEY: 'probe-secret-key',
      OBSCTL_ARGOCD_PASSWORD: 'probe-password',
    })
    return runProcess('unshare', ['-n', '--', process.execPath, BIN, ...argv, '--config', labInv], {cwd: lab, env, timeoutMs: 120_000})
  }
  const journal = () => ['state.json', 'logs'].filter((f) => existsSync(path.join(lab, '.obsctl', f)))
  beforeAll(() => {
    lab = tmpDir('obsctl-kcenv-')
    labInv = path.join(lab, 'obsctl.yaml')
    writeFileSync(labInv, exampleInventory())
    mkdirSync(path.join(lab, 'folder'))
    writeFileSync(path.join(lab, 'garbage.conf'), '::: not: [a kubeconfig\n')
    writeFileSync(path.join(lab, 'empty.conf'), '')
    writeFileSync(path.join(lab, 'binary.conf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0]))
  })

  it('status and validate: a $KUBECONFIG file that is no kubeconfig (garbage, empty, binary) is one error naming the variable and the file, not every cluster failing', async () => {
    for (const name of ['garbage.conf', 'empty.conf', 'binary.conf']) {
      const file = path.join(lab, name)
      for (const argv of [['status'], ['validate'], ['status', '--via-api-server']]) {
        const r = await offline(argv, file)
        const why = `obsctl ${argv.join(' ')} with KUBECONFIG=${name}\nexit ${r.status}\n${r.stderr}${r.stdout}`
        expect(r.status, why).toBe(2)
        // once, before or instead of any cluster's finding: no table, no checklist
        expect(r.stderr.split(`cannot read kubeconfig ${file} (from $KUBECONFIG): `).length - 1, why).toBe(1)
        expect(r.stderr, why).toContain('→ fix the file, or set KUBECONFIG (or pass --kubeconfig) to another')
        expect(r.stdout, why).toBe('')
        // one line of the YAML parser's message: never the file's bytes
        expect(
          [...r.stderr].filter((ch) => ch.charCodeAt(0) < 9 || ch.charCodeAt(0) === 0x7f),
          why,
        ).toEqual([])
      }
      // the same file named by --kubeconfig was refused as before
      expect((await offline(['status', '--kubeconfig', file], path.join(lab, 'unused'))).status).toBe(2)
      // kubectl, the truth for what a kubeconfig is: it refuses the garbage and the binary file too ("error loading
      // config file … yaml: …"); the empty one it loads as a configuration with no context, through which no cluster
      // is reached either: obsctl says so once rather than for every cluster
      const k = spawnSync(KUBECTL, ['config', 'get-contexts', '-o', 'name'], {encoding: 'utf8', env: {...process.env, KUBECONFIG: file}})
      if (name === 'empty.conf') expect([k.status, k.stdout], k.stderr).toEqual([0, ''])
      else expect([k.status, k.stderr]).toEqual([1, expect.stringContaining(`error loading config file "${file}": yaml:`)])
    }
    expect(journal()).toEqual([])
  })

  it('commands that run phases judge $KUBECONFIG before the run: exit 2, no journal entry, no task log', async () => {
    const cases: [string[], string, RegExp][] = [
      [['cluster', 'register'], path.join(lab, 'folder'), /\$KUBECONFIG: \S+folder is a folder, not a kubeconfig file/],
      [['argocd', 'install'], path.join(lab, 'nope.conf'), /\$KUBECONFIG: \S+nope\.conf does not exist/],
      [['cluster', 'remove', 'cluster-02', '--yes'], path.join(lab, 'nope.conf'), /\$KUBECONFIG: \S+nope\.conf does not exist/],
      [
        ['bootstrap', '--phase', 'argocd', '--yes'],
        [path.join(lab, 'a.conf'), path.join(lab, 'b.conf')].join(path.delimiter),
        /\$KUBECONFIG: none of its 2 files exists/,
      ],
      [['bootstrap', '--phase', 'kubeconfig', '--yes'], path.join(lab, 'folder'), /\$KUBECONFIG: \S+folder is a folder/],
    ]
    for (const [argv, KUBECONFIG, message] of cases) {
      const r = await offline(argv, KUBECONFIG)
      const why = `obsctl ${argv.join(' ')} with KUBECONFIG=${KUBECONFIG}\nexit ${r.status}\n${r.stderr}${r.stdout}`
      expect(r.status, why).toBe(2)
      expect(r.stderr, why).toMatch(message)
      expect(r.stderr, why).toContain('set KUBECONFIG to your kubeconfig file')
      expect(journal(), why).toEqual([])
    }
  })

  it('kubeconfig merge still creates the file $KUBECONFIG names, as kubectl does', async () => {
    const fresh = path.join(lab, 'fresh.conf')
    const r = await obsctl(['kubeconfig', 'merge', 'cluster-02', '--config', labInv, '--from-file', `cluster-02=${path.join(dir, 'c02.conf')}`, '--json'], {
      env: {KUBECONFIG: fresh},
    })
    expect(r.status, r.stderr).toBe(0)
    expect(YAML.parse(readFileSync(fresh, 'utf8')).contexts.map((c: {name: string}) => c.name)).toEqual(['cluster-02-context'])
  })
})

describe('--context and clusters[].context', () => {
  it('an unknown --context is refused with exit 2, naming the contexts there', async () => {
    const kc = path.join(dir, 'ctx-config')
    writeFileSync(kc, MINE)
    const r = await obsctl(['argocd', 'password', '--config', invFile, '--kubeconfig', kc, '--context', 'nope'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--context nope: no such context in')
    expect(r.stderr).toContain('contexts there: mine')
  })

  it('kubeconfig merge --context names the context written for one cluster; with two clusters it is refused', async () => {
    const kc = path.join(dir, 'named-config')
    const r = await obsctl([
      'kubeconfig',
      'merge',
      'cluster-02',
      '--config',
      invFile,
      '--kubeconfig',
      kc,
      '--from-file',
      `cluster-02=${path.join(dir, 'c02.conf')}`,
      '--context',
      'lab-02',
      '--json',
    ])
    expect(r.status).toBe(0)
    expect(YAML.parse(readFileSync(kc, 'utf8')).contexts).toEqual([{context: {cluster: 'cluster-02', user: 'cluster-02-admin'}, name: 'lab-02'}])
    const two = await obsctl([
      'kubeconfig',
      'merge',
      '--config',
      invFile,
      '--kubeconfig',
      kc,
      '--from-file',
      `cluster-01=${path.join(dir, 'c01.conf')}`,
      '--from-file',
      `cluster-02=${path.join(dir, 'c02.conf')}`,
      '--context',
      'lab-02',
    ])
    expect(two.status).toBe(2)
    expect(two.stderr).toContain('--context names the context of one cluster; this merge has 2 (cluster-01, cluster-02)')
  })

  it('clusters[].context is the name merged and selected; it must be a DNS name and unique', async () => {
    const text = exampleInventory({'clusters.cluster-02.context': 'lab-02'})
    const inv = parseInventory(text, '/lab/obsctl.yaml')
    const e = entriesFor(inv.platform.clusters[1]!, parseAdminConf(adminConf('c2'), 'x'))
    expect(e.contextEntry.name).toBe('lab-02')
    expect(entriesFor(inv.platform.clusters[0]!, parseAdminConf(adminConf('c1'), 'x')).contextEntry.name).toBe('cluster-01-context')
    const kc = path.join(dir, 'inv-ctx-config')
    const f = path.join(dir, 'obsctl-ctx.yaml')
    writeFileSync(f, text)
    const r = await obsctl([
      'kubeconfig',
      'merge',
      'cluster-02',
      '--config',
      f,
      '--kubeconfig',
      kc,
      '--from-file',
      `cluster-02=${path.join(dir, 'c02.conf')}`,
      '--json',
    ])
    expect(r.status).toBe(0)
    expect(YAML.parse(readFileSync(kc, 'utf8')).contexts.map((c: {name: string}) => c.name)).toEqual(['lab-02'])

    const dup = lintInventory(parseInventory(exampleInventory({'clusters.cluster-02.context': 'cluster-01-context'}), '/lab/obsctl.yaml'))
    expect(dup.findings.find((x) => x.id === 'unique-kubeconfig context')).toMatchObject({
      severity: 'error',
      path: 'clusters[1].context',
      message: 'duplicate kubeconfig context "cluster-01-context" (also clusters[0] (cluster-01))',
    })
    let err: unknown
    try {
      parseInventory(exampleInventory({'clusters.cluster-02.context': 'Lab_02'}), '/lab/obsctl.yaml')
    } catch (e) {
      err = e
    }
    expect(isObsctlError(err) && err.exitCode).toBe(2)
    expect(JSON.stringify((err as {details: unknown}).details)).toContain('clusters[1].context')
  })

  it('writeMerge of a chain plan writes only the files that change', async () => {
    const a = path.join(dir, 'w-a')
    writeFileSync(a, MINE)
    const inv = parseInventory(exampleInventory(), '/lab/obsctl.yaml')
    const plans = planChainMerge([a, path.join(dir, 'w-b')], [entriesFor(inv.platform.clusters[0]!, parseAdminConf(adminConf('c1'), 'x'))])
    const results = await Promise.all(plans.map((p) => writeMerge(p)))
    expect(results.map((x) => x.written)).toEqual([true, false])
    expect(existsSync(path.join(dir, 'w-b'))).toBe(false)
  })
})
