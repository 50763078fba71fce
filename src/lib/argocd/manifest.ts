/**
 * The Argo CD install manifest: which one (HA or not), where it comes from (the release on GitHub,
 * or a file/URL for air-gapped sites), and the checks before anything is applied: it parses, it holds
 * the kinds an Argo CD install has, and its images are the inventory's version.
 */
import {statSync} from 'node:fs'
import path from 'node:path'
import {yaml} from '../lazy-deps.js'
import {ObsctlError, inputError, fsReason} from '../errors.js'
import {traced} from '../trace.js'
import type {KubeObject} from '../platform/kube.js'
import {readText} from '../fs.js'
import {envValue} from '../env.js'

export type ManifestVariant = 'ha' | 'non-ha'

/** The image every Argo CD component runs, tagged with the release. */
export const ARGOCD_IMAGE = 'quay.io/argoproj/argocd'

export const DEFAULT_MANIFEST_BASE = 'https://raw.githubusercontent.com/argoproj/argo-cd'

/** A mirror of the release layout, used as manifestUrl's base when set (https only, as every manifest source). */
export const MANIFEST_BASE_ENV = 'OBSCTL_ARGOCD_MANIFEST_BASE'

/**
 * The release's manifest URL: `<base>/<version>/manifests/ha/install.yaml` or `.../manifests/install.yaml`,
 * base GitHub's raw content, or a mirror of the same layout from $OBSCTL_ARGOCD_MANIFEST_BASE — refused (exit 2,
 * naming the variable) unless the mirror is an https URL. argocd install and bootstrap call it before anything runs,
 * dry runs too: a mirror that does not parse, or is plain http, failed (or was fetched unsafely) only in the argocd
 * phase.
 */
export function manifestUrl(version: string, variant: ManifestVariant, base?: string): string {
  const file = variant === 'ha' ? 'manifests/ha/install.yaml' : 'manifests/install.yaml'
  const mirror = base === undefined ? envValue(MANIFEST_BASE_ENV) : undefined
  const url = `${(base ?? (mirror || DEFAULT_MANIFEST_BASE)).replace(/\/+$/, '')}/${version}/${file}`
  if (!mirror) return url
  const plain = manifestSourceError(url, MANIFEST_BASE_ENV)
  if (plain) throw plain
  if (!/^https:\/\/\S+$/i.test(mirror) || !URL.canParse(mirror))
    throw inputError(
      `${MANIFEST_BASE_ENV}: ${JSON.stringify(mirror)} is not an https URL (a mirror of the release layout, e.g. https://mirror.lab/argo-cd)`,
      [originHint(MANIFEST_BASE_ENV), `or unset ${MANIFEST_BASE_ENV} to fetch the release from GitHub`],
      'MANIFEST_BASE',
    )
  return url
}

/**
 * A manifest source given by a flag, checked before anything runs (also a dry run): an https URL, a file:// URL or
 * a file that exists. Plain http, another scheme (`ftp://`), a folder or a missing file are bad input naming the flag.
 * The content is checked when the manifest is loaded (loadManifest).
 */
export function manifestSourceProblem(source: string, origin: string): ObsctlError | undefined {
  const plain = manifestSourceError(source, origin)
  if (plain) return plain
  if (/^https:\/\//i.test(source)) {
    return URL.canParse(source) && !/\s/.test(source)
      ? undefined
      : inputError(`${origin} ${JSON.stringify(source)}: not a URL`, [originHint(origin)], 'MANIFEST_SOURCE')
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^file:\/\//i.test(source))
    return inputError(`${origin} ${source}: only an https URL or a file is taken`, [originHint(origin)], 'MANIFEST_SOURCE')
  const file = /^file:\/\//i.test(source) ? new URL(source).pathname : path.resolve(source)
  let st: import('node:fs').Stats
  try {
    st = statSync(file)
  } catch (error) {
    return inputError(`${origin} ${file}: ${fsReason(error)}`, [originHint(origin)], 'MANIFEST_READ')
  }
  if (!st.isFile())
    return inputError(`${origin} ${file}: ${st.isDirectory() ? 'it is a directory, not a file' : 'not a regular file'}`, [originHint(origin)], 'MANIFEST_READ')
  return undefined
}

/** The HA manifest's pod anti-affinity spreads replicas over nodes: it needs at least three. */
export const HA_MIN_NODES = 3

export interface VariantChoice {
  variant: ManifestVariant
  nodes: number
  /** where the node count came from */
  source: 'live' | 'inventory'
  reason: string
}

export function chooseVariant(cluster: string, nodes: number, source: 'live' | 'inventory'): VariantChoice {
  const counted = source === 'live' ? 'has' : 'declares'
  if (nodes >= HA_MIN_NODES) {
    return {
      variant: 'ha',
      nodes,
      source,
      reason: `${cluster} ${counted} ${nodes} nodes: the HA manifest (its pod anti-affinity needs at least ${HA_MIN_NODES})`,
    }
  }
  return {
    variant: 'non-ha',
    nodes,
    source,
    reason: `${cluster} ${counted} ${nodes} node${nodes === 1 ? '' : 's'}: the non-HA manifest (the HA one needs at least ${HA_MIN_NODES} nodes for its pod anti-affinity; its replicas would stay Pending)`,
  }
}

export interface LoadedManifest {
  /** URL or absolute path it was read from */
  source: string
  objects: KubeObject[]
  /** the Argo CD version its images carry */
  version: string
  /** HA when it has the redis-ha StatefulSet */
  variant: ManifestVariant
}

export interface FetchOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /**
   * how the source was given, named in errors: a flag (`--manifest`, the default; `--argocd-manifest` for bootstrap)
   * or MANIFEST_BASE_ENV when the release URL was built on that mirror
   */
  origin?: string
  /** a PEM CA bundle trusted beside the system roots (tests: a loopback mirror with its own CA) */
  ca?: string
  /** the source is the release URL obsctl built from versions.argocd (no flag named it): its content is not input */
  release?: boolean
}

/** Redirects followed at most (each one to https only). */
const MAX_REDIRECTS = 5

/** The fix for a source that cannot be fetched safely, in the terms it was given in. */
function originHint(origin: string): string {
  return origin.startsWith('-')
    ? `${origin} https://… (its certificate verified), or ${origin} FILE (a copy downloaded and checked elsewhere)`
    : `export ${origin}=https://… (a mirror of the release layout), or pass --manifest FILE`
}

/**
 * Refuse a plain-http source: the manifest is applied to the cluster as it comes (cluster-wide RBAC, the images
 * every Argo CD pod runs) with no checksum, so whoever is on the path could change what is installed.
 */
export function manifestSourceError(source: string, origin = '--manifest'): ObsctlError | undefined {
  if (!/^http:\/\//i.test(source)) return undefined
  return inputError(
    `${origin.startsWith('-') ? `${origin} ${source}` : `${origin}: ${source}`}: plain http is refused for the Argo CD manifest: it is applied to the cluster as it comes (no checksum), and http:// lets anyone on the path change it`,
    [originHint(origin)],
    'MANIFEST_PLAIN_HTTP',
  )
}

/**
 * Read a manifest from a file path, a file:// URL or an https URL. Never plain http, also not by a redirect: each
 * redirect is followed by hand (at most MAX_REDIRECTS) and only to https. node:https rather than fetch: TLS is
 * always verified (the system roots, NODE_EXTRA_CA_CERTS, `ca`).
 */
export async function readManifestText(source: string, opts: FetchOptions = {}): Promise<{text: string; source: string}> {
  const origin = opts.origin ?? '--manifest'
  const bad = manifestSourceProblem(source, origin)
  if (bad && bad.code !== 'MANIFEST_READ') throw bad
  if (/^https:\/\//i.test(source)) return {text: await download(source, origin, opts), source}
  const file = source.startsWith('file://') ? new URL(source).pathname : path.resolve(source)
  try {
    return {text: await readText(file), source: file}
  } catch (error) {
    throw inputError(`cannot read the Argo CD manifest ${file}: ${fsReason(error)}`, [`pass ${origin} with an existing file or an https URL`], 'MANIFEST_READ')
  }
}

interface Answer {
  status: number
  statusText: string
  location?: string
  body: string
}

/** GET an https URL, following redirects to https only; the body of a 2xx answer. */
async function download(source: string, origin: string, opts: FetchOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])])
  const https = await import('node:https')
  const ca = opts.ca ? [...(await import('node:tls')).rootCertificates, opts.ca] : undefined
  const get = (url: URL) =>
    new Promise<Answer>((resolve, reject) => {
      const req = https.get(url, {signal, rejectUnauthorized: true, ...(ca ? {ca} : {})}, (res) => {
        const status = res.statusCode ?? 0
        const base = {status, statusText: res.statusMessage ?? '', location: res.headers.location}
        if (status >= 300 && status < 400) {
          res.resume()
          resolve({...base, body: ''})
          return
        }
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({...base, body: Buffer.concat(chunks).toString('utf8')}))
        res.on('error', reject)
      })
      req.on('error', reject)
    })
  let url = new URL(source)
  for (let hops = 0; ; hops++) {
    let res: Answer
    try {
      res = await traced(
        `GET ${url.href}`,
        () => get(url),
        (r) => String(r.status),
      )
    } catch (error) {
      if (opts.signal?.aborted) throw new ObsctlError(`interrupted while fetching ${source}`, {exitCode: 130, code: 'INTERRUPTED'})
      const e = error as {code?: string; message?: string; name?: string}
      const why = signal.aborted ? `no answer within ${timeoutMs / 1000}s` : (e.code ?? e.message ?? String(error))
      throw new ObsctlError(`cannot fetch the Argo CD manifest ${url.href}: ${why}`, {
        code: 'MANIFEST_FETCH',
        hints: [
          e.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(e.code)
            ? 'its certificate must verify against the system roots (NODE_EXTRA_CA_CERTS=FILE adds a private CA); obsctl never turns verification off'
            : 'without internet access, download it elsewhere and pass --manifest FILE (or an internal https URL)',
        ],
      })
    }
    if (res.status >= 300 && res.status < 400 && res.location) {
      const next = new URL(res.location, url)
      if (next.protocol !== 'https:')
        throw inputError(
          `${origin.startsWith('-') ? `${origin} ${source}` : `${origin}: ${source}`}: ${url.href} redirects to ${next.href}: plain http is refused for the Argo CD manifest (it is applied to the cluster as it comes, with no checksum)`,
          [originHint(origin)],
          'MANIFEST_PLAIN_HTTP',
        )
      if (hops >= MAX_REDIRECTS)
        throw new ObsctlError(`cannot fetch the Argo CD manifest ${source}: more than ${MAX_REDIRECTS} redirects`, {
          code: 'MANIFEST_FETCH',
          hints: [originHint(origin)],
        })
      url = next
      continue
    }
    if (res.status < 200 || res.status >= 300) {
      throw new ObsctlError(`cannot fetch the Argo CD manifest ${url.href}: HTTP ${res.status} ${res.statusText}`.trimEnd(), {
        code: 'MANIFEST_FETCH',
        hints: res.status === 404 ? ['check versions.argocd in the inventory: it must be a released tag such as v3.1.9'] : [originHint(origin)],
      })
    }
    return res.body
  }
}

/** Parse a multi-document YAML stream into objects (empty documents and `List`s flattened). */
export async function parseObjects(text: string, source: string): Promise<KubeObject[]> {
  const docs = yaml().parseAllDocuments(text)
  const out: KubeObject[] = []
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!
      const line = e.linePos?.[0]?.line
      throw new ObsctlError(`${source}${line ? `:${line}` : ''} is not valid YAML: ${e.message.split('\n')[0]}`, {
        code: 'MANIFEST_PARSE',
        hints: ['check the file is the complete install.yaml of the release'],
      })
    }
    const v = doc.toJS({maxAliasCount: -1}) as unknown
    if (v === null || v === undefined) continue
    const items = isObject(v) && v.kind === 'List' && Array.isArray(v.items) ? (v.items as unknown[]) : [v]
    for (const item of items) {
      if (
        !isObject(item) ||
        typeof item.apiVersion !== 'string' ||
        typeof item.kind !== 'string' ||
        !isObject(item.metadata) ||
        typeof item.metadata.name !== 'string'
      ) {
        throw new ObsctlError(`${source} holds a document that is not a Kubernetes object (apiVersion, kind and metadata.name are required)`, {
          code: 'MANIFEST_PARSE',
        })
      }
      out.push(item as KubeObject)
    }
  }
  return out
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, Job), as far as images go. */
export type PodTemplated = {template?: {spec?: {initContainers?: {image?: unknown}[]; containers?: {image?: unknown}[]}}}

/** Every container image of the workloads in the manifest. */
export function imagesOf(objects: KubeObject[]): string[] {
  const images: string[] = []
  for (const o of objects) {
    const pod = (o.spec as PodTemplated | undefined)?.template?.spec
    if (!pod) continue
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) if (typeof c?.image === 'string') images.push(c.image)
  }
  return images
}

/** Check the manifest is an Argo CD install of `version`; returns the loaded manifest. */
export function checkManifest(objects: KubeObject[], source: string, version: string): LoadedManifest {
  if (objects.length === 0) throw new ObsctlError(`${source} holds no Kubernetes objects`, {code: 'MANIFEST_EMPTY'})
  if (!objects.some((o) => o.kind === 'CustomResourceDefinition' && o.metadata.name === 'applications.argoproj.io')) {
    throw new ObsctlError(`${source} is not an Argo CD install manifest: it has no applications.argoproj.io CustomResourceDefinition`, {
      code: 'MANIFEST_NOT_ARGOCD',
      hints: ['use manifests/install.yaml or manifests/ha/install.yaml of the Argo CD release'],
    })
  }
  const tags = new Set(
    imagesOf(objects)
      .filter((i) => i.split('@')[0]!.replace(/:[^:/]*$/, '') === ARGOCD_IMAGE)
      .map((i) => i.split('@')[0]!.match(/:([^:/]+)$/)?.[1] ?? 'latest'),
  )
  if (tags.size === 0) {
    throw new ObsctlError(`${source} runs no ${ARGOCD_IMAGE} image, so its Argo CD version cannot be checked`, {
      code: 'MANIFEST_VERSION',
      hints: ['use the release manifest unmodified (mirror the images with the same tag if needed)'],
    })
  }
  if (tags.size > 1 || !tags.has(version)) {
    throw new ObsctlError(`${source} is Argo CD ${[...tags].join(', ')}, but the inventory pins ${version} (versions.argocd)`, {
      code: 'MANIFEST_VERSION',
      hints: [`pass the ${version} manifest, or set versions.argocd to the manifest's version`],
    })
  }
  const variant: ManifestVariant = objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name.includes('redis-ha')) ? 'ha' : 'non-ha'
  return {source, objects, version, variant}
}

/** What loadManifest finds wrong with the content itself (not with reaching it). */
const CONTENT_PROBLEMS = new Set(['MANIFEST_PARSE', 'MANIFEST_EMPTY', 'MANIFEST_NOT_ARGOCD', 'MANIFEST_VERSION'])

/**
 * Read and check a manifest. Content that is not the install manifest of versions.argocd — another version, not Argo
 * CD, not YAML — is bad input (exit 2 naming the flag) when a flag named the source: the user gave the wrong file, and
 * it is known before any cluster is contacted (`argocd install` and `bootstrap` load a flag's file before the run).
 * From the release URL (GitHub or $OBSCTL_ARGOCD_MANIFEST_BASE's mirror) it stays a failure (exit 1): obsctl chose
 * that URL, and what came back is the server's fault.
 */
export async function loadManifest(source: string, version: string, opts: FetchOptions = {}): Promise<LoadedManifest> {
  const origin = opts.origin ?? '--manifest'
  const {text, source: where} = await readManifestText(source, opts)
  try {
    return checkManifest(await parseObjects(text, where), where, version)
  } catch (error) {
    if (!(error instanceof ObsctlError) || !CONTENT_PROBLEMS.has(error.code)) throw error
    if (opts.release || !origin.startsWith('-')) {
      // say where it came from (the flag or env var that replaces it) when the check has no fix
      if (error.hints.length === 0) error.hints.push(originHint(origin))
      throw error
    }
    const hints =
      error.code === 'MANIFEST_VERSION'
        ? [
            `pass ${origin} the ${version} manifest (manifests/install.yaml or manifests/ha/install.yaml of that release), or set versions.argocd to the manifest's version`,
          ]
        : [...error.hints, originHint(origin)]
    throw inputError(`${origin} ${error.message}`, hints, error.code)
  }
}

/** Kinds that are cluster-scoped (everything else in the manifest goes into the argocd namespace). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
  'APIService',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'IngressClass',
])

export function isClusterScoped(o: Pick<KubeObject, 'kind'>): boolean {
  return CLUSTER_SCOPED.has(o.kind)
}

/** Put namespaced objects without a namespace into `namespace` (what `kubectl apply -n argocd` does). */
export function intoNamespace(objects: KubeObject[], namespace: string): KubeObject[] {
  return objects.map((o) => (isClusterScoped(o) || o.metadata.namespace ? o : {...o, metadata: {...o.metadata, namespace}}))
}
