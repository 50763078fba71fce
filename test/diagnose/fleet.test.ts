/**
 * diagnose over a fleet larger than a line a cluster reads well: 12 clusters, each a kubeconfig context to one Kubernetes
 * API test server on loopback (every service and S3 on a loopback port nothing listens on, as in diagnose.test.ts).
 * What it says while it collects is a count, not a line a cluster; every cluster is still collected.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {renderInventoryYaml} from '../../src/lib/config/index.js'
import {SERVICE_KEYS, isCredentialService} from '../../src/lib/platform/catalogue.js'
import {diagnose} from '../../src/lib/diagnose/collect.js'
import {fleetAnswers} from '../gitops/support.js'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {writeKubeconfigFile} from '../support/kube/kubeconfig.js'
import {writeInventory} from '../s3/harness.js'
import {DEAD, DEAD_TLS, endpointsYaml} from '../validate/harness.js'

const N = 12
const names = Array.from({length: N}, (_, i) => `cluster-${String(i + 1).padStart(2, '0')}`)

describe('obsctl diagnose over a fleet of 12', () => {
  let kube: KubeServer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-diagnose-fleet-'))
    kube = await startKubeServer({name: 'fleet'})
    kube.addReadyNode('node-1')
  })
  afterAll(async () => {
    await kube?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('says how many clusters it collects and how far it is, a line each tenth; every cluster collected', async () => {
    const endpoints = Object.fromEntries(SERVICE_KEYS.map((k) => [k, isCredentialService(k) ? DEAD_TLS : DEAD]))
    const {inv} = writeInventory(
      dir,
      DEAD,
      {...endpointsYaml(endpoints), ...Object.fromEntries(names.map((n) => [`clusters.${n}.apiServer`, kube.url]))},
      renderInventoryYaml(fleetAnswers(N)),
    )
    const kubeconfig = writeKubeconfigFile(
      path.join(dir, 'kubeconfig'),
      names.map((clusterName) => kube.kubeconfigEntry({clusterName})),
    )
    const notes: string[] = []
    const r = await diagnose(inv, {kubeconfig, out: path.join(dir, 'fleet.tar.gz'), requestTimeoutMs: 5000, onNotice: (l) => notes.push(l)})
    expect(r.clusters.map((c) => [c.name, c.reachable])).toEqual(names.map((n) => [n, true]))
    const collecting = notes.filter((l) => /collect/.test(l) && !/status/.test(l))
    expect(collecting[0]).toBe(`collecting ${N} clusters, 64 at a time`)
    expect(collecting.some((l) => /^collecting cluster-/.test(l))).toBe(false)
    const counts = collecting.slice(1).map((l) => /^collected (\d+)\/12 clusters$/.exec(l)?.[1])
    expect(counts.every((c) => c !== undefined)).toBe(true)
    expect(counts.length).toBeLessThanOrEqual(10)
    expect(counts.at(-1)).toBe('12')
    expect(counts.map(Number)).toEqual([...counts.map(Number)].sort((a, b) => a - b))
  }, 240_000)
})
