/**
 * The S3 (MinIO) connection: endpoint, credentials, TLS trust and error translation. In the platform layer
 * because the platform's own access (./access.ts, ./credentials.ts) opens it too; the s3 domain
 * (../s3/: buckets, lifecycle, versioning) builds on it.
 * `minio` is imported lazily (only when a session opens), so commands that never talk to S3 never load it.
 */
import {readFileSync} from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import {ObsctlError, errorMessage, inputError, fsReason} from '../errors.js'
import {canPrompt, prompter} from '../prompt.js'
import type {LoadedInventory} from '../config/load.js'
import {formatPosition} from '../config/load.js'
import type {Platform} from '../config/schema.js'
import type {Client} from 'minio'
import {formatDuration} from '../progress.js'
import {trace, traceError, traceStart, tracing} from '../trace.js'
import {envValue} from '../env.js'

export interface S3Credentials {
  accessKey: string
  secretKey: string
}

export interface S3ConnectOptions {
  /** --ca-file: a CA bundle to trust in addition to the system roots (else s3.caFile) */
  caFile?: string
  /** per-request timeout (default 15 s) */
  timeoutSeconds?: number
  /** the running command's flags that set these, for its hints (absent: it has none, and hints name only s3.caFile) */
  flags?: S3Flags
  /** aborts in-flight requests (Ctrl-C) */
  signal?: AbortSignal
}

/**
 * Which of `caFile` and `timeoutSeconds` the running command takes from a flag: `s3 setup` has --ca-file and
 * --timeout, the commands that reach services --ca-file and --request-timeout; bootstrap's buckets phase neither.
 */
export interface S3Flags {
  caFile?: boolean
  timeout?: '--timeout' | '--request-timeout'
}

export interface S3Endpoint {
  url: string
  host: string
  port: number
  useSSL: boolean
}

/** Everything one run needs to talk to the S3 endpoint; close() releases its sockets. */
export interface S3Session {
  client: Client
  endpoint: S3Endpoint
  /** run one S3 call with the timeout and abort signal, translating failures into ObsctlErrors */
  call<T>(what: string, fn: (c: Client) => Promise<T>): Promise<T>
  close(): void
}

/** Parse `s3.endpoint` (an http(s) URL) into what the minio client takes. */
export function parseEndpoint(url: string): S3Endpoint {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw inputError(`s3.endpoint is not a URL: ${url}`, ['set s3.endpoint to e.g. https://s3.minio.example.lab'], 'S3_ENDPOINT')
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw inputError(`s3.endpoint must be an http(s) URL, not ${u.protocol}`, ['set s3.endpoint to e.g. https://s3.minio.example.lab'], 'S3_ENDPOINT')
  }
  if (u.pathname !== '/' && u.pathname !== '') {
    throw inputError(
      `s3.endpoint must not have a path (${u.pathname}): buckets are addressed by obsctl`,
      [`set s3.endpoint to ${u.protocol}//${u.host}`],
      'S3_ENDPOINT',
    )
  }
  const useSSL = u.protocol === 'https:'
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return {url: `${u.protocol}//${u.host}`, host, port: u.port ? Number(u.port) : useSSL ? 443 : 80, useSSL}
}

/**
 * The access and secret key: from the env vars the inventory names, else a prompt on a TTY.
 * Never from argv; the values are only held in memory.
 */
export async function resolveCredentials(platform: Platform): Promise<S3Credentials> {
  const {accessKeyEnv, secretKeyEnv} = platform.s3
  let accessKey = envValue(accessKeyEnv, {secret: true})
  let secretKey = envValue(secretKeyEnv, {secret: true})
  if (accessKey && secretKey) return {accessKey, secretKey}
  const missing = [accessKey ? undefined : accessKeyEnv, secretKey ? undefined : secretKeyEnv].filter(Boolean) as string[]
  if (!canPrompt()) {
    throw inputError(
      `S3 credentials are missing: set ${missing.map((m) => `$${m}`).join(' and ')} (obsctl does not prompt without a terminal or with CI set)`,
      [`export ${accessKeyEnv}=… ${secretKeyEnv}=… (names from s3.accessKeyEnv / s3.secretKeyEnv)`, 'credentials are never taken from the command line'],
      'S3_CREDENTIALS_MISSING',
    )
  }
  // prompts go to stderr: stdout stays the report (or pure JSON under --json)
  const ask = async (message: string) =>
    prompter([`export ${accessKeyEnv}=… ${secretKeyEnv}=…`]).password({message, validate: (v) => (v.length > 0 ? true : 'required')})
  accessKey ??= await ask(`S3 access key (not set in $${accessKeyEnv})`)
  secretKey ??= await ask(`S3 secret key (not set in $${secretKeyEnv})`)
  return {accessKey, secretKey}
}

/** The CA bundle to add to the system roots: --ca-file (relative to cwd), else s3.caFile (relative to the inventory). */
export function resolveCaFile(inv: LoadedInventory, flag?: string): string | undefined {
  if (flag) return path.resolve(flag)
  const f = inv.platform.s3.caFile
  return f ? path.resolve(inv.dir, f) : undefined
}

/** Where a hint sends the user for the CA file: the flag when the command has one, and s3.caFile. */
function caFileWhere(inv: LoadedInventory, flags: S3Flags | undefined): string {
  return `${flags?.caFile ? '--ca-file PATH or ' : ''}s3.caFile in ${inv.file}`
}

function readCa(file: string, where: string): string {
  let pem: string
  try {
    pem = readFileSync(file, 'utf8')
  } catch (e) {
    throw inputError(
      `cannot read the CA file ${file}: ${fsReason(e)}`,
      [`${where}: a PEM bundle with the CA that signed the S3 server certificate`],
      'S3_CA_FILE',
    )
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw inputError(`the CA file ${file} holds no PEM certificate`, [`${where}: a PEM bundle (-----BEGIN CERTIFICATE-----)`], 'S3_CA_FILE')
  }
  return pem
}

/** Open a session: a minio client with its own agent (system roots + the CA file, verification always on). */
export async function openS3(inv: LoadedInventory, creds: S3Credentials, opts: S3ConnectOptions = {}): Promise<S3Session> {
  const s3 = inv.platform.s3
  const endpoint = parseEndpoint(s3.endpoint)
  const caFile = resolveCaFile(inv, opts.caFile)
  const ca = caFile && endpoint.useSSL ? readCa(caFile, caFileWhere(inv, opts.flags)) : undefined
  const [{Client}, https, http, tls] = await Promise.all([import('minio'), import('node:https'), import('node:http'), import('node:tls')])
  const clock: ServerClock = {}
  const agent: http.Agent = endpoint.useSSL
    ? new https.Agent({keepAlive: true, ...(ca ? {ca: [...tls.rootCertificates, ca]} : {}), rejectUnauthorized: true})
    : new http.Agent({keepAlive: true})
  const client = new Client({
    endPoint: endpoint.host,
    port: endpoint.port,
    useSSL: endpoint.useSSL,
    region: s3.region,
    pathStyle: s3.pathStyle,
    accessKey: creds.accessKey,
    secretKey: creds.secretKey,
    transportAgent: agent,
    transport: observedTransport(endpoint.useSSL ? https : http, clock),
    // minio's own retry prints to the console and hides the server's error code; a rerun of obsctl resumes instead
    retryOptions: {disableRetry: true},
  })
  const timeoutMs = (opts.timeoutSeconds ?? 15) * 1000
  const where = {inv, endpoint, caFile, clock, flags: opts.flags}
  const call = async <T>(what: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    if (opts.signal?.aborted) throw new ObsctlError('interrupted', {exitCode: 130, code: 'INTERRUPTED'})
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // a timed-out request holds a socket: drop every socket of this session so it cannot linger
        agent.destroy()
        reject(Object.assign(new Error(`no answer within ${timeoutMs / 1000}s`), {code: 'OBSCTL_TIMEOUT'}))
      }, timeoutMs)
      onAbort = () => {
        agent.destroy()
        reject(new ObsctlError('interrupted', {exitCode: 130, code: 'INTERRUPTED'}))
      }
      opts.signal?.addEventListener('abort', onAbort, {once: true})
    })
    try {
      return await Promise.race([fn(client), guard])
    } catch (e) {
      throw translateS3Error(e, what, where)
    } finally {
      clearTimeout(timer)
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort)
    }
  }
  return {client, endpoint, call, close: () => agent.destroy()}
}

/** The server's clock as its last answer's `Date` header gave it: server minus this machine, in ms (1 s resolution). */
export interface ServerClock {
  gapMs?: number
}

/**
 * minio's requests through node's own request(): each answer's `Date` header is kept (`clock`: S3 refuses a
 * request signed more than 15 minutes off its clock, and answers a HEAD with a bare 403), and under --verbose
 * (../trace.ts) each request is traced as its answer arrives (method, URL with the bucket and sub-resource, status)
 * or fails. minio 8 sends every request through `transport.request(options, callback)` with host, port, path and
 * method set (dist/esm/internal/request.mjs, client.mjs getRequestOptions); its headers (the signature) are never
 * traced.
 */
function observedTransport(mod: Pick<typeof http, 'request'>, clock: ServerClock): Pick<typeof http, 'request'> {
  const traced = tracing()
  const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest => {
    const t0 = traced ? traceStart() : 0
    const what = traced
      ? `s3 ${options.method ?? 'GET'} ${options.protocol ?? 'https:'}//${options.host}${options.port ? `:${options.port}` : ''}${options.path ?? '/'}`
      : ''
    const req = mod.request(options, (res) => {
      const date = res.headers.date ? Date.parse(res.headers.date) : Number.NaN
      if (Number.isFinite(date)) clock.gapMs = date - Date.now()
      if (traced) trace(what, String(res.statusCode), t0)
      callback?.(res)
    })
    if (traced) req.on('error', (e) => trace(what, traceError(e), t0))
    return req
  }
  // node's request() is overloaded; minio calls the (options, callback) form only
  return {request: request as typeof http.request}
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'OBSCTL_TIMEOUT'])
const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
])
/** S3's (and MinIO's) tolerance between a request's signing time and the server's clock */
const MAX_SKEW_MS = 15 * 60_000
/**
 * A clock gap as worth saying: a `Date` header has whole seconds and arrives after a round trip, so a gap of minutes
 * is told in whole minutes (20m, not 19m59s), a smaller one in seconds.
 */
const roundGap = (ms: number) => (ms >= 120_000 ? Math.round(ms / 60_000) * 60_000 : Math.round(ms / 1000) * 1000)
const BAD_CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'])

/** S3 error codes that mean "this server does not implement the feature" (501, or 405 on a bucket subresource). */
export function isNotImplemented(e: unknown): boolean {
  const code = (e as {code?: string} | undefined)?.code
  return code === 'NotImplemented' || code === 'MethodNotAllowed' || code === 'XNotImplemented'
}

/** The S3 error code of a failed call, if the server answered. */
export function s3Code(e: unknown): string | undefined {
  const c = (e as {code?: unknown} | undefined)?.code
  return typeof c === 'string' ? c : undefined
}

/**
 * Turn a minio/network/TLS failure into an ObsctlError that names the endpoint, the inventory field
 * or env var that fixes it. Never includes credential values.
 */
export function translateS3Error(
  e: unknown,
  what: string,
  where: {inv: LoadedInventory; endpoint: S3Endpoint; caFile?: string; clock?: ServerClock; flags?: S3Flags},
): ObsctlError {
  if (e instanceof ObsctlError) return e
  const {inv, endpoint, caFile, flags} = where
  const code = s3Code(e) ?? ''
  const s3 = inv.platform.s3
  const at = (field: string) => `${formatPosition(inv.positionOf(['s3', field]))}`
  if (NETWORK_CODES.has(code)) {
    const why =
      code === 'OBSCTL_TIMEOUT'
        ? errorMessage(e)
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `${code}: the host name ${endpoint.host} does not resolve`
          : code
    return new ObsctlError(`cannot reach the S3 endpoint ${endpoint.url} (${why}) while trying to ${what}`, {
      code: 'S3_UNREACHABLE',
      hints: [
        `check s3.endpoint (${at('endpoint')}): is that the MinIO address and port, and is it running?`,
        ...(flags?.timeout ? [`${flags.timeout} SECONDS for a slow link`] : []),
      ],
      cause: e,
    })
  }
  if (TLS_TRUST_CODES.has(code)) {
    return new ObsctlError(
      `the S3 endpoint ${endpoint.url} presented a certificate obsctl does not trust (${code})${caFile ? ` even with the CA file ${caFile}` : ''}`,
      {
        code: 'S3_TLS',
        hints: [
          caFile
            ? `${caFile} is not the CA that signed this server's certificate: point ${caFileWhere(inv, flags)} at the right one`
            : `${caFileWhere(inv, flags)}: the PEM of the CA that signed the server certificate`,
          'obsctl never turns TLS verification off',
        ],
        cause: e,
      },
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ObsctlError(`the S3 endpoint's certificate does not name ${endpoint.host} (${errorMessage(e)})`, {
      code: 'S3_TLS',
      hints: [
        `use the host name the certificate was issued for in s3.endpoint (${at('endpoint')}), or reissue the certificate with ${endpoint.host} in its subjectAltName`,
        'obsctl never turns TLS verification off',
      ],
      cause: e,
    })
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new ObsctlError(`the S3 endpoint's certificate is not valid now (${code})`, {
      code: 'S3_TLS',
      hints: ['renew the MinIO server certificate', 'obsctl never turns TLS verification off'],
      cause: e,
    })
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(errorMessage(e))) {
    return new ObsctlError(`TLS handshake with ${endpoint.url} failed: ${errorMessage(e)}`, {
      code: 'S3_TLS',
      hints: [`does the server speak ${endpoint.useSSL ? 'https' : 'http'}? check the scheme of s3.endpoint (${at('endpoint')})`],
      cause: e,
    })
  }
  // S3 and MinIO refuse a request signed more than 15 minutes off their clock before they look at its key or
  // signature (MinIO's auth middleware: RequestTimeTooSkewed); a HEAD's refusal has no body, which minio reads as
  // AccessDenied: the server's Date header tells the two apart
  const gap = where.clock?.gapMs
  if (code === 'RequestTimeTooSkewed' || (gap !== undefined && Math.abs(gap) > MAX_SKEW_MS && (code === 'AccessDenied' || BAD_CREDENTIAL_CODES.has(code)))) {
    const off =
      gap === undefined
        ? "is more than 15 minutes off the endpoint's"
        : `is ${formatDuration(roundGap(Math.abs(gap)))} ${gap > 0 ? 'behind' : 'ahead of'} the endpoint's (its Date header)`
    return new ObsctlError(
      `the S3 endpoint ${endpoint.url} refused the request (${code}) while trying to ${what}: this machine's clock ${off}, and S3 accepts only requests signed within 15 minutes of its own`,
      {
        code: 'S3_CLOCK',
        hints: [
          "synchronise this machine's clock (chrony or systemd-timesyncd; timedatectl says whether it is), or the S3 server's",
          'obsctl doctor --network measures the skew against the S3 endpoint',
        ],
        cause: e,
      },
    )
  }
  if (BAD_CREDENTIAL_CODES.has(code)) {
    return new ObsctlError(`the S3 endpoint ${endpoint.url} rejected the credentials (${code}) while trying to ${what}`, {
      exitCode: 2,
      code: 'S3_CREDENTIALS',
      hints: [`check $${s3.accessKeyEnv} and $${s3.secretKeyEnv} (the env vars named by s3.accessKeyEnv / s3.secretKeyEnv)`],
      cause: e,
    })
  }
  // S3 and MinIO refuse a signature made for another region than theirs: "The authorization header is malformed;
  // the region 'eu-west-1' is wrong; expecting 'us-east-1'"
  if (code === 'AuthorizationHeaderMalformed' && /region/i.test(errorMessage(e))) {
    const expecting = /expecting '([^']+)'/.exec(errorMessage(e))?.[1]
    return new ObsctlError(`the S3 endpoint ${endpoint.url} is not in the region ${s3.region} (${errorMessage(e)}) while trying to ${what}`, {
      exitCode: 2,
      code: 'S3_REGION',
      hints: [`set s3.region (${at('region')}) to ${expecting ? `'${expecting}'` : "the server's region"}: requests are signed for that region`],
      cause: e,
    })
  }
  if (code === 'AccessDenied') {
    return new ObsctlError(`access denied by ${endpoint.url} while trying to ${what}`, {
      code: 'S3_ACCESS_DENIED',
      hints: [
        `the user in $${s3.accessKeyEnv} needs s3:CreateBucket, s3:ListBucket, s3:GetLifecycleConfiguration, s3:PutLifecycleConfiguration, s3:GetBucketVersioning, s3:PutBucketVersioning (or the keys are wrong)`,
      ],
      cause: e,
    })
  }
  const message = errorMessage(e)
  return new ObsctlError(`S3 request failed while trying to ${what}${code ? ` (${code})` : ''}: ${message}`, {code: 'S3_ERROR', cause: e})
}
