/**
 * ssh2 (CommonJS) as named exports, imported lazily by connection.ts and pool.ts. The start-up bundle
 * (bin/bundle.js) turns `import()` of a bundled CommonJS package into a chunk with a default export only,
 * which its CommonJS form hands back one level deeper than Node's import() would; a module with named
 * exports reads the same either way.
 */
import ssh2 from 'ssh2'

export const {Client, OpenSSHAgent, utils} = ssh2
