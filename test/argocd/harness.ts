/**
 * Argo CD test fleet: four Kubernetes API test servers (cluster-01 central, cluster-02..04 edges), one
 * kubeconfig with a context per cluster, the example inventory pointed at them, its GitOps repo rendered,
 * and an install manifest written for the tests in the shape of Argo CD's (not a copy of it).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'
import {exampleInventory} from '../support/inventory.js'
import {platformTls} from '../support/platform-tls.js'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {gitDir} from '../../src/lib/config/model.js'
import {renderRepo} from '../../src/lib/gitops/index.js'
import {Resources} from '../../src/lib/engine/index.js'
import type {RunContext, TaskIO} from '../../src/lib/engine/types.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'

export const VERSION = 'v3.1.9'
export const CLUSTERS = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
export const INITIAL_PASSWORD = 'initial-Pw-for-tests-8c1e'

export interface Fleet {
  dir: string
  servers: KubeServer[]
  central: KubeServer
  edges: KubeServer[]
  byName: Record<string, KubeServer>
  kubeconfig: string
  inv: LoadedInventory
  stop(): Promise<void>
}

export async function startFleet(opts: {centralNodes?: number; edit?: (yaml: string) => string} = {}): Promise<Fleet> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-argocd-'))
  const servers = await startKubeServers(CLUSTERS, {tokenControllerDelayMs: 30})
  const [central, ...edges] = servers as [KubeServer, ...KubeServer[]]
  for (let i = 0; i < (opts.centralNodes ?? 1); i++) central.addReadyNode(`cluster-01-node-${i + 1}`)
  const kubeconfig = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), servers)
  let text = exampleInventory(Object.fromEntries(servers.map((s) => [`clusters.${s.name}.apiServer`, s.url])))
  if (opts.edit) text = opts.edit(text)
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, text)
  const inv = loadInventory(file)
  await renderRepo(inv.platform, {dir: gitDir(inv.platform, inv.dir), inventoryDir: inv.dir})
  const byName = Object.fromEntries(servers.map((s) => [s.name, s]))
  return {
    dir,
    servers,
    central,
    edges,
    byName,
    kubeconfig,
    inv,
    async stop() {
      await stopKubeServers(servers)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** A run context over the fleet (phases' own options go to their factories). */
export function runContext(fleet: Fleet, signal = new AbortController().signal): {ctx: RunContext; resources: Resources} {
  const resources = new Resources()
  const ctx: RunContext = {
    inv: fleet.inv,
    platform: fleet.inv.platform,
    stateDir: path.join(fleet.inv.dir, '.obsctl'),
    runId: `test-${Date.now()}`,
    dryRun: false,
    signal,
    kubeconfig: fleet.kubeconfig,
    ssh: {},
    resources,
  }
  return {ctx, resources}
}

export function taskIO(lines: string[], signal = new AbortController().signal): TaskIO {
  return {log: (l) => lines.push(l), logFile: '/dev/null', signal}
}

// ------------------------------------------------------------------ a manifest shaped like Argo CD's

const labels = (name: string, component: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'argocd',
})

function crd(plural: string, kind: string, shortNames: string[]): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${plural}.argoproj.io`, labels: {'app.kubernetes.io/name': `${plural}.argoproj.io`, 'app.kubernetes.io/part-of': 'argocd'}},
    spec: {
      group: 'argoproj.io',
      names: {kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames},
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: plural === 'applications' ? undefined : {},
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['metadata', 'spec'],
              properties: {
                apiVersion: {type: 'string'},
                kind: {type: 'string'},
                metadata: {type: 'object'},
                spec: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
                status: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
                ...(plural === 'applications' ? {operation: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}} : {}),
              },
            },
          },
        },
      ],
    },
  }
}

function workload(kind: 'Deployment' | 'StatefulSet', name: string, image: string, replicas = 1): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {name, labels: labels(name, name.replace('argocd-', ''))},
    spec: {
      replicas,
      ...(kind === 'StatefulSet' ? {serviceName: name} : {}),
      selector: {matchLabels: {'app.kubernetes.io/name': name}},
      template: {
        metadata: {labels: {'app.kubernetes.io/name': name}},
        spec: {serviceAccountName: name, containers: [{name: name.replace('argocd-', ''), image, ports: [{containerPort: 8080}]}]},
      },
    },
  }
}

/** An install.yaml with the shape of Argo CD's: CRDs, RBAC, ConfigMaps, Secrets, Services, Deployments, StatefulSet(s). */
export function argocdManifest(version: string, variant: 'ha' | 'non-ha', imageVersion = version): string {
  const image = `quay.io/argoproj/argocd:${imageVersion}`
  const redis = 'public.ecr.aws/docker/library/redis:7.2.7-alpine'
  const docs: Record<string, unknown>[] = [
    crd('applications', 'Application', ['app', 'apps']),
    crd('applicationsets', 'ApplicationSet', ['appset', 'appsets']),
    crd('appprojects', 'AppProject', ['appproj', 'appprojs']),
  ]
  const components = ['argocd-application-controller', 'argocd-server', 'argocd-repo-server', 'argocd-redis']
  for (const c of components) docs.push({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: c, labels: labels(c, c)}})
  docs.push(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: 'argocd-application-controller', labels: labels('argocd-application-controller', 'application-controller')},
      rules: [
        {apiGroups: ['*'], resources: ['*'], verbs: ['*']},
        {nonResourceURLs: ['*'], verbs: ['*']},
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: 'argocd-application-controller'},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'argocd-application-controller'},
      subjects: [{kind: 'ServiceAccount', name: 'argocd-application-controller', namespace: 'argocd'}],
    },
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'argocd-cm', labels: labels('argocd-cm', 'config')}},
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'argocd-cmd-params-cm', labels: labels('argocd-cmd-params-cm', 'config')}},
    {apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: {name: 'argocd-secret', labels: labels('argocd-secret', 'config')}},
    // the real install has argocd-server generate this one; the test manifest carries it
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {name: 'argocd-initial-admin-secret'},
      data: {password: Buffer.from(INITIAL_PASSWORD).toString('base64')},
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'argocd-server'},
      spec: {
        selector: {'app.kubernetes.io/name': 'argocd-server'},
        ports: [
          {name: 'http', port: 80, targetPort: 8080},
          {name: 'https', port: 443, targetPort: 8080},
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'argocd-repo-server'},
      spec: {selector: {'app.kubernetes.io/name': 'argocd-repo-server'}, ports: [{name: 'server', port: 8081, targetPort: 8081}]},
    },
    workload('Deployment', 'argocd-server', image, variant === 'ha' ? 2 : 1),
    workload('Deployment', 'argocd-repo-server', image, variant === 'ha' ? 2 : 1),
    workload('StatefulSet', 'argocd-application-controller', image),
  )
  if (variant === 'ha') {
    docs.push(
      workload('Deployment', 'argocd-redis-ha-haproxy', 'ecr-public.aws.com/docker/library/haproxy:3.0.8-alpine', 3),
      workload('StatefulSet', 'argocd-redis-ha-server', redis, 3),
    )
  } else {
    docs.push(workload('Deployment', 'argocd-redis', redis))
  }
  return `# Argo CD ${version} (${variant}) — test manifest written for obsctl's tests\n${docs.map((d) => stringify(d)).join('---\n')}`
}

export function writeManifest(dir: string, variant: 'ha' | 'non-ha' = 'non-ha', imageVersion = VERSION): string {
  const file = path.join(dir, `install-${variant}.yaml`)
  writeFileSync(file, argocdManifest(VERSION, variant, imageVersion))
  return file
}

/**
 * A loopback HTTPS server answering the release URL paths with test manifests (the "GitHub" of the tests; obsctl
 * fetches a manifest over verified https only): its certificate is for 127.0.0.1 from a CA of its own, `ca`.
 * `redirects`: path → Location answered with 302 (a mirror that moved, or one that sends obsctl to plain http).
 */
export async function manifestServer(redirects: Record<string, string> = {}): Promise<{url: string; ca: string; requests: string[]; close(): Promise<void>}> {
  const requests: string[] = []
  const tls = await platformTls(mkdtempSync(path.join(tmpdir(), 'obsctl-manifest-ca-')))
  const server: Server = createHttpsServer({cert: tls.cert, key: tls.key}, (req, res) => {
    requests.push(req.url ?? '')
    const to = redirects[req.url ?? '']
    if (to) {
      res.writeHead(302, {location: to}).end()
      return
    }
    const m = /^\/argoproj\/argo-cd\/(v[\d.]+)\/manifests\/(ha\/)?install\.yaml$/.exec(req.url ?? '')
    if (!m) {
      res.writeHead(404).end('404: Not Found')
      return
    }
    res.writeHead(200, {'content-type': 'text/plain'}).end(argocdManifest(m[1]!, m[2] ? 'ha' : 'non-ha'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {url: `https://127.0.0.1:${port}`, ca: tls.ca, requests, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

/** A plain-http listener that records every request reaching it (where nothing must arrive). */
export async function plainRecorder(): Promise<{url: string; requests: string[]; close(): Promise<void>}> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, {'content-type': 'text/plain'}).end(argocdManifest(VERSION, 'non-ha'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

/** Play the workload controllers on a server: every Deployment/StatefulSet in `ns` gets rolled-out status. */
export function autoRollout(server: KubeServer, ns = 'argocd', everyMs = 30): () => void {
  const t = setInterval(() => {
    for (const kind of ['deployments', 'statefulsets']) {
      let list: {metadata: {name: string; generation?: number}; status?: {observedGeneration?: number}}[] = []
      try {
        list = server.listObjects(kind, ns) as typeof list
      } catch {
        continue
      }
      for (const o of list) if ((o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1)) server.markRolledOut(kind, ns, o.metadata.name)
    }
  }, everyMs)
  return () => clearInterval(t)
}
