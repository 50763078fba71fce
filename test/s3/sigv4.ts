/**
 * AWS Signature Version 4, checked in front of s3rver: s3rver refuses an access key id it does not know
 * (InvalidAccessKeyId) but does not compute V4 signatures at all (s3rver/lib/middleware/authentication.js: "Signature
 * version 4 calculation is unimplemeneted"), so a wrong secret key, a wrong region or a request signed wrongly would
 * pass it where MinIO refuses it. This front recomputes each header-signed request's signature with AWS's own signer
 * (@smithy/signature-v4's canonical request, string to sign and signing key, over exactly the headers the request
 * says it signed) and the secret key s3rver's registry
 * holds for its access key id, then passes the request on to s3rver unchanged.
 *
 * Refusals are S3's (checked against the S3 API reference's error codes, and MinIO's answers): 403
 * SignatureDoesNotMatch for another signature; 400 AuthorizationHeaderMalformed for a credential scope whose region
 * is not the server's (MinIO answers so for a region other than its own, default us-east-1); 400
 * XAmzContentSHA256Mismatch when the body's sha256 is not the signed x-amz-content-sha256. A request signed in its
 * query string (a presigned URL) is refused: obsctl sends none, and this front does not check them.
 * Before any of that, as MinIO's auth middleware does (cmd/generic-handlers.go, globalMaxSkewTime), a request whose
 * x-amz-date is more than 15 minutes off the server's clock is refused: 403 RequestTimeTooSkewed, in MinIO's words
 * (cmd/api-errors.go). The front's clock can be set off this machine's (`clockOffsetMs`); every answer's `Date`
 * header is that clock, as a server's is its own.
 */
import {createHash, createHmac, type BinaryLike} from 'node:crypto'
import {createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {SignatureV4, createScope, getCanonicalHeaders, getSigningKey} from '@smithy/signature-v4'
import AWSAccount from 's3rver/lib/models/account.js'

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/

type SourceData = string | ArrayBuffer | ArrayBufferView
const bytes = (d: SourceData): BinaryLike =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength)

/** sha256 and HMAC-SHA256 as @smithy/signature-v4 asks for them (its HashConstructor), from node:crypto */
class Sha256 {
  private readonly h
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: SourceData): void {
    this.h.update(bytes(data))
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()))
  }
}

function s3Error(res: ServerResponse, status: number, code: string, message: string, date: number): void {
  res.writeHead(status, {'content-type': 'application/xml', date: new Date(date).toUTCString()})
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>obsctl-test</RequestId></Error>`)
}

/** S3's and MinIO's tolerance between a request's signing time and the server's clock */
const MAX_SKEW_MS = 15 * 60_000

/** an x-amz-date (20261204T233900Z) as ms since the epoch */
function amzTime(v: string | string[] | undefined): number | undefined {
  const m = typeof v === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v) : null
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined
}

/** the secret key s3rver's registry holds for this access key id (undefined: s3rver refuses the key itself) */
function secretOf(accessKeyId: string): string | undefined {
  const registry = (AWSAccount as unknown as {registry: Map<string, {accessKeys: Map<string, string>}>}).registry
  return registry.get(accessKeyId)?.accessKeys.get(accessKeyId)
}

/** why S3 would refuse this request's signature, or undefined when it holds */
export async function signatureProblem(
  req: {method: string; url: string; headers: Record<string, string | string[] | undefined>},
  body: Buffer,
  region: string,
  now = Date.now(),
): Promise<{status: number; code: string; message: string} | undefined> {
  const header = req.headers.authorization
  const url = new URL(req.url, 'http://s3.invalid')
  if (url.searchParams.has('X-Amz-Signature'))
    return {status: 403, code: 'AccessDenied', message: 'obsctl test peer: query-string (presigned) signatures are not checked here'}
  if (typeof header !== 'string') return undefined // anonymous: s3rver answers as it does
  const signedAt = amzTime(req.headers['x-amz-date'])
  if (signedAt !== undefined && Math.abs(now - signedAt) > MAX_SKEW_MS)
    return {status: 403, code: 'RequestTimeTooSkewed', message: "The difference between the request time and the server's time is too large."}
  const m = AUTH.exec(header)
  if (!m) return {status: 400, code: 'AuthorizationHeaderMalformed', message: `not an AWS4-HMAC-SHA256 header the peer knows: ${header.slice(0, 40)}`}
  const [, accessKeyId, , scopeRegion, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string]
  const secretAccessKey = secretOf(accessKeyId)
  if (secretAccessKey === undefined) return undefined // s3rver: InvalidAccessKeyId
  if (scopeRegion !== region)
    return {
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message: `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${region}'`,
    }
  const amzDate = req.headers['x-amz-date']
  const contentSha = req.headers['x-amz-content-sha256']
  if (typeof amzDate !== 'string' || typeof contentSha !== 'string')
    return {status: 400, code: 'AuthorizationHeaderMalformed', message: 'x-amz-date and x-amz-content-sha256 are required'}
  if (!contentSha.startsWith('UNSIGNED-PAYLOAD') && !contentSha.startsWith('STREAMING-') && createHash('sha256').update(body).digest('hex') !== contentSha)
    return {status: 400, code: 'XAmzContentSHA256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed."}

  const names = signedHeaders.split(';')
  const headers: Record<string, string> = {}
  for (const n of names) {
    const v = req.headers[n]
    if (v === undefined) return {status: 403, code: 'SignatureDoesNotMatch', message: `signed header ${n} is not in the request`}
    headers[n] = Array.isArray(v) ? v.join(',') : v
  }
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of url.searchParams) {
    const had = query[k]
    query[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v]
  }
  const expected = await new Verifier({accessKeyId, secretAccessKey}, region).signatureOf(
    {method: req.method, protocol: 'http:', hostname: headers.host ?? '', path: url.pathname, query, headers},
    new Set(names),
    contentSha,
    amzDate,
  )
  if (expected !== signature)
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    }
  return undefined
}

/** the library's request type (@smithy/types' HttpRequest) */
type HttpRequest = Parameters<typeof getCanonicalHeaders>[0]

/**
 * The signature of a received request, by the library's own steps (canonical request, string to sign, signing
 * key) over exactly the headers the request names as signed. Its `sign()` is for making requests: it drops and
 * regenerates the `date` and `x-amz-date` headers, where a server must take them as they were signed.
 */
class Verifier extends SignatureV4 {
  constructor(
    private readonly credentials: {accessKeyId: string; secretAccessKey: string},
    private readonly signingRegion: string,
  ) {
    super({service: 's3', region: signingRegion, credentials, sha256: Sha256, uriEscapePath: false})
  }

  async signatureOf(request: HttpRequest, signed: Set<string>, payloadHash: string, longDate: string): Promise<string> {
    const shortDate = longDate.slice(0, 8)
    const canonical = this.createCanonicalRequest(request, getCanonicalHeaders(request, undefined, signed), payloadHash)
    const stringToSign = await this.createStringToSign(longDate, createScope(shortDate, this.signingRegion, 's3'), canonical, 'AWS4-HMAC-SHA256')
    return createHmac('sha256', await getSigningKey(Sha256, this.credentials, shortDate, this.signingRegion, 's3'))
      .update(stringToSign)
      .digest('hex')
  }
}

/** A front on a loopback port of its own (TLS when given) checking each request's signature, passing it on to 127.0.0.1:targetPort. */
export async function startSignatureFront(
  targetPort: number,
  opts: {region?: string; tls?: {key: string; cert: string}; clockOffsetMs?: number} = {},
): Promise<{port: number; close(): Promise<void>}> {
  const region = opts.region ?? 'us-east-1'
  const now = () => Date.now() + (opts.clockOffsetMs ?? 0)
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      signatureProblem({method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers}, body, region, now()).then(
        (problem) => {
          if (problem) return s3Error(res, problem.status, problem.code, problem.message, now())
          const up = request({host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers}, (answer) => {
            res.writeHead(answer.statusCode ?? 502, {...answer.headers, date: new Date(now()).toUTCString()})
            answer.pipe(res)
          })
          up.on('error', (e) => {
            if (!res.headersSent) s3Error(res, 502, 'InternalError', `obsctl test peer: s3rver: ${e.message}`, now())
            else res.destroy(e)
          })
          up.end(body)
        },
        (e: unknown) => s3Error(res, 500, 'InternalError', `obsctl test peer: ${(e as Error).message}`, now()),
      )
    })
  }
  const server: Server = opts.tls ? createHttpsServer(opts.tls, handle) : createHttpServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
