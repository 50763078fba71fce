/**
 * One SSH connection to a node (ssh2, imported lazily): host key checked against obsctl's known_hosts,
 * connect timeout + keepalive, bounded retries with backoff on connection errors only, exec with
 * output streamed line by line, sudo (NOPASSWD, or the password on stdin), SFTP upload with a mode,
 * and TCP connections made from the node (direct-tcpip channels, as `ssh -L`).
 *
 * Retry rule: only establishing the connection is retried. Once a command's channel is open it is
 * never re-run by this module (it may have run); the caller's rerun is safe because every remote step
 * checks before it acts.
 *
 * Over 300 lines on purpose: connect/retry, exec, sudo and SFTP share one connection state machine and
 * one set of error translations; they stay together.
 */
import path from 'node:path'
import type {Client, ClientChannel, ConnectConfig, SFTPWrapper} from 'ssh2'
import {sleepOrInterrupt as sleep} from '../async.js'
import {ObsctlError, interruptedError, netReason} from '../errors.js'
import {traceCommand, traced, tracing} from '../trace.js'
import {shQuote, shWord} from '../shell-quote.js'
import {SESSION_FUNCTIONS, UPLOAD_PREFIX, sessionFileName} from './session.js'
import {killPoint} from '../engine/kill-point.js'
import {append, check, hostPattern, keyType, lookup, refusal as hostKeyRefusal, type HostKeyPolicy} from './known-hosts.js'
import {sshLogin} from '../ssh-login.js'
import {pollMs} from '../poll.js'

export type SudoMode = 'nopasswd' | 'password'

export interface ConnectOptions {
  host: string
  port: number
  user: string
  knownHostsFile: string
  /** accept-new (default): trust an unknown host key on first use and record it; strict: refuse it */
  hostKeyPolicy?: HostKeyPolicy
  privateKey?: Buffer
  passphrase?: string
  /** path of the ssh-agent socket ($SSH_AUTH_SOCK) */
  agent?: string
  password?: string
  sudo?: {mode: SudoMode; password?: string}
  connectTimeoutMs?: number
  keepaliveIntervalMs?: number
  /** attempts in all (default 3): the first plus retries on connection errors */
  attempts?: number
  /** first backoff delay; doubled each retry (default 500 ms; each capped by the test-only OBSCTL_TEST_POLL_MS, ../poll.ts) */
  backoffMs?: number
  /** notices such as a newly trusted host key (never secrets) */
  onNotice?: (line: string) => void
  signal?: AbortSignal
}

export interface ExecOptions {
  /** receives every output line (stdout and stderr); omit to keep output out of logs (e.g. tokens) */
  log?: (line: string) => void
  /** written to the command's stdin, then closed */
  stdin?: string
  signal?: AbortSignal
  /** max bytes of stdout/stderr kept in the result (default 1 MiB each) */
  captureLimit?: number
}

export interface ExecResult {
  code: number | null
  signal?: string
  stdout: string
  stderr: string
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'])

interface Ssh2Error extends Error {
  level?: string
  code?: string
}

/** An SFTP request with a node-style callback, as a promise. */
function call(f: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => f((err) => (err ? reject(err) : resolve())))
}

/**
 * rename(2) over an existing file: OpenSSH's posix-rename extension. A server without it gets the plain SFTP rename,
 * which fails where the target exists (SFTP v3), after the target is removed: not atomic, but a process that has
 * the old file open still reads the old bytes.
 */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    return await call((cb) => sftp.ext_openssh_rename(from, to, cb))
  } catch (error) {
    // ssh2 throws, before it sends anything, when the server did not announce the extension
    if (!/does not support/.test((error as Error).message)) throw error
  }
  await new Promise<void>((resolve) => sftp.unlink(to, () => resolve()))
  await call((cb) => sftp.rename(from, to, cb))
}

function isRetryable(e: Ssh2Error): boolean {
  if (e.level === 'client-authentication') return false
  if (e.level === 'client-timeout' || e.level === 'client-socket') return true
  if (e.code && RETRYABLE_CODES.has(e.code)) return true
  return /timed out|connection lost before handshake|ECONNRESET/i.test(e.message)
}

export class SshConnection {
  private sftpP?: Promise<SFTPWrapper>
  private sessionP?: Promise<string | undefined>
  private closed = false
  readonly label: string

  private constructor(
    private readonly client: Client,
    readonly opts: ConnectOptions,
  ) {
    this.label = sshLogin(opts)
    client.on('close', () => {
      this.closed = true
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Connect, retrying connection errors (never authentication or host key errors) with backoff. */
  static async connect(opts: ConnectOptions): Promise<SshConnection> {
    const attempts = opts.attempts ?? 3
    let backoff = opts.backoffMs ?? 500
    for (let i = 1; ; i++) {
      try {
        return await traced(
          `ssh ${sshLogin(opts)} connect`,
          () => SshConnection.connectOnce(opts),
          () => 'ok',
        )
      } catch (error) {
        const e = error as Ssh2Error
        if (e instanceof ObsctlError || !isRetryable(e) || i >= attempts) throw SshConnection.wrap(e, opts, i)
        // the time before the next look at the node, as a wait's poll interval: capped by OBSCTL_TEST_POLL_MS (test-only)
        const delay = pollMs(backoff)
        opts.onNotice?.(`ssh ${sshLogin(opts)}: ${netReason(e)}; retrying in ${delay} ms (attempt ${i + 1}/${attempts})`)
        await sleep(delay, opts.signal)
        backoff *= 2
      }
    }
  }

  private static wrap(e: Ssh2Error, opts: ConnectOptions, attempts: number): Error {
    if (e instanceof ObsctlError) return e
    const who = sshLogin(opts)
    if (e.level === 'client-authentication') {
      const tried = [opts.privateKey ? 'key file' : '', opts.agent ? 'ssh-agent' : '', opts.password ? 'password' : ''].filter(Boolean).join(', ') || 'none'
      return new ObsctlError(`ssh ${who}: authentication failed (tried: ${tried}); the server accepted none of the offered credentials`, {
        code: 'SSH_AUTH',
        cause: e,
        hints: [
          'check ssh.identityFile (or the node/user) in the inventory, or load the key into ssh-agent (ssh-add)',
          `authorize the public key on the node: ssh-copy-id -i KEY.pub${opts.port === 22 ? '' : ` -p ${opts.port}`} ${shWord(`${opts.user}@${opts.host}`)}`,
          'for password login leave identityFile unset, stop the agent and set OBSCTL_SSH_PASSWORD or answer the prompt',
        ],
      })
    }
    return new ObsctlError(`ssh ${who}: cannot connect: ${netReason(e)} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`, {
      code: 'SSH_CONNECT',
      cause: e,
      hints: ['is the node up and sshd listening on that port? check ssh.port / the node port and ssh.connectTimeoutSeconds'],
    })
  }

  private static async connectOnce(opts: ConnectOptions): Promise<SshConnection> {
    const {Client} = await import('./ssh2.js')
    if (opts.signal?.aborted) throw interruptedError()
    const client = new Client()
    let refusal: ObsctlError | undefined
    let accepted: Promise<void> = Promise.resolve()
    // Negotiate only the key types we already know for this host, so a host offering several types is
    // never mistaken for a changed key.
    const knownTypes = [...new Set(lookup(opts.knownHostsFile, opts.host, opts.port).map((k) => k.type))]
    const cfg: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.user,
      readyTimeout: opts.connectTimeoutMs ?? 20_000,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 4,
      privateKey: opts.privateKey,
      passphrase: opts.passphrase,
      agent: opts.agent,
      password: opts.password,
      hostVerifier: (key: Buffer) => {
        const d = check(opts.knownHostsFile, opts.host, opts.port, key)
        refusal = hostKeyRefusal(opts.knownHostsFile, opts.host, opts.port, key, d, opts.hostKeyPolicy ?? 'accept-new')
        if (refusal) return false
        if (d.status === 'known') return true
        accepted = append(opts.knownHostsFile, opts.host, opts.port, key).then(() =>
          opts.onNotice?.(`trusted new host key of ${hostPattern(opts.host, opts.port)}: ${keyType(key)} ${d.fingerprint} (saved to ${opts.knownHostsFile})`),
        )
        return true
      },
    }
    if (knownTypes.length > 0) cfg.algorithms = {serverHostKey: knownTypes as NonNullable<ConnectConfig['algorithms']>['serverHostKey']}
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        client.end()
        reject(interruptedError())
      }
      opts.signal?.addEventListener('abort', onAbort, {once: true})
      client.once('ready', () => {
        opts.signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      client.once('error', (e: Ssh2Error) => {
        opts.signal?.removeEventListener('abort', onAbort)
        client.end()
        reject(refusal ?? e)
      })
      client.connect(cfg)
    })
    try {
      await accepted
    } catch (e) {
      // the key could not be recorded (revoked or changed meanwhile, a file it cannot write): not connected
      client.end()
      throw e
    }
    const conn = new SshConnection(client, opts)
    // keep errors after ready (e.g. keepalive timeout) from crashing the process; they end the connection
    client.on('error', () => undefined)
    return conn
  }

  /**
   * Run a command; resolves with its exit code and output (never rejects on a non-zero exit). Under --verbose
   * (../trace.ts) the command line is traced with its exit code: redacted, never its stdin or output.
   */
  exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    if (!tracing()) return this.run(command, o)
    return traced(
      `ssh ${this.label} exec ${traceCommand(this.redactor()(command))}`,
      () => this.run(command, o),
      (r) => (r.code === null ? `signal ${r.signal}` : `exit ${r.code}`),
    )
  }

  private run(command: string, o: ExecOptions): Promise<ExecResult> {
    const limit = o.captureLimit ?? 1 << 20
    const signal = o.signal ?? this.opts.signal
    const redact = this.redactor()
    return new Promise<ExecResult>((resolve, reject) => {
      if (signal?.aborted) return reject(interruptedError())
      if (this.closed) return reject(new ObsctlError(`ssh ${this.label}: connection is closed`, {code: 'SSH_CLOSED'}))
      // an abort while the channel is still opening settles the call as interrupted at once
      // (the pool may close the connection on the same signal before the channel exists)
      let abortedEarly = false
      const onEarlyAbort = () => {
        abortedEarly = true
        reject(interruptedError())
      }
      signal?.addEventListener('abort', onEarlyAbort, {once: true})
      this.client.exec(command, {pty: false}, (err, stream: ClientChannel) => {
        signal?.removeEventListener('abort', onEarlyAbort)
        if (abortedEarly) {
          stream?.close()
          return
        }
        if (err) {
          if (signal?.aborted) return reject(interruptedError())
          return reject(new ObsctlError(`ssh ${this.label}: cannot start command: ${err.message}`, {code: 'SSH_EXEC', cause: err}))
        }
        let stdout = ''
        let stderr = ''
        let code: number | null = null
        let sig: string | undefined
        let done = false
        const partial = {out: '', err: ''}
        const feed = (which: 'out' | 'err', chunk: Buffer) => {
          const s = chunk.toString('utf8')
          if (which === 'out') stdout = (stdout + s).slice(-limit)
          else stderr = (stderr + s).slice(-limit)
          if (!o.log) return
          const lines = (partial[which] + s).split('\n')
          partial[which] = lines.pop() ?? ''
          for (const l of lines) o.log(redact(l.replace(/\r$/, '')))
        }
        const onAbort = () => {
          try {
            stream.signal('TERM')
          } catch {
            // the channel may be gone already
          }
          stream.close()
        }
        signal?.addEventListener('abort', onAbort, {once: true})
        stream.on('data', (c: Buffer) => feed('out', c))
        stream.stderr.on('data', (c: Buffer) => feed('err', c))
        stream.on('exit', (c: number | null, s?: string) => {
          code = c
          sig = s ?? undefined
        })
        stream.on('close', () => {
          if (done) return
          done = true
          signal?.removeEventListener('abort', onAbort)
          if (o.log) for (const rest of [partial.out, partial.err]) if (rest) o.log(redact(rest))
          if (signal?.aborted) return reject(interruptedError())
          if (code === null && !sig) {
            return reject(
              new ObsctlError(`ssh ${this.label}: connection lost while running a command; it may have run, so it is not repeated automatically`, {
                code: 'SSH_LOST',
                hints: ['rerun: every step checks the node before it acts'],
              }),
            )
          }
          resolve({code, signal: sig, stdout, stderr})
        })
        if (o.stdin !== undefined) stream.end(o.stdin)
        else stream.end()
      })
    })
  }

  /** The command line that runs `command` as root: directly for root, else through sudo. */
  sudoCommand(command: string): {command: string; stdin?: string} {
    const sudo = this.opts.sudo ?? {mode: 'nopasswd'}
    if (sudo.mode === 'nopasswd') {
      if (this.opts.user === 'root') return {command}
      return {command: `sudo -n -- sh -c ${shQuote(command)}`}
    }
    if (!sudo.password) throw new ObsctlError('sudo password required but not provided', {code: 'SUDO_PASSWORD'})
    // -S: password from stdin; -p '': no prompt text; -k: ignore cached credentials, so the password line
    // is always consumed by sudo. The command's own stdin is /dev/null: the password can never reach it.
    return {command: `sudo -S -k -p '' -- sh -c ${shQuote(`exec </dev/null; ${command}`)}`, stdin: `${sudo.password}\n`}
  }

  /** Run as root (see sudoCommand); a sudo refusal becomes a clear error. */
  async sudo(command: string, o: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    const s = this.sudoCommand(command)
    const r = await this.exec(s.command, {...o, stdin: s.stdin})
    if (r.code !== 0 && /sudo: (a password is required|\d+ incorrect password attempt|no password was provided|a terminal is required)/.test(r.stderr)) {
      const needsPassword = /a password is required|a terminal is required/.test(r.stderr)
      throw new ObsctlError(`sudo on ${this.label} refused: ${r.stderr.trim().split('\n').pop()}`, {
        code: 'SUDO',
        hints: needsPassword
          ? [
              'set ssh.sudo: password in the inventory (the password is prompted, or read from OBSCTL_SUDO_PASSWORD)',
              `or allow NOPASSWD for ${this.opts.user} in /etc/sudoers.d/`,
            ]
          : ['the sudo password was wrong: check OBSCTL_SUDO_PASSWORD or retype it at the prompt'],
      })
    }
    return r
  }

  /**
   * A TCP connection to host:port made by the node's sshd, as seen from the node (a direct-tcpip channel on
   * this connection: what `ssh -L` uses; nothing listens on this machine). The channel is the stream, e.g.
   * for tls.connect({socket}). Refused by the node's sshd (AllowTcpForwarding no): SSH_FORWARD_REFUSED;
   * nothing answering at host:port there (reason 2, "connect failed"): SSH_FORWARD_CONNECT.
   */
  tcpChannel(host: string, port: number, o: {signal?: AbortSignal} = {}): Promise<ClientChannel> {
    const signal = o.signal ?? this.opts.signal
    const where = `${host}:${port}`
    const open = () =>
      new Promise<ClientChannel>((resolve, reject) => {
        if (signal?.aborted) return reject(interruptedError())
        if (this.closed) return reject(new ObsctlError(`ssh ${this.label}: connection is closed`, {code: 'SSH_CLOSED'}))
        let settled = false
        const onAbort = () => {
          settled = true
          reject(interruptedError())
        }
        signal?.addEventListener('abort', onAbort, {once: true})
        try {
          // the originator address is informational (sshd logs it); the node connects from its own side
          this.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
            signal?.removeEventListener('abort', onAbort)
            if (settled) return void channel?.close()
            settled = true
            if (!err) return resolve(channel)
            // RFC 4254 5.1: 1 administratively prohibited, 2 connect failed
            const reason = (err as Error & {reason?: number}).reason
            if (reason === 1)
              return reject(
                new ObsctlError(`ssh ${this.label}: the node's sshd refused to open a TCP connection to ${where} (${err.message})`, {
                  code: 'SSH_FORWARD_REFUSED',
                  cause: err,
                  hints: [`allow it in the node's /etc/ssh/sshd_config: AllowTcpForwarding yes (or local) for ${this.opts.user}, then reload sshd`],
                }),
              )
            reject(
              new ObsctlError(`ssh ${this.label}: nothing answered at ${where} on the node (${err.message})`, {
                code: reason === 2 ? 'SSH_FORWARD_CONNECT' : 'SSH_FORWARD',
                cause: err,
              }),
            )
          })
        } catch (e) {
          signal?.removeEventListener('abort', onAbort)
          settled = true
          reject(new ObsctlError(`ssh ${this.label}: cannot open a channel to ${where}: ${(e as Error).message}`, {code: 'SSH_FORWARD', cause: e}))
        }
      })
    return traced(`ssh ${this.label} tcp ${where}`, open, () => 'open')
  }

  private sftp(): Promise<SFTPWrapper> {
    // ssh2 never answers an SFTP request made after the connection closed
    if (this.closed) return Promise.reject(new ObsctlError(`ssh ${this.label}: connection is closed`, {code: 'SSH_CLOSED'}))
    this.sftpP ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) =>
        err ? reject(new ObsctlError(`ssh ${this.label}: SFTP unavailable: ${err.message}`, {code: 'SSH_SFTP', cause: err})) : resolve(sftp),
      )
    })
    return this.sftpP
  }

  /**
   * `<pid>.<start>` of the node's sshd process of this connection (./session.ts), asked once per connection; undefined
   * where it cannot be found (a node without /proc), and after a failed ask (asked again next time).
   */
  session(): Promise<string | undefined> {
    this.sessionP ??= this.exec(`sh -c ${shQuote(`${SESSION_FUNCTIONS}\nsession_of`)}`).then(
      (r) => /^(\d+\.\d+)$/m.exec(r.stdout)?.[1],
      () => {
        this.sessionP = undefined
        return undefined
      },
    )
    return this.sessionP
  }

  /** Absolute path of the login user's home directory. */
  async home(): Promise<string> {
    const sftp = await this.sftp()
    return new Promise((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))))
  }

  /** Create a directory (mode applied even if it exists). */
  async mkdir(remotePath: string, mode = 0o700): Promise<void> {
    const sftp = await this.sftp()
    await new Promise<void>((resolve) => sftp.mkdir(remotePath, {mode}, () => resolve()))
    await new Promise<void>((resolve, reject) => sftp.chmod(remotePath, mode, (err) => (err ? reject(err) : resolve())))
  }

  /**
   * Write a file over SFTP with the given mode (also when it existed before), atomically: the bytes go to a new
   * file of a name unique to this upload in the same folder, which is then renamed over the path. A process that has
   * the old file open (bash runs a script as it reads it, a killed run's install-k8s.sh goes on on the node) keeps
   * reading the old bytes to its end, and nothing ever sees a half-written file; a failed upload leaves the old file
   * as it was and removes its temporary one. The temporary name carries this connection's sshd process
   * (`.obsctl-upload-<pid>.<start>-<random>-<name>`, ./session.ts): one a killed run left (its bytes are the whole
   * file, e.g. a restore's etcd snapshot) is known for no upload's any more once that process is gone, and swept
   * (../nodes/leftovers.ts).
   */
  async upload(remotePath: string, data: string | Buffer, mode = 0o600): Promise<void> {
    const session = await this.session()
    const sftp = await this.sftp()
    const tmp = `${path.posix.dirname(remotePath)}/${sessionFileName(UPLOAD_PREFIX, session, path.posix.basename(remotePath))}`
    try {
      await traced(
        `ssh ${this.label} sftp put ${remotePath}`,
        async () => {
          try {
            // 'wx': a new file, never one that is there (the name is this upload's own)
            await call((cb) => sftp.writeFile(tmp, data, {mode, flag: 'wx'}, cb))
            await call((cb) => sftp.chmod(tmp, mode, cb))
            killPoint('ssh-upload:written')
            await renameOver(sftp, tmp, remotePath)
          } catch (error) {
            await new Promise<void>((resolve) => sftp.unlink(tmp, () => resolve()))
            throw error
          }
        },
        () => 'ok',
      )
    } catch (error) {
      throw new ObsctlError(`ssh ${this.label}: upload of ${remotePath} failed: ${(error as Error).message}`, {code: 'SSH_UPLOAD', cause: error})
    }
  }

  /**
   * Write a new file over SFTP, as the login user, with the given mode from its creation on: created exclusively
   * (O_CREAT|O_EXCL: where the name exists it fails, SSH_UPLOAD, never following or replacing what is there), empty,
   * its mode set, and only then written; a failure after the creation removes it. The name is the caller's own.
   */
  async writeNew(remotePath: string, data: string | Buffer, mode = 0o600): Promise<void> {
    const sftp = await this.sftp()
    let created = false
    try {
      await traced(
        `ssh ${this.label} sftp put ${remotePath} (new)`,
        async () => {
          const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(remotePath, 'wx', {mode}, (e, h) => (e ? reject(e) : resolve(h))))
          created = true
          try {
            // the server's umask may have taken bits off (never added any): the mode is the one asked for
            await call((cb) => sftp.fchmod(handle, mode, cb))
          } finally {
            await new Promise<void>((resolve) => sftp.close(handle, () => resolve()))
          }
          // 'r+': the file this call created, never a new one
          if (data.length > 0) await call((cb) => sftp.writeFile(remotePath, data, {flag: 'r+'}, cb))
        },
        () => 'ok',
      )
    } catch (error) {
      if (created) await new Promise<void>((resolve) => sftp.unlink(remotePath, () => resolve()))
      throw new ObsctlError(`ssh ${this.label}: upload of ${remotePath} failed: ${(error as Error).message}`, {code: 'SSH_UPLOAD', cause: error})
    }
  }

  /** Read a file over SFTP (readable by the login user). */
  async download(remotePath: string): Promise<Buffer> {
    const sftp = await this.sftp()
    try {
      return await traced(
        `ssh ${this.label} sftp get ${remotePath}`,
        () => new Promise<Buffer>((resolve, reject) => sftp.readFile(remotePath, (err, data) => (err ? reject(err) : resolve(data)))),
        (data) => `${data.length} bytes`,
      )
    } catch (error) {
      throw new ObsctlError(`ssh ${this.label}: download of ${remotePath} failed: ${(error as Error).message}`, {code: 'SSH_DOWNLOAD', cause: error})
    }
  }

  /** Remove a file, best effort: never fails (on a closed connection it returns at once, nothing removed). */
  async remove(remotePath: string): Promise<void> {
    if (this.closed) return
    const sftp = await this.sftp()
    await new Promise<void>((resolve) => sftp.unlink(remotePath, () => resolve()))
  }

  private redactor(): (s: string) => string {
    const secrets = [this.opts.password, this.opts.sudo?.password].filter((s): s is string => Boolean(s && s.length >= 3))
    if (secrets.length === 0) return (s) => s
    return (s) => secrets.reduce((acc, sec) => acc.split(sec).join('***'), s)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.client.end()
  }
}
