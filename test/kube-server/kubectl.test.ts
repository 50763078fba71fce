/**
 * Fidelity: the real kubectl (v1.32 here) against the test server. Skipped LOUDLY when no
 * kubectl is installed (.ci/run installs Debian's kubernetes-client so CI always runs these).
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startKubeServer, type KubeServer} from '../support/kube/index.js'
import {KUBECTL, kubectl, MULTI_DOC, tempDir, writeFile} from './fixtures.js'

if (!KUBECTL)
  console.warn(
    '\n!!! kubectl is not installed: the kube test server fidelity tests against real kubectl are SKIPPED. Install Debian package kubernetes-client. !!!\n',
  )

describe.skipIf(!KUBECTL)(
  KUBECTL ? 'kube test server with real kubectl' : 'kube test server with real kubectl — SKIPPED: kubectl not on PATH (apt-get install kubernetes-client)',
  () => {
    let kube: KubeServer
    let tmp: ReturnType<typeof tempDir>
    let admin: string
    let adminCert: string
    let viewer: string

    beforeAll(async () => {
      tmp = tempDir()
      kube = await startKubeServer({
        name: 'cluster-01',
        users: [{name: 'viewer', rules: [{verbs: ['get', 'list', 'watch'], resources: ['namespaces', 'configmaps']}]}],
      })
      admin = kube.writeKubeconfig(join(tmp.dir, 'admin.kubeconfig'))
      adminCert = kube.writeKubeconfig(join(tmp.dir, 'admin-cert.kubeconfig'), {auth: 'cert'})
      viewer = kube.writeKubeconfig(join(tmp.dir, 'viewer.kubeconfig'), {user: 'viewer'})
    })
    afterAll(async () => {
      await kube?.stop()
      tmp?.cleanup()
    })

    it('kubectl version and get namespaces (token and client certificate)', async () => {
      const v = await kubectl(tmp.dir, admin, ['version', '-o', 'json'])
      expect(v.exitCode, v.stderr).toBe(0)
      expect(JSON.parse(v.stdout).serverVersion.gitVersion).toBe('v1.32.0')
      for (const cfg of [admin, adminCert]) {
        const r = await kubectl(tmp.dir, cfg, ['get', 'namespaces'])
        expect(r.exitCode, r.stderr).toBe(0)
        expect(r.stdout).toMatch(/^NAME\s+STATUS\s+AGE/)
        expect(r.stdout).toMatch(/kube-system\s+Active/)
      }
    })

    it('kubectl create namespace (protobuf body) then the namespace is listed', async () => {
      const r = await kubectl(tmp.dir, admin, ['create', 'namespace', 'demo'])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('namespace/demo created')
      const again = await kubectl(tmp.dir, admin, ['create', 'namespace', 'demo'])
      expect(again.exitCode).toBe(1)
      expect(again.stderr).toContain('Error from server (AlreadyExists): namespaces "demo" already exists')
      expect(kube.getObject('Namespace', undefined, 'demo')?.status?.phase).toBe('Active')
    })

    it('apply --server-side of a CRD + CR file, wait Established, get -o json, delete', async () => {
      const file = writeFile(tmp.dir, 'multi.yaml', MULTI_DOC)
      // as against a real cluster: the CR's kind is unknown until its CRD exists
      const first = await kubectl(tmp.dir, admin, ['apply', '--server-side', '-f', file])
      expect(first.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied')
      expect(first.stdout).toContain('configmap/settings serverside-applied')
      expect(first.stderr).toContain('ensure CRDs are installed first')

      const wait = await kubectl(tmp.dir, admin, ['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=20s'])
      expect(wait.exitCode, wait.stderr).toBe(0)
      expect(wait.stdout).toContain('condition met')

      const second = await kubectl(tmp.dir, admin, ['apply', '--server-side', '-f', file])
      expect(second.exitCode, second.stderr).toBe(0)
      expect(second.stdout).toContain('widget.example.com/w1 serverside-applied')

      const got = await kubectl(tmp.dir, admin, ['get', 'widget', 'w1', '-n', 'demo', '-o', 'json'])
      expect(got.exitCode, got.stderr).toBe(0)
      const w = JSON.parse(got.stdout)
      expect(w).toMatchObject({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: {name: 'w1', namespace: 'demo', generation: 1},
        spec: {size: 3, color: 'blue'},
      })
      expect(w.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
      expect(kube.getObject('widgets.example.com', 'demo', 'w1')?.metadata.managedFields[0]).toMatchObject({manager: 'kubectl', operation: 'Apply'})

      const short = await kubectl(tmp.dir, admin, ['get', 'wd', '-n', 'demo'])
      expect(short.stdout).toMatch(/^NAME\s+AGE\nw1\s+/)

      const del = await kubectl(tmp.dir, admin, ['delete', 'widget', 'w1', '-n', 'demo'])
      expect(del.exitCode, del.stderr).toBe(0)
      expect(del.stdout).toBe('widget.example.com "w1" deleted')
      const gone = await kubectl(tmp.dir, admin, ['get', 'widget', 'w1', '-n', 'demo'])
      expect(gone.stderr).toContain('Error from server (NotFound): widgets.example.com "w1" not found')

      const delCrd = await kubectl(tmp.dir, admin, ['delete', 'crd', 'widgets.example.com'])
      expect(delCrd.exitCode, delCrd.stderr).toBe(0)
      expect(kube.registry.all().some((t) => t.kind === 'Widget')).toBe(false)
    })

    it('a schema violation comes back as 422 Invalid through kubectl', async () => {
      const file = writeFile(tmp.dir, 'crd.yaml', MULTI_DOC.split('---')[0])
      expect((await kubectl(tmp.dir, admin, ['apply', '--server-side', '-f', file])).exitCode).toBe(0)
      const bad = writeFile(tmp.dir, 'bad.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad, namespace: demo}\nspec: {size: big}\n')
      const r = await kubectl(tmp.dir, admin, ['apply', '--server-side', '-f', bad])
      expect(r.exitCode).toBe(1)
      expect(r.stderr).toContain('The Widget "bad" is invalid: spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"')
    })

    it('a request turned away with Retry-After (429, or 503 on a write) is sent again; a 429 without one is the error', async () => {
      // what obsctl's Kubernetes client does too (src/lib/platform/kube.ts sendThroughRetries): the reference is kubectl's
      kube.clearRequestLog()
      kube.failNext('/api/v1/namespaces', 1, {status: 429, retryAfterSeconds: 1, method: 'GET'})
      const listed = await kubectl(tmp.dir, admin, ['get', 'namespaces'])
      expect(listed.exitCode, listed.stderr).toBe(0)
      expect(kube.statusesOf('GET', '/api/v1/namespaces')).toEqual([429, 200])
      kube.failNext('/api/v1/namespaces', 1, {status: 503, retryAfterSeconds: 1, method: 'POST'})
      const created = await kubectl(tmp.dir, admin, ['create', 'namespace', 'turned-away'])
      expect(created.exitCode, created.stderr).toBe(0)
      expect(kube.statusesOf('POST', '/api/v1/namespaces')).toEqual([503, 201])
      kube.failNext('/api/v1/namespaces', 1, {status: 429, method: 'GET'})
      const refused = await kubectl(tmp.dir, admin, ['get', 'namespaces'])
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toContain('Error from server (TooManyRequests)')
    })

    it('a user without the verb gets Forbidden; its allowed verbs work', async () => {
      const ok = await kubectl(tmp.dir, viewer, ['get', 'configmaps', '-n', 'demo'])
      expect(ok.exitCode, ok.stderr).toBe(0)
      const r = await kubectl(tmp.dir, viewer, ['create', 'namespace', 'nope'])
      expect(r.exitCode).toBe(1)
      expect(r.stderr).toContain(
        'Error from server (Forbidden): namespaces is forbidden: User "viewer" cannot create resource "namespaces" in API group "" at the cluster scope',
      )
      const s = await kubectl(tmp.dir, viewer, ['get', 'secrets', '-n', 'kube-system'])
      expect(s.stderr).toContain('User "viewer" cannot list resource "secrets" in API group "" in the namespace "kube-system"')
    })

    it('kubectl create secret / serviceaccount / token and label selectors', async () => {
      expect((await kubectl(tmp.dir, admin, ['create', 'serviceaccount', 'robot', '-n', 'demo'])).exitCode).toBe(0)
      const sec = await kubectl(tmp.dir, admin, ['create', 'secret', 'generic', 's3', '-n', 'demo', '--from-literal=accessKey=AK'])
      expect(sec.exitCode, sec.stderr).toBe(0)
      expect(kube.getObject('secrets', 'demo', 's3')?.data).toEqual({accessKey: Buffer.from('AK').toString('base64')})
      const tok = await kubectl(tmp.dir, admin, ['create', 'token', 'robot', '-n', 'demo'])
      expect(tok.exitCode, tok.stderr).toBe(0)
      const claims = JSON.parse(Buffer.from(tok.stdout.split('.')[1], 'base64url').toString())
      expect(claims.sub).toBe('system:serviceaccount:demo:robot')
      const sel = await kubectl(tmp.dir, admin, ['get', 'configmaps', '-n', 'demo', '-l', 'app=demo', '-o', 'name'])
      expect(sel.stdout).toBe('configmap/settings')
    })
  },
)
