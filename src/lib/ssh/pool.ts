/**
 * Per-run SSH connections: one connection per node, reused by every task of the run, closed at run
 * end (RunContext.resources) and on Ctrl-C (the run's abort signal). Credentials are resolved once:
 * key file, else ssh-agent, else a password typed at a prompt (or OBSCTL_SSH_PASSWORD for automation).
 * The sudo password (ssh.sudo: password) comes from a prompt or OBSCTL_SUDO_PASSWORD. Never flags.
 */
import {setMaxListeners} from 'node:events'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {nodeName, sshTarget} from '../config/model.js'
import type {ClusterNode, Platform} from '../config/schema.js'
import type {RunContext} from '../engine/types.js'
import {ObsctlError, inputError} from '../errors.js'
import {prompter} from '../prompt.js'
import {SshConnection} from './connection.js'
import type {Credentials, SshSecrets} from './types.js'
import {expandHome, knownHostsPath} from '../config/files.js'
import {envValue} from '../env.js'

export type {Credentials, SshSecrets} from './types.js'

export const ENV_SSH_PASSWORD = 'OBSCTL_SSH_PASSWORD'
export const ENV_SUDO_PASSWORD = 'OBSCTL_SUDO_PASSWORD'
export const ENV_KEY_PASSPHRASE = 'OBSCTL_SSH_KEY_PASSPHRASE'

export interface PoolOptions {
  platform: Platform
  /** directory holding the inventory (relative paths and .obsctl/ resolve from here) */
  inventoryDir: string
  /** --known-hosts: another known_hosts file, as typed (relative to the working directory: config/files.ts knownHostsPath) */
  knownHostsFile?: string
  signal?: AbortSignal
  /** notices (new host keys, retries); default: none */
  onNotice?: (line: string) => void
  /** attempts and first backoff for connection errors (tests shorten these) */
  attempts?: number
  backoffMs?: number
  /** secrets resolved before the run started (see resolveSshSecrets), so no prompt fights the progress display */
  secrets?: SshSecrets
}

/** `~/x` expanded: the inventory's one rule (config/files.ts), re-exported for the pool's callers. */
export {expandHome}

async function promptSecret(message: string, answers: string[]): Promise<string> {
  return prompter(answers).password({message})
}

export class SshPool {
  private readonly conns = new Map<string, Promise<SshConnection>>()
  private credsP?: Promise<Credentials>
  private sudoP?: Promise<string | undefined>
  readonly knownHostsFile: string
  readonly notices: string[] = []
  private closedAll = false

  constructor(readonly o: PoolOptions) {
    this.knownHostsFile = knownHostsPath(o.inventoryDir, o.platform.ssh.knownHosts, o.knownHostsFile)
    // every connection and running command of a wide fan-out listens for Ctrl-C on the run's signal
    if (o.signal) setMaxListeners(0, o.signal)
    o.signal?.addEventListener('abort', () => this.close(), {once: true})
    if (o.secrets) {
      this.credsP = Promise.resolve(o.secrets.credentials)
      this.sudoP = Promise.resolve(o.secrets.sudoPassword)
    }
  }

  private notice(line: string): void {
    this.notices.push(line)
    this.o.onNotice?.(line)
  }

  /** Key file, else agent, else password (env or prompt) — resolved once per run. */
  credentials(): Promise<Credentials> {
    this.credsP ??= (async () => {
      const ssh = this.o.platform.ssh
      const c: Credentials = {}
      if (ssh.identityFile) {
        const file = path.resolve(this.o.inventoryDir, expandHome(ssh.identityFile))
        if (!existsSync(file)) throw inputError(`ssh.identityFile ${file} does not exist`, ['fix ssh.identityFile in the inventory'], 'SSH_KEY')
        c.privateKey = readFileSync(file)
        const {utils} = await import('./ssh2.js')
        const parsed = utils.parseKey(c.privateKey)
        if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
          c.passphrase =
            envValue(ENV_KEY_PASSPHRASE, {secret: true}) ??
            (await promptSecret(`Passphrase of ${file}`, [`set ${ENV_KEY_PASSPHRASE}`, 'or load the key into ssh-agent and leave identityFile unset']))
        } else if (parsed instanceof Error) {
          throw inputError(
            `ssh.identityFile ${file} is not a private key ssh2 can read: ${parsed.message}`,
            ['use an OpenSSH/PEM private key (ed25519, ecdsa or rsa)'],
            'SSH_KEY',
          )
        }
      }
      if (ssh.agent && process.env.SSH_AUTH_SOCK) c.agent = process.env.SSH_AUTH_SOCK
      if (!c.privateKey && !c.agent) {
        c.password =
          envValue(ENV_SSH_PASSWORD, {secret: true}) ??
          (await promptSecret(`SSH password for ${ssh.user} on the nodes`, [
            'set ssh.identityFile in the inventory, or start an ssh-agent (SSH_AUTH_SOCK) with the key loaded',
            `for automation: ${ENV_SSH_PASSWORD} in the environment`,
          ]))
      }
      return c
    })()
    return this.credsP
  }

  /** The sudo password when ssh.sudo is `password` (prompted once per run). */
  sudoPassword(): Promise<string | undefined> {
    this.sudoP ??= (async () => {
      if (this.o.platform.ssh.sudo !== 'password') return undefined
      return (
        envValue(ENV_SUDO_PASSWORD, {secret: true}) ??
        (await promptSecret('sudo password on the nodes', [
          `for automation: ${ENV_SUDO_PASSWORD} in the environment`,
          'or configure NOPASSWD sudo and set ssh.sudo: nopasswd',
        ]))
      )
    })()
    return this.sudoP
  }

  /** The connection to a node (one per node per run). */
  get(node: ClusterNode): Promise<SshConnection> {
    if (this.closedAll)
      return Promise.reject(new ObsctlError('SSH connections are closed (the run ended or was interrupted)', {code: 'INTERRUPTED', exitCode: 130}))
    const t = sshTarget(this.o.platform, node)
    const key = `${t.user}@${t.host}:${t.port}`
    const existing = this.conns.get(key)
    if (existing) return existing.then((c) => (c.isClosed ? this.reconnect(key, node) : c))
    return this.reconnect(key, node)
  }

  private reconnect(key: string, node: ClusterNode): Promise<SshConnection> {
    const p = this.connectTo(node, {keepaliveIntervalMs: 15_000, attempts: this.o.attempts, backoffMs: this.o.backoffMs, signal: this.o.signal})
    this.conns.set(key, p)
    p.catch(() => this.conns.delete(key))
    return p
  }

  /**
   * A connection to NODE of its own, outside the run's (never shared, not closed with them: the caller closes it),
   * whose connect and commands stop at SIGNAL: for removing what an interrupted step left on a node, after Ctrl-C
   * closed the run's connections (lifecycle/etcd-node.ts rootCleanup). The run's credentials, known_hosts and policy.
   */
  connectOwn(node: ClusterNode, signal: AbortSignal): Promise<SshConnection> {
    return this.connectTo(node, {attempts: 1, signal})
  }

  /** Connect to NODE with the run's credentials, known_hosts, host-key policy and sudo; `o` says how (retries, signal). */
  private async connectTo(
    node: ClusterNode,
    o: Pick<Parameters<typeof SshConnection.connect>[0], 'keepaliveIntervalMs' | 'attempts' | 'backoffMs' | 'signal'>,
  ): Promise<SshConnection> {
    const [creds, sudoPassword] = await Promise.all([this.credentials(), this.sudoPassword()])
    return SshConnection.connect({
      ...sshTarget(this.o.platform, node),
      ...creds,
      knownHostsFile: this.knownHostsFile,
      hostKeyPolicy: this.o.platform.ssh.hostKeyPolicy,
      sudo: {mode: this.o.platform.ssh.sudo, password: sudoPassword},
      connectTimeoutMs: this.o.platform.ssh.connectTimeoutSeconds * 1000,
      ...o,
      onNotice: (l) => this.notice(`${nodeName(node)}: ${l}`),
    })
  }

  /** Close every connection (idempotent). */
  close(): void {
    this.closedAll = true
    for (const p of this.conns.values()) p.then((c) => c.close()).catch(() => undefined)
    this.conns.clear()
  }
}

/** Resolve (prompting on a terminal if needed) the SSH credentials and sudo password before a run. */
export async function resolveSshSecrets(platform: Platform, inventoryDir: string): Promise<SshSecrets> {
  const pool = new SshPool({platform, inventoryDir})
  const [credentials, sudoPassword] = await Promise.all([pool.credentials(), pool.sudoPassword()])
  return {credentials, sudoPassword}
}

/** The run's pool: created on first use, closed at run end by the engine (and on abort). */
export function sshPool(ctx: RunContext): Promise<SshPool> {
  return ctx.resources.getOrCreate(
    'ssh:pool',
    () =>
      new SshPool({
        platform: ctx.platform,
        inventoryDir: ctx.inv.dir,
        knownHostsFile: ctx.ssh.knownHostsFile,
        signal: ctx.signal,
        attempts: ctx.ssh.attempts,
        backoffMs: ctx.ssh.backoffMs,
        secrets: ctx.ssh.secrets,
      }),
    (pool) => pool.close(),
  )
}

/** A phase's prepare(): the run's SSH credentials and sudo password, asked (if at all) one after the other. */
export async function prepareSsh(ctx: RunContext): Promise<void> {
  const pool = await sshPool(ctx)
  await pool.credentials()
  await pool.sudoPassword()
}
