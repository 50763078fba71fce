/** Atomic file writes (write + fsync + rename) — the one way obsctl writes state and credentials. */
import {mkdirSync} from 'node:fs'
import path from 'node:path'
import writeFileAtomicLib from 'write-file-atomic'

export interface AtomicWriteOptions {
  /** file mode, e.g. 0o600 for anything holding credentials */
  mode?: number
}

export async function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): Promise<void> {
  mkdirSync(path.dirname(file), {recursive: true})
  await writeFileAtomicLib(file, data, {mode: opts.mode ?? 0o644, fsync: true})
}

export function writeFileAtomicSync(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileAtomicLib.sync(file, data, {mode: opts.mode ?? 0o644, fsync: true})
}
