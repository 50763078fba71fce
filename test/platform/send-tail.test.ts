/**
 * send()'s keepLastBytes (src/lib/platform/http.ts): a log's tail from a body of any size, which is read as it arrives
 * and not held whole. A loopback HTTP server writes the body in chunks of its choosing (as an API server streams a pod's
 * log), so the cut falls inside chunks, at their edges and inside a multi-byte character.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {send} from '../../src/lib/platform/http.js'

let server: Server
let base: string
/** what the next request answers: its chunks, written one after another */
let chunks: Buffer[] = []

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, {'content-type': 'text/plain; charset=utf-8'})
    for (const c of chunks) res.write(c)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** `text` in chunks of `size` bytes */
function inChunks(text: string, size: number): Buffer[] {
  const b = Buffer.from(text, 'utf8')
  const out: Buffer[] = []
  for (let at = 0; at < b.length; at += size) out.push(b.subarray(at, at + size))
  return out
}

const get = (keepLastBytes?: number) => send(new URL(`${base}/log`), {what: 'log', keepLastBytes})

describe('send: keepLastBytes', () => {
  const lines = Array.from({length: 1000}, (_, i) => `line ${String(i).padStart(5, '0')} ${'·'.repeat(19)}\n`).join('')

  it.each([1, 7, 100, 4096, 1 << 20])('the last lines that fit, from a line start, whatever the chunks (%i bytes each)', async (size) => {
    chunks = inChunks(lines, size)
    const r = await get(1000)
    const bytes = Buffer.byteLength(lines)
    expect(r.status).toBe(200)
    expect(r.body.startsWith('line ')).toBe(true)
    expect(lines.endsWith(r.body)).toBe(true)
    expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(1000)
    // each line is 50 bytes (19 of them two-byte characters): 1,000 bytes hold exactly 20 of them
    expect(r.body.split('\n').slice(0, -1)).toHaveLength(20)
    expect(r.cutBytes).toBe(bytes - Buffer.byteLength(r.body))
  })

  it('a body that fits is whole, with nothing said cut; without the option the body is whole however large', async () => {
    chunks = inChunks(lines, 333)
    const fits = await get(Buffer.byteLength(lines))
    expect(fits.body).toBe(lines)
    expect(fits.cutBytes).toBeUndefined()
    const whole = await get()
    expect(whole.body).toBe(lines)
    expect(whole.cutBytes).toBeUndefined()
  })

  it('one line longer than what is kept: its end, cut at a character (never inside a UTF-8 sequence)', async () => {
    const line = `${'€'.repeat(10_000)}end`
    for (const size of [1, 5, 1000]) {
      chunks = inChunks(line, size)
      for (const keep of [100, 101, 102]) {
        const r = await get(keep)
        expect(r.body.endsWith('end')).toBe(true)
        expect(r.body).not.toContain('\uFFFD')
        expect(line.endsWith(r.body)).toBe(true)
        expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(keep)
        expect(Buffer.byteLength(r.body)).toBeGreaterThan(keep - 3)
        expect(r.cutBytes! + Buffer.byteLength(r.body)).toBe(Buffer.byteLength(line))
      }
    }
  })
})
