/**
 * The fleet as ApplicationSets (issue 18): what an added edge costs the repository, and what the rendered
 * ApplicationSets generate for each cluster Secret obsctl writes — every Application's path rendered, its
 * name the one earlier obsctl versions gave it, its cluster-specific values patched into the shared
 * overlays (built with `kubectl kustomize` the way Argo CD adds `spec.source.kustomize.patches` to the
 * kustomization before it builds).
 */
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, describe, expect, it} from 'vitest'
import {parse, parseAllDocuments, stringify} from 'yaml'
import {addClusterToInventory, type LoadedInventory} from '../../src/lib/config/index.js'
import {overlayName} from '../../src/lib/config/model.js'
import {APPS, renderFiles} from '../../src/lib/gitops/index.js'
import {appSets, clusterSecrets, generateApplications} from '../support/kube/argocd-controllers.js'
import type {Loose} from '../support/kube/store.js'
import {example} from '../upstream/inventories.js'

const run = promisify(execFile)
const tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-appsets-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

type Obj = Record<string, Loose>

async function withEdge(inv: LoadedInventory, name: string, metrics: 'agent' | 'remote-scrape'): Promise<LoadedInventory> {
  const n = inv.platform.clusters.length + 1
  return (
    await addClusterToInventory(inv, {name, role: 'edge', metrics, hosts: [`10.30.${n}.10`], cpu: '8', memory: '32Gi'}, {dryRun: true, allowOvercommit: true})
  ).inventory
}

describe('rendered files per added edge cluster', () => {
  for (const metrics of ['agent', 'remote-scrape'] as const) {
    it(`a ${metrics} edge adds at most 3 files and removes none (N and N+1 clusters, file lists diffed)`, async () => {
      // N: the example grown to 6 clusters (both metrics modes present), N+1: one more edge
      let inv = await withEdge(await withEdge(example(), 'cluster-05', 'agent'), 'cluster-06', 'remote-scrape')
      const before = new Set(renderFiles(inv.platform).map((f) => f.path))
      inv = await withEdge(inv, 'cluster-07', metrics)
      const after = renderFiles(inv.platform).map((f) => f.path)
      const added = after.filter((p) => !before.has(p))
      const removed = [...before].filter((p) => !after.includes(p))
      expect(removed).toEqual([])
      expect(added.length, added.join('\n')).toBeLessThanOrEqual(3)
      expect(added.every((p) => p.startsWith('deploy/overlays/cluster-07-edge/'))).toBe(true)
    })
  }

  it("the first edge of a metrics mode adds that mode's shared overlay once, then never again", async () => {
    const inv = example()
    const agentEdges = inv.platform.clusters.filter((c) => c.role === 'edge' && c.metrics === 'agent')
    expect(agentEdges.length).toBeGreaterThan(0)
    const files = renderFiles(inv.platform).map((f) => f.path)
    expect(files.filter((p) => p.startsWith('deploy/overlays/edge-agent/')).length).toBeGreaterThan(0)
    // no per-edge Application files: the ApplicationSets generate them
    expect(files.filter((p) => p.startsWith('argocd/applications/')).sort()).toEqual(
      [...APPS.map((a) => `argocd/applications/${a.name}.yaml`), 'argocd/applications/in-cluster.yaml'].sort(),
    )
  })
})

describe('what the ApplicationSets generate', async () => {
  const inv = await withEdge(example(), 'cluster-05', 'agent')
  const files = renderFiles(inv.platform)
  const paths = new Set(files.map((f) => f.path))
  const apps = appSets(files).flatMap((s) => generateApplications(s, clusterSecrets(inv, files)))
  const byName = new Map(apps.map((a) => [a.metadata.name as string, a]))

  it('one Application per component and cluster, named <component>-<cluster> as before, with the resources finalizer', () => {
    const want = inv.platform.clusters.flatMap((c) => APPS.filter((a) => a.roles.includes(c.role)).map((a) => `${a.name}-${c.name}`)).sort()
    expect([...byName.keys()].sort()).toEqual(want)
    for (const a of apps) {
      expect(a.metadata.finalizers, a.metadata.name).toEqual(['resources-finalizer.argocd.argoproj.io'])
      expect(a.metadata.namespace).toBe('argocd')
    }
  })

  it('every Application points at a rendered folder on its own cluster', () => {
    for (const c of inv.platform.clusters) {
      for (const def of APPS.filter((a) => a.roles.includes(c.role))) {
        const a = byName.get(`${def.name}-${c.name}`)!
        expect(
          [...paths].some((p) => p.startsWith(`${a.spec.source.path}/`)),
          `${a.metadata.name}: ${a.spec.source.path}`,
        ).toBe(true)
        expect(a.spec.destination.server).toBe(c.role === 'central' ? 'https://kubernetes.default.svc' : c.apiServer)
        expect(a.metadata.labels).toMatchObject({'obsctl.dev/cluster': c.name, 'obsctl.dev/role': c.role})
        if (def.path) expect(a.spec.source.path).toBe(def.path)
        else if (def.perCluster || c.role === 'central') expect(a.spec.source.path).toContain(`deploy/overlays/${overlayName(c)}/`)
        else expect(a.spec.source.path).toBe(`deploy/overlays/edge-${c.metrics}/${def.name}`)
      }
    }
  })

  it("a shared overlay built with its Application's patches is that cluster's: Fluent Bit index prefix and cluster field, the agent's external label", async () => {
    const write = (dir: string, p: string, content: string) => {
      mkdirSync(path.dirname(path.join(dir, p)), {recursive: true})
      writeFileSync(path.join(dir, p), content)
    }
    for (const c of inv.platform.clusters.filter((x) => x.role === 'edge')) {
      const dir = path.join(tmp, c.name)
      for (const f of files) write(dir, f.path, f.content)
      // fluent-bit: the overlay's kustomization plus the Application's patches, as Argo CD builds it
      const fb = byName.get(`fluent-bit-${c.name}`)!
      const kfile = `${fb.spec.source.path}/kustomization.yaml`
      const k = parse(files.find((f) => f.path === kfile)!.content) as Obj
      write(dir, kfile, stringify({...k, patches: [...(k.patches ?? []), ...fb.spec.source.kustomize.patches]}))
      const out = await run('kubectl', ['kustomize', path.join(dir, fb.spec.source.path)], {maxBuffer: 64 << 20})
      const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Obj)
      expect(docs.find((d) => d.kind === 'ClusterOutput')!.spec.opensearch.logstashPrefix).toBe(`fluent-bit-${c.name}`)
      expect(docs.find((d) => d.kind === 'ClusterFilter' && d.metadata.name === 'cluster-name')!.spec.filters[0].recordModifier.records).toEqual([
        `cluster ${c.name}`,
      ])
      // kube-prometheus-stack inflates a chart (no helm here): its PrometheusAgent with the patch alone
      const kps = byName.get(`kube-prometheus-stack-${c.name}`)!
      if (c.metrics === 'agent') {
        const agentDir = path.join(dir, 'agent-only')
        write(agentDir, 'prometheus-agent.yaml', files.find((f) => f.path === `${kps.spec.source.path}/prometheus-agent.yaml`)!.content)
        write(
          agentDir,
          'kustomization.yaml',
          stringify({
            apiVersion: 'kustomize.config.k8s.io/v1beta1',
            kind: 'Kustomization',
            resources: ['prometheus-agent.yaml'],
            patches: kps.spec.source.kustomize.patches,
          }),
        )
        const built = parseAllDocuments((await run('kubectl', ['kustomize', agentDir])).stdout).map((d) => d.toJS() as Obj)
        expect(built.find((d) => d.kind === 'PrometheusAgent')!.spec.externalLabels).toEqual({cluster: c.name})
      }
    }
  }, 120_000)
})
