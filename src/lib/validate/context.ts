/** The shared resources of one validate run: HTTP, kube clients, pod proxy, credentials, S3. */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {centralCluster, kubeContextName} from '../config/model.js'
import type {LoadedInventory} from '../config/load.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {fsReason, inputError} from '../errors.js'
import {httpUrlError, redactUrl} from '../config/validators.js'
import {canPrompt} from '../cli/prompt.js'
import {Kube} from '../kube/client.js'
import {pkiDir} from '../kube/pki.js'
import type {S3Credentials, S3Session} from '../s3/client.js'
import {CREDENTIAL_ENV} from './checks/opensearch.js'
import {apiServerClient, directClient, podProxyPath, SERVICE_KEYS, viaApiServer} from './http.js'
import type {OpenSearchCredentials, ValidateContext} from './types.js'

export interface ValidateOptions {
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
  /** --since: log freshness window (default 15m) */
  since?: string
  /** ask for credentials that are not in the environment (only on a TTY) */
  prompt?: boolean
  /** which credentials are needed (from the selected checks) */
  need?: {opensearch?: boolean; s3?: boolean}
}

/** Parse repeatable `NAME=URL` flags; names are the services the checks use. */
export function parseEndpointFlags(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    const name = i > 0 ? v.slice(0, i) : ''
    const url = i > 0 ? v.slice(i + 1) : ''
    if (!name || !/^https?:\/\/\S+$/.test(url)) throw inputError(`--endpoint ${redactUrl(v)}: expected NAME=URL, e.g. thanos-query=https://thanos.example.lab`, [`names: ${SERVICE_KEYS.join(', ')}`], 'BAD_ENDPOINT')
    if (!(SERVICE_KEYS as string[]).includes(name)) throw inputError(`--endpoint ${name}=${redactUrl(url)}: unknown service ${name}`, [`names: ${SERVICE_KEYS.join(', ')}`], 'BAD_ENDPOINT')
    const bad = httpUrlError(url, 'service credentials come from their env vars (e.g. OBSCTL_OPENSEARCH_USER, OBSCTL_OPENSEARCH_PASSWORD), never from a URL')
    if (bad) throw inputError(`--endpoint ${name}=${redactUrl(url)}: ${bad}`, [`names: ${SERVICE_KEYS.join(', ')}`], 'BAD_ENDPOINT')
    out[name] = url
  }
  return out
}

async function opensearchCredentials(prompt: boolean): Promise<OpenSearchCredentials | {missing: string}> {
  let user = process.env[CREDENTIAL_ENV.user] || undefined
  let password = process.env[CREDENTIAL_ENV.password] || undefined
  if (user && password) return {user, password}
  if (!prompt || !canPrompt()) return {missing: `OpenSearch credentials missing: set $${CREDENTIAL_ENV.user} and $${CREDENTIAL_ENV.password} (obsctl does not prompt without a terminal or with CI set)`}
  const {input, password: secret} = await import('@inquirer/prompts')
  user ??= await input({message: `OpenSearch user (not set in $${CREDENTIAL_ENV.user})`, default: 'admin'})
  password ??= await secret({message: `OpenSearch password for ${user} (not set in $${CREDENTIAL_ENV.password})`, mask: '*'})
  return {user, password}
}

export interface OpenedContext {
  ctx: ValidateContext
  close(): void
}

export async function openContext(inv: LoadedInventory, o: ValidateOptions = {}): Promise<OpenedContext> {
  const platform = inv.platform
  const since = o.since ?? '15m'
  if (!isDuration(since)) throw inputError(`--since ${since}: expected a duration such as 15m, 1h, 2d`, [], 'BAD_SINCE')
  const timeoutMs = o.requestTimeoutMs ?? 10_000
  const cas: string[] = []
  if (o.caFile) {
    try {
      cas.push(readFileSync(path.resolve(o.caFile), 'utf8'))
    } catch (e) {
      throw inputError(`cannot read --ca-file ${o.caFile}: ${fsReason(e)}`, ['--ca-file PATH: a PEM bundle'], 'CA_FILE')
    }
  }
  // the platform CA that `secrets apply` issued the ingress and OpenSearch certificates from
  const platformCa = path.join(pkiDir(inv.dir), 'ca.crt')
  if (existsSync(platformCa)) cas.push(readFileSync(platformCa, 'utf8'))
  const ca = cas.length ? cas.join('\n') : undefined
  const kubes = new Map<string, Promise<Kube>>()
  const kube = (cluster: string) => {
    let k = kubes.get(cluster)
    if (!k) {
      k = Kube.connect({kubeconfig: o.kubeconfig, context: kubeContextName(cluster), requestTimeoutMs: timeoutMs})
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
  let s3Creds: S3Credentials | Error = new Error('S3 credentials were not resolved')
  if (o.need?.s3 !== false) {
    const {resolveCredentials} = await import('../s3/client.js')
    try {
      s3Creds = await resolveCredentials(platform)
    } catch (e) {
      s3Creds = e as Error
    }
  }
  const listBucketPrefixes = async (bucket: string): Promise<string[]> => {
    if (s3Creds instanceof Error) throw s3Creds
    const creds = s3Creds
    s3 ??= import('../s3/client.js').then((mod) => mod.openS3(inv, creds, {caFile: o.caFile, timeoutSeconds: Math.ceil(timeoutMs / 1000)}))
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

  const ctx: ValidateContext = {
    platform,
    inv,
    http,
    kube,
    podProxy: async (cluster, namespace, pod, port, p) => viaApiServer(await kube(cluster), podProxyPath(namespace, pod, port), p, {timeoutMs, what: `${cluster} pod ${pod}`}),
    opensearch,
    since,
    sinceMs: durationSeconds(since) * 1000,
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
