// ssh2's own modules (src/lib/ssh/ssh2.ts imports them instead of its index); @types/ssh2 types the index only,
// so each is typed as the index's export it is (node_modules/ssh2/lib/index.js re-exports them unchanged)
declare module 'ssh2/lib/agent.js' {
  export {OpenSSHAgent} from 'ssh2'
}
declare module 'ssh2/lib/client.js' {
  import {Client} from 'ssh2'
  export default Client
}
// a CommonJS module whose named exports Node's ES module loader cannot see (its module.exports literal has an arrow
// function before parseKey, where cjs-module-lexer stops): imported as its default export, module.exports
declare module 'ssh2/lib/protocol/keyParser.js' {
  import {utils} from 'ssh2'
  const keyParser: {parseKey: typeof utils.parseKey}
  export default keyParser
}
