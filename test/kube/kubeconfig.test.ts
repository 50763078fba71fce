import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import {describe, expect, it} from 'vitest'
import {entriesFor, maskedDiff, parseAdminConf, planMerge, writeMerge, type KubeconfigEntries} from '../../src/lib/kube/kubeconfig/index.js'
import type {Cluster} from '../../src/lib/config/schema.js'
import {adminConf, fakeB64} from './fixtures.js'

const cluster = (name: string, ip: string): Cluster => ({name, apiServer: `https://${ip}:6443`}) as Cluster
const entries = (name: string, ip: string, seed = name): KubeconfigEntries => entriesFor(cluster(name, ip), parseAdminConf(adminConf(seed), 'test'))

const KUBECTL_STYLE = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${fakeB64('other-ca')}
    server: https://other.example:6443
  name: other
contexts:
- context:
    cluster: other
    namespace: team-a
    user: other-user
  name: other
current-context: other
kind: Config
preferences: {}
users:
- name: other-user
  user:
    token: ${fakeB64('other-token')}
`

const INDENTED_WITH_COMMENTS = `# my kubeconfig, hand-edited
apiVersion: v1
kind: Config
clusters:
  # the lab
  - name: lab
    cluster:
      server: "https://lab:6443"   # quoted on purpose
      insecure-skip-tls-verify: true
users:
  - name: lab-user
    user: {token: abc}
contexts:
  - name: lab
    context: {cluster: lab, user: lab-user}
current-context: lab
`

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'obsctl-kc-'))
}

/** Every line of `before` (unrelated entries) appears in the same order in `after`. */
function keepsAllLines(before: string, after: string): void {
  expect(after.startsWith(before.slice(0, before.indexOf('\n')))).toBe(true)
  let at = 0
  for (const line of before.split('\n')) {
    const i = after.indexOf(`${line}\n`, at)
    expect(i, `line kept: ${line}`).toBeGreaterThanOrEqual(0)
    at = i + line.length
  }
}

describe('planMerge', () => {
  it('merges into a kubectl-written file keeping every unrelated byte, and a rerun changes nothing', () => {
    const es = [entries('cluster-01', '10.0.0.1'), entries('cluster-02', '10.0.0.2')]
    const plan = planMerge('/x', KUBECTL_STYLE, es)
    expect(plan.conflicts).toEqual([])
    expect(plan.changed).toBe(true)
    keepsAllLines(KUBECTL_STYLE, plan.after)
    const obj = YAML.parse(plan.after)
    expect(obj.clusters.map((c: {name: string}) => c.name)).toEqual(['other', 'cluster-01', 'cluster-02'])
    expect(obj.users.map((c: {name: string}) => c.name)).toEqual(['other-user', 'cluster-01-admin', 'cluster-02-admin'])
    expect(obj.contexts[2]).toEqual({context: {cluster: 'cluster-02', user: 'cluster-02-admin'}, name: 'cluster-02-context'})
    expect(obj.clusters[2].cluster.server).toBe('https://10.0.0.2:6443')
    expect(obj['current-context']).toBe('other')
    // removing the added lines gives back the original bytes
    const again = planMerge('/x', plan.after, es)
    expect(again.changed).toBe(false)
    expect(again.after).toBe(plan.after)
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true)
  })

  it('keeps comments, quoting and the indented-sequence style of a hand-written file', () => {
    const plan = planMerge('/x', INDENTED_WITH_COMMENTS, [entries('cluster-03', '10.0.0.3')])
    keepsAllLines(INDENTED_WITH_COMMENTS, plan.after)
    expect(plan.after).toContain('\n  - cluster:\n      certificate-authority-data:')
    expect(YAML.parse(plan.after).clusters[1].name).toBe('cluster-03')
  })

  it('merges into a JSON kubeconfig as JSON', () => {
    const json = JSON.stringify({apiVersion: 'v1', kind: 'Config', clusters: [{name: 'j', cluster: {server: 'https://j'}}], users: [], contexts: []}, null, 2)
    const plan = planMerge('/x', json, [entries('cluster-01', '10.0.0.1')])
    const obj = JSON.parse(plan.after)
    expect(obj.clusters[1].name).toBe('cluster-01')
    expect(obj.users[0].name).toBe('cluster-01-admin')
    expect(plan.after.startsWith('{\n  "apiVersion": "v1",\n  "kind": "Config",\n  "clusters": [\n    {\n      "name": "j"')).toBe(true)
  })

  it('fills sections that are missing, null or empty', () => {
    const text = 'apiVersion: v1\nkind: Config\nclusters: []\nusers:\n'
    const plan = planMerge('/x', text, [entries('cluster-01', '10.0.0.1')])
    const obj = YAML.parse(plan.after)
    expect(obj.clusters[0].name).toBe('cluster-01')
    expect(obj.users[0].name).toBe('cluster-01-admin')
    expect(obj.contexts[0].name).toBe('cluster-01-context')
    expect(plan.after.startsWith('apiVersion: v1\nkind: Config\n')).toBe(true)
  })

  it('creates a new file the way kubectl writes one, current-context set', () => {
    const plan = planMerge('/x', undefined, [entries('cluster-01', '10.0.0.1')], {currentContext: 'cluster-01-context'})
    expect(plan.after).toMatch(/^apiVersion: v1\nclusters:\n- cluster:\n {4}certificate-authority-data: /)
    expect(YAML.parse(plan.after)['current-context']).toBe('cluster-01-context')
  })

  it('reports a name taken by a different cluster as a conflict, replaces it with overwrite', () => {
    const first = planMerge('/x', KUBECTL_STYLE, [entries('cluster-01', '10.0.0.1')]).after
    // cluster re-installed: a new CA and new credentials
    const reinstalled = entries('cluster-01', '10.0.0.1', 'cluster-01-new')
    const plan = planMerge('/x', first, [reinstalled])
    expect(plan.conflicts.map((c) => c.section)).toEqual(['clusters', 'users'])
    expect(plan.conflicts[0]!.detail).toContain('a different CA')
    expect(plan.changed).toBe(false)
    const forced = planMerge('/x', first, [reinstalled], {overwrite: true})
    expect(forced.conflicts.length).toBe(2)
    expect(forced.changed).toBe(true)
    keepsAllLines(KUBECTL_STYLE, forced.after)
    expect(YAML.parse(forced.after).clusters[1].cluster['certificate-authority-data']).toBe(reinstalled.clusterEntry.cluster['certificate-authority-data'])
    // another server under the same name is a conflict too
    const moved = planMerge('/x', first, [entries('cluster-01', '10.0.0.9')])
    expect(moved.conflicts[0]!.detail).toContain('server https://10.0.0.1:6443')
  })

  it('updates renewed credentials of the same cluster without --overwrite', () => {
    const first = planMerge('/x', KUBECTL_STYLE, [entries('cluster-01', '10.0.0.1')]).after
    const renewed = entries('cluster-01', '10.0.0.1')
    renewed.userEntry.user = {...renewed.userEntry.user, 'client-certificate-data': fakeB64('renewed')}
    const plan = planMerge('/x', first, [renewed])
    expect(plan.conflicts).toEqual([])
    expect(plan.changes.find((c) => c.section === 'users')!.action).toBe('update')
    keepsAllLines(KUBECTL_STYLE, plan.after)
  })

  it('masks credentials in the dry-run diff', () => {
    const plan = planMerge('/x', KUBECTL_STYLE, [entries('cluster-01', '10.0.0.1')])
    const diff = maskedDiff(plan)
    expect(diff).toContain('+    client-key-data: REDACTED')
    expect(diff).toContain('+    client-certificate-data: REDACTED')
    expect(diff).toContain('+- name: cluster-01-admin')
    expect(diff).not.toContain(fakeB64('cluster-01-key'))
    expect(diff).toMatch(/certificate-authority-data: [A-Za-z0-9+/=]{20,}/)
  })

  it("masks every value of a user entry, whatever its shape: an exec plugin's args and env values, a folded token, an auth provider's config, JSON", () => {
    // the user shapes of client-go's kubeconfig (clientcmd/api/v1 AuthInfo: exec with args and env name/value,
    // auth-provider config), written as YAML allows them: a folded (>-) and a plain multi-line scalar
    const before = 'apiVersion: v1\nkind: Config\ncontexts:\n- name: old\n  context: {cluster: c, user: old}\nusers:\n- name: old\n  user:\n    token: abc\n'
    const secrets = ['s.HVS-very-secret-123', 'eyJhbGciOiJSUzI1NiJ9', 'sig-part-of-token', '--token=argv-secret-9', 'oidc-refresh-xyz', 'plain-line-two-secret']
    const after =
      before +
      [
        '- name: vault',
        '  user:',
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1',
        '      command: kubelogin',
        '      args:',
        '      - get-token',
        `      - ${secrets[3]}`,
        '      env:',
        '      - name: VAULT_TOKEN',
        `        value: ${secrets[0]}`,
        '- name: folded',
        '  user:',
        '    token: >-',
        `      ${secrets[1]}.`,
        `      ${secrets[2]}`,
        '    username: plain',
        '    password: first-line',
        `      ${secrets[5]}`,
        '- name: oidc',
        '  user:',
        '    auth-provider:',
        '      name: oidc',
        `      config: {refresh-token: ${secrets[4]}, idp-issuer-url: https://idp.lab}`,
        '',
      ].join('\n')
    // all of both files as context: a context's `user: NAME` (a reference, not a credential) stays
    const diff = maskedDiff({file: '/kc', before, after}, 100)
    for (const sec of secrets) expect(diff).not.toContain(sec)
    for (const kept of [
      'command: kubelogin',
      '- name: VAULT_TOKEN',
      'value: REDACTED',
      'token: REDACTED',
      '      REDACTED',
      'name: oidc',
      'context: {cluster: c, user: old}',
    ])
      expect(diff).toContain(kept)
    // the same in JSON (kubectl reads a JSON kubeconfig), pretty-printed and on one line
    const doc = YAML.parse(after)
    for (const json of [JSON.stringify(doc, null, 2), JSON.stringify(doc)]) {
      const d = maskedDiff({file: '/kc', before: '', after: json})
      for (const sec of secrets) expect(d, json.slice(0, 40)).not.toContain(sec)
    }
    expect(maskedDiff({file: '/kc', before: '', after: JSON.stringify(doc, null, 2)})).toContain('"name": "VAULT_TOKEN"')
    // a changed credential still shows as a change, both sides masked
    const rotated = maskedDiff({file: '/kc', before, after: before.replace('token: abc', 'token: xyz')})
    expect(rotated).toContain('-    token: REDACTED\n+    token: REDACTED')
  })
})

describe('writeMerge', () => {
  it('writes 0600 with a 0600 backup, and a rerun writes nothing (no byte, no backup)', async () => {
    const dir = tmp()
    const file = path.join(dir, 'config')
    writeFileSync(file, KUBECTL_STYLE, {mode: 0o644})
    const es = [entries('cluster-01', '10.0.0.1')]
    const r = await writeMerge(planMerge(file, KUBECTL_STYLE, es))
    expect(r.written).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(r.backup!, 'utf8')).toBe(KUBECTL_STYLE)
    expect(statSync(r.backup!).mode & 0o777).toBe(0o600)
    const bytes = readFileSync(file)
    const mtime = statSync(file).mtimeMs
    const r2 = await writeMerge(planMerge(file, bytes.toString('utf8'), es))
    expect(r2).toEqual({written: false})
    expect(readFileSync(file).equals(bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(mtime)
    expect(readdirSync(dir).filter((f) => f.includes('obsctl-backup')).length).toBe(1)
  })

  it('kubectl reads the merged file', async () => {
    const dir = tmp()
    const file = path.join(dir, 'config')
    writeFileSync(file, KUBECTL_STYLE)
    await writeMerge(planMerge(file, KUBECTL_STYLE, [entries('cluster-01', '10.0.0.1'), entries('cluster-02', '10.0.0.2')]))
    const out = execFileSync('kubectl', ['--kubeconfig', file, 'config', 'get-contexts', '-o', 'name'], {encoding: 'utf8'})
    expect(out.trim().split('\n').sort()).toEqual(['cluster-01-context', 'cluster-02-context', 'other'])
  })
})

describe('edits through the yaml Document API keep what the user wrote', () => {
  // comments everywhere, top-level keys in an odd order, entries with keys in an odd order, unrelated contexts
  const ODD = `# top comment: keep me
kind: Config
current-context: dev   # the one I use
users:
  # people
  - user: {token: dev-token}   # short-lived
    name: dev-user
contexts:
  - context: {user: dev-user, namespace: web, cluster: dev}
    name: dev
  # staging comes second
  - name: staging
    context:
      user: dev-user
      cluster: dev
      namespace: staging
clusters:
  - cluster:
      server: https://dev.example:6443
      certificate-authority-data: ${fakeB64('dev-ca')}
    name: dev
apiVersion: v1
preferences: {colors: true}
# trailing comment
`

  it('merge keeps comments, odd key order and unrelated contexts; removal gives back the original bytes', async () => {
    const dir = tmp()
    const file = path.join(dir, 'config')
    writeFileSync(file, ODD)
    const plan = planMerge(file, ODD, [entries('cluster-07', '10.0.0.7')], {currentContext: 'cluster-07-context'})
    await writeMerge(plan)
    const merged = readFileSync(file, 'utf8')
    keepsAllLines(ODD, merged)
    const obj = YAML.parse(merged)
    expect(obj['current-context']).toBe('dev')
    expect(obj.contexts.map((c: {name: string}) => c.name)).toEqual(['dev', 'staging', 'cluster-07-context'])
    expect(Object.keys(obj)).toEqual(['kind', 'current-context', 'users', 'contexts', 'clusters', 'apiVersion', 'preferences'])
    // the new entries follow the file's indented list style
    expect(merged).toContain('\n  - cluster:\n      certificate-authority-data:')
    const {removeFromKubeconfig} = await import('../../src/lib/kube/kubeconfig/index.js')
    const r = await removeFromKubeconfig(file, 'cluster-07')
    expect(r.removed).toEqual(['clusters/cluster-07', 'users/cluster-07-admin', 'contexts/cluster-07-context'])
    expect(readFileSync(file, 'utf8')).toBe(ODD)
  })

  it('removal from the middle keeps the comments of the entries around it', async () => {
    const dir = tmp()
    const file = path.join(dir, 'config')
    const withStaging = ODD.replace('clusters:\n', `clusters:\n  - name: staging-cluster\n    cluster: {server: 'https://s:6443'}\n`)
    const first = planMerge(file, withStaging, [entries('cluster-08', '10.0.0.8')]).after
    writeFileSync(
      file,
      first
        .replace('contexts:\n', 'contexts:\n  - name: cluster-08-context   # obsctl\n    context: {cluster: cluster-08, user: cluster-08-admin}\n')
        .replace(/\n {2}- context:\n {6}cluster: cluster-08\n {6}user: cluster-08-admin\n {4}name: cluster-08-context\n/, '\n'),
    )
    await removeFromKubeconfigOf(file, 'cluster-08')
    const after = readFileSync(file, 'utf8')
    expect(after).not.toContain('cluster-08')
    keepsAllLines(withStaging, after)
    expect(YAML.parse(after).contexts.map((c: {name: string}) => c.name)).toEqual(['dev', 'staging'])
  })
})

async function removeFromKubeconfigOf(file: string, cluster: string): Promise<void> {
  const {removeFromKubeconfig} = await import('../../src/lib/kube/kubeconfig/index.js')
  await removeFromKubeconfig(file, cluster)
}
