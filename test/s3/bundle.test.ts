/**
 * The built CLI's minio (`npm run build` first) against the package's own, over the wire to s3rver: the bundle hands
 * minio slimmer modules for lodash, async, mime-types, block-stream2 and xml2js (bin/bundle.mjs slimImports). Each
 * client makes the same calls through a transport that records what it sends; the requests must be the same, byte
 * for byte — the XML bodies of bucket settings and of a multi-object delete (xml2js), a stream of unknown size in
 * parts (block-stream2), a file's content type from its name (mime-types), the headers and queries lodash shapes.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import * as Minio from 'minio'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bundleChunk} from '../cli/helpers.js'
import {ACCESS_KEY, SECRET_KEY, startS3rver, type S3Peer} from './harness.js'

interface Sent {
  method: string
  path: string
  contentType?: string
  body: string
}

let peer: S3Peer
let work: string
/**
 * s3rver has no ListMultipartUploads (`GET /bucket?uploads`: NotImplemented), which minio asks before it uploads a
 * stream in parts; this answers it as S3 does when there is none (the ListMultipartUploadsResult of the S3 API
 * reference), so the upload goes on to s3rver's multipart upload.
 */
let noUploads: http.Server
beforeAll(async () => {
  peer = await startS3rver()
  work = mkdtempSync(path.join(tmpdir(), 'obsctl-s3-bundle-'))
  noUploads = http.createServer((req, res) => {
    const bucket = new URL(req.url!, 'http://x').pathname.slice(1)
    res.writeHead(200, {'content-type': 'application/xml'})
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`,
    )
  })
  await new Promise<void>((resolve) => noUploads.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  await peer?.close()
  noUploads?.close()
  if (work) rmSync(work, {recursive: true, force: true})
})

/** http, with every request's method, path (bucket and upload id made neutral), content type and body kept */
function recording(bucket: string): {transport: typeof http; sent: Sent[]} {
  const sent: Sent[] = []
  const transport = {
    ...http,
    request(opts: http.RequestOptions, cb?: (res: http.IncomingMessage) => void) {
      const listsUploads = opts.method === 'GET' && /\?uploads(&|$)/.test(String(opts.path))
      const req = http.request(listsUploads ? {...opts, port: (noUploads.address() as {port: number}).port} : opts, cb)
      const chunks: Buffer[] = []
      const write = req.write.bind(req) as (chunk: unknown, ...rest: unknown[]) => boolean
      const end = req.end.bind(req) as (...args: unknown[]) => http.ClientRequest
      const keep = (chunk: unknown) => {
        if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string))
      }
      req.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof req.write
      req.end = ((...args: unknown[]) => {
        keep(args[0])
        const header = (n: string) => opts.headers && Object.entries(opts.headers).find(([k]) => k.toLowerCase() === n)?.[1]
        sent.push({
          method: String(opts.method),
          path: String(opts.path)
            .replaceAll(bucket, 'BUCKET')
            .replace(/uploadId=[^&]+/, 'uploadId=ID'),
          contentType: header('content-type') as string | undefined,
          body: Buffer.concat(chunks)
            .toString('utf8')
            .replace(/<UploadId>[^<]+<\/UploadId>/g, ''),
        })
        return end(...args)
      }) as typeof req.end
      return req
    },
  }
  return {transport: transport as unknown as typeof http, sent}
}

/** what `s3 setup` and backups ask of S3, and the calls the bundle's slimmer modules serve */
async function session(lib: typeof Minio, bucket: string): Promise<{sent: Sent[]; outcomes: string[]; stored: string}> {
  const {transport, sent} = recording(bucket)
  const port = Number(new URL(peer.url).port)
  const c = new lib.Client({endPoint: '127.0.0.1', port, useSSL: false, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'us-east-1', transport})
  const outcomes: string[] = []
  const step = async (name: string, f: () => Promise<unknown>) => {
    try {
      await f()
      outcomes.push(`${name}: ok`)
    } catch (e) {
      outcomes.push(`${name}: ${(e as {code?: string}).code ?? (e as Error).message}`)
    }
  }
  await step('makeBucket', () => c.makeBucket(bucket))
  await step('setBucketVersioning', () => c.setBucketVersioning(bucket, {Status: 'Enabled'}))
  await step('setBucketLifecycle', () =>
    c.setBucketLifecycle(bucket, {Rule: [{ID: 'expire', Status: 'Enabled', Filter: {Prefix: 'old/'}, Expiration: {Days: 7}}]}),
  )
  // no size: minio cuts the stream in parts (block-stream2) and uploads them as a multipart upload
  await step('putObject stream', () => c.putObject(bucket, 'parts.txt', Readable.from([Buffer.from('first part, '), Buffer.from('second part')])))
  const file = path.join(work, `${bucket}.json`)
  writeFileSync(file, '{"backup": true}\n')
  await step('fPutObject', () => c.fPutObject(bucket, 'meta.json', file))
  await step('putObject buffer', () => c.putObject(bucket, 'gone.txt', Buffer.from('x')))
  await step('removeObjects', () => c.removeObjects(bucket, ['gone.txt']))
  const chunks: Buffer[] = []
  for await (const chunk of await c.getObject(bucket, 'parts.txt')) chunks.push(chunk as Buffer)
  const meta = await c.statObject(bucket, 'meta.json')
  return {sent, outcomes, stored: `${Buffer.concat(chunks).toString('utf8')} | ${String(meta.metaData['content-type'])}`}
}

describe("the bundle's minio (bin/bundle.mjs slimImports)", () => {
  it('sends what the package sends, byte for byte, and s3rver stores the same', async () => {
    const chunk = bundleChunk('minio')
    const bundled = createRequire(import.meta.url)(chunk.file) as typeof Minio
    expect(typeof bundled.Client).toBe('function')

    const theirs = await session(Minio, 'package-bucket')
    const ours = await session(bundled, 'bundle-bucket')
    // s3rver keeps neither versioning nor lifecycle (it takes `PUT ?versioning` for a bucket creation): their bodies are
    // still what is compared below
    expect(theirs.outcomes.filter((o) => !o.endsWith(': ok'))).toEqual(['setBucketVersioning: BucketAlreadyExists', 'setBucketLifecycle: NotImplemented'])
    expect(ours.outcomes).toEqual(theirs.outcomes)
    expect(ours.stored).toBe(theirs.stored)
    expect(theirs.stored).toBe('first part, second part | application/json')
    // the requests that carry what the slimmer modules make: XML bodies (xml2js), parts (block-stream2), a content type (mime-types)
    const bodies = theirs.sent.filter((s) => s.body.startsWith('<'))
    expect(bodies.map((s) => s.path.split('?')[1])).toEqual(expect.arrayContaining(['versioning', 'lifecycle', 'uploadId=ID', 'delete']))
    expect(theirs.sent.some((s) => /\?partNumber=\d+&uploadId=ID$/.test(s.path) && s.body === 'first part, second part')).toBe(true)
    expect(theirs.sent.some((s) => s.path.endsWith('/meta.json') && s.contentType === 'application/json')).toBe(true)
    expect(ours.sent).toEqual(theirs.sent)

    // and the chunk no longer carries all of lodash (its per-function modules only)
    const {sources} = chunk
    expect(sources.filter((s) => s.endsWith('node_modules/lodash/lodash.js'))).toEqual([])
  })
})
