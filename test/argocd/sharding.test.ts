/**
 * Argo CD scales with the fleet: the application controller's shards by cluster count, set at install on
 * the StatefulSet (replicas and ARGOCD_CONTROLLER_REPLICAS) and in argocd-cmd-params-cm
 * (controller.sharding.algorithm). The application controller of the test manifest is shaped as in Argo CD
 * v3's install.yaml (container argocd-application-controller, env REDIS_PASSWORD from a Secret and
 * ARGOCD_CONTROLLER_REPLICAS "1"; ConfigMap argocd-cmd-params-cm), checked against that manifest
 * (manifests/install.yaml) through the search tool's code corpus.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments, stringify} from 'yaml'
import {argocdInstalled, installArgocd} from '../../src/lib/argocd/index.js'
import {CLUSTERS_PER_SHARD, MAX_SHARDS, controllerSharding} from '../../src/lib/argocd/sharding.js'
import type {Platform} from '../../src/lib/config/schema.js'
import {Kube} from '../../src/lib/kube/index.js'
import type {Obj} from '../support/kube/store.js'
import {VERSION, argocdManifest, autoRollout, startFleet, type Fleet} from './harness.js'

/** The platform with `n` clusters (edges copied from the first edge, renamed). */
function withClusters(p: Platform, n: number): Platform {
  const edge = p.clusters.find((c) => c.role === 'edge')!
  const extra = Array.from({length: Math.max(0, n - p.clusters.length)}, (_, i) => ({
    ...edge,
    name: `extra-${i + 1}`,
    apiServer: `https://10.77.${Math.floor(i / 200)}.${(i % 200) + 1}:6443`,
  }))
  return {...p, clusters: [...p.clusters, ...extra]}
}

describe('application controller sharding', () => {
  it('shards by cluster count: one replica up to the threshold, one more per started block, capped', () => {
    const base = {clusters: []} as unknown as Platform
    const at = (n: number) => controllerSharding({...base, clusters: Array.from({length: n}, () => ({}))} as unknown as Platform)
    expect(at(4)).toEqual({clusters: 4, replicas: 1})
    expect(at(CLUSTERS_PER_SHARD)).toEqual({clusters: CLUSTERS_PER_SHARD, replicas: 1})
    expect(at(CLUSTERS_PER_SHARD + 1)).toEqual({clusters: CLUSTERS_PER_SHARD + 1, replicas: 2, algorithm: 'round-robin'})
    expect(at(1000).replicas).toBe(MAX_SHARDS)
    expect(at(100_000).replicas).toBe(MAX_SHARDS)
  })

  describe('install', () => {
    let fleet: Fleet
    let stop: () => void
    let manifest: string
    beforeAll(async () => {
      fleet = await startFleet()
      stop = autoRollout(fleet.central)
      // the controller as v3's install.yaml has it
      const docs = parseAllDocuments(argocdManifest(VERSION, 'non-ha')).map((d) => d.toJS() as Obj)
      const sts = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name === 'argocd-application-controller')!
      sts.spec.template.spec.containers[0] = {
        ...sts.spec.template.spec.containers[0],
        name: 'argocd-application-controller',
        env: [
          {name: 'REDIS_PASSWORD', valueFrom: {secretKeyRef: {key: 'auth', name: 'argocd-redis'}}},
          {name: 'ARGOCD_CONTROLLER_REPLICAS', value: '1'},
        ],
      }
      manifest = path.join(fleet.dir, 'install-sharded.yaml')
      writeFileSync(manifest, `# Argo CD ${VERSION} (non-ha) — test manifest\n${docs.map((d) => stringify(d)).join('---\n')}`)
    })
    afterAll(async () => {
      stop()
      await fleet.stop()
    })

    it('120 clusters: 3 controller replicas, ARGOCD_CONTROLLER_REPLICAS=3, round-robin; the 4-cluster inventory then wants the install again', async () => {
      const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
      const big = withClusters(fleet.inv.platform, 120)
      const lines: string[] = []
      const r = await installArgocd(kube, big, fleet.inv.dir, {manifest, timeoutMs: 60_000, intervalMs: 25, log: (l) => lines.push(l)})
      expect(r.sharding).toEqual({clusters: 120, replicas: 3, algorithm: 'round-robin'})
      expect(lines).toContain('application controller: 3 replica(s) for 120 cluster(s), controller.sharding.algorithm=round-robin')
      const sts = fleet.central.getObject('statefulsets.apps', 'argocd', 'argocd-application-controller')!
      expect(sts.spec.replicas).toBe(3)
      const env = sts.spec.template.spec.containers[0].env as {name: string; value?: string}[]
      expect(env.filter((e) => e.name === 'ARGOCD_CONTROLLER_REPLICAS')).toEqual([{name: 'ARGOCD_CONTROLLER_REPLICAS', value: '3'}])
      expect(env.find((e) => e.name === 'REDIS_PASSWORD')).toBeTruthy()
      expect(fleet.central.getObject('configmaps', 'argocd', 'argocd-cmd-params-cm')!.data['controller.sharding.algorithm']).toBe('round-robin')
      expect(await argocdInstalled(kube, big, fleet.inv.dir)).toBe(true)
      // the live check compares with the inventory's size: a fleet of another size needs the install again
      expect(await argocdInstalled(kube, fleet.inv.platform, fleet.inv.dir)).toBe(false)
      const small = await installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {manifest, timeoutMs: 60_000, intervalMs: 25})
      expect(small.sharding).toEqual({clusters: 4, replicas: 1})
      expect(fleet.central.getObject('statefulsets.apps', 'argocd', 'argocd-application-controller')!.spec.replicas).toBe(1)
      expect(await argocdInstalled(kube, fleet.inv.platform, fleet.inv.dir)).toBe(true)
    }, 180_000)
  })
})
