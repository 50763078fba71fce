/** The `argocd` phase / `argocd install` against the Kubernetes API test servers. */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {argocdInstall, argocdPhase, chooseVariant, checkManifest, installArgocd, loadManifest, manifestUrl, parseObjects} from '../../src/lib/argocd/index.js'
import {Kube} from '../../src/lib/kube/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {rejection} from '../support/errors.js'
import {VERSION, autoRollout, manifestServer, plainRecorder, runContext, startFleet, taskIO, writeManifest, type Fleet} from './harness.js'

describe('manifest checks', () => {
  it('release URLs for HA and non-HA', () => {
    expect(manifestUrl('v3.1.9', 'ha', 'https://raw.githubusercontent.com/argoproj/argo-cd')).toBe(
      'https://raw.githubusercontent.com/argoproj/argo-cd/v3.1.9/manifests/ha/install.yaml',
    )
    expect(manifestUrl('v3.1.9', 'non-ha', 'https://raw.githubusercontent.com/argoproj/argo-cd')).toBe(
      'https://raw.githubusercontent.com/argoproj/argo-cd/v3.1.9/manifests/install.yaml',
    )
  })

  it('HA needs three nodes, and says why', () => {
    expect(chooseVariant('cluster-01', 3, 'live')).toMatchObject({variant: 'ha'})
    const one = chooseVariant('cluster-01', 1, 'inventory')
    expect(one.variant).toBe('non-ha')
    expect(one.reason).toContain('declares 1 node')
    expect(one.reason).toContain('needs at least 3 nodes for its pod anti-affinity')
  })

  it('rejects a manifest of another version, one that is not Argo CD, and broken YAML', async () => {
    const dir = (await import('node:os')).tmpdir()
    const other = writeManifest(dir, 'non-ha', 'v3.0.0')
    // the file a flag named is the wrong one: bad input, naming the flag (found before any cluster is contacted)
    const wrong = await rejection(loadManifest(other, VERSION))
    expect(wrong).toMatchObject({exitCode: 2, code: 'MANIFEST_VERSION'})
    expect(wrong.message).toBe(`--manifest ${other} is Argo CD v3.0.0, but the inventory pins v3.1.9 (versions.argocd)`)
    expect(wrong.hints[0]).toMatch(/^pass --manifest the v3\.1\.9 manifest .*or set versions\.argocd/)
    expect(await rejection(loadManifest(other, VERSION, {origin: '--argocd-manifest'}))).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--argocd-manifest /),
    })
    const notArgo = path.join(dir, `not-argocd-${process.pid}.yaml`)
    writeFileSync(notArgo, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n')
    expect(await rejection(loadManifest(notArgo, VERSION))).toMatchObject({
      exitCode: 2,
      code: 'MANIFEST_NOT_ARGOCD',
      message: expect.stringMatching(/^--manifest /),
    })
    // the release URL obsctl built from versions.argocd (no flag): what the server sent is not the user's input
    expect(await rejection(loadManifest(other, VERSION, {release: true}))).toMatchObject({exitCode: 1, code: 'MANIFEST_VERSION'})
    const objs = await parseObjects('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', 'x.yaml')
    expect(() => checkManifest(objs, 'x.yaml', VERSION)).toThrow(/no applications\.argoproj\.io CustomResourceDefinition/)
    await expect(parseObjects('a: [1,\n', 'bad.yaml')).rejects.toThrow(/bad\.yaml.*is not valid YAML/)
    await expect(loadManifest(path.join(dir, 'does-not-exist.yaml'), VERSION)).rejects.toMatchObject({exitCode: 2, code: 'MANIFEST_READ'})
  })
})

describe('the manifest comes over verified https or from a file, never plain http', () => {
  const FILE = '/argoproj/argo-cd/v3.1.9/manifests/install.yaml'
  let plain: Awaited<ReturnType<typeof plainRecorder>>
  let mirror: Awaited<ReturnType<typeof manifestServer>>
  beforeAll(async () => {
    plain = await plainRecorder()
    mirror = await manifestServer({
      '/moved/install.yaml': FILE, // a relative redirect on the same https mirror: followed
      '/to-plain/install.yaml': `${plain.url}${FILE}`, // https → http: refused
      '/hop/install.yaml': '/to-plain/install.yaml', // https → https → http: refused at the second hop
    })
  })
  afterAll(async () => {
    await Promise.all([plain.close(), mirror.close()])
  })

  it('refuses an http:// --manifest before any request: exit 2 naming the flag', async () => {
    const e = await rejection(loadManifest(`${plain.url}${FILE}`, VERSION))
    expect(e).toMatchObject({exitCode: 2, code: 'MANIFEST_PLAIN_HTTP'})
    expect(e.message).toBe(
      `--manifest ${plain.url}${FILE}: plain http is refused for the Argo CD manifest: it is applied to the cluster as it comes (no checksum), and http:// lets anyone on the path change it`,
    )
    expect(e.hints).toEqual(['--manifest https://… (its certificate verified), or --manifest FILE (a copy downloaded and checked elsewhere)'])
    // bootstrap's flag is named as bootstrap spells it
    const b = await rejection(loadManifest(`${plain.url}${FILE}`, VERSION, {origin: '--argocd-manifest'}))
    expect(b.message).toMatch(/^--argocd-manifest http:/)
    expect(plain.requests).toEqual([])
  })

  it('follows a redirect to https, and refuses one to http (also after a hop) without requesting it', async () => {
    const moved = await loadManifest(`${mirror.url}/moved/install.yaml`, VERSION, {ca: mirror.ca})
    expect(moved).toMatchObject({variant: 'non-ha', version: VERSION, source: `${mirror.url}/moved/install.yaml`})
    for (const start of ['/to-plain/install.yaml', '/hop/install.yaml']) {
      const e = await rejection(loadManifest(`${mirror.url}${start}`, VERSION, {ca: mirror.ca}))
      expect(e, start).toMatchObject({exitCode: 2, code: 'MANIFEST_PLAIN_HTTP'})
      expect(e.message).toContain(`${mirror.url}/to-plain/install.yaml redirects to ${plain.url}${FILE}: plain http is refused`)
    }
    expect(mirror.requests).toEqual(['/moved/install.yaml', FILE, '/to-plain/install.yaml', '/hop/install.yaml', '/to-plain/install.yaml'])
    expect(plain.requests).toEqual([])
  })

  it('verifies the certificate: a mirror whose CA is not trusted is a fetch failure, not a download', async () => {
    const e = await rejection(loadManifest(`${mirror.url}${FILE}`, VERSION))
    expect(e).toMatchObject({exitCode: 1, code: 'MANIFEST_FETCH'})
    expect(e.message).toMatch(
      /^cannot fetch the Argo CD manifest https:\/\/127\.0\.0\.1:\d+\/argoproj\/.*: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    )
    expect(e.hints[0]).toMatch(/NODE_EXTRA_CA_CERTS/)
  })
})

describe('argocd install', () => {
  let fleet: Fleet
  let stopRollout: () => void
  beforeAll(async () => {
    fleet = await startFleet()
    stopRollout = autoRollout(fleet.central)
  })
  afterAll(async () => {
    stopRollout()
    await fleet.stop()
  })
  afterEach(() => {
    delete process.env.OBSCTL_ARGOCD_MANIFEST_BASE
  })

  it('installs from a local manifest: namespace, CRDs Established first, every object, rollout, rendered ingress, URL', async () => {
    const manifest = writeManifest(fleet.dir)
    const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
    const lines: string[] = []
    fleet.central.clearRequestLog()
    const r = await installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {manifest, timeoutMs: 20_000, intervalMs: 25, log: (l) => lines.push(l)})
    expect(r).toMatchObject({cluster: 'cluster-01', version: VERSION, variant: 'non-ha', url: 'https://argocd.k8s-cluster-01.miribit.lab', namespace: 'argocd'})
    expect(r.crds).toEqual(['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io'])
    expect(r.workloads.map((w) => `${w.kind}/${w.name}:${w.ready}`).sort()).toEqual([
      'Deployment/argocd-redis:true',
      'Deployment/argocd-repo-server:true',
      'Deployment/argocd-server:true',
      'StatefulSet/argocd-application-controller:true',
    ])
    expect(r.extras).toContain('Ingress argocd/argocd-server')
    // namespaced objects went into argocd; cluster-scoped ones stayed cluster-scoped
    expect(fleet.central.getObject('namespaces', undefined, 'argocd')).toBeTruthy()
    expect(fleet.central.getObject('configmaps', 'argocd', 'argocd-cmd-params-cm')).toBeTruthy()
    expect(fleet.central.getObject('clusterrolebindings.rbac.authorization.k8s.io', undefined, 'argocd-application-controller')).toBeTruthy()
    const ingress = fleet.central.getObject('ingresses.networking.k8s.io', 'argocd', 'argocd-server')!
    expect(ingress.spec.rules[0].host).toBe('argocd.k8s-cluster-01.miribit.lab')
    // the rendered argocd-cm settings are merged into the install's ConfigMap, not replacing its labels
    const cm = fleet.central.getObject('configmaps', 'argocd', 'argocd-cm')!
    expect(cm.data['kustomize.buildOptions']).toBe('--enable-helm')
    expect(cm.metadata.labels['app.kubernetes.io/part-of']).toBe('argocd')
    // server-side apply with field manager obsctl; CRDs before any Deployment
    const applies = fleet.central.requestLog.filter((e) => e.method === 'PATCH')
    expect(applies.length).toBeGreaterThan(10)
    expect(applies.every((e) => e.contentType?.startsWith('application/apply-patch'))).toBe(true)
    expect(applies.every((e) => /fieldManager=obsctl/.test(e.query))).toBe(true)
    const firstDeploy = applies.findIndex((e) => e.path.includes('/deployments/'))
    const lastCrd = applies.map((e) => e.path.includes('customresourcedefinitions')).lastIndexOf(true)
    expect(lastCrd).toBeLessThan(firstDeploy)
    expect(lines.some((l) => /rolled out/.test(l))).toBe(true)
    expect(lines.join('\n')).toContain('3 CustomResourceDefinitions Established')
  })

  it('an http:// $OBSCTL_ARGOCD_MANIFEST_BASE is refused naming the variable, before any request', async () => {
    const plain = await plainRecorder()
    try {
      process.env.OBSCTL_ARGOCD_MANIFEST_BASE = `${plain.url}/argoproj/argo-cd`
      const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
      const e = await rejection(installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {timeoutMs: 5000, intervalMs: 25}))
      expect(e).toMatchObject({exitCode: 2, code: 'MANIFEST_PLAIN_HTTP'})
      expect(e.message).toMatch(
        /^OBSCTL_ARGOCD_MANIFEST_BASE: http:\/\/127\.0\.0\.1:\d+\/argoproj\/argo-cd\/v3\.1\.9\/manifests\/install\.yaml: plain http is refused/,
      )
      expect(e.hints[0]).toMatch(/^export OBSCTL_ARGOCD_MANIFEST_BASE=https:\/\/…/)
      expect(plain.requests).toEqual([])
    } finally {
      await plain.close()
    }
  })

  it('is idempotent: a second run converges and the live check says done', async () => {
    const manifest = writeManifest(fleet.dir)
    const {ctx, resources} = runContext(fleet)
    const phase = argocdPhase({manifest, intervalMs: 25})
    try {
      const [t] = await phase.targets(ctx)
      expect(await phase.isDone!(t!, ctx, taskIO([]))).toBe(true)
      expect((await phase.run(t!, ctx, taskIO([]))).summary).toMatch(
        /Argo CD v3\.1\.9 \(non-HA\): 4 workloads rolled out; https:\/\/argocd\.k8s-cluster-01\.miribit\.lab/,
      )
    } finally {
      await resources.closeAll()
    }
  })
})

describe('HA or not, from the release URL', () => {
  let peer: Awaited<ReturnType<typeof manifestServer>>
  beforeAll(async () => {
    peer = await manifestServer()
    process.env.OBSCTL_ARGOCD_MANIFEST_BASE = `${peer.url}/argoproj/argo-cd`
  })
  afterAll(async () => {
    delete process.env.OBSCTL_ARGOCD_MANIFEST_BASE
    await peer.close()
  })

  for (const [nodes, variant, file] of [
    [3, 'ha', '/argoproj/argo-cd/v3.1.9/manifests/ha/install.yaml'],
    [1, 'non-ha', '/argoproj/argo-cd/v3.1.9/manifests/install.yaml'],
  ] as const) {
    it(`${nodes} live node(s) → ${variant}`, async () => {
      const fleet = await startFleet({centralNodes: nodes})
      const stop = autoRollout(fleet.central)
      try {
        const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
        const lines: string[] = []
        const r = await installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {
          timeoutMs: 20_000,
          intervalMs: 25,
          log: (l) => lines.push(l),
          manifestCa: peer.ca,
        })
        expect(r.variant).toBe(variant)
        expect(r.manifest).toBe(`${peer.url}${file}`)
        expect(r.reason).toContain(`has ${nodes} node`)
        expect(lines[0]).toBe(r.reason)
        if (variant === 'ha') expect(fleet.central.getObject('statefulsets.apps', 'argocd', 'argocd-redis-ha-server')).toBeTruthy()
        else expect(fleet.central.getObject('deployments.apps', 'argocd', 'argocd-redis')).toBeTruthy()
      } finally {
        stop()
        await fleet.stop()
      }
    })
  }
})

describe('install failures', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet()
  })
  afterAll(async () => {
    await fleet.stop()
  })

  it('times out naming the workloads that did not roll out', async () => {
    const manifest = writeManifest(fleet.dir)
    const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
    const err = await installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {manifest, timeoutMs: 1500, intervalMs: 50}).catch((e) => e)
    expect(err).toBeInstanceOf(ObsctlError)
    expect(err.code).toBe('TIMEOUT')
    expect(err.exitCode).toBe(1)
    expect(err.message).toMatch(
      /did not roll out within 2s: Deployment argocd\/argocd-server: waiting for the controller .*; StatefulSet argocd\/argocd-application-controller/,
    )
  })

  it('an HA --manifest on a one-node central warns that replicas will stay Pending', async () => {
    const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
    const lines: string[] = []
    const err = await installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {
      manifest: writeManifest(fleet.dir, 'ha'),
      timeoutMs: 1000,
      intervalMs: 50,
      log: (l) => lines.push(l),
    }).catch((e) => e)
    expect(err).toMatchObject({code: 'TIMEOUT'})
    expect(lines.join('\n')).toContain("warning: cluster-01 has 1 node(s), and the HA manifest's pod anti-affinity needs 3")
  })

  it('interrupted (AbortSignal) mid-rollout exits 130; the rerun completes', async () => {
    const manifest = writeManifest(fleet.dir)
    const kube = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
    const ac = new AbortController()
    const lines: string[] = []
    const p = installArgocd(kube, fleet.inv.platform, fleet.inv.dir, {
      manifest,
      timeoutMs: 20_000,
      intervalMs: 25,
      signal: ac.signal,
      log: (l) => {
        lines.push(l)
        if (/rolled out · \d+s of \d+s · waiting for: /.test(l)) ac.abort()
      },
    })
    const err = await p.catch((e) => e)
    expect(err).toMatchObject({exitCode: 130, code: 'INTERRUPTED'})
    const stop = autoRollout(fleet.central)
    try {
      const {ctx, resources} = runContext(fleet)
      const phase = argocdPhase({manifest, intervalMs: 25})
      const [t] = await phase.targets(ctx)
      expect(await phase.isDone!(t!, ctx, taskIO([]))).toBe(false)
      await phase.run(t!, ctx, taskIO([]))
      expect(await phase.isDone!(t!, ctx, taskIO([]))).toBe(true)
      await resources.closeAll()
    } finally {
      stop()
    }
  })

  it('403: the message names the missing permission (through the engine, exit 1)', async () => {
    const limited = fleet.central.addUser({name: 'viewer', rules: [{verbs: ['get', 'list', 'watch'], resources: ['*']}]})
    const kc = path.join(fleet.dir, 'viewer.kubeconfig')
    const {writeFleetKubeconfig} = await import('../support/kube/index.js')
    writeFleetKubeconfig(kc, [fleet.central], {user: limited.name})
    const manifest = writeManifest(fleet.dir)
    // the install is not complete (its ingress is gone), so the live check sends the task to run()
    const admin = await Kube.connect({kubeconfig: fleet.kubeconfig, context: 'cluster-01-context'})
    expect(await admin.delete({apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'argocd-server', namespace: 'argocd'}})).toBe(true)
    const err = await argocdInstall(fleet.inv, {renderer: 'silent', handleSignals: false, kubeconfig: kc, manifest, intervalMs: 25}).catch((e) => e)
    expect(err).toBeInstanceOf(ObsctlError)
    expect(err.exitCode).toBe(1)
    expect(err.code).toBe('KUBE_FORBIDDEN')
    expect(err.message).toMatch(/forbidden/)
    expect(err.message).toMatch(/cannot patch resource "(namespaces|customresourcedefinitions)"/)
    expect(err.hints.join('\n')).toMatch(/lack this permission/)
  })

  it('an unreachable API server is named with its address', async () => {
    const kc = path.join(fleet.dir, 'dead.kubeconfig')
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
clusters: [{name: cluster-01, cluster: {server: 'https://127.0.0.1:9', certificate-authority-data: ${Buffer.from(fleet.central.caPem).toString('base64')}}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: cluster-01-context, context: {cluster: cluster-01, user: u}}]
current-context: cluster-01-context
`,
    )
    const err = await argocdInstall(fleet.inv, {renderer: 'silent', handleSignals: false, kubeconfig: kc, manifest: writeManifest(fleet.dir)}).catch((e) => e)
    expect(err).toMatchObject({exitCode: 1, code: 'KUBE_UNREACHABLE'})
    expect(err.message).toContain('cannot reach the API server of cluster-01-context at https://127.0.0.1:9 (ECONNREFUSED)')
  })
})
