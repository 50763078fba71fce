/**
 * sha256 as hex, the one helper for every digest obsctl keeps: rendered files in the render manifest, task
 * fingerprints, node install scripts, inventory trailers, backup checksums. A text is hashed as UTF-8.
 * `crypto.hash` (Node ≥ 20.12; the engines ask ^20.16 || >=22) digests in one call, a third less CPU than
 * createHash().update().digest() on the ~3 KB files a render hashes thousands of (issue 18).
 *
 * node:crypto is loaded at the first digest, not when this module loads: commands that import it and never
 * hash (`state show`) skip its ~1.5 ms of loading. Through process.getBuiltinModule (Node ≥ 20.16), which works the
 * same in the ES modules, the bundle and dist/code-cache.cjs (the root help's digest of the environment).
 */
let hash: typeof import('node:crypto').hash | undefined

export function sha256(data: string | Buffer): string {
  hash ??= process.getBuiltinModule('node:crypto').hash
  return hash('sha256', data, 'hex')
}
