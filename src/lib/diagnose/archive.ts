/**
 * The diagnosis archive: a gzipped tar (tar-stream, loaded only here) written 0600 and atomically, entry by entry as
 * they come (never the whole archive in memory). Until then each entry waits deflated (`hold`): a fleet's logs,
 * which must wait for every cluster's secret values before any of them can be scrubbed.
 */
import {deflateRawSync, inflateRawSync} from 'node:zlib'
import {writeFileAtomic} from '../fs.js'

export interface ArchiveEntry {
  name: string
  content: string
}

/** An entry held until the archive is written: its text deflated (logs and JSON: ~10x smaller). */
export interface HeldEntry {
  name: string
  deflated: Buffer
}

export function hold(e: ArchiveEntry): HeldEntry {
  // the fastest level: this is memory held for minutes at most, not what is shipped
  return {name: e.name, deflated: deflateRawSync(Buffer.from(e.content, 'utf8'), {level: 1})}
}

export function release(h: HeldEntry): ArchiveEntry {
  return {name: h.name, content: inflateRawSync(h.deflated).toString('utf8')}
}

/**
 * Write `entries` (each taken when the archive is ready for it) as one tar.gz; the archive's size. On any failure (an
 * entry that cannot be made, a full disk) nothing is left behind and an earlier file keeps what it held.
 */
export async function writeTarGz(file: string, entries: Iterable<ArchiveEntry>, mtime = new Date()): Promise<number> {
  const [tar, {createGzip}, {pipeline}, {stat}] = await Promise.all([
    import('tar-stream'),
    import('node:zlib'),
    import('node:stream'),
    import('node:fs/promises'),
  ])
  const pack = tar.pack()
  const gzip = pipeline(pack, createGzip(), () => undefined)
  // it still describes the platform (names, addresses, errors): private like .obsctl/
  const written = writeFileAtomic(file, gzip, {mode: 0o600})
  // the write's failure (never its success) ends the wait for an entry the tar has no room for: nobody reads it any more
  const failed = new Promise<never>((_, reject) => void written.catch(reject))
  failed.catch(() => undefined)
  try {
    for (const e of entries) {
      const body = Buffer.from(e.content, 'utf8')
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          const entry = pack.entry({name: e.name, size: body.length, mode: 0o600, mtime}, body, (err) => (err ? reject(err) : resolve()))
          // destroyed with the write's error, an entry emits it too: it reaches the callback, and is not thrown again here
          entry.on('error', () => undefined)
        }),
        failed,
      ])
    }
    pack.finalize()
  } catch (error) {
    // the temporary file goes with the write (writeFileAtomic), whichever side failed
    pack.destroy(error as Error)
    await written.catch(() => undefined)
    throw error
  }
  await written
  return (await stat(file)).size
}
