/** The diagnosis archive: a gzipped tar (tar-stream, loaded only here) written 0600 and atomically. */
import {gzipSync} from 'node:zlib'
import {writeFileAtomic} from '../fs.js'

export interface ArchiveEntry {
  name: string
  content: string
}

export async function writeTarGz(file: string, entries: ArchiveEntry[], mtime = new Date()): Promise<number> {
  const tar = await import('tar-stream')
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    // tar-stream's types leave chunks unknown: they are Uint8Array/Buffer (streamx byte stream)
    pack.on('data', (c) => void chunks.push(Buffer.from(c as Uint8Array)))
    pack.on('end', () => resolve())
    pack.on('error', reject)
  })
  for (const e of entries) {
    const body = Buffer.from(e.content, 'utf8')
    await new Promise<void>((resolve, reject) =>
      pack.entry({name: e.name, size: body.length, mode: 0o600, mtime}, body, (err) => (err ? reject(err) : resolve())),
    )
  }
  pack.finalize()
  await done
  const gz = gzipSync(Buffer.concat(chunks))
  // it still describes the platform (names, addresses, errors): private like .obsctl/
  await writeFileAtomic(file, gz, {mode: 0o600})
  return gz.length
}
