/**
 * ssh2 (CommonJS) as named exports, imported lazily by connection.ts and pool.ts. The start-up bundle
 * (bin/bundle.mjs) turns `import()` of a bundled CommonJS package into a chunk with a default export only,
 * which its CommonJS form hands back one level deeper than Node's import() would; a module with named
 * exports reads the same either way.
 *
 * The modules obsctl uses, not ssh2's index: the index also loads its SSH server, key generator and HTTP(S)
 * agents (node:http, node:https), which `node preflight` and every other SSH command would load for nothing.
 */
import {OpenSSHAgent} from 'ssh2/lib/agent.js'
import Client from 'ssh2/lib/client.js'
// default import: Node's ES module loader finds no named parseKey in this CommonJS module (ssh2-modules.d.ts), so
// tsc's output (dist/lib, which the benches import) failed to load with a named import; the bundle read it either way
import keyParser from 'ssh2/lib/protocol/keyParser.js'

export {Client, OpenSSHAgent}
export const utils = {parseKey: keyParser.parseKey}
