/**
 * The kubeconfig is parsed once per process while it stays the same file (src/lib/platform/kube.ts parsedKubeconfig):
 * a 1,000-cluster fleet's is ~5.5 MB, 60–120 ms a parse, and every cluster obsctl reaches connects through it. Each
 * connection still has its own KubeConfig (its own current context and request deadline, and only its own entries), and
 * a rewritten file is read again. Against two kube test servers, one context each.
 */
import {readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Kube} from '../../src/lib/platform/kube.js'
import {tmpDir} from '../cli/helpers.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'

let dir: string
let kubes: KubeServer[]
let file: string
beforeAll(async () => {
  dir = tmpDir('obsctl-kc-once-')
  kubes = await startKubeServers(['cluster-01', 'cluster-02'])
  file = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), kubes)
})
afterAll(async () => {
  if (kubes) await stopKubeServers(kubes)
})

const gets = (k: KubeServer) => k.requestLog.filter((e) => e.method === 'GET' && e.path === '/api/v1/namespaces/default').length

describe('the kubeconfig, parsed once', () => {
  it('connections share its parsed entries; each holds its own context, cluster and user only, and reaches its own server', async () => {
    const [one, two, again] = await Promise.all([
      Kube.connect({kubeconfig: file, context: 'cluster-01-context'}),
      Kube.connect({kubeconfig: file, context: 'cluster-02-context'}),
      Kube.connect({kubeconfig: file, context: 'cluster-01-context'}),
    ])
    // the same objects: one parse for all (a second parse makes new ones)
    expect(again.kc.clusters[0]).toBe(one.kc.clusters[0])
    expect(again.kc.users[0]).toBe(one.kc.users[0])
    // its own entries only: client-node searches them at every request (over a fleet's 1,000, ~1 ms a request)
    const entries = (k: Kube) => [k.kc.contexts, k.kc.clusters, k.kc.users].map((l) => l.map((x) => x.name))
    expect(entries(one)).toEqual([['cluster-01-context'], ['cluster-01'], ['cluster-01-admin']])
    expect(entries(two)).toEqual([['cluster-02-context'], ['cluster-02'], ['cluster-02-admin']])
    expect([one.kc.currentContext, two.kc.currentContext]).toEqual(['cluster-01-context', 'cluster-02-context'])
    const before = kubes.map(gets)
    await one.get('v1', 'Namespace', 'default')
    await two.get('v1', 'Namespace', 'default')
    await one.get('v1', 'Namespace', 'default')
    expect(kubes.map(gets)).toEqual([before[0]! + 2, before[1]! + 1])
  })

  it('a rewritten file (by rename, as obsctl writes it) is read again: a context added is found, the old entries are not reused', async () => {
    const first = await Kube.connect({kubeconfig: file, context: 'cluster-01-context'})
    const next = path.join(dir, 'kubeconfig.next')
    writeFleetKubeconfig(next, kubes)
    // the same servers under a third context name too
    const text = readFileSync(next, 'utf8')
    expect(text).toMatch(/^contexts:\n/m)
    writeFileSync(next, text.replace(/^contexts:\n/m, 'contexts:\n  - name: extra\n    context:\n      cluster: cluster-02\n      user: cluster-02-admin\n'))
    const ino = statSync(file).ino
    renameSync(next, file)
    expect(statSync(file).ino).not.toBe(ino)
    const extra = await Kube.connect({kubeconfig: file, context: 'extra'})
    expect(extra.kc.clusters[0]).not.toBe(first.kc.clusters[0])
    expect((await extra.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
    // the connection made before the rewrite goes on with what it read
    expect((await first.get('v1', 'Namespace', 'default'))?.metadata.name).toBe('default')
  })
})
