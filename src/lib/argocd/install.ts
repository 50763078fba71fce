/**
 * `argocd install` / the `argocd` phase: Argo CD on the central cluster from the release manifest,
 * without the argocd CLI. Server-side apply throughout (field manager obsctl), so a rerun — also after
 * an interruption — converges instead of failing on what exists.
 */
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {yaml} from '../lazy-deps.js'
import {eachLimited} from '../async.js'
import {ObsctlError} from '../errors.js'
import {NAMESPACES, centralCluster, gitDir, serviceUrl} from '../config/model.js'
import type {Cluster, Platform} from '../config/schema.js'
import {applyOrder, describeObject, rolloutStatus, waitUntil, type Kube, type KubeObject} from '../kube/index.js'
import {CONTROLLER, controllerSharding, shardingApplied, withSharding, type Sharding} from './sharding.js'
import {
  HA_MIN_NODES,
  MANIFEST_BASE_ENV,
  chooseVariant,
  intoNamespace,
  loadManifest,
  manifestUrl,
  parseObjects,
  type ManifestVariant,
  type PodTemplated,
  type VariantChoice,
} from './manifest.js'
import {pollMs} from '../poll.js'
import {envValue} from '../env.js'

export interface InstallOptions {
  /** --manifest FILE|URL (air-gapped sites); else the release manifest from GitHub */
  manifest?: string
  /** the flag that gave `manifest` (default --manifest; bootstrap's is --argocd-manifest), named in errors */
  manifestFlag?: string
  /** a PEM CA bundle trusted beside the system roots for the manifest download (tests: a loopback mirror) */
  manifestCa?: string
  /** overall wait for CRDs and rollouts */
  timeoutMs: number
  signal?: AbortSignal
  /** live progress */
  log?: (line: string) => void
  /** poll interval of the waits (tests shorten it) */
  intervalMs?: number
}

export interface WorkloadState {
  kind: string
  name: string
  ready: boolean
  detail?: string
}

export interface InstallReport {
  cluster: string
  context: string
  version: string
  variant: ManifestVariant
  /** why this variant */
  reason: string
  manifest: string
  crds: string[]
  applied: number
  workloads: WorkloadState[]
  /** objects of the rendered argocd/install/ */
  extras: string[]
  /** application-controller shards for the inventory's cluster count (docs/argocd.md) */
  sharding: Sharding
  url: string
  namespace: string
}

/** How many nodes the central cluster has: live when the API lets us count, else the inventory. */
export async function centralNodeCount(kube: Kube, central: Cluster): Promise<{nodes: number; source: 'live' | 'inventory'}> {
  try {
    const nodes = await kube.list('v1', 'Node')
    if (nodes.length > 0) return {nodes: nodes.length, source: 'live'}
  } catch (error) {
    if ((error as ObsctlError).code === 'KUBE_UNREACHABLE') throw error
    // no permission to list nodes: the inventory's count decides
  }
  return {nodes: central.nodes.length, source: 'inventory'}
}

export async function decideVariant(kube: Kube, p: Platform): Promise<VariantChoice> {
  const central = centralCluster(p)
  const {nodes, source} = await centralNodeCount(kube, central)
  // with the inventory's count this is config/model's argocdHA rule
  return chooseVariant(central.name, nodes, source)
}

/** The field manager of the rendered extras: apart from obsctl's, so the two applies never drop each other's fields (argocd-cm). */
export const RENDER_FIELD_MANAGER = 'obsctl-render'

/**
 * The objects of the rendered `argocd/install/` (namespace, argocd-cm settings, ingress), in apply
 * order: the files its kustomization.yaml lists, else every YAML file there but a Kustomization.
 */
export async function renderedInstallObjects(p: Platform, inventoryDir: string): Promise<{dir: string; objects: KubeObject[]}> {
  const dir = path.join(gitDir(p, inventoryDir), 'argocd', 'install')
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort()
  } catch {
    throw new ObsctlError(`the rendered ${dir} is missing`, {code: 'NOT_RENDERED', hints: ['run obsctl render (or bootstrap --phase render) first']})
  }
  const kfile = files.find((f) => /^kustomization\.ya?ml$/.test(f))
  if (kfile) {
    const k = yaml().parse(await readFile(path.join(dir, kfile), 'utf8')) as {resources?: unknown} | null
    const resources = k?.resources
    if (Array.isArray(resources)) files = resources.filter((r): r is string => typeof r === 'string' && /\.ya?ml$/.test(r))
  }
  const objects: KubeObject[] = []
  for (const f of files) objects.push(...(await parseObjects(await readFile(path.join(dir, f), 'utf8'), path.join(dir, f))))
  return {
    dir,
    objects: applyOrder(
      intoNamespace(
        objects.filter((o) => o.kind !== 'Kustomization'),
        NAMESPACES.argocd,
      ),
    ),
  }
}

function interrupted(what: string): ObsctlError {
  return new ObsctlError(`interrupted while ${what}`, {exitCode: 130, code: 'INTERRUPTED'})
}

/** Apply objects in order, a few at a time; stops promptly on abort, and after a failure starts no other. */
async function applyAll(
  kube: Kube,
  objects: KubeObject[],
  signal: AbortSignal | undefined,
  log: (l: string) => void,
  what: string,
  fieldManager?: string,
): Promise<void> {
  let done = 0
  await eachLimited(objects, 8, async (o) => {
    if (signal?.aborted) throw interrupted(`applying ${what}`)
    await kube.apply(o, {fieldManager})
    done++
    if (done % 10 === 0 || done === objects.length) log(`applied ${done}/${objects.length} ${what}`)
  })
}

export function crdEstablished(crd: KubeObject | undefined): boolean {
  const conds = (crd?.status as {conditions?: {type: string; status: string}[]} | undefined)?.conditions ?? []
  return conds.some((c) => c.type === 'Established' && c.status === 'True')
}

export async function installArgocd(kube: Kube, p: Platform, inventoryDir: string, opts: InstallOptions): Promise<InstallReport> {
  const log = opts.log ?? (() => {})
  const central = centralCluster(p)
  const version = p.versions.argocd
  const ns = NAMESPACES.argocd

  // 1. which manifest, and why
  let choice: VariantChoice | undefined
  let source = opts.manifest
  if (!source) {
    choice = await decideVariant(kube, p)
    source = manifestUrl(version, choice.variant)
    log(`${choice.reason}`)
  }
  log(`reading ${source}`)
  const origin = !opts.manifest && envValue(MANIFEST_BASE_ENV) ? MANIFEST_BASE_ENV : (opts.manifestFlag ?? '--manifest')
  const manifest = await loadManifest(source, version, {signal: opts.signal, origin, ca: opts.manifestCa, release: !opts.manifest})
  let reason = choice?.reason ?? `--manifest ${manifest.source}: the ${manifest.variant === 'ha' ? 'HA' : 'non-HA'} manifest as given`
  if (!choice && manifest.variant === 'ha') {
    const {nodes, source: counted} = await centralNodeCount(kube, central)
    if (nodes < HA_MIN_NODES) {
      reason += `; warning: ${central.name} ${counted === 'live' ? 'has' : 'declares'} ${nodes} node(s), and the HA manifest's pod anti-affinity needs ${HA_MIN_NODES}: some replicas will stay Pending and the rollout wait will time out`
      log(reason)
    }
  }
  log(`Argo CD ${version}, ${manifest.variant === 'ha' ? 'HA' : 'non-HA'} manifest: ${manifest.objects.length} objects`)
  if (opts.signal?.aborted) throw interrupted('reading the manifest')

  // the rendered extras are read before anything is applied, so a missing render fails early
  const extras = await renderedInstallObjects(p, inventoryDir)

  // 2. namespace
  await kube.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}})

  // 3. CRDs first, then wait until the API server serves them
  const crds = manifest.objects.filter((o) => o.kind === 'CustomResourceDefinition')
  await applyAll(kube, crds, opts.signal, log, 'CustomResourceDefinitions')
  const deadline = Date.now() + opts.timeoutMs
  const remaining = () => Math.max(1000, deadline - Date.now())
  await waitUntil(
    'the Argo CD CustomResourceDefinitions to be Established',
    async () => {
      const pending: string[] = []
      for (const c of crds)
        if (!crdEstablished(await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', c.metadata.name))) pending.push(c.metadata.name)
      return pending.length === 0 ? true : {state: `${crds.length - pending.length}/${crds.length} CRDs Established`, pending}
    },
    {timeoutMs: remaining(), intervalMs: opts.intervalMs ?? pollMs(1000), signal: opts.signal, onProgress: log},
  )
  log(`${crds.length} CustomResourceDefinitions Established`)

  // 4. everything else; namespaced objects into argocd (what `kubectl apply -n argocd` does), the
  //    application controller sharded for the fleet's size
  const sharding = controllerSharding(p)
  log(
    `application controller: ${sharding.replicas} replica(s) for ${sharding.clusters} cluster(s)${sharding.algorithm ? `, ${CONTROLLER.algorithmKey}=${sharding.algorithm}` : ''}`,
  )
  const rest = applyOrder(
    withSharding(
      intoNamespace(
        manifest.objects.filter((o) => o.kind !== 'CustomResourceDefinition' && !(o.kind === 'Namespace' && o.metadata.name === ns)),
        ns,
      ),
      sharding,
    ),
  )
  await applyAll(kube, rest, opts.signal, log, 'objects')

  // 5. every Deployment and StatefulSet rolled out
  const workloads = rest.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
  const states = new Map<string, WorkloadState>(workloads.map((w) => [describeObject(w), {kind: w.kind, name: w.metadata.name, ready: false}]))
  await waitUntil(
    'the Argo CD Deployments and StatefulSets to roll out',
    async () => {
      const waiting: string[] = []
      for (const w of workloads) {
        const st = states.get(describeObject(w))!
        if (st.ready) continue
        const live = await kube.get(w.apiVersion, w.kind, w.metadata.name, ns)
        const r = live ? rolloutStatus(live) : `${describeObject(w)}: not found`
        st.ready = r === true
        st.detail = r === true ? undefined : r
        if (r !== true) waiting.push(r)
      }
      const ready = [...states.values()].filter((s) => s.ready).length
      return waiting.length === 0 ? true : {state: `${ready}/${workloads.length} rolled out`, pending: waiting}
    },
    {timeoutMs: remaining(), intervalMs: opts.intervalMs ?? pollMs(2000), signal: opts.signal, onProgress: log},
  ).catch((error: ObsctlError) => {
    if (error.code !== 'TIMEOUT') throw error
    const waiting = [...states.values()].filter((s) => !s.ready)
    throw new ObsctlError(
      `Argo CD did not roll out within ${Math.round(opts.timeoutMs / 1000)}s: ${waiting.map((w) => w.detail ?? `${w.kind} ${w.name}`).join('; ')}`,
      {
        code: 'TIMEOUT',
        hints: [
          `kubectl --context ${kube.context} -n ${ns} get pods (and describe the ones not Running)`,
          'raise --timeout; a rerun continues where this one stopped',
        ],
        details: {waiting},
      },
    )
  })
  log(`${workloads.length} Deployments and StatefulSets rolled out`)

  // 6. the rendered argocd/install/ (namespace + ingress)
  await applyAll(kube, extras.objects, opts.signal, log, `objects of ${extras.dir}`, RENDER_FIELD_MANAGER)

  return {
    cluster: central.name,
    context: kube.context,
    version,
    variant: manifest.variant,
    reason,
    manifest: manifest.source,
    crds: crds.map((c) => c.metadata.name),
    applied: 1 + crds.length + rest.length + extras.objects.length,
    workloads: [...states.values()],
    extras: extras.objects.map(describeObject),
    sharding,
    url: serviceUrl(p, central, 'argocd'),
    namespace: ns,
  }
}

/** Live check of the argocd phase: every Deployment/StatefulSet of the install is there and rolled out. */
export async function argocdInstalled(kube: Kube, p: Platform, inventoryDir: string): Promise<boolean> {
  const ns = NAMESPACES.argocd
  const crd = await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'applications.argoproj.io')
  if (!crdEstablished(crd)) return false
  const server = await kube.get('apps/v1', 'Deployment', 'argocd-server', ns)
  if (!server) return false
  const image = ((server.spec as PodTemplated | undefined)?.template?.spec?.containers ?? [])[0]?.image as string | undefined
  if (!image?.endsWith(`:${p.versions.argocd}`)) return false
  const workloads = [
    ...(await kube.list('apps/v1', 'Deployment', {namespace: ns})).map((w) => ({...w, kind: 'Deployment'})),
    ...(await kube.list('apps/v1', 'StatefulSet', {namespace: ns})).map((w) => ({...w, kind: 'StatefulSet'})),
  ]
  if (workloads.length === 0 || !workloads.every((w) => rolloutStatus(w) === true)) return false
  // the fleet grew past a threshold since the install: the controller needs more shards
  if (
    !shardingApplied(
      workloads.find((w) => w.kind === 'StatefulSet' && w.metadata.name === CONTROLLER.statefulSet),
      controllerSharding(p),
    )
  )
    return false
  const {objects} = await renderedInstallObjects(p, inventoryDir)
  for (const o of objects) if (!(await kube.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))) return false
  return true
}
