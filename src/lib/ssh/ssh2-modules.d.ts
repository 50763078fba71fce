// ssh2's own modules (src/lib/ssh/ssh2.ts imports them instead of its index); @types/ssh2 types the index only,
// so each is typed as the index's export it is (node_modules/ssh2/lib/index.js re-exports them unchanged)
declare module 'ssh2/lib/agent.js' {
  export {OpenSSHAgent} from 'ssh2'
}
declare module 'ssh2/lib/client.js' {
  import {Client} from 'ssh2'
  export default Client
}
declare module 'ssh2/lib/protocol/keyParser.js' {
  import {utils} from 'ssh2'
  export const parseKey: typeof utils.parseKey
}
