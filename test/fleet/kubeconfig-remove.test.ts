import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {KEEP_BACKUPS, listBackups, pruneBackups, removeFromKubeconfig} from '../../src/lib/kube/kubeconfig/index.js'

const KC = `# my kubeconfig: comments stay
apiVersion: v1
kind: Config
clusters:
  - name: cluster-01   # central
    cluster:
      server: https://10.0.0.1:6443
      certificate-authority-data: AAAA
  - name: cluster-05
    cluster:
      server: https://10.0.0.5:6443
      certificate-authority-data: BBBB
  - name: other
    cluster: {server: 'https://other:6443'}
users:
  - name: cluster-01-admin
    user: {token: t1}
  - name: cluster-05-admin
    user:
      token: t5
contexts:
  - name: cluster-01-context
    context: {cluster: cluster-01, user: cluster-01-admin}
  - name: cluster-05-context
    context:
      cluster: cluster-05
      user: cluster-05-admin
current-context: cluster-05-context
preferences: {}
`

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
  dir = undefined
})

describe('removeFromKubeconfig', () => {
  it('cuts exactly its cluster, user and context entries; everything else byte for byte; current-context moves to the fallback; no backup keeps its credentials', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kc-'))
    const file = path.join(dir, 'config')
    writeFileSync(file, KC)
    const r = await removeFromKubeconfig(file, 'cluster-05', {fallbackContext: 'cluster-01-context'})
    expect(r.removed).toEqual(['clusters/cluster-05', 'users/cluster-05-admin', 'contexts/cluster-05-context'])
    expect(r.currentContext).toBe('cluster-01-context')
    const want = KC.replace(/ {2}- name: cluster-05\n( {4}.*\n)+/, '')
      .replace(/ {2}- name: cluster-05-admin\n( {4}.*\n)+/, '')
      .replace(/ {2}- name: cluster-05-context\n( {4}.*\n)+/, '')
      .replace('current-context: cluster-05-context', 'current-context: cluster-01-context')
    expect(readFileSync(file, 'utf8')).toBe(want)
    // no backup of the old file: it would hold cluster-05's token
    expect(r.backup).toBeUndefined()
    expect(readdirSync(dir).filter((f) => f.includes('backup'))).toHaveLength(0)
    // again: nothing to do, nothing written
    const again = await removeFromKubeconfig(file, 'cluster-05')
    expect(again.changed).toBe(false)
    expect(readFileSync(file, 'utf8')).toBe(want)
  })

  it("earlier obsctl backups lose the removed cluster's entries (credentials); other backups' bytes stay", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kc-'))
    const file = path.join(dir, 'config')
    writeFileSync(file, KC)
    const b1 = path.join(dir, 'config.obsctl-backup-2026-01-01T00-00-00-000Z')
    const b2 = path.join(dir, 'config.obsctl-backup-2026-01-02T00-00-00-000Z')
    const unrelated = 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n'
    writeFileSync(b1, KC, {mode: 0o600})
    writeFileSync(b2, unrelated, {mode: 0o600})
    const r = await removeFromKubeconfig(file, 'cluster-05', {fallbackContext: 'cluster-01-context'})
    expect(r.scrubbedBackups).toEqual([b1])
    for (const f of [file, b1, b2]) {
      const text = readFileSync(f, 'utf8')
      expect(text).not.toContain('t5')
      expect(text).not.toContain('cluster-05')
    }
    expect(readFileSync(b1, 'utf8')).toContain('cluster-01-admin')
    expect(readFileSync(b2, 'utf8')).toBe(unrelated)
  })

  it(`backups are pruned to the newest ${KEEP_BACKUPS}`, () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kc-'))
    const file = path.join(dir, 'config')
    writeFileSync(file, KC)
    const names = Array.from({length: 8}, (_, i) => path.join(dir!, `config.obsctl-backup-2026-01-0${i + 1}T00-00-00-000Z`))
    for (const n of names) writeFileSync(n, KC, {mode: 0o600})
    writeFileSync(path.join(dir, 'config.other'), 'x')
    expect(pruneBackups(file)).toEqual(names.slice(0, 3))
    expect(listBackups(file)).toEqual(names.slice(3))
    expect(readdirSync(dir)).toContain('config.other')
  })

  it('kubectl style (items at column 0, name last, the removed ones last in each list): the rest stays a valid kubeconfig', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kc-'))
    const file = path.join(dir, 'config')
    const entry = (kind: string, name: string, body: string) => `- ${kind}:\n    ${body}\n  name: ${name}\n`
    const kc = (n: string[]) =>
      `apiVersion: v1\nclusters:\n${n.map((c) => entry('cluster', c, `server: https://${c}:6443`)).join('')}contexts:\n${n.map((c) => entry('context', `${c}-context`, `cluster: ${c}`)).join('')}current-context: cluster-02-context\nkind: Config\npreferences: {}\nusers:\n${n.map((c) => entry('user', `${c}-admin`, 'token: t')).join('')}`
    writeFileSync(file, kc(['cluster-02', 'cluster-01', 'cluster-05']))
    const r = await removeFromKubeconfig(file, 'cluster-05')
    expect(r.removed).toEqual(['clusters/cluster-05', 'users/cluster-05-admin', 'contexts/cluster-05-context'])
    expect(readFileSync(file, 'utf8')).toBe(kc(['cluster-02', 'cluster-01']))
    // and down to nothing: emptied lists become []
    await removeFromKubeconfig(file, 'cluster-01')
    await removeFromKubeconfig(file, 'cluster-02', {fallbackContext: ''})
    expect(readFileSync(file, 'utf8')).toBe('apiVersion: v1\nclusters: []\ncontexts: []\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: []\n')
  })

  it('a missing file or a cluster that is not there changes nothing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-kc-'))
    expect((await removeFromKubeconfig(path.join(dir, 'none'), 'cluster-05')).changed).toBe(false)
    const file = path.join(dir, 'config')
    writeFileSync(file, KC)
    expect((await removeFromKubeconfig(file, 'cluster-09')).changed).toBe(false)
    expect(readFileSync(file, 'utf8')).toBe(KC)
  })
})
