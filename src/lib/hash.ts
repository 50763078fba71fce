/**
 * sha256 as hex, the one helper for every digest obsctl keeps: rendered files in the render manifest, task
 * fingerprints, node install scripts, inventory trailers, backup checksums. A text is hashed as UTF-8.
 * `crypto.hash` (Node ≥ 20.12; the engines ask ^20.16 || >=22) digests in one call, a third less CPU than
 * createHash().update().digest() on the ~3 KB files a render hashes thousands of (issue 18).
 *
 * node:crypto is loaded at the first use, not when a module that uses it loads (nodeCrypto): it loads fifteen of
 * Node's stream modules with it (~11 M instructions, 4% of a `plan`), and a command that imports a phase to describe
 * its tasks (`plan`, `state show`) never hashes nor draws a random token. Through process.getBuiltinModule (Node ≥
 * 20.16), which works the same in the ES modules, the bundle and dist/code-cache.cjs (the root help's digest of the
 * environment).
 */
let cryptoModule: typeof import('node:crypto') | undefined

/** node:crypto, loaded at the first call (for randomBytes, createHmac…: a static import would load it with the module). */
export function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= process.getBuiltinModule('node:crypto'))
}

export function sha256(data: string | Buffer): string {
  return nodeCrypto().hash('sha256', data, 'hex')
}
