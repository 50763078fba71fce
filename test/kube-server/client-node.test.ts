/** Fidelity: @kubernetes/client-node 1.4 over the wire, the same scenario as with kubectl. */
import {join} from 'node:path'
import * as k8s from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {tempDir, until, widgetCrd} from './fixtures.js'
import type {Loose} from '../support/kube/store.js'

describe('kube test server with @kubernetes/client-node', () => {
  let kube: KubeServer
  let tmp: ReturnType<typeof tempDir>
  let kc: k8s.KubeConfig

  beforeAll(async () => {
    tmp = tempDir()
    kube = await startKubeServer({name: 'cluster-02'})
    kc = new k8s.KubeConfig()
    kc.loadFromFile(kube.writeKubeconfig(join(tmp.dir, 'kubeconfig'), {auth: 'cert'}))
  })
  afterAll(async () => {
    await kube?.stop()
    tmp?.cleanup()
  })

  it('CoreV1Api: create and read a namespace, list with a label selector, 404 and 409 as ApiException', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const ns = await core.createNamespace({body: {metadata: {name: 'demo', labels: {team: 'obs'}}}})
    expect(ns.metadata?.uid).toBeTruthy()
    expect(ns.status?.phase).toBe('Active')
    const list = await core.listNamespace({labelSelector: 'team=obs'})
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['demo'])
    await expect(core.readNamespace({name: 'missing'})).rejects.toMatchObject({code: 404})
    const dup = await core.createNamespace({body: {metadata: {name: 'demo'}}}).catch((e) => e)
    expect(dup).toBeInstanceOf(k8s.ApiException)
    expect(dup.code).toBe(409)
    expect(JSON.parse(dup.body)).toMatchObject({kind: 'Status', reason: 'AlreadyExists', code: 409})
  })

  it('KubernetesObjectApi: server-side apply of a CRD and a custom object, read, list, delete', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc)
    const crd = await objects.patch(widgetCrd() as k8s.KubernetesObject, undefined, undefined, 'obsctl', true, k8s.PatchStrategy.ServerSideApply)
    expect((crd as Loose).status.conditions.map((c: Loose) => `${c.type}=${c.status}`)).toEqual(['NamesAccepted=True', 'Established=True'])
    const w: k8s.KubernetesObject & {spec: unknown} = {apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w1', namespace: 'demo'}, spec: {size: 2}}
    const applied = await objects.patch(w, undefined, undefined, 'obsctl', true, k8s.PatchStrategy.ServerSideApply)
    expect(applied.metadata?.managedFields?.[0]).toMatchObject({manager: 'obsctl', operation: 'Apply', fieldsV1: {'f:spec': {'f:size': {}}}})
    const read = await objects.read({apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w1', namespace: 'demo'}})
    expect((read as Loose).spec).toEqual({size: 2})
    const listed = await objects.list('example.com/v1', 'Widget', 'demo')
    expect(listed.items.map((i) => i.metadata?.name)).toEqual(['w1'])
    await objects.delete(read)
    await expect(objects.read({apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w1', namespace: 'demo'}})).rejects.toMatchObject({code: 404})
    await objects.delete(crd)
    expect(kube.registry.all().some((t) => t.kind === 'Widget')).toBe(false)
  })

  it('Watch streams ADDED / MODIFIED / DELETED for configmaps', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const events: string[] = []
    const watch = new k8s.Watch(kc)
    const list = await core.listNamespacedConfigMap({namespace: 'demo'})
    const ctl = await watch.watch(
      '/api/v1/namespaces/demo/configmaps',
      {resourceVersion: list.metadata?.resourceVersion},
      (type, obj) => {
        events.push(`${type} ${obj.metadata.name} ${JSON.stringify(obj.data ?? {})}`)
      },
      () => undefined,
    )
    await core.createNamespacedConfigMap({namespace: 'demo', body: {metadata: {name: 'c1'}, data: {a: '1'}}})
    await core.patchNamespacedConfigMap(
      {namespace: 'demo', name: 'c1', body: {data: {a: '2'}}},
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )
    await core.deleteNamespacedConfigMap({namespace: 'demo', name: 'c1'})
    await until(() => events.length >= 3)
    ctl.abort()
    expect(events).toEqual(['ADDED c1 {"a":"1"}', 'MODIFIED c1 {"a":"2"}', 'DELETED c1 {"a":"2"}'])
  })
})
