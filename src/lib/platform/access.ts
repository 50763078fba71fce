/**
 * Access to a running platform, opened once per command and shared: HTTP to its services (direct, with
 * the platform CA and --ca-file added to the system roots, or through the central API server's service
 * proxy), a Kubernetes client per cluster (connected on first use), pod proxying, OpenSearch credentials
 * and S3 bucket listing. validate, status and opensearch snapshot all reach the platform through this.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {centralCluster, kubeContextName} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import type {Cluster, Platform} from '../config/schema.js'
import {mapLimited} from '../async.js'
import {fsReason, inputError} from '../errors.js'
import {httpUrlError, plainHttpCredentialError, redactUrl} from '../config/validators.js'
import type {S3Credentials, S3Session} from './s3.js'
import {SERVICE_KEYS, podProxyPath} from './catalogue.js'
import {opensearchCredentials, platformCaPem, s3Credentials, type OpenSearchCredentials} from './credentials.js'
import {apiServerClient, directClient, viaApiServer, type HttpClient, type HttpResponse} from './http.js'
import {Kube, isKubeconfigEnvError} from './kube.js'

export interface PlatformOptions {
  /** --kubeconfig */
  kubeconfig?: string
  /** --endpoint NAME=URL (parsed) */
  endpoints?: Record<string, string>
  /** reach services through the central API server's service proxy */
  viaApiServer?: boolean
  /** --ca-file: PEM bundle trusted in addition to the system roots (services and S3) */
  caFile?: string
  /** per-request timeout (default 10 s) */
  requestTimeoutMs?: number
  /** ask for credentials that are not in the environment (only on a TTY) */
  prompt?: boolean
  /** which credentials are needed */
  need?: {opensearch?: boolean; s3?: boolean}
  /** clusters probed at once by mapClusters (default CLUSTERS_AT_ONCE) */
  clustersAtOnce?: number
}

/**
 * How many of the fleet's clusters status and validate probe at once (PlatformContext.mapClusters). All at once, every
 * cluster's TLS handshakes and answers queue on obsctl's one thread behind deadlines that started when the requests
 * did: status over 1,000 clusters (~9 s of CPU, 2 TLS connections a cluster) reported 551 API servers that all
 * answered as not answering. A cluster's probes now start, and their deadlines with them, when its turn comes; a
 * healthy fleet takes the same time, a cluster that does not answer holds its turn until its deadline.
 */
export const CLUSTERS_AT_ONCE = 64

/** How a command's flags say to reach the services: --endpoint, --via-api-server, --ca-file, --request-timeout (serviceAccess). */
export type ServiceAccess = Pick<PlatformOptions, 'endpoints' | 'viaApiServer' | 'caFile' | 'requestTimeoutMs'>

/** What a command can reach on the platform. Everything here is created once and shared. */
export interface PlatformContext {
  platform: Platform
  inv: LoadedInventory
  /** HTTP to the platform's services (direct, or through the API server's service proxy) */
  http: HttpClient
  /** Kubernetes client of a cluster (by cluster name), connected once */
  kube(cluster: string): Promise<Kube>
  /**
   * `fn` over the fleet's clusters, at most CLUSTERS_AT_ONCE at a time (each probe's deadline starts in its turn); results
   * in the clusters' order. A cluster's failure is its result: once `fn` rejects, no further cluster starts.
   */
  mapClusters<R>(fn: (cluster: Cluster) => Promise<R>): Promise<R[]>
  /**
   * Aborted, with the error as its reason, when the first connect finds that a file $KUBECONFIG names is no kubeconfig
   * (empty, not YAML, unreadable: ./kube.ts isKubeconfigEnvError). It is read there, not up front, to keep it off
   * status's start-up (Kube.loadNamedConfig); the command then ends with that one error (exit 2) instead of reporting
   * every cluster failed: status races its probes against it, validate's check runner stops on it.
   */
  fatal: AbortSignal
  /** GET/POST a pod's port through a cluster's API server pod proxy */
  podProxy(cluster: string, namespace: string, pod: string, port: number, path: string): Promise<HttpResponse>
  /** OpenSearch basic-auth credentials, or the reason there are none */
  opensearch: OpenSearchCredentials | {missing: string}
  /** per-request timeout */
  timeoutMs: number
  /** an S3 bucket listing (lazy: minio is loaded only when this runs) */
  listBucketPrefixes(bucket: string): Promise<string[]>
}

export interface OpenedPlatform {
  ctx: PlatformContext
  close(): void
}

/** Parse repeatable `NAME=URL` flags; names are the services of the catalogue. */
export function parseEndpointFlags(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    const name = i > 0 ? v.slice(0, i) : ''
    const url = i > 0 ? v.slice(i + 1) : ''
    if (!name || !/^https?:\/\/\S+$/.test(url))
      throw inputError(
        `--endpoint ${redactUrl(v)}: expected NAME=URL, e.g. thanos-query=https://thanos.example.lab`,
        [`names: ${SERVICE_KEYS.join(', ')}`],
        'BAD_ENDPOINT',
      )
    if (!(SERVICE_KEYS as string[]).includes(name))
      throw inputError(`--endpoint ${name}=${redactUrl(url)}: unknown service ${name}`, [`names: ${SERVICE_KEYS.join(', ')}`], 'BAD_ENDPOINT')
    const bad = httpUrlError(url, 'service credentials come from their env vars (e.g. OBSCTL_OPENSEARCH_USER, OBSCTL_OPENSEARCH_PASSWORD), never from a URL')
    if (bad) throw inputError(`--endpoint ${name}=${redactUrl(url)}: ${bad}`, [`names: ${SERVICE_KEYS.join(', ')}`], 'BAD_ENDPOINT')
    const plain = plainHttpCredentialError(name, url)
    if (plain) throw inputError(`--endpoint ${name}=${url}: ${plain}`, [`--endpoint ${name}=https://…`], 'ENDPOINT_PLAIN_HTTP')
    out[name] = url
  }
  return out
}

export async function openPlatform(inv: LoadedInventory, o: PlatformOptions = {}): Promise<OpenedPlatform> {
  const platform = inv.platform
  const timeoutMs = o.requestTimeoutMs ?? 10_000
  const cas: string[] = []
  if (o.caFile) {
    try {
      cas.push(readFileSync(path.resolve(o.caFile), 'utf8'))
    } catch (e) {
      throw inputError(`cannot read --ca-file ${o.caFile}: ${fsReason(e)}`, ['--ca-file PATH: a PEM bundle'], 'CA_FILE')
    }
  }
  const platformCa = platformCaPem(inv.dir)
  if (platformCa) cas.push(platformCa)
  const ca = cas.length ? cas.join('\n') : undefined
  const kubes = new Map<string, Promise<Kube>>()
  const fatal = new AbortController()
  const kube = (cluster: string) => {
    let k = kubes.get(cluster)
    if (!k) {
      k = Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(cluster), requestTimeoutMs: timeoutMs})
      // a reaction beside the caller's, not a link before it: a connect that succeeds reaches its caller in the same
      // turn (its request starts before the other checks go on, see Kube.connect); registered first, it runs before the
      // caller's, so the runner stops before the failing check's outcome is reported
      k.catch((e: unknown) => {
        if (isKubeconfigEnvError(e) && !fatal.signal.aborted) fatal.abort(e)
      })
      kubes.set(cluster, k)
    }
    return k
  }
  const overrides = o.endpoints ?? {}
  const http = o.viaApiServer
    ? apiServerClient({platform, kube: () => kube(centralCluster(platform).name), overrides, ca, timeoutMs})
    : await directClient({platform, overrides, ca, timeoutMs})

  const opensearch = o.need?.opensearch === false ? {missing: 'not needed'} : await opensearchCredentials(o.prompt ?? true)

  // S3: credentials now (a prompt must not interleave with running checks), the session on first use
  let s3: Promise<S3Session> | undefined
  const s3Creds: S3Credentials | Error = o.need?.s3 !== false ? await s3Credentials(platform) : new Error('S3 credentials were not resolved')
  const listBucketPrefixes = async (bucket: string): Promise<string[]> => {
    if (s3Creds instanceof Error) throw s3Creds
    const creds = s3Creds
    s3 ??= import('./s3.js').then((mod) =>
      mod.openS3(inv, creds, {caFile: o.caFile, timeoutSeconds: Math.ceil(timeoutMs / 1000), flags: {caFile: true, timeout: '--request-timeout'}}),
    )
    const session = await s3
    return session.call(`list bucket ${bucket}`, async (c) => {
      const prefixes: string[] = []
      if (!(await c.bucketExists(bucket))) throw inputError(`bucket ${bucket} does not exist`, ['obsctl s3 setup creates it'], 'S3_NO_BUCKET')
      await new Promise<void>((resolve, reject) => {
        const stream = c.listObjectsV2(bucket, '', false)
        stream.on('data', (item: {prefix?: string; name?: string}) => {
          if (item.prefix) prefixes.push(item.prefix)
          else if (item.name) prefixes.push(item.name)
        })
        stream.on('error', reject)
        stream.on('end', () => resolve())
      })
      return prefixes
    })
  }

  const ctx: PlatformContext = {
    platform,
    inv,
    http,
    kube,
    mapClusters: (fn) => mapLimited(platform.clusters, o.clustersAtOnce ?? CLUSTERS_AT_ONCE, fn),
    fatal: fatal.signal,
    podProxy: async (cluster, namespace, pod, port, p) =>
      viaApiServer(await kube(cluster), podProxyPath(namespace, pod, port), p, {timeoutMs, what: `${cluster} pod ${pod}`}),
    opensearch,
    timeoutMs,
    listBucketPrefixes,
  }
  return {
    ctx,
    close: () => {
      void s3?.then((s) => s.close()).catch(() => undefined)
    },
  }
}

/** The service flags (src/lib/cli/service-flags.ts) and --kubeconfig, as the lib's access options: one mapping for every command that reaches services. */
export function serviceAccess(flags: {kubeconfig?: string; endpoint?: string[]; 'via-api-server'?: boolean; 'ca-file'?: string; 'request-timeout': number}) {
  return {
    kubeconfig: flags.kubeconfig,
    endpoints: parseEndpointFlags(flags.endpoint),
    viaApiServer: flags['via-api-server'],
    caFile: flags['ca-file'],
    requestTimeoutMs: flags['request-timeout'] * 1000,
  }
}
