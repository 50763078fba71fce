/** One test per API-server behaviour the other issues rely on (raw HTTPS, asserting the Status bodies). */
import {readFileSync} from 'node:fs'
import {request} from 'node:https'
import {join} from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startKubeServer, startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {call, tempDir, until, widgetCrd} from './fixtures.js'
import type {Loose} from '../support/kube/store.js'

const DEPLOY = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {name: 'web', namespace: 'demo'},
  spec: {
    replicas: 2,
    selector: {matchLabels: {app: 'web'}},
    template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'web', image: 'nginx:1.27'}]}},
  },
}

describe('kube test server behaviours', () => {
  let kube: KubeServer
  let tmp: ReturnType<typeof tempDir>

  beforeAll(async () => {
    tmp = tempDir()
    kube = await startKubeServer({name: 'behaviours', tokenControllerDelayMs: 5})
    kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'demo'}})
  })
  afterAll(async () => {
    await kube?.stop()
    tmp?.cleanup()
  })

  it('409 Conflict on an update with a stale resourceVersion', async () => {
    const created = await call(kube, 'POST', '/api/v1/namespaces/demo/configmaps', {metadata: {name: 'occ'}, data: {a: '1'}})
    expect(created.status).toBe(201)
    const stale = created.json.metadata.resourceVersion
    const first = await call(kube, 'PUT', '/api/v1/namespaces/demo/configmaps/occ', {...created.json, data: {a: '2'}})
    expect(first.status).toBe(200)
    expect(Number(first.json.metadata.resourceVersion)).toBeGreaterThan(Number(stale))
    const second = await call(kube, 'PUT', '/api/v1/namespaces/demo/configmaps/occ', {...created.json, data: {a: '3'}})
    expect(second.status).toBe(409)
    expect(second.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    })
  })

  it('server-side apply: a second manager conflicts (409 with managers and fields), force takes ownership', async () => {
    const path = '/apis/apps/v1/namespaces/demo/deployments/web'
    const ssa = {contentType: 'application/apply-patch+yaml'}
    const a = await call(kube, 'PATCH', `${path}?fieldManager=team-a`, DEPLOY, ssa)
    expect(a.status).toBe(201)
    const b = await call(kube, 'PATCH', `${path}?fieldManager=team-b`, {...DEPLOY, spec: {...DEPLOY.spec, replicas: 5}}, ssa)
    expect(b.status).toBe(409)
    expect(b.json.reason).toBe('Conflict')
    expect(b.json.message).toBe('Apply failed with 1 conflict: conflict with "team-a" using apps/v1: .spec.replicas')
    expect(b.json.details.causes).toEqual([{type: 'FieldManagerConflict', message: 'conflict with "team-a" using apps/v1', field: '.spec.replicas'}])
    // same value: shared ownership, no conflict
    const same = await call(
      kube,
      'PATCH',
      `${path}?fieldManager=team-c`,
      {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web'}, spec: {replicas: 2}},
      ssa,
    )
    expect(same.status).toBe(200)
    const forced = await call(
      kube,
      'PATCH',
      `${path}?fieldManager=team-b&force=true`,
      {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web'}, spec: {replicas: 5}},
      ssa,
    )
    expect(forced.status).toBe(200)
    expect(forced.json.spec.replicas).toBe(5)
    expect(forced.json.metadata.generation).toBe(2)
    const owners = Object.fromEntries(forced.json.metadata.managedFields.map((m: Loose) => [m.manager, m.fieldsV1]))
    expect(owners['team-b']).toEqual({'f:spec': {'f:replicas': {}}})
    expect(owners['team-a']['f:spec']['f:replicas']).toBeUndefined()
    expect(owners['team-c']).toBeUndefined() // lost its only field to the forced apply
    // team-a re-applies without a label it applied before: the label goes away
    const withLabel = await call(
      kube,
      'PATCH',
      `${path}?fieldManager=team-a`,
      {...DEPLOY, metadata: {...DEPLOY.metadata, labels: {tier: 'front'}}, spec: {...DEPLOY.spec, replicas: undefined}},
      ssa,
    )
    expect(withLabel.json.metadata.labels).toEqual({tier: 'front'})
    const without = await call(kube, 'PATCH', `${path}?fieldManager=team-a`, {...DEPLOY, spec: {...DEPLOY.spec, replicas: undefined}}, ssa)
    expect(without.json.metadata.labels).toBeUndefined()
    expect(without.json.spec.replicas).toBe(5)
  })

  it('status subresource isolation and generation bumps only on spec changes', async () => {
    const path = '/apis/apps/v1/namespaces/demo/deployments/iso'
    const created = await call(kube, 'POST', '/apis/apps/v1/namespaces/demo/deployments', {...DEPLOY, metadata: {name: 'iso'}, status: {replicas: 99}})
    expect(created.json.status).toBeUndefined()
    expect(created.json.metadata.generation).toBe(1)
    const st = await call(kube, 'PUT', `${path}/status`, {...created.json, spec: {...created.json.spec, replicas: 7}, status: {replicas: 2, readyReplicas: 2}})
    expect(st.status).toBe(200)
    expect(st.json.spec.replicas).toBe(2)
    expect(st.json.status).toEqual({replicas: 2, readyReplicas: 2})
    expect(st.json.metadata.generation).toBe(1)
    const main = await call(kube, 'PUT', path, {...st.json, spec: {...st.json.spec, replicas: 3}, status: {replicas: 0}})
    expect(main.json.status).toEqual({replicas: 2, readyReplicas: 2})
    expect(main.json.spec.replicas).toBe(3)
    expect(main.json.metadata.generation).toBe(2)
    const merge = await call(kube, 'PATCH', `${path}/status`, {status: {availableReplicas: 2}}, {contentType: 'application/merge-patch+json'})
    expect(merge.json.status).toEqual({replicas: 2, readyReplicas: 2, availableReplicas: 2})
    expect(merge.json.metadata.managedFields.find((m: Loose) => m.subresource === 'status')).toBeTruthy()
    const rolled = kube.markRolledOut('Deployment', 'demo', 'iso')
    expect(rolled.status).toMatchObject({observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3})
  })

  it('CRD: kind served after create (discovery), 422 Invalid on schema violations, unknown fields pruned or kept', async () => {
    const crd = await call(kube, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd())
    expect(crd.status).toBe(201)
    expect(crd.json.status.conditions.map((c: Loose) => c.type)).toEqual(['NamesAccepted', 'Established'])
    const disc = await call(kube, 'GET', '/apis/example.com/v1')
    expect(disc.json.resources[0]).toMatchObject({name: 'widgets', kind: 'Widget', namespaced: true, shortNames: ['wd']})
    const groups = await call(kube, 'GET', '/apis')
    expect(groups.json.groups.map((g: Loose) => g.name)).toContain('example.com')
    const wrongType = await call(kube, 'POST', '/apis/example.com/v1/namespaces/demo/widgets', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: {name: 'w'},
      spec: {size: 'big'},
    })
    expect(wrongType.status).toBe(422)
    expect(wrongType.json).toMatchObject({
      reason: 'Invalid',
      message: 'Widget.example.com "w" is invalid: spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
      details: {name: 'w', group: 'example.com', kind: 'Widget', causes: [{reason: 'FieldValueInvalid', field: 'spec.size'}]},
    })
    const missing = await call(kube, 'POST', '/apis/example.com/v1/namespaces/demo/widgets', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: {name: 'w'},
      spec: {color: 'red'},
    })
    expect(missing.json).toMatchObject({code: 422, details: {causes: [{reason: 'FieldValueRequired', field: 'spec.size', message: 'Required value'}]}})
    const ok = await call(kube, 'POST', '/apis/example.com/v1/namespaces/demo/widgets', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: {name: 'w'},
      spec: {size: 1, bogus: true, extra: {free: {form: 1}}},
    })
    expect(ok.status).toBe(201)
    expect(ok.json.spec).toEqual({size: 1, extra: {free: {form: 1}}})
    expect(String(ok.headers.warning)).toContain('unknown field \\"spec.bogus\\"')
    const strict = await call(kube, 'POST', '/apis/example.com/v1/namespaces/demo/widgets?fieldValidation=Strict', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: {name: 'w2'},
      spec: {size: 1, bogus: true},
    })
    expect(strict.status).toBe(400)
    // update validates too
    const upd = await call(kube, 'PUT', '/apis/example.com/v1/namespaces/demo/widgets/w', {...ok.json, spec: {size: 'x'}})
    expect(upd.status).toBe(422)
    // deleting the CRD removes the kind and its objects
    expect((await call(kube, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).status).toBe(200)
    expect((await call(kube, 'GET', '/apis/example.com/v1/namespaces/demo/widgets/w')).status).toBe(404)
    expect(kube.listObjects('customresourcedefinitions').length).toBe(0)
  })

  it('token controller fills kubernetes.io/service-account-token Secrets; the token authenticates and RBAC applies', async () => {
    kube.seed({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'argocd-manager', namespace: 'kube-system'}})
    const s = await call(kube, 'POST', '/api/v1/namespaces/kube-system/secrets', {
      metadata: {name: 'argocd-manager-long-lived-token', annotations: {'kubernetes.io/service-account.name': 'argocd-manager'}},
      type: 'kubernetes.io/service-account-token',
    })
    expect(s.status).toBe(201)
    expect(s.json.data).toBeUndefined()
    const filled = await until(
      () =>
        kube.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token')?.data?.token &&
        kube.getObject('secrets', 'kube-system', 'argocd-manager-long-lived-token'),
    )
    const dec = (k: string) => Buffer.from(filled.data[k], 'base64').toString('utf8')
    expect(dec('namespace')).toBe('kube-system')
    expect(dec('ca.crt')).toBe(kube.caPem)
    expect(filled.metadata.annotations['kubernetes.io/service-account.uid']).toBe(
      kube.getObject('serviceaccounts', 'kube-system', 'argocd-manager')?.metadata.uid,
    )
    const token = dec('token')
    const denied = await call(kube, 'GET', '/api/v1/namespaces', undefined, {token})
    expect(denied.status).toBe(403)
    expect(denied.json.message).toBe(
      'namespaces is forbidden: User "system:serviceaccount:kube-system:argocd-manager" cannot list resource "namespaces" in API group "" at the cluster scope',
    )
    kube.seed(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {name: 'argocd-manager-role'},
        rules: [
          {apiGroups: ['*'], resources: ['*'], verbs: ['*']},
          {nonResourceURLs: ['*'], verbs: ['*']},
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: {name: 'argocd-manager-role-binding'},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'argocd-manager-role'},
        subjects: [{kind: 'ServiceAccount', name: 'argocd-manager', namespace: 'kube-system'}],
      },
    )
    expect((await call(kube, 'GET', '/api/v1/namespaces', undefined, {token})).status).toBe(200)
    await call(kube, 'DELETE', '/api/v1/namespaces/kube-system/secrets/argocd-manager-long-lived-token')
    expect((await call(kube, 'GET', '/api/v1/namespaces', undefined, {token})).status).toBe(401)
  })

  it('TokenRequest (serviceaccounts/<name>/token) returns a token for that ServiceAccount', async () => {
    kube.seed({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'scraper', namespace: 'demo'}})
    const r = await call(kube, 'POST', '/api/v1/namespaces/demo/serviceaccounts/scraper/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {audiences: ['obsctl'], expirationSeconds: 600},
    })
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: {audiences: ['obsctl'], expirationSeconds: 600}})
    const claims = JSON.parse(Buffer.from(r.json.status.token.split('.')[1], 'base64url').toString())
    expect(claims).toMatchObject({
      sub: 'system:serviceaccount:demo:scraper',
      aud: ['obsctl'],
      'kubernetes.io': {namespace: 'demo', serviceaccount: {name: 'scraper'}},
    })
    expect(Date.parse(r.json.status.expirationTimestamp) - Date.now()).toBeGreaterThan(500_000)
    // authenticated (403, not 401) until RBAC grants something
    expect((await call(kube, 'GET', '/api/v1/nodes', undefined, {token: r.json.status.token})).status).toBe(403)
    const none = await call(kube, 'POST', '/api/v1/namespaces/demo/serviceaccounts/nobody/token', {spec: {}})
    expect(none.json).toMatchObject({code: 404, reason: 'NotFound', message: 'serviceaccounts "nobody" not found'})
  })

  it('label and field selectors on lists (metadata.name, metadata.namespace, type)', async () => {
    kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'other'}})
    kube.seed(
      {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'a', namespace: 'demo', labels: {app: 'x', tier: 'db'}}, type: 'Opaque'},
      {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'b', namespace: 'demo', labels: {app: 'y'}}, type: 'kubernetes.io/tls'},
      {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'a', namespace: 'other', labels: {app: 'x'}}},
    )
    const names = async (p: string) => (await call(kube, 'GET', p)).json.items.map((o: Loose) => `${o.metadata.namespace}/${o.metadata.name}`)
    expect(await names('/api/v1/secrets?labelSelector=app%3Dx')).toEqual(['demo/a', 'other/a'])
    expect(await names('/api/v1/secrets?labelSelector=app%20in%20(x,y),!tier')).toEqual(['demo/b', 'other/a'])
    expect(await names('/api/v1/secrets?fieldSelector=metadata.name%3Da,metadata.namespace%3Dother')).toEqual(['other/a'])
    expect(await names('/api/v1/namespaces/demo/secrets?fieldSelector=type%3Dkubernetes.io/tls')).toEqual(['demo/b'])
    expect(await names('/api/v1/namespaces/demo/secrets?labelSelector=app&fieldSelector=metadata.name!%3Da')).toEqual(['demo/b'])
    const page = await call(kube, 'GET', '/api/v1/secrets?labelSelector=app&limit=2')
    expect(page.json.items.length).toBe(2)
    const rest = await call(kube, 'GET', `/api/v1/secrets?labelSelector=app&limit=2&continue=${page.json.metadata.continue}`)
    expect(rest.json.items.length).toBe(1)
  })

  it('watch from a resourceVersion replays later events only, with selectors', async () => {
    kube.seed({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'before', namespace: 'demo', labels: {w: '1'}}})
    const rv = (await call(kube, 'GET', '/api/v1/namespaces/demo/configmaps')).json.metadata.resourceVersion
    kube.seed({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'after', namespace: 'demo', labels: {w: '1'}}, data: {k: 'v'}})
    kube.seed({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'unlabelled', namespace: 'demo'}})
    const lines: Loose[] = []
    const req = request(
      new URL(`/api/v1/namespaces/demo/configmaps?watch=true&labelSelector=w%3D1&resourceVersion=${rv}`, kube.url),
      {ca: kube.caPem, headers: {Authorization: `Bearer ${kube.credentials().token}`}},
      (res) => {
        let buf = ''
        res.on('data', (c: Buffer) => {
          buf += c.toString()
          let i
          while ((i = buf.indexOf('\n')) >= 0) {
            lines.push(JSON.parse(buf.slice(0, i)))
            buf = buf.slice(i + 1)
          }
        })
      },
    )
    req.end()
    await until(() => lines.length >= 1)
    await call(kube, 'PATCH', '/api/v1/namespaces/demo/configmaps/before', {metadata: {labels: {w: null}}}, {contentType: 'application/merge-patch+json'})
    await call(kube, 'DELETE', '/api/v1/namespaces/demo/configmaps/after')
    await until(() => lines.length >= 3)
    req.destroy()
    expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['ADDED after', 'DELETED before', 'DELETED after'])
    expect(Number(lines[2].object.metadata.resourceVersion)).toBeGreaterThan(Number(lines[0].object.metadata.resourceVersion))
  })

  it('objects in a namespace need the namespace to exist (404 NotFound for the namespace)', async () => {
    const r = await call(kube, 'POST', '/api/v1/namespaces/ghost/configmaps', {metadata: {name: 'x'}})
    expect(r.status).toBe(404)
    expect(r.json).toMatchObject({kind: 'Status', reason: 'NotFound', message: 'namespaces "ghost" not found', details: {name: 'ghost', kind: 'namespaces'}})
    const ssa = await call(
      kube,
      'PATCH',
      '/api/v1/namespaces/ghost/configmaps/x?fieldManager=t',
      {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'}},
      {contentType: 'application/apply-patch+yaml'},
    )
    expect(ssa.status).toBe(404)
  })

  it('failNext: an injected status, then a dropped connection, then normal service; everything is in the request log', async () => {
    kube.failNext('/api/v1/namespaces/demo/configmaps', 1, {status: 503, retryAfterSeconds: 1})
    kube.failNext(/\/configmaps/, 1, {dropConnection: true})
    const first = await call(kube, 'GET', '/api/v1/namespaces/demo/configmaps')
    expect(first.status).toBe(503)
    expect(first.json.reason).toBe('ServiceUnavailable')
    expect(first.headers['retry-after']).toBe('1')
    await expect(call(kube, 'GET', '/api/v1/namespaces/demo/configmaps')).rejects.toThrow(/socket hang up|ECONNRESET/)
    expect((await call(kube, 'GET', '/api/v1/namespaces/demo/configmaps')).status).toBe(200)
    const log = kube.requestLog.filter((e) => e.path === '/api/v1/namespaces/demo/configmaps' && e.method === 'GET').slice(-3)
    expect(log.map((e) => e.status)).toEqual([503, -1, 200])
    expect(log[2]).toMatchObject({user: 'admin', verb: 'list'})
  })

  it('proxy subresources reach registered handlers (services, pods, nodes/<name>/proxy/metrics)', async () => {
    kube.seed({apiVersion: 'v1', kind: 'Service', metadata: {name: 'prometheus-operated', namespace: 'demo'}, spec: {ports: [{name: 'web', port: 9090}]}})
    kube.seed({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'fluent-bit-x', namespace: 'demo'}, spec: {containers: [{name: 'fb', image: 'fluent-bit'}]}})
    kube.addReadyNode('node-1', {'node-role.kubernetes.io/control-plane': ''})
    const unanswered = await call(kube, 'GET', '/api/v1/namespaces/demo/services/prometheus-operated:9090/proxy/api/v1/query?query=up')
    expect(unanswered.status).toBe(503)
    kube.onProxy('services/demo/prometheus-operated:9090', (r) => ({body: {status: 'success', data: {path: r.path, query: r.query.get('query')}}}))
    kube.onProxy('pods/demo/fluent-bit-x:2020', () => ({body: 'ok'}))
    kube.onProxy('nodes/node-1', (r) => ({body: `# metrics for ${r.path}\nup 1\n`}))
    const svc = await call(kube, 'GET', '/api/v1/namespaces/demo/services/prometheus-operated:9090/proxy/api/v1/query?query=up')
    expect(svc.json).toEqual({status: 'success', data: {path: '/api/v1/query', query: 'up'}})
    expect((await call(kube, 'GET', '/api/v1/namespaces/demo/pods/fluent-bit-x:2020/proxy/api/v1/health')).text).toBe('ok')
    expect((await call(kube, 'GET', '/api/v1/nodes/node-1/proxy/metrics')).text).toContain('# metrics for /metrics')
    expect((await call(kube, 'GET', '/api/v1/namespaces/demo/services/nope:80/proxy/')).status).toBe(404)
  })

  it('controller helpers: DaemonSet/StatefulSet rolled out, Ready nodes, Argo CD Application status', async () => {
    const node = kube.getObject('nodes', undefined, 'node-1')
    expect(node?.status.conditions.find((c: Loose) => c.type === 'Ready').status).toBe('True')
    kube.seed({apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'fb', namespace: 'demo'}, spec: {selector: {matchLabels: {a: 'b'}}, template: {}}})
    expect(kube.markRolledOut('daemonsets', 'demo', 'fb').status).toMatchObject({
      desiredNumberScheduled: 1,
      numberReady: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      observedGeneration: 1,
    })
    kube.seed({apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'os', namespace: 'demo'}, spec: {replicas: 3, selector: {}, template: {}}})
    expect(kube.markRolledOut('sts', 'demo', 'os').status).toMatchObject({replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3})
    kube.seed({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {name: 'applications.argoproj.io'},
      spec: {
        group: 'argoproj.io',
        scope: 'Namespaced',
        names: {plural: 'applications', singular: 'application', kind: 'Application', shortNames: ['app', 'apps']},
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
                  status: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
                },
              },
            },
          },
        ],
      },
    })
    kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
    kube.seed({apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {name: 'root', namespace: 'argocd'}, spec: {project: 'default'}})
    kube.setApplicationStatus('argocd', 'root', {sync: 'Synced', health: 'Healthy'})
    const app = await call(kube, 'GET', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root')
    expect(app.json.status).toMatchObject({sync: {status: 'Synced'}, health: {status: 'Healthy'}})
  })

  it('merge patch, JSON patch, 405 MethodNotAllowed, 401 without credentials', async () => {
    kube.seed({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'p', namespace: 'demo'}, data: {a: '1', b: '2'}})
    const m = await call(kube, 'PATCH', '/api/v1/namespaces/demo/configmaps/p', {data: {a: null, c: '3'}}, {contentType: 'application/merge-patch+json'})
    expect(m.json.data).toEqual({b: '2', c: '3'})
    const j = await call(kube, 'PATCH', '/api/v1/namespaces/demo/configmaps/p', [{op: 'replace', path: '/data/b', value: '9'}], {
      contentType: 'application/json-patch+json',
    })
    expect(j.json.data).toEqual({b: '9', c: '3'})
    const s = await call(kube, 'PATCH', '/api/v1/namespaces/demo/configmaps/p', {data: {d: '4'}}, {contentType: 'application/strategic-merge-patch+json'})
    expect(s.json.data).toEqual({b: '9', c: '3', d: '4'})
    expect((await call(kube, 'PUT', '/api/v1/namespaces/demo/configmaps', {})).json).toMatchObject({code: 405, reason: 'MethodNotAllowed'})
    expect((await call(kube, 'GET', '/api/v1/namespaces', undefined, {token: 'wrong'})).json).toMatchObject({code: 401, reason: 'Unauthorized'})
  })
})

describe('a fleet of test servers', () => {
  it('startKubeServers: one server per cluster, each with its own CA, one kubeconfig with a context each', async () => {
    const tmp = tempDir()
    const fleet = await startKubeServers(['cluster-01', 'cluster-02', 'cluster-03'])
    try {
      expect(new Set(fleet.map((s) => s.caPem)).size).toBe(3)
      expect(new Set(fleet.map((s) => s.url)).size).toBe(3)
      const path = writeFleetKubeconfig(join(tmp.dir, 'config'), fleet)
      const cfg = parse(readFileSync(path, 'utf8'))
      expect(cfg.contexts.map((c: Loose) => c.name)).toEqual(['cluster-01-context', 'cluster-02-context', 'cluster-03-context'])
      expect(cfg['current-context']).toBe('cluster-01-context')
      // a token of one cluster is not valid on another
      expect((await call(fleet[1], 'GET', '/api/v1/namespaces', undefined, {token: fleet[0].credentials().token})).status).toBe(401)
      // a client must trust the right CA
      await expect(
        call({...fleet[1], url: fleet[1].url, caPem: fleet[0].caPem, credentials: (u?: string) => fleet[1].credentials(u)}, 'GET', '/version'),
      ).rejects.toThrow(/certificate/)
    } finally {
      await stopKubeServers(fleet)
      tmp.cleanup()
    }
  })
})
