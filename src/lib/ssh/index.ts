/** SSH to the nodes: connections, exec, sudo, SFTP upload, obsctl's known_hosts (DESIGN.md §4). */
export {shQuote} from '../shell-quote.js'
export {SshConnection, type ConnectOptions, type ExecOptions, type ExecResult, type SudoMode} from './connection.js'
export {
  SshPool,
  sshPool,
  prepareSsh,
  resolveSshSecrets,
  type SshSecrets,
  type Credentials,
  ENV_SSH_PASSWORD,
  ENV_SUDO_PASSWORD,
  ENV_KEY_PASSPHRASE,
  type PoolOptions,
} from './pool.js'
export {fingerprint, keyType, hostPattern, lookup as knownHostKeys, check as checkHostKey} from './known-hosts.js'
